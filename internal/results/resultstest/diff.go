package resultstest

import (
	"time"

	"github.com/idpconform/idpconform/internal/diff"
	"github.com/idpconform/idpconform/internal/results"
)

// Diff returns a migration diff run (kind diff) from the akoya-legacy mock
// to the akoya mock with a dropped mandatory claim: one difference of each
// class, an accepted one, sub continuity checked, latency with a failed
// gate. Every call returns a new value.
func Diff() *results.Run {
	side := func(name, profile string, drift []string, at time.Time) results.DiffSide {
		return results.DiffSide{Name: name, Source: "target", File: "fixtures/targets/" + name + ".yaml", CapturedAt: at, Tool: "idpconform test",
			MockProfile: profile, MockDrift: drift, SubKeyID: "AxhcmLQlbS8b", SubKeySource: "generated"}
	}
	d := &results.Diff{
		Old:    side("mock-akoya-legacy", "akoya-legacy", nil, Start),
		New:    side("mock-akoya", "akoya", []string{"drop-claim=recipientId"}, Start.Add(2*time.Second)),
		FailOn: results.ClassBreaking,
		Accept: []string{"error/*/error_description"},
		Differences: []results.Difference{
			{ID: "claim/id_token.authorization_code.code/sub", Class: results.ClassBreaking, Category: diff.CatClaim,
				Subject: "id_token from authorization_code (client code)", Item: "sub", Change: "dropped", Old: "string, in all 4 samples", New: "absent",
				Reason: "the contract makes this claim mandatory; clients reading it break", Rule: "contract akoya-legacy-id-token (old side), Akoya, seed 002: presence mandatory", Fails: true},
			{ID: "latency/token.client_credentials/p99<=1.2x", Class: results.ClassBreaking, Category: diff.CatLatency,
				Subject: "latency of token.client_credentials", Item: "p99", Change: "slower than the gate allows", Old: "p99 1.200 ms (21 samples)", New: "p99 2.400 ms (21 samples)",
				Reason: "2.400 ms is above the limit 1.440 ms", Rule: "latency gate p99<=1.2x (--latency)", Fails: true},
			{ID: "claim/id_token.authorization_code.code/email", Class: results.ClassWarning, Category: diff.CatClaim,
				Subject: "id_token from authorization_code (client code)", Item: "email", Change: "dropped", Old: "string, in all 4 samples", New: "absent",
				Reason: "the contract makes this claim optional, so clients must cope without it; any that read it lose it", Rule: "contract akoya-legacy-id-token (old side): presence optional"},
			{ID: "claim/id_token.authorization_code.code/connectorId", Class: results.ClassNonBreaking, Category: diff.CatClaim,
				Subject: "id_token from authorization_code (client code)", Item: "connectorId", Change: "added", Old: "absent", New: "string, in all 4 samples",
				Reason: "a new claim; clients must ignore claims they do not know", Rule: "seed 000: addition of net-new claims is non-breaking"},
			{ID: "claim/id_token.authorization_code.code/aud", Class: results.ClassNonBreaking, Category: diff.CatClaim,
				Subject: "id_token from authorization_code (client code)", Item: "aud", Change: "type string → string_array", Old: "string", New: "string_array",
				Reason: "the contract's type audience accepts a string or an array of strings", Rule: "RFC 7519 §4.1.3"},
			{ID: "keys/jwks/kid", Class: results.ClassInfo, Category: diff.CatKeys, Subject: "signing keys (JWKS)", Item: "kid", Change: "other keys",
				Old: "1 key", New: "1 key", Reason: "kids are opaque; verifiers pick the key named by the token's kid from the JWKS", Rule: "RFC 7515 §4.1.4"},
			{ID: "error/token.invalid_code/error_description", Class: results.ClassInfo, Category: diff.CatError, Subject: "error probe token.invalid_code",
				Item: "error_description", Change: "description changed", Old: "code expired", New: "authorization code is invalid or expired",
				Reason: "a human-readable text for developers; clients must not parse it", Rule: "RFC 6749 §5.2 (error_description)", Accepted: true},
		},
		Continuity: results.Continuity{Checked: true, Reason: "the same 2 users kept their sub", Users: 2, Same: 2},
		Latency: []results.DiffLatency{
			{Operation: "jwks", OldSamples: 21, NewSamples: 21, OldP50: 0.2, NewP50: 0.21, OldP99: 0.8, NewP99: 0.7, Ratio: 0.88},
			{Operation: "token.client_credentials", OldSamples: 21, NewSamples: 21, OldP50: 1.1, NewP50: 2.2, OldP99: 1.2, NewP99: 2.4, Ratio: 2},
		},
		Gates: []results.DiffGate{
			{Gate: "p99<=1.2x", Operation: "jwks", Old: 0.8, New: 0.7, Limit: 0.96, Passed: true},
			{Gate: "p99<=1.2x", Operation: "token.client_credentials", Old: 1.2, New: 2.4, Limit: 1.44},
		},
		Failed: true,
	}
	d.Count()
	return diff.ToRun(d, results.Tool{Name: "idpconform", Version: "v0.0.0-test"}, Start, Start.Add(4*time.Second))
}
