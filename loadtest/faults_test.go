package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/mockidp"
)

// onToken wraps the mock so that token requests go through fn; fn calls
// next to let the mock answer.
func onToken(fn func(w http.ResponseWriter, r *http.Request, next http.Handler)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockidp.PathToken {
				next.ServeHTTP(w, r)
				return
			}
			fn(w, r, next)
		})
	}
}

// rewriteToken lets the mock answer, then hands its body to edit.
func rewriteToken(edit func(body []byte) []byte) func(http.Handler) http.Handler {
	return onToken(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(edit(rec.Body.Bytes()))
	})
}

func run(t *testing.T, cfg Config) *results.Load {
	t.Helper()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep.Load
}

func constant(rate float64, d time.Duration) Plan {
	return Plan{Model: Constant, Rates: []float64{rate}, Duration: d}
}

// Injected latency: the same p99 gate passes on the plain mock and breaches
// behind a 1 s delay. The gate (250ms) sits 4x under the delay, which bounds
// the slow mock's latency from below, and about 7x over the worst p99 the
// plain mock showed on a loaded machine (35ms under -race with every
// package's tests running).
func TestInjectedLatencyBreachesP99(t *testing.T) {
	t.Parallel()
	const delay = time.Second
	slos := mustSLOs(t, "p99<=250ms")
	plain := startMock(t, "ES256", nil)
	l := run(t, Config{Scenario: plain.scenario(t), Plan: constant(20, time.Second), SLOs: slos, MinAttemptedRatio: 0.5})
	if g := gate(l, "p99<=250ms"); g == nil || !g.Passed {
		t.Fatalf("plain mock: %+v", g)
	}

	slow := startMock(t, "ES256", onToken(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		time.Sleep(delay)
		next.ServeHTTP(w, r)
	}))
	l = run(t, Config{Scenario: slow.scenario(t), Plan: constant(20, time.Second), SLOs: slos, MinAttemptedRatio: 0.5})
	g := gate(l, "p99<=250ms")
	if g == nil || g.Passed {
		t.Fatalf("slow mock passed: %+v", g)
	}
	if !l.Steps[0].Valid {
		t.Errorf("the step must stay valid (the target, not the generator, is slow): %s", l.Steps[0].InvalidReason)
	}
	if l.Steps[0].Latency.P50 < delay {
		t.Errorf("p50 %s under the injected %s", l.Steps[0].Latency.P50, delay)
	}
}

// Injected errors are grouped by status and OAuth error code, and breach a
// success SLO the plain mock meets.
func TestErrorsGroupedByStatusAndOAuthCode(t *testing.T) {
	var seq atomic.Int64
	m := startMock(t, "ES256", onToken(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		switch seq.Add(1) % 5 {
		case 1:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"temporarily_unavailable"}`))
		case 2:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			next.ServeHTTP(w, r)
		}
	}))
	l := run(t, Config{Scenario: m.scenario(t), Plan: constant(50, time.Second), SLOs: mustSLOs(t, "success>=99%")})
	st := l.Steps[0]
	n := st.Requests
	// The count depends on how busy the machine is; the grouping does not.
	if n < 10 || uint64(seq.Load()) != n {
		t.Fatalf("requests %d", n)
	}
	// The middleware answers request k (from 1) with 503 when k%5 == 1 and
	// 429 when k%5 == 2.
	want := map[string]uint64{"503 Service Unavailable: error=temporarily_unavailable": (n + 4) / 5, "429 Too Many Requests": (n + 3) / 5}
	wantOK := n - want["429 Too Many Requests"] - want["503 Service Unavailable: error=temporarily_unavailable"]
	for _, e := range st.Errors {
		if want[e.Message] != e.Count {
			t.Errorf("group %q: %d", e.Message, e.Count)
		}
		delete(want, e.Message)
		if e.Status == 503 && e.OAuthError != "temporarily_unavailable" {
			t.Errorf("503 group has oauth error %q", e.OAuthError)
		}
	}
	if len(want) > 0 {
		t.Errorf("groups missing: %v (got %+v)", want, st.Errors)
	}
	if st.OK != wantOK || st.StatusCodes["200"] != wantOK {
		t.Errorf("ok %d, codes %v", st.OK, st.StatusCodes)
	}
	if g := gate(l, "success>=99%"); g == nil || g.Passed || !strings.Contains(g.Message, fmt.Sprintf("measured %.3f%%", 100*float64(wantOK)/float64(n))) {
		t.Errorf("success gate: %+v", g)
	}
}

// An unknown client: every hit is a 401 invalid_client, one group.
func TestUnknownClientIsInvalidClient(t *testing.T) {
	m := startMock(t, "ES256", nil)
	env := m.env
	env.Client.ID = "no-such-client"
	sc, err := newClientCredentials(env)
	if err != nil {
		t.Fatal(err)
	}
	l := run(t, Config{Scenario: sc, Plan: constant(100, 300*time.Millisecond)})
	st := l.Steps[0]
	if len(st.Errors) != 1 || st.Errors[0].Status != 401 || st.Errors[0].OAuthError != "invalid_client" || st.Errors[0].Count != st.Requests {
		t.Errorf("errors: %+v", st.Errors)
	}
	if st.OK != 0 || st.Success != 0 {
		t.Errorf("ok %d", st.OK)
	}
}

// A transport failure (nothing listens) is one group, whatever the local
// port of each attempt.
func TestTransportErrorsGroupedOnce(t *testing.T) {
	m := startMock(t, "ES256", nil)
	env := m.env
	env.Endpoints.Token = "http://127.0.0.1:1/token"
	sc, err := newClientCredentials(env)
	if err != nil {
		t.Fatal(err)
	}
	l := run(t, Config{Scenario: sc, Plan: constant(50, 200*time.Millisecond)})
	st := l.Steps[0]
	if len(st.Errors) != 1 || st.Errors[0].Status != 0 || !strings.Contains(st.Errors[0].Message, "connection refused") {
		t.Errorf("errors: %+v", st.Errors)
	}
}

// With one worker and a 100 ms target, the generator can send at most 10
// of the 50 hits a second asked for: the step is marked invalid, for the
// worker cap, and fails the run. With enough workers the same target and rate make a valid step
// (5 hits in flight are needed; 64 workers may run).
func TestGeneratorBoundStepIsInvalid(t *testing.T) {
	t.Parallel()
	m := startMock(t, "ES256", onToken(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		time.Sleep(100 * time.Millisecond)
		next.ServeHTTP(w, r)
	}))
	l := run(t, Config{Scenario: m.scenario(t), Plan: constant(50, time.Second), Workers: 1, MaxWorkers: 1, SLOs: mustSLOs(t, "p99<=1s"), MinAttemptedRatio: 0.5})
	st := l.Steps[0]
	if st.Valid || st.AttemptedRatio > 0.3 || !strings.Contains(st.InvalidReason, "worker cap reached: rate x latency exceeded --max-workers 1") {
		t.Fatalf("capped generator: valid=%v ratio=%.2f reason=%q", st.Valid, st.AttemptedRatio, st.InvalidReason)
	}
	if l.Passed() {
		t.Error("a run with an invalid step passed")
	}
	if g := gate(l, "p99<=1s"); g != nil {
		t.Errorf("an invalid step was judged on latency: %+v", g)
	}
	if st.ScheduleLagMax < 300*time.Millisecond {
		t.Errorf("schedule lag max %s: a saturated generator falls behind", st.ScheduleLagMax)
	}

	l = run(t, Config{Scenario: m.scenario(t), Plan: constant(50, time.Second), Workers: 10, MaxWorkers: 64, MinAttemptedRatio: 0.5})
	if st := l.Steps[0]; !st.Valid {
		t.Errorf("64 workers: %s", st.InvalidReason)
	}
}

// A target that replays one token response is caught by the uniqueness
// check (the plain mock's run in TestConstantRateAgainstMock has none).
func TestReplayedTokenIsADuplicate(t *testing.T) {
	var mu sync.Mutex
	var first []byte
	m := startMock(t, "ES256", rewriteToken(func(b []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = bytes.Clone(b)
		}
		return first
	}))
	l := run(t, Config{Scenario: m.scenario(t), Plan: constant(100, 300*time.Millisecond)})
	n := l.Steps[0].Requests
	for _, k := range []string{"unique access_token", "unique access_token jti"} {
		g := gate(l, k)
		if g == nil || g.Passed || !strings.Contains(g.Message, "were issued before") {
			t.Errorf("%s: %+v", k, g)
		}
	}
	for _, u := range l.Uniqueness {
		if u.Unique != 1 || u.Duplicates != n-1 {
			t.Errorf("%s: %+v of %d", u.Kind, u, n)
		}
	}
}

// Tokens with a broken signature fail the verification sample; the
// uniqueness check does not notice (each token is still distinct).
func TestBadSignatureFailsVerification(t *testing.T) {
	m := startMock(t, "ES256", rewriteToken(func(b []byte) []byte {
		var body map[string]any
		if json.Unmarshal(b, &body) != nil {
			return b
		}
		if at, ok := body["access_token"].(string); ok {
			i := strings.LastIndexByte(at, '.')
			sig := []byte(at[i+1:])
			if sig[3] == 'A' {
				sig[3] = 'B'
			} else {
				sig[3] = 'A'
			}
			body["access_token"] = at[:i+1] + string(sig)
		}
		out, _ := json.Marshal(body)
		return out
	}))
	l := run(t, Config{Scenario: m.scenario(t), Plan: constant(100, 500*time.Millisecond), Checker: m.checker(t), VerifyEvery: 5})
	v := l.Verification
	if v.Failed == 0 || v.Verified != 0 || len(v.Failures) != 1 || v.Failures[0].Reason != "access_token: signature invalid" {
		t.Errorf("verification: %+v", v)
	}
	if g := gate(l, gateVerified); g == nil || g.Passed {
		t.Errorf("verified gate: %+v", g)
	}
	if g := gate(l, "unique access_token"); g == nil || !g.Passed {
		t.Errorf("uniqueness: %+v", g)
	}
}

// Steps run in turn under names that carry their rate, and throughput is
// judged on the best step; a ramp's schedule rises over its time line.
func TestStepsAndRamp(t *testing.T) {
	t.Parallel()
	m := startMock(t, "EdDSA", nil)
	l := run(t, Config{Scenario: m.scenario(t), Plan: Plan{Model: Steps, Rates: []float64{20, 100}, Duration: time.Second},
		SLOs: mustSLOs(t, "p99<=2s", "throughput>=50/s"), MinAttemptedRatio: 0.5})
	if len(l.Steps) != 2 || l.Steps[0].PlannedHits != 20 || l.Steps[1].PlannedHits != 100 || l.Steps[1].Requests < 50 {
		t.Fatalf("steps: %+v", l.Steps)
	}
	if l.Steps[0].Name != "step 1 20/s" || l.Steps[1].Name != "step 2 100/s" {
		t.Errorf("names %q, %q", l.Steps[0].Name, l.Steps[1].Name)
	}
	// Throughput is judged on the best step, not on each: the first step
	// cannot reach 50/s (it sends 20 hits over a second), the second sends
	// twice that.
	if g := gate(l, "throughput>=50/s"); g == nil || !g.Passed || g.Scope != "step 2 100/s" {
		t.Errorf("throughput gate: %+v", g)
	}

	l = run(t, Config{Scenario: m.scenario(t), Plan: Plan{Model: Ramp, From: 20, To: 100, Duration: 2 * time.Second}, MinAttemptedRatio: 0.5})
	st := l.Steps[0]
	// (20+100)/2 × 2s = 120 hits.
	if st.Model != "ramp" || st.PlannedHits != 120 || st.Requests < 60 || !st.Valid {
		t.Fatalf("ramp: model %s planned %d sent %d valid %v %s", st.Model, st.PlannedHits, st.Requests, st.Valid, st.InvalidReason)
	}
	// The time line shows the rate rising: the schedule asks for as much or
	// more in each bucket, and the second second carries twice the hits of the
	// first (80 against 40).
	tb := st.TimeBuckets
	if len(tb) < 8 {
		t.Fatalf("time buckets: %+v", tb)
	}
	var first, second uint64
	for i, b := range tb {
		if i > 0 && i < 10 && b.RequestedRate < tb[i-1].RequestedRate {
			t.Errorf("requested rate falls at bucket %d: %v after %v", i, b.RequestedRate, tb[i-1].RequestedRate)
		}
		if b.Offset < time.Second {
			first += b.Requests
		} else {
			second += b.Requests
		}
	}
	// The schedule asks for 20/s in the first bucket and 100/s in the last.
	if last := tb[min(9, len(tb)-1)]; last.RequestedRate-tb[0].RequestedRate < 50 {
		t.Errorf("requested rate %v in the first bucket, %v in the last", tb[0].RequestedRate, last.RequestedRate)
	}
	if second <= first {
		t.Errorf("hits in the first second %d, in the second %d: the ramp did not rise", first, second)
	}
}

// The target serves one request at a time and each takes 100 ms: its
// capacity is 10/s whatever the machine, because a server-side lock, not
// CPU, bounds it. At 4/s and 8/s requests never queue (p99 about 100ms); at
// 16/s they queue for the whole probe (the last waits about 600ms). The
// p99<=250ms gate sits far from both, so the search ends between 4/s and
// 16/s, bounded by the SLO. With an SLO no rate can meet, nothing is found.
func TestFindCapacity(t *testing.T) {
	t.Parallel()
	var one sync.Mutex
	m := startMock(t, "ES256", onToken(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		one.Lock()
		defer one.Unlock()
		time.Sleep(100 * time.Millisecond)
		next.ServeHTTP(w, r)
	}))
	plan := Plan{Model: FindCapacity, Rates: []float64{4}, Duration: time.Second, MaxRate: 64, MaxProbes: 8, Precision: 0.6}
	rep, err := Run(context.Background(), Config{Scenario: m.scenario(t), Plan: plan, SLOs: mustSLOs(t, "p99<=250ms", "throughput>=1/s"), MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Load.Capacity
	if c == nil || !c.Found || c.Rate < 4 || c.Rate >= 16 || c.Bound != "slo" {
		t.Fatalf("capacity: %+v; probes %v", c, names(rep.Load.Steps))
	}
	if c.Probes > 8 || len(rep.Load.Steps) != c.Probes {
		t.Errorf("probes %d, steps %d", c.Probes, len(rep.Load.Steps))
	}
	if !rep.Load.Passed() {
		for _, g := range rep.Load.Gates {
			t.Log(g.Message)
		}
		t.Error("a search that found a capacity failed")
	}

	plain := startMock(t, "ES256", nil)
	rep, err = Run(context.Background(), Config{Scenario: plain.scenario(t), Plan: Plan{Model: FindCapacity, Rates: []float64{20}, Duration: 200 * time.Millisecond, MaxRate: 40, MaxProbes: 3, Precision: 0.3},
		SLOs: mustSLOs(t, "p99<=1us")})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Load.Capacity; c.Found || rep.Load.Passed() || !strings.Contains(c.Detail, "no rate tried met the SLOs") {
		t.Errorf("impossible SLO: %+v", c)
	}
}

// HTTP/2 is used when asked for, and recorded; HTTP/1.1 otherwise.
func TestHTTPVersionIsChosenAndRecorded(t *testing.T) {
	m := startMock(t, "ES256", nil)
	l := run(t, Config{Scenario: m.scenario(t), Plan: constant(50, 500*time.Millisecond), HTTP: HTTPOptions{Version: HTTP2}})
	if l.Generator.HTTPVersion != "HTTP/2" || l.Generator.Protocols["HTTP/2.0"] != l.Steps[0].Requests || l.Steps[0].OK != l.Steps[0].Requests || l.Steps[0].OK < 10 {
		t.Errorf("h2: %+v, ok %d", l.Generator, l.Steps[0].OK)
	}
	l = run(t, Config{Scenario: m.scenario(t), Plan: constant(50, 500*time.Millisecond), HTTP: HTTPOptions{Version: HTTP1}})
	if l.Generator.HTTPVersion != "HTTP/1.1" || l.Generator.Protocols["HTTP/1.1"] != l.Steps[0].Requests || l.Generator.Protocols["HTTP/2.0"] != 0 {
		t.Errorf("h1: %+v", l.Generator)
	}
	if _, err := Run(context.Background(), Config{Scenario: m.scenario(t), Plan: constant(1, time.Second), HTTP: HTTPOptions{Version: "3"}}); err == nil {
		t.Error("HTTP/3 accepted")
	}
}

// Cancelling the context (Ctrl-C) stops the attack early and keeps what
// was measured, encoded whole.
func TestInterruptKeepsResults(t *testing.T) {
	m := startMock(t, "ES256", nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)
	var bin bytes.Buffer
	start := time.Now()
	rep, err := Run(ctx, Config{Scenario: m.scenario(t), Plan: constant(20, 20*time.Second), Results: &bin, MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("the attack did not stop on cancel (%s)", time.Since(start))
	}
	l := rep.Load
	if !l.Interrupted || !l.Steps[0].Interrupted || l.Passed() {
		t.Errorf("not marked interrupted: %+v", l.Gates)
	}
	n := l.Steps[0].Requests
	if n == 0 || n >= 400 {
		t.Fatalf("requests %d", n)
	}
	if got := len(decodeAll(t, bin.Bytes())); uint64(got) != n {
		t.Errorf("file holds %d results, report says %d", got, n)
	}
	if !l.Steps[0].Valid {
		t.Errorf("an interrupted step is still judged on what it sent: %s", l.Steps[0].InvalidReason)
	}
}

func TestJWKSScenario(t *testing.T) {
	m := startMock(t, "ES256", nil)
	sc, err := newJWKS(m.env)
	if err != nil {
		t.Fatal(err)
	}
	l := run(t, Config{Scenario: sc, Plan: constant(50, 500*time.Millisecond)})
	if st := l.Steps[0]; st.OK != st.Requests || st.OK < 10 || len(l.Uniqueness) != 0 {
		t.Errorf("jwks: ok %d errors %+v", st.OK, st.Errors)
	}

	empty := startMock(t, "ES256", func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) })
	})
	sc, _ = newJWKS(empty.env)
	l = run(t, Config{Scenario: sc, Plan: constant(100, 200*time.Millisecond)})
	if st := l.Steps[0]; st.OK != 0 || len(st.Errors) != 1 || st.Errors[0].Message != "200 OK: JWK Set has no keys" {
		t.Errorf("empty JWKS: %+v", st.Errors)
	}
}

// The SLO types the gates use are the parsed ones; a sanity check that an
// objective text survives into the gate name.
func TestGateNameIsObjectiveText(t *testing.T) {
	o, _ := slo.Parse(" p99 <= 200ms ")
	if g := gateOf(o.Judge(1), "s"); g.Name != "p99<=200ms" {
		t.Errorf("gate name %q", g.Name)
	}
}

// One stalled probe does not end the search: a failed probe is retried,
// and a rate that passes on retry counts as passed (and is reported as
// noisy). The first five requests wait 1 s, four times the gate, so the
// first probe fails whatever the machine; the retry and the next rate meet
// a plain mock. In TestFindCapacity's twin, a rate that fails twice stays
// failed.
func TestFindCapacityRetriesAFailedProbe(t *testing.T) {
	t.Parallel()
	var seen atomic.Int64
	m := startMock(t, "ES256", onToken(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if seen.Add(1) <= 5 {
			time.Sleep(time.Second)
		}
		next.ServeHTTP(w, r)
	}))
	rep, err := Run(context.Background(), Config{Scenario: m.scenario(t),
		Plan: Plan{Model: FindCapacity, Rates: []float64{10}, Duration: time.Second, MaxRate: 20, MaxProbes: 4, Precision: 0.1},
		SLOs: mustSLOs(t, "p99<=250ms"), MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Load.Capacity
	if !c.Found || c.Rate != 20 || c.Bound != "max-rate" || !strings.Contains(c.Detail, "1 rate(s) failed once and passed on retry") {
		t.Fatalf("capacity: %+v; probes %v", c, names(rep.Load.Steps))
	}
	if len(rep.Load.Steps) != 3 || rep.Load.Steps[1].Name != "probe 2 10/s (retry)" {
		t.Errorf("steps: %v", names(rep.Load.Steps))
	}
}

func names(steps []results.LoadStep) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Name
	}
	return out
}

// client_secret_post and opaque tokens: the secret travels in the body,
// tokens are counted for uniqueness but have no jti, and the sample is
// unverifiable offline rather than failed (TestConstantRateAgainstMock is
// the JWT twin).
func TestPostAuthOpaqueTokens(t *testing.T) {
	m := startMock(t, "ES256", nil)
	env := m.env
	env.Client = target.Client{Name: "cc-post", ID: mockidp.ClientCCPost, Secret: target.Secret{Secret: redact.NewSecret(mockidp.ClientCCPostSecret)},
		AuthMethod: target.ClientSecretPost, Grants: []target.Grant{target.GrantClientCredentials}, Scopes: []string{"api:read"}}
	sc, err := newClientCredentials(env)
	if err != nil {
		t.Fatal(err)
	}
	var tgt vegeta.Target
	_ = sc.Targeter()(&tgt)
	if tgt.Header.Get("Authorization") != "" || !strings.Contains(string(tgt.Body), "client_secret=") {
		t.Fatalf("post auth: %q %v", tgt.Body, tgt.Header)
	}
	l := run(t, Config{Scenario: sc, Plan: constant(100, 300*time.Millisecond), Checker: m.checker(t), VerifyEvery: 3})
	st := l.Steps[0]
	if st.OK != st.Requests || st.OK == 0 {
		t.Fatalf("ok %d of %d: %+v", st.OK, st.Requests, st.Errors)
	}
	if len(l.Uniqueness) != 1 || l.Uniqueness[0].Kind != "access_token" || l.Uniqueness[0].Duplicates != 0 {
		t.Errorf("uniqueness: %+v", l.Uniqueness)
	}
	if v := l.Verification; v.Unverifiable == 0 || v.Failed != 0 || v.Verified != 0 {
		t.Errorf("verification: %+v", v)
	}
}

// The hit timeout bounds each hit from sending to the last byte, whether
// the target is silent before its headers or stalls in the body, and the
// failures say it was the timeout. A target that answers within it is
// untouched by it.
func TestHitTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stall := func(w http.ResponseWriter) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
	}
	for _, c := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, next http.Handler)
	}{
		{"silent before the headers", func(w http.ResponseWriter, r *http.Request, next http.Handler) { stall(w) }},
		{"stalls in the body", func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"access_token":"`))
			w.(http.Flusher).Flush()
			stall(w)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := startMock(t, "ES256", onToken(c.handler))
			began := time.Now()
			l := run(t, Config{Scenario: m.scenario(t), Plan: constant(10, 500*time.Millisecond), HTTP: HTTPOptions{Timeout: timeout}, MinAttemptedRatio: 0.1})
			if took := time.Since(began); took > 3*time.Second {
				t.Errorf("the attack took %s: the hit timeout %s did not bound it", took, timeout)
			}
			st := l.Steps[0]
			if st.Requests == 0 || st.OK != 0 {
				t.Fatalf("%d requests, %d OK: want every hit to fail", st.Requests, st.OK)
			}
			var timedOut uint64
			for _, g := range st.Errors {
				if strings.Contains(g.Message, "within the hit timeout (300ms)") {
					timedOut += g.Count
				}
			}
			if timedOut != st.Requests {
				t.Errorf("%d of %d failures name the hit timeout: %+v", timedOut, st.Requests, st.Errors)
			}
			if st.Latency.P50 < timeout || st.Latency.Max > timeout+time.Second {
				t.Errorf("latency p50 %s max %s: want about the %s timeout", st.Latency.P50, st.Latency.Max, timeout)
			}
		})
	}
	t.Run("a target within the timeout", func(t *testing.T) {
		t.Parallel()
		m := startMock(t, "ES256", onToken(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			time.Sleep(50 * time.Millisecond)
			next.ServeHTTP(w, r)
		}))
		l := run(t, Config{Scenario: m.scenario(t), Plan: constant(10, 500*time.Millisecond), HTTP: HTTPOptions{Timeout: timeout}, MinAttemptedRatio: 0.1})
		if st := l.Steps[0]; st.Requests == 0 || st.OK != st.Requests {
			t.Errorf("%d of %d OK: %+v", st.OK, st.Requests, st.Errors)
		}
	})
}
