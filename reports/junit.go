package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/idpconform/idpconform/internal/results"
)

// JUnit XML as read by Jenkins, GitLab and GitHub test reporters: one
// testsuite per scenario label, one testcase per spec, with the requirement
// and severity as properties. SHOULD failures are not failures: they appear
// in system-out prefixed "WARNING", so they are visible without failing the
// build.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Errors    int         `xml:"errors,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitFailure   `xml:"failure,omitempty"`
	Skipped    *junitSkipped   `xml:"skipped,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes run as JUnit XML.
func WriteJUnit(w io.Writer, run *results.Run) error {
	doc := junitSuites{Name: "idpconform " + run.Target.Name, Time: secs(run.EndedAt.Sub(run.StartedAt).Seconds())}
	bySuite := map[string]*junitSuite{}
	suiteSecs := map[string]float64{}
	var order []string
	for _, sp := range run.Specs {
		name := sp.Scenario
		if name == "" {
			name = "unlabelled"
		}
		su, ok := bySuite[name]
		if !ok {
			su = &junitSuite{Name: name, Timestamp: run.StartedAt.UTC().Format("2006-01-02T15:04:05")}
			bySuite[name] = su
			order = append(order, name)
		}
		tc := junitCase{
			Name:      sp.Name,
			Classname: "idpconform." + name,
			Time:      secs(sp.Duration.Seconds()),
			Properties: []junitProperty{
				{Name: "requirement", Value: sp.Requirement},
				{Name: "severity", Value: sp.Severity},
				{Name: "labels", Value: strings.Join(sp.Labels, ",")},
			},
		}
		var out strings.Builder
		for _, wn := range sp.Warnings {
			fmt.Fprintf(&out, "WARNING %s\n", wn)
		}
		for _, in := range sp.Info {
			fmt.Fprintf(&out, "INFO %s\n", in)
		}
		su.Tests++
		doc.Tests++
		switch sp.State {
		case results.Failed:
			su.Failures++
			doc.Failures++
			tc.Failure = &junitFailure{Message: firstLine(sp.Failure), Type: sp.Severity, Text: sp.Failure + "\n" + sp.Location}
			if sp.Output != "" {
				out.WriteString(sp.Output)
			}
		case results.Skipped:
			su.Skipped++
			doc.Skipped++
			tc.Skipped = &junitSkipped{Message: sp.SkipReason}
		case results.ExpectedFailure:
			// JUnit has no expected failure; a skip with the reason keeps
			// the build green and the deviation visible.
			su.Skipped++
			doc.Skipped++
			tc.Skipped = &junitSkipped{Message: "expected failure: " + sp.Expected}
			out.WriteString(sp.Failure + "\n")
		}
		tc.SystemOut = out.String()
		su.Cases = append(su.Cases, tc)
		suiteSecs[name] += sp.Duration.Seconds()
	}
	if run.SuiteFailure != "" {
		doc.Errors++
		doc.Tests++
		su := &junitSuite{Name: "suite", Tests: 1, Errors: 1, Cases: []junitCase{{
			Name: "suite setup and teardown", Classname: "idpconform.suite", Time: "0",
			Failure: &junitFailure{Message: firstLine(run.SuiteFailure), Type: "error", Text: run.SuiteFailure},
		}}}
		bySuite["suite"] = su
		order = append(order, "suite")
	}
	for _, n := range order {
		bySuite[n].Time = secs(suiteSecs[n])
		doc.Suites = append(doc.Suites, *bySuite[n])
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(f float64) string { return fmt.Sprintf("%.3f", f) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
