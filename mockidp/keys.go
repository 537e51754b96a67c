package mockidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"
)

// keyring holds the signing key and the keys it replaced. Retired public keys
// stay in the JWKS (unless a rotation drops them) so tokens signed before a
// rotation still verify. Private keys never leave it: publicSet strips them,
// and only the jwks-private-key fault asks for them.
type keyring struct {
	mu      sync.RWMutex
	active  jose.JSONWebKey
	retired []jose.JSONWebKey
	decoy   *jose.JSONWebKey // a second key under the active kid, for duplicate-kid

	// signers caches one jose.Signer per key and header set: building one
	// per token costs more than the ES256 signature itself.
	signers sync.Map // signerKey -> jose.Signer

	signed   atomic.Uint64
	rotating atomic.Bool
}

type signerKey struct {
	kid, typ, cty, jku string
}

func newKeyring(alg jose.SignatureAlgorithm, key crypto.Signer) (*keyring, error) {
	k := &keyring{}
	if key != nil {
		jwk, err := makeJWK(key, alg)
		if err != nil {
			return nil, err
		}
		k.active = jwk
		return k, nil
	}
	if err := k.rotate(alg, true); err != nil {
		return nil, err
	}
	return k, nil
}

func makeJWK(priv crypto.Signer, alg jose.SignatureAlgorithm) (jose.JSONWebKey, error) {
	if err := keyFitsAlg(priv, alg); err != nil {
		return jose.JSONWebKey{}, err
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(alg), Use: "sig"}
	pub := jwk.Public()
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)[:16]
	// Building a signer checks the key once, here, instead of on the first
	// request.
	if _, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jwk}, nil); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("signer for %s: %w", alg, err)
	}
	return jwk, nil
}

// rotate makes a new active key for alg; the old one is kept in the JWKS
// when keepOld, else every retired key is dropped.
func (k *keyring) rotate(alg jose.SignatureAlgorithm, keepOld bool) error {
	priv, err := generateKey(alg)
	if err != nil {
		return err
	}
	jwk, err := makeJWK(priv, alg)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.active.Key != nil && keepOld {
		k.retired = append([]jose.JSONWebKey{k.active}, k.retired...)
	}
	if !keepOld {
		k.retired = nil
	}
	k.active = jwk
	k.decoy = nil
	// Signers of dropped keys would never be used again.
	k.signers.Clear()
	return nil
}

func (k *keyring) activeKey() jose.JSONWebKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.active
}

func (k *keyring) alg() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.activeKey().Algorithm)
}

// kids returns the key IDs published, active first.
func (k *keyring) kids() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := []string{k.active.KeyID}
	for _, r := range k.retired {
		out = append(out, r.KeyID)
	}
	return out
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

// faultySet returns the JWKS a fault asks for: with the private active key,
// or with a decoy key published under the active kid.
func (k *keyring) faultySet(private, duplicate bool) (jose.JSONWebKeySet, error) {
	set := k.publicSet()
	if private {
		set.Keys[0] = k.activeKey()
	}
	if duplicate {
		d, err := k.decoyKey()
		if err != nil {
			return set, err
		}
		set.Keys = append(set.Keys, d.Public())
	}
	return set, nil
}

func (k *keyring) decoyKey() (jose.JSONWebKey, error) {
	k.mu.RLock()
	d := k.decoy
	active := k.active
	k.mu.RUnlock()
	if d != nil {
		return *d, nil
	}
	alg := jose.SignatureAlgorithm(active.Algorithm)
	priv, err := generateKey(alg)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(alg), Use: "sig", KeyID: active.KeyID}
	k.mu.Lock()
	if k.active.KeyID == active.KeyID && k.decoy == nil {
		k.decoy = &jwk
	}
	k.mu.Unlock()
	return jwk, nil
}

// verify checks a compact JWS against every key the ring holds, for the
// mock's own introspection and userinfo. It returns the payload.
func (k *keyring) verify(raw string) ([]byte, error) {
	k.mu.RLock()
	keys := append([]jose.JSONWebKey{k.active}, k.retired...)
	k.mu.RUnlock()
	algs := make([]jose.SignatureAlgorithm, 0, len(keys))
	for _, key := range keys {
		if a := jose.SignatureAlgorithm(key.Algorithm); !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		return nil, err
	}
	lastErr := fmt.Errorf("no key of this issuer verifies the token")
	for _, key := range keys {
		if len(jws.Signatures) == 1 && jws.Signatures[0].Header.KeyID != "" && jws.Signatures[0].Header.KeyID != key.KeyID {
			continue
		}
		p, err := jws.Verify(key.Public())
		if err == nil {
			return p, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// header is what a token's JOSE header carries besides alg and kid.
type header struct {
	typ, cty, jku string
}

// signOptions are the misbehaviours a signature may be asked for.
type signOptions struct {
	none, badSig, unknownKid bool
}

// sign signs payload with the active key.
func (k *keyring) sign(payload []byte, h header, o signOptions) (string, error) {
	active := k.activeKey()
	if o.none {
		return unsignedJWS(payload, h), nil
	}
	if o.unknownKid {
		active.KeyID = "idpconform-unknown-" + active.KeyID
	}
	signer, err := k.signer(active, h)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serialize: %w", err)
	}
	if o.badSig {
		out = corruptSignature(out)
	}
	return out, nil
}

func (k *keyring) signer(key jose.JSONWebKey, h header) (jose.Signer, error) {
	sk := signerKey{kid: key.KeyID, typ: h.typ, cty: h.cty, jku: h.jku}
	if s, ok := k.signers.Load(sk); ok {
		return s.(jose.Signer), nil
	}
	opts := &jose.SignerOptions{}
	if h.typ != "" {
		opts = opts.WithType(jose.ContentType(h.typ))
	}
	if h.cty != "" {
		opts = opts.WithContentType(jose.ContentType(h.cty))
	}
	if h.jku != "" {
		opts = opts.WithHeader("jku", h.jku)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	k.signers.Store(sk, s)
	return s, nil
}

// unsignedJWS builds an alg "none" token by hand: go-jose refuses to.
func unsignedJWS(payload []byte, h header) string {
	hdr := map[string]string{"alg": "none"}
	if h.typ != "" {
		hdr["typ"] = h.typ
	}
	if h.cty != "" {
		hdr["cty"] = h.cty
	}
	hb, _ := json.Marshal(hdr)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(hb) + "." + enc.EncodeToString(payload) + "."
}

// corruptSignature flips bits in the first signature byte.
func corruptSignature(jws string) string {
	i := strings.LastIndexByte(jws, '.')
	sig, err := base64.RawURLEncoding.DecodeString(jws[i+1:])
	if err != nil || len(sig) == 0 {
		return jws + "AA"
	}
	sig[0] ^= 0xff
	return jws[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

var signingAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// supportsAlg reports whether the mock can sign with alg.
func supportsAlg(alg jose.SignatureAlgorithm) bool { return slices.Contains(signingAlgs, alg) }

func signingAlgNames() []string {
	out := make([]string, len(signingAlgs))
	for i, a := range signingAlgs {
		out[i] = string(a)
	}
	return out
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
		return nil, fmt.Errorf("mock cannot sign with %q; use one of %s", alg, strings.Join(signingAlgNames(), ", "))
	}
}

// keyFitsAlg checks that a loaded key can sign with alg.
func keyFitsAlg(key crypto.Signer, alg jose.SignatureAlgorithm) error {
	want := AlgForKey(key)
	ok := false
	switch k := key.(type) {
	case *rsa.PrivateKey:
		ok = strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
		if ok && k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits: at least 2048 are required", k.N.BitLen())
		}
	case *ecdsa.PrivateKey, ed25519.PrivateKey:
		ok = alg == want
	}
	if !ok {
		return fmt.Errorf("a %s key cannot sign %s (it signs %s)", keyKind(key), alg, want)
	}
	return nil
}

// AlgForKey returns the algorithm a private key signs with by default:
// RS256 for RSA, ES256/ES384/ES512 by curve, EdDSA for Ed25519; "" for any
// other key.
func AlgForKey(key crypto.Signer) jose.SignatureAlgorithm {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return jose.RS256
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256
		case elliptic.P384():
			return jose.ES384
		case elliptic.P521():
			return jose.ES512
		}
	case ed25519.PrivateKey:
		return jose.EdDSA
	}
	return ""
}

func keyKind(key crypto.Signer) string {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PrivateKey:
		return "EC " + k.Curve.Params().Name
	case ed25519.PrivateKey:
		return "Ed25519"
	default:
		return fmt.Sprintf("%T", key)
	}
}

// ParseSigningKey reads a PEM private key (PKCS #8, PKCS #1 RSA or SEC 1 EC),
// such as the test keys in fixtures/keys.
func ParseSigningKey(pemBytes []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("no PEM block found; expected a PRIVATE KEY")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key; expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", block.Type, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok || AlgForKey(s) == "" {
		return nil, fmt.Errorf("unsupported key type %T; expected RSA, EC P-256/P-384/P-521 or Ed25519", key)
	}
	return s, nil
}
