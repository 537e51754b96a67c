package reports_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/mockidp"
	"github.com/idpconform/idpconform/reports"
)

// writeEverything writes every report format, the step summary and the
// terminal summary of run, as conform does, and returns what was printed.
func writeEverything(t *testing.T, dir string, run *results.Run, reg *redact.Registry) string {
	t.Helper()
	if _, err := reports.Write(dir, run, reg); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := reports.AppendStepSummary(filepath.Join(dir, "step-summary.md"), run, reg); err != nil {
		t.Fatalf("AppendStepSummary: %v", err)
	}
	var term bytes.Buffer
	if err := reports.WriteSummary(reg.Writer(&term), run.Redacted(reg)); err != nil {
		t.Fatalf("WriteSummary: %v", err)
	}
	return term.String()
}

// TestNoSecretLeavesARun runs every scenario against the real mock, once
// with the right secrets and once with a wrong client secret (failures, and
// evidence of the requests that carried it), writes every report, and scans
// every file and everything printed for every secret the run registered and
// for any raw token.
func TestNoSecretLeavesARun(t *testing.T) {
	cases := []struct {
		name     string
		vars     map[string]string
		wantFail bool
	}{
		{name: "right secrets"},
		{name: "wrong client secret", vars: map[string]string{"IDPCONFORM_CC_SECRET": wrongSecret(t)}, wantFail: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := redact.New()
			dir := t.TempDir()
			var ginkgoOut bytes.Buffer
			var run *results.Run
			var term string
			printed := captureProcessOutput(t, func() {
				run = realRun(t, reg, tc.vars, &ginkgoOut)
				term = writeEverything(t, dir, run, reg)
			})

			// The run must have done what makes the scan mean something.
			if got := run.Summary.Failed > 0; got != tc.wantFail {
				t.Fatalf("failed specs: %d; want failures: %v", run.Summary.Failed, tc.wantFail)
			}
			if n := countTokens(run); n == 0 {
				t.Fatal("the run decoded no token: nothing issued was put to the test")
			}
			for _, v := range tc.vars {
				if !contains(reg.Values(), v) {
					t.Fatalf("the target's secret %s is not registered", describe(v))
				}
			}
			if reg.Len() < 10 {
				t.Fatalf("only %d secret spellings registered; the run should have learnt its tokens", reg.Len())
			}
			if tc.wantFail && !hasEvidenceOf(run, "Authorization") {
				t.Fatal("no failing spec kept the request that carried the wrong secret")
			}

			secrets := reg.Values()
			leaks := scanDir(t, dir, secrets)
			leaks = append(leaks, scan("ginkgo output", ginkgoOut.String(), secrets)...)
			leaks = append(leaks, scan("terminal summary", term, secrets)...)
			leaks = append(leaks, scan("stdout/stderr/log", printed, secrets)...)
			for _, l := range leaks {
				t.Errorf("%s leaks %s", l.where, l.what)
			}
			files, _ := os.ReadDir(dir)
			if len(files) != len(reports.Formats)+1 {
				t.Fatalf("scanned %d files, want every format and the step summary", len(files))
			}
		})
	}
}

// TestNoIssuedTokenLeaves checks the reports against what the IdP actually
// sent, not only against what the run registered: the mock of each vendor
// profile is served behind a recorder that keeps every token, code and
// Akkess t1 token it issued, and the reports must contain none of them.
func TestNoIssuedTokenLeaves(t *testing.T) {
	cases := []struct {
		profile, file string
		vars          map[string]string
	}{
		// The generic run also fails a spec, so failure evidence is scanned.
		{"generic", fixtures.MockTargetPath, map[string]string{"IDPCONFORM_CC_POST_SECRET": wrongSecret(t)}},
		{"akoya", fixtures.TargetsDir + "/mock-akoya.yaml", nil},
		{"akkess", fixtures.TargetsDir + "/mock-akkess.yaml", nil},
		{"nextidentity", fixtures.TargetsDir + "/mock-nextidentity.yaml", nil},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			src, err := fixtures.FS.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			w := &witness{}
			srv := httptest.NewUnstartedServer(nil)
			issuer := "http://" + srv.Listener.Addr().String()
			idp, err := mockidp.New(mockidp.Options{Issuer: issuer, Profile: tc.profile})
			if err != nil {
				t.Fatal(err)
			}
			srv.Config.Handler = w.wrap(idp)
			srv.Start()
			defer srv.Close()
			section := regexp.MustCompile(`(?m)^mock:\n(?:  .*\n)*`)
			if !section.Match(src) {
				t.Fatalf("%s no longer names the embedded mock in a mock: section", tc.file)
			}
			src = section.ReplaceAll(src, []byte("issuer: "+issuer+"\n"))

			reg := redact.New()
			dir := t.TempDir()
			var ginkgoOut bytes.Buffer
			var term string
			printed := captureProcessOutput(t, func() {
				run := runTarget(t, "witness.yaml", src, reg, tc.vars, &ginkgoOut)
				if got := run.Summary.Failed > 0; got != (tc.vars != nil) {
					t.Errorf("failed specs: %d; want failures: %v", run.Summary.Failed, tc.vars != nil)
				}
				term = writeEverything(t, dir, run, reg)
			})
			issued := w.values()
			for _, kind := range []string{"access_token", "code"} {
				if w.count(kind) < 2 {
					t.Fatalf("the IdP issued %d %s values; expected the run to obtain several", w.count(kind), kind)
				}
			}
			if tc.profile == "akkess" && w.count("t1") == 0 {
				t.Fatal("the akkess run obtained no t1 token")
			}
			leaks := scanDir(t, dir, issued)
			leaks = append(leaks, scan("ginkgo output", ginkgoOut.String(), issued)...)
			leaks = append(leaks, scan("terminal summary", term, issued)...)
			leaks = append(leaks, scan("stdout/stderr/log", printed, issued)...)
			for _, l := range leaks {
				t.Errorf("%s leaks %s", l.where, l.what)
			}
		})
	}
}

// TestWriteRedactsPlantedSecrets plants a secret in every free-text part of
// a real run's model (failure, warnings, log, evidence, decoded claims) and
// writes every format: with the run's redactor nothing leaks; without it
// (the failing twin) the scan finds the secret in every format.
func TestWriteRedactsPlantedSecrets(t *testing.T) {
	reg := redact.New()
	secret := wrongSecret(t)
	run := realRun(t, reg, map[string]string{"IDPCONFORM_CC_SECRET": secret}, nil)
	// A secret that every encoder escapes differently (&#43; &amp; \u0026):
	// only redacting the model before encoding catches all its spellings.
	escapable := "p+w&<d>'" + wrongSecret(t)
	reg.Add(escapable)
	planted := plant(t, plant(t, run, secret), escapable)

	dir := t.TempDir()
	writeEverything(t, dir, planted, reg)
	for _, l := range scanDir(t, dir, reg.Values()) {
		t.Errorf("%s leaks %s", l.where, l.what)
	}

	leakDir := t.TempDir()
	if _, err := reports.Write(leakDir, planted, redact.New()); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, l := range scanDir(t, leakDir, reg.Values()) {
		found[l.where] = true
	}
	for _, f := range reports.Formats {
		if !found[f.File()] {
			t.Errorf("scan missed the secret planted in %s written without the redactor", f.File())
		}
	}
}

// TestLeakScanCatchesEscapedSpellings: the scan sees through the escaping an
// encoder applies, and finds tokens nobody registered.
func TestLeakScanCatchesEscapedSpellings(t *testing.T) {
	secret := wrongSecret(t)
	secrets := []string{secret}
	if got := scan("clean", "<p>nothing here</p>", secrets); len(got) != 0 {
		t.Fatalf("clean text: %v", got)
	}
	cases := map[string]string{
		"raw":              "<p>" + secret + "</p>",
		"entity-escaped":   "<p>" + strings.ReplaceAll(secret, "-", "&#45;") + "</p>",
		"JSON-escaped":     `{"x": "` + strings.ReplaceAll(secret, "-", `\u002d`) + `"}`,
		"form-encoded":     "secret=" + strings.ReplaceAll(secret, "-", "%2D"),
		"unregistered JWT": "token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl\n",
	}
	for name, text := range cases {
		if len(scan(name, text, secrets)) == 0 {
			t.Errorf("scan missed a %s secret", name)
		}
	}
}

// plant returns a copy of run with secret in every free-text field of its
// first failed spec.
func plant(t *testing.T, run *results.Run, secret string) *results.Run {
	t.Helper()
	cp := *run
	cp.Specs = append([]results.Spec(nil), run.Specs...)
	for i := range cp.Specs {
		sp := &cp.Specs[i]
		if sp.State != results.Failed {
			continue
		}
		sp.Name += " " + secret
		sp.Failure += " (sent " + secret + ")"
		sp.Warnings = append(sp.Warnings, "warned about "+secret)
		sp.Info = append(sp.Info, "noted "+secret)
		sp.Output += "\nlogged " + secret
		sp.Evidence = append(sp.Evidence, results.Exchange{
			Name: "token", Method: "POST", URL: "http://127.0.0.1/token",
			RequestHeader: map[string][]string{"X-Secret": {secret}},
			RequestBody:   "client_secret=" + secret,
			Status:        200, ResponseBody: `{"access_token":"` + secret + `"}`,
		})
		sp.Tokens = append(sp.Tokens, results.Token{Kind: "access_token", Source: "token",
			Header: map[string]any{"kid": secret}, Claims: map[string]any{"nested": []any{map[string]any{"x": secret}}}})
		return &cp
	}
	t.Fatal("the run has no failed spec to plant a secret in")
	return nil
}

// witness records every credential the IdP sends: tokens in JSON bodies,
// codes in the Location of authorization redirects, and whole JWT bodies
// (Akkess answers with application/jwt).
type witness struct {
	mu     sync.Mutex
	issued []string
	kinds  map[string]int
}

func (w *witness) add(kind, v string) {
	if v == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.kinds == nil {
		w.kinds = map[string]int{}
	}
	w.issued = append(w.issued, v)
	w.kinds[kind]++
}

func (w *witness) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var body map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &body) == nil {
			for _, k := range []string{"access_token", "refresh_token", "id_token", "code"} {
				if s, ok := body[k].(string); ok {
					w.add(k, s)
				}
			}
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/jwt") {
			w.add("t1", strings.TrimSpace(rec.Body.String()))
		}
		if loc, err := url.Parse(rec.Header().Get("Location")); err == nil {
			w.add("code", loc.Query().Get("code"))
		}
		for k, vs := range rec.Header() {
			rw.Header()[k] = vs
		}
		rw.WriteHeader(rec.Code)
		_, _ = rw.Write(rec.Body.Bytes())
	})
}

func (w *witness) values() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.issued...)
}

func (w *witness) count(kind string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.kinds[kind]
}

func countTokens(run *results.Run) int {
	n := 0
	for _, sp := range run.Specs {
		n += len(sp.Tokens)
	}
	return n
}

func hasEvidenceOf(run *results.Run, header string) bool {
	for _, sp := range run.Specs {
		if sp.State != results.Failed {
			continue
		}
		for _, ex := range sp.Evidence {
			if len(ex.RequestHeader[header]) > 0 {
				return true
			}
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
