package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Introspection is an RFC 7662 response. Active is nil when the member is
// absent or not a boolean; Fields holds every member.
type Introspection struct {
	*Response
	Fields map[string]any
	Active *bool
	// Error is set for an OAuth error body (e.g. invalid_client).
	Error *ErrorResponse
}

// Introspect asks about a token (RFC 7662 §2.1). hint may be empty.
func (c *Client) Introspect(ctx context.Context, endpoint string, cred Credentials, token, hint string) (*Introspection, error) {
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	header := http.Header{}
	sender, err := c.authenticate(cred, endpoint, form, header)
	if err != nil {
		return nil, fmt.Errorf("introspect at %s: %w", endpoint, err)
	}
	resp, err := sender.PostForm(ctx, "introspection", endpoint, form, header)
	if err != nil {
		return nil, fmt.Errorf("introspect at %s: %w", endpoint, err)
	}
	in := &Introspection{Response: resp}
	var m map[string]any
	if json.Unmarshal(resp.Body, &m) == nil {
		in.Fields = m
		if a, ok := m["active"].(bool); ok {
			in.Active = &a
		}
		if code, ok := m["error"].(string); ok {
			desc, _ := m["error_description"].(string)
			in.Error = &ErrorResponse{Code: code, Description: desc}
		}
	}
	return in, nil
}

// Revoke revokes a token (RFC 7009 §2.1). hint may be empty.
func (c *Client) Revoke(ctx context.Context, endpoint string, cred Credentials, token, hint string) (*TokenResponse, error) {
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	header := http.Header{}
	sender, err := c.authenticate(cred, endpoint, form, header)
	if err != nil {
		return nil, fmt.Errorf("revoke at %s: %w", endpoint, err)
	}
	resp, err := sender.PostForm(ctx, "revocation", endpoint, form, header)
	if err != nil {
		return nil, fmt.Errorf("revoke at %s: %w", endpoint, err)
	}
	return ParseTokenResponse(resp), nil
}

// Userinfo calls the UserInfo endpoint with a bearer token (OIDC Core
// §5.3.1, RFC 6750 §2.1).
func (c *Client) Userinfo(ctx context.Context, endpoint, accessToken string) (*Response, map[string]any, error) {
	req, err := http.NewRequest(http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("userinfo: bad URL %q: %w", endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(ctx, "userinfo", req)
	if err != nil {
		return nil, nil, fmt.Errorf("userinfo at %s: %w", endpoint, err)
	}
	var m map[string]any
	_ = json.Unmarshal(resp.Body, &m)
	return resp, m, nil
}

// Bearer sends a GET with a bearer token to any protected resource.
func (c *Client) Bearer(ctx context.Context, name, endpoint, accessToken string) (*Response, error) {
	req, err := http.NewRequest(http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: bad URL %q: %w", name, endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return c.Do(ctx, name, req)
}
