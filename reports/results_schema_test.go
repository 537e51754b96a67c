package reports_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/results/resultstest"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/reports"
	"github.com/idpconform/idpconform/reports/schema"
	"github.com/idpconform/idpconform/suites"
)

// TestWrittenResultsMatchSchema: every results.json Write produces, from
// real runs of every shape (passing, failing, filtered, dry) and from the
// fixed samples, validates against the schema and reads back to the same
// bytes.
func TestWrittenResultsMatchSchema(t *testing.T) {
	runs := map[string]*results.Run{
		"sample":        resultstest.Sample(),
		"suite failure": resultstest.SuiteFailure(),
		"right secrets": realRun(t, redact.New(), nil, nil),
		"wrong secret":  realRun(t, redact.New(), map[string]string{"IDPCONFORM_CC_SECRET": wrongSecret(t)}, nil),
		"filtered":      filteredRun(t, "discovery", false),
		"dry run":       filteredRun(t, "", true),
		"load sample":   resultstest.LoadSample(),
		"capacity":      resultstest.CapacitySample(),
		"real load run": realLoadRun(t, redact.New()),
	}
	for name, run := range runs {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := reports.Write(dir, run, redact.New(), reports.FormatJSON); err != nil {
				t.Fatal(err)
			}
			doc, err := os.ReadFile(filepath.Join(dir, reports.JSONFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.ValidateResults(doc); err != nil {
				t.Fatal(err)
			}
			back, err := results.Decode(bytes.NewReader(doc))
			if err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := reports.WriteJSON(&again, back); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(doc, again.Bytes()) {
				t.Errorf("results.json does not survive a read and write (at byte %d)", firstDiff(doc, again.Bytes()))
			}
		})
	}
	if runs["filtered"].Summary.Skipped == 0 || runs["dry run"].Summary.Total == 0 {
		t.Fatal("the filtered run skipped nothing or the dry run listed nothing")
	}
}

func filteredRun(t *testing.T, labelFilter string, dryRun bool) *results.Run {
	t.Helper()
	src, err := fixtures.FS.ReadFile(fixtures.MockTargetPath)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.Parse("mock.yaml", src, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cs, err := contract.LoadFS(fixtures.FS, fixtures.ContractsDir)
	if err != nil {
		t.Fatal(err)
	}
	runMu.Lock()
	defer runMu.Unlock()
	run, err := suites.Run(nil, suites.Options{Target: tg, Contracts: cs, LabelFilter: labelFilter, DryRun: dryRun, NoColor: true})
	if err != nil {
		t.Fatal(err)
	}
	return run
}
