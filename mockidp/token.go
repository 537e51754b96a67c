package mockidp

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// grantHandler serves one grant type at the token endpoint. The endpoint
// has authenticated the client and checked it may use the grant before
// handle is called.
type grantHandler interface {
	grantType() string
	handle(r *http.Request, cfg *config, c *Client) (*claimSet, *Error)
}

var (
	_ grantHandler = (*clientCredentials)(nil)
	_ grantHandler = (*authorizationCode)(nil)
	_ grantHandler = (*refreshToken)(nil)
)

// maxFormBytes bounds a request body.
const maxFormBytes = 64 << 10

// parseForm reads an application/x-www-form-urlencoded body and refuses
// repeated parameters (RFC 6749 §3.2).
func parseForm(w http.ResponseWriter, r *http.Request) *Error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if ct := r.Header.Get("Content-Type"); r.Method == http.MethodPost && r.ContentLength != 0 && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return ErrInvalidRequest.WithDescription("content type must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return ErrInvalidRequest.WithDescription("body is not a valid form")
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return ErrInvalidRequest.WithDescription("parameter " + k + " repeated")
		}
	}
	return nil
}

// handleToken is the token endpoint (RFC 6749 §3.2).
func (m *IdP) handleToken(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	var drop []string
	if cfg.faults.on(FaultNoCacheControl) {
		drop = append(drop, "Cache-Control")
	}
	if cfg.faults.on(FaultNoPragma) {
		drop = append(drop, "Pragma")
	}
	if drop != nil {
		w = &headerDropper{ResponseWriter: w, drop: drop}
	}
	if e := parseForm(w, r); e != nil {
		writeError(w, cfg.faults, e, false)
		return
	}
	var client *Client
	var basic bool
	if cfg.faults.on(FaultAcceptNoAuth) && carriesNoClientAuth(r) {
		client = m.firstClientCredentialsClient()
	}
	if client == nil {
		var e *Error
		if client, basic, e = m.authenticate(r, cfg.faults); e != nil {
			writeError(w, cfg.faults, e, basic)
			return
		}
	}
	gt := r.PostForm.Get("grant_type")
	if gt == "" {
		writeError(w, cfg.faults, ErrInvalidRequest.WithDescription("grant_type missing"), basic)
		return
	}
	h, ok := m.grants[gt]
	if !ok && cfg.faults.on(FaultUnknownGrant) {
		gt = GrantClientCredentials
		h, ok = m.grants[gt]
	}
	if !ok {
		writeError(w, cfg.faults, ErrUnsupportedGrantType.WithDescription("grant type "+gt+" is not supported"), basic)
		return
	}
	if !client.allowsGrant(gt) {
		writeError(w, cfg.faults, ErrUnauthorizedClient.WithDescription("client may not use "+gt), basic)
		return
	}
	body, e := h.handle(r, cfg, client)
	if e != nil {
		writeError(w, cfg.faults, e, basic)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// carriesNoClientAuth reports whether a token request names no client in
// any way the endpoint reads: no Authorization header, no client_id, no
// client assertion.
func carriesNoClientAuth(r *http.Request) bool {
	return r.Header.Get("Authorization") == "" && !r.PostForm.Has("client_id") &&
		!r.PostForm.Has("client_assertion") && !r.PostForm.Has("client_assertion_type")
}

// firstClientCredentialsClient is the client the accept-no-client-auth fault
// lets an anonymous request pass as: the lowest client_id allowed the grant,
// so the same request always gets the same client.
func (m *IdP) firstClientCredentialsClient() *Client {
	var first *Client
	for id, c := range m.clients {
		if c.allowsGrant(GrantClientCredentials) && (first == nil || id < first.ID) {
			first = c
		}
	}
	return first
}

// tokenResponse builds a successful token response (RFC 6749 §5.1), bent by
// the response faults.
func tokenResponse(cfg *config, accessToken string, expiresIn int64, scopes []string) *claimSet {
	b := newClaims()
	b.set("access_token", accessToken)
	tt := "Bearer"
	if f, ok := cfg.faults.get(FaultTokenType); ok {
		tt = f.p.text
	}
	b.set("token_type", tt)
	switch {
	case cfg.faults.on(FaultNoExpiresIn):
	case cfg.faults.on(FaultExpiresInString):
		b.set("expires_in", strconv.FormatInt(expiresIn, 10))
	default:
		b.set("expires_in", expiresIn)
	}
	if len(scopes) > 0 {
		b.set("scope", strings.Join(scopes, " "))
	}
	return b
}

// grantScopes checks requested against allowed. With nothing requested the
// client gets all it is allowed (RFC 6749 §3.3 lets the server pick a
// default). A custom scope registered as prefix:name:suffix may be requested
// as prefix:name (seed 004) and is granted as requested.
func grantScopes(requested string, allowed []string) ([]string, *Error) {
	if strings.TrimSpace(requested) == "" {
		return slices.Clone(allowed), nil
	}
	var out []string
	for _, s := range strings.Fields(requested) {
		if !scopeAllowed(s, allowed) {
			return nil, ErrInvalidScope.WithDescription("scope " + s + " is not allowed for this client")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func scopeAllowed(s string, allowed []string) bool {
	if slices.Contains(allowed, s) {
		return true
	}
	if strings.Count(s, ":") != 1 {
		return false
	}
	return slices.ContainsFunc(allowed, func(a string) bool { return strings.Count(a, ":") == 2 && scopeBase(a) == s })
}

// widen adds the scope the scope-widened faults grant beyond the request.
func widen(scopes []string) []string {
	if slices.Contains(scopes, widenedScope) {
		return scopes
	}
	return append(slices.Clone(scopes), widenedScope)
}

const widenedScope = "admin"

// clientCredentials is RFC 6749 §4.4.
type clientCredentials struct{ m *IdP }

func (clientCredentials) grantType() string { return GrantClientCredentials }

func (g *clientCredentials) handle(r *http.Request, cfg *config, c *Client) (*claimSet, *Error) {
	scopes, e := grantScopes(r.PostForm.Get("scope"), c.Scopes)
	if e != nil {
		return nil, e
	}
	if cfg.faults.on(FaultScopeWidened) {
		scopes = widen(scopes)
	}
	tok, ttl, e := g.m.issueAccessToken(cfg, c, nil, g.m.profile.v.clientSubject(c), scopes, nil)
	if e != nil {
		return nil, e
	}
	resp := tokenResponse(cfg, tok, int64(ttl.Seconds()), scopes)
	// RFC 6749 §4.4.3: a refresh token should not be included.
	if cfg.faults.on(FaultCCRefreshToken) {
		resp.set("refresh_token", g.m.newOpaque(cfg))
	}
	return resp, nil
}
