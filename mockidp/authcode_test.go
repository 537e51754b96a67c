package mockidp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/mockidp"
)

func TestAuthorizationCodeFlowWithLoginForm(t *testing.T) {
	h := start(t, mockidp.Options{})
	b := h.browser()
	verifier, challenge := pkce()
	authz := h.authorizeURL(mockidp.ClientCode, url.Values{"state": {"state-123"}, "nonce": {"nonce-456"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}})

	// The authorization endpoint sends the browser to the login form.
	r := b.fetch(http.MethodGet, authz, nil)
	if r.status != http.StatusFound || !strings.Contains(r.header.Get("Location"), mockidp.PathLogin) {
		t.Fatalf("authorize: HTTP %d Location %q", r.status, r.header.Get("Location"))
	}
	page := b.fetch(http.MethodGet, r.header.Get("Location"), nil)
	login := findForm(t, page.body, "login")
	if _, ok := login.fields["username"]; !ok || login.method != http.MethodPost {
		t.Fatalf("login form: %+v", login)
	}
	if page.header.Get("Cache-Control") != "no-store" || page.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("login page headers: %v", page.header)
	}

	// The failing twin: a wrong password gets the form again with an error.
	login.fields.Set("username", mockidp.UserAlice)
	login.fields.Set("password", "not-the-password")
	bad := b.fetch(http.MethodPost, login.action, login.fields)
	if bad.status != http.StatusUnauthorized || !strings.Contains(string(bad.body), "Invalid username or password") {
		t.Fatalf("wrong password: HTTP %d\n%s", bad.status, bad.body)
	}
	findForm(t, bad.body, "login")

	login.fields.Set("password", mockidp.UserAlicePassword)
	ok := b.fetch(http.MethodPost, login.action, login.fields)
	loc, err := url.Parse(ok.header.Get("Location"))
	if ok.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), mockidp.DefaultRedirectURI) {
		t.Fatalf("login: HTTP %d Location %q", ok.status, ok.header.Get("Location"))
	}
	q := loc.Query()
	if q.Get("state") != "state-123" || q.Get("iss") != h.srv.URL || q.Get("code") == "" {
		t.Fatalf("redirect query: %v", q)
	}

	res := h.post(mockidp.PathToken, code, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {mockidp.DefaultRedirectURI}, "code_verifier": {verifier}})
	if res.status != http.StatusOK {
		t.Fatalf("exchange: HTTP %d %s", res.status, res.body)
	}
	tk := tokensOf(res)
	if tk.access == "" || tk.refresh == "" || tk.id == "" || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token response: %s", res.body)
	}
	id := h.mustVerify(tk.id).claims
	for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "email", "name"} {
		if _, ok := id[k]; !ok {
			t.Errorf("ID token lacks %s: %v", k, id)
		}
	}
	if id["iss"] != h.srv.URL || id["aud"] != mockidp.ClientCode || id["nonce"] != "nonce-456" || id["email"] != "alice@example.com" {
		t.Errorf("ID token claims: %v", id)
	}
	if _, ok := id["azp"]; ok {
		t.Error("azp with a single audience")
	}
	sum := sha256.Sum256([]byte(tk.access))
	if want := base64.RawURLEncoding.EncodeToString(sum[:16]); id["at_hash"] != want {
		t.Errorf("at_hash %v, want %s", id["at_hash"], want)
	}
	at := h.mustVerify(tk.access).claims
	if at["sub"] != id["sub"] || at["client_id"] != mockidp.ClientCode {
		t.Errorf("access token: %v", at)
	}
}

func TestPKCE(t *testing.T) {
	h := start(t, mockidp.Options{})
	plainVerifier := strings.Repeat("p", 43)
	exchange := func(challenge, method string, verifier *string) *resp {
		t.Helper()
		params := url.Values{"code_challenge": {challenge}, "code_challenge_method": {method}}
		if challenge == "" {
			params = url.Values{"code_challenge": {""}}
		}
		if method == "" {
			params.Del("code_challenge_method")
		}
		q := h.browser().login(h.authorizeURL(mockidp.ClientCode, params), mockidp.UserAlice, mockidp.UserAlicePassword)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {mockidp.DefaultRedirectURI}}
		if verifier != nil {
			form.Set("code_verifier", *verifier)
		}
		return h.post(mockidp.PathToken, code, form)
	}
	v, c := pkce()
	wrong, _ := pkce()
	short := "abc"
	cases := []struct {
		name              string
		challenge, method string
		verifier          *string
		status            int
		err               string
	}{
		{"S256", c, "S256", &v, 200, ""},
		{"plain", plainVerifier, "plain", &plainVerifier, 200, ""},
		{"plain by default", plainVerifier, "", &plainVerifier, 200, ""},
		{"no PKCE at all", "", "", nil, 200, ""},
		{"S256 wrong verifier", c, "S256", &wrong, 400, "invalid_grant"},
		{"S256 verifier sent as plain", c, "S256", &c, 400, "invalid_grant"},
		{"S256 missing verifier", c, "S256", nil, 400, "invalid_grant"},
		{"malformed verifier", c, "S256", &short, 400, "invalid_request"},
		{"verifier without challenge", "", "", &v, 400, "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := exchange(tc.challenge, tc.method, tc.verifier)
			if r.status != tc.status || r.str("error") != tc.err {
				t.Errorf("HTTP %d %s, want %d %q", r.status, r.body, tc.status, tc.err)
			}
		})
	}
}

func TestCodeIsSingleUseAndReplayRevokes(t *testing.T) {
	h := start(t, mockidp.Options{})
	q := h.browser().login(h.authorizeURL(mockidp.ClientCode, nil), mockidp.UserAlice, mockidp.UserAlicePassword)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {mockidp.DefaultRedirectURI}}
	first := h.post(mockidp.PathToken, code, form)
	if first.status != 200 {
		t.Fatalf("first use: HTTP %d %s", first.status, first.body)
	}
	tk := tokensOf(first)
	if in := h.introspect(tk.access); in.json["active"] != true {
		t.Fatalf("fresh access token inactive: %s", in.body)
	}
	second := h.post(mockidp.PathToken, code, form)
	if second.status != 400 || second.str("error") != "invalid_grant" {
		t.Errorf("second use: HTTP %d %s", second.status, second.body)
	}
	// RFC 6749 §4.1.2: the tokens the code bought are revoked.
	if in := h.introspect(tk.access); in.json["active"] != false {
		t.Errorf("access token of a replayed code still active: %s", in.body)
	}
	if r := h.refresh(code, tk.refresh); r.status != 400 {
		t.Errorf("refresh token of a replayed code still works: HTTP %d", r.status)
	}
}

func TestCodeBindings(t *testing.T) {
	h := start(t, mockidp.Options{})
	other := creds{mockidp.ClientRefreshRotate, mockidp.ClientRefreshRotateSecret, "basic"}
	cases := []struct {
		name   string
		cr     creds
		edit   func(url.Values)
		status int
	}{
		{"right client and redirect_uri", code, func(url.Values) {}, 200},
		{"another client", other, func(url.Values) {}, 400},
		{"another redirect_uri", code, func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:8080/callback") }, 400},
		{"redirect_uri left out", code, func(f url.Values) { f.Del("redirect_uri") }, 400},
		{"unknown code", code, func(f url.Values) { f.Set("code", "nope") }, 400},
		{"code missing", code, func(f url.Values) { f.Del("code") }, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := h.browser().login(h.authorizeURL(mockidp.ClientCode, nil), mockidp.UserAlice, mockidp.UserAlicePassword)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {mockidp.DefaultRedirectURI}}
			c.edit(form)
			r := h.post(mockidp.PathToken, c.cr, form)
			if r.status != c.status {
				t.Errorf("HTTP %d %s, want %d", r.status, r.body, c.status)
			}
			if c.status == 400 && r.str("error") != "invalid_grant" && r.str("error") != "invalid_request" {
				t.Errorf("error %q", r.str("error"))
			}
		})
	}
	t.Run("expired code", func(t *testing.T) {
		q := h.browser().login(h.authorizeURL(mockidp.ClientCode, nil), mockidp.UserAlice, mockidp.UserAlicePassword)
		h.srv.AdvanceClock(mockidp.CodeTTL + time.Second)
		defer h.srv.SetClockOffset(0)
		r := h.post(mockidp.PathToken, code, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {mockidp.DefaultRedirectURI}})
		if r.status != 400 || r.str("error") != "invalid_grant" {
			t.Errorf("HTTP %d %s", r.status, r.body)
		}
	})
}

func TestAuthorizationErrors(t *testing.T) {
	h := start(t, mockidp.Options{})
	cases := []struct {
		name   string
		client string
		params url.Values
		// page: answered with an error page (no redirect); else the
		// error code in the redirect.
		page bool
		err  string
	}{
		{"unknown client", "nobody", nil, true, ""},
		{"unregistered redirect_uri", mockidp.ClientCode, url.Values{"redirect_uri": {"https://evil.example/cb"}}, true, ""},
		{"missing response_type", mockidp.ClientCode, url.Values{"response_type": {""}}, false, "invalid_request"},
		{"implicit flow", mockidp.ClientCode, url.Values{"response_type": {"token"}}, false, "unsupported_response_type"},
		{"scope not allowed", mockidp.ClientCode, url.Values{"scope": {"openid admin"}}, false, "invalid_scope"},
		{"unknown PKCE method", mockidp.ClientCode, url.Values{"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S512"}}, false, "invalid_request"},
		{"short challenge", mockidp.ClientCode, url.Values{"code_challenge": {"abc"}}, false, "invalid_request"},
		{"public client without PKCE", mockidp.ClientPublic, nil, false, "invalid_request"},
		{"client without redirect URIs", mockidp.ClientCC, url.Values{"redirect_uri": {""}}, true, ""},
		{"prompt none without session", mockidp.ClientCode, url.Values{"prompt": {"none"}}, false, "login_required"},
		{"prompt none with others", mockidp.ClientCode, url.Values{"prompt": {"none login"}}, false, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := h.browser()
			r := b.fetch(http.MethodGet, h.authorizeURL(c.client, withState(c.params)), nil)
			if c.page {
				if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
					t.Errorf("HTTP %d Location %q, want an error page", r.status, r.header.Get("Location"))
				}
				return
			}
			loc, _ := url.Parse(r.header.Get("Location"))
			if r.status != http.StatusFound || loc == nil || loc.Query().Get("error") != c.err || loc.Query().Get("state") != "keep-me" {
				t.Errorf("HTTP %d Location %q, want error %s with state", r.status, r.header.Get("Location"), c.err)
			}
		})
	}
	// The twin: a good request goes on to the login form.
	r := h.browser().fetch(http.MethodGet, h.authorizeURL(mockidp.ClientCode, nil), nil)
	if r.status != http.StatusFound || !strings.Contains(r.header.Get("Location"), mockidp.PathLogin) {
		t.Errorf("good request: HTTP %d %q", r.status, r.header.Get("Location"))
	}
}

func withState(p url.Values) url.Values {
	out := url.Values{"state": {"keep-me"}}
	for k, v := range p {
		out[k] = v
	}
	return out
}

func TestConsent(t *testing.T) {
	h := start(t, mockidp.Options{})
	consentClient := creds{mockidp.ClientConsent, mockidp.ClientConsentSecret, "basic"}
	b := h.browser()
	r := b.fetch(http.MethodGet, h.authorizeURL(consentClient.id, nil), nil)
	r = b.fetch(http.MethodGet, r.header.Get("Location"), nil)
	login := findForm(t, r.body, "login")
	login.fields.Set("username", mockidp.UserAlice)
	login.fields.Set("password", mockidp.UserAlicePassword)
	r = b.fetch(http.MethodPost, login.action, login.fields)
	if !strings.Contains(r.header.Get("Location"), mockidp.PathConsent) {
		t.Fatalf("after login: HTTP %d %q, want the consent page", r.status, r.header.Get("Location"))
	}
	page := b.fetch(http.MethodGet, r.header.Get("Location"), nil)
	for _, s := range []string{"openid", "profile", "email"} {
		if !strings.Contains(string(page.body), "<li>"+s+"</li>") {
			t.Errorf("consent page does not list %s", s)
		}
	}
	approve := findForm(t, page.body, "consent")
	r = b.fetch(http.MethodPost, approve.action, approve.fields)
	if loc, _ := url.Parse(r.header.Get("Location")); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("approve: HTTP %d %q", r.status, r.header.Get("Location"))
	}
	// The same form again finds the request answered.
	if again := b.fetch(http.MethodPost, approve.action, approve.fields); again.status != http.StatusBadRequest {
		t.Errorf("second approval: HTTP %d", again.status)
	}
	// Consent is remembered and the session reused: straight to the code.
	r = b.fetch(http.MethodGet, h.authorizeURL(consentClient.id, nil), nil)
	if loc, _ := url.Parse(r.header.Get("Location")); loc == nil || loc.Query().Get("code") == "" {
		t.Errorf("second authorization: HTTP %d %q, want a code without forms", r.status, r.header.Get("Location"))
	}
	// prompt=consent asks again; deny sends access_denied.
	r = b.fetch(http.MethodGet, h.authorizeURL(consentClient.id, url.Values{"prompt": {"consent"}, "state": {"s9"}}), nil)
	page = b.fetch(http.MethodGet, r.header.Get("Location"), nil)
	deny := findForm(t, page.body, "deny")
	r = b.fetch(http.MethodPost, deny.action, deny.fields)
	if loc, _ := url.Parse(r.header.Get("Location")); loc == nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s9" {
		t.Errorf("deny: HTTP %d %q", r.status, r.header.Get("Location"))
	}
}

func TestSessionAndPrompt(t *testing.T) {
	h := start(t, mockidp.Options{})
	b := h.browser()
	b.login(h.authorizeURL(mockidp.ClientCode, nil), mockidp.UserAlice, mockidp.UserAlicePassword)
	r := b.fetch(http.MethodGet, h.authorizeURL(mockidp.ClientCode, url.Values{"prompt": {"none"}}), nil)
	if loc, _ := url.Parse(r.header.Get("Location")); loc == nil || loc.Query().Get("code") == "" {
		t.Errorf("prompt=none with a session: %q", r.header.Get("Location"))
	}
	r = b.fetch(http.MethodGet, h.authorizeURL(mockidp.ClientCode, url.Values{"prompt": {"login"}}), nil)
	if !strings.Contains(r.header.Get("Location"), mockidp.PathLogin) {
		t.Errorf("prompt=login: %q, want the login form", r.header.Get("Location"))
	}
	// Twin: another browser has no session.
	r = h.browser().fetch(http.MethodGet, h.authorizeURL(mockidp.ClientCode, url.Values{"prompt": {"none"}}), nil)
	if loc, _ := url.Parse(r.header.Get("Location")); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none without a session: %q", r.header.Get("Location"))
	}
}

func TestLoginFormNeedsTheRequestCookie(t *testing.T) {
	h := start(t, mockidp.Options{})
	b := h.browser()
	r := b.fetch(http.MethodGet, h.authorizeURL(mockidp.ClientCode, nil), nil)
	page := b.fetch(http.MethodGet, r.header.Get("Location"), nil)
	login := findForm(t, page.body, "login")
	login.fields.Set("username", mockidp.UserAlice)
	login.fields.Set("password", mockidp.UserAlicePassword)
	// Another browser (no cookie) posting the same form is refused.
	if r := h.browser().fetch(http.MethodPost, login.action, login.fields); r.status != http.StatusBadRequest {
		t.Errorf("cross-browser post: HTTP %d", r.status)
	}
	if r := b.fetch(http.MethodPost, login.action, login.fields); r.status != http.StatusFound {
		t.Errorf("same browser: HTTP %d", r.status)
	}
}

func TestAutoLogin(t *testing.T) {
	on := start(t, mockidp.Options{AutoLogin: true})
	r := on.browser().fetch(http.MethodGet, on.authorizeURL(mockidp.ClientConsent, url.Values{"login_hint": {mockidp.UserBob}}), nil)
	loc, _ := url.Parse(r.header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("auto-login: HTTP %d %q, want a code at once", r.status, r.header.Get("Location"))
	}
	res := on.post(mockidp.PathToken, creds{mockidp.ClientConsent, mockidp.ClientConsentSecret, "basic"},
		url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {mockidp.DefaultRedirectURI}})
	id := on.mustVerify(res.str("id_token")).claims
	if id["email"] != "bob@example.com" {
		t.Errorf("auto-login logged in as %v", id["email"])
	}
	// Twin: without the option, login_hint only fills in the form.
	off := start(t, mockidp.Options{})
	b := off.browser()
	r = b.fetch(http.MethodGet, off.authorizeURL(mockidp.ClientCode, url.Values{"login_hint": {mockidp.UserBob}}), nil)
	if !strings.Contains(r.header.Get("Location"), mockidp.PathLogin) {
		t.Fatalf("without AutoLogin: %q", r.header.Get("Location"))
	}
	page := b.fetch(http.MethodGet, r.header.Get("Location"), nil)
	if f := findForm(t, page.body, "login"); f.fields.Get("username") != mockidp.UserBob {
		t.Errorf("username not filled in: %v", f.fields)
	}
}

func TestPublicClient(t *testing.T) {
	h := start(t, mockidp.Options{})
	tk := h.codeFlow(creds{mockidp.ClientPublic, "", "none"}, nil)
	if tk.access == "" || tk.id == "" {
		t.Fatalf("public client: %s", tk.r.body)
	}
	// Twin: a public client cannot introspect.
	if r := h.post(mockidp.PathIntrospect, creds{mockidp.ClientPublic, "", "none"}, url.Values{"token": {tk.access}}); r.status != 401 {
		t.Errorf("public client introspection: HTTP %d", r.status)
	}
}

func TestIDTokenAudiences(t *testing.T) {
	clients := mockidp.DefaultClients()
	clients[3].ExtraAudiences = []string{"https://api.example"}
	h := start(t, mockidp.Options{Clients: clients})
	id := h.mustVerify(h.codeFlow(code, url.Values{"nonce": {""}}).id).claims
	aud, _ := id["aud"].([]any)
	if len(aud) != 2 || aud[0] != mockidp.ClientCode || id["azp"] != mockidp.ClientCode {
		t.Errorf("aud %v azp %v", id["aud"], id["azp"])
	}
	if _, ok := id["nonce"]; ok {
		t.Error("nonce claim without a nonce in the request")
	}
	// Twin: the default client has one audience, a string, and no azp.
	h2 := start(t, mockidp.Options{})
	id2 := h2.mustVerify(h2.codeFlow(code, nil).id).claims
	if _, ok := id2["azp"]; ok || id2["aud"] != mockidp.ClientCode {
		t.Errorf("single audience: %v", id2)
	}
}

func TestLoopbackRedirectAnyPort(t *testing.T) {
	h := start(t, mockidp.Options{})
	for port, ok := range map[string]bool{"http://127.0.0.1:49152/callback": true, "http://127.0.0.1:49152/other": false, "http://localhost/callback": false} {
		r := h.browser().fetch(http.MethodGet, h.authorizeURL(mockidp.ClientCode, url.Values{"redirect_uri": {port}}), nil)
		if got := r.status == http.StatusFound; got != ok {
			t.Errorf("%s: HTTP %d, accepted=%v want %v", port, r.status, got, ok)
		}
	}
}
