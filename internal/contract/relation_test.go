package contract

import (
	"strings"
	"testing"
	"time"
)

const relational = `name: rel
kind: id_token
source: test
claims:
  sub: {type: string, presence: mandatory}
  aud: {type: audience, presence: mandatory}
  exp: {type: numeric_date, presence: mandatory}
  iat: {type: numeric_date, presence: mandatory}
  tid: {type: string}
  at_hash: {type: string}
  accounts: {type: string_array}
relations:
  - {rule: aud_contains_client}
  - {rule: exp_after_iat}
  - {rule: lifetime, source: declared}
  - {rule: equal, claims: [tid, aud]}
  - {rule: at_hash}
  - {rule: stable, claim: sub}
  - {rule: stable, claim: accounts, per: sub, across: [refresh]}
`

func TestRelations(t *testing.T) {
	c := parse(t, relational)
	const access = "an-access-token-0123456789"
	hash, err := AtHash("RS256", access)
	if err != nil {
		t.Fatal(err)
	}
	cx := Context{ClientID: "client-1", TTL: time.Hour, Skew: 5 * time.Second, AccessToken: access, Alg: "RS256"}
	good := `{"sub":"s","aud":"client-1","exp":1700003600,"iat":1700000000,"tid":"client-1","at_hash":"` + hash + `"}`
	if v := Violations(c.CheckWith(decode(t, good), cx)); len(v) != 0 {
		t.Fatalf("good token: %v", v)
	}
	// Each case breaks one relation; the finding names its claim and rule
	// and never the claim's value.
	cases := []struct {
		name, js, claim, rule, msg string
		cx                         Context
	}{
		{"aud", `{"sub":"s","aud":"someone-else","exp":1700003600,"iat":1700000000}`, "aud", "relation:aud_contains_client", "does not contain the client", cx},
		{"exp before iat", `{"sub":"s","aud":"client-1","exp":1700000000,"iat":1700000000}`, "exp", "relation:exp_after_iat", "exp is not after iat", Context{}},
		{"lifetime", `{"sub":"s","aud":"client-1","exp":1700007200,"iat":1700000000}`, "exp", "relation:lifetime", "exp - iat is 7200s, the declared lifetime is 3600s", cx},
		{"equal", `{"sub":"s","aud":"client-1","exp":1700003600,"iat":1700000000,"tid":"tenant-9"}`, "tid", "relation:equal(tid, aud)", "tid and aud differ", Context{}},
		{"at_hash", `{"sub":"s","aud":"client-1","exp":1700003600,"iat":1700000000,"at_hash":"AAAAAAAAAAAAAAAAAAAAAA"}`, "at_hash", "relation:at_hash", "does not match the access token", cx},
	}
	for _, tc := range cases {
		v := Violations(c.CheckWith(decode(t, tc.js), tc.cx))
		if len(v) != 1 || v[0].Claim != tc.claim || v[0].Rule != tc.rule || !strings.Contains(v[0].Message, tc.msg) {
			t.Errorf("%s: got %+v, want %s %s %q", tc.name, v, tc.claim, tc.rule, tc.msg)
			continue
		}
		for _, value := range []string{"someone-else", "tenant-9", "1700000000", "client-1"} {
			if strings.Contains(v[0].Message, value) {
				t.Errorf("%s: finding prints a claim value: %s", tc.name, v[0].Message)
			}
		}
	}
	// Without context, context relations are not evaluated: Check keeps
	// its meaning for callers that know no client.
	if v := Violations(c.Check(decode(t, cases[0].js))); len(v) != 0 {
		t.Errorf("Check evaluated a context relation: %v", v)
	}
	// Within skew is fine; just past it is not.
	within := `{"sub":"s","aud":"client-1","exp":1700003604,"iat":1700000000}`
	past := `{"sub":"s","aud":"client-1","exp":1700003606,"iat":1700000000}`
	if v := Violations(c.CheckWith(decode(t, within), cx)); len(v) != 0 {
		t.Errorf("within skew: %v", v)
	}
	if v := Violations(c.CheckWith(decode(t, past), cx)); len(v) != 1 {
		t.Errorf("past skew: %v", v)
	}
}

func TestSeries(t *testing.T) {
	c := parse(t, relational)
	obs := func(user string, step Step, js string) Observation {
		return Observation{Subject: user, Step: step, Claims: decode(t, js)}
	}
	stable := []Observation{
		obs("alice", StepLogin, `{"sub":"a1","accounts":["x","y"]}`),
		obs("alice", StepRefresh, `{"sub":"a1","accounts":["y","x"]}`),
		obs("alice", StepRelogin, `{"sub":"a1","accounts":["x","y"]}`),
		obs("bob", StepLogin, `{"sub":"b1","accounts":["z"]}`),
		obs("bob", StepRefresh, `{"sub":"b1","accounts":["z"]}`),
	}
	if fs := c.CheckSeries(stable); len(fs) != 0 {
		t.Fatalf("stable series: %v", fs)
	}
	unstableSub := []Observation{
		obs("alice", StepLogin, `{"sub":"a1"}`),
		obs("alice", StepRefresh, `{"sub":"a2"}`),
		obs("alice", StepRelogin, `{"sub":"a3"}`),
	}
	fs := c.CheckSeries(unstableSub)
	if len(fs) != 2 || fs[0].Claim != "sub" || !strings.Contains(fs[0].Message+fs[1].Message, "changed on refresh") || !strings.Contains(fs[0].Message+fs[1].Message, "changed on a new login") {
		t.Errorf("unstable sub: %v", fs)
	}
	unstableAccounts := []Observation{
		obs("alice", StepLogin, `{"sub":"a1","accounts":["x"]}`),
		obs("alice", StepRefresh, `{"sub":"a1","accounts":["q"]}`),
		// across: [refresh] only: a new login may change accounts.
		obs("alice", StepRelogin, `{"sub":"a1","accounts":["r"]}`),
	}
	fs = c.CheckSeries(unstableAccounts)
	if len(fs) != 1 || fs[0].Claim != "accounts" || fs[0].Rule != "relation:stable(accounts per sub)" || !strings.Contains(fs[0].Message, "for the same sub (1 of") {
		t.Errorf("unstable accounts: %v", fs)
	}
	// A dropped claim is a change too.
	dropped := []Observation{obs("alice", StepLogin, `{"sub":"a1","accounts":["x"]}`), obs("alice", StepRefresh, `{"sub":"a1"}`)}
	if fs := c.CheckSeries(dropped); len(fs) != 1 || fs[0].Claim != "accounts" {
		t.Errorf("dropped accounts: %v", fs)
	}
}

func TestRelationErrors(t *testing.T) {
	cases := map[string]string{
		strings.Replace(relational, "rule: exp_after_iat", "rule: exp_after_iatt", 1):                             `c.yaml:14:12: relations[1].rule: unknown relation "exp_after_iatt"`,
		strings.Replace(relational, "claims: [tid, aud]", "claims: [tenant, aud]", 1):                             `relations[3].claims: relation equal needs claim "tenant"`,
		strings.Replace(relational, "claims: [tid, aud]", "claims: [tid]", 1):                                     `relation equal compares two claims`,
		strings.Replace(relational, "claim: accounts, per: sub", "claim: acounts", 1):                             `relation stable needs claim "acounts"`,
		strings.Replace(relational, "across: [refresh]", "across: [reload]", 1):                                   `relations[6].across[0]: unknown step "reload"`,
		strings.Replace(relational, "{rule: exp_after_iat}", "{rule: exp_after_iat, claim: sub}", 1):              `relations[1].claim: relation exp_after_iat takes no claim`,
		strings.Replace(relational, "{rule: lifetime, source: declared}", "{rule: lifetime, sauce: declared}", 1): `did you mean "source"`,
		strings.Replace(relational, "tid: {type: string}", "tid: {type: boolean, min_length: 2}", 1):              `claims.tid.min_length: min_length applies to strings and arrays`,
		strings.Replace(relational, "tid: {type: string}", "tid: {type: string, min_entropy: -1}", 1):             `claims.tid.min_entropy: min_entropy is a number of bits`,
		strings.Replace(relational, "tid: {type: string}", "tid: {type: any, strict: true}", 1):                   `claims.tid.strict: strict has no meaning for type any`,
	}
	for src, want := range cases {
		_, err := Parse("c.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v\nwant %q", err, want)
		}
	}
	if _, err := Parse("c.yaml", []byte(relational)); err != nil {
		t.Errorf("the unchanged contract is refused: %v", err)
	}
}

func TestEntropy(t *testing.T) {
	c := parse(t, "name: e\nkind: token_response\nclaims:\n  access_token: {type: string, min_entropy: 96}\n")
	weak := []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "abababababababababababab", "token-1"}
	strong := []string{
		"Zk9x3QhT7uVw2LpR8sYb1NcA5eJm0GdKfHqXoUiWtE4", // 32 random bytes, base64url
		"3f7a9c2e-41b8-4d6e-9a0f-c5d2e8b17a34",        // a UUID
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMzYwMH0.c2lnbmF0dXJl",
	}
	for _, s := range weak {
		if v := Violations(c.Check(map[string]any{"access_token": s})); len(v) != 1 || v[0].Rule != RuleMinEntropy {
			t.Errorf("weak %q: %v (%.0f bits)", s, v, EntropyBits(s))
		}
	}
	for _, s := range strong {
		if v := Violations(c.Check(map[string]any{"access_token": s})); len(v) != 0 {
			t.Errorf("strong %q: %v (%.0f bits)", s, v, EntropyBits(s))
		}
	}
}
