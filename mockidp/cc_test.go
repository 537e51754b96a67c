package mockidp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/mockidp"
)

func TestClientCredentialsJWT(t *testing.T) {
	h := start(t, mockidp.Options{})
	r := h.cc(ccBasic, "api:read")
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := r.header.Get("Pragma"); got != "no-cache" {
		t.Errorf("Pragma %q", got)
	}
	if r.str("token_type") != "Bearer" || r.json["expires_in"] != float64(3600) || r.str("scope") != "api:read" {
		t.Errorf("response members: %s", r.body)
	}
	if _, ok := r.json["refresh_token"]; ok {
		t.Error("client credentials response carries a refresh token (RFC 6749 §4.4.3)")
	}
	j := h.mustVerify(r.str("access_token"))
	if j.header["typ"] != "at+jwt" {
		t.Errorf("typ %v", j.header["typ"])
	}
	c := j.claims
	if c["iss"] != h.srv.URL || c["sub"] != mockidp.ClientCC || c["aud"] != mockidp.ClientCC || c["client_id"] != mockidp.ClientCC || c["scope"] != "api:read" {
		t.Errorf("claims: %v", c)
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 3600 {
		t.Errorf("exp - iat = %v, want 3600 (the default lifetime)", exp-iat)
	}
	if jti, _ := c["jti"].(string); len(jti) < 16 {
		t.Errorf("jti %q", jti)
	}
	// The twin: a token with one byte changed does not verify, so the check
	// above can fail.
	tok := r.str("access_token")
	if _, err := h.verify(tok[:len(tok)-2] + flip(tok[len(tok)-2:])); err == nil {
		t.Error("a corrupted token verified")
	}
}

func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestClientCredentialsOpaque(t *testing.T) {
	h := start(t, mockidp.Options{})
	r := h.cc(ccPost, "")
	tok := r.str("access_token")
	if strings.Contains(tok, ".") || len(tok) != 43 {
		t.Errorf("opaque token %q: want 43 base64url characters", tok)
	}
	in := h.introspect(tok)
	if in.json["active"] != true || in.str("client_id") != mockidp.ClientCCPost || in.str("scope") != "api:read" {
		t.Errorf("introspection: %s", in.body)
	}
	if in := h.introspect(tok + "x"); in.json["active"] != false || len(in.json) != 1 {
		t.Errorf("unknown token: %s", in.body)
	}
}

func TestClientCredentialsScopes(t *testing.T) {
	h := start(t, mockidp.Options{})
	cases := []struct {
		ask, granted, err string
	}{
		{"", "api:read api:write ad:user_custom:read", ""},
		{"api:read", "api:read", ""},
		{"api:write api:read api:write", "api:write api:read", ""},
		// Next Identity: the suffix of a custom scope is optional in the
		// request (seed 004).
		{"ad:user_custom", "ad:user_custom", ""},
		{"ad:user_custom:read", "ad:user_custom:read", ""},
		{"ad:user_custom:write", "", "invalid_scope"},
		{"ad:other", "", "invalid_scope"},
		{"admin", "", "invalid_scope"},
	}
	for _, c := range cases {
		form := url.Values{"grant_type": {"client_credentials"}}
		if c.ask != "" {
			form.Set("scope", c.ask)
		}
		r := h.post(mockidp.PathToken, ccBasic, form)
		if c.err != "" {
			if r.status != http.StatusBadRequest || r.str("error") != c.err {
				t.Errorf("scope %q: HTTP %d %s, want 400 %s", c.ask, r.status, r.body, c.err)
			}
			continue
		}
		if r.status != http.StatusOK || r.str("scope") != c.granted {
			t.Errorf("scope %q: HTTP %d scope %q, want %q", c.ask, r.status, r.str("scope"), c.granted)
		}
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	h := start(t, mockidp.Options{})
	cc := url.Values{"grant_type": {"client_credentials"}}
	cases := []struct {
		name   string
		cr     creds
		form   url.Values
		status int
		code   string
	}{
		{"no client authentication", creds{}, cc, 401, "invalid_client"},
		{"wrong secret basic", creds{mockidp.ClientCC, "wrong", "basic"}, cc, 401, "invalid_client"},
		{"wrong secret post", creds{mockidp.ClientCCPost, "wrong", "post"}, cc, 401, "invalid_client"},
		{"unknown client", creds{"nobody", "x", "basic"}, cc, 401, "invalid_client"},
		{"registered method not used", creds{mockidp.ClientCCPost, mockidp.ClientCCPostSecret, "basic"}, cc, 401, "invalid_client"},
		{"confidential client without secret", creds{mockidp.ClientCC, "", "none"}, cc, 401, "invalid_client"},
		{"missing grant_type", ccBasic, url.Values{}, 400, "invalid_request"},
		{"unsupported grant", ccBasic, url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		{"grant not registered", code, cc, 400, "unauthorized_client"},
		{"repeated parameter", ccBasic, url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read", "api:write"}}, 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range c.form {
				form[k] = v
			}
			r := h.post(mockidp.PathToken, c.cr, form)
			if r.status != c.status || r.str("error") != c.code {
				t.Errorf("HTTP %d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Error("error response without Cache-Control: no-store")
			}
			if c.status == 401 && c.cr.method == "basic" && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 to a Basic client without WWW-Authenticate: %v", r.header)
			}
		})
	}
	t.Run("both authentication methods", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_secret": {mockidp.ClientCCSecret}}
		if r := h.post(mockidp.PathToken, ccBasic, form); r.status != 400 || r.str("error") != "invalid_request" {
			t.Errorf("HTTP %d %s", r.status, r.body)
		}
	})
	t.Run("content type", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+mockidp.PathToken, strings.NewReader(`{"grant_type":"client_credentials"}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(mockidp.ClientCC, mockidp.ClientCCSecret)
		if r := h.do(req); r.status != 400 || r.str("error") != "invalid_request" {
			t.Errorf("HTTP %d %s", r.status, r.body)
		}
	})
	t.Run("GET is not allowed", func(t *testing.T) {
		if r := h.get(mockidp.PathToken, nil); r.status != http.StatusMethodNotAllowed {
			t.Errorf("HTTP %d", r.status)
		}
	})
	// The twin of every case above: the same client with the right secret
	// gets a token.
	h.cc(ccBasic, "")
	h.cc(ccPost, "")
}

func TestPerClientLifetime(t *testing.T) {
	h := start(t, mockidp.Options{Clients: []mockidp.Client{
		{ID: "one-second", Secret: "s", Grants: []string{"client_credentials"}, AccessTokenTTL: time.Second},
		{ID: "default", Secret: "s", Grants: []string{"client_credentials"}},
		{ID: "opaque", Secret: "s", Grants: []string{"client_credentials"}, AccessTokenFormat: "opaque", AccessTokenTTL: 2 * time.Second},
	}})
	h.as = creds{"default", "s", "basic"}
	one := h.cc(creds{"one-second", "s", "basic"}, "")
	def := h.cc(creds{"default", "s", "basic"}, "")
	op := h.cc(creds{"opaque", "s", "basic"}, "")
	if one.json["expires_in"] != float64(1) || def.json["expires_in"] != float64(3600) || op.json["expires_in"] != float64(2) {
		t.Fatalf("expires_in: %v %v %v", one.json["expires_in"], def.json["expires_in"], op.json["expires_in"])
	}
	c := h.mustVerify(one.str("access_token")).claims
	if c["exp"].(float64)-c["iat"].(float64) != 1 {
		t.Errorf("exp - iat: %v", c)
	}
	for _, tok := range []string{one.str("access_token"), op.str("access_token")} {
		if in := h.introspect(tok); in.json["active"] != true {
			t.Errorf("fresh token inactive: %s", in.body)
		}
	}
	h.srv.AdvanceClock(3 * time.Second)
	for _, tok := range []string{one.str("access_token"), op.str("access_token")} {
		if in := h.introspect(tok); in.json["active"] != false {
			t.Errorf("expired token active: %s", in.body)
		}
	}
	if in := h.introspect(def.str("access_token")); in.json["active"] != true {
		t.Errorf("a one-hour token expired after three seconds: %s", in.body)
	}
}

func TestBadRegistrationsRefused(t *testing.T) {
	cases := map[string]mockidp.Client{
		"sub-second lifetime":    {ID: "c", Secret: "s", AccessTokenTTL: 1500 * time.Millisecond},
		"no secret":              {ID: "c"},
		"public with a secret":   {ID: "c", Secret: "s", AuthMethod: "none"},
		"public client creds":    {ID: "c", AuthMethod: "none", Grants: []string{"client_credentials"}},
		"code without redirect":  {ID: "c", Secret: "s", Grants: []string{"authorization_code"}},
		"unknown grant":          {ID: "c", Secret: "s", Grants: []string{"password"}},
		"unknown format":         {ID: "c", Secret: "s", AccessTokenFormat: "paseto"},
		"redirect with fragment": {ID: "c", Secret: "s", Grants: []string{"authorization_code"}, RedirectURIs: []string{"http://127.0.0.1/cb#x"}},
		"unknown refresh policy": {ID: "c", Secret: "s", Refresh: "sometimes"},
		"unknown auth method":    {ID: "c", Secret: "s", AuthMethod: "private_key_jwt"},
	}
	for name, c := range cases {
		if _, err := mockidp.New(mockidp.Options{Issuer: "http://127.0.0.1:1", SigningKey: rsaKey(), Clients: []mockidp.Client{c}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := mockidp.Client{ID: "c", Secret: "s", AccessTokenTTL: time.Second}
	if _, err := mockidp.New(mockidp.Options{Issuer: "http://127.0.0.1:1", SigningKey: rsaKey(), Clients: []mockidp.Client{ok}}); err != nil {
		t.Errorf("a good registration refused: %v", err)
	}
}
