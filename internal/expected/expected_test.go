package expected

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/results"
)

const list = `expected_failures:
  - spec: "refresh treats a used refresh token as the target declares"
    reason: vendor keeps the old refresh token for 60s (IDP-123)
    owner: identity-team
    expires: 2026-12-31
  - spec: "~^introspection .* active false$"
    reason: introspection answers 400 for unknown tokens
    owner: identity-team
    expires: 2026-01-01
  - spec: "discovery names the issuer it was discovered from"
    reason: fixed upstream, not yet deployed
    owner: qa
    expires: 2027-06-30
  - spec: "a spec that no longer exists"
    reason: old
    owner: qa
    expires: 2027-01-01
`

func run() *results.Run {
	r := &results.Run{Specs: []results.Spec{
		{Name: "refresh treats a used refresh token as the target declares", State: results.Failed, Failure: "RFC 9700 §4.14.2 (MUST): ..."},
		{Name: "introspection answers an unknown token with active false", State: results.Failed, Failure: "RFC 7662 §2.2 (MUST): ..."},
		{Name: "discovery names the issuer it was discovered from", State: results.Passed},
		{Name: "discovery serves a JWK Set at jwks_uri", State: results.Failed, Failure: "RFC 7517 §5 (MUST): ..."},
	}}
	r.Summarize()
	return r
}

func TestApply(t *testing.T) {
	entries, err := Parse("x.yaml", []byte(list))
	if err != nil {
		t.Fatal(err)
	}
	r := run()
	Apply(r, entries, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))

	if s := r.Specs[0]; s.State != results.ExpectedFailure || !strings.Contains(s.Expected, "IDP-123") {
		t.Errorf("listed failure: %+v", s)
	}
	// Past its date, the entry no longer excuses the failure.
	if s := r.Specs[1]; s.State != results.Failed || !strings.Contains(s.Failure, "expected failure expired on 2026-01-01") {
		t.Errorf("expired entry: %+v", s)
	}
	if s := r.Specs[2]; s.State != results.Passed || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "passed: remove it") {
		t.Errorf("listed but passing: %+v", s)
	}
	if s := r.Specs[3]; s.State != results.Failed {
		t.Errorf("unlisted failure changed: %+v", s)
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "a spec that no longer exists") {
		t.Errorf("notes: %v", r.Notes)
	}
	if r.Summary.Failed != 2 || r.Summary.Expected != 1 || r.Passed() {
		t.Errorf("summary: %+v", r.Summary)
	}

	// The twin: with only the excused failure, the run passes.
	r2 := &results.Run{Specs: []results.Spec{r.Specs[0]}}
	r2.Specs[0].State = results.Failed
	Apply(r2, entries[:1], time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
	if !r2.Passed() {
		t.Errorf("excused run failed: %+v", r2.Summary)
	}
	// A day later the same failure fails the run again.
	r3 := &results.Run{Specs: []results.Spec{{Name: r.Specs[0].Name, State: results.Failed}}}
	Apply(r3, entries[:1], time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC))
	if r3.Passed() || r3.Specs[0].State != results.Failed {
		t.Errorf("expired entry still excuses: %+v", r3.Specs[0])
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"expected_failures:\n  - spec: x\n    owner: o\n    expires: 2027-01-01\n":                     "has no reason",
		"expected_failures:\n  - spec: x\n    reason: r\n    owner: o\n":                               "no expires date",
		"expected_failures:\n  - spec: x\n    reason: r\n    owner: o\n    expires: next week\n":       `x.yaml:5:14: expected_failures[0].expires: "next week" is not a date`,
		"expected_failures:\n  - spec: \"~(\"\n    reason: r\n    owner: o\n    expires: 2027-01-01\n": "bad regular expression",
		"expected_failure:\n  - spec: x\n":                                                             `did you mean "expected_failures"`,
	}
	for src, want := range cases {
		if _, err := Parse("x.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}

// A file that makes the YAML library panic is an error at its tag; the
// twin without the tag is an ordinary, placed type error.
func TestParseYAMLPanicIsAnError(t *testing.T) {
	for src, want := range map[string]string{
		"expected_failures: !!str a\n": "e.yaml:1:20: the YAML decoder could not read this file",
		"expected_failures: a\n":       "e.yaml:1:",
	} {
		_, err := Parse("e.yaml", []byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q): got %v, want an error starting %q", src, err, want)
		}
	}
}

// FuzzParse feeds the expected-failures parser any YAML a user might
// write: no input panics, and every entry it accepts has a spec, a reason,
// an owner and an expiry date.
func FuzzParse(f *testing.F) {
	f.Add([]byte(list))
	files, _ := filepath.Glob("../../fixtures/expected/*.yaml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("expected_failures: !!str a\n"))
	f.Add([]byte("expected_failures:\n  - spec: \"~[\"\n    reason: r\n    owner: o\n    expires: 2026-13-40\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		entries, err := Parse("fuzz.yaml", src)
		if err != nil {
			return
		}
		for i, e := range entries {
			if e.Spec == "" || e.Reason == "" || e.Owner == "" || e.Expires.IsZero() {
				t.Errorf("accepted entry %d without spec, reason, owner or expiry: %+v", i, e)
			}
		}
	})
}

// A SHOULD spec that fails passes with a warning. Listed, that warning is the
// known deviation: the spec is an expected failure and keeps its warning,
// and the entry is not called stale. The twins: the same entry on a clean
// pass still says to remove it, and past its date it no longer excuses.
func TestApplyWarnedSpec(t *testing.T) {
	const src = `expected_failures:
  - spec: "client-credentials answers with Pragma: no-cache"
    reason: vendor omits Pragma (IDP-7)
    owner: qa
    expires: 2027-06-30
`
	entries, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	const name = "client-credentials answers with Pragma: no-cache"
	const warning = "RFC 6749 §5.1 (SHOULD): Pragma of the token response ..."
	warned := func() *results.Run {
		r := &results.Run{Specs: []results.Spec{{Name: name, Severity: "SHOULD", State: results.Passed, Warnings: []string{warning}}}}
		r.Summarize()
		return r
	}
	today := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

	r := warned()
	Apply(r, entries, today)
	s := r.Specs[0]
	if s.State != results.ExpectedFailure || !strings.Contains(s.Expected, "IDP-7") {
		t.Errorf("listed warning not expected: %+v", s)
	}
	if len(s.Warnings) != 1 || s.Warnings[0] != warning {
		t.Errorf("warnings: %q, want only the spec's own", s.Warnings)
	}
	if r.Summary.Expected != 1 || r.Summary.Passed != 0 || !r.Passed() || len(r.Notes) != 0 {
		t.Errorf("summary %+v, notes %v", r.Summary, r.Notes)
	}

	clean := &results.Run{Specs: []results.Spec{{Name: name, Severity: "SHOULD", State: results.Passed}}}
	Apply(clean, entries, today)
	if s := clean.Specs[0]; s.State != results.Passed || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "passed: remove it") {
		t.Errorf("clean pass: %+v", s)
	}

	late := warned()
	Apply(late, entries, time.Date(2027, 7, 1, 0, 0, 1, 0, time.UTC))
	s = late.Specs[0]
	if s.State != results.Passed || s.Expected != "" || len(s.Warnings) != 2 ||
		!strings.Contains(s.Warnings[1], "expected deviation expired on 2027-06-30") || strings.Contains(s.Warnings[1], "remove it") {
		t.Errorf("expired entry on a warned spec: %+v", s)
	}
}
