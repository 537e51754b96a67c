package reports

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idpconform/idpconform/internal/results"
)

// The diff of a migration renders its own Markdown and terminal summary:
// what a reviewer of the pull request needs is the differences that fail
// and warn, each with its reason and rule, not a table of specs.

// mdDiffMax bounds the rows listed per class in the Markdown summary; the
// HTML report lists them all.
const mdDiffMax = 25

// termDiffMax bounds the non-breaking and info rows the terminal lists:
// breaking and warning rows are always listed whole.
const termDiffMax = 15

func writeDiffMarkdown(w io.Writer, run *results.Run) error {
	d := run.Diff
	var b strings.Builder
	icon := "✅"
	if d.Failed {
		icon = "❌"
	}
	verdict := "no difference fails the policy"
	if d.Failed {
		verdict = "a difference fails the policy"
	}
	fmt.Fprintf(&b, "### %s idpconform diff: %s → %s: %s\n\n", icon, mdText(d.Old.Name), mdText(d.New.Name), strings.ToUpper(run.Summary.Verdict))
	fmt.Fprintf(&b, "%s (fails on %s). **%d breaking**, %s, %d non-breaking, %d info", verdict, mdText(failOnText(d.FailOn)),
		d.Counts.Breaking, plural(d.Counts.Warning, "warning"), d.Counts.NonBreaking, d.Counts.Info)
	if d.Counts.Accepted > 0 {
		fmt.Fprintf(&b, " (%d accepted)", d.Counts.Accepted)
	}
	fmt.Fprintf(&b, " · %s\n\n", run.EndedAt.Sub(run.StartedAt).Round(time.Millisecond))
	fmt.Fprintf(&b, "- old: %s\n- new: %s\n", mdSide(d.Old), mdSide(d.New))
	if d.Continuity.Checked {
		fmt.Fprintf(&b, "- sub continuity: %s\n", mdText(d.Continuity.Reason))
	} else {
		fmt.Fprintf(&b, "- sub continuity: **not checked**: %s\n", mdText(d.Continuity.Reason))
	}
	for _, class := range []string{results.ClassBreaking, results.ClassWarning} {
		var rows []results.Difference
		for _, x := range d.Differences {
			if x.Class == class {
				rows = append(rows, x)
			}
		}
		if len(rows) == 0 {
			continue
		}
		title := "Breaking"
		if class == results.ClassWarning {
			title = "Warnings"
		}
		fmt.Fprintf(&b, "\n**%s: %d**\n\n| what | change | old → new | why (rule) |\n|---|---|---|---|\n", title, len(rows))
		for i, x := range rows {
			if i == mdDiffMax {
				fmt.Fprintf(&b, "| … and %d more in %s | | | |\n", len(rows)-mdDiffMax, HTMLFile)
				break
			}
			what := mdText(x.Subject)
			if x.Item != "" {
				what += ": " + mdCode(x.Item)
			}
			if x.Accepted {
				what += " (accepted)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s → %s | %s<br><sub>%s · %s</sub> |\n", what, mdText(x.Change), mdText(cut(x.Old, 60)), mdText(cut(x.New, 60)),
				mdText(cut(x.Reason, mdMaxText)), mdText(cut(x.Rule, mdMaxText)), mdCode(x.ID))
		}
	}
	var tolerated []string
	for _, x := range d.Differences {
		if x.Class == results.ClassNonBreaking || x.Class == results.ClassInfo {
			tolerated = append(tolerated, fmt.Sprintf("- %s %s: %s: %s <sub>(%s)</sub>", mdText(x.Class), mdText(x.Subject), mdText(itemChange(x)), mdText(cut(x.Reason, 100)), mdText(cut(x.Rule, 100))))
		}
	}
	if len(tolerated) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>Non-breaking and info: %d</summary>\n\n", len(tolerated))
		for i, l := range tolerated {
			if i == mdDiffMax {
				fmt.Fprintf(&b, "- … and %d more in %s\n", len(tolerated)-mdDiffMax, HTMLFile)
				break
			}
			b.WriteString(l + "\n")
		}
		b.WriteString("\n</details>\n")
	}
	if len(d.Gates) > 0 {
		b.WriteString("\n| latency gate | operation | old ms | new ms | limit ms | |\n|---|---|--:|--:|--:|---|\n")
		for _, g := range d.Gates {
			v := "passed"
			if !g.Passed {
				v = "**failed**"
			}
			fmt.Fprintf(&b, "| %s | %s | %.3f | %.3f | %.3f | %s |\n", mdCode(g.Gate), mdText(g.Operation), g.Old, g.New, g.Limit, v)
		}
	}
	fmt.Fprintf(&b, "\n<sub>idpconform %s · results schema %s · full report: %s, %s · accept a known difference with <code>--accept ID</code></sub>\n",
		mdText(run.Tool.Version), mdText(run.SchemaVersion), HTMLFile, JSONFile)
	_, err := io.WriteString(w, b.String())
	return err
}

func failOnText(f string) string {
	if f == "none" {
		return "nothing: report only"
	}
	return f + " or worse"
}

func itemChange(x results.Difference) string {
	if x.Item == "" {
		return x.Change
	}
	return x.Item + " " + x.Change
}

func mdSide(s results.DiffSide) string {
	out := "**" + mdText(s.Name) + "**"
	if s.MockProfile != "" {
		out += " (bundled mock, profile " + mdText(s.MockProfile)
		if len(s.MockDrift) > 0 {
			out += ", drift " + mdText(strings.Join(s.MockDrift, ", "))
		}
		out += ")"
	}
	src := "captured for this diff"
	if s.Source == "baseline" {
		src = "baseline of " + s.CapturedAt.UTC().Format("2006-01-02 15:04 MST")
	}
	if s.File != "" {
		src += " from " + mdCode(s.File)
	}
	return out + ", " + src
}

// writeDiffSummary is the terminal form: counts, continuity, then every
// breaking and warning difference with reason and rule; the rest counted.
func writeDiffSummary(w io.Writer, run *results.Run) error {
	d := run.Diff
	var b strings.Builder
	fmt.Fprintf(&b, "\nidpconform diff: %s (%s → %s; fails on %s)\n\n", strings.ToUpper(run.Summary.Verdict), d.Old.Name, d.New.Name, failOnText(d.FailOn))
	fmt.Fprintf(&b, "  %d breaking, %s, %d non-breaking, %d info", d.Counts.Breaking, plural(d.Counts.Warning, "warning"), d.Counts.NonBreaking, d.Counts.Info)
	if d.Counts.Accepted > 0 {
		fmt.Fprintf(&b, ", %d accepted", d.Counts.Accepted)
	}
	b.WriteString("\n")
	if d.Continuity.Checked {
		fmt.Fprintf(&b, "  sub continuity: %s\n", d.Continuity.Reason)
	} else {
		fmt.Fprintf(&b, "  sub continuity: NOT CHECKED: %s\n", d.Continuity.Reason)
	}
	labels := map[string]string{results.ClassBreaking: "BREAKING", results.ClassWarning: "WARNING", results.ClassNonBreaking: "OK", results.ClassInfo: "INFO"}
	for _, class := range results.DiffClasses {
		var lines []string
		for _, x := range d.Differences {
			if x.Class != class {
				continue
			}
			tag := labels[class]
			if x.Accepted {
				tag += " (accepted)"
			}
			what := x.Subject
			if x.Item != "" {
				what += ": " + x.Item
			}
			l := fmt.Sprintf("  %-9s %s: %s", tag, what, x.Change)
			if x.Old != "" || x.New != "" {
				l += fmt.Sprintf(" (%s → %s)", oneLine(x.Old), oneLine(x.New))
			}
			if class == results.ClassBreaking || class == results.ClassWarning {
				l += fmt.Sprintf("\n            %s\n            rule: %s\n            id: %s", oneLine(x.Reason), oneLine(x.Rule), x.ID)
			} else {
				l += fmt.Sprintf(" [%s]", oneLine(x.Rule))
			}
			lines = append(lines, l)
		}
		if len(lines) == 0 {
			continue
		}
		n := len(lines)
		if (class == results.ClassNonBreaking || class == results.ClassInfo) && n > termDiffMax {
			lines = append(lines[:termDiffMax], fmt.Sprintf("  … and %d more in %s", n-termDiffMax, HTMLFile))
		}
		fmt.Fprintf(&b, "\n%s (%d):\n%s\n", class, n, strings.Join(lines, "\n"))
	}
	if len(d.Latency) > 0 {
		b.WriteString("\nlatency (ms, old → new):\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  operation\tsamples\tp50\tp99\tratio")
		for _, l := range d.Latency {
			fmt.Fprintf(tw, "  %s\t%d → %d\t%.3f → %.3f\t%.3f → %.3f\t%.2fx\n", l.Operation, l.OldSamples, l.NewSamples, l.OldP50, l.NewP50, l.OldP99, l.NewP99, l.Ratio)
		}
		tw.Flush()
	}
	for _, g := range d.Gates {
		v := "passed"
		if !g.Passed {
			v = "FAILED"
		}
		fmt.Fprintf(&b, "  gate %s on %s: %s (new %.3f ms, limit %.3f ms)\n", g.Gate, g.Operation, v, g.New, g.Limit)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
