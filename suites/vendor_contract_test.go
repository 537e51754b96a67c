package suites_test

import (
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/selftest"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/suites"
)

// A vendor label selects the vendor's claim contract: with only the vendor's
// specs selected, a profile's own ID token passes its vendor's contract spec,
// and a drift that breaks that contract fails it, naming the claim.
func TestVendorContractSpecs(t *testing.T) {
	cases := []struct {
		profile, vendor, spec, drift, claim string
	}{
		{"akoya", "akoya", "issues ID tokens that meet the Akoya claim contract", "drop-claim=recipientId", "recipientId"},
		{"akoya-legacy", "akoya", "issues ID tokens that meet the Akoya claim contract", "claim-type=sub", "sub"},
		{"nextidentity", "nextidentity", "issues ID tokens that meet the Next Identity claim contract", "claim-type=email", "email"},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			for _, drift := range []string{"", tc.drift} {
				tg, err := selftest.Target(tc.profile)
				if err != nil {
					t.Fatal(err)
				}
				if drift != "" {
					tg.Mock.Drift = append(tg.Mock.Drift, drift)
				}
				run, err := suites.Run(nil, suites.Options{Target: tg, Secrets: redact.New(), Contracts: contracts(t),
					LabelFilter: tc.vendor + " && authcode", Out: &strings.Builder{}, NoColor: true})
				if err != nil {
					t.Fatal(err)
				}
				var got *results.Spec
				for i := range run.Specs {
					if strings.HasSuffix(run.Specs[i].Name, tc.spec) {
						got = &run.Specs[i]
					}
				}
				switch {
				case got == nil:
					t.Fatalf("drift %q: no spec %q ran", drift, tc.spec)
				case drift == "" && got.State != results.Passed:
					t.Errorf("clean %s mock: %s: %s", tc.profile, got.State, got.Failure)
				case drift != "" && (got.State != results.Failed || !strings.Contains(got.Failure, tc.claim)):
					t.Errorf("drift %s: %s, failure %q; want failed naming %s", drift, got.State, got.Failure, tc.claim)
				}
			}
		})
	}
}

// Each client's ID token lifetime is checked against the declaration: the
// bundled target passes, and a target declaring another lifetime for one
// client fails that client's spec only.
func TestIDTokenLifetimeAsDeclared(t *testing.T) {
	for _, misdeclare := range []bool{false, true} {
		tg, err := selftest.Target("generic")
		if err != nil {
			t.Fatal(err)
		}
		wrong := ""
		if misdeclare {
			for i, c := range tg.Clients {
				if c.IDTokenTTL.D() == 24*time.Hour {
					tg.Clients[i].IDTokenTTL = target.Duration(time.Hour)
					wrong = c.Name
					break
				}
			}
			if wrong == "" {
				t.Fatal("no client declares a 24h ID token lifetime to misdeclare")
			}
		}
		run, err := suites.Run(nil, suites.Options{Target: tg, Secrets: redact.New(), Contracts: contracts(t),
			Focus: []string{"ID tokens with the declared lifetime"}, Out: &strings.Builder{}, NoColor: true})
		if err != nil {
			t.Fatal(err)
		}
		ran := 0
		for _, sp := range run.Specs {
			if sp.State == results.Skipped {
				continue
			}
			ran++
			shouldFail := wrong != "" && strings.Contains(sp.Name, "client "+wrong+" ")
			if (sp.State == results.Failed) != shouldFail {
				t.Errorf("misdeclared %q: %s is %s: %s", wrong, sp.Name, sp.State, sp.Failure)
			}
		}
		if ran < 2 {
			t.Errorf("%d ID token lifetime specs ran; the bundled target declares several", ran)
		}
	}
}
