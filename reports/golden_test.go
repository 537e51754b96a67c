package reports_test

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/results/resultstest"
	"github.com/idpconform/idpconform/reports"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden renders fixed runs in every format and compares the bytes with
// testdata/golden. After an intended change, run
// `go test ./reports -run TestGolden -update` and review the diff.
func TestGolden(t *testing.T) {
	runs := map[string]*results.Run{
		"sample":        resultstest.Sample(),
		"suite-failure": resultstest.SuiteFailure(),
		"load":          resultstest.LoadSample(),
		"capacity":      resultstest.CapacitySample(),
		"diff":          resultstest.Diff(),
	}
	writers := map[string]func(io.Writer, *results.Run) error{
		"results.json": reports.WriteJSON,
		"junit.xml":    reports.WriteJUnit,
		"report.html":  reports.WriteHTML,
		"summary.md":   reports.WriteMarkdown,
		"terminal.txt": reports.WriteSummary,
	}
	for runName, run := range runs {
		for file, write := range writers {
			t.Run(runName+"/"+file, func(t *testing.T) {
				var buf bytes.Buffer
				if err := write(&buf, run); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", "golden", runName+"."+file)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%s differs from the golden file (%d bytes, want %d); first difference at byte %d; rerun with -update if intended",
						path, buf.Len(), len(want), firstDiff(buf.Bytes(), want))
				}
			})
		}
	}
}

// TestWritersArePure: rendering twice gives the same bytes, and rendering
// does not change the run.
func TestWritersArePure(t *testing.T) {
	run := resultstest.Sample()
	before, err := encode(run)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range reports.Formats {
		var a, b bytes.Buffer
		write := writerOf(f)
		if err := write(&a, run); err != nil {
			t.Fatal(err)
		}
		if err := write(&b, run); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: two renderings of one run differ", f)
		}
	}
	after, _ := encode(run)
	if !bytes.Equal(before, after) {
		t.Error("rendering changed the run")
	}
	// The twin: the comparison sees a change.
	run.Specs[0].Name += " changed"
	changed, _ := encode(run)
	if bytes.Equal(before, changed) {
		t.Error("encode does not see a changed spec name")
	}
}

func encode(run *results.Run) ([]byte, error) {
	var b bytes.Buffer
	err := reports.WriteJSON(&b, run)
	return b.Bytes(), err
}

func writerOf(f reports.Format) func(io.Writer, *results.Run) error {
	switch f {
	case reports.FormatJSON:
		return reports.WriteJSON
	case reports.FormatJUnit:
		return reports.WriteJUnit
	case reports.FormatHTML:
		return reports.WriteHTML
	default:
		return reports.WriteMarkdown
	}
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) < len(b) {
		return len(a)
	}
	return len(b)
}
