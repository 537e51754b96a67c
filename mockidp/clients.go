package mockidp

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Client is a client registered at the mock.
type Client struct {
	ID     string
	Secret string
	// AuthMethod is client_secret_basic or client_secret_post; the mock
	// refuses the other one, as a registration-bound IdP does.
	AuthMethod string
	// Grants the client may use.
	Grants []string
	// Scopes the client may be granted; a request for anything else gets
	// invalid_scope. With no scope requested, all of them are granted.
	Scopes []string
	// AccessTokenFormat is "jwt" (default) or "opaque".
	AccessTokenFormat string
	// AccessTokenTTL is the access token lifetime; default DefaultAccessTokenTTL.
	AccessTokenTTL time.Duration
	// Audience of JWT access tokens; default the client ID.
	Audience string
}

// Defaults of the mock.
const (
	// DefaultAccessTokenTTL is 60 minutes, the Next Identity default.
	DefaultAccessTokenTTL = time.Hour
)

// Identifiers and secrets of the clients every mock registers unless
// Options.Clients replaces them. The secrets are published test values: the
// bundled target files reference them as ${VAR:-default} so a user can point
// the same file at a mock with other secrets.
const (
	ClientCC             = "idpconform-cc"
	ClientCCSecret       = "idpconform-cc-secret"
	ClientCCPost         = "idpconform-cc-post"
	ClientCCPostSecret   = "idpconform-cc-post-secret"
	ClientShortTTL       = "idpconform-short"
	ClientShortTTLSecret = "idpconform-short-secret"
)

// DefaultClients returns the clients a mock registers by default.
func DefaultClients() []Client {
	return []Client{
		{ID: ClientCC, Secret: ClientCCSecret, AuthMethod: "client_secret_basic", Grants: []string{"client_credentials"},
			Scopes: []string{"api:read", "api:write"}, AccessTokenFormat: "jwt"},
		{ID: ClientCCPost, Secret: ClientCCPostSecret, AuthMethod: "client_secret_post", Grants: []string{"client_credentials"},
			Scopes: []string{"api:read"}, AccessTokenFormat: "opaque"},
		{ID: ClientShortTTL, Secret: ClientShortTTLSecret, AuthMethod: "client_secret_basic", Grants: []string{"client_credentials"},
			Scopes: []string{"api:read"}, AccessTokenFormat: "jwt", AccessTokenTTL: 2 * time.Second},
	}
}

func (c *Client) allowsGrant(g string) bool { return slices.Contains(c.Grants, g) }

func (c *Client) ttl() time.Duration {
	if c.AccessTokenTTL > 0 {
		return c.AccessTokenTTL
	}
	return DefaultAccessTokenTTL
}

// authenticate finds the client a token request comes from (RFC 6749
// §2.3.1). It reports whether HTTP Basic was used, for the 401's
// WWW-Authenticate header.
func (m *IdP) authenticate(r *http.Request) (*Client, bool, *Error) {
	id, secret, basic, err := credentials(r)
	if err != nil {
		return nil, basic, err
	}
	c, ok := m.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		// One message for unknown client and wrong secret: which one it was
		// is not the caller's business.
		return nil, basic, ErrInvalidClient.WithDescription("client authentication failed")
	}
	method := "client_secret_post"
	if basic {
		method = "client_secret_basic"
	}
	if c.AuthMethod != method {
		return nil, basic, ErrInvalidClient.WithDescription("client is registered for " + c.AuthMethod + ", not " + method)
	}
	return c, basic, nil
}

func credentials(r *http.Request) (id, secret string, basic bool, e *Error) {
	h := r.Header.Get("Authorization")
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if h != "" {
		scheme, payload, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return "", "", false, ErrInvalidClient.WithDescription("unsupported authorization scheme")
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
		if err != nil {
			return "", "", true, ErrInvalidClient.WithDescription("malformed basic credentials")
		}
		u, p, ok := strings.Cut(string(raw), ":")
		if !ok {
			return "", "", true, ErrInvalidClient.WithDescription("malformed basic credentials")
		}
		// RFC 6749 §2.3.1: both parts are form-encoded before base64.
		if id, err = url.QueryUnescape(u); err != nil {
			return "", "", true, ErrInvalidClient.WithDescription("malformed basic credentials")
		}
		if secret, err = url.QueryUnescape(p); err != nil {
			return "", "", true, ErrInvalidClient.WithDescription("malformed basic credentials")
		}
		if formSecret != "" {
			// RFC 6749 §2.3: a client must not use more than one method.
			return "", "", true, ErrInvalidRequest.WithDescription("client authenticated with more than one method")
		}
		return id, secret, true, nil
	}
	if formID == "" {
		return "", "", false, ErrInvalidClient.WithDescription("no client authentication")
	}
	if formSecret == "" {
		return "", "", false, ErrInvalidClient.WithDescription("client_secret missing")
	}
	return formID, formSecret, false, nil
}
