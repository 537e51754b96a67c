package reports_test

import (
	"context"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/results/resultstest"
	"github.com/idpconform/idpconform/internal/slo"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/loadtest"
	"github.com/idpconform/idpconform/mockidp"
	"github.com/idpconform/idpconform/reports"
	"github.com/idpconform/idpconform/reports/schema"
)

// realLoadRun runs a real load run, as `idpconform load --steps 20/s,40/s`
// does, against the real mock on loopback: two one-second steps of
// client-credentials grants, gated on a p99 the mock meets and a
// throughput no step reaches (so the report has a failed gate). Rates are
// low so the generator never falls behind, whatever else the machine runs.
func realLoadRun(t *testing.T, reg *redact.Registry) *results.Run {
	t.Helper()
	ms, err := mockidp.NewServer("", mockidp.Options{SigningAlg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ms.Close() })
	tg := &target.Target{Name: "mock", SigningAlgs: target.DefaultSigningAlgs,
		Clients: []target.Client{{Name: "cc", ID: mockidp.ClientCC, Secret: target.Secret{Secret: redact.NewSecret(mockidp.ClientCCSecret)},
			AuthMethod: target.ClientSecretBasic, Grants: []target.Grant{target.GrantClientCredentials}, Scopes: []string{"api:read"}}}}
	reg.Add(tg.Secrets()...)
	info, err := loadtest.LookupScenario("client-credentials")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := info.New(loadtest.Env{Target: tg, Client: tg.Clients[0], Secrets: reg,
		Endpoints: target.Endpoints{Token: ms.URL + mockidp.PathToken, JWKS: ms.URL + mockidp.PathJWKS},
		OAuth:     oauth.New(oauth.Options{Secrets: reg})})
	if err != nil {
		t.Fatal(err)
	}
	slos, err := slo.ParseAll([]string{"p99<=2s", "success>=99%", "throughput>=1000/s"})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	rep, err := loadtest.Run(context.Background(), loadtest.Config{Scenario: sc, Client: "cc", SLOs: slos, Secrets: reg,
		Plan: loadtest.Plan{Model: loadtest.Steps, Rates: []float64{20, 40}, Duration: time.Second}, MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	rep.Load.SigningAlg = "ES256"
	return loadtest.ToRun(rep.Load.Redacted(reg), results.Tool{Name: "idpconform", Version: "test"},
		results.Target{Name: "mock", Issuer: ms.URL, MockProfile: "generic"}, started, time.Now())
}

// chartData reads the load charts' data block of a report.
func chartData(t *testing.T, doc string) []map[string]any {
	t.Helper()
	const open = `<script type="application/json" id="load-data">`
	i := strings.Index(doc, open)
	if i < 0 {
		t.Fatal("no load-data block")
	}
	j := strings.Index(doc[i:], "</script>")
	var d struct {
		Steps []map[string]any `json:"steps"`
	}
	if err := json.Unmarshal([]byte(doc[i+len(open):i+j]), &d); err != nil {
		t.Fatalf("load-data: %v", err)
	}
	return d.Steps
}

// TestHTMLShowsALoadRun: the load section holds the run's facts, every gate
// with measured value and margin (failures first), each step's requested
// against attempted rate with the invalid step marked and explained, the
// chart data of every step, errors, uniqueness, verification and CPU, and
// uPlot with its MIT notice. A conformance report carries none of it.
func TestHTMLShowsALoadRun(t *testing.T) {
	run := resultstest.LoadSample()
	raw := string(htmlOf(t, run))
	doc := html.UnescapeString(raw)
	for _, want := range []string{
		`<section id="summary"`, `<section id="load"`, `id="load-tiles"`, `id="load-headline"`, "worst valid p99",
		`id="gate-table"`, "30ms under the limit", `id="step-table"`, `<tr class="invalid" id="step-2-row">`,
		"the generator, not the target, was the bottleneck", `id="step-1-timeline"`, `id="step-2-histogram"`,
		`id="error-table"`, "503 Service Unavailable: error=temporarily_unavailable", "temporarily_unavailable",
		`id="uniqueness-table"`, "access_token jti", `id="verification-table"`, "1 × access_token: exp: expected a numeric date",
		`id="cpu-table"`, "the load generator and the embedded mock", "400µs",
		"Copyright (c) 2022 Leon Sorokin", "var uPlot=function", ".uplot",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("load report lacks %q", want)
		}
	}
	if strings.Contains(doc, `<section id="specs"`) {
		t.Error("a load run's gates are listed again as specs")
	}
	if n := strings.Count(doc, `<span class="badge failed">failed</span>`); n != 2 {
		t.Errorf("%d failed gates shown, want 2", n)
	}
	// Failures first.
	if strings.Index(doc, "FAIL valid rate") > strings.Index(doc, "pass valid rate") && strings.Contains(doc, "pass valid rate") {
		t.Error("a passed gate is listed before a failed one")
	}
	steps := chartData(t, raw)
	if len(steps) != 2 {
		t.Fatalf("chart data for %d steps", len(steps))
	}
	for i, s := range steps {
		if n := len(s["t"].([]any)); n != 10 || len(s["p99"].([]any)) != n || len(s["attempted"].([]any)) != n || len(s["requested"].([]any)) != n {
			t.Errorf("step %d time line: %v", i, s)
		}
		if len(s["hist_label"].([]any)) == 0 || len(s["hist_label"].([]any)) != len(s["hist_count"].([]any)) {
			t.Errorf("step %d histogram: %v %v", i, s["hist_label"], s["hist_count"])
		}
	}
	if steps[1]["valid"] != false || steps[0]["valid"] != true {
		t.Errorf("validity in chart data: %v, %v", steps[0]["valid"], steps[1]["valid"])
	}
	// p99 of step 1's first bucket, in ms: 5 × 4ms.
	if p := steps[0]["p99"].([]any)[0]; p != 20.0 {
		t.Errorf("first p99 %v ms, want 20", p)
	}

	// The twin: a conformance report loads no chart library and no load data.
	conf := string(htmlOf(t, resultstest.Sample()))
	for _, absent := range []string{"uPlot", `id="load-data"`, `<section id="load"`} {
		if strings.Contains(conf, absent) {
			t.Errorf("a conformance report holds %s", absent)
		}
	}
}

// A capacity search shows its outcome; a merged run names its files.
func TestHTMLShowsACapacitySearch(t *testing.T) {
	doc := html.UnescapeString(string(htmlOf(t, resultstest.CapacitySample())))
	for _, want := range []string{`id="load-capacity"`, "200/s (throughput 199.6/s) after 6 probes, bound by slo",
		"run/shard-0-of-2.bin", "probe 5 400/s (retry)", "HTTP/2"} {
		if !strings.Contains(doc, want) {
			t.Errorf("capacity report lacks %q", want)
		}
	}
	if strings.Contains(doc, `id="error-table"`) {
		t.Error("an error table for a run without errors")
	}
}

// TestLoadMarkdownStaysShort: a capacity search of 100 failed probes still
// gives a short summary that says what it left out; the sample's summary
// names its gates and figures.
func TestLoadMarkdownStaysShort(t *testing.T) {
	run := resultstest.CapacitySample()
	base := run.Load.Steps[0]
	run.Load.Steps = nil
	run.Load.Gates = nil
	for i := range 100 {
		st := base
		st.Name = "probe " + strings.Repeat("x", i%7) + string(rune('a'+i%26))
		run.Load.Steps = append(run.Load.Steps, st)
		run.Load.Gates = append(run.Load.Gates, results.LoadGate{Name: "p99<=1ms", Scope: st.Name, Message: "FAIL p99<=1ms: measured 15ms, " + strings.Repeat("very ", 60) + "long"})
	}
	big := markdownOf(t, run)
	if len(big) > 8<<10 || strings.Count(big, "\n") > 60 {
		t.Errorf("summary of 100 probes: %d bytes, %d lines", len(big), strings.Count(big, "\n"))
	}
	for _, want := range []string{"… and 90 more steps in report.html", "… and 90 more in report.html", "**Failed gates: 100**"} {
		if !strings.Contains(big, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	small := markdownOf(t, resultstest.LoadSample())
	for _, want := range []string{"idpconform load: FAIL", "| step 2 400/s | 400/s | 352/s (88.0%) | **no** |", "**valid rate** \\[step 2 400/s\\]",
		"access\\_token 4489 seen, 0 duplicates", "sample verified: 43, failed: 1"} {
		if !strings.Contains(small, want) {
			t.Errorf("sample summary lacks %q:\n%s", want, small)
		}
	}
	if len(small) >= len(big) {
		t.Errorf("the sample's summary (%d bytes) is not shorter than the huge one's (%d)", len(small), len(big))
	}
}

// TestRealLoadRunReports writes every report of a real load run through
// reports.Write: results.json matches the schema and reads back, the HTML
// is self-contained, the summaries carry the gates, and no secret or
// token is in any file.
func TestRealLoadRunReports(t *testing.T) {
	reg := redact.New()
	run := realLoadRun(t, reg)
	if len(run.Load.Steps) != 2 || run.Passed() {
		t.Fatalf("the real run should have 2 steps and fail its throughput gate: %+v", run.Summary.Counts)
	}
	dir := t.TempDir()
	if _, err := reports.Write(dir, run, reg); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.ValidateResults(doc); err != nil {
		t.Fatal(err)
	}
	back, err := results.Decode(strings.NewReader(string(doc)))
	if err != nil || back.Load == nil || len(back.Load.Steps) != 2 {
		t.Fatalf("read back: %v", err)
	}
	page, err := os.ReadFile(filepath.Join(dir, reports.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkSelfContained(page) {
		t.Error(p)
	}
	md, err := os.ReadFile(filepath.Join(dir, reports.MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**throughput&gt;=1000/s**") || !strings.Contains(string(md), "| step 2 40/s | 40/s |") {
		t.Errorf("summary.md:\n%s", md)
	}
	var term strings.Builder
	if err := reports.WriteSummary(&term, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(term.String(), "idpconform load: FAIL") || !strings.Contains(term.String(), "FAIL throughput>=1000/s") {
		t.Errorf("terminal summary:\n%s", term.String())
	}
	for _, l := range scanDir(t, dir, []string{mockidp.ClientCCSecret}) {
		t.Errorf("%s holds %s", l.where, l.what)
	}
}
