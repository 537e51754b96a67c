package mockidp_test

import (
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/idpconform/idpconform/mockidp"
)

// Hundreds of concurrent requests: every token, jti and code is unique, no
// state is lost, and introspection agrees with what was issued and revoked.
// Each request has its own goroutine, and all wait at one gate, so the
// client credentials requests reach the mock hundreds at once (interleaved
// with login flows) instead of a few workers' worth at a time.
func TestConcurrentFlows(t *testing.T) {
	h := start(t, mockidp.Options{AutoLogin: true, SigningAlg: "ES256"})
	const ccRequests, flows = 320, 40

	var mu sync.Mutex
	var opaque, jwts, refreshes, ids, codes []string
	add := func(dst *[]string, v string) {
		mu.Lock()
		*dst = append(*dst, v)
		mu.Unlock()
	}
	var wg, ready sync.WaitGroup
	gate := make(chan struct{})
	ready.Add(ccRequests + flows)
	for i := range ccRequests {
		wg.Go(func() {
			cr := ccBasic
			if i%2 == 0 {
				cr = ccPost
			}
			ready.Done()
			<-gate
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
		})
	}
	for range flows {
		wg.Go(func() {
			b := h.browser()
			ready.Done()
			<-gate
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
	ready.Wait()
	close(gate)
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(opaque)+len(jwts) != ccRequests+2*flows || len(codes) != flows {
		t.Fatalf("lost results: %d opaque, %d jwt, %d codes", len(opaque), len(jwts), len(codes))
	}
	for _, p := range uniquenessProblems(t, []issuedValues{
		{"opaque token", opaque}, {"jwt", jwts}, {"refresh token", refreshes}, {"id token", ids}, {"code", codes},
	}) {
		t.Error(p)
	}
	// 320 cc + 40 × (code: access, refresh, ID; refresh: the same three).
	if want := ccRequests + flows*6; h.srv.IssuedCount() != want {
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

// issuedValues is one kind of value the mock handed out.
type issuedValues struct {
	kind string
	vals []string
}

// uniquenessProblems says which values are empty or given out twice (across
// kinds too), and which JWTs (kinds "jwt" and "id token") lack a jti or
// repeat one. It never prints a value.
func uniquenessProblems(t *testing.T, groups []issuedValues) []string {
	t.Helper()
	var problems []string
	seen := map[string]string{}
	jtis := map[string]bool{}
	for _, g := range groups {
		for _, v := range g.vals {
			if v == "" {
				problems = append(problems, "empty "+g.kind)
				continue
			}
			if prev, dup := seen[v]; dup {
				problems = append(problems, g.kind+" issued twice (also as "+prev+")")
			}
			seen[v] = g.kind
			if g.kind != "jwt" && g.kind != "id token" {
				continue
			}
			jti, _ := unverified(t, v).claims["jti"].(string)
			if jti == "" || jtis[jti] {
				problems = append(problems, g.kind+": jti missing or repeated")
			}
			jtis[jti] = true
		}
	}
	return problems
}

// The failing twin: a mock giving every JWT the same jti, asked concurrently
// too, is caught, and so is a value handed out twice.
func TestConcurrentFlowsUniquenessCheckFails(t *testing.T) {
	f, err := mockidp.ParseFault("duplicate-jti")
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, mockidp.Options{SigningAlg: "ES256", Faults: []mockidp.Fault{f}})
	const n = 20
	toks := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			toks[i] = h.post(mockidp.PathToken, ccBasic, url.Values{"grant_type": {"client_credentials"}}).str("access_token")
		})
	}
	wg.Wait()
	got := uniquenessProblems(t, []issuedValues{{"jwt", toks}})
	if len(got) != n-1 || got[0] != "jwt: jti missing or repeated" {
		t.Errorf("duplicate-jti: problems %q, want %d of jti repeated", got, n-1)
	}
	got = uniquenessProblems(t, []issuedValues{{"opaque token", []string{"a", "b"}}, {"code", []string{"b", ""}}})
	if want := []string{"code issued twice (also as opaque token)", "empty code"}; !slices.Equal(got, want) {
		t.Errorf("repeated and empty values: problems %q, want %q", got, want)
	}
}
