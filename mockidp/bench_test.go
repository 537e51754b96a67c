package mockidp_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpconform/idpconform/internal/baretoken"
	"github.com/idpconform/idpconform/mockidp"
)

// The token endpoint's cost beside a bare handler that does only what any
// token endpoint must: parse the form, check HTTP Basic, sign the same
// claims with the same key, write JSON. Both run in-process (no sockets), so
// the ratio bare/mock is the mock's own overhead. On a shared machine,
// interleave the runs so both see the same load:
//
//	for i in 1 2 3 4 5 6; do go test -run '^$' -bench ClientCredentials -benchmem ./mockidp/; done
func BenchmarkClientCredentials(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		key := benchKey(b, alg)
		b.Run(alg+"/mock", func(b *testing.B) {
			m, err := mockidp.New(mockidp.Options{Issuer: "http://127.0.0.1:1", SigningKey: key})
			if err != nil {
				b.Fatal(err)
			}
			benchHandler(b, m)
		})
		b.Run(alg+"/bare", func(b *testing.B) {
			benchHandler(b, bareTokenHandler(b, key, jose.SignatureAlgorithm(alg)))
		})
	}
}

func benchKey(b *testing.B, alg string) crypto.Signer {
	switch alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		return k
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		return k
	default:
		return rsaKey()
	}
}

func benchHandler(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:1/token", strings.NewReader("grant_type=client_credentials&scope=api%3Aread"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(mockidp.ClientCC, mockidp.ClientCCSecret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("HTTP %d %s", rec.Code, rec.Body)
		}
	}
}

// bareTokenHandler is the floor the mock is measured against
// (internal/baretoken; loadtest's BenchmarkCapacity measures against the
// same one).
func bareTokenHandler(b *testing.B, key crypto.Signer, alg jose.SignatureAlgorithm) http.Handler {
	h, err := baretoken.Handler(baretoken.Config{Issuer: "http://127.0.0.1:1", ClientID: mockidp.ClientCC, ClientSecret: mockidp.ClientCCSecret,
		Key: key, KeyID: "k1", Algorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	return h
}
