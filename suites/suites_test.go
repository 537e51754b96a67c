package suites_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/mockidp"
	"github.com/idpconform/idpconform/suites"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Ginkgo's interrupt handler and output interceptor live for the
		// process once a suite has run.
		goleak.IgnoreTopFunction("github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"),
		goleak.IgnoreTopFunction("os/signal.signal_recv"),
		goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal.RegisterForProgressSignal.func1"),
	)
}

func contracts(t testing.TB) contract.Set {
	t.Helper()
	cs, err := contract.LoadFS(fixtures.FS, fixtures.ContractsDir)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func mockTarget(t testing.TB, env map[string]string) *target.Target {
	t.Helper()
	src, err := fixtures.FS.ReadFile(fixtures.MockTargetPath)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.Parse("mock.yaml", src, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func run(t *testing.T, tg *target.Target, labelFilter string) (*results.Run, string, *redact.Registry) {
	t.Helper()
	var out bytes.Buffer
	reg := redact.New()
	r, err := suites.Run(nil, suites.Options{Target: tg, Secrets: reg, Contracts: contracts(t), LabelFilter: labelFilter, Out: &out, NoColor: true})
	if err != nil {
		t.Fatal(err)
	}
	return r, out.String(), reg
}

func TestBundledMockPasses(t *testing.T) {
	r, out, _ := run(t, mockTarget(t, nil), "")
	if !r.Passed() {
		t.Fatalf("bundled mock failed:\n%s", out)
	}
	for _, label := range []string{"discovery", "client-credentials"} {
		c := r.Summary.ByLabel[label]
		if c.Passed == 0 || c.Failed != 0 {
			t.Errorf("%s: %+v", label, c)
		}
	}
	for _, sp := range r.Specs {
		if sp.Requirement == "" || sp.Severity == "" || sp.Scenario == "" {
			t.Errorf("spec without requirement/severity/scenario: %+v", sp)
		}
		if len(sp.Warnings) > 0 {
			t.Errorf("bundled mock gets a warning: %s: %v", sp.Name, sp.Warnings)
		}
	}
}

// A wrong client secret fails the run, the failure names the requirement
// and the HTTP status, and the secret appears nowhere in the output.
func TestWrongSecretFailsWithoutLeaking(t *testing.T) {
	const wrong = "wrong-secret-do-not-print-0123"
	r, out, reg := run(t, mockTarget(t, map[string]string{"IDPCONFORM_CC_SECRET": wrong}), "client-credentials")
	if r.Passed() {
		t.Fatal("run passed with a wrong secret")
	}
	var failure string
	for _, sp := range r.Specs {
		if sp.State == results.Failed && strings.Contains(sp.Name, "issues an access token to client cc ") {
			failure = sp.Failure
		}
	}
	if !strings.Contains(failure, "RFC 6749 §5.1 (MUST)") || !strings.Contains(failure, "HTTP 401 invalid_client") {
		t.Errorf("failure does not name requirement and status: %q", failure)
	}
	js, _ := json.Marshal(r.Redacted(reg))
	for _, where := range []string{out, string(js)} {
		if strings.Contains(where, wrong) {
			t.Errorf("wrong secret leaked")
		}
	}
	// The twin: the unredacted model does hold the evidence the redactor
	// removed, so the check above can fail.
	if raw, _ := json.Marshal(r); !bytes.Contains(raw, []byte("Authorization")) {
		t.Error("evidence missing: the leak check proves nothing")
	}
}

func TestCapabilityNotDeclaredSkips(t *testing.T) {
	tg := mockTarget(t, nil)
	tg.Capabilities = []target.Capability{target.CapDiscovery}
	r, _, _ := run(t, tg, "")
	c := r.Summary.ByLabel["client-credentials"]
	if c.Skipped != c.Total || c.Total == 0 {
		t.Errorf("client-credentials without the capability: %+v", c)
	}
	for _, sp := range r.Specs {
		if sp.Scenario == "client-credentials" && !strings.Contains(sp.SkipReason, `does not declare capability "client_credentials"`) &&
			!strings.Contains(sp.SkipReason, "does not list nextidentity under vendors") {
			t.Errorf("skip reason: %q", sp.SkipReason)
		}
	}
	if !r.Passed() {
		t.Error("skips failed the run")
	}
}

func TestBadSelectionRefused(t *testing.T) {
	for _, lf := range []string{"(((", "a &&"} {
		if _, err := suites.Run(nil, suites.Options{Target: mockTarget(t, nil), LabelFilter: lf}); err == nil {
			t.Errorf("label filter %q accepted", lf)
		}
	}
	if err := suites.ValidateSelection("", []string{"("}, nil); err == nil {
		t.Error("bad focus regexp accepted")
	}
	if err := suites.ValidateSelection("discovery && !client-credentials", []string{"issuer"}, nil); err != nil {
		t.Error(err)
	}
}

// hostile wraps the real mock and breaks one thing in its answers, so that
// each spec is shown to fail (or warn) on the misbehaviour it exists for.
type mutation struct {
	name string
	// path the mutation applies to (suffix match)
	path   string
	mutate func(h http.Header, body map[string]any) (status int, drop bool)
	// spec text fragments expected to fail, and to warn
	fails, warns []string
}

func TestEachSpecCatchesItsMisbehaviour(t *testing.T) {
	muts := []mutation{
		{name: "discovery 500", path: mockidp.PathDiscovery, mutate: func(http.Header, map[string]any) (int, bool) { return 500, false },
			// Without metadata no endpoint is known: every spec fails,
			// each naming its own requirement (a SHOULD spec warns).
			fails: []string{"discovery", "client-credentials"}, warns: []string{"advertises the grants"}},
		{name: "issuer mismatch", path: mockidp.PathDiscovery, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			b["issuer"] = "https://evil.example"
			return 0, false
		}, fails: []string{"names the issuer"}},
		{name: "no jwks_uri", path: mockidp.PathDiscovery, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			delete(b, "jwks_uri")
			return 0, false
		}, fails: []string{"publishes the required metadata members", "serves a JWK Set", "no private or symmetric key", "distinct kid",
			"signs JWT access tokens", "types JWT access tokens", "meets the access token claim contract"}},
		{name: "private key in JWKS", path: mockidp.PathJWKS, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			keys := b["keys"].([]any)
			keys[0].(map[string]any)["d"] = "AAAA"
			return 0, false
			// The only key is dropped as unusable, so nothing verifies.
		}, fails: []string{"no private or symmetric key material", "serves a JWK Set",
			"signs JWT access tokens", "types JWT access tokens", "meets the access token claim contract"}},
		{name: "duplicate kid", path: mockidp.PathJWKS, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			keys := b["keys"].([]any)
			b["keys"] = append(keys, keys[0])
			return 0, false
		}, warns: []string{"distinct kid"}},
		// RFC 8414 §2's default for an omitted grant_types_supported is
		// authorization_code and implicit: client credentials unadvertised.
		{name: "no grant_types_supported", path: mockidp.PathDiscovery, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			delete(b, "grant_types_supported")
			return 0, false
		}, warns: []string{"advertises the grants, PKCE method and client authentication"}},
		{name: "auth methods without the clients' own", path: mockidp.PathDiscovery, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			b["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"}
			return 0, false
		}, warns: []string{"advertises the grants, PKCE method and client authentication"}},
		{name: "no Cache-Control", path: mockidp.PathToken, mutate: func(h http.Header, _ map[string]any) (int, bool) {
			h.Del("Cache-Control")
			return 0, false
		}, fails: []string{"Cache-Control: no-store"}},
		{name: "no Pragma", path: mockidp.PathToken, mutate: func(h http.Header, _ map[string]any) (int, bool) {
			h.Del("Pragma")
			return 0, false
		}, warns: []string{"Pragma: no-cache"}},
		{name: "refresh token in client credentials", path: mockidp.PathToken, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			if _, ok := b["access_token"]; ok {
				b["refresh_token"] = "unexpected-refresh-token-value"
			}
			return 0, false
		}, warns: []string{"issues no refresh token"}},
		{name: "guessable refresh token in client credentials", path: mockidp.PathToken, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			if _, ok := b["access_token"]; ok {
				b["refresh_token"] = "aaaa"
			}
			return 0, false
		}, fails: []string{"meets the token response contract"}, warns: []string{"issues no refresh token"}},
		{name: "expires_in missing", path: mockidp.PathToken, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			delete(b, "expires_in")
			return 0, false
		}, warns: []string{"expires_in"}},
		{name: "scope widened", path: mockidp.PathToken, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			if s, ok := b["scope"].(string); ok {
				b["scope"] = s + " admin"
			}
			return 0, false
		}, fails: []string{"grants no scope beyond"}},
		{name: "wrong secret accepted", path: mockidp.PathToken, mutate: func(h http.Header, b map[string]any) (int, bool) {
			if b["error"] == "invalid_client" {
				h.Del("WWW-Authenticate")
				for k := range b {
					delete(b, k)
				}
				b["access_token"], b["token_type"] = "accepted-anyway-token", "Bearer"
				return 200, false
			}
			return 0, false
		}, fails: []string{"rejects a wrong client secret", "without client authentication"}},
		{name: "invalid_client as 403", path: mockidp.PathToken, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			if b["error"] == "invalid_client" {
				return http.StatusForbidden, false
			}
			return 0, false
		}, fails: []string{"rejects a wrong client secret", "without client authentication"}},
		{name: "unsupported grant type issued a token", path: mockidp.PathToken, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			if b["error"] == "unsupported_grant_type" {
				for k := range b {
					delete(b, k)
				}
				b["access_token"], b["token_type"] = "issued-for-any-grant-token", "Bearer"
				return 200, false
			}
			return 0, false
		}, fails: []string{"refuses an unsupported grant type"}},
		{name: "unsupported grant type as invalid_request", path: mockidp.PathToken, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			if b["error"] == "unsupported_grant_type" {
				b["error"] = "invalid_request"
			}
			return 0, false
		}, fails: []string{"refuses an unsupported grant type"}},
		{name: "signature broken", path: mockidp.PathToken, mutate: func(_ http.Header, b map[string]any) (int, bool) {
			if at, ok := b["access_token"].(string); ok && strings.Count(at, ".") == 2 {
				b["access_token"] = at[:len(at)-4] + "AAAA"
			}
			return 0, false
		}, fails: []string{"signs JWT access tokens", "types JWT access tokens", "meets the access token claim contract"}},
	}
	for _, m := range muts {
		t.Run(m.name, func(t *testing.T) {
			tg := hostileTarget(t, m)
			// These middleware mutations are a second, independent way to
			// misbehave, aimed at the discovery and client credentials
			// specs; the mutation matrix (selftest) covers every scenario
			// with the mock's own faults.
			r, out, _ := run(t, tg, "discovery || client-credentials")
			failed, warned := map[string]bool{}, map[string]bool{}
			for _, sp := range r.Specs {
				if sp.State == results.Failed {
					failed[sp.Name] = true
				}
				if len(sp.Warnings) > 0 {
					warned[sp.Name] = true
				}
			}
			check := func(kind string, want []string, got map[string]bool) {
				for _, w := range want {
					found := false
					for name := range got {
						if strings.Contains(name, w) {
							found = true
						}
					}
					if !found {
						t.Errorf("%s: no spec matching %q; got %v\n%s", kind, w, keys(got), out)
					}
				}
				// Nothing else may fail or warn: a misbehaviour is blamed
				// on the specs that exist for it.
				for name := range got {
					matched := false
					for _, w := range want {
						if strings.Contains(name, w) {
							matched = true
						}
					}
					if !matched {
						t.Errorf("%s unexpectedly: %s", kind, name)
					}
				}
			}
			check("failed", m.fails, failed)
			check("warned", m.warns, warned)
			if (len(m.fails) > 0) == r.Passed() {
				t.Errorf("verdict %s with %d expected failures", r.Summary.Verdict, len(m.fails))
			}
		})
	}
}

// The introspection answer is checked against the target's contract: exp
// sent as a string breaks it and fails that spec alone; the bundled mock
// unmutated passes it (TestBundledMockPasses).
func TestIntrospectionContractCatchesBadMember(t *testing.T) {
	tg := hostileTarget(t, mutation{path: mockidp.PathIntrospect, mutate: func(_ http.Header, b map[string]any) (int, bool) {
		if b["active"] == true {
			b["exp"] = "tomorrow"
		}
		return 0, false
	}})
	r, out, _ := run(t, tg, "introspection")
	for _, sp := range r.Specs {
		want := sp.Name == "introspection meets the introspection response contract"
		if got := sp.State == results.Failed; got != want {
			t.Errorf("%s: state %s\n%s", sp.Name, sp.State, out)
		}
		if want && !strings.Contains(sp.Failure, "violations of contract rfc7662-introspection") {
			t.Errorf("failure does not name the contract: %s", sp.Failure)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// hostileTarget serves the real mock behind a middleware applying m, and
// returns a target file for it with the mock's clients.
func hostileTarget(t *testing.T, m mutation) *target.Target {
	t.Helper()
	var idp http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, m.path) {
			idp.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		idp.ServeHTTP(rec, r)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		h := rec.Header().Clone()
		status, _ := m.mutate(h, body)
		if status == 0 {
			status = rec.Code
		}
		out, _ := json.Marshal(body)
		for k, v := range h {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(status)
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	mock, err := mockidp.New(mockidp.Options{Issuer: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	idp = mock

	src, err := fixtures.FS.ReadFile(fixtures.MockTargetPath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "mock:\n  profile: generic\n", fmt.Sprintf("issuer: %s\n", srv.URL), 1)
	tg, err := target.Parse("hostile.yaml", []byte(s), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return tg
}
