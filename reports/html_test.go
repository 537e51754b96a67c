package reports_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/results/resultstest"
	"github.com/idpconform/idpconform/reports"
)

func htmlOf(t *testing.T, run *results.Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := reports.WriteHTML(&b, run); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// urlAttrs are the attributes through which a page can load something.
var urlAttrs = map[string]bool{"src": true, "href": true, "action": true, "formaction": true, "srcset": true,
	"poster": true, "data": true, "xlink:href": true, "background": true, "manifest": true, "ping": true}

var cssURL = regexp.MustCompile(`(?i)url\(\s*['"]?([^'")\s]*)|@import`)

// checkSelfContained lists every way doc could reach the network or have
// its own inline code refused by its Content-Security-Policy.
func checkSelfContained(doc []byte) []string {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		return []string{"parse: " + err.Error()}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	csp := map[string][]string{}
	var scripts, styles []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				key := a.Key
				if a.Namespace != "" {
					key = a.Namespace + ":" + a.Key
				}
				attrs[key] = a.Val
				if urlAttrs[key] && a.Val != "" && !strings.HasPrefix(a.Val, "#") && !strings.HasPrefix(a.Val, "data:") {
					bad("<%s %s=%q> points outside the file", n.Data, key, a.Val)
				}
				if key == "style" {
					bad("<%s style=...>: inline style attributes are refused by the policy", n.Data)
				}
				if strings.HasPrefix(key, "on") {
					bad("<%s %s=...>: inline event handlers are refused by the policy", n.Data, key)
				}
			}
			switch n.Data {
			case "meta":
				if strings.EqualFold(attrs["http-equiv"], "Content-Security-Policy") {
					for _, d := range strings.Split(attrs["content"], ";") {
						f := strings.Fields(d)
						if len(f) > 0 {
							csp[f[0]] = f[1:]
						}
					}
				}
			case "script":
				if t := attrs["type"]; t == "" || strings.Contains(t, "javascript") || t == "module" {
					scripts = append(scripts, text(n))
				}
			case "style":
				styles = append(styles, text(n))
				for _, m := range cssURL.FindAllStringSubmatch(text(n), -1) {
					if !strings.HasPrefix(m[1], "data:") {
						bad("CSS loads %q", m[0])
					}
				}
			case "iframe", "object", "embed", "base", "frame", "applet", "portal":
				bad("<%s> element", n.Data)
			case "link":
				if rel := attrs["rel"]; rel != "icon" {
					bad("<link rel=%q>", rel)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)

	if len(csp) == 0 {
		return append(problems, "no Content-Security-Policy meta tag")
	}
	if got := strings.Join(csp["default-src"], " "); got != "'none'" {
		bad("default-src is %q, want 'none'", got)
	}
	for dir, srcs := range csp {
		for _, s := range srcs {
			if s == "'unsafe-inline'" || s == "'unsafe-eval'" || s == "*" || strings.Contains(s, ":") && s != "data:" {
				bad("%s allows %s", dir, s)
			}
		}
	}
	for _, s := range scripts {
		if !hasHash(csp["script-src"], s) {
			bad("an inline script is not allowed by script-src (its hash is missing)")
		}
	}
	for _, s := range styles {
		if !hasHash(csp["style-src"], s) {
			bad("an inline style is not allowed by style-src (its hash is missing)")
		}
	}
	return problems
}

func hasHash(srcs []string, content string) bool {
	sum := sha256.Sum256([]byte(content))
	want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	for _, s := range srcs {
		if s == want {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

func TestHTMLIsSelfContained(t *testing.T) {
	for name, run := range map[string]*results.Run{"sample": resultstest.Sample(), "suite failure": resultstest.SuiteFailure(),
		"load": resultstest.LoadSample(), "capacity": resultstest.CapacitySample()} {
		for _, p := range checkSelfContained(htmlOf(t, run)) {
			t.Errorf("%s: %s", name, p)
		}
	}
}

// TestSelfContainedCheckCatches is the failing twin: each way of reaching
// the network, or of breaking the policy, is found.
func TestSelfContainedCheckCatches(t *testing.T) {
	doc := string(htmlOf(t, resultstest.Sample()))
	tampers := map[string]string{
		"external script":     strings.Replace(doc, "</body>", `<script src="https://cdn.invalid/x.js"></script></body>`, 1),
		"external image":      strings.Replace(doc, "</body>", `<img src="http://127.0.0.1:9/x.png"></body>`, 1),
		"protocol-relative":   strings.Replace(doc, "</body>", `<a href="//cdn.invalid/">x</a></body>`, 1),
		"stylesheet link":     strings.Replace(doc, "</head>", `<link rel="stylesheet" href="x.css"></head>`, 1),
		"iframe":              strings.Replace(doc, "</body>", `<iframe></iframe></body>`, 1),
		"inline handler":      strings.Replace(doc, "<body ", `<body onload="x()" `, 1),
		"style attribute":     strings.Replace(doc, "<main>", `<main style="color:red">`, 1),
		"css url":             strings.Replace(doc, "</style>", `body{background:url(https://x.invalid/a.png)}</style>`, 1),
		"script edited":       strings.Replace(doc, `"use strict";`, `"use strict"; console.log(1);`, 1),
		"unsafe-inline":       strings.Replace(doc, "script-src ", "script-src &#39;unsafe-inline&#39; ", 1),
		"policy removed":      strings.Replace(doc, `http-equiv="Content-Security-Policy"`, `http-equiv="x-nothing"`, 1),
		"default-src relaxed": strings.Replace(doc, "default-src &#39;none&#39;", "default-src *", 1),
	}
	for name, d := range tampers {
		if d == doc {
			t.Fatalf("%s: the tamper did not apply", name)
		}
		if len(checkSelfContained([]byte(d))) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

// TestHTMLShowsTheRun: the sections, the chart, every spec with its
// requirement and evidence, and the token beside its contract.
func TestHTMLShowsTheRun(t *testing.T) {
	run := resultstest.Sample()
	doc := html.UnescapeString(string(htmlOf(t, run)))
	for _, want := range []string{
		`<section id="summary"`, `<section id="specs"`, `<section id="tokens"`,
		`id="chart-scenarios"`, `class="bar passed"`, `class="bar failed"`, `class="bar skipped"`,
		`id="by-scenario"`, `id="by-severity"`,
		// evidence of the failed spec: request and response
		"POST /token", "HTTP 401 Unauthorized", "invalid_client",
		// the token beside its contract: a violation, a tolerated claim, an absent optional one
		"contract rfc9068-access-token", "expected at least 8 characters, got 5",
		"not in contract", "(absent)", "2026-11-23 ", "numeric_date",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, sp := range run.Specs {
		if !strings.Contains(doc, sp.Name) || !strings.Contains(doc, sp.Requirement) {
			t.Errorf("spec %q or its requirement is missing", sp.Name)
		}
	}
	if n := strings.Count(doc, `<details class="spec"`); n != len(run.Specs) {
		t.Errorf("%d specs rendered, want %d", n, len(run.Specs))
	}
	// The twin: a run without tokens has no token section, a run without
	// specs no spec list.
	empty := string(htmlOf(t, resultstest.SuiteFailure()))
	for _, absent := range []string{`<section id="specs"`, `<section id="tokens"`} {
		if strings.Contains(empty, absent) {
			t.Errorf("suite-failure report has %s", absent)
		}
	}
	if !strings.Contains(empty, "The suite itself failed") {
		t.Error("suite-failure report does not say the suite failed")
	}
}
