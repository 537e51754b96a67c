package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/reports"
	"github.com/idpconform/idpconform/reports/schema"
)

// execute runs the command line as main does and returns the exit code and
// everything printed on stdout and stderr.
func execute(t *testing.T, args ...string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&buf, r)
		close(done)
	}()
	code := run(args)
	os.Stdout, os.Stderr = oldOut, oldErr
	w.Close()
	<-done
	r.Close()
	return code, buf.String()
}

var jws = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.`)

// TestConformWritesEveryReport: conform against the bundled mock writes
// every format, appends the step summary, and prints no secret, also when
// a wrong client secret makes specs fail.
func TestConformWritesEveryReport(t *testing.T) {
	for _, tc := range []struct {
		name     string
		secret   string
		wantCode int
	}{
		{"passing", "", exitOK},
		{"wrong client secret", "wrong-cli-secret-5f1c9a7e33", exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.secret != "" {
				t.Setenv("IDPCONFORM_CC_SECRET", tc.secret)
			}
			dir := t.TempDir()
			summary := filepath.Join(t.TempDir(), "step-summary.md")
			t.Setenv("GITHUB_STEP_SUMMARY", summary)
			code, out := execute(t, "conform", "--report-dir", dir, "--no-color")
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tc.wantCode, out)
			}
			for _, f := range reports.Formats {
				if !strings.Contains(out, filepath.Join(dir, f.File())) {
					t.Errorf("output does not name %s", f.File())
				}
			}
			doc, err := os.ReadFile(filepath.Join(dir, reports.JSONFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.ValidateResults(doc); err != nil {
				t.Error(err)
			}
			step, err := os.ReadFile(summary)
			if err != nil {
				t.Fatalf("step summary: %v", err)
			}
			if !strings.Contains(string(step), "idpconform conformance") {
				t.Errorf("step summary: %q", step)
			}
			texts := map[string]string{"output": out, "step summary": string(step)}
			for _, f := range reports.Formats {
				b, err := os.ReadFile(filepath.Join(dir, f.File()))
				if err != nil {
					t.Fatal(err)
				}
				texts[f.File()] = string(b)
			}
			secrets := []string{"idpconform-cc-secret", "idpconform-cc-post-secret", "idpconform-short-secret"}
			if tc.secret != "" {
				secrets = append(secrets[1:], tc.secret)
			}
			for where, text := range texts {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s holds the client secret %s...", where, s[:8])
					}
				}
				if m := jws.FindString(text); m != "" {
					t.Errorf("%s holds a token %s...", where, m[:12])
				}
			}
		})
	}
}

// TestReportRerenders: report reads a conform run back and writes the
// formats asked for; results.json survives unchanged.
func TestReportRerenders(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	dir := t.TempDir()
	if code, out := execute(t, "conform", "--report-dir", dir, "--report-format", "json"); code != exitOK {
		t.Fatalf("conform exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, reports.HTMLFile)); err == nil {
		t.Fatal("--report-format json also wrote the HTML")
	}
	out2 := t.TempDir()
	code, out := execute(t, "report", "--in", filepath.Join(dir, reports.JSONFile), "--out", out2, "--format", "all")
	if code != exitOK {
		t.Fatalf("report exit %d:\n%s", code, out)
	}
	for _, f := range reports.Formats {
		if _, err := os.Stat(filepath.Join(out2, f.File())); err != nil {
			t.Errorf("report did not write %s: %v", f.File(), err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, reports.JSONFile))
	b, _ := os.ReadFile(filepath.Join(out2, reports.JSONFile))
	if !bytes.Equal(a, b) {
		t.Error("results.json changed when rendered again")
	}
	html, _ := os.ReadFile(filepath.Join(out2, reports.HTMLFile))
	if !bytes.Contains(html, []byte(`<section id="specs"`)) {
		t.Error("the re-rendered HTML has no spec list")
	}
	// Default: the derived formats, next to the input.
	if code, out := execute(t, "report", "--in", dir); code != exitOK {
		t.Fatalf("report --in dir exit %d:\n%s", code, out)
	}
	for _, f := range []string{reports.HTMLFile, reports.MarkdownFile, reports.JUnitFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("default formats: %s missing", f)
		}
	}
}

// TestReportRefusesBadInput: each bad input exits 2 with a message naming
// what is wrong, and writes nothing.
func TestReportRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notJSON := write("broken.json", `{"schema_version": "1",`)
	wrongShape := write("shape.json", `{"schema_version": "1", "kind": "conformance", "specs": [{"name": "x", "state": "exploded"}]}`)
	newer := write("newer.json", `{"schema_version": "2"}`)
	empty := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"report"}, `required flag(s) "in" not set`},
		{[]string{"report", "--in", filepath.Join(dir, "missing")}, "no such file or directory"},
		{[]string{"report", "--in", empty}, "holds no results.json"},
		{[]string{"report", "--in", notJSON}, "not JSON"},
		{[]string{"report", "--in", wrongShape}, "/specs/0/state"},
		{[]string{"report", "--in", newer}, "/schema_version"},
		{[]string{"report", "--in", wrongShape, "--format", "pdf"}, `report format "pdf"`},
	}
	for _, c := range cases {
		code, out := execute(t, c.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", c.args, code, exitUsage)
		}
		if !strings.Contains(out, c.want) {
			t.Errorf("%v: output does not say %q:\n%s", c.args, c.want, out)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("report wrote into the input directory: %d files", len(entries))
	}
}
