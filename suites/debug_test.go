package suites_test

import (
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/mockidp"
	"github.com/idpconform/idpconform/suites"
)

// A whole run with the debug log on (every flow but the slow expiry ones:
// client credentials, login with codes in redirects, refresh, introspection,
// revocation): the log holds every exchange and none of the secrets the run
// learnt, because each is registered before its exchange is written.
func TestDebugLogHoldsNoSecret(t *testing.T) {
	var debug, out strings.Builder
	reg := redact.New()
	r, err := suites.Run(nil, suites.Options{Target: mockTarget(t, nil), Secrets: reg, Contracts: contracts(t),
		LabelFilter: "!expiry", Out: &out, NoColor: true, Debug: &debug})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Passed() {
		t.Fatalf("run failed:\n%s", out.String())
	}
	log := debug.String()
	for _, want := range []string{"--- token client_credentials: POST", "--- login step 1: GET", "--- token authorization_code: POST", "--- introspection: POST", "--- token refresh_token: POST"} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	// Every value the run registered (secrets of the target, every token
	// and code seen), and the mock's published secrets by name.
	values := append(reg.Values(), mockidp.ClientCCSecret, mockidp.ClientCodeSecret, mockidp.UserAlicePassword)
	if len(values) < 50 {
		t.Fatalf("only %d secrets registered: the run learnt too little to prove anything", len(values))
	}
	for _, v := range values {
		if strings.Contains(log, v) {
			t.Errorf("the debug log holds a secret (%d characters, starting %q)", len(v), v[:3])
		}
	}
}
