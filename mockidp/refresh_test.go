package mockidp_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/idpconform/idpconform/mockidp"
)

func TestRefreshRotationAndReuse(t *testing.T) {
	h := start(t, mockidp.Options{})
	first := h.codeFlow(code, nil)
	r := h.refresh(code, first.refresh)
	if r.status != http.StatusOK {
		t.Fatalf("refresh: HTTP %d %s", r.status, r.body)
	}
	second := tokensOf(r)
	if second.refresh == "" || second.refresh == first.refresh || second.id == first.id || second.access == first.access {
		t.Fatal("refresh did not issue new tokens")
	}
	id1, id2 := h.mustVerify(first.id).claims, h.mustVerify(second.id).claims
	if id1["sub"] != id2["sub"] || id1["auth_time"] != id2["auth_time"] || id1["aud"] != id2["aud"] {
		t.Errorf("sub/auth_time/aud changed across refresh: %v vs %v", id1, id2)
	}
	if _, ok := id2["nonce"]; ok {
		t.Error("refreshed ID token carries the original nonce")
	}
	// The rotated token is refused, and its reuse revokes the family.
	reuse := h.refresh(code, first.refresh)
	if reuse.status != http.StatusBadRequest || reuse.str("error") != "invalid_grant" {
		t.Errorf("reuse: HTTP %d %s", reuse.status, reuse.body)
	}
	if r := h.refresh(code, second.refresh); r.status != http.StatusBadRequest {
		t.Errorf("the family's current refresh token survived reuse detection: HTTP %d", r.status)
	}
	if in := h.introspect(second.access); in.json["active"] != false {
		t.Errorf("the family's access token survived reuse detection: %s", in.body)
	}
}

func TestRefreshPolicies(t *testing.T) {
	h := start(t, mockidp.Options{})
	t.Run("rotate without revoking the family", func(t *testing.T) {
		cr := creds{mockidp.ClientRefreshRotate, mockidp.ClientRefreshRotateSecret, "basic"}
		first := h.codeFlow(cr, nil)
		second := tokensOf(h.refresh(cr, first.refresh))
		if r := h.refresh(cr, first.refresh); r.status != http.StatusBadRequest {
			t.Errorf("reuse accepted: HTTP %d", r.status)
		}
		if r := h.refresh(cr, second.refresh); r.status != http.StatusOK {
			t.Errorf("current refresh token refused after a reuse: HTTP %d %s", r.status, r.body)
		}
	})
	t.Run("no rotation", func(t *testing.T) {
		cr := creds{mockidp.ClientRefreshStatic, mockidp.ClientRefreshStaticSecret, "basic"}
		first := h.codeFlow(cr, nil)
		for i := range 3 {
			r := h.refresh(cr, first.refresh)
			if r.status != http.StatusOK {
				t.Fatalf("use %d: HTTP %d %s", i, r.status, r.body)
			}
			if _, ok := r.json["refresh_token"]; ok {
				t.Errorf("use %d: a new refresh token from a non-rotating client", i)
			}
		}
	})
}

func TestRefreshErrors(t *testing.T) {
	h := start(t, mockidp.Options{})
	tk := h.codeFlow(code, nil)
	other := creds{mockidp.ClientRefreshRotate, mockidp.ClientRefreshRotateSecret, "basic"}
	cases := []struct {
		name   string
		cr     creds
		form   url.Values
		status int
		err    string
	}{
		{"missing", code, url.Values{}, 400, "invalid_request"},
		{"unknown", code, url.Values{"refresh_token": {"nope"}}, 400, "invalid_grant"},
		{"another client's", other, url.Values{"refresh_token": {tk.refresh}}, 400, "invalid_grant"},
		{"an access token", code, url.Values{"refresh_token": {tk.access}}, 400, "invalid_grant"},
		{"wider scope", code, url.Values{"refresh_token": {tk.refresh}, "scope": {"openid admin"}}, 400, "invalid_scope"},
	}
	for _, c := range cases {
		form := url.Values{"grant_type": {"refresh_token"}}
		for k, v := range c.form {
			form[k] = v
		}
		if r := h.post(mockidp.PathToken, c.cr, form); r.status != c.status || r.str("error") != c.err {
			t.Errorf("%s: HTTP %d %s, want %d %s", c.name, r.status, r.body, c.status, c.err)
		}
	}
	// Twin: the same token, by its own client, narrowing the scope, works
	// (none of the refusals above used it up).
	r := h.post(mockidp.PathToken, code, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.refresh}, "scope": {"openid"}})
	if r.status != 200 || r.str("scope") != "openid" {
		t.Errorf("narrowed refresh: HTTP %d %s", r.status, r.body)
	}
}

// Akoya answers a reused or expired refresh token with HTTP 400
// invalid_request and its own text (seed 001).
func TestAkoyaRefreshError(t *testing.T) {
	h := start(t, mockidp.Options{Profile: mockidp.ProfileAkoya})
	want := "Refresh token is invalid or has already been claimed by another client."
	check := func(what string, r *resp) {
		t.Helper()
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || r.str("error_description") != want {
			t.Errorf("%s: HTTP %d %s", what, r.status, r.body)
		}
	}
	first := h.codeFlow(code, nil)
	if r := h.refresh(code, first.refresh); r.status != 200 {
		t.Fatalf("refresh: HTTP %d %s", r.status, r.body)
	}
	check("reused", h.refresh(code, first.refresh))

	short := creds{mockidp.ClientCodeShort, mockidp.ClientCodeShortSecret, "basic"}
	tk := h.codeFlow(short, nil)
	h.srv.AdvanceClock(5 * time.Second)
	check("expired", h.refresh(short, tk.refresh))
	h.srv.SetClockOffset(0)

	// Twin: the generic profile answers the RFC's invalid_grant.
	g := start(t, mockidp.Options{})
	gt := g.codeFlow(code, nil)
	g.refresh(code, gt.refresh)
	if r := g.refresh(code, gt.refresh); r.str("error") != "invalid_grant" {
		t.Errorf("generic reuse: %s", r.body)
	}
}

// sub and the permissioned accounts stay the same across refreshes and
// re-logins (seed 002); every ID and refresh token is new.
func TestSubjectAndAccountsStable(t *testing.T) {
	h := start(t, mockidp.Options{Profile: mockidp.ProfileAkoya})
	seen := map[string]bool{}
	var sub any
	var accounts []any
	check := func(tk tokens) {
		t.Helper()
		if seen[tk.id] || seen[tk.refresh] {
			t.Error("an ID or refresh token was issued twice")
		}
		seen[tk.id], seen[tk.refresh] = true, true
		c := h.mustVerify(tk.id).claims
		acc, _ := c["accounts"].([]any)
		if sub == nil {
			sub, accounts = c["sub"], acc
			return
		}
		if c["sub"] != sub || len(acc) != len(accounts) || acc[0] != accounts[0] {
			t.Errorf("sub/accounts changed: %v %v, first %v %v", c["sub"], acc, sub, accounts)
		}
	}
	tk := h.codeFlow(code, nil)
	check(tk)
	for range 3 {
		tk = tokensOf(h.refresh(code, tk.refresh))
		check(tk)
	}
	check(h.codeFlow(code, nil)) // a re-login
	check(h.codeFlow(creds{mockidp.ClientRefreshRotate, mockidp.ClientRefreshRotateSecret, "basic"}, nil))
	// Twin: another user has another sub.
	q := h.browser().login(h.authorizeURL(mockidp.ClientCode, nil), mockidp.UserBob, mockidp.UserBobPassword)
	r := h.post(mockidp.PathToken, code, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {mockidp.DefaultRedirectURI}})
	if c := h.mustVerify(r.str("id_token")).claims; c["sub"] == sub {
		t.Error("two users share a sub")
	}
}

// Of several concurrent uses of one refresh token, exactly one succeeds.
func TestConcurrentRefreshOneWins(t *testing.T) {
	h := start(t, mockidp.Options{})
	tk := h.codeFlow(creds{mockidp.ClientRefreshRotate, mockidp.ClientRefreshRotateSecret, "basic"}, nil)
	var wg sync.WaitGroup
	statuses := make([]int, 16)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = h.refresh(creds{mockidp.ClientRefreshRotate, mockidp.ClientRefreshRotateSecret, "basic"}, tk.refresh).status
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent refreshes succeeded: %v", ok, len(statuses), statuses)
	}
}
