package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/reports"
	"github.com/idpconform/idpconform/reports/schema"
)

func newReportCmd() *cobra.Command {
	var in, out, formats string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Render reports again from a results.json",
		Long: `report reads the results.json of an earlier run (conform writes it into its
--report-dir, load and load merge into their --out), checks it against the
results schema, and writes the reports again: report.html (one
self-contained file; for a load run with its latency charts), summary.md,
junit.xml, and, if asked, results.json itself.

Use it to render a run fetched from a CI artifact, to get a format the run did
not write, or to render an old run with a newer binary. The input is refused,
with every problem listed, when it does not match the schema this binary
knows (reports/schema/results.v1.schema.json).

Output passes through the redactor like every report (anything shaped like a
JWT is masked), though results.json was already redacted when written.
Exit code: 0 when the reports were written, whatever the run's verdict; 2 when
the input cannot be read or does not match the schema.`,
		Example: `  # Re-render the HTML report and Markdown summary next to the results:
  idpconform report --in idpconform-report

  # Only the HTML, into another directory:
  idpconform report --in artifacts/results.json --format html --out /tmp/view

  # A load run, gates and charts included:
  idpconform report --in idpconform-load --out /tmp/load-view

  # Every format, e.g. to upgrade an old results.json:
  idpconform report --in old-run --format all --out new-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd, in, out, formats)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in, "in", "", "results.json, or the report directory holding it (required)")
	f.StringVar(&out, "out", "", "directory to write the reports to (default: the directory of the input)")
	f.StringVar(&formats, "format", "html,markdown,junit", "reports to write, comma-separated: json, junit, html, markdown, or all")
	_ = cmd.MarkFlagRequired("in")
	return cmd
}

func runReport(cmd *cobra.Command, in, out, formatList string) error {
	fmts, err := reports.ParseFormats(formatList)
	if err != nil {
		return usageError("--format: %w", err)
	}
	path, err := resultsPath(in)
	if err != nil {
		return configError(err)
	}
	run, err := readResults(path)
	if err != nil {
		return configError(err)
	}
	if out == "" {
		out = filepath.Dir(path)
	}
	reg := redact.New()
	paths, err := reports.Write(out, run, reg, fmts...)
	if err != nil {
		return failed(err)
	}
	safeOut := reg.Writer(cmd.OutOrStdout())
	if err := reports.WriteSummary(safeOut, run.Redacted(reg)); err != nil {
		return failed(fmt.Errorf("write summary: %w", err))
	}
	fmt.Fprintf(safeOut, "\nreports: %s\n", strings.Join(paths, ", "))
	return nil
}

// resultsPath accepts a results.json file or a directory holding one.
func resultsPath(in string) (string, error) {
	st, err := os.Stat(in)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("--in %s: no such file or directory; expected a results.json or the report directory holding it", in)
		}
		return "", fmt.Errorf("--in %s: %w", in, err)
	}
	if !st.IsDir() {
		return in, nil
	}
	p := filepath.Join(in, reports.JSONFile)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("--in %s: the directory holds no %s (expected the --report-dir of an idpconform run)", in, reports.JSONFile)
	}
	return p, nil
}

// readResults reads and schema-checks a results file, naming the file and
// every place that does not match.
func readResults(path string) (*results.Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	if err := schema.ValidateResults(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	run, err := results.Decode(strings.NewReader(string(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}

// appendStepSummary appends the Markdown summary to $GITHUB_STEP_SUMMARY
// when GitHub Actions sets it.
func appendStepSummary(run *results.Run, reg *redact.Registry) error {
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	return reports.AppendStepSummary(path, run, reg)
}
