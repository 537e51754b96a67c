package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// PKCE is a code verifier and its challenge (RFC 7636 §4.1-4.2).
type PKCE struct {
	Verifier  string
	Challenge string
	Method    string // "S256" or "plain"
}

// NewPKCE makes a fresh verifier: 32 random bytes, base64url, 43 characters
// (RFC 7636 §4.1 recommends exactly this). method is "S256" or "plain".
func NewPKCE(method string) PKCE {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	return PKCE{Verifier: v, Challenge: Challenge(v, method), Method: method}
}

// NewPKCE is the package's NewPKCE with the verifier registered as a secret at once: RFC
// 7636 §7.1 makes it the proof of possession of the code, and with "plain"
// the challenge in the authorization URL is the verifier itself.
func (c *Client) NewPKCE(method string) PKCE {
	p := NewPKCE(method)
	if c.secrets != nil {
		c.secrets.Add(p.Verifier)
	}
	return p
}

// Challenge derives the code_challenge of verifier (RFC 7636 §4.2).
func Challenge(verifier, method string) string {
	if method == "plain" {
		return verifier
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// RandomValue returns an unguessable value for state and nonce.
func RandomValue() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
