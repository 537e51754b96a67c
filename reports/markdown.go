package reports

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/results"
)

// The Markdown summary is read in a pull-request comment or a CI step
// summary, so it stays short whatever the run: at most mdMaxItems failures
// and warnings are listed, each cut to mdMaxText characters; the HTML report
// has the rest.
const (
	mdMaxItems = 10
	mdMaxText  = 180
	mdMaxName  = 120
)

// WriteMarkdown writes a short GitHub-flavoured Markdown summary of run:
// verdict, counts per scenario and severity, then the first failures and
// warnings with their requirement.
func WriteMarkdown(w io.Writer, run *results.Run) error {
	if run.Load != nil {
		return writeLoadMarkdown(w, run)
	}
	if run.Diff != nil {
		return writeDiffMarkdown(w, run)
	}
	var b strings.Builder
	icon := "✅"
	if !run.Passed() {
		icon = "❌"
	}
	fmt.Fprintf(&b, "### %s idpconform %s: %s\n\n", icon, mdText(string(run.Kind)), strings.ToUpper(run.Summary.Verdict))
	fmt.Fprintf(&b, "Target **%s**", mdText(run.Target.Name))
	if run.Target.MockProfile != "" {
		fmt.Fprintf(&b, " (bundled mock, profile %s)", mdText(run.Target.MockProfile))
	}
	if run.Target.Issuer != "" && run.Target.MockProfile == "" {
		fmt.Fprintf(&b, ", issuer %s", mdCode(run.Target.Issuer))
	}
	c := run.Summary.Counts
	fmt.Fprintf(&b, " · %s: %d passed, %d failed, %d skipped, %s · %s\n",
		plural(c.Total, "spec"), c.Passed, c.Failed, c.Skipped, plural(c.Warnings, "warning"), run.EndedAt.Sub(run.StartedAt).Round(time.Millisecond))

	if run.SuiteFailure != "" {
		fmt.Fprintf(&b, "\n> **Suite failure:** %s\n", mdText(cut(firstLine(run.SuiteFailure), mdMaxText)))
	}

	if len(run.Specs) > 0 {
		b.WriteString("\n| scenario | passed | failed | skipped | warnings |\n|---|--:|--:|--:|--:|\n")
		for _, l := range run.Summary.Labels() {
			lc := run.Summary.ByLabel[l]
			fmt.Fprintf(&b, "| %s | %d | %s | %d | %d |\n", mdText(l), lc.Passed, failedCell(lc.Failed), lc.Skipped, lc.Warnings)
		}
		var sev []string
		for _, s := range run.Summary.Severities() {
			sc := run.Summary.BySeverity[s]
			sev = append(sev, fmt.Sprintf("%s %d/%d passed", mdText(s), sc.Passed, sc.Total-sc.Skipped))
		}
		fmt.Fprintf(&b, "\nBy severity: %s.\n", strings.Join(sev, " · "))
	}

	var fails, expected, warns []string
	for _, sp := range run.Specs {
		if sp.State == results.Failed {
			fails = append(fails, fmt.Sprintf("- **%s** %s (%s)<br>%s", mdText(sp.Requirement), mdText(cut(sp.Name, mdMaxName)), mdText(sp.Severity), mdText(cut(oneLine(sp.Failure), mdMaxText))))
		}
		if sp.State == results.ExpectedFailure {
			expected = append(expected, fmt.Sprintf("- %s %s<br>%s", mdText(sp.Requirement), mdText(cut(sp.Name, mdMaxName)), mdText(cut(oneLine(sp.Expected), mdMaxText))))
		}
		for _, wn := range sp.Warnings {
			warns = append(warns, fmt.Sprintf("- %s<br>%s", mdText(cut(sp.Name, mdMaxName)), mdText(cut(oneLine(wn), mdMaxText))))
		}
	}
	list(&b, "Failures", fails)
	list(&b, "Expected failures (known deviations, not failing the run)", expected)
	list(&b, "Warnings (SHOULD: reported, not failing the run)", warns)

	fmt.Fprintf(&b, "\n<sub>idpconform %s · results schema %s · full report: %s (evidence, decoded tokens), %s, %s</sub>\n",
		mdText(run.Tool.Version), mdText(run.SchemaVersion), HTMLFile, JUnitFile, JSONFile)
	_, err := io.WriteString(w, b.String())
	return err
}

func list(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n**%s: %d**\n\n", title, len(items))
	for i, it := range items {
		if i == mdMaxItems {
			fmt.Fprintf(b, "- … and %d more in %s\n", len(items)-mdMaxItems, HTMLFile)
			break
		}
		b.WriteString(it + "\n")
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func failedCell(n int) string {
	if n > 0 {
		return fmt.Sprintf("**%d**", n)
	}
	return "0"
}

// mdText escapes text for a Markdown paragraph or table cell: Markdown
// punctuation is backslash-escaped, and < > & become entities so a Gomega
// message ("Expected <int>: 401") is not taken for an HTML tag.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '|', '~', '#', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode wraps s in a code span long enough to hold any backticks in it.
func mdCode(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fence + " " + s + " " + fence
}

// cut shortens s to n runes, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
