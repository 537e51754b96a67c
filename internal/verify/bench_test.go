package verify

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func benchVerify(b *testing.B, k testKey) {
	v := &Verifier{Keys: StaticKeySet{k.public()}, Algorithms: []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}, Now: verifier().Now}
	tok := k.sign(b, claims(nil), nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok, Expected{Issuer: "https://idp.example", Audience: "client-1"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRS256(b *testing.B) { benchVerify(b, newRSAKey(b, "k")) }
func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, newECKey(b, "k")) }
func BenchmarkVerifyEdDSA(b *testing.B) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	benchVerify(b, testKey{priv: jose.JSONWebKey{Key: priv, KeyID: "k", Algorithm: "EdDSA", Use: "sig"}})
}
