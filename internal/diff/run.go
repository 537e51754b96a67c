package diff

import (
	"fmt"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/results"
)

// categoryRequirement names what each category of differences rests on.
var categoryRequirement = map[string]string{
	CatFlow:       "the flows the old side serves",
	CatClaim:      "seed 000 (non-breaking changes) and the claim contracts",
	CatContract:   "the claim contracts and JWT validation",
	CatSigning:    "OIDC Core §3.1.3.7; RFC 8725 §3.1, §3.11; RFC 9068 §2.1",
	CatKeys:       "OIDC Core §10.1.1",
	CatLifetime:   "RFC 6749 §5.1",
	CatError:      "RFC 6749 §5.2; RFC 6750 §3; RFC 7662 §2; RFC 7009 §2.2",
	CatMetadata:   "OIDC Discovery 1.0 §3; RFC 8414 §2",
	CatContinuity: "seed 002; OIDC Core §2",
	CatLatency:    "the --latency gates",
}

// ToRun wraps a diff in a results.Run of kind diff. Each category is also
// a spec, so JUnit and the summaries count what fails: the spec fails when
// a difference of its category fails the policy, lists warnings as
// warnings, and the rest as info.
func ToRun(d *results.Diff, tool results.Tool, started, ended time.Time) *results.Run {
	run := &results.Run{
		SchemaVersion: results.SchemaVersion, Kind: results.KindDiff, Tool: tool,
		Target:    results.Target{Name: d.Old.Name + " → " + d.New.Name, MockProfile: d.New.MockProfile, File: d.New.File},
		StartedAt: started, EndedAt: ended, Diff: d,
	}
	for _, cat := range Categories {
		sp := results.Spec{
			Name:        fmt.Sprintf("%s: no difference that fails --fail-on %s", cat, d.FailOn),
			Scenario:    cat,
			Labels:      []string{"diff", cat},
			Requirement: categoryRequirement[cat],
			Severity:    "MUST",
			State:       results.Passed,
		}
		var failures []string
		for _, x := range d.Differences {
			if x.Category != cat {
				continue
			}
			line := fmt.Sprintf("%s %s: %s: %s (%s)", strings.ToUpper(x.Class), x.ID, x.Change, x.Reason, x.Rule)
			switch {
			case x.Fails:
				failures = append(failures, line)
			case x.Class == results.ClassWarning || x.Class == results.ClassBreaking:
				// A breaking difference the team accepted, or a
				// warning under the default policy.
				if x.Accepted {
					line += " [accepted]"
				}
				sp.Warnings = append(sp.Warnings, line)
			default:
				sp.Info = append(sp.Info, line)
			}
		}
		if len(failures) > 0 {
			sp.State = results.Failed
			sp.Failure = strings.Join(failures, "\n")
		}
		run.Specs = append(run.Specs, sp)
	}
	run.Summarize()
	return run
}
