package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
)

// runShard runs shard s of a 40/s attack against m and writes the files a
// shard leaves: RESULTS.bin, RESULTS.json, RESULTS.digests. It returns
// errors rather than failing the test: it runs on its own goroutine.
func runShard(m *mockTarget, check TokenChecker, dir string, s Shard) (string, *results.Load, error) {
	base := filepath.Join(dir, "shard-"+strconv.Itoa(s.Index))
	bin, err := os.Create(base + ResultsExt)
	if err != nil {
		return "", nil, err
	}
	defer bin.Close()
	sc, err := newClientCredentials(m.env)
	if err != nil {
		return "", nil, err
	}
	slos, err := slo.ParseAll([]string{"p99<=2s", "throughput>=20/s"})
	if err != nil {
		return "", nil, err
	}
	plan := constant(40, time.Second).Split(s)
	rep, err := Run(context.Background(), Config{Scenario: sc, Plan: plan, Shard: &s, Results: bin,
		SLOs: slos, Checker: check, VerifyEvery: 10, MinAttemptedRatio: 0.5})
	if err != nil {
		return "", nil, err
	}
	run := ToRun(rep.Load, results.Tool{Name: "test"}, results.Target{Name: "mock"}, time.Now(), time.Now())
	js, err := json.Marshal(run)
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(base+RunExt, js, 0o644); err != nil {
		return "", nil, err
	}
	var d bytes.Buffer
	if err := rep.WriteDigests(&d); err != nil {
		return "", nil, err
	}
	return base + ResultsExt, rep.Load, os.WriteFile(base+DigestsExt, d.Bytes(), 0o644)
}

// runShards runs both shards of a 2-shard attack at the same time, as
// separate processes or machines would.
func runShards(t *testing.T, m *mockTarget, dir string) (a, b string) {
	t.Helper()
	check := m.checker(t)
	var lb *results.Load
	var errB error
	done := make(chan struct{})
	go func() {
		defer close(done)
		b, lb, errB = runShard(m, check, dir, Shard{Index: 1, Count: 2})
	}()
	a, la, errA := runShard(m, check, dir, Shard{Index: 0, Count: 2})
	<-done
	if errA != nil || errB != nil {
		t.Fatalf("shards: %v; %v", errA, errB)
	}
	// Each shard gates its share of the throughput.
	for _, l := range []*results.Load{la, lb} {
		if g := gate(l, "throughput>=20/s (shard share 10/s)"); g == nil || !g.Passed {
			t.Errorf("shard throughput gate: %+v", g)
		}
	}
	return a, b
}

func TestMergeShards(t *testing.T) {
	m := startMock(t, "ES256", nil)
	dir := t.TempDir()
	a, b := runShards(t, m, dir)

	var merged bytes.Buffer
	mg, err := Merge([]string{a, b}, MergeOptions{Results: &merged, MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if len(mg.Notes) != 0 {
		t.Errorf("notes: %v", mg.Notes)
	}
	l := mg.Load
	if g := gate(l, gateShards); g == nil || !g.Passed || g.Measured != "2 of 2 shards" {
		t.Errorf("shards gate with both: %+v", g)
	}
	if len(l.Steps) != 1 {
		t.Fatalf("steps: %+v", l.Steps)
	}
	st := l.Steps[0]
	sent := mg.Runs[0].Load.Steps[0].Requests + mg.Runs[1].Load.Steps[0].Requests
	if st.Name != "40/s" || st.RequestedRate != 40 || st.Requests != sent || st.PlannedHits != 40 || !st.Valid {
		t.Errorf("merged step: rate %v sent %d of %d planned %d valid %v %s", st.RequestedRate, st.Requests, sent, st.PlannedHits, st.Valid, st.InvalidReason)
	}
	if got := uint64(len(decodeAll(t, merged.Bytes()))); got != sent {
		t.Errorf("merged file holds %d results, want %d", got, sent)
	}
	// The merge gates the whole throughput (both shards together: about
	// 40/s, twice the limit; each shard alone sends 20/s).
	if g := gate(l, "throughput>=20/s"); g == nil || !g.Passed {
		t.Errorf("merged throughput: %+v", g)
	}
	for _, u := range l.Uniqueness {
		if u.Seen != sent || u.Duplicates != 0 {
			t.Errorf("uniqueness %+v", u)
		}
	}
	if v := l.Verification; v.Offered == 0 || v.Verified+v.Dropped != v.Offered {
		t.Errorf("verification %+v", v)
	}
	if !mg.Load.Passed() {
		t.Errorf("merged run failed: %+v", l.Gates)
	}

	// A merge with an SLO the shards met only as a whole must fail when
	// the whole misses it.
	mg, err = Merge([]string{a, b}, MergeOptions{SLOs: mustSLOs(t, "throughput>=1000/s"), MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if g := gate(mg.Load, "throughput>=1000/s"); g == nil || g.Passed {
		t.Errorf("throughput>=1000/s: %+v", g)
	}
}

// Two shards that got the same tokens (one replicated IdP node answering
// for another) are caught only across shards, by the digests.
func TestMergeFindsDuplicatesAcrossShards(t *testing.T) {
	m := startMock(t, "ES256", nil)
	dir := t.TempDir()
	a, b := runShards(t, m, dir)
	d, err := os.ReadFile(Sidecar(a, DigestsExt))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(Sidecar(b, DigestsExt), d, 0o644); err != nil {
		t.Fatal(err)
	}
	mg, err := Merge([]string{a, b}, MergeOptions{MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if g := gate(mg.Load, "unique access_token"); g == nil || g.Passed {
		t.Errorf("cross-shard duplicates not found: %+v", g)
	}

	// Without the digests the merge says what it could not check.
	if err := os.Remove(Sidecar(b, DigestsExt)); err != nil {
		t.Fatal(err)
	}
	mg, err = Merge([]string{a, b}, MergeOptions{MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if len(mg.Notes) != 1 || !strings.Contains(mg.Notes[0], "duplicates across shards were not checked") {
		t.Errorf("notes: %v", mg.Notes)
	}
}

func TestMergeRefusesAndNotes(t *testing.T) {
	m := startMock(t, "ES256", nil)
	dir := t.TempDir()
	a, _ := runShards(t, m, dir)
	if _, err := Merge([]string{a, a}, MergeOptions{}); err == nil || !strings.Contains(err.Error(), "are both shard 0/2") {
		t.Errorf("the same shard twice: %v", err)
	}
	if _, err := Merge(nil, MergeOptions{}); err == nil {
		t.Error("an empty merge was accepted")
	}
	junk := filepath.Join(dir, "junk.bin")
	if err := os.WriteFile(junk, []byte("not results"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge([]string{junk}, MergeOptions{}); err == nil || !strings.Contains(err.Error(), "not vegeta results") {
		t.Errorf("junk: %v", err)
	}

	// One shard alone: the missing one is named; a file without its run
	// record is merged but its step cannot be judged valid.
	mg, err := Merge([]string{a}, MergeOptions{MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(mg.Notes, "\n"), "shards missing from the merge: 1/2") {
		t.Errorf("notes: %v", mg.Notes)
	}
	// ... and fails the merge, in its record as well as on the terminal.
	if g := gate(mg.Load, gateShards); g == nil || g.Passed || !strings.Contains(g.Message, "FAIL every shard present: 1 of 2 shards merged, missing 1/2") || mg.Load.Passed() {
		t.Errorf("shards gate with one missing: %+v", g)
	}
	if !slices.Contains(mg.Load.Notes, "shards missing from the merge: 1/2") {
		t.Errorf("load notes: %q", mg.Load.Notes)
	}
	if err := os.Remove(Sidecar(a, RunExt)); err != nil {
		t.Fatal(err)
	}
	mg, err = Merge([]string{a}, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := mg.Load.Steps[0]; st.Valid || !strings.Contains(st.InvalidReason, "requested rate is unknown") || st.Requests == 0 {
		t.Errorf("step without a record: %+v", st)
	}
}
