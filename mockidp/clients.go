package mockidp

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Client is a client registered at the mock.
type Client struct {
	ID     string
	Secret string
	// AuthMethod is client_secret_basic, client_secret_post, or none (a
	// public client, which must use PKCE). The mock refuses any other
	// method than the registered one, as a registration-bound IdP does.
	AuthMethod string
	// Grants the client may use: client_credentials, authorization_code,
	// refresh_token.
	Grants []string
	// Scopes the client may be granted; a request for anything else gets
	// invalid_scope. With no scope requested, all of them are granted. A
	// custom scope prefix:name:suffix may be requested as prefix:name (Next
	// Identity, seed 004).
	Scopes []string
	// RedirectURIs registered for the authorization code grant. Compared
	// exactly, except that the port of a loopback http URI is ignored
	// (RFC 8252 §7.3), so a login driver may listen on any port.
	RedirectURIs []string
	// RequireConsent shows the consent form after login until the user has
	// approved the requested scopes for this client.
	RequireConsent bool
	// RequirePKCE refuses authorization requests without a code_challenge.
	// Public clients always require it.
	RequirePKCE bool
	// AccessTokenFormat is "jwt" (default) or "opaque".
	AccessTokenFormat string
	// AccessTokenTTL is the access token lifetime; default
	// DefaultAccessTokenTTL, at least one second.
	AccessTokenTTL time.Duration
	// IDTokenTTL is the ID token lifetime; default DefaultIDTokenTTL.
	IDTokenTTL time.Duration
	// RefreshTokenTTL is the refresh token lifetime; default
	// DefaultRefreshTokenTTL.
	RefreshTokenTTL time.Duration
	// Refresh is what a refresh grant does to the refresh token it used;
	// default RotateRevokeFamily.
	Refresh RefreshRotation
	// Audience of JWT access tokens; default the client ID.
	Audience string
	// ExtraAudiences are added to the aud of ID tokens after the client ID;
	// with any, ID tokens carry azp (OIDC Core §2).
	ExtraAudiences []string
	// RecipientID is the Akoya recipientId claim; default the client ID.
	RecipientID string
	// Products are the Akoya products the user permissions; default
	// DefaultAkoyaProducts.
	Products []string
	// TLSClientAuthSubjectDN is the RFC 4514 subject of the certificate a
	// tls_client_auth client presents (RFC 8705 §2.1.2), e.g. "CN=client".
	TLSClientAuthSubjectDN string
	// JWKS holds the public keys of a private_key_jwt client (RFC 7591 §2
	// jwks).
	JWKS []jose.JSONWebKey
}

// RefreshRotation is a refresh token rotation policy.
type RefreshRotation string

const (
	// RotateRevokeFamily issues a new refresh token on every use; reuse of
	// a rotated one is refused and revokes every token of the authorization
	// (RFC 9700 §4.14.2).
	RotateRevokeFamily RefreshRotation = "rotate-revoke-family"
	// Rotate issues a new refresh token on every use; reuse of a rotated one
	// is refused, the other tokens stay valid.
	Rotate RefreshRotation = "rotate"
	// NoRotation keeps the refresh token valid until it expires.
	NoRotation RefreshRotation = "none"
)

// Client authentication methods.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthNone              = "none"
)

// Grant types.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// Defaults of the mock.
const (
	// DefaultAccessTokenTTL is 60 minutes, the Next Identity default.
	DefaultAccessTokenTTL = time.Hour
	// DefaultIDTokenTTL is 24 hours, Akoya's ID token lifetime (seed 001:
	// exp - iat = 86,427 s, less the seconds between auth and issue).
	DefaultIDTokenTTL = 24 * time.Hour
	// DefaultRefreshTokenTTL is 30 days.
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	// CodeTTL is how long an authorization code can be redeemed (RFC 6749
	// §4.1.2 recommends at most ten minutes).
	CodeTTL = time.Minute
	// DefaultRedirectURI is the loopback redirect URI of the default
	// authorization code clients; any port is accepted in its place.
	DefaultRedirectURI = "http://127.0.0.1/callback"
)

// Identifiers and secrets of the clients every mock registers unless
// Options.Clients replaces them. The secrets are published test values: the
// bundled target files reference them as ${VAR:-default} so a user can point
// the same file at a mock with other secrets. Whoever sends them must still
// register them with the run's redactor (a secret is a secret in a report,
// even a published one).
const (
	// ClientCC uses client credentials with HTTP Basic and gets JWT access
	// tokens; its scopes include a Next Identity style custom scope.
	ClientCC       = "idpconform-cc"
	ClientCCSecret = "idpconform-cc-secret"
	// ClientCCPost uses client credentials with client_secret_post and gets
	// opaque access tokens.
	ClientCCPost       = "idpconform-cc-post"
	ClientCCPostSecret = "idpconform-cc-post-secret"
	// ClientShortTTL uses client credentials and gets JWT access tokens
	// that live two seconds, for expiry specs.
	ClientShortTTL       = "idpconform-short"
	ClientShortTTLSecret = "idpconform-short-secret"
	// ClientCode uses the authorization code grant (PKCE optional) and
	// refresh tokens rotated on every use, reuse revoking the family.
	ClientCode       = "idpconform-code"
	ClientCodeSecret = "idpconform-code-secret"
	// ClientConsent is ClientCode that asks the user's consent.
	ClientConsent       = "idpconform-consent"
	ClientConsentSecret = "idpconform-consent-secret"
	// ClientPublic is a public client (no secret, PKCE required).
	ClientPublic = "idpconform-public"
	// ClientCodeShort gets access and ID tokens that live two seconds and
	// refresh tokens that live four, for expiry specs (Akoya's 602, expired
	// refresh tokens).
	ClientCodeShort       = "idpconform-code-short"
	ClientCodeShortSecret = "idpconform-code-short-secret"
	// ClientRefreshRotate rotates refresh tokens but keeps the family alive
	// when a rotated one is reused.
	ClientRefreshRotate       = "idpconform-refresh-rotate"
	ClientRefreshRotateSecret = "idpconform-refresh-rotate-secret"
	// ClientRefreshStatic never rotates its refresh tokens.
	ClientRefreshStatic       = "idpconform-refresh-static"
	ClientRefreshStaticSecret = "idpconform-refresh-static-secret"
)

// defaultAkoyaProducts are the products of seed 001's example.
var defaultAkoyaProducts = []string{"ACCOUNT_DETAILED", "STATEMENTS", "TRANSACTIONS"}

// DefaultAkoyaProducts returns the Akoya products a client permissions by
// default.
func DefaultAkoyaProducts() []string { return slices.Clone(defaultAkoyaProducts) }

// DefaultClients returns the clients a mock registers by default.
func DefaultClients() []Client {
	userScopes := []string{"openid", "profile", "email", "offline_access", "ad:user_custom:read"}
	code := func(id, secret string) Client {
		return Client{ID: id, Secret: secret, AuthMethod: AuthClientSecretBasic,
			Grants: []string{GrantAuthorizationCode, GrantRefreshToken}, Scopes: slices.Clone(userScopes),
			RedirectURIs: []string{DefaultRedirectURI}, AccessTokenFormat: "jwt"}
	}
	consent := code(ClientConsent, ClientConsentSecret)
	consent.RequireConsent = true
	public := code(ClientPublic, "")
	public.AuthMethod, public.RequirePKCE = AuthNone, true
	short := code(ClientCodeShort, ClientCodeShortSecret)
	short.AccessTokenTTL, short.IDTokenTTL, short.RefreshTokenTTL = 2*time.Second, 2*time.Second, 4*time.Second
	rotate := code(ClientRefreshRotate, ClientRefreshRotateSecret)
	rotate.Refresh = Rotate
	static := code(ClientRefreshStatic, ClientRefreshStaticSecret)
	static.Refresh = NoRotation
	return []Client{
		{ID: ClientCC, Secret: ClientCCSecret, AuthMethod: AuthClientSecretBasic, Grants: []string{GrantClientCredentials},
			Scopes: []string{"api:read", "api:write", "ad:user_custom:read"}, AccessTokenFormat: "jwt"},
		{ID: ClientCCPost, Secret: ClientCCPostSecret, AuthMethod: AuthClientSecretPost, Grants: []string{GrantClientCredentials},
			Scopes: []string{"api:read"}, AccessTokenFormat: "opaque"},
		{ID: ClientShortTTL, Secret: ClientShortTTLSecret, AuthMethod: AuthClientSecretBasic, Grants: []string{GrantClientCredentials},
			Scopes: []string{"api:read"}, AccessTokenFormat: "jwt", AccessTokenTTL: 2 * time.Second},
		code(ClientCode, ClientCodeSecret),
		consent,
		public,
		short,
		rotate,
		static,
	}
}

// checkClient validates a registration and fills defaults.
func checkClient(c *Client) error {
	if c.ID == "" {
		return fmt.Errorf("client has no ID")
	}
	switch c.AuthMethod {
	case "":
		c.AuthMethod = AuthClientSecretBasic
	case AuthClientSecretBasic, AuthClientSecretPost, AuthNone:
	case AuthTLSClientAuth, AuthPrivateKeyJWT:
		if err := checkClientAuth(c); err != nil {
			return err
		}
	default:
		return fmt.Errorf("client %q: auth method %q; expected %s, %s, %s, %s or %s", c.ID, c.AuthMethod, AuthClientSecretBasic, AuthClientSecretPost, AuthTLSClientAuth, AuthPrivateKeyJWT, AuthNone)
	}
	if c.AuthMethod == AuthTLSClientAuth || c.AuthMethod == AuthPrivateKeyJWT {
		// Authenticated by a certificate or a key: no secret.
	} else if c.AuthMethod == AuthNone {
		if c.Secret != "" {
			return fmt.Errorf("client %q: a public client (auth method none) has no secret", c.ID)
		}
		if slices.Contains(c.Grants, GrantClientCredentials) {
			return fmt.Errorf("client %q: a public client cannot use client_credentials", c.ID)
		}
		c.RequirePKCE = true
	} else if c.Secret == "" {
		return fmt.Errorf("client %q has no secret", c.ID)
	}
	for _, g := range c.Grants {
		if g != GrantClientCredentials && g != GrantAuthorizationCode && g != GrantRefreshToken {
			return fmt.Errorf("client %q: grant %q; expected %s, %s or %s", c.ID, g, GrantClientCredentials, GrantAuthorizationCode, GrantRefreshToken)
		}
	}
	if slices.Contains(c.Grants, GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return fmt.Errorf("client %q uses authorization_code but has no redirect URI", c.ID)
	}
	for _, u := range c.RedirectURIs {
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "" || p.Fragment != "" {
			return fmt.Errorf("client %q: redirect URI %q must be absolute and have no fragment (RFC 6749 §3.1.2)", c.ID, u)
		}
	}
	switch c.AccessTokenFormat {
	case "":
		c.AccessTokenFormat = "jwt"
	case "jwt", "opaque":
	default:
		return fmt.Errorf("client %q: access token format %q; expected jwt or opaque", c.ID, c.AccessTokenFormat)
	}
	switch c.Refresh {
	case "":
		c.Refresh = RotateRevokeFamily
	case RotateRevokeFamily, Rotate, NoRotation:
	default:
		return fmt.Errorf("client %q: refresh rotation %q; expected %s, %s or %s", c.ID, c.Refresh, RotateRevokeFamily, Rotate, NoRotation)
	}
	for name, d := range map[string]time.Duration{"access token": c.AccessTokenTTL, "ID token": c.IDTokenTTL, "refresh token": c.RefreshTokenTTL} {
		// expires_in counts whole seconds (RFC 6749 §5.1).
		if d != 0 && (d < time.Second || d%time.Second != 0) {
			return fmt.Errorf("client %q: %s lifetime %s must be whole seconds, at least 1s", c.ID, name, d)
		}
	}
	c.Grants = slices.Clone(c.Grants)
	c.Scopes = slices.Clone(c.Scopes)
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	return nil
}

func (c *Client) allowsGrant(g string) bool { return slices.Contains(c.Grants, g) }

func (c *Client) accessTTL() time.Duration { return orDefault(c.AccessTokenTTL, DefaultAccessTokenTTL) }

func (c *Client) idTTL() time.Duration { return orDefault(c.IDTokenTTL, DefaultIDTokenTTL) }

func (c *Client) refreshTTL() time.Duration {
	return orDefault(c.RefreshTokenTTL, DefaultRefreshTokenTTL)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (c *Client) recipient() string {
	if c.RecipientID != "" {
		return c.RecipientID
	}
	return c.ID
}

func (c *Client) products() []string {
	if len(c.Products) > 0 {
		return c.Products
	}
	return defaultAkoyaProducts
}

// redirectAllowed reports whether uri is registered for c.
func (c *Client) redirectAllowed(uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || !isLoopbackHost(u.Hostname()) {
		return false
	}
	for _, reg := range c.RedirectURIs {
		r, err := url.Parse(reg)
		if err != nil || r.Scheme != "http" || r.Hostname() != u.Hostname() {
			continue
		}
		if r.Path == u.Path && r.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// authenticate finds the client a request comes from (RFC 6749 §2.3.1). It
// reports whether HTTP Basic was used, for the 401's WWW-Authenticate header.
// With the accept-wrong-secret fault, a known client is let in whatever
// secret it sends.
func (m *IdP) authenticate(r *http.Request, fs *faultSet) (*Client, bool, *Error) {
	if r.PostForm.Has("client_assertion") || r.PostForm.Has("client_assertion_type") {
		c, e := m.authenticateAssertion(r)
		return c, false, e
	}
	id, secret, basic, err := credentials(r)
	if err != nil {
		return nil, basic, err
	}
	c, ok := m.clients[id]
	if ok && c.AuthMethod == AuthTLSClientAuth && !basic && secret == "" {
		return c, false, m.authenticateCertificate(r, c)
	}
	if !ok {
		// One message for unknown client and wrong secret: which one it was
		// is not the caller's business.
		return nil, basic, ErrInvalidClient.WithDescription("client authentication failed")
	}
	method := AuthClientSecretPost
	switch {
	case basic:
		method = AuthClientSecretBasic
	case secret == "":
		method = AuthNone
	}
	if c.AuthMethod != method {
		if method == AuthNone {
			return nil, basic, ErrInvalidClient.WithDescription("client_secret missing")
		}
		return nil, basic, ErrInvalidClient.WithDescription("client is registered for " + c.AuthMethod + ", not " + method)
	}
	if method != AuthNone && !fs.on(FaultAcceptWrongSecret) && subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return nil, basic, ErrInvalidClient.WithDescription("client authentication failed")
	}
	return c, basic, nil
}

func credentials(r *http.Request) (id, secret string, basic bool, e *Error) {
	h := r.Header.Get("Authorization")
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if h != "" {
		scheme, payload, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return "", "", false, ErrInvalidClient.WithDescription("unsupported authorization scheme; use Basic or client_secret_post")
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
		if formID != "" && formID != id {
			return "", "", true, ErrInvalidClient.WithDescription("client_id differs from the authenticated client")
		}
		return id, secret, true, nil
	}
	if formID == "" {
		return "", "", false, ErrInvalidClient.WithDescription("no client authentication")
	}
	return formID, formSecret, false, nil
}
