// Package results is the one model that conformance runs (and later diff and
// load runs) write into and that every report renders from. It is plain
// data, versioned by SchemaVersion, so `idpconform report` can re-render a
// run written by an older binary.
package results

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// SchemaVersion is the version of the JSON encoding of Run.
const SchemaVersion = "1"

// Report entry names the suites framework attaches to specs.
const (
	EntryWarning  = "idpconform.warning"
	EntryEvidence = "idpconform.evidence"
	EntryInfo     = "idpconform.info"
)

// Run is the result of one idpconform run.
type Run struct {
	SchemaVersion string    `json:"schema_version"`
	Kind          string    `json:"kind"` // "conformance"
	Tool          Tool      `json:"tool"`
	Target        Target    `json:"target"`
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at"`
	// LabelFilter and Focus record what was selected.
	LabelFilter string `json:"label_filter,omitempty"`
	// DryRun is set when specs were listed, not run.
	DryRun bool     `json:"dry_run,omitempty"`
	Focus  []string `json:"focus,omitempty"`
	Specs  []Spec   `json:"specs"`
	// SuiteFailure is set when the suite itself failed (setup, timeout,
	// interrupt) rather than one spec.
	SuiteFailure string  `json:"suite_failure,omitempty"`
	Summary      Summary `json:"summary"`
	// Load holds the measurements of a load run (Kind "load"); see load.go.
	Load *Load `json:"load,omitempty"`
}

// Tool identifies the binary that produced the run.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Target identifies what was tested.
type Target struct {
	Name        string `json:"name"`
	Issuer      string `json:"issuer,omitempty"`
	MockProfile string `json:"mock_profile,omitempty"`
	File        string `json:"file,omitempty"`
}

// State of a spec.
type State string

const (
	Passed  State = "passed"
	Failed  State = "failed"
	Skipped State = "skipped"
	// Selected marks a spec a dry run would have run.
	Selected State = "selected"
)

// Spec is the result of one conformance spec.
type Spec struct {
	Name        string   `json:"name"`
	Scenario    string   `json:"scenario"`
	Labels      []string `json:"labels"`
	Requirement string   `json:"requirement"`
	Severity    string   `json:"severity"`
	State       State    `json:"state"`
	// Failure is the failure message when State is failed.
	Failure string `json:"failure,omitempty"`
	// Location is the file:line of the failed check.
	Location string `json:"location,omitempty"`
	// SkipReason says why the spec did not apply.
	SkipReason string `json:"skip_reason,omitempty"`
	// Warnings are SHOULD failures: reported, not failed.
	Warnings []string `json:"warnings,omitempty"`
	// Info are facts the spec recorded about the target.
	Info []string `json:"info,omitempty"`
	// Evidence is the recorded HTTP exchanges (redacted), as JSON.
	Evidence json.RawMessage `json:"evidence,omitempty"`
	// Output is what the spec wrote to its log (redacted).
	Output   string        `json:"output,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Counts tallies specs.
type Counts struct {
	Total    int `json:"total"`
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
	Warnings int `json:"warnings"`
}

// Summary tallies a run.
type Summary struct {
	Counts
	// ByLabel tallies specs per scenario label.
	ByLabel map[string]Counts `json:"by_label"`
	// Verdict is "pass" when no spec failed and the suite did not fail.
	Verdict string `json:"verdict"`
}

// Summarize computes r.Summary from r.Specs.
func (r *Run) Summarize() {
	s := Summary{ByLabel: map[string]Counts{}}
	for _, sp := range r.Specs {
		c := s.ByLabel[sp.Scenario]
		add(&c, sp)
		s.ByLabel[sp.Scenario] = c
		add(&s.Counts, sp)
	}
	s.Verdict = "pass"
	if s.Failed > 0 || r.SuiteFailure != "" {
		s.Verdict = "fail"
	}
	r.Summary = s
}

func add(c *Counts, sp Spec) {
	c.Total++
	switch sp.State {
	case Passed:
		c.Passed++
	case Failed:
		c.Failed++
	case Skipped:
		c.Skipped++
	}
	c.Warnings += len(sp.Warnings)
}

// Passed reports whether the run's verdict is pass.
func (r *Run) Passed() bool { return r.Summary.Verdict == "pass" }

// Labels returns the scenario labels of the run, sorted.
func (s Summary) Labels() []string {
	out := make([]string, 0, len(s.ByLabel))
	for k := range s.ByLabel {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Decode reads a Run from JSON, refusing schema versions it does not know.
func Decode(rd io.Reader) (*Run, error) {
	var r Run
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("decode results: %w", err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("results schema_version %q is not supported (this binary reads %q)", r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}
