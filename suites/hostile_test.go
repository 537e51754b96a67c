package suites_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/hostile"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/suites"
)

// hostileFocus is the specs a hostile IdP is run through: the token
// request, the access token's verification and the JWKS. Every behaviour of
// the catalogue strikes one of them.
var hostileFocus = []string{"issues an access token to client cc ", "signs JWT access tokens with a published key", "serves a JWK Set"}

// hostileIdPTarget is a target file for a hostile IdP: its issuer, the mock's
// JWT client credentials client, and a request timeout.
func hostileIdPTarget(t *testing.T, s *hostile.Server, timeout time.Duration) *target.Target {
	t.Helper()
	src := fmt.Sprintf(`name: hostile-%s
issuer: %s
request_timeout: %s
capabilities: [discovery, client_credentials, jwt_access_token]
clients:
  - name: cc
    id: idpconform-cc
    secret: ${HOSTILE_CC_SECRET:-idpconform-cc-secret}
    grants: [client_credentials]
    scopes: [api:read]
    access_token_format: jwt
`, s.Info().Behaviour, s.URL, timeout)
	tg, err := target.Parse("hostile.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// Every behaviour of the hostile IdP, through a whole conformance run: the
// run fails, a MUST failure names the problem, nothing panics, and the run
// ends in bounded time (the request timeout is low, the bound generous) and
// memory.
func TestHostileIdPThroughConform(t *testing.T) {
	const generous = 2 * time.Minute
	for _, info := range hostile.Catalogue() {
		t.Run(string(info.Behaviour), func(t *testing.T) {
			s, err := hostile.Start(hostile.Config{Behaviour: info.Behaviour})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			timeout := 10 * time.Second
			if info.Behaviour == hostile.TrickleBody || info.Behaviour == hostile.TrickleHead {
				timeout = time.Second
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			r := runFocused(t, hostileIdPTarget(t, s, timeout))
			took := time.Since(start)
			runtime.ReadMemStats(&after)

			if r.Passed() {
				t.Fatalf("a hostile IdP (%s) passed", info.Description)
			}
			if r.SuiteFailure != "" {
				t.Errorf("suite failure: %s", r.SuiteFailure)
			}
			named := false
			for _, sp := range r.Specs {
				if strings.Contains(sp.Failure, "panic") {
					t.Errorf("%s panicked: %s", sp.Name, sp.Failure)
				}
				if sp.State == results.Failed && sp.Severity == "MUST" && strings.Contains(sp.Failure, info.Verdict) {
					named = true
				}
			}
			if !named {
				t.Errorf("no MUST failure names %q:\n%s", info.Verdict, failures(r))
			}
			if took >= generous {
				t.Errorf("run took %s", took)
			}
			// Reading a body is bounded by max_response_bytes (1 MiB): the
			// huge body, read whole twice, would allocate over 400 MiB.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<20 {
				t.Errorf("the run allocated %d MiB", alloc>>20)
			}
			if info.Behaviour == hostile.JKU || info.Behaviour == hostile.X5U {
				if n := s.AttackerFetches(); n != 0 {
					t.Errorf("the harness fetched the attacker's %s %d times", info.Behaviour, n)
				}
			}
		})
	}
}

// The twin: the same target against a hostile IdP whose misbehaviour is on
// an endpoint these specs never call passes, so the failures above are the
// behaviours', not the target file's.
func TestHostileIdPTwinPasses(t *testing.T) {
	s, err := hostile.Start(hostile.Config{Behaviour: hostile.RedirectLoop, Endpoint: hostile.EndpointAuthorize})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := runFocused(t, hostileIdPTarget(t, s, 10*time.Second)); !r.Passed() {
		t.Fatalf("twin failed:\n%s", failures(r))
	}
}

func runFocused(t *testing.T, tg *target.Target) *results.Run {
	t.Helper()
	var out strings.Builder
	r, err := runWith(t, tg, hostileFocus, &out)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, sp := range r.Specs {
		if sp.State != results.Skipped {
			ran++
		}
	}
	if ran != len(hostileFocus) {
		t.Fatalf("%d specs ran, want %d:\n%s", ran, len(hostileFocus), out.String())
	}
	return r
}

func failures(r *results.Run) string {
	var b strings.Builder
	for _, sp := range r.Specs {
		if sp.State == results.Failed {
			fmt.Fprintf(&b, "%s [%s]: %s\n", sp.Name, sp.Severity, sp.Failure)
		}
	}
	return b.String()
}

func runWith(t *testing.T, tg *target.Target, focus []string, out *strings.Builder) (*results.Run, error) {
	t.Helper()
	return suites.Run(nil, suites.Options{Target: tg, Secrets: redact.New(), Contracts: contracts(t), Focus: focus, Out: out, NoColor: true})
}
