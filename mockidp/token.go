package mockidp

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// grantHandler serves one grant type at the token endpoint.
type grantHandler interface {
	grantType() string
	handle(r *http.Request, c *Client) (map[string]any, *Error)
}

// maxFormBytes bounds a token request body.
const maxFormBytes = 64 << 10

func (m *IdP) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeError(w, ErrInvalidRequest.WithDescription("body is not a valid form"), false)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		writeError(w, ErrInvalidRequest.WithDescription("content type must be application/x-www-form-urlencoded"), false)
		return
	}
	// RFC 6749 §3.2: parameters sent without a value are treated as omitted;
	// repeated parameters are an error.
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			writeError(w, ErrInvalidRequest.WithDescription("parameter "+k+" repeated"), false)
			return
		}
	}
	client, basic, e := m.authenticate(r)
	if e != nil {
		writeError(w, e, basic)
		return
	}
	gt := r.PostForm.Get("grant_type")
	if gt == "" {
		writeError(w, ErrInvalidRequest.WithDescription("grant_type missing"), basic)
		return
	}
	h, ok := m.grants[gt]
	if !ok {
		writeError(w, ErrUnsupportedGrantType.WithDescription("grant type "+gt+" is not supported"), basic)
		return
	}
	if !client.allowsGrant(gt) {
		writeError(w, ErrUnauthorizedClient.WithDescription("client may not use "+gt), basic)
		return
	}
	body, e := h.handle(r, client)
	if e != nil {
		writeError(w, e, basic)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// grantScopes checks requested against allowed. With nothing requested the
// client gets all it is allowed (RFC 6749 §3.3 lets the server pick a default).
func grantScopes(requested string, allowed []string) ([]string, *Error) {
	if strings.TrimSpace(requested) == "" {
		return slices.Clone(allowed), nil
	}
	var out []string
	for _, s := range strings.Fields(requested) {
		if !slices.Contains(allowed, s) {
			return nil, ErrInvalidScope.WithDescription("scope " + s + " is not allowed for this client")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// clientCredentials is RFC 6749 §4.4.
type clientCredentials struct{ m *IdP }

func (clientCredentials) grantType() string { return "client_credentials" }

func (g *clientCredentials) handle(r *http.Request, c *Client) (map[string]any, *Error) {
	scopes, e := grantScopes(r.PostForm.Get("scope"), c.Scopes)
	if e != nil {
		return nil, e
	}
	tok, ttl, e := g.m.issueAccessToken(c, c.ID, scopes)
	if e != nil {
		return nil, e
	}
	// RFC 6749 §4.4.3: a refresh token should not be included.
	resp := map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int64(ttl / time.Second),
	}
	if len(scopes) > 0 {
		resp["scope"] = strings.Join(scopes, " ")
	}
	return resp, nil
}

// issueAccessToken makes an access token for client c acting for subject,
// a JWT (RFC 9068) or an opaque string as the client is registered.
func (m *IdP) issueAccessToken(c *Client, subject string, scopes []string) (string, time.Duration, *Error) {
	now := m.now()
	ttl := c.ttl()
	rec := &issued{Kind: "access_token", ClientID: c.ID, Subject: subject, Scope: strings.Join(scopes, " "), IssuedAt: now, Expires: now.Add(ttl)}
	if c.AccessTokenFormat == "opaque" {
		tok := randomString(32)
		m.store.put(tok, rec)
		return tok, ttl, nil
	}
	aud := c.Audience
	if aud == "" {
		aud = c.ID
	}
	claims := map[string]any{
		"iss":       m.issuer,
		"sub":       subject,
		"client_id": c.ID,
		"iat":       now.Unix(),
		"exp":       now.Add(ttl).Unix(),
		"jti":       m.store.newJTI(),
	}
	if m.profile.AudienceArray {
		claims["aud"] = []string{aud}
	} else {
		claims["aud"] = aud
	}
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	tok, err := m.signClaims(claims, "at+jwt", "")
	if err != nil {
		return "", 0, ErrServerError.WithDescription("signing failed")
	}
	m.store.put(tok, rec)
	return tok, ttl, nil
}

func (m *IdP) signClaims(claims map[string]any, typ, cty string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	tok, err := m.keys.sign(payload, typ, cty)
	if err != nil {
		m.log.Error("sign", "err", err)
		return "", errors.New("sign failed")
	}
	return tok, nil
}

func sortStrings(s []string) { sort.Strings(s) }

func writeJSONCacheable(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}
