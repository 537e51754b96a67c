package mockidp

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Client authentication methods beyond the shared secret.
const (
	// AuthTLSClientAuth: a client certificate issued by a CA the mock
	// trusts (Options.ClientCAs), whose subject is the registered
	// TLSClientAuthSubjectDN (RFC 8705 §2.1).
	AuthTLSClientAuth = "tls_client_auth"
	// AuthPrivateKeyJWT: a JWT assertion signed with a key in the client's
	// registered JWKS (RFC 7523 §2.2, §3; OIDC Core §9).
	AuthPrivateKeyJWT = "private_key_jwt"
)

// clientAssertionType is RFC 7523 §2.2's client_assertion_type.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionAlgs are the algorithms a client assertion may use: asymmetric
// only, since the mock holds public keys.
var assertionAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

func assertionAlgNames() []string {
	out := make([]string, len(assertionAlgs))
	for i, a := range assertionAlgs {
		out[i] = string(a)
	}
	return out
}

// authenticateCertificate checks a tls_client_auth client's certificate
// (RFC 8705 §2.1): presented over TLS, chaining to a trusted CA at the mock's
// time, for client authentication, with the registered subject DN.
func (m *IdP) authenticateCertificate(r *http.Request, c *Client) *Error {
	if r.TLS == nil {
		return ErrInvalidClient.WithDescription("tls_client_auth needs a TLS connection")
	}
	if len(r.TLS.PeerCertificates) == 0 {
		return ErrInvalidClient.WithDescription("no client certificate was presented")
	}
	if m.clientCAs == nil {
		return ErrInvalidClient.WithDescription("this mock trusts no client certificate CA")
	}
	leaf := r.TLS.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, ic := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: m.clientCAs, Intermediates: inter, CurrentTime: m.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return ErrInvalidClient.WithDescription("the client certificate is expired or not yet valid")
	case errors.As(err, &unknown):
		return ErrInvalidClient.WithDescription("the client certificate is not issued by a CA this server trusts")
	case err != nil:
		return ErrInvalidClient.WithDescription("the client certificate does not verify")
	}
	if got := leaf.Subject.String(); got != c.TLSClientAuthSubjectDN {
		return ErrInvalidClient.WithDescription("the client certificate's subject is not the one registered for this client")
	}
	return nil
}

// authenticateAssertion checks a private_key_jwt client assertion (RFC 7523
// §3, OIDC Core §9): iss and sub are the client_id, aud names this server,
// exp has not passed, the jti was never used, and a key the client
// registered signed it.
func (m *IdP) authenticateAssertion(r *http.Request) (*Client, *Error) {
	if t := r.PostForm.Get("client_assertion_type"); t != clientAssertionType {
		return nil, ErrInvalidClient.WithDescription("client_assertion_type must be " + clientAssertionType)
	}
	if r.Header.Get("Authorization") != "" || r.PostForm.Get("client_secret") != "" {
		return nil, ErrInvalidRequest.WithDescription("client authenticated with more than one method")
	}
	jws, err := jose.ParseSignedCompact(r.PostForm.Get("client_assertion"), assertionAlgs)
	if err != nil {
		return nil, ErrInvalidClient.WithDescription("client_assertion is not a JWS signed with an asymmetric algorithm")
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp *float64        `json:"exp"`
		Jti string          `json:"jti"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return nil, ErrInvalidClient.WithDescription("client_assertion claims are not a JSON object")
	}
	c, ok := m.clients[claims.Sub]
	if !ok || c.AuthMethod != AuthPrivateKeyJWT {
		return nil, ErrInvalidClient.WithDescription("client authentication failed")
	}
	if id := r.PostForm.Get("client_id"); id != "" && id != c.ID {
		return nil, ErrInvalidClient.WithDescription("client_id differs from the assertion's sub")
	}
	var payload []byte
	kid := jws.Signatures[0].Header.KeyID
	for _, k := range c.JWKS {
		if kid != "" && k.KeyID != "" && k.KeyID != kid {
			continue
		}
		if p, err := jws.Verify(k.Key); err == nil {
			payload = p
			break
		}
	}
	if payload == nil {
		return nil, ErrInvalidClient.WithDescription("client_assertion is not signed by a key registered for the client")
	}
	now := m.Now()
	switch {
	case claims.Iss != c.ID:
		return nil, ErrInvalidClient.WithDescription("client_assertion iss must be the client_id")
	case !m.assertionAudience(claims.Aud, r):
		return nil, ErrInvalidClient.WithDescription("client_assertion aud does not name this authorization server (its issuer or the endpoint called)")
	case claims.Exp == nil:
		return nil, ErrInvalidClient.WithDescription("client_assertion has no exp")
	case !now.Before(time.Unix(int64(*claims.Exp), 0)):
		return nil, ErrInvalidClient.WithDescription("client_assertion has expired")
	case claims.Jti == "":
		return nil, ErrInvalidClient.WithDescription("client_assertion has no jti")
	}
	if !m.store.useAssertion(c.ID+" "+claims.Jti, time.Unix(int64(*claims.Exp), 0), now) {
		return nil, ErrInvalidClient.WithDescription("client_assertion jti was already used")
	}
	return c, nil
}

// assertionAudience accepts the issuer, the token endpoint or the endpoint
// the request was sent to (RFC 7523 §3 leaves the choice to the server;
// OIDC Core §9 recommends the token endpoint).
func (m *IdP) assertionAudience(raw json.RawMessage, r *http.Request) bool {
	var auds []string
	var one string
	if json.Unmarshal(raw, &one) == nil {
		auds = []string{one}
	} else if json.Unmarshal(raw, &auds) != nil {
		return false
	}
	ok := []string{m.issuer, m.issuer + "/", m.endpoint(PathToken), m.issuer + strings.TrimPrefix(r.URL.Path, m.prefix)}
	return slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(ok, a) })
}

// checkClientAuth validates the registration of the certificate and
// assertion methods.
func checkClientAuth(c *Client) error {
	switch c.AuthMethod {
	case AuthTLSClientAuth:
		if c.TLSClientAuthSubjectDN == "" {
			return fmt.Errorf("client %q: tls_client_auth needs TLSClientAuthSubjectDN (RFC 8705 §2.1.2)", c.ID)
		}
	case AuthPrivateKeyJWT:
		if len(c.JWKS) == 0 {
			return fmt.Errorf("client %q: private_key_jwt needs the client's public keys in JWKS", c.ID)
		}
		for i, k := range c.JWKS {
			if !k.IsPublic() || !k.Valid() {
				return fmt.Errorf("client %q: JWKS key %d must be a valid public key", c.ID, i)
			}
		}
	default:
		return nil
	}
	if c.Secret != "" {
		return fmt.Errorf("client %q: %s clients have no secret", c.ID, c.AuthMethod)
	}
	return nil
}
