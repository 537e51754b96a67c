// Package results is the one model that every idpconform run writes into and
// that every report renders from. It is plain data, versioned by
// SchemaVersion and described by the JSON Schema in reports/schema, so
// `idpconform report` can re-render a run written earlier.
//
// # Extending the model (diff and load runs)
//
// A run has a Kind. Conformance runs fill Specs. Another kind of run adds
// one optional section, a pointer field on Run tagged `json:",omitempty"`
// (for example `Diff *Diff` for a migration diff, `Load *Load` for a load
// run), never a new top-level document. To add one:
//
//  1. add the Kind constant and list it in Kinds;
//  2. add the section type and the optional field on Run here, and its
//     free-text fields to Redacted (every string that can hold a value from
//     the IdP must pass through the redactor; TestRedactedReachesEveryString
//     plants a secret in every string of the model and fails until it does);
//  3. describe it in reports/schema/results.v1.schema.json under $defs, with
//     "additionalProperties": false (TestSchemaCoversModel fails until the
//     schema names every JSON field of the model);
//  4. give it a section in the HTML report (reports/html.go, a template in
//     reports/templates) and, if a reviewer needs it, a few lines in the
//     Markdown summary.
//
// Adding an optional section is a compatible change and keeps
// SchemaVersion; renaming, removing or re-typing a field is not, and bumps it
// (with a new schema file, and Decode taught to read the old version).
package results

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// SchemaVersion is the version of the JSON encoding of Run.
const SchemaVersion = "1"

// Report entry names the suites framework attaches to specs.
const (
	EntryWarning  = "idpconform.warning"
	EntryEvidence = "idpconform.evidence"
	EntryInfo     = "idpconform.info"
	// EntryToken carries one decoded token (a Token as JSON).
	EntryToken = "idpconform.token"
)

// Kind says what sort of run produced a Run, and so which sections it fills.
type Kind string

const (
	// KindConformance is a conformance run: Specs are filled.
	KindConformance Kind = "conformance"
	// KindLoad is a load run: Load is filled, and every gate is also a
	// spec so JUnit and the summaries count them.
	KindLoad Kind = "load"
)

// Kinds lists the kinds of run this binary reads and renders.
var Kinds = []Kind{KindConformance, KindLoad, KindDiff}

// Run is the result of one idpconform run.
type Run struct {
	SchemaVersion string    `json:"schema_version"`
	Kind          Kind      `json:"kind"`
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
	SuiteFailure string `json:"suite_failure,omitempty"`
	// Notes are remarks about the run itself (stale expected-failure
	// entries).
	Notes   []string `json:"notes,omitempty"`
	Summary Summary  `json:"summary"`
	// Load holds the measurements of a load run (Kind "load"); see load.go.
	Load *Load `json:"load,omitempty"`
	// Diff holds the differences of a migration diff (Kind "diff"); see
	// diff.go.
	Diff *Diff `json:"diff,omitempty"`
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
	// ExpectedFailure is a failure the team listed as a known deviation; it
	// does not fail the run.
	ExpectedFailure State = "expected_failure"
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
	// Expected explains an expected failure: reason, owner, expiry.
	Expected string `json:"expected,omitempty"`
	// Warnings are SHOULD failures: reported, not failed.
	Warnings []string `json:"warnings,omitempty"`
	// Info are facts the spec recorded about the target.
	Info []string `json:"info,omitempty"`
	// Evidence is the HTTP exchanges the spec judged, redacted.
	Evidence []Exchange `json:"evidence,omitempty"`
	// Tokens are the tokens the spec obtained, decoded, each beside the
	// contract of its kind.
	Tokens []Token `json:"tokens,omitempty"`
	// Output is what the spec wrote to its log (redacted).
	Output   string        `json:"output,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Exchange is one HTTP request a spec sent and the response it judged. Its
// JSON form is the one internal/oauth's recorder writes.
type Exchange struct {
	// Name says what the request was for ("token", "discovery").
	Name           string              `json:"name"`
	Method         string              `json:"method"`
	URL            string              `json:"url"`
	RequestHeader  map[string][]string `json:"request_header,omitempty"`
	RequestBody    string              `json:"request_body,omitempty"`
	Status         int                 `json:"status,omitempty"`
	ResponseHeader map[string][]string `json:"response_header,omitempty"`
	ResponseBody   string              `json:"response_body,omitempty"`
	// Error is set when no usable response came (transport error, size
	// limit).
	Error   string        `json:"error,omitempty"`
	Start   time.Time     `json:"start"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Token is a token a spec obtained, decoded (never the token itself), beside
// the contract the target names for its kind. It is decoded for people to
// read; whether its signature and claims are acceptable is what the specs
// judge.
type Token struct {
	// Kind is the response member it came in: access_token, id_token, ...
	Kind string `json:"kind"`
	// Source is the name of the exchange that returned it ("token").
	Source string `json:"source"`
	// Header is the JOSE header.
	Header map[string]any `json:"header"`
	// Claims is the payload.
	Claims map[string]any `json:"claims"`
	// Contract is the claim contract of the token's kind, when the target
	// names one; Findings are the claims checked against it.
	Contract *Contract `json:"contract,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
}

// Contract is a copy of a claim contract, so a report shows the rules beside
// the claims without the contract files at hand.
type Contract struct {
	Name   string               `json:"name"`
	Source string               `json:"source,omitempty"`
	Claims map[string]ClaimRule `json:"claims"`
}

// ClaimRule is what a contract says of one claim.
type ClaimRule struct {
	Type      string `json:"type"`
	Presence  string `json:"presence"`
	Strict    bool   `json:"strict,omitempty"`
	MinLength int    `json:"min_length,omitempty"`
	// MinEntropy is the least estimated entropy of an opaque string, in
	// bits: the floor that tells a guessable token from a good one.
	MinEntropy  float64 `json:"min_entropy,omitempty"`
	Description string  `json:"description,omitempty"`
}

// Finding is one claim checked against a contract: Level "violation" breaks
// it, "info" is tolerated (a claim the contract does not name).
type Finding struct {
	Claim   string `json:"claim"`
	Level   string `json:"level"`
	Message string `json:"message"`
}

// Counts tallies specs.
type Counts struct {
	Total    int `json:"total"`
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
	Expected int `json:"expected_failures"`
	Warnings int `json:"warnings"`
}

// Summary tallies a run.
type Summary struct {
	Counts
	// ByLabel tallies specs per scenario label.
	ByLabel map[string]Counts `json:"by_label"`
	// BySeverity tallies specs per severity (MUST, SHOULD, INFO).
	BySeverity map[string]Counts `json:"by_severity"`
	// Verdict is "pass" when no spec failed and the suite did not fail.
	Verdict string `json:"verdict"`
}

// Summarize computes r.Summary from r.Specs.
func (r *Run) Summarize() {
	s := Summary{ByLabel: map[string]Counts{}, BySeverity: map[string]Counts{}}
	for _, sp := range r.Specs {
		c := s.ByLabel[sp.Scenario]
		add(&c, sp)
		s.ByLabel[sp.Scenario] = c
		c = s.BySeverity[sp.Severity]
		add(&c, sp)
		s.BySeverity[sp.Severity] = c
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
	case ExpectedFailure:
		c.Expected++
	}
	c.Warnings += len(sp.Warnings)
}

// Passed reports whether the run's verdict is pass.
func (r *Run) Passed() bool { return r.Summary.Verdict == "pass" }

// Labels returns the scenario labels of the run, sorted.
func (s Summary) Labels() []string {
	return sortedKeys(s.ByLabel)
}

// severityOrder ranks severities for display: the ones that fail a run first.
var severityOrder = []string{"MUST", "SHOULD", "INFO"}

// Severities returns the severities of the run, MUST first, then SHOULD and
// INFO, then any other sorted.
func (s Summary) Severities() []string {
	keys := sortedKeys(s.BySeverity)
	sort.SliceStable(keys, func(i, j int) bool { return rank(keys[i]) < rank(keys[j]) })
	return keys
}

func rank(sev string) int {
	if i := slices.Index(severityOrder, sev); i >= 0 {
		return i
	}
	return len(severityOrder)
}

func sortedKeys(m map[string]Counts) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Decode reads a Run from JSON, refusing schema versions and kinds it does
// not know. Numbers inside token headers and claims keep their exact value
// (json.Number).
func Decode(rd io.Reader) (*Run, error) {
	dec := json.NewDecoder(rd)
	dec.UseNumber()
	var r Run
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode results: %w", err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("results schema_version %q is not supported (this binary reads %q)", r.SchemaVersion, SchemaVersion)
	}
	if !slices.Contains(Kinds, r.Kind) {
		known := make([]string, len(Kinds))
		for i, k := range Kinds {
			known[i] = string(k)
		}
		return nil, fmt.Errorf("results kind %q is not one this binary renders (%s); a newer idpconform may", r.Kind, strings.Join(known, ", "))
	}
	return &r, nil
}
