// Package selftest is the mutation matrix: it runs the conformance suites
// against the bundled mock once per fault and drift the mock can inject and
// checks each verdict, so that a user can prove the installed harness
// catches what it claims to catch before trusting a green run.
//
// A fault graded MUST must fail a MUST spec of a scenario that owns it (its
// CaughtBy labels); a SHOULD fault must leave every MUST passing and warn
// in an owning scenario; a breaking drift must fail a MUST spec; a
// non-breaking drift (seed 000's tolerated changes) must pass every MUST.
package selftest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/idpconform/idpconform/mockidp"
	fw "github.com/idpconform/idpconform/suites/framework"
)

// Verdict is what a row expects, or what it got.
type Verdict string

const (
	// Fail: a MUST spec of an owning scenario failed.
	Fail Verdict = "fail"
	// Warn: every MUST passed, and a spec of an owning scenario warned.
	Warn Verdict = "warn"
	// Pass: every MUST passed and no owning spec warned.
	Pass Verdict = "pass"
	// Misplaced: MUST specs failed, but none of an owning scenario.
	Misplaced Verdict = "fail elsewhere"
	// Error: the run could not be made.
	Error Verdict = "error"
)

// Row is one injection and the verdict it must get.
type Row struct {
	// Kind is "fault" or "drift".
	Kind string
	// Name is the fault or drift name; Value its parameter, if any.
	Name, Value string
	// Profile is the mock profile the row runs on.
	Profile string
	// Owners are the scenario labels whose specs must catch the injection;
	// empty means any scenario.
	Owners []string
	// LabelFilter selects the specs the row runs.
	LabelFilter string
	Expect      Verdict
	// What the injection does and the rule it breaks (or the source that
	// calls it tolerated).
	Description, Rule string
	// PinAlg makes the target pin the profile's signing algorithm, as a
	// client that expects one algorithm does.
	PinAlg bool
}

// Injection is the row's mock setting as the CLI and target files write it.
func (r Row) Injection() string {
	if r.Value == "" {
		return r.Name
	}
	return r.Name + "=" + r.Value
}

// DriftProfile is the profile drift rows run on: Akoya's new IdP, whose
// documented contract and stability rules the drifts are about.
const DriftProfile = "akoya"

// Rows returns the matrix: one row per fault and drift of the mock's
// catalogues. Faults only a load run's gates can judge are left out (the
// loadtest package's tests cover them); SLOFaults lists them.
func Rows() []Row {
	var rows []Row
	for _, f := range mockidp.Faults() {
		if f.Severity == "SLO" {
			continue
		}
		owners := scenarioLabels(f.CaughtBy)
		profile := "generic"
		if len(f.Profiles) > 0 {
			profile = f.Profiles[0]
		}
		r := Row{Kind: "fault", Name: string(f.Name), Value: f.Default, Profile: profile, Owners: owners,
			LabelFilter: strings.Join(owners, " || "), Description: f.Description, Rule: f.Violates, Expect: Fail}
		if f.Severity == "SHOULD" {
			r.Expect = Warn
			// A SHOULD fault must leave every MUST passing, not only the
			// owning scenario's: run all that does not wait on clocks.
			if !slices.Contains(owners, "expiry") {
				r.LabelFilter = "!expiry"
			}
		}
		rows = append(rows, r)
	}
	for _, d := range mockidp.Drifts() {
		for _, value := range append([]string{d.Default}, driftVariants[d.Name]...) {
			r := Row{Kind: "drift", Name: string(d.Name), Value: value, Profile: DriftProfile,
				// Expiry specs wait out token lifetimes and judge no claim shape.
				LabelFilter: "!expiry", Description: d.Description, Rule: d.Source, Expect: Pass}
			if d.Breaking {
				r.Expect = Fail
				r.Owners = driftOwners[d.Name]
			}
			// A client that expects one algorithm is what an alg change breaks;
			// the default allow-list accepts every asymmetric algorithm.
			r.PinAlg = d.Name == mockidp.DriftAlg
			rows = append(rows, r)
		}
	}
	return rows
}

// driftVariants are parameters tried beside each drift's default, so the
// matrix proves the verdict holds for the claims and formats a migration
// really changes, not only for the one the catalogue picked: the Akoya
// contract's mandatory claims of seed 001, each opaque format and order of
// seed 000, and each other signing algorithm.
var driftVariants = map[mockidp.DriftName][]string{
	mockidp.DriftDropClaim:     {"connectorId", "recipientId", "products", "iss", "aud"},
	mockidp.DriftClaimType:     {"products", "sub", "iat"},
	mockidp.DriftOpaqueFormat:  {"uuid", "long"},
	mockidp.DriftReorderClaims: {"shuffle"},
	mockidp.DriftAlg:           {"EdDSA", "RS384"},
}

// driftOwners are the scenarios whose specs must catch a breaking drift:
// claim drifts are judged where the ID token is read (authcode, refresh and
// the Akoya rules), key and algorithm drifts wherever a token is verified.
var driftOwners = map[mockidp.DriftName][]string{
	mockidp.DriftDropClaim:        {"authcode", "refresh", "akoya"},
	mockidp.DriftClaimType:        {"authcode", "refresh", "akoya"},
	mockidp.DriftUnstableSub:      {"authcode", "refresh", "akoya"},
	mockidp.DriftUnstableAccounts: {"authcode", "refresh", "akoya"},
	mockidp.DriftRotateKeyDropOld: {"authcode", "client-credentials", "refresh", "security"},
	mockidp.DriftAlg:              {"authcode", "client-credentials", "refresh", "security"},
}

// SLOFaults lists the faults judged by load gates, not by conformance specs.
func SLOFaults() []mockidp.FaultInfo {
	var out []mockidp.FaultInfo
	for _, f := range mockidp.Faults() {
		if f.Severity == "SLO" {
			out = append(out, f)
		}
	}
	return out
}

// scenarioLabels keeps the labels of the suites' registry ("load" is not).
func scenarioLabels(caughtBy []string) []string {
	var out []string
	for _, l := range caughtBy {
		if slices.Contains(fw.Labels, fw.Label(l)) {
			out = append(out, l)
		}
	}
	return out
}

// String describes the row in one line.
func (r Row) String() string {
	return fmt.Sprintf("%s %s (profile %s): expect %s", r.Kind, r.Injection(), r.Profile, r.Expect)
}
