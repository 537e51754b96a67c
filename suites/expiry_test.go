package suites_test

import (
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/suites"
)

const lifetimeSpec = "expiry stops honouring an access token after its lifetime"

// opaqueShortTarget is the bundled target with the short-lived client's
// tokens declared opaque, so only introspection can tell whether one is
// still honoured.
func opaqueShortTarget(t *testing.T, introspection bool, faults ...string) *target.Target {
	t.Helper()
	tg := mockTarget(t, nil)
	for i := range tg.Clients {
		if tg.Clients[i].Name == "short" {
			tg.Clients[i].AccessTokenFormat = target.FormatOpaque
		}
	}
	if !introspection {
		var caps []target.Capability
		for _, c := range tg.Capabilities {
			if c != target.CapIntrospection {
				caps = append(caps, c)
			}
		}
		tg.Capabilities = caps
	}
	tg.Mock.Faults = append(tg.Mock.Faults, faults...)
	return tg
}

func lifetimeResult(t *testing.T, tg *target.Target) results.Spec {
	t.Helper()
	r, err := suites.Run(nil, suites.Options{Target: tg, Contracts: contracts(t), Focus: []string{"stops honouring an access token after its lifetime"}, NoColor: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range r.Specs {
		if sp.Name == lifetimeSpec {
			return sp
		}
	}
	t.Fatalf("no spec %q in the run", lifetimeSpec)
	return results.Spec{}
}

// An opaque token without introspection leaves nothing to check: the spec
// says so by skipping instead of passing after a wait. The twin: with
// introspection declared the same client is checked, and a mock that keeps
// tokens alive (ttl-ignored) fails it.
func TestLifetimeSpecSkipsWithoutAnyCheck(t *testing.T) {
	sp := lifetimeResult(t, opaqueShortTarget(t, false))
	if sp.State != results.Skipped || !strings.Contains(sp.SkipReason, "opaque") || !strings.Contains(sp.SkipReason, `"introspection"`) {
		t.Errorf("opaque, no introspection: state %s, skip reason %q", sp.State, sp.SkipReason)
	}

	sp = lifetimeResult(t, opaqueShortTarget(t, true, "ttl-ignored"))
	if sp.State != results.Failed || !strings.Contains(sp.Failure, "active after the lifetime") {
		t.Errorf("opaque, introspected, tokens kept alive: state %s, failure %q", sp.State, sp.Failure)
	}
}
