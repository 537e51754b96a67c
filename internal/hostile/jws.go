package hostile

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Signer signs a JWS signing input (RFC 7515 §5.1 step 8).
type Signer func(signingInput []byte) ([]byte, error)

// RS256 signs with RSASSA-PKCS1-v1_5 SHA-256.
func RS256(k *rsa.PrivateKey) Signer {
	return func(in []byte) ([]byte, error) {
		h := sha256.Sum256(in)
		return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	}
}

// HS256 signs with HMAC SHA-256 and secret.
func HS256(secret []byte) Signer {
	return func(in []byte) ([]byte, error) {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil), nil
	}
}

// Unsigned is the empty signature of alg "none" (RFC 7519 §6.1).
func Unsigned() Signer { return func([]byte) ([]byte, error) { return nil, nil } }

// Forge builds a compact JWS from header and payload bytes exactly as given,
// so that a test can send what no well-behaved library would produce:
// duplicate names, bytes that are not UTF-8, unknown crit entries.
func Forge(header, payload []byte, sign Signer) (string, error) {
	in := b64(header) + "." + b64(payload)
	sig, err := sign([]byte(in))
	if err != nil {
		return "", fmt.Errorf("hostile: sign: %w", err)
	}
	return in + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Payload returns the payload bytes of a compact JWS, unverified.
func Payload(token string) ([]byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("hostile: not a compact JWS")
	}
	return base64.RawURLEncoding.DecodeString(parts[1])
}

// Header builds a header object from members in the order given; values are
// marshalled with encoding/json. Repeating a name repeats the member.
func Header(members ...any) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(members); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(members[i])
		v, _ := json.Marshal(members[i+1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// WithMember returns a JSON object with one more member appended after the
// existing ones, raw: a name already present becomes a duplicate, and raw
// may hold any bytes.
func WithMember(object []byte, name string, raw []byte) []byte {
	obj := strings.TrimRight(string(object), " \n\r\t")
	obj = strings.TrimSuffix(obj, "}")
	sep := ","
	if strings.TrimSpace(obj) == "{" {
		sep = ""
	}
	q, _ := json.Marshal(name)
	return []byte(obj + sep + string(q) + ":" + string(raw) + "}")
}

// PublicKeyPEM is the PEM text of an RSA public key: the "secret" of the
// key-confusion attack, in which a token is HMAC-signed with the bytes a
// verifier holds as the issuer's public key (RFC 8725 §2.1).
func PublicKeyPEM(pub *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// PublicJWK is the public JWK of k as a JSON object.
func PublicJWK(k *rsa.PrivateKey, kid string) json.RawMessage {
	b, err := jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}.MarshalJSON()
	if err != nil {
		return nil
	}
	return b
}
