// Package contract checks a token's claims against a claim contract with
// non-breaking tolerance: claims the contract does not name are reported,
// never failed; claim order never matters; opaque strings are checked for
// presence, type and a minimum length or estimated entropy, never an exact
// length or format. A missing mandatory claim, a claim of another type, a
// forbidden claim, or a broken relation (aud holds the client, exp after
// iat, the declared lifetime, tid == aud, at_hash, sub stable across
// refreshes and logins) is a violation.
package contract

import (
	"fmt"
	"math"
	"sort"
	"unicode/utf8"

	"github.com/idpconform/idpconform/internal/jsonkind"
)

// Contract is the expected shape of one kind of token or response.
type Contract struct {
	// Name identifies the contract; target files refer to it.
	Name string `yaml:"name" json:"name"`
	// Kind is what the contract applies to.
	Kind Kind `yaml:"kind" json:"kind"`
	// Source names the document the contract comes from.
	Source string `yaml:"source" json:"source,omitempty"`
	// Claims maps each claim name to its rule.
	Claims map[string]Rule `yaml:"claims" json:"claims"`
	// Relations are rules between claims and the flow (relation.go).
	Relations []Relation `yaml:"relations" json:"relations,omitempty"`
}

// Kind is the kind of token or response a contract describes.
type Kind string

const (
	KindAccessToken   Kind = "access_token"
	KindIDToken       Kind = "id_token"
	KindAkkessT1      Kind = "akkess_t1"
	KindIntrospection Kind = "introspection"
	KindTokenResponse Kind = "token_response"
)

// Kinds lists every contract kind.
var Kinds = []Kind{KindAccessToken, KindIDToken, KindAkkessT1, KindIntrospection, KindTokenResponse}

// Rule is what a contract says of one claim.
type Rule struct {
	// Type is the claim's JSON type.
	Type Type `yaml:"type" json:"type"`
	// Presence is mandatory, optional (default) or forbidden.
	Presence Presence `yaml:"presence" json:"presence"`
	// Strict compares the type exactly: an integer where a number is
	// expected, or an array of strings where an array is expected, fails.
	Strict bool `yaml:"strict" json:"strict,omitempty"`
	// MinLength is the least length of an opaque string (or of an array).
	// Lengths above it are never judged: a longer or reformatted opaque
	// value is a non-breaking change.
	MinLength int `yaml:"min_length" json:"min_length,omitempty"`
	// MinEntropy is the least estimated entropy of an opaque string, in
	// bits (length times the Shannon entropy of its characters): it catches
	// constant or guessable values without judging their format.
	MinEntropy float64 `yaml:"min_entropy" json:"min_entropy,omitempty"`
	// Description says what the claim means, for reports.
	Description string `yaml:"description" json:"description,omitempty"`
}

// Type is a claim type in a contract.
type Type string

const (
	TypeString      Type = "string"
	TypeInteger     Type = "integer"
	TypeNumber      Type = "number"
	TypeBoolean     Type = "boolean"
	TypeStringArray Type = "string_array"
	TypeArray       Type = "array"
	TypeObject      Type = "object"
	// TypeAudience is a string or an array of strings (RFC 7519 §4.1.3).
	TypeAudience Type = "audience"
	// TypeNumericDate is a number of seconds since the epoch (RFC 7519 §2).
	TypeNumericDate Type = "numeric_date"
	// TypeAny accepts any JSON type; for claims whose presence alone matters.
	TypeAny Type = "any"
)

// Types lists every claim type.
var Types = []Type{TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeStringArray, TypeArray, TypeObject, TypeAudience, TypeNumericDate, TypeAny}

// Presence says whether a claim must, may or must not appear.
type Presence string

const (
	Mandatory Presence = "mandatory"
	Optional  Presence = "optional"
	Forbidden Presence = "forbidden"
)

// Presences lists every presence value.
var Presences = []Presence{Mandatory, Optional, Forbidden}

// Level grades a finding.
type Level string

const (
	// Violation breaks the contract: a client relying on it would break.
	Violation Level = "violation"
	// Info is worth knowing but tolerated (a new claim).
	Info Level = "info"
)

// Finding is one result of checking claims against a contract.
type Finding struct {
	Claim string `json:"claim"`
	Level Level  `json:"level"`
	// Rule names what was checked: presence, forbidden, type, min_length,
	// min_entropy, unknown (a claim not in the contract), or
	// "relation:" and the relation.
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Rules a Finding may name besides relations.
const (
	RulePresence   = "presence"
	RuleForbidden  = "forbidden"
	RuleType       = "type"
	RuleMinLength  = "min_length"
	RuleMinEntropy = "min_entropy"
	RuleUnknown    = "unknown"
)

func (f Finding) String() string { return fmt.Sprintf("%s: %s", f.Claim, f.Message) }

// Check judges claims against c and returns the findings sorted by claim,
// violations first. Relations that need the flow's context (the client, the
// declared lifetime, the access token) are not evaluated; CheckWith
// evaluates them.
func (c *Contract) Check(claims map[string]any) []Finding {
	return c.CheckWith(claims, Context{})
}

// CheckWith is Check with what the flow knows about the token, so that the
// contract's relations are evaluated too.
func (c *Contract) CheckWith(claims map[string]any, cx Context) []Finding {
	var out []Finding
	for name, rule := range c.Claims {
		v, present := claims[name]
		switch {
		case !present && rule.Presence == Mandatory:
			out = append(out, Finding{Claim: name, Level: Violation, Rule: RulePresence, Message: "mandatory claim is missing"})
		case present && rule.Presence == Forbidden:
			out = append(out, Finding{Claim: name, Level: Violation, Rule: RuleForbidden, Message: "claim is forbidden by the contract but present"})
		case present:
			if r, msg := rule.check(v); msg != "" {
				out = append(out, Finding{Claim: name, Level: Violation, Rule: r, Message: msg})
			}
		}
	}
	for name, v := range claims {
		if _, known := c.Claims[name]; !known {
			out = append(out, Finding{Claim: name, Level: Info, Rule: RuleUnknown, Message: fmt.Sprintf("claim not in contract %s (%s); tolerated as a non-breaking addition", c.Name, jsonkind.Of(v).Describe())})
		}
	}
	for _, rel := range c.Relations {
		out = append(out, rel.check(claims, cx)...)
	}
	sortFindings(out)
	return out
}

// CheckSeries evaluates the contract's stable relations over tokens of one
// kind obtained one after another: logins, refreshes and new logins of the
// same users.
func (c *Contract) CheckSeries(obs []Observation) []Finding {
	var out []Finding
	for _, rel := range c.Relations {
		out = append(out, rel.checkSeries(obs)...)
	}
	sortFindings(out)
	return out
}

func sortFindings(out []Finding) {
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Level != out[j].Level {
			return out[i].Level == Violation
		}
		if out[i].Claim != out[j].Claim {
			return out[i].Claim < out[j].Claim
		}
		return out[i].Rule < out[j].Rule
	})
}

// Violations returns the findings that break the contract.
func Violations(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Level == Violation {
			out = append(out, f)
		}
	}
	return out
}

// check judges one present claim; it returns the rule broken and why, or
// "" when the value is acceptable.
func (r Rule) check(v any) (string, string) {
	got := jsonkind.Of(v)
	if !r.typeMatches(got) {
		return RuleType, fmt.Sprintf("expected %s, got %s", r.Type.describe(), got.Describe())
	}
	if r.MinLength > 0 {
		switch x := v.(type) {
		case string:
			if n := utf8.RuneCountInString(x); n < r.MinLength {
				return RuleMinLength, fmt.Sprintf("expected at least %d characters, got %d", r.MinLength, n)
			}
		case []any:
			if len(x) < r.MinLength {
				return RuleMinLength, fmt.Sprintf("expected at least %d elements, got %d", r.MinLength, len(x))
			}
		}
	}
	if r.MinEntropy > 0 {
		if s, ok := v.(string); ok {
			if bits := EntropyBits(s); bits < r.MinEntropy {
				return RuleMinEntropy, fmt.Sprintf("expected an estimated entropy of at least %.0f bits, got %.0f", r.MinEntropy, bits)
			}
		}
	}
	return "", ""
}

// EntropyBits estimates the entropy of an opaque string: its length times
// the Shannon entropy of its character distribution. It is a floor for
// random strings of a small alphabet and a ceiling for guessable ones, good
// enough to tell a random token from a constant or a counter; it says
// nothing about the format.
func EntropyBits(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h * float64(n)
}

func (r Rule) typeMatches(got jsonkind.Kind) bool {
	switch r.Type {
	case TypeAny, "":
		return true
	case TypeAudience:
		return got == jsonkind.String || got == jsonkind.StringArray
	case TypeNumericDate:
		return got == jsonkind.Integer || (got == jsonkind.Number && !r.Strict)
	}
	want := jsonkind.Kind(r.Type)
	if r.Strict {
		return got == want
	}
	return got.Is(want)
}

func (t Type) describe() string {
	switch t {
	case TypeAudience:
		return "a string or an array of strings"
	case TypeNumericDate:
		return "a NumericDate (seconds since the epoch)"
	}
	return jsonkind.Kind(t).Describe()
}

// Accepts reports whether a value of JSON kind k satisfies the rule's type.
func (r Rule) Accepts(k jsonkind.Kind) bool { return r.typeMatches(k) }

// TypeText describes the rule's type for messages: "a string or an array
// of strings", "an integer".
func (r Rule) TypeText() string {
	t := r.Type.describe()
	if r.Strict {
		t += " (strict)"
	}
	return t
}
