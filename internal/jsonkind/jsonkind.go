// Package jsonkind names the JSON type of decoded values, the vocabulary
// that claim contracts, token response checks and error messages share.
package jsonkind

import (
	"encoding/json"
	"strings"
)

// Kind is a JSON type, with integers told apart from other numbers and
// arrays of strings told apart from other arrays, because claim contracts
// care about both distinctions.
type Kind string

const (
	Null        Kind = "null"
	String      Kind = "string"
	Boolean     Kind = "boolean"
	Integer     Kind = "integer"
	Number      Kind = "number"
	StringArray Kind = "string_array"
	Array       Kind = "array"
	Object      Kind = "object"
)

// All are the kinds Of returns for a value encoding/json decodes, the
// whole vocabulary a file written with these names may use.
func All() []Kind {
	return []Kind{Null, String, Boolean, Integer, Number, StringArray, Array, Object}
}

// Known reports whether name is one of All.
func Known(name string) bool {
	for _, k := range All() {
		if string(k) == name {
			return true
		}
	}
	return false
}

// Of returns the kind of v, a value from encoding/json (float64 or
// json.Number for numbers).
func Of(v any) Kind {
	switch x := v.(type) {
	case nil:
		return Null
	case string:
		return String
	case bool:
		return Boolean
	case float64:
		if x == float64(int64(x)) {
			return Integer
		}
		return Number
	case json.Number:
		if !strings.ContainsAny(x.String(), ".eE") {
			return Integer
		}
		if f, err := x.Float64(); err == nil && f == float64(int64(f)) {
			return Integer
		}
		return Number
	case []any:
		// An empty array is vacuously an array of strings: an empty
		// "accounts" list must satisfy a string_array contract.
		for _, e := range x {
			if _, ok := e.(string); !ok {
				return Array
			}
		}
		return StringArray
	case map[string]any:
		return Object
	default:
		return Kind("unknown")
	}
}

// Describe names a kind for messages: "an integer", "a string array".
func (k Kind) Describe() string {
	switch k {
	case Integer, Array, Object:
		return "an " + strings.ReplaceAll(string(k), "_", " ")
	case Null:
		return "null"
	default:
		return "a " + strings.ReplaceAll(string(k), "_", " ")
	}
}

// Is reports whether a value of kind k satisfies the wanted kind: an integer
// is a number and a string array is an array.
func (k Kind) Is(want Kind) bool {
	switch {
	case k == want:
		return true
	case want == Number && k == Integer:
		return true
	case want == Array && k == StringArray:
		return true
	}
	return false
}
