package reports_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/results/resultstest"
	"github.com/idpconform/idpconform/reports"
)

// passingDiff is the sample diff with its failing differences gone: the
// twin of every check that a failure shows.
func passingDiff() *results.Run {
	run := resultstest.Diff()
	var keep []results.Difference
	for _, x := range run.Diff.Differences {
		if !x.Fails {
			keep = append(keep, x)
		}
	}
	run.Diff.Differences, run.Diff.Failed, run.Diff.Gates = keep, false, nil
	run.Diff.Count()
	for i := range run.Specs {
		run.Specs[i].State, run.Specs[i].Failure = results.Passed, ""
	}
	run.Summarize()
	return run
}

func render(t *testing.T, write func(w *bytes.Buffer, run *results.Run) error, run *results.Run) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, run); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDiffReports(t *testing.T) {
	html := func(b *bytes.Buffer, r *results.Run) error { return reports.WriteHTML(b, r) }
	md := func(b *bytes.Buffer, r *results.Run) error { return reports.WriteMarkdown(b, r) }
	term := func(b *bytes.Buffer, r *results.Run) error { return reports.WriteSummary(b, r) }
	junit := func(b *bytes.Buffer, r *results.Run) error { return reports.WriteJUnit(b, r) }

	failing, passing := resultstest.Diff(), passingDiff()
	checks := []struct {
		name  string
		write func(*bytes.Buffer, *results.Run) error
		fail  []string // in the failing run only
		both  []string
	}{
		{"html", html,
			[]string{`id="diff-breaking"`, `<caption>Breaking (2)</caption>`, `class="violation" id="diff-claim/id_token.authorization_code.code/sub"`, `id="diff-gates"`},
			[]string{`<a href="#diff">Differences</a>`, `id="diff-warning"`, `id="diff-non-breaking"`, `checked for 2 users: the same 2 users kept their sub`, `accepted`}},
		{"markdown", md,
			[]string{"### ❌ idpconform diff", "**Breaking: 2**", "` claim/id_token.authorization_code.code/sub `", "**failed**"},
			[]string{"**Warnings: 1**", "presence optional", "Non-breaking and info:", "sub continuity: the same 2 users kept their sub"}},
		{"terminal", term,
			[]string{"idpconform diff: FAIL", "BREAKING  id_token from authorization_code (client code): sub: dropped", "rule: contract akoya-legacy-id-token (old side), Akoya, seed 002: presence mandatory", "FAILED"},
			[]string{"WARNING   id_token from authorization_code (client code): email: dropped", "INFO (accepted)"}},
		{"junit", junit,
			[]string{`failures="2"`, "claim/id_token.authorization_code.code/sub"},
			[]string{`tests="10"`}},
	}
	for _, c := range checks {
		f, p := render(t, c.write, failing), render(t, c.write, passing)
		for _, want := range append(c.fail, c.both...) {
			if !strings.Contains(f, want) {
				t.Errorf("%s of the failing diff lacks %q", c.name, want)
			}
		}
		for _, want := range c.both {
			if !strings.Contains(p, want) {
				t.Errorf("%s of the passing diff lacks %q", c.name, want)
			}
		}
		for _, absent := range c.fail {
			if strings.Contains(p, absent) {
				t.Errorf("%s of the passing diff shows %q", c.name, absent)
			}
		}
	}
}

// Every string of a diff passes the redactor on its way to every format.
func TestDiffRedacted(t *testing.T) {
	const secret = "planted-secret-value-123"
	run := resultstest.Diff()
	run.Diff.Differences[0].Reason += " " + secret
	run.Diff.Differences[2].New = secret
	run.Diff.Continuity.Reason = secret
	run.Diff.New.Name = "new " + secret
	reg := redact.New()
	reg.Add(secret)
	dir := t.TempDir()
	printed := writeEverything(t, dir, run, reg)
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) < 5 {
		t.Fatalf("only %v written", files)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), secret) {
			t.Errorf("%s holds the secret", filepath.Base(f))
		}
	}
	if strings.Contains(printed, secret) {
		t.Error("the terminal summary holds the secret")
	}
	// The twin: without the registry the secret is written.
	if !strings.Contains(render(t, func(b *bytes.Buffer, r *results.Run) error { return reports.WriteMarkdown(b, r) }, run), secret) {
		t.Error("the planted secret is not in the unredacted Markdown: the check proves nothing")
	}
}

// TestDiffReportInBrowser opens the HTML report of a diff in headless
// Chromium: it loads with no error and no request, and shows the sides,
// the classes and the gates.
func TestDiffReportInBrowser(t *testing.T) {
	br := startBrowser(t)
	dir := t.TempDir()
	if _, err := reports.Write(dir, resultstest.Diff(), redact.New(), reports.FormatHTML); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, reports.HTMLFile)
	ctx, pl := br.open(t, file)
	if err := chromedp.Do(ctx, chromedp.WaitReady(`html[data-ready="true"]`)); err != nil {
		t.Fatalf("the report's script did not finish: %v", err)
	}
	type facts struct {
		Sections []string `json:"sections"`
		Breaking int      `json:"breaking"`
		Warning  int      `json:"warning"`
		Folded   int      `json:"folded"`
		Gates    int      `json:"gates"`
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[facts](`({
		sections: [...document.querySelectorAll("main > section")].map(s => s.id),
		breaking: document.querySelectorAll("#diff-breaking tbody tr").length,
		warning: document.querySelectorAll("#diff-warning tbody tr").length,
		folded: document.querySelectorAll("details#diff-non-breaking:not([open]) tbody tr").length,
		gates: document.querySelectorAll("#diff-gates tbody tr").length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Sections, ","); got != "summary,diff,specs" {
		t.Errorf("sections %s", got)
	}
	if f.Breaking != 2 || f.Warning != 1 || f.Folded != 2 || f.Gates != 2 {
		t.Errorf("rows: %+v", f)
	}
	problems, requests := pl.snapshot()
	for _, p := range problems {
		t.Errorf("page logged: %s", p)
	}
	for _, r := range requests {
		if !strings.HasPrefix(r, "file://") && !strings.HasPrefix(r, "data:") {
			t.Errorf("page requested %s", r)
		}
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)); err == nil {
		_ = os.WriteFile(filepath.Join(artifactDir(t), "diff-browser.png"), png, 0o644)
	}
}
