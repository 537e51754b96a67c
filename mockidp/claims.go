package mockidp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// claimSet is a JWT claims object that keeps the order claims were set in.
// Profiles set claims in the order their vendor documents them, and the
// reorder-claims drift needs an order to change: encoding/json sorts map
// keys, so a map cannot express either.
type claimSet struct {
	names []string
	vals  map[string]any
}

func newClaims() *claimSet { return &claimSet{vals: make(map[string]any, 16)} }

// set adds or replaces a claim; a new claim goes last.
func (c *claimSet) set(name string, v any) {
	if _, ok := c.vals[name]; !ok {
		c.names = append(c.names, name)
	}
	c.vals[name] = v
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
	v, ok := c.vals[name]
	return v, ok
}

func (c *claimSet) has(name string) bool { _, ok := c.vals[name]; return ok }

func (c *claimSet) del(name string) {
	if _, ok := c.vals[name]; !ok {
		return
	}
	delete(c.vals, name)
	c.names = slices.DeleteFunc(c.names, func(n string) bool { return n == name })
}

// Names returns the claim names in order.
func (c *claimSet) Names() []string { return slices.Clone(c.names) }

// MarshalJSON writes the claims in their order.
func (c *claimSet) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range c.names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(n)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(c.vals[n])
		if err != nil {
			return nil, fmt.Errorf("claim %s: %w", n, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
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
