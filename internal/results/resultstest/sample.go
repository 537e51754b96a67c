// Package resultstest builds results.Run values for tests of the writers
// and the schema: fixed times and contents, so their output is the same on
// every machine and can be compared with golden files.
package resultstest

import (
	"encoding/json"
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
