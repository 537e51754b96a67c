package selftest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/results"
)

// The mutation matrix runs in `make test`: every fault and drift of the
// mock must get its expected verdict, printed as a table.
func TestMutationMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the mutation matrix takes minutes; run without -short")
	}
	rows := Rows()
	if len(rows) < 50 {
		t.Fatalf("only %d rows: the catalogues shrank?", len(rows))
	}
	outcomes, err := Run(context.Background(), rows, Options{Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := WriteTable(&table, outcomes); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + table.String())
	for _, o := range outcomes {
		if !o.OK() {
			t.Errorf("%s: expected %s, got %s %v %v %v", o.Row, o.Expect, o.Got, o.Specs, o.Elsewhere, o.Err)
		}
	}
	if dir := os.Getenv("IDPCONFORM_ARTIFACT_DIR"); dir != "" {
		_ = os.MkdirAll(dir, 0o755)
		_ = os.WriteFile(dir+"/mutation-matrix.txt", []byte(table.String()), 0o644)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Every breaking drift names the scenarios that must catch it, so a catch
// by an unrelated spec cannot pass for proof.
func TestBreakingDriftsHaveOwners(t *testing.T) {
	for _, r := range Rows() {
		if r.Kind == "drift" && r.Expect == Fail && len(r.Owners) == 0 {
			t.Errorf("breaking drift %s has no owning scenarios (driftOwners)", r.Injection())
		}
	}
}

// judge counts a MUST failure only in an owning scenario as the catch; the
// same failure elsewhere is misplaced, and no failure at all is a pass.
func TestJudgeOwners(t *testing.T) {
	run := func(label string, state results.State) *results.Run {
		return &results.Run{Specs: []results.Spec{{Name: "s", Labels: []string{label}, State: state}}}
	}
	owners := []string{"authcode", "refresh"}
	if got, _, _ := judge(run("refresh", results.Failed), owners); got != Fail {
		t.Errorf("failure in an owning scenario: %s, want %s", got, Fail)
	}
	if got, _, _ := judge(run("discovery", results.Failed), owners); got != Misplaced {
		t.Errorf("failure outside the owners: %s, want %s", got, Misplaced)
	}
	if got, _, _ := judge(run("discovery", results.Failed), nil); got != Fail {
		t.Errorf("failure with no owners named: %s, want %s", got, Fail)
	}
	if got, _, _ := judge(run("refresh", results.Passed), owners); got != Pass {
		t.Errorf("no failure: %s, want %s", got, Pass)
	}
}
