package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/reports"
	"github.com/idpconform/idpconform/reports/schema"
)

// runJSON encodes a load run as results.json is written.
func runJSON(t *testing.T, l *results.Load) []byte {
	t.Helper()
	run := ToRun(l, results.Tool{Name: "idpconform", Version: "test"}, results.Target{Name: "mock"}, time.Now(), time.Now())
	var b bytes.Buffer
	if err := reports.WriteJSON(&b, run); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRealLoadRunsMatchTheSchema validates what real runs write, in every
// shape a run can take: each model, errors, verification, a capacity
// search, an interrupted run, a run that sent nothing, a scenario without
// credentials, and merges with and without the shards' records.
func TestRealLoadRunsMatchTheSchema(t *testing.T) {
	m := startMock(t, "ES256", nil)
	short := 300 * time.Millisecond
	loads := map[string]*results.Load{
		"constant, verified": run(t, Config{Scenario: m.scenario(t), Plan: constant(50, short), Checker: m.checker(t), VerifyEvery: 3,
			SLOs: mustSLOs(t, "p99<=2s", "success>=99%", "throughput>=1/s")}),
		"steps":           run(t, Config{Scenario: m.scenario(t), Plan: Plan{Model: Steps, Rates: []float64{20, 40}, Duration: short}}),
		"ramp":            run(t, Config{Scenario: m.scenario(t), Plan: Plan{Model: Ramp, From: 10, To: 50, Duration: short}, HTTP: HTTPOptions{Version: HTTP2}}),
		"capacity":        run(t, Config{Scenario: m.scenario(t), Plan: Plan{Model: FindCapacity, Rates: []float64{20}, Duration: 200 * time.Millisecond, MaxRate: 40, MaxProbes: 2, Precision: 0.3}, SLOs: mustSLOs(t, "p99<=2s")}),
		"impossible slo":  run(t, Config{Scenario: m.scenario(t), Plan: constant(20, 200*time.Millisecond), SLOs: mustSLOs(t, "p99<=1us", "throughput>=100000/s")}),
		"shard":           run(t, Config{Scenario: m.scenario(t), Plan: constant(40, short).Split(Shard{Index: 1, Count: 2}), Shard: &Shard{Index: 1, Count: 2}}),
		"transport error": nil,
		"jwks":            nil,
		"errors":          nil,
	}
	env := m.env
	env.Endpoints.Token = "http://127.0.0.1:1/token"
	sc, err := newClientCredentials(env)
	if err != nil {
		t.Fatal(err)
	}
	loads["transport error"] = run(t, Config{Scenario: sc, Plan: constant(20, 200*time.Millisecond)})
	var rep *Report
	jw, err := newJWKS(m.env)
	if err != nil {
		t.Fatal(err)
	}
	loads["jwks"] = run(t, Config{Scenario: jw, Plan: constant(20, 200*time.Millisecond)})
	env = m.env
	env.Client.ID = "no-such-client"
	if sc, err = newClientCredentials(env); err != nil {
		t.Fatal(err)
	}
	loads["errors"] = run(t, Config{Scenario: sc, Plan: constant(20, 200*time.Millisecond)})

	// Scenarios with a prepared pool: its cost, a replay check, a pool that
	// ran dry in a step and in a capacity search, and a preparation that
	// failed.
	um := startTargetMock(t, "mock.yaml")
	env = um.env(t, "code")
	env.Pool = PoolOptions{Size: 4}
	loads["refresh, replay check"] = run(t, Config{Scenario: newScenario(t, "refresh", env), Plan: constant(20, short), Checker: um.checker(t, env.Client)})
	env = um.env(t, "refresh-static")
	env.Pool = PoolOptions{Size: 2}
	loads["refresh, pool ran dry"] = run(t, Config{Scenario: newScenario(t, "refresh", env), Plan: constant(20, short)})
	env.Pool = PoolOptions{Size: 3}
	loads["capacity, pool ran dry"] = run(t, Config{Scenario: newScenario(t, "refresh", env), Plan: Plan{Model: FindCapacity, Rates: []float64{20}, Duration: short, MaxRate: 40, MaxProbes: 3, Precision: 0.3}, SLOs: mustSLOs(t, "p99<=2s")})
	if c := loads["capacity, pool ran dry"].Capacity; c == nil || c.Bound != "stopped" {
		t.Errorf("capacity search with a dry pool: %+v", c)
	}
	env = um.env(t, "cc")
	env.Pool = PoolOptions{Size: 3}
	loads["introspection"] = run(t, Config{Scenario: newScenario(t, "introspection", env), Plan: constant(20, short)})
	env = um.env(t, "code")
	tg := *um.tg
	tg.Users = []target.User{{Name: "x", Username: "nobody", Password: target.Secret{Secret: redact.NewSecret("wrong-password")}}}
	env.Target = &tg
	rep, err = Run(context.Background(), Config{Scenario: newScenario(t, "authcode", env), Plan: constant(20, short)})
	if err == nil {
		t.Fatal("a refused login prepared")
	}
	loads["authcode, preparation failed"] = rep.Load

	// Cancelled before the first hit: no step, no gate but the interrupt.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err = Run(ctx, Config{Scenario: m.scenario(t), Plan: constant(20, time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	loads["interrupted before the first hit"] = rep.Load

	// Merges: of shards with their records, and of a bare results file.
	dir := t.TempDir()
	a, b := runShards(t, m, dir)
	mg, err := Merge([]string{a, b}, MergeOptions{MinAttemptedRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	loads["merge"] = mg.Load
	bare := filepath.Join(t.TempDir(), "bare.bin")
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bare, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if mg, err = Merge([]string{bare}, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	loads["merge without records"] = mg.Load

	for name, l := range loads {
		doc := runJSON(t, l)
		if err := schema.ValidateResults(doc); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// And it reads back.
		if _, err := results.Decode(bytes.NewReader(doc)); err != nil {
			t.Errorf("%s: decode: %v", name, err)
		}
	}

	// The failing twin: the same real output, broken in one place, is
	// refused at that place.
	var doc map[string]any
	if err := json.Unmarshal(runJSON(t, loads["steps"]), &doc); err != nil {
		t.Fatal(err)
	}
	doc["load"].(map[string]any)["steps"].([]any)[1].(map[string]any)["valid"] = "yes"
	broken, _ := json.Marshal(doc)
	err = schema.ValidateResults(broken)
	var se *schema.Error
	if !errors.As(err, &se) || len(se.Problems) != 1 || se.Problems[0].Pointer != "/load/steps/1/valid" {
		t.Errorf("a broken real run: %v", err)
	}
}
