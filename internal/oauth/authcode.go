package oauth

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// AuthRequest is an authorization request (RFC 6749 §4.1.1, OIDC Core
// §3.1.2.1, RFC 7636 §4.3).
type AuthRequest struct {
	Endpoint    string
	ClientID    string
	RedirectURI string
	Scopes      []string
	State       string
	Nonce       string
	PKCE        *PKCE
	// Extra adds parameters (prompt, login_hint, ...).
	Extra url.Values
}

// URL builds the authorization URL.
func (a AuthRequest) URL() (string, error) {
	u, err := url.Parse(a.Endpoint)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("authorization endpoint %q is not an absolute URL", a.Endpoint)
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", a.ClientID)
	if a.RedirectURI != "" {
		q.Set("redirect_uri", a.RedirectURI)
	}
	if len(a.Scopes) > 0 {
		q.Set("scope", strings.Join(a.Scopes, " "))
	}
	if a.State != "" {
		q.Set("state", a.State)
	}
	if a.Nonce != "" {
		q.Set("nonce", a.Nonce)
	}
	if a.PKCE != nil {
		q.Set("code_challenge", a.PKCE.Challenge)
		q.Set("code_challenge_method", a.PKCE.Method)
	}
	for k, vs := range a.Extra {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Callback is what came back to the redirect URI.
type Callback struct {
	Code  string
	State string
	// Error is set when the IdP redirected with an error (RFC 6749 §4.1.2.1).
	Error *ErrorResponse
	// Issuer is the iss parameter (RFC 9207), when sent.
	Issuer string
	// Params holds every query parameter.
	Params url.Values
}

// ParseCallback reads a redirect to the redirect URI. The code is registered
// as a secret before anything can print it.
func (c *Client) ParseCallback(location string) (*Callback, error) {
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("callback URL does not parse: %w", err)
	}
	q := u.Query()
	if code := q.Get("code"); code != "" && c.secrets != nil {
		c.secrets.Add(code)
	}
	cb := &Callback{Code: q.Get("code"), State: q.Get("state"), Issuer: q.Get("iss"), Params: q}
	if e := q.Get("error"); e != "" {
		cb.Error = &ErrorResponse{Code: e, Description: q.Get("error_description"), URI: q.Get("error_uri")}
	}
	return cb, nil
}

// ExchangeCode redeems an authorization code (RFC 6749 §4.1.3, RFC 7636
// §4.5). verifier may be empty (no PKCE).
func (c *Client) ExchangeCode(ctx context.Context, endpoint string, cred Credentials, code, redirectURI, verifier string) (*TokenResponse, error) {
	params := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	if redirectURI != "" {
		params.Set("redirect_uri", redirectURI)
	}
	if verifier != "" {
		params.Set("code_verifier", verifier)
	}
	return c.Token(ctx, "token authorization_code", endpoint, cred, params)
}

// Refresh uses a refresh token (RFC 6749 §6). scopes may be nil (the
// original scope).
func (c *Client) Refresh(ctx context.Context, endpoint string, cred Credentials, refreshToken string, scopes []string) (*TokenResponse, error) {
	params := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if len(scopes) > 0 {
		params.Set("scope", strings.Join(scopes, " "))
	}
	return c.Token(ctx, "token refresh_token", endpoint, cred, params)
}
