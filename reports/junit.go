package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/idpconform/idpconform/internal/results"
)

// JUnit XML as read by Jenkins, GitLab and GitHub test reporters: one
// testsuite per scenario label, one testcase per spec, with the requirement,
// severity, scenario and labels as properties. SHOULD failures are not
// failures: the testcase passes, carries a "warnings" count and one
// "warning.N" property per warning, and system-out lines prefixed "WARNING",
// so they are visible without failing the build.

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
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
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
	Error      *junitFailure   `xml:"error,omitempty"`
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
	runProps := []junitProperty{
		{Name: "idpconform.kind", Value: string(run.Kind)},
		{Name: "idpconform.target", Value: run.Target.Name},
		{Name: "idpconform.version", Value: run.Tool.Version},
	}
	if run.Target.Issuer != "" {
		runProps = append(runProps, junitProperty{Name: "idpconform.issuer", Value: run.Target.Issuer})
	}
	for _, sp := range run.Specs {
		name := sp.Scenario
		if name == "" {
			name = "unlabelled"
		}
		su, ok := bySuite[name]
		if !ok {
			su = &junitSuite{Name: name, Timestamp: timestamp(run), Properties: runProps}
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
				{Name: "scenario", Value: sp.Scenario},
				{Name: "labels", Value: strings.Join(sp.Labels, ",")},
			},
		}
		if len(sp.Warnings) > 0 {
			tc.Properties = append(tc.Properties, junitProperty{Name: "warnings", Value: strconv.Itoa(len(sp.Warnings))})
			for i, wn := range sp.Warnings {
				tc.Properties = append(tc.Properties, junitProperty{Name: "warning." + strconv.Itoa(i+1), Value: wn})
			}
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
		su := &junitSuite{Name: "suite", Tests: 1, Errors: 1, Timestamp: timestamp(run), Properties: runProps, Cases: []junitCase{{
			Name: "suite setup and teardown", Classname: "idpconform.suite", Time: "0",
			Error: &junitFailure{Message: firstLine(run.SuiteFailure), Type: "suite", Text: run.SuiteFailure},
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

func timestamp(run *results.Run) string {
	return run.StartedAt.UTC().Format("2006-01-02T15:04:05")
}

func secs(f float64) string { return fmt.Sprintf("%.3f", f) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
