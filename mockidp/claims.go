package mockidp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// claimSet is a JWT claims object that keeps the order claims were set in.
// Profiles set claims in the order their vendor documents them, and the
// reorder-claims drift needs an order to change: encoding/json sorts map
// keys, so a map cannot express either. A token has a score of claims at
// most, so a slice searched linearly is cheaper than a map.
type claimSet struct {
	list []claim
}

type claim struct {
	name string
	val  any
}

func newClaims() *claimSet { return &claimSet{list: make([]claim, 0, 20)} }

func (c *claimSet) index(name string) int {
	for i := range c.list {
		if c.list[i].name == name {
			return i
		}
	}
	return -1
}

// set adds or replaces a claim; a new claim goes last.
func (c *claimSet) set(name string, v any) {
	if i := c.index(name); i >= 0 {
		c.list[i].val = v
		return
	}
	c.list = append(c.list, claim{name, v})
}

// setIf sets the claim unless v is the zero string or an empty list.
func (c *claimSet) setIf(name string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case []string:
		if len(x) == 0 {
			return
		}
	}
	c.set(name, v)
}

func (c *claimSet) get(name string) (any, bool) {
	if i := c.index(name); i >= 0 {
		return c.list[i].val, true
	}
	return nil, false
}

func (c *claimSet) has(name string) bool { return c.index(name) >= 0 }

func (c *claimSet) del(name string) {
	c.list = slices.DeleteFunc(c.list, func(x claim) bool { return x.name == name })
}

// Names returns the claim names in order.
func (c *claimSet) Names() []string {
	out := make([]string, len(c.list))
	for i, x := range c.list {
		out[i] = x.name
	}
	return out
}

// MarshalJSON writes the claims in their order. Strings, integers and
// booleans, nearly every claim, skip reflection: the claims are encoded on
// every token request.
func (c *claimSet) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64*len(c.list)+2)
	b = append(b, '{')
	for i, x := range c.list {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendJSON(b, x.name); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendJSON(b, x.val); err != nil {
			return nil, fmt.Errorf("claim %s: %w", x.name, err)
		}
	}
	return append(b, '}'), nil
}

func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		if plainASCII(x) {
			b = append(b, '"')
			b = append(b, x...)
			return append(b, '"'), nil
		}
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// plainASCII reports whether s needs no escaping in JSON.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// changeType returns v as another JSON type, for the claim-type drift:
// numbers and booleans become strings, strings become arrays of one string,
// arrays become one space-separated string, objects become their JSON text.
func changeType(v any) any {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return strings.Join(x, " ")
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// flipAudience turns a single-valued aud string into an array and an array
// of one into a string; an array of several stays as it is.
func flipAudience(v any) any {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		if len(x) == 1 {
			return x[0]
		}
	}
	return v
}
