package main

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client implements op.Client for one configured client.
type client struct {
	clientConfig
	secret string
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string { return c.id }
func (c *client) RedirectURIs() []string {
	if c.redirect == "" {
		return nil
	}
	return []string{c.redirect}
}
func (c *client) PostLogoutRedirectURIs() []string     { return nil }
func (c *client) ApplicationType() op.ApplicationType  { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod          { return c.authMethod }
func (c *client) GrantTypes() []oidc.GrantType         { return c.grants }
func (c *client) LoginURL(id string) string            { return "/login?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return c.format }
func (c *client) IDTokenLifetime() time.Duration       { return c.idTTL }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.scopes, scope) }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// DevMode lets the web clients use the plain-http loopback redirect URI
// the suites capture (http://127.0.0.1/callback); nothing is ever served
// there.
func (c *client) DevMode() bool { return true }

// user is a test user of the login form.
type user struct {
	userConfig
	password string
}

// authRequest implements op.AuthRequest: one authorization request from
// its creation until its code is redeemed.
type authRequest struct {
	id          string
	clientID    string
	redirectURI string
	scopes      []string
	state       string
	nonce       string
	responseTyp oidc.ResponseType
	responseMod oidc.ResponseMode
	challenge   *oidc.CodeChallenge
	created     time.Time

	userID   string
	authTime time.Time
	done     bool
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseTyp }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMod }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.userID }
func (a *authRequest) Done() bool                            { return a.done }

// ccRequest is the op.TokenRequest of a client credentials grant: the
// client is its own subject.
type ccRequest struct {
	clientID string
	scopes   []string
}

func (r *ccRequest) GetSubject() string    { return r.clientID }
func (r *ccRequest) GetAudience() []string { return []string{r.clientID} }
func (r *ccRequest) GetScopes() []string   { return r.scopes }

// accessToken is an issued access token (JWT or opaque alike: both carry
// its id).
type accessToken struct {
	id         string
	clientID   string
	subject    string
	audience   []string
	scopes     []string
	issued     time.Time
	expires    time.Time
	refreshTok string
}

// refreshToken is an issued refresh token; the token value is its key.
type refreshToken struct {
	token    string
	clientID string
	userID   string
	audience []string
	scopes   []string
	amr      []string
	authTime time.Time
	expires  time.Time
	access   string

	// current are the scopes of this refresh request (a subset).
	current []string
}

var _ op.RefreshTokenRequest = (*refreshToken)(nil)

func (r *refreshToken) GetAMR() []string       { return r.amr }
func (r *refreshToken) GetAudience() []string  { return r.audience }
func (r *refreshToken) GetAuthTime() time.Time { return r.authTime }
func (r *refreshToken) GetClientID() string    { return r.clientID }
func (r *refreshToken) GetSubject() string     { return r.userID }
func (r *refreshToken) GetScopes() []string {
	if r.current != nil {
		return r.current
	}
	return r.scopes
}
func (r *refreshToken) SetCurrentScopes(s []string) { r.current = s }
