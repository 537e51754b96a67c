package mockidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// keyring holds the signing key and the keys it replaced. Retired public keys
// stay in the JWKS so tokens signed before a rotation still verify.
type keyring struct {
	alg jose.SignatureAlgorithm

	mu      sync.RWMutex
	active  jose.JSONWebKey
	retired []jose.JSONWebKey
}

func newKeyring(alg jose.SignatureAlgorithm) (*keyring, error) {
	k := &keyring{alg: alg}
	if err := k.rotate(); err != nil {
		return nil, err
	}
	return k, nil
}

// rotate makes a new active key and retires the old one.
func (k *keyring) rotate() error {
	priv, err := generateKey(k.alg)
	if err != nil {
		return err
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(k.alg), Use: "sig"}
	pub := jwk.Public()
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)[:16]
	// A signer is built per token (headers vary); building one here checks
	// the key once, at rotation, instead of on the first request.
	if _, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jwk}, nil); err != nil {
		return fmt.Errorf("signer: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.active.Key != nil {
		k.retired = append(k.retired, k.active)
	}
	k.active = jwk
	return nil
}

// publicSet returns the JWKS: active key first, then retired ones.
func (k *keyring) publicSet() jose.JSONWebKeySet {
	k.mu.RLock()
	defer k.mu.RUnlock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.active.Public()}}
	for _, r := range k.retired {
		set.Keys = append(set.Keys, r.Public())
	}
	return set
}

// sign signs payload with the active key, adding the given header fields.
func (k *keyring) sign(payload []byte, typ, cty string) (string, error) {
	k.mu.RLock()
	active := k.active
	k.mu.RUnlock()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	if cty != "" {
		opts = opts.WithContentType(jose.ContentType(cty))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: active}, opts)
	if err != nil {
		return "", fmt.Errorf("signer: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return obj.CompactSerialize()
}

func generateKey(alg jose.SignatureAlgorithm) (crypto.Signer, error) {
	switch alg {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		return rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.ES512:
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case jose.EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	default:
		return nil, fmt.Errorf("mock cannot sign with %q; use RS256, PS256, ES256, ES384, ES512 or EdDSA", alg)
	}
}
