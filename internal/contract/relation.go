package contract

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Relation is a rule between claims, or between a claim and what the flow
// that obtained the token knows (the client, the declared lifetime, the
// access token issued beside it, the tokens obtained before it).
//
// Relations never print a claim's value in a finding: findings end up in
// baselines and reports, and claim values can be personal data.
type Relation struct {
	// Rule names the relation (RelationRules).
	Rule RelationRule `yaml:"rule" json:"rule"`
	// Claims are the two claims an "equal" relation compares.
	Claims []string `yaml:"claims" json:"claims,omitempty"`
	// Claim is the claim a "stable" relation follows.
	Claim string `yaml:"claim" json:"claim,omitempty"`
	// Per is the claim that keys a "stable" relation: accounts are stable
	// for a given sub. Empty: stable per test user.
	Per string `yaml:"per" json:"per,omitempty"`
	// Across lists the steps a "stable" claim must survive: refresh,
	// relogin. Empty: both.
	Across []Step `yaml:"across" json:"across,omitempty"`
	// Source names the document behind the relation, for reports.
	Source string `yaml:"source" json:"source,omitempty"`
}

// RelationRule names a relation.
type RelationRule string

const (
	// RelAudContainsClient: aud is the client_id or an array holding it
	// (OIDC Core §3.1.3.7 step 3; RFC 7519 §4.1.3).
	RelAudContainsClient RelationRule = "aud_contains_client"
	// RelExpAfterIat: exp is later than iat (RFC 7519 §4.1.4, §4.1.6).
	RelExpAfterIat RelationRule = "exp_after_iat"
	// RelLifetime: exp - iat equals the lifetime the target declares for
	// the client, within the target's clock skew.
	RelLifetime RelationRule = "lifetime"
	// RelEqual: two claims hold the same value (Akkess: tid == aud).
	RelEqual RelationRule = "equal"
	// RelAtHash: at_hash is the left half of the hash of the access token
	// issued in the same response (OIDC Core §3.1.3.8).
	RelAtHash RelationRule = "at_hash"
	// RelStable: a claim keeps its value across refreshes and new logins of
	// the same user (or for the same value of Per).
	RelStable RelationRule = "stable"
)

// RelationRules lists every relation rule.
var RelationRules = []RelationRule{RelAudContainsClient, RelExpAfterIat, RelLifetime, RelEqual, RelAtHash, RelStable}

// Step is how a token in a series was obtained.
type Step string

const (
	// StepLogin is the first token of a user (authorization code flow).
	StepLogin Step = "login"
	// StepRefresh is a token from a refresh token grant.
	StepRefresh Step = "refresh"
	// StepRelogin is a token from a new, separate login of the same user.
	StepRelogin Step = "relogin"
)

// stableSteps are the steps a stable relation may name in Across.
var stableSteps = []Step{StepRefresh, StepRelogin}

// Context is what the flow knows about a token beyond its claims. A zero
// field means unknown, and the relations needing it are not evaluated.
type Context struct {
	// ClientID is the client the token was issued to.
	ClientID string
	// TTL is the lifetime the target declares for this kind of token.
	TTL time.Duration
	// Skew is the tolerance of time comparisons.
	Skew time.Duration
	// AccessToken is the access token issued in the same response.
	AccessToken string
	// Alg is the JWS alg of the token (selects the at_hash hash).
	Alg string
}

// Observation is one token of a series, for the stable relations.
type Observation struct {
	// Subject names who the token is for (a test user), as the caller
	// knows it; never written into findings.
	Subject string
	Step    Step
	Claims  map[string]any
}

func (r Relation) name() string {
	switch r.Rule {
	case RelEqual:
		return fmt.Sprintf("%s(%s)", r.Rule, strings.Join(r.Claims, ", "))
	case RelStable:
		s := fmt.Sprintf("%s(%s", r.Rule, r.Claim)
		if r.Per != "" {
			s += " per " + r.Per
		}
		return s + ")"
	}
	return string(r.Rule)
}

// RuleName is the Finding.Rule of a relation's findings: "relation:" and
// the relation, e.g. "relation:equal(tid, aud)".
func (r Relation) RuleName() string { return "relation:" + r.name() }

// subject is the claim a relation's findings are filed under.
func (r Relation) subject() string {
	switch r.Rule {
	case RelAudContainsClient:
		return "aud"
	case RelExpAfterIat, RelLifetime:
		return "exp"
	case RelEqual:
		if len(r.Claims) > 0 {
			return r.Claims[0]
		}
	case RelAtHash:
		return "at_hash"
	case RelStable:
		return r.Claim
	}
	return string(r.Rule)
}

func (r Relation) violation(format string, args ...any) Finding {
	msg := fmt.Sprintf(format, args...)
	if r.Source != "" {
		msg += " (" + r.Source + ")"
	}
	return Finding{Claim: r.subject(), Level: Violation, Rule: r.RuleName(), Message: msg}
}

// check evaluates a relation on one token. It returns nothing when the
// relation cannot be evaluated: a claim it needs is absent or of another
// type (the claim rules report that), or the context lacks what it needs.
func (r Relation) check(claims map[string]any, cx Context) []Finding {
	switch r.Rule {
	case RelAudContainsClient:
		if cx.ClientID == "" {
			return nil
		}
		aud, ok := audience(claims["aud"])
		if !ok {
			return nil
		}
		if !slices.Contains(aud, cx.ClientID) {
			return []Finding{r.violation("aud (%s) does not contain the client's client_id", describeAud(claims["aud"]))}
		}
	case RelExpAfterIat:
		exp, ok1 := number(claims["exp"])
		iat, ok2 := number(claims["iat"])
		if !ok1 || !ok2 {
			return nil
		}
		if exp <= iat {
			return []Finding{r.violation("exp is not after iat (exp - iat = %s)", seconds(exp-iat))}
		}
	case RelLifetime:
		if cx.TTL <= 0 {
			return nil
		}
		exp, ok1 := number(claims["exp"])
		iat, ok2 := number(claims["iat"])
		if !ok1 || !ok2 {
			return nil
		}
		got := exp - iat
		want := cx.TTL.Seconds()
		if math.Abs(got-want) > cx.Skew.Seconds() {
			return []Finding{r.violation("exp - iat is %s, the declared lifetime is %s (tolerance %s)", seconds(got), seconds(want), cx.Skew)}
		}
	case RelEqual:
		if len(r.Claims) != 2 {
			return nil
		}
		a, ok1 := claims[r.Claims[0]]
		b, ok2 := claims[r.Claims[1]]
		if !ok1 || !ok2 {
			return nil
		}
		if !sameValue(a, b) {
			return []Finding{r.violation("%s and %s differ; the contract says they are equal", r.Claims[0], r.Claims[1])}
		}
	case RelAtHash:
		if cx.AccessToken == "" || cx.Alg == "" {
			return nil
		}
		got, ok := claims["at_hash"].(string)
		if !ok {
			return nil
		}
		want, err := AtHash(cx.Alg, cx.AccessToken)
		if err != nil {
			return []Finding{r.violation("at_hash cannot be checked: %v", err)}
		}
		if got != want {
			return []Finding{r.violation("at_hash does not match the access token issued with it")}
		}
	}
	return nil
}

// checkSeries evaluates a stable relation over a series of tokens.
func (r Relation) checkSeries(obs []Observation) []Finding {
	if r.Rule != RelStable || r.Claim == "" || len(obs) == 0 {
		return nil
	}
	across := r.Across
	if len(across) == 0 {
		across = stableSteps
	}
	// Group by the keying claim's value, or by test user.
	type group struct {
		first   any
		hasBase bool
	}
	groups := map[string]*group{}
	changed := map[Step]int{}
	for _, o := range obs {
		key := "user " + o.Subject
		if r.Per != "" {
			kv, ok := o.Claims[r.Per]
			if !ok {
				continue
			}
			key = canonical(kv)
		}
		v, present := o.Claims[r.Claim]
		g, seen := groups[key]
		if !seen {
			g = &group{}
			groups[key] = g
		}
		if !g.hasBase {
			// The first token of the group is the reference; a series
			// normally starts with a login.
			g.first, g.hasBase = v, present
			if !present {
				g.first = missing{}
			}
			continue
		}
		if !slices.Contains(across, o.Step) {
			continue
		}
		var cur any = missing{}
		if present {
			cur = v
		}
		if !sameValue(g.first, cur) {
			changed[o.Step]++
		}
	}
	var out []Finding
	for _, step := range stableSteps {
		n := changed[step]
		if n == 0 {
			continue
		}
		who := "the same user"
		if r.Per != "" {
			who = "the same " + r.Per
		}
		out = append(out, r.violation("%s changed on %s for %s (%d of the tokens compared)", r.Claim, stepText(step), who, n))
	}
	return out
}

func stepText(s Step) string {
	switch s {
	case StepRefresh:
		return "refresh"
	case StepRelogin:
		return "a new login"
	}
	return string(s)
}

// missing stands for an absent claim in stable comparisons.
type missing struct{}

// sameValue compares two decoded JSON values; arrays of strings compare as
// sets (the order of accounts is not a change), numbers by value.
func sameValue(a, b any) bool {
	return canonical(a) == canonical(b)
}

// canonical renders a decoded JSON value in one form: numbers by value,
// string arrays sorted, object keys sorted (encoding/json sorts them).
func canonical(v any) string {
	switch x := v.(type) {
	case missing:
		return "\x00missing"
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return fmt.Sprintf("n:%v", f)
		}
		return "n:" + x.String()
	case float64:
		return fmt.Sprintf("n:%v", x)
	case []any:
		parts := make([]string, len(x))
		allStrings := true
		for i, e := range x {
			parts[i] = canonical(e)
			if _, ok := e.(string); !ok {
				allStrings = false
			}
		}
		if allStrings {
			sort.Strings(parts)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q:%s", k, canonical(x[k]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	return string(b)
}

func audience(v any) ([]string, bool) {
	switch a := v.(type) {
	case string:
		return []string{a}, true
	case []any:
		out := make([]string, 0, len(a))
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func describeAud(v any) string {
	if a, ok := v.([]any); ok {
		return fmt.Sprintf("an array of %d", len(a))
	}
	return "a string"
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	}
	return 0, false
}

func seconds(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%ds", int64(f))
	}
	return fmt.Sprintf("%.3fs", f)
}

// AtHash computes OIDC Core §3.1.3.8's at_hash of an access token for the
// JWS alg of the ID token: the left half of the hash, base64url without
// padding.
func AtHash(alg, accessToken string) (string, error) {
	var h hash.Hash
	switch alg {
	case "RS256", "PS256", "ES256", "HS256":
		h = sha256.New()
	case "RS384", "PS384", "ES384", "HS384":
		h = sha512.New384()
	case "RS512", "PS512", "ES512", "HS512", "EdDSA":
		// EdDSA names no hash; the OpenID Connect WG reading (connect
		// issue 1125) is the curve's: SHA-512 for Ed25519.
		h = sha512.New()
	default:
		return "", fmt.Errorf("no at_hash hash for alg %q", alg)
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}
