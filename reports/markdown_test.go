package reports_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/results/resultstest"
	"github.com/idpconform/idpconform/reports"
)

func markdownOf(t *testing.T, run *results.Run) string {
	t.Helper()
	var b bytes.Buffer
	if err := reports.WriteMarkdown(&b, run); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// hugeRun fails n specs with long messages.
func hugeRun(n int) *results.Run {
	run := resultstest.Sample()
	for i := range n {
		run.Specs = append(run.Specs, results.Spec{
			Name: fmt.Sprintf("scenario-%d checks rule %d %s", i%8, i, strings.Repeat("very ", 40)), Scenario: fmt.Sprintf("scenario-%d", i%8),
			Labels: []string{"x"}, Requirement: "RFC 6749 §5.2", Severity: "MUST", State: results.Failed,
			Failure:  strings.Repeat("Expected <int>: 400 to equal <int>: 401 ", 30),
			Warnings: []string{strings.Repeat("a SHOULD was not met ", 30)},
			Duration: time.Millisecond,
		})
	}
	run.Summarize()
	return run
}

// TestMarkdownStaysShort: a run with hundreds of failures still gives a
// summary that fits a pull-request comment and a step summary at a glance.
func TestMarkdownStaysShort(t *testing.T) {
	small := markdownOf(t, resultstest.Sample())
	big := markdownOf(t, hugeRun(500))
	const limit = 8 << 10
	if len(big) > limit {
		t.Errorf("summary of 500 failures is %d bytes, want at most %d", len(big), limit)
	}
	if lines := strings.Count(big, "\n"); lines > 60 {
		t.Errorf("summary of 500 failures has %d lines, want at most 60", lines)
	}
	if !strings.Contains(big, "… and 491 more in report.html") {
		t.Error("the summary does not say how many failures it left out")
	}
	// The twin: the limits are not met by accident of a short input.
	if len(small) >= len(big) {
		t.Errorf("the small run's summary (%d bytes) is not shorter than the huge one's (%d)", len(small), len(big))
	}
}

// TestMarkdownEscapes: text from specs cannot break the table or turn into
// HTML in a GitHub comment.
func TestMarkdownEscapes(t *testing.T) {
	run := resultstest.Sample()
	run.Specs[3].Failure = "Expected <int>: 400 | got *bold* and [link](x) `code`"
	run.Specs[3].Scenario = "pipe|scenario"
	run.Summarize()
	md := markdownOf(t, run)
	for _, want := range []string{`&lt;int&gt;`, `\|`, `\*bold\*`, `\[link\]`, "\\`code\\`", `| pipe\|scenario |`} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	for _, raw := range []string{"<int>", "*bold*", "[link](x)"} {
		if strings.Contains(md, raw) {
			t.Errorf("summary holds unescaped %q", raw)
		}
	}
}

// TestStepSummaryAppends: the summary is appended, never replacing what
// earlier steps wrote.
func TestStepSummaryAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "step_summary.md")
	if err := os.WriteFile(path, []byte("# earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := resultstest.Sample()
	reg := redact.New()
	for range 2 {
		if err := reports.AppendStepSummary(path, run, reg); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.HasPrefix(got, "# earlier step\n") {
		t.Error("the earlier step's summary was lost")
	}
	if n := strings.Count(got, "idpconform conformance: FAIL"); n != 2 {
		t.Errorf("found %d summaries, want 2", n)
	}
	if err := reports.AppendStepSummary(filepath.Join(t.TempDir(), "missing-dir", "x.md"), run, reg); err == nil {
		t.Error("appending into a missing directory succeeded")
	}
}
