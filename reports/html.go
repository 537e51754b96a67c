package reports

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/results"
)

// The HTML report is one file that loads nothing: its CSS and JS are
// inlined, and a Content-Security-Policy meta tag allows only those inline
// blocks (by hash), so anything that tried to reach the network would fail
// in the browser and show in review. The summary chart is inline SVG drawn
// here; a load run's charts are drawn by uPlot (htmlload.go).

//go:embed templates/report.html.tmpl templates/report.css templates/report.js templates/load.js templates/diff.html.tmpl
var htmlAssets embed.FS

// section is one part of the HTML report: a nav entry and a template named
// "section-<ID>". A kind of run adds its section here (the diff table of a
// migration run, latency charts of a load run) with a Show that looks at
// its part of the model, and a template in templates/report.html.tmpl.
type section struct {
	ID    string
	Title string
	Show  func(*results.Run) bool
}

var htmlSections = []section{
	{ID: "summary", Title: "Summary", Show: func(*results.Run) bool { return true }},
	{ID: "load", Title: "Load", Show: func(r *results.Run) bool { return r.Load != nil }},
	{ID: "diff", Title: "Differences", Show: func(r *results.Run) bool { return r.Diff != nil }},
	// A load run's specs are its gates, shown with measured value and
	// margin in the load section.
	{ID: "specs", Title: "Specs", Show: func(r *results.Run) bool { return len(r.Specs) > 0 && r.Load == nil }},
	{ID: "tokens", Title: "Tokens and contracts", Show: func(r *results.Run) bool { return len(tokenViews(r)) > 0 }},
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	// A stub; WriteHTML binds it to the template it executes.
	"section": func(string, any) (template.HTML, error) { return "", nil },
	"json":    jsonValue,
	"rate":    rateText,
	"percent": percentText,
}).ParseFS(htmlAssets, "templates/report.html.tmpl", "templates/diff.html.tmpl"))

// htmlView is what the template renders: the run, and what is derived from
// it once, here, instead of in template logic.
type htmlView struct {
	Run       *results.Run
	Title     string
	Verdict   string
	Duration  string
	Started   string
	Sections  []section
	Scenarios []countRow
	Severity  []countRow
	Chart     chart
	Groups    []specGroup
	Tokens    []tokenView
	CSS       template.CSS
	JS        template.JS
	CSP       string
	// Load is set for a load run, with the blocks its charts need.
	Load     *loadView
	UPlotCSS template.CSS
	UPlotJS  template.JS
	LoadJS   template.JS
	LoadData template.JS
}

type countRow struct {
	Name string
	results.Counts
}

type specGroup struct {
	Scenario string
	Specs    []specView
}

type specView struct {
	results.Spec
	ID        string
	Open      bool
	Exchanges []exchangeView
	TokenRefs []string
	Duration  string
}

type exchangeView struct {
	Title    string
	Status   int
	Request  string
	Response string
	Error    string
}

type tokenView struct {
	Kind     string
	ID       string
	Spec     string
	SpecID   string
	SeenIn   int
	Header   []keyValue
	Rows     []claimRow
	Contract *results.Contract
	// Violations counts the findings that break the contract.
	Violations int
}

type keyValue struct{ Key, Value string }

type claimRow struct {
	Claim    string
	Value    string
	Present  bool
	Rule     string
	Presence string
	Finding  string
	Level    string // "violation", "info", or ""
}

// WriteHTML writes run as one self-contained HTML document.
func WriteHTML(w io.Writer, run *results.Run) error {
	css, err := htmlAssets.ReadFile("templates/report.css")
	if err != nil {
		return fmt.Errorf("html css: %w", err)
	}
	js, err := htmlAssets.ReadFile("templates/report.js")
	if err != nil {
		return fmt.Errorf("html js: %w", err)
	}
	v := newHTMLView(run)
	v.CSS = template.CSS(css)
	v.JS = template.JS(js)
	var la loadAssets
	if run.Load != nil {
		if la, err = readLoadAssets(); err != nil {
			return err
		}
		if v.Load, err = newLoadView(run.Load); err != nil {
			return err
		}
		v.UPlotCSS, v.UPlotJS, v.LoadJS = template.CSS(la.UPlotCSS), template.JS(la.UPlotJS), template.JS(la.LoadJS)
		// Marshalled JSON escapes <, > and &: it cannot close its block.
		v.LoadData = template.JS(v.Load.Data)
	}
	v.CSP = "default-src 'none'; style-src " + cspHashes(css, la.UPlotCSS) + "; script-src " + cspHashes(js, la.UPlotJS, la.LoadJS) +
		"; img-src data:; base-uri 'none'; form-action 'none'"

	t, err := htmlTemplate.Clone()
	if err != nil {
		return fmt.Errorf("html template: %w", err)
	}
	t.Funcs(template.FuncMap{"section": func(id string, data any) (template.HTML, error) {
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, "section-"+id, data); err != nil {
			return "", err
		}
		// The section template was escaped by html/template itself.
		return template.HTML(b.String()), nil
	}})
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "report", v); err != nil {
		return fmt.Errorf("html: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

// cspHash is the CSP source expression allowing one inline block.
func cspHash(content []byte) string {
	sum := sha256.Sum256(content)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func newHTMLView(run *results.Run) htmlView {
	v := htmlView{
		Run:      run,
		Verdict:  strings.ToUpper(run.Summary.Verdict),
		Duration: run.EndedAt.Sub(run.StartedAt).Round(time.Millisecond).String(),
		Started:  run.StartedAt.UTC().Format("2006-01-02 15:04:05 MST"),
	}
	v.Title = fmt.Sprintf("idpconform %s: %s (%s)", run.Kind, v.Verdict, run.Target.Name)
	for _, s := range htmlSections {
		if s.Show(run) {
			v.Sections = append(v.Sections, s)
		}
	}
	for _, l := range run.Summary.Labels() {
		v.Scenarios = append(v.Scenarios, countRow{Name: l, Counts: run.Summary.ByLabel[l]})
	}
	for _, s := range run.Summary.Severities() {
		v.Severity = append(v.Severity, countRow{Name: s, Counts: run.Summary.BySeverity[s]})
	}
	v.Chart = newChart(v.Scenarios)
	v.Tokens = tokenViews(run)

	index := map[string]int{}
	for i, sp := range run.Specs {
		sv := specView{Spec: sp, ID: "spec-" + strconv.Itoa(i+1), Open: sp.State == results.Failed, Duration: sp.Duration.Round(time.Microsecond).String()}
		for _, ex := range sp.Evidence {
			sv.Exchanges = append(sv.Exchanges, newExchangeView(ex))
		}
		for _, t := range sp.Tokens {
			sv.TokenRefs = append(sv.TokenRefs, t.Kind)
		}
		g, ok := index[sp.Scenario]
		if !ok {
			g = len(v.Groups)
			index[sp.Scenario] = g
			v.Groups = append(v.Groups, specGroup{Scenario: sp.Scenario})
		}
		v.Groups[g].Specs = append(v.Groups[g].Specs, sv)
	}
	return v
}

// maxBodyShown bounds a body shown in the HTML; results.json keeps it whole.
const maxBodyShown = 32 << 10

func newExchangeView(ex results.Exchange) exchangeView {
	ev := exchangeView{Status: ex.Status, Error: ex.Error}
	ev.Title = fmt.Sprintf("%s: %s %s", ex.Name, ex.Method, ex.URL)
	if ex.Status != 0 {
		ev.Title += fmt.Sprintf(" → %d (%s)", ex.Status, ex.Elapsed.Round(time.Microsecond))
	}
	var req strings.Builder
	target := ex.URL
	if u, err := url.Parse(ex.URL); err == nil && u.Path != "" {
		target = u.RequestURI()
	}
	fmt.Fprintf(&req, "%s %s\n", ex.Method, target)
	writeHeaders(&req, ex.RequestHeader)
	if ex.RequestBody != "" {
		req.WriteString("\n" + shown(ex.RequestBody) + "\n")
	}
	ev.Request = req.String()
	if ex.Status != 0 {
		var resp strings.Builder
		fmt.Fprintf(&resp, "HTTP %d %s\n", ex.Status, http.StatusText(ex.Status))
		writeHeaders(&resp, ex.ResponseHeader)
		if ex.ResponseBody != "" {
			resp.WriteString("\n" + shown(prettyJSON(ex.ResponseBody)) + "\n")
		}
		ev.Response = resp.String()
	}
	return ev
}

func writeHeaders(b *strings.Builder, h map[string][]string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
}

func shown(s string) string {
	if len(s) <= maxBodyShown {
		return s
	}
	return s[:maxBodyShown] + fmt.Sprintf("\n… %d more bytes in %s", len(s)-maxBodyShown, JSONFile)
}

func prettyJSON(s string) string {
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(strings.TrimSpace(s)), "", "  "); err != nil {
		return s
	}
	return out.String()
}

// tokenViews picks one decoded token per kind, the first a spec recorded,
// and lays its claims beside the contract of its kind.
func tokenViews(run *results.Run) []tokenView {
	var out []tokenView
	byKind := map[string]int{}
	for i, sp := range run.Specs {
		for _, t := range sp.Tokens {
			if k, ok := byKind[t.Kind]; ok {
				out[k].SeenIn++
				continue
			}
			byKind[t.Kind] = len(out)
			out = append(out, newTokenView(t, sp.Name, "spec-"+strconv.Itoa(i+1)))
		}
	}
	return out
}

// numericDateClaims are shown with their time beside the number.
var numericDateClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true, "rat": true}

func newTokenView(t results.Token, spec, specID string) tokenView {
	tv := tokenView{Kind: t.Kind, ID: "token-" + t.Kind, Spec: spec, SpecID: specID, SeenIn: 1, Contract: t.Contract}
	for _, k := range sortedAnyKeys(t.Header) {
		tv.Header = append(tv.Header, keyValue{Key: k, Value: jsonValue(t.Header[k])})
	}
	findings := map[string]results.Finding{}
	for _, f := range t.Findings {
		findings[f.Claim] = f
		if f.Level == "violation" {
			tv.Violations++
		}
	}
	names := map[string]bool{}
	for k := range t.Claims {
		names[k] = true
	}
	if t.Contract != nil {
		for k := range t.Contract.Claims {
			names[k] = true
		}
	}
	for _, name := range sortedBoolKeys(names) {
		row := claimRow{Claim: name}
		if v, ok := t.Claims[name]; ok {
			row.Present = true
			row.Value = jsonValue(v)
			if numericDateClaims[name] {
				row.Value += dateOf(v)
			}
		} else {
			row.Value = "(absent)"
		}
		if t.Contract != nil {
			if r, ok := t.Contract.Claims[name]; ok {
				row.Rule = ruleText(r)
				row.Presence = r.Presence
			} else {
				row.Rule = "not in contract"
			}
		}
		if f, ok := findings[name]; ok {
			row.Finding, row.Level = f.Message, f.Level
		}
		tv.Rows = append(tv.Rows, row)
	}
	// Mandatory claims first, then the rest, each alphabetically: the reader
	// checks what the contract requires before what it merely tolerates.
	sort.SliceStable(tv.Rows, func(i, j int) bool {
		return presenceRank(tv.Rows[i].Presence) < presenceRank(tv.Rows[j].Presence)
	})
	return tv
}

func presenceRank(p string) int {
	switch p {
	case "mandatory":
		return 0
	case "forbidden":
		return 1
	case "optional":
		return 2
	}
	return 3
}

func ruleText(r results.ClaimRule) string {
	t := r.Type
	if t == "" {
		t = "any"
	}
	var extra []string
	if r.Strict {
		extra = append(extra, "strict")
	}
	if r.MinLength > 0 {
		extra = append(extra, fmt.Sprintf("min length %d", r.MinLength))
	}
	if r.MinEntropy > 0 {
		extra = append(extra, fmt.Sprintf("min entropy ~%g bits", r.MinEntropy))
	}
	if len(extra) > 0 {
		t += " (" + strings.Join(extra, ", ") + ")"
	}
	return t
}

func jsonValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// dateOf renders a NumericDate claim as a UTC time, or nothing when it is
// not a number.
func dateOf(v any) string {
	var secs float64
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return ""
		}
		secs = f
	case float64:
		secs = x
	default:
		return ""
	}
	return " (" + time.Unix(int64(secs), 0).UTC().Format("2006-01-02 15:04:05 UTC") + ")"
}

func sortedAnyKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedBoolKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// chart is a stacked horizontal bar per scenario (passed, failed, skipped),
// drawn as inline SVG so it needs no script and no library.
type chart struct {
	Width, Height int
	Rows          []chartRow
}

type chartRow struct {
	Label                  string
	Y, TextY, BarH         int
	TrackX, TrackW, ValueX int
	Bars                   []chartBar
	Text                   string
}

type chartBar struct {
	Class string
	X, W  float64
	Title string
}

const (
	chartLabelW = 170
	chartBarW   = 380
	chartRowH   = 26
)

func newChart(rows []countRow) chart {
	c := chart{Width: chartLabelW + chartBarW + 150, Height: chartRowH*len(rows) + 8}
	for i, r := range rows {
		y := 4 + i*chartRowH
		cr := chartRow{Label: r.Name, Y: y, TextY: y + 15, BarH: chartRowH - 8, TrackX: chartLabelW, TrackW: chartBarW, ValueX: chartLabelW + chartBarW + 8}
		x := float64(chartLabelW)
		for _, part := range []struct {
			class string
			n     int
		}{{"passed", r.Passed}, {"failed", r.Failed}, {"skipped", r.Skipped}} {
			if part.n == 0 || r.Total == 0 {
				continue
			}
			w := float64(chartBarW) * float64(part.n) / float64(r.Total)
			cr.Bars = append(cr.Bars, chartBar{Class: part.class, X: x, W: w, Title: fmt.Sprintf("%s: %d %s", r.Name, part.n, part.class)})
			x += w
		}
		cr.Text = fmt.Sprintf("%d/%d passed", r.Passed, r.Total)
		if r.Warnings > 0 {
			cr.Text += fmt.Sprintf(", %d warn", r.Warnings)
		}
		c.Rows = append(c.Rows, cr)
	}
	return c
}

// percentText prints a share as a percentage with at most three decimals:
// 0.98 is "98%", 0.99871 is "99.871%".
func percentText(f float64) string {
	return strconv.FormatFloat(math.Round(f*1e5)/1e3, 'f', -1, 64) + "%"
}
