package loadtest

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/mockidp"
)

// startTLSMock starts the mock over HTTPS with its own test CA and returns
// an Env for the cc client whose preparation client trusts that CA.
func startTLSMock(t *testing.T) (*mockidp.Server, Env) {
	t.Helper()
	srv, err := mockidp.NewTLSServer("", mockidp.Options{SigningAlg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	reg := redact.New()
	tg := &target.Target{Name: "tls-mock", SigningAlgs: target.DefaultSigningAlgs,
		Clients: []target.Client{{Name: "cc", ID: mockidp.ClientCC, Secret: target.Secret{Secret: redact.NewSecret(mockidp.ClientCCSecret)},
			AuthMethod: target.ClientSecretBasic, Grants: []target.Grant{target.GrantClientCredentials}, Scopes: []string{"api:read"}}}}
	reg.Add(tg.Secrets()...)
	oc := oauth.New(oauth.Options{Secrets: reg, TLS: &tls.Config{RootCAs: srv.CA.Pool(), MinVersion: tls.VersionTLS12}})
	t.Cleanup(oc.CloseIdleConnections)
	return srv, Env{Target: tg, Client: tg.Clients[0], Secrets: reg, OAuth: oc,
		Endpoints: target.Endpoints{Token: srv.URL + mockidp.PathToken, JWKS: srv.URL + mockidp.PathJWKS}}
}

// The attack trusts what the target trusts: with the mock's CA every hit
// succeeds; without it (the system roots) every hit fails, and the error
// groups name the unknown authority.
func TestAttackUsesTargetTLS(t *testing.T) {
	srv, env := startTLSMock(t)
	run := func(tc *tls.Config) *Report {
		t.Helper()
		sc, err := newClientCredentials(env)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Run(context.Background(), Config{
			Scenario: sc, Plan: Plan{Model: Constant, Rates: []float64{20}, Duration: 500 * time.Millisecond},
			HTTP: HTTPOptions{TLS: tc}, MinAttemptedRatio: 0.5, Secrets: env.Secrets,
		})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	st := run(&tls.Config{RootCAs: srv.CA.Pool(), MinVersion: tls.VersionTLS12}).Load.Steps[0]
	if st.Requests == 0 || st.OK != st.Requests {
		t.Errorf("with the CA: %d of %d ok; errors %+v", st.OK, st.Requests, st.Errors)
	}
	st = run(nil).Load.Steps[0]
	if st.Requests == 0 || st.OK != 0 {
		t.Fatalf("without the CA: %d of %d ok", st.OK, st.Requests)
	}
	if len(st.Errors) == 0 || !strings.Contains(st.Errors[0].Message, "x509: certificate signed by unknown authority") {
		t.Errorf("without the CA, errors do not name the authority: %+v", st.Errors)
	}
}

// Without an SLO a run still fails when nothing succeeded (a wrong secret:
// every hit a 401), and says that latency and success were not gated; the
// twin with the right secret passes, and with an SLO the note is not said.
func TestNoSuccessFailsWithoutSLO(t *testing.T) {
	m := startMock(t, "ES256", nil)
	run := func(env Env, slos []slo.Objective) *results.Load {
		t.Helper()
		sc, err := newClientCredentials(env)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Run(context.Background(), Config{Scenario: sc, SLOs: slos,
			Plan: Plan{Model: Constant, Rates: []float64{20}, Duration: 500 * time.Millisecond}, MinAttemptedRatio: 0.5, Secrets: env.Secrets})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Load
	}
	wrong := m.env
	wrong.Client.Secret = target.Secret{Secret: redact.NewSecret("not-the-secret")}
	l := run(wrong, nil)
	g := gate(l, gateSucceeded)
	if l.Passed() || g == nil || g.Passed || !strings.Contains(g.Message, "FAIL at least one successful response: none of") {
		t.Errorf("every hit refused, no SLO: passed %v, gate %+v", l.Passed(), g)
	}
	if !slices.Contains(l.Notes, noteNoSLO) {
		t.Errorf("notes lack %q: %q", noteNoSLO, l.Notes)
	}
	l = run(m.env, nil)
	if g := gate(l, gateSucceeded); !l.Passed() || g == nil || !g.Passed {
		t.Errorf("right secret, no SLO: passed %v, gate %+v", l.Passed(), g)
	}
	if !slices.Contains(l.Notes, noteNoSLO) {
		t.Errorf("notes lack %q: %q", noteNoSLO, l.Notes)
	}
	l = run(m.env, mustSLOs(t, "success>=50%"))
	if !l.Passed() || slices.Contains(l.Notes, noteNoSLO) {
		t.Errorf("with an SLO: passed %v, notes %q", l.Passed(), l.Notes)
	}
}

// Pooled tokens of a two-second client outlive none of a four-second
// attack: the introspection pool mints each again as it nears expiry, so
// every hit asks about a live token and is answered active (before, two in
// three hits blamed the IdP with "active: false for a live token").
func TestIntrospectionPoolOutlivesShortTokens(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	env := m.env(t, "short")
	env.Pool = PoolOptions{Size: 10}
	l := run(t, Config{Scenario: newScenario(t, "introspection", env), Plan: constant(20, 4*time.Second), MinAttemptedRatio: 0.5, Secrets: m.reg})
	st := l.Steps[0]
	if st.Requests == 0 || st.OK != st.Requests || st.Stopped != "" {
		t.Errorf("%d of %d ok, stopped %q; errors %+v", st.OK, st.Requests, st.Stopped, st.Errors)
	}
	found := false
	for _, n := range l.Notes {
		found = found || strings.Contains(n, "pooled access tokens were minted again during the attack as they neared expiry")
	}
	if !found {
		t.Errorf("notes do not say tokens were minted again: %q", l.Notes)
	}
	if u := uniq(l, "access_token"); u.Seen <= 10 || u.Duplicates != 0 {
		t.Errorf("minted tokens not counted for uniqueness: %+v", u)
	}
}

// Akkess exchanges cannot mint IdP tokens again (a login each): when the
// pool's two-second tokens near expiry the attack stops, saying why and
// what to change, instead of sending expired tokens.
func TestAkkessPoolRefusesExpiringTokens(t *testing.T) {
	m := startTargetMock(t, "mock-akkess.yaml")
	env := m.env(t, "code-short")
	env.Pool = PoolOptions{Size: 2}
	l := run(t, Config{Scenario: newScenario(t, "akkess-token", env), Plan: constant(10, 4*time.Second), MinAttemptedRatio: 0.5, Secrets: m.reg})
	st := l.Steps[0]
	if !strings.Contains(st.Stopped, "every pooled IdP access token is within") || !strings.Contains(st.Stopped, "shorten --duration") {
		t.Errorf("stopped %q", st.Stopped)
	}
	if st.Requests == 0 || st.OK != st.Requests {
		t.Errorf("%d of %d ok; errors %+v", st.OK, st.Requests, st.Errors)
	}
	if l.Passed() {
		t.Error("a run stopped by its pool passed")
	}
}

// "active: false" blames the IdP only for a hit answered within the
// margin its token had left; a slower one may have outlived its token.
func TestInactiveBlamesIdPOnlyForLiveTokens(t *testing.T) {
	s := &introspection{pool: &tokenPool{slack: time.Second}}
	body := []byte(`{"active":false}`)
	if got := s.Inspect(&vegeta.Result{Code: 200, Body: body, Latency: 10 * time.Millisecond}).Problem; got != problemInactiveLive {
		t.Errorf("fast hit: %q", got)
	}
	if got := s.Inspect(&vegeta.Result{Code: 200, Body: body, Latency: 2 * time.Second}).Problem; got != problemInactiveSlow {
		t.Errorf("slow hit: %q", got)
	}
	s.pool.unknown.Store(true)
	if got := s.Inspect(&vegeta.Result{Code: 200, Body: body, Latency: 10 * time.Millisecond}).Problem; got != problemInactiveUnknown {
		t.Errorf("token of unknown lifetime: %q", got)
	}
	if got := s.Inspect(&vegeta.Result{Code: 200, Body: []byte(`{"active":true}`)}).Problem; got != "" {
		t.Errorf("active token: %q", got)
	}
}

// rateLimitedAfterPrepare is the refresh scenario against a mock that
// starts answering half the token requests with 429 once the pool is
// seeded, so the logins that seed it are not the subject.
type rateLimitedAfterPrepare struct {
	*refresh
	idp *mockidp.IdP
	t   *testing.T
}

func (s rateLimitedAfterPrepare) Prepare(ctx context.Context, d Demand) (*results.LoadPreparation, error) {
	p, err := s.refresh.Prepare(ctx, d)
	f, ferr := mockidp.ParseFault("rate-limit=0.5@token")
	if ferr == nil {
		ferr = s.idp.AddFault(f)
	}
	if ferr != nil {
		s.t.Error(ferr)
	}
	return p, err
}

// A 429 does not spend a refresh token: it goes back into the pool, so a
// rate-limited IdP makes half the refreshes fail but never drains the pool
// (before, the attack stopped early with "pool ran dry"). The twin: a
// refused refresh (invalid_grant) does spend it.
func TestRefreshTokenReturnsAfterRateLimit(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	env := m.env(t, "code")
	env.Pool = PoolOptions{Size: 10}
	sc := rateLimitedAfterPrepare{refresh: newScenario(t, "refresh", env).(*refresh), idp: m.srv.IdP, t: t}
	l := run(t, Config{Scenario: sc, Plan: constant(20, 2*time.Second), MinAttemptedRatio: 0.5, Secrets: m.reg})
	st := l.Steps[0]
	if st.Stopped != "" || st.Requests < 20 {
		t.Fatalf("stopped after %d: %q", st.Requests, st.Stopped)
	}
	limited := uint64(0)
	for _, e := range st.Errors {
		if e.Status == 429 {
			limited += e.Count
		}
	}
	if limited == 0 || st.OK == 0 || limited+st.OK != st.Requests {
		t.Errorf("%d ok, %d rate-limited of %d; errors %+v", st.OK, limited, st.Requests, st.Errors)
	}
	if sc.retried.Load() != limited || sc.spent.Load() != 0 {
		t.Errorf("put back %d, spent %d; want %d and 0", sc.retried.Load(), sc.spent.Load(), limited)
	}

	s := &refresh{rotates: true, pool: make(chan string, 2)}
	refused := okResult([]byte(`{"error":"invalid_grant"}`))
	refused.Code = 400
	s.Inspect(refused)
	limitedRes := okResult([]byte(`{"error":"rate_limited"}`))
	limitedRes.Code = 429
	s.Inspect(limitedRes)
	if s.spent.Load() != 1 {
		t.Errorf("invalid_grant and 429: %d spent, want 1", s.spent.Load())
	}

	// No answer at all puts the token back; an answer of 400 does not.
	s.pool <- "rt-1"
	var tgt vegeta.Target
	if err := s.Targeter()(&tgt); err != nil {
		t.Fatal(err)
	}
	send := func(rt http.RoundTripper) {
		req, err := tgt.Request()
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := s.Transport(rt).RoundTrip(req); err == nil {
			resp.Body.Close()
		}
	}
	send(roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection reset") }))
	if len(s.pool) != 1 || <-s.pool != "rt-1" {
		t.Fatal("a token sent without an answer did not come back")
	}
	send(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 400, Body: io.NopCloser(strings.NewReader(""))}, nil
	}))
	if len(s.pool) != 0 {
		t.Error("a token the IdP refused with 400 came back")
	}
}

// Opaque tokens cannot be verified: the verified-sample gate then says
// "n/a", neither a pass nor a failure, unless verification was asked for
// by name, when it fails. The twin with JWTs passes with tokens verified.
func TestVerifiedSampleWithNothingVerifiable(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	run1 := func(client string, required bool) *results.Load {
		t.Helper()
		env := m.env(t, client)
		return run(t, Config{Scenario: newScenario(t, "client-credentials", env), Plan: constant(20, 500*time.Millisecond),
			Checker: m.checker(t, env.Client), VerifyEvery: 5, VerifyRequired: required, MinAttemptedRatio: 0.5, Secrets: m.reg})
	}
	l := run1("cc-post", false)
	g := gate(l, gateVerified)
	if g == nil || !g.NotApplicable || !g.Passed || !strings.HasPrefix(g.Message, "n/a verified sample: nothing verifiable came") || !l.Passed() {
		t.Errorf("opaque tokens: passed %v, gate %+v", l.Passed(), g)
	}
	run := ToRun(l, results.Tool{Name: "test"}, results.Target{Name: "mock"}, time.Now(), time.Now())
	for _, sp := range run.Specs {
		if strings.HasPrefix(sp.Name, gateVerified) && sp.State != results.Skipped {
			t.Errorf("n/a gate as a spec: %s %s", sp.Name, sp.State)
		}
	}
	l = run1("cc-post", true)
	if g := gate(l, gateVerified); g == nil || g.Passed || !strings.Contains(g.Message, "FAIL verified sample: verification was asked for") || l.Passed() {
		t.Errorf("opaque tokens, verification asked for: gate %+v", g)
	}
	l = run1("cc", true)
	if g := gate(l, gateVerified); g == nil || !g.Passed || g.NotApplicable || l.Verification.Verified == 0 {
		t.Errorf("JWTs: gate %+v, verification %+v", g, l.Verification)
	}
}

// The first credential of each kind from the attack is verified even
// when the preparation's responses used up the sampling interval: three
// logins give one sampled response (access and ID token), the attack's
// Akkess tokens one more, the first.
func TestFirstAttackCredentialOfEachKindIsVerified(t *testing.T) {
	m := startTargetMock(t, "mock-akkess.yaml")
	env := m.env(t, "code")
	env.Pool = PoolOptions{Size: 3}
	l := run(t, Config{Scenario: newScenario(t, "akkess-token", env), Plan: constant(20, 500*time.Millisecond), Checker: m.checker(t, env.Client),
		VerifyEvery: 1000, MinAttemptedRatio: 0.5, Secrets: m.reg})
	if v := l.Verification; v.Offered != 3 || v.Verified != 3 || v.Failed != 0 {
		t.Errorf("verification: %+v, want the sampled login's two tokens and the first akkess_t1", v)
	}
}

// A rate past what a process can pace is refused before anything is sent
// (2e9/s for 1µs divided by a zero interval); the ceiling itself is
// accepted and paces hits a microsecond apart. A schedule built without
// validation never divides by zero.
func TestRateCeiling(t *testing.T) {
	if err := (Plan{Model: Constant, Rates: []float64{2e9}, Duration: time.Microsecond}).Validate(); err == nil || !strings.Contains(err.Error(), "at most 1000000/s") {
		t.Errorf("2e9/s: %v", err)
	}
	if err := (Plan{Model: Ramp, From: 1, To: 2e6, Duration: time.Microsecond}).Validate(); err == nil || !strings.Contains(err.Error(), "ramp end") {
		t.Errorf("ramp to 2e6/s: %v", err)
	}
	if err := (Plan{Model: Constant, Rates: []float64{MaxRate}, Duration: time.Microsecond}).Validate(); err != nil {
		t.Errorf("the ceiling: %v", err)
	}
	s := newConstant(MaxRate, time.Millisecond, 0)
	if s.interval() != time.Microsecond || s.limit() != 1000 {
		t.Errorf("at the ceiling: interval %s, limit %d", s.interval(), s.limit())
	}
	for _, rate := range []float64{2e9, 1e-6} {
		s := newConstant(rate, time.Microsecond, 0)
		_ = s.expected(time.Second)
		_ = s.due(3)
	}
}

// A target answering in 500 ms with two workers allowed cannot be sent 20
// hits a second: every worker waits on it, and the step is invalid for the
// worker cap, not for a generator short of CPU. The twin with workers to
// spare is valid and its peak stays under the cap.
func TestWorkerCapNamedAsTheBottleneck(t *testing.T) {
	m := startMock(t, "ES256", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(500 * time.Millisecond)
			h.ServeHTTP(w, r)
		})
	})
	l := run(t, Config{Scenario: m.scenario(t), Plan: constant(20, time.Second), Workers: 2, MaxWorkers: 2, Secrets: m.secrets})
	st := l.Steps[0]
	if st.Valid || st.PeakInFlight != 2 || !strings.Contains(st.InvalidReason, "worker cap reached: rate x latency exceeded --max-workers 2") {
		t.Errorf("capped: valid %v, peak %d, reason %q", st.Valid, st.PeakInFlight, st.InvalidReason)
	}
	l = run(t, Config{Scenario: m.scenario(t), Plan: constant(20, time.Second), MaxWorkers: 100, MinAttemptedRatio: 0.5, Secrets: m.secrets})
	st = l.Steps[0]
	if !st.Valid || st.PeakInFlight == 0 || st.PeakInFlight >= 100 {
		t.Errorf("with workers to spare: valid %v (%s), peak %d", st.Valid, st.InvalidReason, st.PeakInFlight)
	}
	// Short of the rate without the cap reached: the generator's fault.
	short := &results.LoadStep{AttemptedRate: 10, AttemptedRatio: 0.5, PeakInFlight: 3}
	if got := invalidReason(short, 20, 0.98, 512); !strings.Contains(got, "the generator, not the target, was the bottleneck") || strings.Contains(got, "worker cap") {
		t.Errorf("under the cap: %q", got)
	}
}

// A stale pooled token is minted again off the hit: take returns a live
// one at once while the mint waits; only a pool with nothing live makes
// the hit wait for a grant; without a way to mint, it refuses.
func TestTokenPoolMintsInTheBackground(t *testing.T) {
	release := make(chan struct{})
	fresh := &pooledToken{payload: "fresh", exp: time.Now().Add(time.Hour)}
	p := &tokenPool{what: "access token", timeout: 5 * time.Second, remint: func(context.Context) (*pooledToken, error) {
		<-release
		return fresh, nil
	}}
	p.add(&pooledToken{payload: "stale", exp: time.Now().Add(10 * time.Millisecond)}, time.Hour)
	p.add(&pooledToken{payload: "live", exp: time.Now().Add(time.Hour)}, time.Hour)
	p.settle(time.Second)
	got, err := p.take()
	if err != nil || got != "live" {
		t.Fatalf("take: %v %v, want the live token at once", got, err)
	}
	close(release)
	p.wait()
	if p.reminted.Load() != 1 || p.slots[0].tok.Load() != fresh || p.waited.Load() != 0 {
		t.Errorf("background mint: %d minted, slot %v, %d waited", p.reminted.Load(), p.slots[0].tok.Load().payload, p.waited.Load())
	}

	all := &tokenPool{what: "access token", timeout: 5 * time.Second, remint: func(context.Context) (*pooledToken, error) { return fresh, nil }}
	all.add(&pooledToken{payload: "stale", exp: time.Now().Add(10 * time.Millisecond)}, time.Hour)
	all.settle(time.Second)
	all.async.Store(maxMinting) // no background mint free: the hit must wait
	if got, err := all.take(); err != nil || got != "fresh" || all.waited.Load() != 1 {
		t.Errorf("nothing live: %v %v, %d waited", got, err, all.waited.Load())
	}

	none := &tokenPool{what: "IdP access token", why: "the scenario does not log in again"}
	none.add(&pooledToken{payload: "stale", exp: time.Now().Add(10 * time.Millisecond)}, time.Hour)
	none.settle(time.Second)
	if _, err := none.take(); err == nil || !strings.Contains(err.Error(), "the scenario does not log in again") {
		t.Errorf("no mint: %v", err)
	}
}
