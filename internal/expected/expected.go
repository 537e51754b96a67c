// Package expected reads a team's list of known deviations (specs it knows
// its IdP fails, each with a reason, an owner and an expiry date) and applies
// it to a run: a listed failure is reported as expected instead of failing
// the run; an entry past its date fails again; a listed spec that passes is
// reported so that the list shrinks. A SHOULD or INFO spec that fails passes
// with a warning; listed, it is an expected failure that keeps its warning.
package expected

import (
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/yamlfile"
)

// File is an expected-failures file.
type File struct {
	ExpectedFailures []Entry `yaml:"expected_failures"`
}

// Entry is one known deviation.
type Entry struct {
	// Spec matches spec names: the full name as printed
	// ("refresh treats a used refresh token of client code as the target declares"), or a
	// regular expression when it starts with "~".
	Spec   string `yaml:"spec"`
	Reason string `yaml:"reason"`
	Owner  string `yaml:"owner"`
	// Expires is the last day (YYYY-MM-DD, UTC) the deviation is accepted.
	Expires Date `yaml:"expires"`

	re *regexp.Regexp
}

// Date is a calendar day written YYYY-MM-DD.
type Date struct{ time.Time }

// UnmarshalYAML parses the day and reports a bad one at its node.
func (d *Date) UnmarshalYAML(n ast.Node) error {
	s, err := yamlfile.ScalarString(n)
	if err != nil {
		return err
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return yamlfile.NodeErrorf(n, "%q is not a date; write YYYY-MM-DD", s)
	}
	d.Time = t
	return nil
}

// Load reads and validates an expected-failures file.
func Load(path string) ([]Entry, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read expected failures %s: %w", path, err)
	}
	return Parse(path, src)
}

// Parse is Load on bytes.
func Parse(name string, src []byte) (_ []Entry, err error) {
	defer yamlfile.Recover(name, src, &err)
	f, err := yamlfile.Parse(name, src)
	if err != nil {
		return nil, err
	}
	var doc File
	if err := f.Decode(&doc); err != nil {
		return nil, err
	}
	var ps []yamlfile.Problem
	for i := range doc.ExpectedFailures {
		e := &doc.ExpectedFailures[i]
		p := fmt.Sprintf("$.expected_failures[%d]", i)
		if e.Spec == "" {
			ps = append(ps, yamlfile.Errorf(p, "entry has no spec"))
		} else if e.Spec[0] == '~' {
			re, err := regexp.Compile(e.Spec[1:])
			if err != nil {
				ps = append(ps, yamlfile.Errorf(p+".spec", "bad regular expression: %v", err))
			}
			e.re = re
		}
		if e.Reason == "" {
			ps = append(ps, yamlfile.Errorf(p, "entry for %q has no reason", e.Spec))
		}
		if e.Owner == "" {
			ps = append(ps, yamlfile.Errorf(p, "entry for %q has no owner", e.Spec))
		}
		if e.Expires.IsZero() {
			ps = append(ps, yamlfile.Errorf(p, "entry for %q has no expires date: known deviations are accepted for a time, not forever", e.Spec))
		}
	}
	if err := f.Err(ps); err != nil {
		return nil, err
	}
	return doc.ExpectedFailures, nil
}

func (e *Entry) matches(name string) bool {
	if e.re != nil {
		return e.re.MatchString(name)
	}
	return e.Spec == name
}

// Apply marks the run's specs against the entries, as of today, and
// recomputes the summary. An entry matching no spec of the run is reported
// in the run's notes, so stale entries are seen.
func Apply(run *results.Run, entries []Entry, today time.Time) {
	used := make([]bool, len(entries))
	day := today.UTC().Truncate(24 * time.Hour)
	for i := range run.Specs {
		sp := &run.Specs[i]
		for j := range entries {
			e := &entries[j]
			if !e.matches(sp.Name) {
				continue
			}
			used[j] = true
			note := fmt.Sprintf("%s (owner %s, until %s)", e.Reason, e.Owner, e.Expires.Format(time.DateOnly))
			switch {
			case sp.State == results.Failed && day.After(e.Expires.Time):
				sp.Failure = fmt.Sprintf("expected failure expired on %s: %s\n%s", e.Expires.Format(time.DateOnly), note, sp.Failure)
			case sp.State == results.Failed:
				sp.State = results.ExpectedFailure
				sp.Expected = note
			// A SHOULD or INFO spec that fails passes with a warning: that
			// warning is the deviation the entry names, so it must not be
			// told to leave the list.
			case sp.State == results.Passed && len(sp.Warnings) > 0 && day.After(e.Expires.Time):
				sp.Warnings = append(sp.Warnings, fmt.Sprintf("expected deviation expired on %s: %s", e.Expires.Format(time.DateOnly), note))
			case sp.State == results.Passed && len(sp.Warnings) > 0:
				sp.State = results.ExpectedFailure
				sp.Expected = note
			case sp.State == results.Passed:
				sp.Warnings = append(sp.Warnings, "listed as an expected failure but passed: remove it from the list ("+note+")")
			}
			break
		}
	}
	for j, e := range entries {
		if !used[j] {
			run.Notes = append(run.Notes, fmt.Sprintf("expected-failures entry %q matched no spec of this run", e.Spec))
		}
	}
	run.Summarize()
}
