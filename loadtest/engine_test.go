package loadtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.uber.org/goleak"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	"github.com/idpconform/idpconform/mockidp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mockTarget starts the real mock on loopback, optionally behind a
// middleware, and returns an Env for the cc client.
type mockTarget struct {
	srv     *http.Server
	idp     *mockidp.IdP
	url     string
	env     Env
	secrets *redact.Registry
	once    sync.Once
}

// close stops the server and lets go of the IdP and its token store, so a
// benchmark that starts a mock per attack does not carry every earlier
// store in its heap. The test's cleanup calls it too.
func (m *mockTarget) close() {
	m.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.srv.Shutdown(ctx)
		m.srv, m.idp = nil, nil
	})
}

func startMock(t testing.TB, alg string, wrap func(http.Handler) http.Handler) *mockTarget {
	t.Helper()
	ms, err := mockidp.NewUnstartedServer("", mockidp.Options{SigningAlg: alg})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = ms.IdP
	if wrap != nil {
		h = wrap(h)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go func() { _ = srv.Serve(ms.Listener) }()
	reg := redact.New()
	tg := &target.Target{Name: "mock", SigningAlgs: target.DefaultSigningAlgs, ClockSkew: target.Duration(5 * time.Second),
		Clients: []target.Client{{Name: "cc", ID: mockidp.ClientCC, Secret: target.Secret{Secret: redact.NewSecret(mockidp.ClientCCSecret)},
			AuthMethod: target.ClientSecretBasic, Grants: []target.Grant{target.GrantClientCredentials}, Scopes: []string{"api:read"}}}}
	reg.Add(tg.Secrets()...)
	m := &mockTarget{srv: srv, idp: ms.IdP, url: ms.URL, secrets: reg, env: Env{
		Target: tg, Client: tg.Clients[0], Secrets: reg,
		Endpoints: target.Endpoints{Token: ms.URL + mockidp.PathToken, JWKS: ms.URL + mockidp.PathJWKS},
		OAuth:     oauth.New(oauth.Options{Secrets: reg}),
	}}
	t.Cleanup(m.close)
	return m
}

func (m *mockTarget) checker(t testing.TB) TokenChecker {
	cs, err := contract.LoadFS(fixturesFS(t), ".")
	if err != nil {
		t.Fatal(err)
	}
	ct, err := cs.Get("rfc9068-access-token")
	if err != nil {
		t.Fatal(err)
	}
	algs, _ := verify.Algorithms(target.DefaultSigningAlgs)
	ks := verify.NewRemoteKeySet(func(ctx context.Context) ([]byte, error) {
		return m.env.OAuth.FetchJWKS(ctx, m.env.Endpoints.JWKS)
	}, nil)
	return &JWTChecker{Verifier: &verify.Verifier{Keys: ks, Algorithms: algs, Leeway: 5 * time.Second}, Issuer: m.url,
		ClientID: mockidp.ClientCC, Contracts: map[CredentialKind]*contract.Contract{AccessToken: ct}}
}

func (m *mockTarget) scenario(t testing.TB) Scenario {
	sc, err := newClientCredentials(m.env)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func mustSLOs(t testing.TB, s ...string) []slo.Objective {
	t.Helper()
	o, err := slo.ParseAll(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func decodeAll(t testing.TB, b []byte) []vegeta.Result {
	t.Helper()
	dec := vegeta.DecoderFor(bytes.NewReader(b))
	if dec == nil {
		t.Fatal("vegeta does not recognise the results encoding")
	}
	var out []vegeta.Result
	for {
		var r vegeta.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode result %d: %v", len(out), err)
		}
		out = append(out, r)
	}
}

func gate(l *results.Load, name string) *results.LoadGate {
	for i := range l.Gates {
		if l.Gates[i].Name == name {
			return &l.Gates[i]
		}
	}
	return nil
}

// The tests of this package share two cores with every other package's
// tests under -race, so no outcome may hang on a timing: rates are low
// enough that the generator cannot fall behind (and validity, where it is
// not the subject, only needs half the requested rate), latency gates sit
// an order of magnitude away from what is measured, and every breach comes
// from an injected effect far larger than scheduling noise.
func TestConstantRateAgainstMock(t *testing.T) {
	m := startMock(t, "ES256", nil)
	var bin bytes.Buffer
	rep, err := Run(context.Background(), Config{
		Scenario: m.scenario(t), Client: "cc",
		Plan:    Plan{Model: Constant, Rates: []float64{50}, Duration: time.Second},
		SLOs:    mustSLOs(t, "p99<=2s", "success>=99%", "throughput>=10/s"),
		Checker: m.checker(t), VerifyEvery: 10, MinAttemptedRatio: 0.5,
		Results: &bin, Secrets: m.secrets,
	})
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Load
	if len(l.Steps) != 1 {
		t.Fatalf("steps: %d", len(l.Steps))
	}
	st := l.Steps[0]
	if st.Requests < 25 || st.Requests > 50 || st.PlannedHits != 50 {
		t.Errorf("requests %d of planned %d, want 25 to 50 of 50", st.Requests, st.PlannedHits)
	}
	if st.OK != st.Requests || st.Success != 1 {
		t.Errorf("ok %d of %d; errors %+v", st.OK, st.Requests, st.Errors)
	}
	if !st.Valid {
		t.Errorf("step invalid: %s (ratio %.3f)", st.InvalidReason, st.AttemptedRatio)
	}
	if !l.Passed() {
		for _, g := range l.Gates {
			t.Log(g.Message)
		}
		t.Error("run failed")
	}
	for _, k := range []string{"access_token", "access_token jti"} {
		found := false
		for _, u := range l.Uniqueness {
			if u.Kind == k {
				found = true
				if u.Seen != st.Requests || u.Unique != st.Requests || u.Duplicates != 0 {
					t.Errorf("uniqueness %s: %+v", k, u)
				}
			}
		}
		if !found {
			t.Errorf("no uniqueness count for %s: %+v", k, l.Uniqueness)
		}
	}
	v := l.Verification
	if v.Offered != (st.Requests+9)/10 || v.Verified+v.Dropped != v.Offered || v.Failed != 0 || v.Verified == 0 {
		t.Errorf("verification: %+v", v)
	}
	if l.Generator.Protocols["HTTP/1.1"] != st.Requests {
		t.Errorf("protocols: %v", l.Generator.Protocols)
	}
	rs := decodeAll(t, bin.Bytes())
	if uint64(len(rs)) != st.Requests {
		t.Fatalf("results file holds %d results", len(rs))
	}
	for _, r := range rs {
		if r.Body != nil || r.Headers != nil {
			t.Fatal("a result kept its body or headers")
		}
	}
	if bytes.Contains(bin.Bytes(), []byte("eyJ")) || bytes.Contains(bin.Bytes(), []byte(mockidp.ClientCCSecret)) {
		t.Error("results file holds a token or the client secret")
	}
	t.Logf("sent %d lag p99 %s max %s p50 %s p99 %s", st.Requests, st.ScheduleLagP99, st.ScheduleLagMax, st.Latency.P50, st.Latency.P99)
}

func TestGateBreachNamesSLOMeasuredAndMargin(t *testing.T) {
	m := startMock(t, "ES256", nil)
	rep, err := Run(context.Background(), Config{
		Scenario: m.scenario(t),
		Plan:     Plan{Model: Constant, Rates: []float64{100}, Duration: 500 * time.Millisecond},
		SLOs:     mustSLOs(t, "p99<=1us", "throughput>=100000/s"),
		Secrets:  m.secrets,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Load.Passed() {
		t.Fatal("an impossible SLO passed")
	}
	g := gate(rep.Load, "p99<=1µs")
	if g == nil || g.Passed || !strings.Contains(g.Message, "FAIL p99<=1µs: measured ") || !strings.Contains(g.Message, "over the limit") {
		t.Errorf("p99 gate: %+v", g)
	}
	g = gate(rep.Load, "throughput>=100000/s")
	if g == nil || g.Passed || !strings.Contains(g.Message, "short of the limit") {
		t.Errorf("throughput gate: %+v", g)
	}
}
