// Package contract checks a token's claims against a claim contract with
// non-breaking tolerance: claims the contract does not name are reported,
// never failed; claim order never matters; opaque strings are checked for
// presence, type and a minimum length, never an exact length or format. A
// missing mandatory claim, a claim of another type, or a forbidden claim is a
// violation.
package contract

import (
	"fmt"
	"sort"

	"github.com/idpconform/idpconform/internal/jsonkind"
)

// Contract is the expected shape of one kind of token or response.
type Contract struct {
	// Name identifies the contract; target files refer to it.
	Name string `yaml:"name"`
	// Kind is what the contract applies to.
	Kind Kind `yaml:"kind"`
	// Source names the document the contract comes from.
	Source string `yaml:"source"`
	// Claims maps each claim name to its rule.
	Claims map[string]Rule `yaml:"claims"`
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
	Type Type `yaml:"type"`
	// Presence is mandatory, optional (default) or forbidden.
	Presence Presence `yaml:"presence"`
	// Strict compares the type exactly: an integer where a number is
	// expected, or an array of strings where an array is expected, fails.
	Strict bool `yaml:"strict"`
	// MinLength is the least length of an opaque string (or of an array).
	// Lengths above it are never judged: a longer or reformatted opaque
	// value is a non-breaking change.
	MinLength int `yaml:"min_length"`
	// Description says what the claim means, for reports.
	Description string `yaml:"description"`
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
	Claim   string `json:"claim"`
	Level   Level  `json:"level"`
	Message string `json:"message"`
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s", f.Claim, f.Message) }

// Check judges claims against c and returns the findings sorted by claim,
// violations first.
func (c *Contract) Check(claims map[string]any) []Finding {
	var out []Finding
	for name, rule := range c.Claims {
		v, present := claims[name]
		switch {
		case !present && rule.Presence == Mandatory:
			out = append(out, Finding{Claim: name, Level: Violation, Message: "mandatory claim is missing"})
		case present && rule.Presence == Forbidden:
			out = append(out, Finding{Claim: name, Level: Violation, Message: "claim is forbidden by the contract but present"})
		case present:
			if msg := rule.check(v); msg != "" {
				out = append(out, Finding{Claim: name, Level: Violation, Message: msg})
			}
		}
	}
	for name, v := range claims {
		if _, known := c.Claims[name]; !known {
			out = append(out, Finding{Claim: name, Level: Info, Message: fmt.Sprintf("claim not in contract %s (%s); tolerated as a non-breaking addition", c.Name, jsonkind.Of(v).Describe())})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Level != out[j].Level {
			return out[i].Level == Violation
		}
		return out[i].Claim < out[j].Claim
	})
	return out
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

func (r Rule) check(v any) string {
	got := jsonkind.Of(v)
	if !r.typeMatches(got) {
		return fmt.Sprintf("expected %s, got %s", r.Type.describe(), got.Describe())
	}
	if r.MinLength > 0 {
		switch x := v.(type) {
		case string:
			if len(x) < r.MinLength {
				return fmt.Sprintf("expected at least %d characters, got %d", r.MinLength, len(x))
			}
		case []any:
			if len(x) < r.MinLength {
				return fmt.Sprintf("expected at least %d elements, got %d", r.MinLength, len(x))
			}
		}
	}
	return ""
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
