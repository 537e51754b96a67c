package mockidp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/mockidp"
)

func TestIntrospection(t *testing.T) {
	h := start(t, mockidp.Options{})
	jwtTok := h.cc(ccBasic, "api:read").str("access_token")
	opaqueTok := h.cc(ccPost, "").str("access_token")
	user := h.codeFlow(code, nil)

	t.Run("client authentication required", func(t *testing.T) {
		r := h.post(mockidp.PathIntrospect, creds{}, url.Values{"token": {jwtTok}})
		if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
			t.Errorf("HTTP %d %s", r.status, r.body)
		}
		if r := h.post(mockidp.PathIntrospect, creds{mockidp.ClientCC, "wrong", "basic"}, url.Values{"token": {jwtTok}}); r.status != 401 {
			t.Errorf("wrong secret: HTTP %d", r.status)
		}
		if r := h.post(mockidp.PathIntrospect, ccBasic, url.Values{}); r.status != 400 {
			t.Errorf("no token: HTTP %d", r.status)
		}
	})
	t.Run("active tokens", func(t *testing.T) {
		for name, tok := range map[string]string{"jwt": jwtTok, "opaque": opaqueTok, "user jwt": user.access, "refresh": user.refresh} {
			in := h.introspect(tok)
			if in.json["active"] != true || in.str("client_id") == "" || in.json["exp"] == nil || in.str("iss") != h.srv.URL {
				t.Errorf("%s: %s", name, in.body)
			}
		}
		if in := h.introspect(user.access); in.str("username") != mockidp.UserAlice || in.str("sub") == "" {
			t.Errorf("user token: %s", in.body)
		}
		if in := h.introspect(user.refresh); in.str("token_type") != "refresh_token" {
			t.Errorf("refresh token type: %s", in.body)
		}
	})
	t.Run("unknown, forged and ID tokens are inactive", func(t *testing.T) {
		forged := jwtTok[:strings.LastIndexByte(jwtTok, '.')+1] + "AAAA"
		for name, tok := range map[string]string{"unknown": "nope", "forged": forged, "id token": user.id} {
			if in := h.introspect(tok); in.json["active"] != false || len(in.json) != 1 {
				t.Errorf("%s: %s", name, in.body)
			}
		}
	})
	t.Run("revoked and expired are inactive", func(t *testing.T) {
		for _, tok := range []string{jwtTok, opaqueTok} {
			cr := ccBasic
			if tok == opaqueTok {
				cr = ccPost
			}
			if r := h.post(mockidp.PathRevoke, cr, url.Values{"token": {tok}}); r.status != 200 {
				t.Fatalf("revoke: HTTP %d %s", r.status, r.body)
			}
			if in := h.introspect(tok); in.json["active"] != false {
				t.Errorf("revoked token active: %s", in.body)
			}
		}
		fresh := h.cc(ccBasic, "").str("access_token")
		h.srv.AdvanceClock(time.Hour + time.Second)
		defer h.srv.SetClockOffset(0)
		if in := h.introspect(fresh); in.json["active"] != false {
			t.Errorf("expired token active: %s", in.body)
		}
	})
}

func TestRevocation(t *testing.T) {
	h := start(t, mockidp.Options{})
	t.Run("unknown token gets 200", func(t *testing.T) {
		if r := h.post(mockidp.PathRevoke, ccBasic, url.Values{"token": {"never-issued"}}); r.status != 200 {
			t.Errorf("HTTP %d %s", r.status, r.body)
		}
	})
	t.Run("authentication and parameters", func(t *testing.T) {
		if r := h.post(mockidp.PathRevoke, creds{}, url.Values{"token": {"x"}}); r.status != 401 {
			t.Errorf("no client: HTTP %d", r.status)
		}
		if r := h.post(mockidp.PathRevoke, ccBasic, url.Values{}); r.status != 400 {
			t.Errorf("no token: HTTP %d", r.status)
		}
	})
	t.Run("another client's token is refused and stays valid", func(t *testing.T) {
		tok := h.cc(ccPost, "").str("access_token")
		if r := h.post(mockidp.PathRevoke, ccBasic, url.Values{"token": {tok}}); r.status != 400 || r.str("error") != "unauthorized_client" {
			t.Errorf("HTTP %d %s", r.status, r.body)
		}
		if in := h.introspect(tok); in.json["active"] != true {
			t.Errorf("token revoked by another client: %s", in.body)
		}
	})
	t.Run("revoking a refresh token revokes its access tokens", func(t *testing.T) {
		tk := h.codeFlow(code, nil)
		if r := h.post(mockidp.PathRevoke, code, url.Values{"token": {tk.refresh}, "token_type_hint": {"refresh_token"}}); r.status != 200 {
			t.Fatalf("HTTP %d", r.status)
		}
		if in := h.introspect(tk.access); in.json["active"] != false {
			t.Errorf("access token of a revoked grant: %s", in.body)
		}
		if r := h.refresh(code, tk.refresh); r.status != 400 {
			t.Errorf("revoked refresh token works: HTTP %d", r.status)
		}
	})
	t.Run("revoking an access token leaves the refresh token", func(t *testing.T) {
		tk := h.codeFlow(code, nil)
		if r := h.post(mockidp.PathRevoke, code, url.Values{"token": {tk.access}}); r.status != 200 {
			t.Fatalf("HTTP %d", r.status)
		}
		if in := h.introspect(tk.access); in.json["active"] != false {
			t.Errorf("revoked access token active: %s", in.body)
		}
		if r := h.refresh(code, tk.refresh); r.status != 200 {
			t.Errorf("refresh after revoking the access token: HTTP %d %s", r.status, r.body)
		}
	})
}

func TestUserinfo(t *testing.T) {
	h := start(t, mockidp.Options{})
	tk := h.codeFlow(code, nil)
	sub := h.mustVerify(tk.id).claims["sub"]

	r := h.get(mockidp.PathUserinfo, bearer(tk.access))
	if r.status != 200 || r.json["sub"] != sub || r.str("email") != "alice@example.com" || r.str("name") != "Alice Example" {
		t.Fatalf("userinfo: HTTP %d %s", r.status, r.body)
	}
	// POST with the token in the form (RFC 6750 §2.2).
	if r := h.postTo(h.srv.URL+mockidp.PathUserinfo, creds{}, url.Values{"access_token": {tk.access}}); r.status != 200 || r.json["sub"] != sub {
		t.Errorf("POST userinfo: HTTP %d %s", r.status, r.body)
	}
	t.Run("no token", func(t *testing.T) {
		r := h.get(mockidp.PathUserinfo, nil)
		if r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer realm="idpconform-mock"` {
			t.Errorf("HTTP %d WWW-Authenticate %q", r.status, r.header.Get("WWW-Authenticate"))
		}
	})
	t.Run("invalid tokens", func(t *testing.T) {
		cc := h.cc(ccBasic, "").str("access_token")
		revoked := h.codeFlow(code, nil)
		h.post(mockidp.PathRevoke, code, url.Values{"token": {revoked.access}})
		for name, tok := range map[string]string{"unknown": "nope", "client credentials": cc, "revoked": revoked.access, "id token": tk.id} {
			r := h.get(mockidp.PathUserinfo, bearer(tok))
			if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("%s: HTTP %d %q", name, r.status, r.header.Get("WWW-Authenticate"))
			}
		}
	})
	t.Run("expired token", func(t *testing.T) {
		short := h.codeFlow(creds{mockidp.ClientCodeShort, mockidp.ClientCodeShortSecret, "basic"}, nil)
		if r := h.get(mockidp.PathUserinfo, bearer(short.access)); r.status != 200 {
			t.Fatalf("fresh: HTTP %d", r.status)
		}
		h.srv.AdvanceClock(3 * time.Second)
		defer h.srv.SetClockOffset(0)
		if r := h.get(mockidp.PathUserinfo, bearer(short.access)); r.status != 401 {
			t.Errorf("expired: HTTP %d %s", r.status, r.body)
		}
	})
	t.Run("scope without openid", func(t *testing.T) {
		tk := h.codeFlow(code, url.Values{"scope": {"profile"}})
		r := h.get(mockidp.PathUserinfo, bearer(tk.access))
		if r.status != 403 || !strings.Contains(r.header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Errorf("HTTP %d %q", r.status, r.header.Get("WWW-Authenticate"))
		}
	})
}
