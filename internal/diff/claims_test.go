package diff_test

import (
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/diff"
	"github.com/idpconform/idpconform/internal/results"
)

// testContract is the old side's ID token contract in the claim-pair
// table: Akoya's mandatory and optional claims, a forbidden one, a strict
// one.
const testContract = `name: test-id-token
kind: id_token
source: seed 000
claims:
  sub: {type: string, presence: mandatory, min_length: 8}
  aud: {type: audience, presence: mandatory}
  exp: {type: numeric_date, presence: mandatory}
  iat: {type: numeric_date, presence: mandatory}
  connectorId: {type: string, presence: mandatory, min_length: 1}
  products: {type: string_array, presence: mandatory}
  accounts: {type: string_array, presence: optional}
  debug: {type: any, presence: forbidden}
  count: {type: integer, strict: true}
`

// side builds a baseline holding one ID token shape from a JSON sample.
func side(t *testing.T, ct *contract.Contract, claims string) *baseline.Baseline {
	t.Helper()
	s, err := baseline.ObjectShape(baseline.KindIDToken, baseline.FlowAuthorizationCode, "code", baseline.FormatJWT, []byte(claims))
	if err != nil {
		t.Fatal(err)
	}
	b := &baseline.Baseline{Format: baseline.Format, Version: baseline.Version, CapturedAt: time.Unix(1700000000, 0).UTC(),
		Target:  baseline.Target{Name: "t"},
		SubKey:  baseline.SubKey{ID: "k", Source: baseline.KeyProvided},
		Flows:   []baseline.Flow{{Name: baseline.FlowAuthorizationCode, Client: "code", Status: baseline.FlowOK}},
		Shapes:  []baseline.Shape{s},
		Probes:  []baseline.Probe{},
		Latency: []baseline.Latency{},
		// One user with the same sub on every side: continuity holds.
		Users: []baseline.User{{Ref: "users[0]", LabelHash: "user-hash", SubHash: "sub-hash-0123456789"}},
	}
	if ct != nil {
		b.Contracts = map[string]*contract.Contract{baseline.KindIDToken: ct}
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	return b
}

const base = `{"sub":"CghtaWtvbW9fNhIGbWlrb21v","aud":"fintech_app","exp":1689881094,"iat":1689794694,"connectorId":"mikomo","products":["TRANSACTIONS"],"accounts":["1755209824"],"rat":1689794644,"count":3}`

// TestClaimPairs classifies the change between pairs of claim sets, each
// with the class seed 000 and the contract give it.
func TestClaimPairs(t *testing.T) {
	ct, err := contract.Parse("test.yaml", []byte(testContract))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		new      string
		id       string // the difference that must be filed
		class    string
		rule     string // a part of its rule
		breaking bool   // whether the diff fails under the default policy
	}{
		{"added claim", `{"sub":"CghtaWtvbW9fNhIGbWlrb21v","aud":"fintech_app","exp":1689881094,"iat":1689794694,"connectorId":"mikomo","products":["TRANSACTIONS"],"accounts":["1755209824"],"rat":1689794644,"count":3,"grant_id":"7a85a7a6"}`,
			"claim/id_token.authorization_code.code/grant_id", results.ClassNonBreaking, "seed 000: addition of net-new claims", false},
		{"reordered claims", `{"count":3,"rat":1689794644,"accounts":["1755209824"],"products":["TRANSACTIONS"],"connectorId":"mikomo","iat":1689794694,"exp":1689881094,"aud":"fintech_app","sub":"CghtaWtvbW9fNhIGbWlrb21v"}`,
			"claim/id_token.authorization_code.code/(order)", results.ClassNonBreaking, "seed 000: changes to the order", false},
		{"lengthened opaque", strings.Replace(base, "CghtaWtvbW9fNhIGbWlrb21v", "a-much-longer-opaque-subject-in-another-format-1234567890", 1),
			"claim/id_token.authorization_code.code/sub", results.ClassNonBreaking, "seed 000: changes to the length or format of opaque strings", false},
		{"opaque under the minimum", strings.Replace(base, "CghtaWtvbW9fNhIGbWlrb21v", "short", 1),
			"claim/id_token.authorization_code.code/sub", results.ClassBreaking, "min_length", true},
		{"aud string to array", strings.Replace(base, `"fintech_app"`, `["fintech_app","other"]`, 1),
			"claim/id_token.authorization_code.code/aud", results.ClassNonBreaking, "RFC 7519 §4.1.3", false},
		{"dropped mandatory", strings.Replace(base, `"connectorId":"mikomo",`, "", 1),
			"claim/id_token.authorization_code.code/connectorId", results.ClassBreaking, "presence mandatory", true},
		{"dropped optional", strings.Replace(base, `"accounts":["1755209824"],`, "", 1),
			"claim/id_token.authorization_code.code/accounts", results.ClassWarning, "presence optional", false},
		{"dropped unknown", strings.Replace(base, `"rat":1689794644,`, "", 1),
			"claim/id_token.authorization_code.code/rat", results.ClassWarning, "not in the contracts", false},
		{"type change", strings.Replace(base, `"products":["TRANSACTIONS"]`, `"products":"TRANSACTIONS"`, 1),
			"claim/id_token.authorization_code.code/products", results.ClassBreaking, "contract test-id-token (old side)", true},
		{"numeric date fraction", strings.Replace(base, `"exp":1689881094`, `"exp":1689881094.5`, 1),
			"claim/id_token.authorization_code.code/exp", results.ClassNonBreaking, "contract test-id-token", false},
		{"strict integer to number", strings.Replace(base, `"count":3`, `"count":3.5`, 1),
			"claim/id_token.authorization_code.code/count", results.ClassBreaking, "contract test-id-token", true},
		{"unknown claim type change", strings.Replace(base, `"rat":1689794644`, `"rat":"1689794644"`, 1),
			"claim/id_token.authorization_code.code/rat", results.ClassWarning, "not in the contracts", false},
		{"new forbidden claim", strings.Replace(base, `"count":3`, `"count":3,"debug":true`, 1),
			"claim/id_token.authorization_code.code/debug", results.ClassBreaking, "presence forbidden", true},
	}
	old := side(t, ct, base)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := diff.Compare(old, side(t, nil, tc.new), diff.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got *results.Difference
			for i, x := range d.Differences {
				if x.ID == tc.id {
					got = &d.Differences[i]
				}
			}
			if got == nil {
				t.Fatalf("no difference %s in %+v", tc.id, d.Differences)
			}
			if got.Class != tc.class || !strings.Contains(got.Rule, tc.rule) || got.Reason == "" {
				t.Errorf("got %s (%s; rule %q), want %s with rule %q", got.Class, got.Reason, got.Rule, tc.class, tc.rule)
			}
			if d.Failed != tc.breaking {
				t.Errorf("failed = %v, want %v: %+v", d.Failed, tc.breaking, d.Differences)
			}
		})
	}
	// The twin of every case: the same claims give no difference at all.
	d, err := diff.Compare(old, side(t, nil, base), diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range d.Differences {
		if x.Category == diff.CatClaim {
			t.Errorf("identical claims differ: %+v", x)
		}
	}
}

// TestStringLengthChanges: seed 000's rule on opaque strings covers only
// claims a contract marks opaque (min_length or min_entropy); another
// string's length change (a display name) is info, never citing it.
func TestStringLengthChanges(t *testing.T) {
	ct, err := contract.Parse("test.yaml", []byte(`name: test-id-token
kind: id_token
claims:
  sub: {type: string, presence: mandatory, min_length: 8}
  sid: {type: string, min_entropy: 20}
  name: {type: string}
`))
	if err != nil {
		t.Fatal(err)
	}
	const claims = `{"sub":"CghtaWtvbW9fNhIGbWlrb21v","sid":"f3Kq9ZpX2mLw","name":"Ann Lee","acr":"urn:a"}`
	cases := []struct {
		name, from, to string
		item, class    string
		rule           string // a part of its rule
		opaque         bool   // whether the rule cites seed 000's opaque strings
	}{
		{"opaque by min_length", "CghtaWtvbW9fNhIGbWlrb21v", "a-much-longer-opaque-subject-1234567890", "sub", results.ClassNonBreaking, "contract test-id-token (old side): opaque", true},
		{"opaque by min_entropy", "f3Kq9ZpX2mLw", "f3Kq9ZpX2mLwQ8vR4tYb", "sid", results.ClassNonBreaking, "contract test-id-token (old side): opaque", true},
		{"display name", "Ann Lee", "Annabelle Lee-Hughes", "name", results.ClassInfo, "contract test-id-token (old side): type string, no min_length or min_entropy", false},
		{"in no contract", "urn:a", "urn:example:acr:high", "acr", results.ClassInfo, "not in the contracts", false},
	}
	old := side(t, ct, claims)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			changed := strings.Replace(claims, `"`+tc.from+`"`, `"`+tc.to+`"`, 1)
			if changed == claims {
				t.Fatalf("%q is not in the claims", tc.from)
			}
			d, err := diff.Compare(old, side(t, nil, changed), diff.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []results.Difference
			for _, x := range d.Differences {
				if x.Category == diff.CatClaim {
					got = append(got, x)
				}
			}
			if len(got) != 1 || got[0].Item != tc.item || got[0].Change != "length changed" {
				t.Fatalf("want one length change of %s, got %+v", tc.item, got)
			}
			g := got[0]
			if g.Class != tc.class || !strings.Contains(g.Rule, tc.rule) || g.Reason == "" {
				t.Errorf("got %s (%s; rule %q), want %s with rule %q", g.Class, g.Reason, g.Rule, tc.class, tc.rule)
			}
			if cites := strings.Contains(g.Rule, "opaque strings"); cites != tc.opaque {
				t.Errorf("rule %q cites seed 000's opaque strings: %v, want %v", g.Rule, cites, tc.opaque)
			}
			if d.Failed {
				t.Errorf("a length change failed the diff: %+v", g)
			}
		})
	}
}

// The policy: --fail-on tightens and loosens, --accept lets a known
// difference through.
func TestPolicy(t *testing.T) {
	ct, err := contract.Parse("test.yaml", []byte(testContract))
	if err != nil {
		t.Fatal(err)
	}
	old := side(t, ct, base)
	dropped := side(t, nil, strings.Replace(base, `"accounts":["1755209824"],`, "", 1))   // a warning
	breaking := side(t, nil, strings.Replace(base, `"connectorId":"mikomo",`, "", 1))     // breaking
	added := side(t, nil, strings.Replace(base, `"count":3`, `"count":3,"extra":"x"`, 1)) // non-breaking
	cases := []struct {
		name   string
		new    *baseline.Baseline
		o      diff.Options
		failed bool
	}{
		{"warning passes by default", dropped, diff.Options{}, false},
		{"warning fails with --fail-on warning", dropped, diff.Options{FailOn: "warning"}, true},
		{"breaking fails by default", breaking, diff.Options{}, true},
		{"breaking passes with --fail-on none", breaking, diff.Options{FailOn: "none"}, false},
		{"breaking accepted", breaking, diff.Options{Accept: []string{"claim/*/connectorId"}}, false},
		{"another acceptance does not cover it", breaking, diff.Options{Accept: []string{"claim/*/accounts"}}, true},
		{"non-breaking passes --fail-on warning", added, diff.Options{FailOn: "warning"}, false},
		{"non-breaking fails --fail-on non-breaking", added, diff.Options{FailOn: "non-breaking"}, true},
	}
	for _, tc := range cases {
		d, err := diff.Compare(old, tc.new, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if d.Failed != tc.failed {
			t.Errorf("%s: failed = %v, want %v", tc.name, d.Failed, tc.failed)
		}
	}
	if _, err := diff.Compare(old, old, diff.Options{FailOn: "sometimes"}); err == nil || !strings.Contains(err.Error(), "breaking, warning, non-breaking, info or none") {
		t.Errorf("bad --fail-on: %v", err)
	}
	if _, err := diff.Compare(old, old, diff.Options{Accept: []string{"claim/["}}); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

func TestGates(t *testing.T) {
	good := map[string]diff.Gate{
		"p99<=1.2x":                         {Metric: "p99", Factor: 1.2},
		"token:p50<=1.5x+2ms":               {Operation: "token", Metric: "p50", Factor: 1.5, Slack: 2 * time.Millisecond},
		" token.client_credentials:max<=2x": {Operation: "token.client_credentials", Metric: "max", Factor: 2},
	}
	for in, want := range good {
		g, err := diff.ParseGate(in)
		want.Text = strings.TrimSpace(in)
		if err != nil || g != want {
			t.Errorf("%q: got %+v %v, want %+v", in, g, err, want)
		}
	}
	for _, bad := range []string{"p99<1.2x", "p99<=1.2", "p98<=2x", "p99<=0x", "p99<=2x+fast", "p99>=2x", ""} {
		if _, err := diff.ParseGate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	lat := func(op string, p99 float64) baseline.Latency {
		return baseline.Latency{Operation: op, Samples: 20, P50: p99 / 2, P90: p99, P95: p99, P99: p99, Max: p99}
	}
	old, slow := side(t, nil, base), side(t, nil, base)
	old.Latency = []baseline.Latency{lat("token.client_credentials", 10), lat("jwks", 1)}
	slow.Latency = []baseline.Latency{lat("token.client_credentials", 13), lat("jwks", 1)}
	gates, err := diff.ParseGates([]string{"token:p99<=1.2x", "jwks:p99<=1.2x", "userinfo:p99<=2x"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := diff.Compare(old, slow, diff.Options{Gates: gates})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Failed || len(d.Gates) != 2 || d.Gates[0].Passed || !d.Gates[1].Passed || d.Gates[0].Limit != 12 {
		t.Errorf("gates: %+v", d.Gates)
	}
	var unmatched bool
	for _, x := range d.Differences {
		if x.Category == diff.CatLatency && x.Change == "not evaluated" && strings.Contains(x.Subject, "userinfo") {
			unmatched = x.Class == results.ClassWarning
		}
	}
	if !unmatched {
		t.Errorf("a gate matching nothing is not reported: %+v", d.Differences)
	}
	// The twin: with slack the slower side passes.
	gates, _ = diff.ParseGates([]string{"token:p99<=1.2x+2ms"})
	if d, _ := diff.Compare(old, slow, diff.Options{Gates: gates}); d.Failed {
		t.Errorf("slack not applied: %+v", d.Gates)
	}
	if len(d.Latency) != 2 || d.Latency[0].Ratio != 1.3 || d.Latency[1].Ratio != 1 {
		t.Errorf("latency rows: %+v", d.Latency)
	}
}
