package mockidp_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/idpconform/idpconform/mockidp"
)

// Hundreds of concurrent flows: every token, jti and code is unique, no
// state is lost, and introspection agrees with what was issued and revoked.
func TestConcurrentFlows(t *testing.T) {
	h := start(t, mockidp.Options{AutoLogin: true, SigningAlg: "ES256"})
	const workers, perWorker, flows = 20, 15, 40

	var mu sync.Mutex
	var opaque, jwts, refreshes, ids, codes []string
	add := func(dst *[]string, v string) {
		mu.Lock()
		*dst = append(*dst, v)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				cr := ccBasic
				if (w+i)%2 == 0 {
					cr = ccPost
				}
				r := h.post(mockidp.PathToken, cr, url.Values{"grant_type": {"client_credentials"}})
				if r.status != http.StatusOK {
					t.Errorf("cc: HTTP %d %s", r.status, r.body)
					return
				}
				if cr == ccPost {
					add(&opaque, r.str("access_token"))
				} else {
					add(&jwts, r.str("access_token"))
				}
			}
		})
	}
	for range flows {
		wg.Go(func() {
			b := h.browser()
			res := b.fetch(http.MethodGet, h.authorizeURL(mockidp.ClientCode, url.Values{"login_hint": {mockidp.UserAlice}}), nil)
			loc, err := url.Parse(res.header.Get("Location"))
			if err != nil || loc.Query().Get("code") == "" {
				t.Errorf("auto-login: HTTP %d %q", res.status, res.header.Get("Location"))
				return
			}
			add(&codes, loc.Query().Get("code"))
			r := h.post(mockidp.PathToken, code, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {mockidp.DefaultRedirectURI}})
			if r.status != http.StatusOK {
				t.Errorf("exchange: HTTP %d %s", r.status, r.body)
				return
			}
			add(&jwts, r.str("access_token"))
			add(&ids, r.str("id_token"))
			rr := h.refresh(code, r.str("refresh_token"))
			if rr.status != http.StatusOK {
				t.Errorf("refresh: HTTP %d %s", rr.status, rr.body)
				return
			}
			add(&refreshes, r.str("refresh_token"))
			add(&refreshes, rr.str("refresh_token"))
			add(&jwts, rr.str("access_token"))
			add(&ids, rr.str("id_token"))
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(opaque)+len(jwts) != workers*perWorker+2*flows || len(codes) != flows {
		t.Fatalf("lost results: %d opaque, %d jwt, %d codes", len(opaque), len(jwts), len(codes))
	}
	unique := map[string]string{}
	check := func(kind string, vals []string) {
		for _, v := range vals {
			if v == "" {
				t.Errorf("empty %s", kind)
			}
			if prev, dup := unique[v]; dup {
				t.Errorf("%s issued twice (also as %s)", kind, prev)
			}
			unique[v] = kind
		}
	}
	check("opaque token", opaque)
	check("jwt", jwts)
	check("refresh token", refreshes)
	check("id token", ids)
	check("code", codes)
	jtis := map[string]bool{}
	for _, tok := range append(append([]string{}, jwts...), ids...) {
		jti, _ := unverified(t, tok).claims["jti"].(string)
		if jti == "" || jtis[jti] {
			t.Errorf("jti %q missing or repeated", jti)
		}
		jtis[jti] = true
	}
	// 300 cc + 40 × (code: access, refresh, ID; refresh: the same three).
	if want := workers*perWorker + flows*6; h.srv.IssuedCount() != want {
		t.Errorf("IssuedCount %d, want %d", h.srv.IssuedCount(), want)
	}

	// Revoke half of the opaque tokens concurrently, then introspect all.
	revoked := map[string]bool{}
	for i, tok := range opaque {
		if i%2 == 0 {
			revoked[tok] = true
		}
	}
	for tok := range revoked {
		wg.Go(func() {
			if r := h.post(mockidp.PathRevoke, ccPost, url.Values{"token": {tok}}); r.status != 200 {
				t.Errorf("revoke: HTTP %d", r.status)
			}
		})
	}
	wg.Wait()
	for _, tok := range append(append([]string{}, opaque...), jwts...) {
		wg.Go(func() {
			in := h.introspect(tok)
			if want := !revoked[tok]; in.json["active"] != want {
				t.Errorf("introspection active=%v, want %v", in.json["active"], want)
			}
		})
	}
	wg.Wait()
}
