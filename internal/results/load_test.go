package results

import (
	"encoding/json"
	"strings"
	"testing"
)

type replacer struct{ secret string }

func (r replacer) String(s string) string { return strings.ReplaceAll(s, r.secret, "[REDACTED]") }

func TestLoadRedacted(t *testing.T) {
	const s = "s3cret-token-value"
	l := &Load{
		Endpoint: "https://idp.example/token?x=" + s,
		Steps: []LoadStep{{InvalidReason: "why " + s, Errors: []LoadErrorGroup{{Message: "401: " + s, OAuthError: s}},
			Gates: []LoadGate{{Message: "gate " + s}}}},
		Gates:        []LoadGate{{Message: "run " + s}},
		Verification: LoadVerification{Failures: []LoadVerifyGroup{{Reason: "bad " + s}}},
		Capacity:     &LoadCapacity{Detail: "detail " + s},
	}
	r := l.Redacted(replacer{s})
	for _, v := range []string{r.Endpoint, r.Steps[0].InvalidReason, r.Steps[0].Errors[0].Message, r.Steps[0].Errors[0].OAuthError,
		r.Steps[0].Gates[0].Message, r.Gates[0].Message, r.Verification.Failures[0].Reason, r.Capacity.Detail} {
		if strings.Contains(v, s) || !strings.Contains(v, "[REDACTED]") {
			t.Errorf("not redacted: %q", v)
		}
	}
	// The original is untouched: reports render a copy.
	if !strings.Contains(l.Steps[0].Errors[0].Message, s) || !strings.Contains(l.Gates[0].Message, s) || !strings.Contains(l.Capacity.Detail, s) {
		t.Error("Redacted changed the original")
	}
	if (*Load)(nil).Redacted(replacer{s}) != nil {
		t.Error("nil load")
	}
}

func TestLoadPassed(t *testing.T) {
	l := &Load{Gates: []LoadGate{{Passed: true}, {Passed: true}}}
	if !l.Passed() {
		t.Error("all gates passed, run failed")
	}
	l.Gates[1].Passed = false
	if l.Passed() {
		t.Error("a failed gate passed the run")
	}
	l.Gates[1].Passed = true
	l.Interrupted = true
	if l.Passed() {
		t.Error("an interrupted run passed")
	}
}

func TestLoadFillEmpty(t *testing.T) {
	l := &Load{Steps: []LoadStep{{Name: "50/s"}}}
	enc := func() string {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// The twin: before, the lists a reader relies on are null.
	if before := enc(); !strings.Contains(before, `"gates":null`) || !strings.Contains(before, `"status_codes":null`) {
		t.Fatalf("the empty load encodes no null to fill: %s", before)
	}
	l.FillEmpty()
	if after := enc(); strings.Contains(after, "null") {
		t.Errorf("null left after FillEmpty: %s", after)
	}
}
