package reports_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/reports"
)

// FuzzRender decodes a results file as `idpconform report` does and renders
// every format from it. Whatever the file holds, no writer panics, the JUnit
// is well-formed XML, the JSON decodes back, and a registered secret planted
// in a failure message appears in no output.
func FuzzRender(f *testing.F) {
	for _, name := range []string{"sample", "suite-failure"} {
		if b, err := os.ReadFile("testdata/golden/" + name + ".results.json"); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"schema_version":"` + results.SchemaVersion + `","kind":"conformance","specs":[{"name":"]]><x>","state":"failed","failure":"<script>\u0000\ud800","labels":[""],"tokens":[{"header":{"alg":1},"claims":{"exp":"x","aud":[null]}}]}]}`))
	const secret = "fuzz-planted-secret-7f3a9c"
	reg := redact.New()
	reg.Add(secret)
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := results.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		run.Specs = append(run.Specs, results.Spec{Name: "planted", Scenario: "x", State: results.Failed, Failure: "leak " + secret + " & <" + secret + ">"})
		run.Summarize()
		red := run.Redacted(reg)
		for _, w := range []struct {
			name  string
			write func(io.Writer, *results.Run) error
		}{
			{"json", reports.WriteJSON}, {"junit", reports.WriteJUnit}, {"html", reports.WriteHTML},
			{"markdown", reports.WriteMarkdown}, {"summary", reports.WriteSummary},
		} {
			var buf bytes.Buffer
			if err := w.write(&buf, red); err != nil {
				// A writer may refuse a run (an error, never a panic).
				continue
			}
			out := reg.Bytes(buf.Bytes())
			if bytes.Contains(out, []byte(secret)) {
				t.Fatalf("%s output holds the planted secret", w.name)
			}
			switch w.name {
			case "junit":
				dec := xml.NewDecoder(bytes.NewReader(out))
				for {
					if _, err := dec.Token(); err != nil {
						if !errors.Is(err, io.EOF) {
							t.Fatalf("JUnit is not well-formed XML: %v", err)
						}
						break
					}
				}
			case "json":
				if _, err := results.Decode(strings.NewReader(string(out))); err != nil {
					t.Fatalf("JSON report does not decode: %v", err)
				}
			}
		}
	})
}
