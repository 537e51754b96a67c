package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Client authentication methods beyond the shared secret.
const (
	// TLSClientAuth authenticates with a client certificate in the TLS
	// handshake, bound to the client's registration (RFC 8705 §2.1).
	TLSClientAuth AuthMethod = "tls_client_auth"
	// PrivateKeyJWT authenticates with a JWT the client signs with its
	// private key (RFC 7523 §2.2, OIDC Core §9).
	PrivateKeyJWT AuthMethod = "private_key_jwt"
)

// ClientAssertionType is the client_assertion_type of a JWT assertion
// (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AssertionKey is a client's private key for private_key_jwt.
type AssertionKey struct {
	Key crypto.Signer
	// KeyID is the kid of the key as registered (optional).
	KeyID string
	// Alg is the JWS algorithm; empty means the usual one for the key type
	// (RS256, ES256/384/512, EdDSA).
	Alg string
	// Lifetime is how long an assertion is valid; default one minute.
	Lifetime time.Duration
}

// DefaultAssertionLifetime keeps assertions short-lived, as OIDC Core §9
// expects of a single-use credential.
const DefaultAssertionLifetime = time.Minute

// Assertion builds and signs a client assertion for audience (RFC 7523 §3:
// iss and sub are the client_id, aud the authorization server's endpoint,
// exp bounds it, and jti makes it single use).
func (k *AssertionKey) Assertion(clientID, audience string, now time.Time) (string, error) {
	if k == nil || k.Key == nil {
		return "", errors.New("private_key_jwt: no private key")
	}
	alg := k.Alg
	if alg == "" {
		alg = defaultAlg(k.Key)
	}
	if alg == "" {
		return "", fmt.Errorf("private_key_jwt: no algorithm for a %T key", k.Key)
	}
	life := k.Lifetime
	if life <= 0 {
		life = DefaultAssertionLifetime
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: k.Key, KeyID: k.KeyID}}, opts)
	if err != nil {
		return "", fmt.Errorf("private_key_jwt: signer for %s: %w", alg, err)
	}
	payload, err := json.Marshal(map[string]any{
		"iss": clientID, "sub": clientID, "aud": audience, "jti": RandomValue(),
		"iat": now.Unix(), "exp": now.Add(life).Unix(),
	})
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("private_key_jwt: sign: %w", err)
	}
	return obj.CompactSerialize()
}

// defaultAlg is the JWS algorithm a key of this type signs with by default.
func defaultAlg(k crypto.Signer) string {
	switch pk := k.Public().(type) {
	case *rsa.PublicKey:
		return "RS256"
	case *ecdsa.PublicKey:
		switch pk.Curve {
		case elliptic.P256():
			return "ES256"
		case elliptic.P384():
			return "ES384"
		case elliptic.P521():
			return "ES512"
		}
	case ed25519.PublicKey:
		return "EdDSA"
	}
	return ""
}

// authenticate adds the client authentication of cred to a request for
// endpoint (RFC 6749 §2.3, RFC 8705 §2, RFC 7523 §2.2) and returns the
// client to send it with: a client certificate needs its own TLS
// connections.
func (c *Client) authenticate(cred Credentials, endpoint string, form url.Values, header http.Header) (*Client, error) {
	switch cred.Method {
	case TLSClientAuth:
		if cred.Certificate == nil {
			return nil, fmt.Errorf("client %s uses tls_client_auth but has no certificate", cred.ID)
		}
		// RFC 8705 §2: the client_id is sent; the certificate proves it.
		form.Set("client_id", cred.ID)
		return c.withCertificate(cred.Certificate)
	case PrivateKeyJWT:
		a, err := cred.AssertionKey.Assertion(cred.ID, endpoint, time.Now())
		if err != nil {
			return nil, fmt.Errorf("client %s: %w", cred.ID, err)
		}
		if c.secrets != nil {
			c.secrets.Add(a)
		}
		form.Set("client_assertion_type", ClientAssertionType)
		form.Set("client_assertion", a)
		return c, nil
	}
	c.apply(cred, form, header)
	return c, nil
}

// certClients holds one HTTP client per client certificate, shared by the
// copies WithRecorder makes, so that connections are reused.
type certClients struct {
	mu      sync.Mutex
	clients map[*tls.Certificate]*http.Client
}

// withCertificate returns a copy of c whose connections present cert.
func (c *Client) withCertificate(cert *tls.Certificate) (*Client, error) {
	c.certs.mu.Lock()
	defer c.certs.mu.Unlock()
	if h, ok := c.certs.clients[cert]; ok {
		return c.WithHTTPClient(h), nil
	}
	base, ok := c.http.Transport.(*http.Transport)
	if c.http.Transport == nil {
		base, ok = http.DefaultTransport.(*http.Transport), true
	}
	if !ok {
		return nil, fmt.Errorf("tls_client_auth needs an *http.Transport, the client has a %T", c.http.Transport)
	}
	tr := base.Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tr.TLSClientConfig != nil {
		cfg = tr.TLSClientConfig.Clone()
	}
	cfg.Certificates = []tls.Certificate{*cert}
	tr.TLSClientConfig = cfg
	h := &http.Client{Transport: tr, CheckRedirect: c.http.CheckRedirect, Jar: c.http.Jar}
	if c.certs.clients == nil {
		c.certs.clients = map[*tls.Certificate]*http.Client{}
	}
	c.certs.clients[cert] = h
	return c.WithHTTPClient(h), nil
}

// CloseIdleConnections closes the idle connections of every transport the
// client made (its own and one per client certificate).
func (c *Client) CloseIdleConnections() {
	c.http.CloseIdleConnections()
	c.certs.mu.Lock()
	defer c.certs.mu.Unlock()
	for _, h := range c.certs.clients {
		h.CloseIdleConnections()
	}
}

// newTransport is http.DefaultTransport's configuration with tlsConfig.
func newTransport(tlsConfig *tls.Config) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig.Clone()
	return tr
}
