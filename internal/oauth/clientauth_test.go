package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/mockidp"
)

func TestAssertion(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ak := &AssertionKey{Key: key, KeyID: "k1"}
	now := time.Unix(1_700_000_000, 0)
	a1, err := ak.Assertion("client-1", "https://idp.example/token", now)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := ak.Assertion("client-1", "https://idp.example/token", now)
	jws, err := jose.ParseSignedCompact(a1, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify(key.Public())
	if err != nil {
		t.Fatalf("assertion does not verify with the client's key: %v", err)
	}
	var c map[string]any
	_ = json.Unmarshal(payload, &c)
	if c["iss"] != "client-1" || c["sub"] != "client-1" || c["aud"] != "https://idp.example/token" ||
		c["exp"] != float64(now.Add(DefaultAssertionLifetime).Unix()) || c["jti"] == "" || jws.Signatures[0].Header.KeyID != "k1" {
		t.Errorf("claims %v", c)
	}
	p2, _ := jose.ParseSignedCompact(a2, []jose.SignatureAlgorithm{jose.ES256})
	var c2 map[string]any
	_ = json.Unmarshal(p2.UnsafePayloadWithoutVerification(), &c2)
	if c2["jti"] == c["jti"] {
		t.Error("two assertions share a jti")
	}
	if _, err := (&AssertionKey{}).Assertion("c", "a", now); err == nil {
		t.Error("assertion without a key")
	}
}

// Against the TLS mock: the client trusts its CA, presents a certificate for
// tls_client_auth and signs assertions for private_key_jwt, at the token
// and introspection endpoints; the assertion is registered as a secret.
func TestClientAuthAgainstTLSMock(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	clients := append(mockidp.DefaultClients(),
		mockidp.Client{ID: "m", AuthMethod: mockidp.AuthTLSClientAuth, TLSClientAuthSubjectDN: "CN=m", Grants: []string{mockidp.GrantClientCredentials}},
		mockidp.Client{ID: "p", AuthMethod: mockidp.AuthPrivateKeyJWT, JWKS: []jose.JSONWebKey{{Key: key.Public(), Algorithm: "ES256"}}, Grants: []string{mockidp.GrantClientCredentials}})
	srv, err := mockidp.NewTLSServer("", mockidp.Options{Clients: clients, SigningAlg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	reg := redact.New()
	rec := NewRecorder()
	c := New(Options{Timeout: generous, TLS: &tls.Config{RootCAs: srv.CA.Pool(), MinVersion: tls.VersionTLS12}, Secrets: reg, Recorder: rec})
	defer c.CloseIdleConnections()
	ctx := context.Background()
	cert, _, _, err := srv.CA.ClientCertificate("m", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, cred := range []Credentials{
		{ID: "m", Method: TLSClientAuth, Certificate: &cert},
		{ID: "p", Method: PrivateKeyJWT, AssertionKey: &AssertionKey{Key: key}},
	} {
		tr, err := c.ClientCredentials(ctx, srv.URL+mockidp.PathToken, cred, nil, nil)
		if err != nil || tr.Status != 200 || tr.AccessToken == "" {
			t.Fatalf("%s: %+v %v", cred.Method, tr, err)
		}
		in, err := c.Introspect(ctx, srv.URL+mockidp.PathIntrospect, cred, tr.AccessToken, "")
		if err != nil || in.Active == nil || !*in.Active {
			t.Errorf("%s introspection: %+v %v", cred.Method, in, err)
		}
	}
	for _, ex := range rec.Exchanges() {
		if a := formValue(ex.RequestBody, "client_assertion"); a != "" && reg.String(a) != redact.Marker {
			t.Error("client assertion not registered as a secret")
		}
	}
	// Failing twins: no certificate, and a certificate method without one.
	tr, err := c.ClientCredentials(ctx, srv.URL+mockidp.PathToken, Credentials{ID: "m", Method: AuthNone}, nil, nil)
	if err != nil || tr.Status != 401 || tr.Error == nil || !strings.Contains(tr.Error.Description, "no client certificate") {
		t.Errorf("without a certificate: %+v %v", tr, err)
	}
	if _, err := c.ClientCredentials(ctx, srv.URL+mockidp.PathToken, Credentials{ID: "m", Method: TLSClientAuth}, nil, nil); err == nil || !strings.Contains(err.Error(), "has no certificate") {
		t.Errorf("tls_client_auth without a certificate: %v", err)
	}
}

func formValue(body, key string) string {
	for _, kv := range strings.Split(body, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
