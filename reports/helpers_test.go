package reports_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"html"
	"html/template"
	"io"
	"log"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/suites"
)

// runMu serialises suite runs: Ginkgo keeps its suite in package globals.
var runMu sync.Mutex

// realRun runs the real suites against the real mock, as `idpconform
// conform` does with no --target: the bundled target file, its embedded
// mock on a loopback port. vars resolve the file's ${VAR}s (the process
// environment is not read, so the run is the same everywhere). Ginkgo's
// output goes to out.
func realRun(t *testing.T, reg *redact.Registry, vars map[string]string, out io.Writer) *results.Run {
	t.Helper()
	src, err := fixtures.FS.ReadFile(fixtures.MockTargetPath)
	if err != nil {
		t.Fatalf("bundled target: %v", err)
	}
	return runTarget(t, "fixtures/"+fixtures.MockTargetPath, src, reg, vars, out)
}

func runTarget(t *testing.T, name string, src []byte, reg *redact.Registry, vars map[string]string, out io.Writer) *results.Run {
	t.Helper()
	lookup := func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
	tg, err := target.Parse(name, src, lookup)
	if err != nil {
		t.Fatalf("target: %v", err)
	}
	cs, err := contract.LoadFS(fixtures.FS, fixtures.ContractsDir)
	if err != nil {
		t.Fatalf("contracts: %v", err)
	}
	if out == nil {
		out = io.Discard
	}
	runMu.Lock()
	defer runMu.Unlock()
	run, err := suites.Run(nil, suites.Options{
		Target: tg, Secrets: reg, Contracts: cs, Out: out, NoColor: true,
		Tool: results.Tool{Name: "idpconform", Version: "test"},
	})
	if err != nil {
		t.Fatalf("suites.Run: %v", err)
	}
	return run
}

// wrongSecret returns a client secret the mock does not know.
func wrongSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "wrong-secret-" + hex.EncodeToString(b)
}

// captureProcessOutput runs fn with os.Stdout, os.Stderr and the log
// package's output redirected, and returns what was written there: what a
// user would have seen printed besides the writers a test passes in.
func captureProcessOutput(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	oldLog := log.Writer()
	os.Stdout, os.Stderr = w, w
	log.SetOutput(w)
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&buf, r)
		close(done)
	}()
	defer func() {
		os.Stdout, os.Stderr = oldOut, oldErr
		log.SetOutput(oldLog)
	}()
	fn()
	w.Close()
	<-done
	r.Close()
	return buf.String()
}

var percentDecoded = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)

// jwsShape is a compact JWS: a token, whether or not it was registered.
var jwsShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)

// leak is a secret found in output. What names the secret by its first
// characters and length, never whole.
type leak struct{ where, what string }

// spellings are the forms an encoder can give a secret: as is, form- and
// JSON-escaped (with HTML escaping, as encoding/json does by default), and
// HTML and XML entity-escaped.
func spellings(v string) []string {
	out := []string{v, url.QueryEscape(v), template.HTMLEscapeString(v), html.EscapeString(v)}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, strings.Trim(string(b), `"`))
	}
	var x strings.Builder
	if xml.EscapeText(&x, []byte(v)) == nil {
		out = append(out, x.String())
	}
	return out
}

// views are the readings of an output that a secret could hide in: the bytes,
// the text with every HTML/XML entity decoded (&#43;, &amp; ...), with every
// %XX decoded, and, for JSON, every string value decoded.
func views(text string) []string {
	vs := []string{text, html.UnescapeString(text), percentDecoded.ReplaceAllStringFunc(text, func(m string) string {
		b, err := hex.DecodeString(m[1:])
		if err != nil {
			return m
		}
		return string(b)
	})}
	var doc any
	if json.Unmarshal([]byte(text), &doc) == nil {
		var b strings.Builder
		collectStrings(doc, &b)
		vs = append(vs, b.String())
	}
	return vs
}

func collectStrings(v any, b *strings.Builder) {
	switch x := v.(type) {
	case string:
		b.WriteString(x)
		b.WriteByte('\n')
	case map[string]any:
		for k, e := range x {
			b.WriteString(k)
			b.WriteByte('\n')
			collectStrings(e, b)
		}
	case []any:
		for _, e := range x {
			collectStrings(e, b)
		}
	}
}

// scan looks for every secret, in every spelling, in every view of text,
// and for anything shaped like a JWS.
func scan(where, text string, secrets []string) []leak {
	var out []leak
	seen := map[string]bool{}
	for _, view := range views(text) {
		for _, s := range secrets {
			for _, sp := range spellings(s) {
				if len(sp) >= 4 && strings.Contains(view, sp) && !seen[s] {
					seen[s] = true
					out = append(out, leak{where: where, what: describe(s)})
				}
			}
		}
		for _, m := range jwsShape.FindAllString(view, -1) {
			if !seen[m] {
				seen[m] = true
				out = append(out, leak{where: where, what: "a JWS-shaped token " + describe(m)})
			}
		}
	}
	return out
}

func describe(s string) string {
	n := 6
	if len(s) < n {
		n = len(s)
	}
	return strings.ReplaceAll(s[:n], "\n", " ") + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// scanDir scans every file in dir.
func scanDir(t *testing.T, dir string, secrets []string) []leak {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []leak
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, scan(e.Name(), string(b), secrets)...)
	}
	return out
}
