package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Metadata is an OpenID Provider / OAuth 2.0 authorization server metadata
// document (OIDC Discovery 1.0 §3, RFC 8414 §2). Raw keeps every member as
// sent, for checks of members this struct does not name.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`

	Raw map[string]any `json:"-"`
}

// WellKnownPath is where OIDC Discovery puts the metadata (§4).
const WellKnownPath = "/.well-known/openid-configuration"

// DiscoveryURL returns the metadata URL of an issuer.
func DiscoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + WellKnownPath
}

// Discover fetches and decodes the issuer's metadata. A non-200 status or a
// body that is not a JSON object is an error; whether the members are right is
// for the suites to judge.
func (c *Client) Discover(ctx context.Context, issuer string) (*Metadata, *Response, error) {
	u := DiscoveryURL(issuer)
	resp, err := c.Get(ctx, "discovery", u, "application/json")
	if err != nil {
		return nil, nil, fmt.Errorf("discovery: %w", err)
	}
	if resp.Status != http.StatusOK {
		return nil, resp, fmt.Errorf("discovery %s: expected status 200, got %d%s", u, resp.Status, redirectNote(u, resp))
	}
	md, err := ParseMetadata(resp.Body)
	if err != nil {
		return nil, resp, fmt.Errorf("discovery %s: %w", u, err)
	}
	return md, resp, nil
}

// ParseMetadata decodes a metadata document. Members of the wrong JSON type
// are an error naming the member.
func ParseMetadata(body []byte) (*Metadata, error) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("metadata is not a JSON object: %w", err)
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		var te *json.UnmarshalTypeError
		if ok := asTypeError(err, &te); ok {
			return nil, fmt.Errorf("metadata member %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return nil, fmt.Errorf("metadata: %w", err)
	}
	md.Raw = raw
	return &md, nil
}

// FetchJWKS fetches a JWK Set document and returns its body when the status
// is 200. Parsing is the verifier's job.
func (c *Client) FetchJWKS(ctx context.Context, jwksURL string) ([]byte, error) {
	resp, err := c.Get(ctx, "jwks", jwksURL, "application/json")
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("jwks %s: expected status 200, got %d%s", jwksURL, resp.Status, redirectNote(jwksURL, resp))
	}
	return resp.Body, nil
}

// redirectNote says where a 3xx answer pointed, without its query (which can
// carry codes). The client follows no redirect from an IdP endpoint: the
// documents must be served at their own URL, and a loop must not trap a run.
func redirectNote(requested string, resp *Response) string {
	if resp.Status < 300 || resp.Status > 399 {
		return ""
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return " (a redirect without a Location header)"
	}
	if base, err := url.Parse(requested); err == nil {
		if u, err := base.Parse(loc); err == nil {
			loc = redactURL(u)
		}
	}
	return fmt.Sprintf(" (a redirect to %s, not followed)", loc)
}
