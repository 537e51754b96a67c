package reports_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/results/resultstest"
	"github.com/idpconform/idpconform/reports"
)

// checkJUnit parses doc back and lists every way it disagrees with run:
// counts, one testcase per spec with its state, requirement, severity,
// warnings, and the failure message. States, counts and messages are read
// by an independent JUnit reader (the one Ginkgo's tooling uses); it does
// not read testcase properties, so those are read with encoding/xml.
func checkJUnit(doc []byte, run *results.Run) []string {
	suites, err := junit.Ingest(doc)
	if err != nil {
		return []string{"parse: " + err.Error()}
	}
	props, err := caseProperties(doc)
	if err != nil {
		return []string{"parse properties: " + err.Error()}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	cases := map[string]junit.Test{}
	var total junit.Totals
	for _, s := range suites {
		for _, tc := range s.Tests {
			if _, dup := cases[tc.Name]; dup {
				bad("testcase %q appears twice", tc.Name)
			}
			cases[tc.Name] = tc
		}
		total.Tests += s.Totals.Tests
		total.Failed += s.Totals.Failed
		total.Skipped += s.Totals.Skipped
		total.Error += s.Totals.Error
	}
	wantErrors := 0
	if run.SuiteFailure != "" {
		wantErrors = 1
	}
	c := run.Summary.Counts
	if total.Tests != c.Total+wantErrors || total.Failed != c.Failed || total.Skipped != c.Skipped || total.Error != wantErrors {
		bad("totals: tests %d failed %d skipped %d errors %d; want %d %d %d %d",
			total.Tests, total.Failed, total.Skipped, total.Error, c.Total+wantErrors, c.Failed, c.Skipped, wantErrors)
	}
	for _, sp := range run.Specs {
		tc, ok := cases[sp.Name]
		if !ok {
			bad("no testcase for spec %q", sp.Name)
			continue
		}
		want := map[results.State]junit.Status{results.Passed: junit.StatusPassed, results.Failed: junit.StatusFailed, results.Skipped: junit.StatusSkipped}[sp.State]
		if tc.Status != want {
			bad("%q: status %s, want %s", sp.Name, tc.Status, want)
		}
		p := props[sp.Name]
		for k, v := range map[string]string{"requirement": sp.Requirement, "severity": sp.Severity, "scenario": sp.Scenario, "labels": strings.Join(sp.Labels, ",")} {
			if p[k] != v {
				bad("%q: property %s = %q, want %q", sp.Name, k, p[k], v)
			}
		}
		if n := len(sp.Warnings); n > 0 || p["warnings"] != "" {
			if p["warnings"] != strconv.Itoa(n) {
				bad("%q: warnings property %q, want %d", sp.Name, p["warnings"], n)
			}
			for i, wn := range sp.Warnings {
				if got := p["warning."+strconv.Itoa(i+1)]; got != wn {
					bad("%q: warning.%d = %q, want %q", sp.Name, i+1, got, wn)
				}
				if !strings.Contains(tc.SystemOut, "WARNING "+wn) {
					bad("%q: system-out does not show warning %q", sp.Name, wn)
				}
			}
		}
		if sp.State == results.Failed {
			first, _, _ := strings.Cut(sp.Failure, "\n")
			if tc.Message != first {
				bad("%q: failure message %q, want %q", sp.Name, tc.Message, first)
			}
			if tc.Error == nil || !strings.Contains(tc.Error.Error(), sp.Failure) {
				bad("%q: failure text %v does not hold the whole failure", sp.Name, tc.Error)
			}
		}
		if sp.State == results.Skipped && tc.Message != sp.SkipReason {
			bad("%q: skip message %q, want %q", sp.Name, tc.Message, sp.SkipReason)
		}
	}
	return problems
}

// caseProperties reads the properties of each testcase, by testcase name.
func caseProperties(doc []byte) (map[string]map[string]string, error) {
	var d struct {
		Suites []struct {
			Cases []struct {
				Name  string `xml:"name,attr"`
				Props []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, s := range d.Suites {
		for _, c := range s.Cases {
			m := map[string]string{}
			for _, p := range c.Props {
				m[p.Name] = p.Value
			}
			out[c.Name] = m
		}
	}
	return out, nil
}

func junitOf(t *testing.T, run *results.Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := reports.WriteJUnit(&b, run); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestJUnitParsesBack reads the XML of fixed runs and of a real failing run
// back and compares it with the run.
func TestJUnitParsesBack(t *testing.T) {
	real := realRun(t, redact.New(), map[string]string{"IDPCONFORM_CC_SECRET": wrongSecret(t)}, nil)
	if real.Summary.Failed == 0 || real.Summary.Warnings == 0 {
		t.Fatalf("the real run should fail and warn: %+v", real.Summary.Counts)
	}
	for name, run := range map[string]*results.Run{
		"sample": resultstest.Sample(), "suite failure": resultstest.SuiteFailure(), "real run": real,
	} {
		t.Run(name, func(t *testing.T) {
			for _, p := range checkJUnit(junitOf(t, run), run) {
				t.Error(p)
			}
		})
	}
}

// TestJUnitCheckCatchesDisagreement is the failing twin: XML written for
// one run is checked against a run that differs in one respect each time.
func TestJUnitCheckCatchesDisagreement(t *testing.T) {
	doc := junitOf(t, resultstest.Sample())
	tampers := map[string]func(*results.Run){
		"a passed spec now failed": func(r *results.Run) {
			r.Specs[0].State, r.Specs[0].Failure = results.Failed, "boom"
			r.Summarize()
		},
		"another requirement":    func(r *results.Run) { r.Specs[2].Requirement = "RFC 6749 §4.4" },
		"another severity":       func(r *results.Run) { r.Specs[1].Severity = "MUST" },
		"one warning more":       func(r *results.Run) { r.Specs[1].Warnings = append(r.Specs[1].Warnings, "late") },
		"a warning less":         func(r *results.Run) { r.Specs[1].Warnings = nil },
		"another failure":        func(r *results.Run) { r.Specs[3].Failure = "other message" },
		"another skip reason":    func(r *results.Run) { r.Specs[4].SkipReason = "other" },
		"a spec the XML lacks":   func(r *results.Run) { r.Specs = append(r.Specs, results.Spec{Name: "extra", State: results.Passed}) },
		"a suite failure missed": func(r *results.Run) { r.SuiteFailure = "BeforeSuite failed" },
	}
	for name, tamper := range tampers {
		run := resultstest.Sample()
		tamper(run)
		if len(checkJUnit(doc, run)) == 0 {
			t.Errorf("%s: the check found nothing", name)
		}
	}
	if p := checkJUnit([]byte("<testsuites><testsuite"), resultstest.Sample()); len(p) == 0 {
		t.Error("truncated XML: the check found nothing")
	}
}

// TestJUnitShouldDoesNotFail: a SHOULD spec with a warning is a passing
// testcase, so CI test reporters do not fail the build on it.
func TestJUnitShouldDoesNotFail(t *testing.T) {
	run := resultstest.Sample()
	doc := junitOf(t, run)
	suites, err := junit.Ingest(doc)
	if err != nil {
		t.Fatal(err)
	}
	props, err := caseProperties(doc)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, s := range suites {
		for _, tc := range s.Tests {
			if p := props[tc.Name]; p["severity"] == "SHOULD" && p["warnings"] != "" {
				found = true
				if tc.Status != junit.StatusPassed {
					t.Errorf("SHOULD with a warning is %s, want passed", tc.Status)
				}
			}
		}
	}
	if !found {
		t.Fatal("the sample has no SHOULD warning to check")
	}
}
