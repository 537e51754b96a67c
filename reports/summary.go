package reports

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/idpconform/idpconform/internal/results"
)

// WriteSummary writes the short terminal summary: counts per scenario label,
// then each failure and warning on one line with its requirement. A load
// run gets its own: a row per step and every gate's verdict.
func WriteSummary(w io.Writer, run *results.Run) error {
	if run.Load != nil {
		return writeLoadSummary(w, run)
	}
	if run.Diff != nil {
		return writeDiffSummary(w, run)
	}
	var b strings.Builder
	if run.DryRun {
		sel := selected(run)
		fmt.Fprintf(&b, "\ndry run: %d of %d specs selected (target %s)\n\n", len(sel), len(run.Specs), run.Target.Name)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "scenario\tseverity\trequirement\tspec")
		for _, sp := range sel {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sp.Scenario, sp.Severity, sp.Requirement, sp.Name)
		}
		tw.Flush()
		_, err := io.WriteString(w, b.String())
		return err
	}
	verdict := strings.ToUpper(run.Summary.Verdict)
	fmt.Fprintf(&b, "\nidpconform %s: %s (target %s", run.Kind, verdict, run.Target.Name)
	if run.Target.MockProfile != "" {
		fmt.Fprintf(&b, ", mock profile %s", run.Target.MockProfile)
	}
	if run.Target.Issuer != "" {
		fmt.Fprintf(&b, ", issuer %s", run.Target.Issuer)
	}
	b.WriteString(")\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tpassed\tfailed\tskipped\texpected\twarnings")
	for _, l := range run.Summary.Labels() {
		c := run.Summary.ByLabel[l]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", l, c.Passed, c.Failed, c.Skipped, c.Expected, c.Warnings)
	}
	c := run.Summary.Counts
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\n", c.Passed, c.Failed, c.Skipped, c.Expected, c.Warnings)
	tw.Flush()

	if run.SuiteFailure != "" {
		fmt.Fprintf(&b, "\nsuite failure: %s\n", firstLine(run.SuiteFailure))
	}
	var fails, expected, warns []string
	for _, sp := range run.Specs {
		if sp.State == results.Failed {
			fails = append(fails, fmt.Sprintf("  FAIL  [%s] %s\n        %s", sp.Requirement, sp.Name, oneLine(sp.Failure)))
		}
		if sp.State == results.ExpectedFailure {
			expected = append(expected, fmt.Sprintf("  XFAIL [%s] %s\n        %s", sp.Requirement, sp.Name, oneLine(sp.Expected)))
		}
		for _, wn := range sp.Warnings {
			warns = append(warns, fmt.Sprintf("  WARN  %s\n        %s", sp.Name, oneLine(wn)))
		}
	}
	if len(fails) > 0 {
		b.WriteString("\nfailures:\n" + strings.Join(fails, "\n") + "\n")
	}
	if len(expected) > 0 {
		b.WriteString("\nexpected failures (known deviations, not failing the run):\n" + strings.Join(expected, "\n") + "\n")
	}
	for _, n := range run.Notes {
		fmt.Fprintf(&b, "\nnote: %s\n", n)
	}
	if len(warns) > 0 {
		b.WriteString("\nwarnings (SHOULD, not failing the run):\n" + strings.Join(warns, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine squeezes a multi-line Gomega message onto one line for the summary.
func oneLine(s string) string {
	f := strings.Fields(s)
	out := strings.Join(f, " ")
	if len(out) > 300 {
		out = out[:300] + "..."
	}
	return out
}

func selected(run *results.Run) []results.Spec {
	var out []results.Spec
	for _, sp := range run.Specs {
		if sp.State == results.Selected {
			out = append(out, sp)
		}
	}
	return out
}
