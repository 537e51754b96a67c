// Package resultstest builds results.Run values for tests of the writers
// and the schema: fixed times and contents, so their output is the same on
// every machine and can be compared with golden files.
package resultstest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/idpconform/idpconform/internal/results"
)

// Start is the fixed start time of sample runs.
var Start = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

// Sample returns a conformance run with one spec in every state, a SHOULD
// warning, INFO notes, evidence, and a decoded token beside its contract
// with a violation and a tolerated extra claim. Every call returns a new
// value.
func Sample() *results.Run {
	evidence := []results.Exchange{{
		Name:          "token client_credentials",
		Method:        "POST",
		URL:           "http://127.0.0.1:18080/token",
		RequestHeader: map[string][]string{"Authorization": {"[REDACTED]"}, "Content-Type": {"application/x-www-form-urlencoded"}},
		RequestBody:   "grant_type=client_credentials&scope=api%3Aread",
		Status:        200,
		ResponseHeader: map[string][]string{
			"Cache-Control": {"no-store"},
			"Content-Type":  {"application/json"},
		},
		ResponseBody: `{"access_token":"[REDACTED]","token_type":"Bearer","expires_in":3600}`,
		Start:        Start.Add(40 * time.Millisecond),
		Elapsed:      1200 * time.Microsecond,
	}}
	failedEvidence := []results.Exchange{{
		Name:           "token client_credentials",
		Method:         "POST",
		URL:            "http://127.0.0.1:18080/token",
		RequestHeader:  map[string][]string{"Authorization": {"[REDACTED]"}},
		RequestBody:    "grant_type=client_credentials",
		Status:         401,
		ResponseHeader: map[string][]string{"Www-Authenticate": {`Basic realm="idpconform-mock", error="invalid_client"`}},
		ResponseBody:   `{"error":"invalid_client","error_description":"client authentication failed"}`,
		Start:          Start.Add(80 * time.Millisecond),
		Elapsed:        900 * time.Microsecond,
	}}
	token := results.Token{
		Kind:   "access_token",
		Source: "token client_credentials",
		Header: map[string]any{"alg": "ES256", "kid": "k1", "typ": "at+jwt"},
		Claims: map[string]any{
			"iss":       "http://127.0.0.1:18080",
			"sub":       "idpconform-cc",
			"aud":       []any{"api", "idpconform-cc"},
			"client_id": "idpconform-cc",
			"exp":       json.Number("1795426200"),
			"iat":       json.Number("1795422600"),
			"jti":       "short",
			"tenant":    "acme",
		},
		Contract: &results.Contract{
			Name:   "rfc9068-access-token",
			Source: "RFC 9068 §2.2",
			Claims: map[string]results.ClaimRule{
				"iss":       {Type: "string", Presence: "mandatory", Description: "issuer identifier"},
				"sub":       {Type: "string", Presence: "mandatory", MinLength: 1},
				"aud":       {Type: "audience", Presence: "mandatory"},
				"client_id": {Type: "string", Presence: "mandatory", MinLength: 1},
				"exp":       {Type: "numeric_date", Presence: "mandatory"},
				"iat":       {Type: "numeric_date", Presence: "mandatory"},
				"jti":       {Type: "string", Presence: "mandatory", MinLength: 8},
				"scope":     {Type: "string", Presence: "optional"},
			},
		},
		Findings: []results.Finding{
			{Claim: "jti", Level: "violation", Message: "expected at least 8 characters, got 5"},
			{Claim: "tenant", Level: "info", Message: "claim not in contract rfc9068-access-token (a string); tolerated as a non-breaking addition"},
		},
	}
	run := &results.Run{
		SchemaVersion: results.SchemaVersion,
		Kind:          results.KindConformance,
		Tool:          results.Tool{Name: "idpconform", Version: "v0.0.0-sample"},
		Target:        results.Target{Name: "sample", Issuer: "http://127.0.0.1:18080", MockProfile: "generic", File: "fixtures/targets/mock.yaml"},
		StartedAt:     Start,
		EndedAt:       Start.Add(250 * time.Millisecond),
		LabelFilter:   "discovery || client-credentials",
		Specs: []results.Spec{
			{
				Name: "discovery serves the metadata document as a JSON object with status 200", Scenario: "discovery",
				Labels: []string{"discovery"}, Requirement: "OIDC Discovery 1.0 §4", Severity: "MUST", State: results.Passed,
				Duration: 800 * time.Microsecond,
			},
			{
				Name: "discovery gives every key in the JWKS a distinct kid", Scenario: "discovery",
				Labels: []string{"discovery"}, Requirement: "RFC 7517 §4.5", Severity: "SHOULD", State: results.Passed,
				Warnings: []string{`RFC 7517 §4.5 (SHOULD): kids used by more than one key: Expected <[]string | len:1>: ["k1"] to be empty`},
				Duration: 300 * time.Microsecond,
			},
			{
				Name: "client-credentials issues an access token to client cc (client_secret_basic)", Scenario: "client-credentials",
				Labels: []string{"client-credentials"}, Requirement: "RFC 6749 §5.1", Severity: "MUST", State: results.Passed,
				Evidence: evidence, Tokens: []results.Token{token},
				Info:     []string{"tenant: claim not in contract rfc9068-access-token (a string); tolerated as a non-breaking addition"},
				Duration: 1500 * time.Microsecond,
			},
			{
				Name: "client-credentials rejects a wrong client secret with invalid_client", Scenario: "client-credentials",
				Labels: []string{"client-credentials", "akoya"}, Requirement: "RFC 6749 §5.2", Severity: "MUST", State: results.Failed,
				Failure:  "RFC 6749 §5.2 (MUST): status for a wrong Basic secret\nExpected\n    <int>: 400\nto equal\n    <int>: 401",
				Location: "suites/client_credentials.go:128",
				Evidence: failedEvidence,
				Output:   "--- token client_credentials: POST http://127.0.0.1:18080/token\n> Authorization: [REDACTED]\n< 401 Unauthorized\n",
				Duration: 1100 * time.Microsecond,
			},
			{
				Name: "client-credentials types JWT access tokens as at+jwt", Scenario: "client-credentials",
				Labels: []string{"client-credentials"}, Requirement: "RFC 9068 §2.1", Severity: "MUST", State: results.Skipped,
				SkipReason: `target sample does not declare capability "jwt_access_token"`,
			},
			{
				Name: "client-credentials reports the token lifetime", Scenario: "client-credentials",
				Labels: []string{"client-credentials"}, Requirement: "RFC 6749 §5.1", Severity: "INFO", State: results.Passed,
				Info:     []string{"expires_in: 3600"},
				Duration: 200 * time.Microsecond,
			},
		},
	}
	run.Summarize()
	return run
}

// SuiteFailure returns a run whose suite failed in setup, with no spec run.
func SuiteFailure() *results.Run {
	run := &results.Run{
		SchemaVersion: results.SchemaVersion,
		Kind:          results.KindConformance,
		Tool:          results.Tool{Name: "idpconform", Version: "v0.0.0-sample"},
		Target:        results.Target{Name: "unreachable", Issuer: "http://127.0.0.1:9"},
		StartedAt:     Start,
		EndedAt:       Start.Add(5 * time.Second),
		Specs:         []results.Spec{},
		SuiteFailure:  "BeforeSuite: suite setup: start embedded mock: listen tcp 127.0.0.1:9: bind: permission denied",
	}
	run.Summarize()
	return run
}

// histogramEdges are the latency histogram's bucket edges as the load
// engine writes them: 0, then 1-2-5 steps from 100µs to 50s.
func histogramEdges() []time.Duration {
	out := []time.Duration{0}
	for d := 100 * time.Microsecond; d <= 30*time.Second; d *= 10 {
		out = append(out, d, 2*d, 5*d)
	}
	return out
}

// loadStep builds a 10 s step at rate whose latencies centre on p50, with
// a time line of ten 1 s buckets and a histogram around p50.
func loadStep(name string, start time.Time, rate, attempted float64, p50 time.Duration, sent, ok uint64) results.LoadStep {
	st := results.LoadStep{
		Name: name, Model: "constant", RequestedRate: rate, PlannedDuration: 10 * time.Second,
		PlannedHits: uint64(rate * 10), StartedAt: start, Requests: sent, OK: ok,
		AttemptedRate: attempted, AttemptedRatio: attempted / rate,
		ScheduleLagP99: 300 * time.Microsecond, ScheduleLagMax: 2 * time.Millisecond,
		Valid: true, Success: float64(ok) / float64(sent), Throughput: float64(ok) / 10.02,
		Latency: results.LoadLatency{Mean: p50 + p50/5, P50: p50, P90: 2 * p50, P95: 3 * p50, P99: 5 * p50, P999: 8 * p50,
			Min: p50 / 4, Max: 10 * p50},
		StatusCodes: map[string]uint64{"200": ok},
		CPU: &results.LoadCPU{ProcessSeconds: float64(sent) * 0.0004, PerRequest: 400 * time.Microsecond,
			MachineBusyCores: 1.1, OtherBusyCores: 0.05},
	}
	for i := range 10 {
		// A step's latencies drift up as it runs, so the chart has a shape.
		drift := time.Duration(i) * p50 / 20
		st.TimeBuckets = append(st.TimeBuckets, results.LoadTimeBucket{
			Offset: time.Duration(i) * time.Second, Width: time.Second,
			Requests: sent / 10, OK: ok / 10, RequestedRate: rate, AttemptedRate: attempted,
			P50: p50 + drift, P90: 2*p50 + drift, P99: 5*p50 + 2*drift, Max: 10 * p50,
		})
	}
	edges := histogramEdges()
	for i, from := range edges {
		hb := results.LoadHistogramBucket{From: from}
		if i+1 < len(edges) {
			hb.To = edges[i+1]
		}
		switch {
		case from <= p50 && (hb.To == 0 || hb.To > p50):
			hb.Count = sent / 2
		case from > p50 && from <= 5*p50:
			hb.Count = sent / 5
		case hb.To != 0 && hb.To <= p50 && hb.To > p50/4:
			hb.Count = sent / 10
		}
		st.Histogram = append(st.Histogram, hb)
	}
	return st
}

// LoadSample returns a load run of two steps against the bundled mock: a
// valid 100/s step that meets its SLOs, and a 400/s step the generator
// could not send (invalid, so not judged on latency) with errors grouped
// by status and OAuth error code; uniqueness counts, a verification sample
// with one failure, and the generator's CPU. Every call returns a new
// value.
func LoadSample() *results.Run {
	s1 := loadStep("step 1 100/s", Start.Add(time.Second), 100, 99.9, 4*time.Millisecond, 999, 999)
	s1.Gates = []results.LoadGate{
		{Name: "valid rate", Scope: "step 1 100/s", Passed: true, Measured: "99.90/s attempted of 100/s requested (99.9%)",
			Message: "pass valid rate: 99.90/s attempted of 100/s requested (99.9%)"},
		{Name: "p99<=50ms", Scope: "step 1 100/s", Passed: true, Measured: "20ms", Margin: "30ms under the limit",
			Message: "pass p99<=50ms: measured 20ms, 30ms under the limit"},
		{Name: "success>=99%", Scope: "step 1 100/s", Passed: true, Measured: "100.000%", Margin: "1.000 points over the limit",
			Message: "pass success>=99%: measured 100.000%, 1.000 points over the limit"},
	}
	s2 := loadStep("step 2 400/s", Start.Add(12*time.Second), 400, 352, 30*time.Millisecond, 3520, 3490)
	s2.Valid = false
	s2.InvalidReason = "attempted 352/s is 88.0% of the requested 400/s (under 98%): the generator, not the target, was the bottleneck; its latencies do not judge the target. Raise --max-workers, lower the rate or shard the attack"
	s2.ScheduleLagP99, s2.ScheduleLagMax = 180*time.Millisecond, 420*time.Millisecond
	s2.StatusCodes = map[string]uint64{"200": 3490, "429": 20, "503": 10}
	s2.Errors = []results.LoadErrorGroup{
		{Status: 429, Message: "429 Too Many Requests", Count: 20},
		{Status: 503, OAuthError: "temporarily_unavailable", Message: "503 Service Unavailable: error=temporarily_unavailable", Count: 10},
	}
	s2.Gates = []results.LoadGate{{Name: "valid rate", Scope: "step 2 400/s", Passed: false,
		Measured: "352/s attempted of 400/s requested (88.0%)", Message: "FAIL valid rate: " + s2.InvalidReason}}
	for i := range s2.TimeBuckets {
		// The generator fell further behind as the step went on.
		s2.TimeBuckets[i].AttemptedRate = 400 - float64(10*i)
	}

	gates := append(append([]results.LoadGate(nil), s1.Gates...), s2.Gates...)
	gates = append(gates,
		results.LoadGate{Name: "throughput>=90/s", Scope: "step 1 100/s", Passed: true, Measured: "99.70/s", Margin: "9.70/s over the limit",
			Message: "pass throughput>=90/s: measured 99.70/s, 9.70/s over the limit"},
		results.LoadGate{Name: "unique access_token", Scope: "run", Passed: true, Measured: "0 duplicates in 4489",
			Message: "pass unique access_token: 4489 seen, all distinct"},
		results.LoadGate{Name: "verified sample", Scope: "run", Passed: false, Measured: "43 verified, 1 failed",
			Message: "FAIL verified sample: 1 of 44 sampled tokens failed: access_token: exp: expected a numeric date (1)"},
	)
	l := &results.Load{
		Scenario: "client-credentials", Client: "cc", Endpoint: "http://127.0.0.1:18080/token", Model: "steps", SigningAlg: "ES256",
		Generator: results.LoadGenerator{HTTPVersion: "HTTP/1.1", Protocols: map[string]uint64{"HTTP/1.1": 4519},
			Workers: 10, MaxWorkers: 512, Timeout: 10 * time.Second, MinAttemptedRatio: 0.98,
			CPUScope: "idpconform process (the load generator and the embedded mock)", NumCPU: 2, GOMAXPROCS: 2},
		SLOs:       []string{"p99<=50ms", "success>=99%", "throughput>=90/s"},
		Steps:      []results.LoadStep{s1, s2},
		Uniqueness: []results.LoadUniqueness{{Kind: "access_token", Seen: 4489, Unique: 4489}, {Kind: "access_token jti", Seen: 4489, Unique: 4489}},
		Verification: results.LoadVerification{Every: 100, Contract: "rfc9068-access-token", Offered: 45, Verified: 43, Failed: 1, Dropped: 1,
			Failures: []results.LoadVerifyGroup{{Reason: "access_token: exp: expected a numeric date", Count: 1}}},
		Gates: gates,
		Files: []string{"idpconform-load/results.bin"},
	}
	return loadRun(l)
}

// CapacitySample returns a find-capacity run merged from two shards'
// files: probes doubling from 50/s, the capacity found at 200/s, bounded by
// the p99 SLO at 400/s.
func CapacitySample() *results.Run {
	var steps []results.LoadStep
	at := Start
	for i, rate := range []float64{50, 100, 200, 400, 400, 300} {
		p50 := 3 * time.Millisecond
		if rate >= 300 {
			p50 = 40 * time.Millisecond
		}
		name := fmt.Sprintf("probe %d %s/s", i+1, strconv.FormatFloat(rate, 'f', -1, 64))
		if i == 4 {
			name += " (retry)"
		}
		st := loadStep(name, at, rate, rate, p50, uint64(rate*10), uint64(rate*10))
		st.Model = "probe"
		pass := rate <= 200
		st.Gates = []results.LoadGate{
			{Name: "valid rate", Scope: name, Passed: true, Message: "pass valid rate"},
			{Name: "p99<=100ms", Scope: name, Passed: pass, Measured: (5 * p50).String(), Message: fmt.Sprintf("p99<=100ms: measured %s", 5*p50)},
		}
		steps = append(steps, st)
		at = at.Add(11 * time.Second)
	}
	l := &results.Load{
		Scenario: "client-credentials", Endpoint: "https://idp.example/oauth2/token", Model: "find-capacity",
		Generator:  results.LoadGenerator{HTTPVersion: "HTTP/2", Workers: 10, MaxWorkers: 512, Timeout: 5 * time.Second, MinAttemptedRatio: 0.98, NumCPU: 8, GOMAXPROCS: 8},
		MergedFrom: []string{"run/shard-0-of-2.bin", "run/shard-1-of-2.bin"},
		SLOs:       []string{"p99<=100ms"},
		Steps:      steps,
		Capacity: &results.LoadCapacity{Found: true, Rate: 200, Throughput: 199.6, Bound: "slo", Probes: 6,
			Detail: "at 300/s the target failed: p99<=100ms: measured 200ms, 100ms over the limit"},
		Uniqueness:   []results.LoadUniqueness{},
		Verification: results.LoadVerification{},
		Gates: []results.LoadGate{{Name: "capacity found", Scope: "run", Passed: true, Measured: "200/s",
			Message: "pass capacity found: 200/s (at 300/s the target failed: p99<=100ms: measured 200ms, 100ms over the limit)"}},
	}
	run := loadRun(l)
	run.Target = results.Target{Name: "staging-idp", Issuer: "https://idp.example"}
	return run
}

// loadRun wraps l as the load command does: each gate a spec.
func loadRun(l *results.Load) *results.Run {
	run := &results.Run{
		SchemaVersion: results.SchemaVersion, Kind: results.KindLoad,
		Tool:      results.Tool{Name: "idpconform", Version: "v0.0.0-sample"},
		Target:    results.Target{Name: "mock", Issuer: "http://127.0.0.1:18080", MockProfile: "generic", File: "fixtures/targets/mock.yaml"},
		StartedAt: Start, EndedAt: Start.Add(23 * time.Second), Specs: []results.Spec{}, Load: l,
	}
	for _, g := range l.Gates {
		sp := results.Spec{Name: g.Name + " [" + g.Scope + "]", Scenario: "load", Labels: []string{"load", l.Scenario},
			Requirement: "SLO", Severity: "MUST", State: results.Passed, Info: []string{g.Message}}
		if !g.Passed {
			sp.State, sp.Failure, sp.Info = results.Failed, g.Message, nil
		}
		run.Specs = append(run.Specs, sp)
	}
	run.Summarize()
	return run
}
