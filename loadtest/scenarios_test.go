package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	"github.com/idpconform/idpconform/mockidp"
	"github.com/idpconform/idpconform/reports/schema"
)

// userMock is the real mock started from one of the bundled target files,
// with its users, login form, code clients and (mock-akkess.yaml) the
// Akkess exchange: what the scenarios that log users in need.
type userMock struct {
	srv *mockidp.Server
	tg  *target.Target
	reg *redact.Registry
	oc  *oauth.Client
}

func startTargetMock(t *testing.T, file string, faults ...string) *userMock {
	t.Helper()
	src, err := fixtures.FS.ReadFile(path.Join(fixtures.TargetsDir, file))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.Parse(file, src, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	tg.Mock.Faults = append(tg.Mock.Faults, faults...)
	var o mockidp.Options
	if err := tg.Mock.Apply(&o); err != nil {
		t.Fatal(err)
	}
	o.SigningAlg = "ES256"
	srv, err := mockidp.NewServer("", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	reg := redact.New()
	reg.Add(tg.Secrets()...)
	oc := oauth.New(oauth.Options{Secrets: reg})
	t.Cleanup(oc.CloseIdleConnections)
	return &userMock{srv: srv, tg: tg, reg: reg, oc: oc}
}

// env is what `idpconform load` hands a scenario acting as the named client.
func (m *userMock) env(t *testing.T, client string) Env {
	t.Helper()
	c, ok := m.tg.Client(client)
	if !ok {
		t.Fatalf("no client %s in %s", client, m.tg.Name)
	}
	u := m.srv.URL
	return Env{Target: m.tg, Client: c, Issuer: u, OAuth: m.oc, Secrets: m.reg,
		Endpoints: target.Endpoints{Authorization: u + mockidp.PathAuthorize, Token: u + mockidp.PathToken,
			JWKS: u + mockidp.PathJWKS, Introspection: u + mockidp.PathIntrospect}}
}

// checker verifies sampled tokens as the CLI does: the issuer's JWKS, the
// bundled contracts, and the Akkess expectations of mock-akkess.yaml.
func (m *userMock) checker(t *testing.T, c target.Client) *JWTChecker {
	t.Helper()
	cs, err := contract.LoadFS(fixturesFS(t), ".")
	if err != nil {
		t.Fatal(err)
	}
	algs, _ := verify.Algorithms(target.DefaultSigningAlgs)
	ks := verify.NewRemoteKeySet(func(ctx context.Context) ([]byte, error) {
		return m.oc.FetchJWKS(ctx, m.srv.URL+mockidp.PathJWKS)
	}, nil)
	ch := &JWTChecker{Verifier: &verify.Verifier{Keys: ks, Algorithms: algs, Leeway: 5 * time.Second}, Issuer: m.srv.URL,
		ClientID: c.ID, Contracts: map[CredentialKind]*contract.Contract{}}
	for kind, name := range map[CredentialKind]string{AccessToken: m.tg.Contracts.AccessToken, IDToken: m.tg.Contracts.IDToken, AkkessT1: m.tg.Contracts.AkkessT1} {
		if name == "" {
			continue
		}
		ct, err := cs.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		ch.Contracts[kind] = ct
	}
	if ak := m.tg.Akkess; ak != nil {
		ch.Kinds = map[CredentialKind]KindCheck{AkkessT1: {Expected: verify.Expected{Audience: ak.Tenant}, Cty: "t1",
			Context: contract.Context{TTL: ak.Expiry.D(), Skew: 5 * time.Second}}}
	}
	return ch
}

func newScenario(t *testing.T, name string, env Env) Scenario {
	t.Helper()
	info, err := LookupScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := info.New(env)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func uniq(l *results.Load, kind string) results.LoadUniqueness {
	for _, u := range l.Uniqueness {
		if u.Kind == kind {
			return u
		}
	}
	return results.LoadUniqueness{Kind: kind}
}

// noSecretIn fails when the run's record or results file spells a value
// the run registered (passwords, client secrets, every pooled token and
// code) or anything shaped like a JWT.
func noSecretIn(t *testing.T, m *userMock, l *results.Load, bin []byte) {
	t.Helper()
	doc := runJSON(t, l.Redacted(m.reg))
	if m.reg.Len() < 10 {
		t.Fatalf("only %d secrets registered: the pool's tokens were not", m.reg.Len())
	}
	for _, v := range m.reg.Values() {
		if bytes.Contains(doc, []byte(v)) || bytes.Contains(bin, []byte(v)) {
			t.Fatalf("a registered secret (%d bytes) is written", len(v))
		}
	}
	if bytes.Contains(bin, []byte("eyJ")) || bytes.Contains(doc, []byte("eyJ")) {
		t.Fatal("a JWT is written")
	}
}

// The refresh pool circulates: ten tokens seeded by real logins serve 40
// refreshes, because every refresh's rotated token goes back into the pool
// and none is sent twice (the client declares rotate-reuse-detection: a
// token sent twice would revoke its family and fail every later refresh of
// it). After the attacks, spent tokens are replayed and refused.
func TestRefreshPoolCirculatesRotatedTokens(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	env := m.env(t, "code")
	env.Pool = PoolOptions{Size: 10}
	var bin bytes.Buffer
	l := run(t, Config{Scenario: newScenario(t, "refresh", env), Plan: constant(40, time.Second), Checker: m.checker(t, env.Client),
		VerifyEvery: 5, MinAttemptedRatio: 0.5, Results: &bin, Secrets: m.reg})
	st := l.Steps[0]
	if st.Requests < 20 || st.OK != st.Requests || st.Stopped != "" {
		t.Fatalf("refresh: %d ok of %d, stopped %q, errors %+v", st.OK, st.Requests, st.Stopped, st.Errors)
	}
	p := l.Preparation
	if p == nil || p.Wanted != 10 || p.Got != 10 || p.Failed != 0 || p.Attempts != 10 || p.Duration <= 0 || p.What != "refresh tokens from logins" {
		t.Fatalf("preparation: %+v", p)
	}
	// Ten seeded, one rotated per refresh, three more from the replay check
	// (not counted): all distinct.
	if u := uniq(l, "refresh_token"); u.Seen != 10+st.Requests || u.Duplicates != 0 {
		t.Errorf("refresh tokens: %+v after %d refreshes", u, st.Requests)
	}
	if u := uniq(l, "id_token jti"); u.Seen != 10+st.Requests || u.Duplicates != 0 {
		t.Errorf("id token jtis: %+v", u)
	}
	if v := l.Verification; v.Verified == 0 || v.Failed != 0 {
		t.Errorf("verification: %+v", v)
	}
	g := gate(l, gateRefreshReplay)
	if g == nil || !g.Passed || g.Scope != "audit" || !strings.Contains(g.Measured, "3 of 3 replays refused") {
		t.Fatalf("replay check: %+v", g)
	}
	if !l.Passed() {
		t.Errorf("run failed: %+v", l.Gates)
	}
	noSecretIn(t, m, l, bin.Bytes())
}

// The twin of the replay check: a target that accepts a rotated refresh
// token again (mock fault refresh-reuse) fails the run, though every
// refresh of the attack itself succeeded.
func TestRefreshReuseFailsTheReplayCheck(t *testing.T) {
	m := startTargetMock(t, "mock.yaml", "refresh-reuse")
	env := m.env(t, "code")
	env.Pool = PoolOptions{Size: 8}
	l := run(t, Config{Scenario: newScenario(t, "refresh", env), Plan: constant(20, 500*time.Millisecond), MinAttemptedRatio: 0.5})
	if st := l.Steps[0]; st.OK != st.Requests || st.Requests == 0 {
		t.Fatalf("attack: %+v", st.Errors)
	}
	g := gate(l, gateRefreshReplay)
	if g == nil || g.Passed || !strings.Contains(g.Message, "3 of 3 refresh tokens were accepted again") || !strings.Contains(g.Message, "RFC 9700 §4.14.2") {
		t.Fatalf("replay check: %+v", g)
	}
	if l.Passed() {
		t.Error("a target accepting refresh token reuse passed")
	}
	run := ToRun(l, results.Tool{Name: "idpconform"}, results.Target{Name: "mock"}, time.Now(), time.Now())
	found := false
	for _, sp := range run.Specs {
		if strings.HasPrefix(sp.Name, gateRefreshReplay) && sp.State == results.Failed && strings.Contains(sp.Requirement, "RFC 9700") {
			found = true
		}
	}
	if !found {
		t.Errorf("no failed spec for the replay check: %+v", run.Specs)
	}
}

// Without rotation each hit spends a token: a pool of 8 for a plan of 40
// runs dry at the ninth hit. The attack stops there (not at its duration),
// says why, sends no further step, and fails the run; the eight refreshes
// it sent are measured and kept, and the replay check does not apply.
func TestDryRefreshPoolStopsTheAttack(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	env := m.env(t, "refresh-static")
	env.Pool = PoolOptions{Size: 8}
	var bin bytes.Buffer
	began := time.Now()
	l := run(t, Config{Scenario: newScenario(t, "refresh", env), Plan: Plan{Model: Steps, Rates: []float64{20, 40}, Duration: 5 * time.Second},
		MinAttemptedRatio: 0.5, Results: &bin})
	// The plan asks for 10s; eight logins and eight hits at 20/s take well
	// under a second.
	if time.Since(began) > 5*time.Second {
		t.Errorf("the attack ran %s: a dry pool must stop it at once, not at the end of its 5s (and the next step's)", time.Since(began))
	}
	if len(l.Steps) != 1 {
		t.Fatalf("steps after the pool ran dry: %v", names(l.Steps))
	}
	st := l.Steps[0]
	if st.Requests != 8 || st.OK != 8 || !strings.Contains(st.Stopped, "refresh token pool ran dry after 8 refreshes") || !strings.Contains(st.Stopped, "rotation none") {
		t.Fatalf("step: %d sent, %d ok, stopped %q", st.Requests, st.OK, st.Stopped)
	}
	g := gate(l, gateStopped)
	if g == nil || g.Passed || !strings.Contains(g.Message, "stopped after 8 of 100 planned hits: refresh token pool ran dry") {
		t.Errorf("gate: %+v", g)
	}
	if l.Passed() {
		t.Error("a run whose pool ran dry passed")
	}
	if n := len(decodeAll(t, bin.Bytes())); n != 8 {
		t.Errorf("results file holds %d results, want the 8 refreshes sent", n)
	}
	// Without rotation the response's refresh token (if any) is the one
	// sent: not counted as issued.
	if u := uniq(l, "refresh_token"); u.Seen != 8 || u.Duplicates != 0 {
		t.Errorf("refresh tokens: %+v", u)
	}
	if notes := otherNotes(l); gate(l, gateRefreshReplay) != nil || len(notes) != 1 || !strings.Contains(notes[0], "rotation none") {
		t.Errorf("replay check under rotation none: gates %+v notes %q", l.Gates, l.Notes)
	}

	// The twin: the pool sized to the plan (the automatic size without
	// rotation) lasts the whole attack.
	env.Pool = PoolOptions{}
	l = run(t, Config{Scenario: newScenario(t, "refresh", env), Plan: constant(20, 500*time.Millisecond), MinAttemptedRatio: 0.5})
	if st := l.Steps[0]; st.Stopped != "" || st.Requests < 5 || st.OK != st.Requests || l.Preparation.Got != 10 {
		t.Errorf("pool sized to the plan: %d sent, stopped %q, prepared %+v", st.Requests, st.Stopped, l.Preparation)
	}
}

// Introspection of live tokens answers active: true; a target that sends
// active as a string (mock fault introspect-active-string) fails every
// hit, in one group that says why.
func TestIntrospectionScenario(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	env := m.env(t, "cc")
	env.Pool = PoolOptions{Size: 5}
	var bin bytes.Buffer
	l := run(t, Config{Scenario: newScenario(t, "introspection", env), Plan: constant(40, 500*time.Millisecond), Checker: m.checker(t, env.Client),
		VerifyEvery: 1, MinAttemptedRatio: 0.5, Results: &bin, Secrets: m.reg})
	st := l.Steps[0]
	if st.Requests < 10 || st.OK != st.Requests {
		t.Fatalf("introspection: %d ok of %d: %+v", st.OK, st.Requests, st.Errors)
	}
	if p := l.Preparation; p == nil || p.Got != 5 || !strings.Contains(p.What, "client credentials") {
		t.Errorf("preparation: %+v", p)
	}
	// The five minted tokens, verified; introspection issues none.
	if u := uniq(l, "access_token"); u.Seen != 5 || u.Duplicates != 0 || l.Verification.Verified != 5 {
		t.Errorf("uniqueness %+v, verification %+v", u, l.Verification)
	}
	noSecretIn(t, m, l, bin.Bytes())

	bad := startTargetMock(t, "mock.yaml", "introspect-active-string")
	env = bad.env(t, "cc")
	env.Pool = PoolOptions{Size: 5}
	l = run(t, Config{Scenario: newScenario(t, "introspection", env), Plan: constant(40, 500*time.Millisecond), MinAttemptedRatio: 0.5})
	st = l.Steps[0]
	if st.OK != 0 || len(st.Errors) != 1 || st.Errors[0].Message != "200 OK: active is not a JSON boolean (RFC 7662 §2.2)" || st.Errors[0].Count != st.Requests {
		t.Errorf("active as a string: %+v", st.Errors)
	}
}

// A whole login per hit (through the consent form: client consent asks
// for it), measured end to end: every hit's tokens are new and verify. Its
// twin: a target that signs badly (mock fault bad-signature) still answers
// every login, and the verification sample fails.
func TestAuthcodeScenario(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	env := m.env(t, "consent")
	var bin bytes.Buffer
	l := run(t, Config{Scenario: newScenario(t, "authcode", env), Plan: constant(20, time.Second), Checker: m.checker(t, env.Client),
		VerifyEvery: 4, MinAttemptedRatio: 0.5, Results: &bin, Secrets: m.reg})
	st := l.Steps[0]
	if st.Requests < 10 || st.OK != st.Requests {
		t.Fatalf("authcode: %d ok of %d: %+v", st.OK, st.Requests, st.Errors)
	}
	// The check login of Prepare, then one login per hit.
	if p := l.Preparation; p == nil || p.Got != 1 || p.Wanted != 1 {
		t.Errorf("preparation: %+v", p)
	}
	for _, k := range []string{"access_token", "id_token", "refresh_token", "id_token jti"} {
		if u := uniq(l, k); u.Seen != st.Requests+1 || u.Duplicates != 0 {
			t.Errorf("%s: %+v after %d logins", k, u, st.Requests+1)
		}
	}
	if v := l.Verification; v.Verified < 4 || v.Failed != 0 {
		t.Errorf("verification: %+v", v)
	}
	// Each hit is one response to vegeta: the code exchange's, over the
	// attack's own connections.
	if l.Generator.Protocols["HTTP/1.1"] != st.Requests {
		t.Errorf("protocols %v for %d hits", l.Generator.Protocols, st.Requests)
	}
	// A login takes several exchanges: its latency is theirs together,
	// larger than the smallest single token request.
	if st.Latency.Min <= 0 {
		t.Errorf("latency: %+v", st.Latency)
	}
	noSecretIn(t, m, l, bin.Bytes())

	bad := startTargetMock(t, "mock.yaml", "bad-signature")
	env = bad.env(t, "consent")
	l = run(t, Config{Scenario: newScenario(t, "authcode", env), Plan: constant(20, 500*time.Millisecond), Checker: bad.checker(t, env.Client),
		VerifyEvery: 2, MinAttemptedRatio: 0.5})
	if st := l.Steps[0]; st.OK != st.Requests {
		t.Errorf("bad signatures are answered: %+v", st.Errors)
	}
	if v := l.Verification; v.Failed == 0 || v.Verified != 0 || gate(l, gateVerified).Passed {
		t.Errorf("verification of badly signed tokens: %+v", v)
	}
}

// A login the target refuses fails the run before any hit, with the
// reason and without the password; only two logins are tried (failed
// logins can lock a test account).
func TestAuthcodeWrongPasswordFailsPreparation(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	env := m.env(t, "code")
	const wrong = "not-the-password-of-alice"
	users := []target.User{{Name: "alice", Username: mockidp.UserAlice, Password: target.Secret{Secret: redact.NewSecret(wrong)}}}
	tg := *m.tg
	tg.Users = users
	env.Target = &tg
	sc := newScenario(t, "authcode", env)
	rep, err := Run(context.Background(), Config{Scenario: sc, Plan: constant(20, time.Second), Secrets: m.reg})
	if err == nil || !strings.Contains(err.Error(), "/login answered HTTP 401") || strings.Contains(err.Error(), wrong) {
		t.Fatalf("error: %v", err)
	}
	p := rep.Load.Preparation
	if len(rep.Load.Steps) != 0 || p == nil || p.Attempts != 2 || p.Failed != 2 || p.Bound != "failures" {
		t.Errorf("steps %d, preparation %+v", len(rep.Load.Steps), p)
	}
	if !strings.Contains(m.reg.String(wrong), redact.Marker) {
		t.Error("the password typed was not registered")
	}
}

// The Akkess exchange (seed 003) under load: every t1 token is distinct,
// its jti too, and the sample verifies (aud the tenant, cty t1, lifetime
// the expiry asked for, contract akkess-t1). Twins: without cty (mock
// fault akkess-no-cty) the sample fails; with one jti for every token
// (duplicate-jti) the uniqueness check does.
func TestAkkessTokenScenario(t *testing.T) {
	m := startTargetMock(t, "mock-akkess.yaml")
	env := m.env(t, "code")
	env.Pool = PoolOptions{Size: 3}
	var bin bytes.Buffer
	l := run(t, Config{Scenario: newScenario(t, "akkess-token", env), Plan: constant(30, time.Second), Checker: m.checker(t, env.Client),
		VerifyEvery: 1, MinAttemptedRatio: 0.5, Results: &bin, Secrets: m.reg})
	st := l.Steps[0]
	if st.Requests < 15 || st.OK != st.Requests {
		t.Fatalf("akkess: %d ok of %d: %+v", st.OK, st.Requests, st.Errors)
	}
	if u := uniq(l, "akkess_t1"); u.Seen != st.Requests || u.Duplicates != 0 {
		t.Errorf("t1 tokens: %+v", u)
	}
	if u := uniq(l, "akkess_t1 jti"); u.Seen != st.Requests || u.Duplicates != 0 {
		t.Errorf("t1 jtis: %+v", u)
	}
	if u := uniq(l, "access_token"); u.Seen != 3 {
		t.Errorf("pooled IdP tokens: %+v", u)
	}
	if v := l.Verification; v.Failed != 0 || v.Verified < st.Requests {
		t.Errorf("verification: %+v", v)
	}
	if !l.Passed() {
		t.Errorf("gates: %+v", l.Gates)
	}
	noSecretIn(t, m, l, bin.Bytes())

	for fault, want := range map[string]string{
		"akkess-no-cty": gateVerified,
		"duplicate-jti": "unique akkess_t1 jti",
	} {
		bad := startTargetMock(t, "mock-akkess.yaml", fault)
		env := bad.env(t, "code")
		env.Pool = PoolOptions{Size: 2}
		l := run(t, Config{Scenario: newScenario(t, "akkess-token", env), Plan: constant(30, 500*time.Millisecond), Checker: bad.checker(t, env.Client),
			VerifyEvery: 1, MinAttemptedRatio: 0.5})
		if st := l.Steps[0]; st.OK != st.Requests {
			t.Errorf("%s: answered with errors %+v", fault, st.Errors)
		}
		if g := gate(l, want); g == nil || g.Passed {
			t.Errorf("%s: gate %s: %+v", fault, want, g)
		}
		if fault == "akkess-no-cty" {
			v := l.Verification
			if len(v.Failures) != 1 || v.Failures[0].Reason != "akkess_t1: cty header missing or not the one required" || v.Failures[0].Count != l.Steps[0].Requests {
				t.Errorf("%s: failures %+v", fault, v.Failures)
			}
		}
	}
}

// A target without the Akkess section, or without users, is refused when
// the scenario is built, naming what is missing.
func TestScenariosRefuseMissingConfiguration(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	cases := []struct {
		scenario, client string
		edit             func(*Env)
		want             string
	}{
		{"akkess-token", "code", nil, "the target has no akkess: section"},
		{"refresh", "cc", nil, "not registered for refresh_token"},
		{"authcode", "code", func(e *Env) { tg := *e.Target; tg.Users = nil; e.Target = &tg }, "declares no users"},
		{"introspection", "cc", func(e *Env) { e.Endpoints.Introspection = "" }, "no introspection endpoint"},
		{"authcode", "code", func(e *Env) { tg := *e.Target; tg.Login.Driver = target.DriverBrowser; e.Target = &tg }, "form driver"},
	}
	for _, c := range cases {
		env := m.env(t, c.client)
		if c.edit != nil {
			c.edit(&env)
		}
		info, _ := LookupScenario(c.scenario)
		if _, err := info.New(env); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s with %s: %v, want %q", c.scenario, c.client, err, c.want)
		}
	}
	// The twin: the same scenarios with what they need are built.
	for _, c := range [][2]string{{"refresh", "code"}, {"authcode", "code"}, {"introspection", "cc"}} {
		info, _ := LookupScenario(c[0])
		if _, err := info.New(m.env(t, c[1])); err != nil {
			t.Errorf("%s: %v", c[0], err)
		}
	}
}

// fill is bounded in count, in time and in failures.
func TestFillBounds(t *testing.T) {
	ctx := context.Background()
	p, err := fill(ctx, Demand{}, "things", 20, PoolOptions{Workers: 3}, func(context.Context) error { return nil })
	if err != nil || p.Got != 20 || p.Attempts != 20 || p.Bound != "" || p.Workers != 3 {
		t.Errorf("all succeed: %+v %v", p, err)
	}

	p, err = fill(ctx, Demand{}, "things", 20, PoolOptions{Workers: 3}, func(context.Context) error { return errors.New("refused") })
	if err == nil || !strings.Contains(err.Error(), "things: none obtained: 2 of 2 attempts failed, most with: refused") || p.Bound != "failures" {
		t.Errorf("all fail: %+v %v", p, err)
	}

	// Every other attempt fails: filling goes on, retrying, to the count.
	var n int64
	var mu = make(chan struct{}, 1)
	p, err = fill(ctx, Demand{}, "things", 10, PoolOptions{Workers: 2}, func(context.Context) error {
		mu <- struct{}{}
		n++
		odd := n%2 == 1
		<-mu
		if odd {
			return nil
		}
		return errors.New("flaky")
	})
	if err != nil || p.Got != 10 || p.Failed < 8 || p.Bound != "" || len(p.Failures) != 1 || p.Failures[0].Reason != "flaky" {
		t.Errorf("flaky: %+v %v", p, err)
	}

	// A target that stops answering: the time bound ends it with what came.
	begin := time.Now()
	var once = make(chan struct{}, 1)
	once <- struct{}{}
	p, err = fill(ctx, Demand{}, "things", 10, PoolOptions{Timeout: 300 * time.Millisecond}, func(ctx context.Context) error {
		select {
		case <-once:
			return nil
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if err != nil || p.Got != 1 || p.Bound != "time" || time.Since(begin) > 5*time.Second {
		t.Errorf("stalled: %+v %v after %s", p, err, time.Since(begin))
	}
}

// The demand a plan makes counts every attack's hits as the schedules cap
// them.
func TestDemandOf(t *testing.T) {
	d := demandOf(Plan{Model: Steps, Rates: []float64{10, 30}, Duration: 2 * time.Second})
	if d.MaxHits != 60 || d.TotalHits != 80 || d.TopRate != 30 {
		t.Errorf("steps: %+v", d)
	}
	d = demandOf(Plan{Model: Constant, Rates: []float64{100}, Duration: time.Second, MaxHits: 25})
	if d.MaxHits != 25 || d.TotalHits != 25 {
		t.Errorf("capped: %+v", d)
	}
	d = demandOf(Plan{Model: FindCapacity, Rates: []float64{10}, MaxRate: 40, MaxProbes: 3, Duration: time.Second})
	if d.TotalHits != 120 || d.TopRate != 40 {
		t.Errorf("capacity: %+v", d)
	}
}

// The refresh scenario's Inspect puts a rotated token back only from an
// accepted response.
func TestRefreshInspectReturnsOnlyAcceptedRotations(t *testing.T) {
	s := &refresh{rotates: true, pool: make(chan string, 2)}
	ok, _ := json.Marshal(map[string]any{"access_token": "a", "token_type": "Bearer", "refresh_token": "r2"})
	if out := s.Inspect(okResult(ok)); out.Problem != "" || len(s.pool) != 1 || s.returned.Load() != 1 {
		t.Fatalf("accepted: %+v, pool %d", out, len(s.pool))
	}
	refused := okResult([]byte(`{"error":"invalid_grant"}`))
	refused.Code = 400
	if out := s.Inspect(refused); out.OAuthError != "invalid_grant" || len(s.pool) != 1 || s.spent.Load() != 1 {
		t.Errorf("refused: %+v, pool %d", out, len(s.pool))
	}
	noRT, _ := json.Marshal(map[string]any{"access_token": "a", "token_type": "Bearer"})
	if out := s.Inspect(okResult(noRT)); out.Problem != problemNotRotated || len(s.pool) != 1 {
		t.Errorf("not rotated: %+v", out)
	}
	if err := s.dry(); !strings.Contains(err.Error(), "1 rotated ones came back, 0 put back after 429, 5xx or no answer, 2 refreshes failed or gave no new token") {
		t.Errorf("dry: %v", err)
	}
}

func okResult(body []byte) *vegeta.Result {
	return &vegeta.Result{Code: 200, Body: body}
}

// writeShard runs cfg as shard s and writes the files a shard leaves.
func writeShard(t *testing.T, dir string, s Shard, cfg Config) string {
	t.Helper()
	base := filepath.Join(dir, "shard-"+strconv.Itoa(s.Index))
	bin, err := os.Create(base + ResultsExt)
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	cfg.Shard, cfg.Results, cfg.Plan = &s, bin, cfg.Plan.Split(s)
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(ToRun(rep.Load, results.Tool{Name: "test"}, results.Target{Name: "mock"}, time.Now(), time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	var d bytes.Buffer
	if err := rep.WriteDigests(&d); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base+RunExt, js, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base+DigestsExt, d.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return base + ResultsExt
}

// A merge keeps what only the shards know about their scenario: why an
// attack stopped, what preparing cost, and the checks run after the
// attacks, which fail the merged run when a shard's failed.
func TestMergeKeepsStopsPreparationAndAudits(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	dir := t.TempDir()
	var files []string
	for i := range 2 {
		env := m.env(t, "refresh-static")
		env.Pool = PoolOptions{Size: 3}
		files = append(files, writeShard(t, dir, Shard{Index: i, Count: 2}, Config{Scenario: newScenario(t, "refresh", env),
			Plan: constant(20, time.Second), MinAttemptedRatio: 0.5}))
	}
	mg, err := Merge(files, MergeOptions{MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	l := mg.Load
	st := l.Steps[0]
	if st.Requests != 6 || !strings.Contains(st.Stopped, "shard 0/2: refresh token pool ran dry after 3") || !strings.Contains(st.Stopped, "shard 1/2: refresh token pool ran dry after 3") {
		t.Errorf("merged step: %d sent, stopped %q", st.Requests, st.Stopped)
	}
	if g := gate(l, gateStopped); g == nil || g.Passed || l.Passed() {
		t.Errorf("merged gate: %+v", g)
	}
	if p := l.Preparation; p == nil || p.Got != 6 || p.Wanted != 6 || p.Attempts != 6 {
		t.Errorf("merged preparation: %+v", p)
	}
	if notes := otherNotes(l); len(notes) != 2 || !strings.HasPrefix(notes[0], "shard 0/2: refresh token reuse not checked") {
		t.Errorf("merged notes: %q", l.Notes)
	}

	bad := startTargetMock(t, "mock.yaml", "refresh-reuse")
	good := startTargetMock(t, "mock.yaml")
	dir = t.TempDir()
	files = nil
	for i, um := range []*userMock{good, bad} {
		env := um.env(t, "code")
		env.Pool = PoolOptions{Size: 4}
		files = append(files, writeShard(t, dir, Shard{Index: i, Count: 2}, Config{Scenario: newScenario(t, "refresh", env),
			Plan: constant(20, 500*time.Millisecond), MinAttemptedRatio: 0.5}))
	}
	if mg, err = Merge(files, MergeOptions{MinAttemptedRatio: 0.5}); err != nil {
		t.Fatal(err)
	}
	var audits []results.LoadGate
	for _, g := range mg.Load.Gates {
		if g.Name == gateRefreshReplay {
			audits = append(audits, g)
		}
	}
	if len(audits) != 2 || !audits[0].Passed || audits[0].Scope != "audit shard 0/2" || audits[1].Passed || audits[1].Scope != "audit shard 1/2" || mg.Load.Passed() {
		t.Errorf("merged audits: %+v", audits)
	}
	for name, l := range map[string]*results.Load{"merge, dry": l, "merge, audits": mg.Load} {
		if err := schema.ValidateResults(runJSON(t, l)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A pool that its time bound cut short is used as it is, and the run says
// so; the attack runs on what came.
func TestPoolCutShortByItsTimeBound(t *testing.T) {
	m := startTargetMock(t, "mock.yaml")
	env := m.env(t, "cc")
	// No machine mints 100,000 tokens in 300 ms; one comes in a few.
	env.Pool = PoolOptions{Size: 100_000, Timeout: 300 * time.Millisecond}
	l := run(t, Config{Scenario: newScenario(t, "introspection", env), Plan: constant(20, 500*time.Millisecond), MinAttemptedRatio: 0.5})
	p := l.Preparation
	if p == nil || p.Got == 0 || p.Got >= p.Wanted || p.Bound != "time" || p.Duration > 5*time.Second {
		t.Fatalf("preparation: %+v", p)
	}
	if notes := otherNotes(l); len(notes) != 1 || !strings.Contains(notes[0], "(ended by: time)") {
		t.Errorf("notes: %q", l.Notes)
	}
	if st := l.Steps[0]; st.OK != st.Requests || st.Requests == 0 || st.Stopped != "" {
		t.Errorf("attack on the pool that came: %+v", st.Errors)
	}
}

// otherNotes are a run's notes but the one every run without an SLO has.
func otherNotes(l *results.Load) []string {
	var out []string
	for _, n := range l.Notes {
		if n != noteNoSLO {
			out = append(out, n)
		}
	}
	return out
}
