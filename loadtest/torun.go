package loadtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/results"
)

// ToRun wraps a load report in the results model every report renders
// from: the measurements in Run.Load, and each gate as a spec (scenario
// "load", requirement "SLO" or the built-in check) so JUnit and the
// summary count them like conformance specs.
func ToRun(l *results.Load, tool results.Tool, tg results.Target, started, ended time.Time) *results.Run {
	l.FillEmpty()
	run := &results.Run{SchemaVersion: results.SchemaVersion, Kind: results.KindLoad, Tool: tool, Target: tg,
		StartedAt: started, EndedAt: ended, Load: l, Specs: []results.Spec{}}
	for _, g := range l.Gates {
		sp := results.Spec{Name: fmt.Sprintf("%s [%s]", g.Name, g.Scope), Scenario: "load", Labels: []string{"load", l.Scenario},
			Requirement: requirementOf(g.Name), Severity: "MUST", State: results.Passed}
		switch {
		case !g.Passed:
			sp.State = results.Failed
			sp.Failure = g.Message
		case g.NotApplicable:
			sp.State = results.Skipped
			sp.Info = []string{g.Message}
		default:
			sp.Info = []string{g.Message}
		}
		run.Specs = append(run.Specs, sp)
	}
	run.Summarize()
	if l.Interrupted {
		run.SuiteFailure = "interrupted before the plan's end"
		run.Summary.Verdict = "fail"
	}
	return run
}

func requirementOf(gate string) string {
	switch {
	case gate == gateValid:
		return "generator attempted ≥ 98% of the requested rate"
	case strings.HasPrefix(gate, "unique "):
		return "RFC 7519 §4.1.7 (jti unique); a credential is never issued twice"
	case gate == gateVerified:
		return "signature, claims and contract of sampled tokens"
	case gate == gateComplete:
		return "the plan ran to its end"
	case gate == gateStopped:
		return "the attack ran to its plan's end (its scenario had the credentials it needed)"
	case gate == gateRefreshReplay:
		return "RFC 9700 §4.14.2 (a rotated refresh token is refused when used again)"
	case gate == gateCapacity:
		return "a rate met every SLO"
	default:
		return "SLO"
	}
}
