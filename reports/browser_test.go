package reports_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results/resultstest"
	"github.com/idpconform/idpconform/reports"
)

// The browser test renders the HTML report of a real run in headless
// Chromium (Debian's chromium package). Without a browser it skips, unless
// CI or IDPCONFORM_REQUIRE_BROWSER is set: then a missing browser fails.
// The screenshot is kept in $IDPCONFORM_ARTIFACT_DIR (default
// test-artifacts/ at the repository root, ignored by git).

// findChromium returns the browser binary, or "" when there is none:
// $IDPCONFORM_CHROMIUM, else chromium or chromium-browser on PATH.
func findChromium() string {
	names := []string{"chromium", "chromium-browser"}
	if p := os.Getenv("IDPCONFORM_CHROMIUM"); p != "" {
		names = []string{p}
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserVerdict decides what a test does without a browser: skip with a
// reason, or fail when CI or IDPCONFORM_REQUIRE_BROWSER asks for one.
func browserVerdict(path string, getenv func(string) string) (fail bool, why string) {
	if path != "" {
		return false, ""
	}
	why = "no chromium found (install it with: apt-get install -y chromium; or set IDPCONFORM_CHROMIUM to its path)"
	if getenv("CI") != "" || getenv("IDPCONFORM_REQUIRE_BROWSER") != "" {
		return true, why + "; a browser is required because CI or IDPCONFORM_REQUIRE_BROWSER is set"
	}
	return false, why + "; the browser test is skipped (set IDPCONFORM_REQUIRE_BROWSER=1 to make this a failure)"
}

func requireChromium(t *testing.T) string {
	t.Helper()
	p := findChromium()
	fail, why := browserVerdict(p, os.Getenv)
	switch {
	case fail:
		t.Fatal(why)
	case why != "":
		t.Skip(why)
	}
	return p
}

// TestBrowserVerdict: without a browser the test skips on a developer's
// machine and fails in CI or when a browser is required.
func TestBrowserVerdict(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	cases := []struct {
		name     string
		path     string
		getenv   func(string) string
		fail     bool
		skipping bool
	}{
		{"found", "/usr/bin/chromium", env("CI", "true"), false, false},
		{"absent on a laptop", "", env(), false, true},
		{"absent in CI", "", env("CI", "true"), true, false},
		{"absent but required", "", env("IDPCONFORM_REQUIRE_BROWSER", "1"), true, false},
	}
	for _, c := range cases {
		fail, why := browserVerdict(c.path, c.getenv)
		if fail != c.fail || (why != "" && !fail) != c.skipping {
			t.Errorf("%s: fail=%v why=%q", c.name, fail, why)
		}
		if why != "" && !strings.Contains(why, "apt-get install -y chromium") {
			t.Errorf("%s: the message does not say how to install a browser: %q", c.name, why)
		}
	}
}

// artifactDir is where the screenshot and the rendered report are kept.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IDPCONFORM_ARTIFACT_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(filepath.Dir(wd), "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pageLog collects what a page reported while loading: console messages,
// uncaught exceptions, browser log entries (CSP refusals land there) and
// every request it made.
type pageLog struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (p *pageLog) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			p.problems = append(p.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		p.problems = append(p.problems, "exception: "+msg)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			p.problems = append(p.problems, fmt.Sprintf("%s %s: %s", e.Entry.Source, e.Entry.Level, e.Entry.Text))
		}
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, e.Request.URL)
	}
}

func (p *pageLog) snapshot() (problems, requests []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...), append([]string(nil), p.requests...)
}

// browser is one headless Chromium shared by the tests of this package;
// each test opens its own tabs.
type browser struct {
	ctx context.Context
}

var shared struct {
	once   sync.Once
	b      *browser
	err    error
	cancel func()
}

// TestMain stops the shared browser after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := requireChromium(t)
	shared.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("no-first-run", true),
			chromedp.UserDataDir(filepath.Join(os.TempDir(), fmt.Sprintf("idpconform-chromium-%d", os.Getpid()))),
			chromedp.WindowSize(1280, 900),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		shared.cancel = func() {
			cancelBrowser()
			cancelAlloc()
			_ = os.RemoveAll(filepath.Join(os.TempDir(), fmt.Sprintf("idpconform-chromium-%d", os.Getpid())))
		}
		// Start the browser with a blank tab; its context carries no timeout.
		if err := chromedp.Do(bctx); err != nil {
			shared.err = fmt.Errorf("start chromium %s: %w", path, err)
			return
		}
		shared.b = &browser{ctx: bctx}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.b
}

// open loads file in a new tab, waits until the report's script has run
// (or the timeout), and returns the tab's context and what it logged.
func (b *browser) open(t *testing.T, file string) (context.Context, *pageLog) {
	t.Helper()
	pl := &pageLog{}
	tab, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(pl.listen))
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(tab, 30*time.Second)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return ctx, pl
}

// TestHTMLReportInBrowser renders the report of a real failing run (wrong
// client secret: failures, warnings, evidence, decoded tokens) in headless
// Chromium and checks it loads with no console error and no request, its
// script runs, its sections and chart are there, and its filter works.
func TestHTMLReportInBrowser(t *testing.T) {
	started := time.Now()
	br := startBrowser(t)
	run := realRun(t, redact.New(), map[string]string{"IDPCONFORM_CC_SECRET": wrongSecret(t)}, nil)
	if run.Summary.Failed == 0 || run.Summary.Warnings == 0 || countTokens(run) == 0 {
		t.Fatalf("the run should fail, warn and decode tokens: %+v", run.Summary.Counts)
	}
	dir := t.TempDir()
	if _, err := reports.Write(dir, run, redact.New(), reports.FormatHTML); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, reports.HTMLFile)
	ctx, pl := br.open(t, file)
	if err := chromedp.Do(ctx, chromedp.WaitReady(`html[data-ready="true"]`)); err != nil {
		problems, _ := pl.snapshot()
		t.Fatalf("the report's script did not finish: %v; page problems: %v", err, problems)
	}

	type facts struct {
		Sections    []string `json:"sections"`
		Nav         []string `json:"nav"`
		Bars        int      `json:"bars"`
		ChartRows   int      `json:"chartRows"`
		Specs       int      `json:"specs"`
		OpenSpecs   int      `json:"openSpecs"`
		Exchanges   int      `json:"exchanges"`
		TokenTables int      `json:"tokenTables"`
		ClaimRows   int      `json:"claimRows"`
		FiltersShow bool     `json:"filtersShown"`
		Title       string   `json:"title"`
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[facts](`({
		sections: [...document.querySelectorAll("main > section")].map(s => s.id),
		nav: [...document.querySelectorAll("nav a")].map(a => a.getAttribute("href")),
		bars: document.querySelectorAll("#chart-scenarios svg rect.bar").length,
		chartRows: document.querySelectorAll("#chart-scenarios svg g.row").length,
		specs: document.querySelectorAll("details.spec").length,
		openSpecs: document.querySelectorAll("details.spec[open]").length,
		exchanges: document.querySelectorAll(".exchange pre.ex-req").length,
		tokenTables: document.querySelectorAll("article.token table.claims").length,
		claimRows: document.querySelectorAll("article.token table.claims tbody tr").length,
		filtersShown: !document.getElementById("filters").hidden,
		title: document.title,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Sections, ","); got != "summary,specs,tokens" {
		t.Errorf("sections %s, want summary,specs,tokens", got)
	}
	if len(f.Nav) != len(f.Sections) {
		t.Errorf("nav links %v for sections %v", f.Nav, f.Sections)
	}
	if f.ChartRows != len(run.Summary.ByLabel) || f.Bars < f.ChartRows {
		t.Errorf("chart has %d rows and %d bars for %d scenarios", f.ChartRows, f.Bars, len(run.Summary.ByLabel))
	}
	if f.Specs != len(run.Specs) || f.OpenSpecs != run.Summary.Failed {
		t.Errorf("%d specs (%d open), want %d (%d failed, open)", f.Specs, f.OpenSpecs, len(run.Specs), run.Summary.Failed)
	}
	if f.Exchanges == 0 || f.TokenTables == 0 || f.ClaimRows < 5 {
		t.Errorf("evidence %d, token tables %d, claim rows %d", f.Exchanges, f.TokenTables, f.ClaimRows)
	}
	if !f.FiltersShow || !strings.Contains(f.Title, "FAIL") {
		t.Errorf("filters shown %v, title %q", f.FiltersShow, f.Title)
	}

	// The filter: "failed" leaves exactly the failed specs visible.
	visible, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => {
		document.querySelector('#filters button[data-filter="failed"]').click();
		return document.querySelectorAll("details.spec:not([hidden])").length;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if visible != run.Summary.Failed {
		t.Errorf("filter failed shows %d specs, want %d", visible, run.Summary.Failed)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#filters button[data-filter="all"]').click()`)); err != nil {
		t.Fatal(err)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
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

	art := artifactDir(t)
	shot := filepath.Join(art, "report-browser.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if html, err := os.ReadFile(file); err == nil {
		_ = os.WriteFile(filepath.Join(art, "report-browser.html"), html, 0o644)
	}
	t.Logf("screenshot %s (%d bytes); report %d specs; browser test took %s", shot, len(png), len(run.Specs), time.Since(started).Round(time.Millisecond))
}

// TestBrowserCheckCatchesBrokenPages is the failing twin: a report with an
// external image, an edited script (refused by the policy) and a script
// error must each be caught by the same page log.
func TestBrowserCheckCatchesBrokenPages(t *testing.T) {
	br := startBrowser(t)
	var b strings.Builder
	if err := reports.WriteHTML(&b, resultstest.Sample()); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	broken := map[string]string{
		"external image": strings.Replace(doc, "</body>", `<img src="http://127.0.0.1:9/pixel.png" alt=""></body>`, 1),
		"edited script":  strings.Replace(doc, `"use strict";`, `"use strict"; var edited = 1;`, 1),
		"foreign script": strings.Replace(doc, "</body>", `<script>var foreign = 1;</script></body>`, 1),
		// Allowed by the policy (its hash swapped in), failing when run.
		"uncaught exception": withScript(t, doc, `throw new Error("boom");`),
		"console error":      withScript(t, doc, `console.error("bad data");`),
	}
	dir := t.TempDir()
	for name, page := range broken {
		if page == doc {
			t.Fatalf("%s: the change did not apply", name)
		}
		file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".html")
		if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		_, pl := br.open(t, file)
		// The page has loaded; its reports arrive as events, soon after.
		deadline := time.Now().Add(5 * time.Second)
		for {
			problems, _ := pl.snapshot()
			if len(problems) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: the page log caught nothing", name)
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
}

// withScript replaces the report's inline script with js and its hash in
// the policy with js's, so the browser runs js.
func withScript(t *testing.T, doc, js string) string {
	t.Helper()
	start := strings.Index(doc, "<script>")
	end := strings.Index(doc, "</script>")
	if start < 0 || end < start {
		t.Fatal("no inline script in the report")
	}
	old := doc[start+len("<script>") : end]
	out := doc[:start+len("<script>")] + js + doc[end:]
	oldHash, newHash := htmlHash(old), htmlHash(js)
	if !strings.Contains(out, oldHash) {
		t.Fatal("the policy does not name the script's hash")
	}
	return strings.Replace(out, oldHash, newHash, 1)
}

// htmlHash is a CSP hash source as html/template writes it in an attribute.
func htmlHash(content string) string {
	sum := sha256.Sum256([]byte(content))
	// html/template writes + as &#43; in attributes.
	return strings.ReplaceAll(template.HTMLEscapeString("'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'"), "+", "&#43;")
}

// loadPageFacts is what the browser shows of a load report.
type loadPageFacts struct {
	Sections  []string `json:"sections"`
	Boxes     int      `json:"boxes"`
	Plots     int      `json:"plots"`
	Canvases  int      `json:"canvases"`
	Drawn     string   `json:"drawn"`
	Legends   []string `json:"legends"`
	NoteShown bool     `json:"noteShown"`
	Invalid   int      `json:"invalid"`
	GateRows  int      `json:"gateRows"`
}

// checkLoadPage waits for the report's scripts, then lists what is wrong
// with a load report as the browser shows it: a console message or
// exception, a request, a section missing, or a chart not drawn (every
// step has a time line and a histogram, each a uPlot with a painted
// canvas and a legend naming its series).
func checkLoadPage(t *testing.T, ctx context.Context, pl *pageLog, steps, gates int) (loadPageFacts, []string) {
	t.Helper()
	var problems []string
	if err := chromedp.Do(ctx, chromedp.WaitReady(`html[data-ready="true"]`)); err != nil {
		problems = append(problems, "the report's script did not finish: "+err.Error())
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[loadPageFacts](`({
		sections: [...document.querySelectorAll("main > section")].map(s => s.id),
		boxes: document.querySelectorAll("#load .uplot-box").length,
		plots: document.querySelectorAll("#load .uplot-box > .uplot").length,
		canvases: [...document.querySelectorAll("#load .uplot-box canvas")].filter(c => c.width > 100 && c.height > 100).length,
		drawn: document.documentElement.getAttribute("data-charts") || "",
		legends: [...document.querySelectorAll("#load .uplot-box .u-legend .u-label")].map(l => l.textContent),
		noteShown: !document.getElementById("charts-need-js").hidden,
		invalid: document.querySelectorAll("#step-table tr.invalid").length,
		gateRows: document.querySelectorAll("#gate-table tbody tr").length,
	})`))
	if err != nil {
		return f, append(problems, "read the page: "+err.Error())
	}
	if got := strings.Join(f.Sections, ","); got != "summary,load" {
		problems = append(problems, "sections "+got+", want summary,load")
	}
	if f.Boxes != 2*steps || f.Plots != 2*steps || f.Canvases != 2*steps || f.Drawn != fmt.Sprint(2*steps) {
		problems = append(problems, fmt.Sprintf("charts: %d boxes, %d uPlots, %d painted canvases, data-charts %q; want %d each", f.Boxes, f.Plots, f.Canvases, f.Drawn, 2*steps))
	}
	legend := strings.Join(f.Legends, ",")
	for _, series := range []string{"p50", "p90", "p99", "max", "requested", "attempted", "responses"} {
		if !strings.Contains(legend, series) {
			problems = append(problems, "no chart legend names "+series)
		}
	}
	if f.NoteShown {
		problems = append(problems, "the charts-need-js note is still shown")
	}
	if f.GateRows != gates {
		problems = append(problems, fmt.Sprintf("%d gate rows, want %d", f.GateRows, gates))
	}
	// Page reports arrive as events; give a refused script a moment.
	time.Sleep(200 * time.Millisecond)
	logged, requests := pl.snapshot()
	for _, p := range logged {
		problems = append(problems, "page logged: "+p)
	}
	for _, r := range requests {
		if !strings.HasPrefix(r, "file://") && !strings.HasPrefix(r, "data:") {
			problems = append(problems, "page requested "+r)
		}
	}
	return f, problems
}

// TestLoadReportInBrowser renders the HTML report of a real load run in
// headless Chromium: it loads with no console message and no request, and
// every step's latency time line and histogram is drawn by uPlot.
func TestLoadReportInBrowser(t *testing.T) {
	br := startBrowser(t)
	reg := redact.New()
	run := realLoadRun(t, reg)
	dir := t.TempDir()
	if _, err := reports.Write(dir, run, reg, reports.FormatHTML); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, reports.HTMLFile)
	ctx, pl := br.open(t, file)
	f, problems := checkLoadPage(t, ctx, pl, len(run.Load.Steps), len(run.Load.Gates))
	for _, p := range problems {
		t.Error(p)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	art := artifactDir(t)
	shot := filepath.Join(art, "report-load-browser.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if page, err := os.ReadFile(file); err == nil {
		_ = os.WriteFile(filepath.Join(art, "report-load-browser.html"), page, 0o644)
	}
	t.Logf("screenshot %s (%d bytes); %d charts drawn", shot, len(png), f.Plots)
}

// TestLoadCheckCatchesBrokenCharts is the failing twin: a load report
// without uPlot, with an edited uPlot (refused by the policy), or with
// chart data its script cannot read is caught by the same check.
func TestLoadCheckCatchesBrokenCharts(t *testing.T) {
	br := startBrowser(t)
	var b strings.Builder
	run := resultstest.LoadSample()
	if err := reports.WriteHTML(&b, run); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	start := strings.Index(doc, "<script>/*! uPlot")
	end := start + strings.Index(doc[start:], "</script>") + len("</script>")
	if start < 0 || end < start {
		t.Fatal("no inline uPlot in the report")
	}
	const dataOpen = `<script type="application/json" id="load-data">`
	ds := strings.Index(doc, dataOpen) + len(dataOpen)
	de := ds + strings.Index(doc[ds:], "</script>")
	broken := map[string]string{
		"uPlot missing": doc[:start] + doc[end:],
		"uPlot edited":  strings.Replace(doc, "var uPlot=function", "var uPlot =function", 1),
		"data unusable": doc[:ds] + `{"steps": 5}` + doc[de:],
	}
	dir := t.TempDir()
	for name, page := range broken {
		if page == doc {
			t.Fatalf("%s: the change did not apply", name)
		}
		file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".html")
		if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, pl := br.open(t, file)
		_, problems := checkLoadPage(t, ctx, pl, len(run.Load.Steps), len(run.Load.Gates))
		if len(problems) == 0 {
			t.Errorf("%s: the check found nothing wrong", name)
			continue
		}
		t.Logf("%s: caught %s", name, strings.Join(problems, "; "))
	}
	// And the untouched sample passes the same check.
	file := filepath.Join(dir, "sample.html")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, pl := br.open(t, file)
	if _, problems := checkLoadPage(t, ctx, pl, len(run.Load.Steps), len(run.Load.Gates)); len(problems) > 0 {
		t.Errorf("the sample load report: %v", problems)
	}
}
