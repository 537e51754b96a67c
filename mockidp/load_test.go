package mockidp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/idpconform/idpconform/mockidp"
)

// loadClient sends requests from many goroutines: unlike the harness, it
// returns errors instead of failing the test from a goroutine.
type loadClient struct {
	base string
	c    *http.Client
}

func (l *loadClient) post(path string, cr creds, form url.Values) (int, map[string]any, error) {
	switch cr.method {
	case "post":
		form.Set("client_id", cr.id)
		form.Set("client_secret", cr.secret)
	case "none":
		form.Set("client_id", cr.id)
	}
	req, err := http.NewRequest(http.MethodPost, l.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cr.method == "basic" {
		req.SetBasicAuth(url.QueryEscape(cr.id), url.QueryEscape(cr.secret))
	}
	return l.do(req)
}

func (l *loadClient) do(req *http.Request) (int, map[string]any, error) {
	res, err := l.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, err
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	if res.StatusCode == http.StatusFound {
		m = map[string]any{"location": res.Header.Get("Location")}
	}
	return res.StatusCode, m, nil
}

func (l *loadClient) token(cr creds, form url.Values) (map[string]any, error) {
	st, m, err := l.post(mockidp.PathToken, cr, form)
	if err != nil {
		return nil, err
	}
	if st != http.StatusOK {
		return nil, fmt.Errorf("token %s: HTTP %d %v", form.Get("grant_type"), st, m["error"])
	}
	return m, nil
}

func (l *loadClient) active(tok string) (bool, error) {
	st, m, err := l.post(mockidp.PathIntrospect, ccBasic, url.Values{"token": {tok}})
	if err != nil {
		return false, err
	}
	a, ok := m["active"].(bool)
	if st != http.StatusOK || !ok {
		return false, fmt.Errorf("introspect: HTTP %d active=%v", st, m["active"])
	}
	return a, nil
}

func (l *loadClient) revoke(cr creds, tok string) error {
	st, _, err := l.post(mockidp.PathRevoke, cr, url.Values{"token": {tok}})
	if err == nil && st != http.StatusOK {
		err = fmt.Errorf("revoke: HTTP %d", st)
	}
	return err
}

// issued is what the model knows of one token.
type issued struct {
	kind string
	// live is what introspection must say once the run is over.
	live bool
}

// The mock under sustained concurrent load, bounded in operations and time:
// client credentials (JWT and opaque), revocation, introspection checked
// against a model as it goes, authorization code flows with rotating refresh
// tokens and reuse detection, while another goroutine switches faults and
// drift at run time. Every token and jti is unique, introspection agrees with
// what was issued and revoked, IssuedCount adds up, the race detector stays
// quiet (go test -race), and no goroutine outlives the server.
func TestSustainedLoadKeepsEveryToken(t *testing.T) {
	// Cleanups run last-registered first: this one runs after the server
	// and the clients are closed.
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ops, problems := sustainedLoad(t, nil, 8, 80)
	for _, p := range problems {
		t.Error(p)
	}
	if ops < 8*4 {
		// On a machine too slow for the whole bound the deadline cut the
		// run short; a run that did next to nothing proves nothing.
		t.Errorf("only %d operations ran before the deadline", ops)
	}
}

// The failing twins: the same load against a mock that loses track of one
// thing is caught by the check that exists for it.
func TestSustainedLoadCatchesFaults(t *testing.T) {
	for _, tc := range []struct {
		fault mockidp.FaultName
		want  string
	}{
		{mockidp.FaultIntrospectRevokedActive, "active=true, want false"},
		{mockidp.FaultDuplicateJTI, "jti of a"},
		{mockidp.FaultRefreshReuse, "reused refresh token: HTTP 200"},
		{mockidp.FaultRevokeNoop, "active=true, want false"},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			_, problems := sustainedLoad(t, []mockidp.Fault{{Name: tc.fault}}, 2, 8)
			if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Errorf("problems %q lack %q", problems, tc.want)
			}
		})
	}
}

// sustainedLoad runs the load and returns how many operations ran and every
// problem found.
func sustainedLoad(t *testing.T, faults []mockidp.Fault, workers, opsPerWorker int) (int64, []string) {
	h := start(t, mockidp.Options{AutoLogin: true, SigningAlg: "ES256", Faults: faults})
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	lc := &loadClient{base: h.srv.URL, c: &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	var pmu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		pmu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		pmu.Unlock()
	}

	deadline := time.Now().Add(20 * time.Second)

	var (
		mu      sync.Mutex
		model   = map[string]issued{}
		ops     atomic.Int64
		nIssued atomic.Int64 // tokens the mock reports issuing (access, refresh, ID)
	)
	record := func(tok, kind string, live bool) error {
		if tok == "" {
			return fmt.Errorf("empty %s", kind)
		}
		mu.Lock()
		defer mu.Unlock()
		if prev, dup := model[tok]; dup {
			return fmt.Errorf("%s issued twice (also as %s)", kind, prev.kind)
		}
		model[tok] = issued{kind: kind, live: live}
		return nil
	}
	setLive := func(tok string, live bool) {
		mu.Lock()
		e := model[tok]
		e.live = live
		model[tok] = e
		mu.Unlock()
	}
	expect := func(tok string, want bool, when string) error {
		got, err := lc.active(tok)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("introspection %s: active=%v, want %v", when, got, want)
		}
		return nil
	}

	// One operation: what a worker does on its i-th turn.
	op := func(i int) error {
		cc := url.Values{"grant_type": {"client_credentials"}}
		switch i % 4 {
		case 0: // a JWT: live until the end
			m, err := lc.token(ccBasic, cc)
			if err != nil {
				return err
			}
			nIssued.Add(1)
			tok, _ := m["access_token"].(string)
			if err := record(tok, "cc jwt", true); err != nil {
				return err
			}
			return expect(tok, true, "of a fresh JWT")
		case 1: // an opaque token, revoked by its client
			m, err := lc.token(ccPost, cc)
			if err != nil {
				return err
			}
			nIssued.Add(1)
			tok, _ := m["access_token"].(string)
			if err := record(tok, "cc opaque", true); err != nil {
				return err
			}
			if err := expect(tok, true, "of a fresh opaque token"); err != nil {
				return err
			}
			if err := lc.revoke(ccPost, tok); err != nil {
				return err
			}
			setLive(tok, false)
			return expect(tok, false, "after revocation")
		case 2: // a JWT revoked by its client (by jti)
			m, err := lc.token(ccBasic, cc)
			if err != nil {
				return err
			}
			nIssued.Add(1)
			tok, _ := m["access_token"].(string)
			if err := record(tok, "cc jwt", true); err != nil {
				return err
			}
			if err := lc.revoke(ccBasic, tok); err != nil {
				return err
			}
			setLive(tok, false)
			return expect(tok, false, "of a revoked JWT")
		default: // a user's authorization: code, two rotations, a reuse
			st, m, err := lc.do(mustRequest(h.authorizeURL(mockidp.ClientCode, url.Values{"login_hint": {mockidp.UserAlice}})))
			if err != nil {
				return err
			}
			loc, _ := url.Parse(fmt.Sprint(m["location"]))
			if st != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
				return fmt.Errorf("auto-login: HTTP %d", st)
			}
			authCode := loc.Query().Get("code")
			if err := record(authCode, "code", false); err != nil {
				return err
			}
			first, err := lc.token(code, url.Values{"grant_type": {"authorization_code"}, "code": {authCode}, "redirect_uri": {mockidp.DefaultRedirectURI}})
			if err != nil {
				return err
			}
			nIssued.Add(3)
			var family []string
			chain := []map[string]any{first}
			for range 2 {
				rt, _ := chain[len(chain)-1]["refresh_token"].(string)
				next, err := lc.token(code, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
				if err != nil {
					return err
				}
				nIssued.Add(3)
				chain = append(chain, next)
			}
			for _, r := range chain {
				for _, k := range []string{"access_token", "refresh_token", "id_token"} {
					tok, _ := r[k].(string)
					if err := record(tok, "code "+k, false); err != nil {
						return err
					}
					if k != "id_token" {
						family = append(family, tok)
					}
				}
			}
			last, _ := chain[len(chain)-1]["access_token"].(string)
			if err := expect(last, true, "of the newest access token of a family"); err != nil {
				return err
			}
			// Reusing the first (rotated) refresh token is refused and
			// revokes the whole family (RFC 9700 §4.14.2).
			rt, _ := first["refresh_token"].(string)
			st, m, err = lc.post(mockidp.PathToken, code, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			if err != nil {
				return err
			}
			if st != http.StatusBadRequest || m["error"] != "invalid_grant" {
				return fmt.Errorf("reused refresh token: HTTP %d %v", st, m["error"])
			}
			for _, tok := range family {
				if err := expect(tok, false, "of a family revoked for refresh token reuse"); err != nil {
					return err
				}
			}
			return nil
		}
	}

	// Faults and drift switched at run time, harmless to these checks: a
	// response must see one whole configuration.
	done := make(chan struct{})
	var switcher sync.WaitGroup
	switcher.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
			var err error
			if i%2 == 0 {
				err = h.srv.AddFault(mockidp.Fault{Name: mockidp.FaultNoPragma})
			} else {
				h.srv.RemoveFault(mockidp.FaultNoPragma)
			}
			if err == nil {
				err = h.srv.SetDrift()
			}
			if err != nil {
				report("switching faults: %v", err)
				return
			}
			_ = h.srv.ActiveFaults()
		}
	})

	var wg sync.WaitGroup
	var failures atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for i := 0; i < opsPerWorker && time.Now().Before(deadline); i++ {
				if err := op(w + i); err != nil {
					report("worker %d op %d: %v", w, i, err)
					if failures.Add(1) > 5 {
						return
					}
				}
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	close(done)
	switcher.Wait()
	t.Logf("%d operations, %d tokens issued", ops.Load(), nIssued.Load())

	if got := int64(h.srv.IssuedCount()); got != nIssued.Load() {
		report("IssuedCount %d, the clients saw %d", got, nIssued.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	jtis := map[string]string{}
	for tok, e := range model {
		if strings.Count(tok, ".") != 2 {
			continue
		}
		jti, _ := unverified(t, tok).claims["jti"].(string)
		if jti == "" {
			report("%s without jti", e.kind)
		} else if prev, dup := jtis[jti]; dup {
			report("jti of a %s repeats that of a %s", e.kind, prev)
		}
		jtis[jti] = e.kind
	}
	// The final sweep, concurrent again: introspection agrees with the
	// model for every access token.
	sem := make(chan struct{}, workers)
	for tok, e := range model {
		if !strings.HasSuffix(e.kind, "access_token") && !strings.HasPrefix(e.kind, "cc") {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := expect(tok, e.live, "after the run ("+e.kind+")"); err != nil {
				report("%v", err)
			}
		})
	}
	wg.Wait()
	return ops.Load(), problems
}

func mustRequest(u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		panic(err) // test URLs only
	}
	return req
}
