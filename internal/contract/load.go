package contract

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/idpconform/idpconform/internal/yamlfile"
)

// Parse decodes and validates one contract file; name is used in errors.
func Parse(name string, src []byte) (_ *Contract, err error) {
	defer yamlfile.Recover(name, src, &err)
	f, err := yamlfile.Parse(name, src)
	if err != nil {
		return nil, err
	}
	c := &Contract{}
	if err := f.Decode(c); err != nil {
		return nil, err
	}
	for n, r := range c.Claims {
		if r.Presence == "" {
			r.Presence = Optional
			c.Claims[n] = r
		}
	}
	if err := f.Err(validate(c)); err != nil {
		return nil, err
	}
	return c, nil
}

func validate(c *Contract) []yamlfile.Problem {
	var ps []yamlfile.Problem
	if c.Name == "" {
		ps = append(ps, yamlfile.Errorf("$", "contract has no name"))
	}
	if !slices.Contains(Kinds, c.Kind) {
		ps = append(ps, yamlfile.Errorf("$.kind", "unknown kind %q; expected one of %s", c.Kind, join(Kinds)))
	}
	if len(c.Claims) == 0 {
		ps = append(ps, yamlfile.Errorf("$", "contract has no claims"))
	}
	names := make([]string, 0, len(c.Claims))
	for n := range c.Claims {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := c.Claims[n]
		p := "$.claims." + n
		if strings.ContainsAny(n, ".[]") {
			p = fmt.Sprintf("$.claims['%s']", n)
		}
		if !slices.Contains(Types, r.Type) {
			ps = append(ps, yamlfile.Errorf(p+".type", "unknown type %q; expected one of %s", r.Type, join(Types)))
		}
		if !slices.Contains(Presences, r.Presence) {
			ps = append(ps, yamlfile.Errorf(p+".presence", "unknown presence %q; expected one of %s", r.Presence, join(Presences)))
		}
		if r.MinLength < 0 {
			ps = append(ps, yamlfile.Errorf(p+".min_length", "min_length must not be negative"))
		}
		if r.MinLength > 0 && !slices.Contains([]Type{TypeString, TypeStringArray, TypeArray, TypeAudience, TypeAny}, r.Type) {
			ps = append(ps, yamlfile.Errorf(p+".min_length", "min_length applies to strings and arrays, not to type %s", r.Type))
		}
		if r.MinEntropy < 0 || r.MinEntropy > 4096 {
			ps = append(ps, yamlfile.Errorf(p+".min_entropy", "min_entropy is a number of bits between 0 and 4096, got %v", r.MinEntropy))
		}
		if r.MinEntropy > 0 && r.Type != TypeString && r.Type != TypeAny {
			ps = append(ps, yamlfile.Errorf(p+".min_entropy", "min_entropy applies to opaque strings, not to type %s", r.Type))
		}
		if r.Strict && (r.Type == TypeAny || r.Type == TypeAudience) {
			// Either type accepts several kinds by definition; strict
			// would silently mean nothing.
			ps = append(ps, yamlfile.Errorf(p+".strict", "strict has no meaning for type %s", r.Type))
		}
	}
	for i, rel := range c.Relations {
		ps = append(ps, validateRelation(c, fmt.Sprintf("$.relations[%d]", i), rel)...)
	}
	return ps
}

// validateRelation checks a relation names a known rule and claims the
// contract declares, so a typo is refused instead of never firing.
func validateRelation(c *Contract, p string, rel Relation) []yamlfile.Problem {
	var ps []yamlfile.Problem
	need := func(field string, claims ...string) {
		for _, n := range claims {
			if _, ok := c.Claims[n]; !ok {
				ps = append(ps, yamlfile.Errorf(p+field, "relation %s needs claim %q, which the contract does not declare under claims", rel.Rule, n))
			}
		}
	}
	unused := func(field string, set bool) {
		if set {
			ps = append(ps, yamlfile.Errorf(p+"."+field, "relation %s takes no %s", rel.Rule, field))
		}
	}
	switch rel.Rule {
	case RelAudContainsClient:
		need(".rule", "aud")
	case RelExpAfterIat, RelLifetime:
		need(".rule", "exp", "iat")
	case RelAtHash:
		need(".rule", "at_hash")
	case RelEqual:
		if len(rel.Claims) != 2 {
			ps = append(ps, yamlfile.Errorf(p+".claims", "relation equal compares two claims, e.g. claims: [tid, aud]; got %d", len(rel.Claims)))
		} else {
			need(".claims", rel.Claims...)
			if rel.Claims[0] == rel.Claims[1] {
				ps = append(ps, yamlfile.Errorf(p+".claims", "relation equal compares two different claims"))
			}
		}
	case RelStable:
		if rel.Claim == "" {
			ps = append(ps, yamlfile.Errorf(p, "relation stable needs claim: the claim that must not change"))
		} else {
			need(".claim", rel.Claim)
		}
		if rel.Per != "" {
			need(".per", rel.Per)
		}
		for j, s := range rel.Across {
			if !slices.Contains(stableSteps, s) {
				ps = append(ps, yamlfile.Errorf(fmt.Sprintf("%s.across[%d]", p, j), "unknown step %q; expected one of %s", s, join(stableSteps)))
			}
		}
	default:
		return append(ps, yamlfile.Errorf(p+".rule", "unknown relation %q; expected one of %s", rel.Rule, join(RelationRules)))
	}
	if rel.Rule != RelEqual {
		unused("claims", len(rel.Claims) > 0)
	}
	if rel.Rule != RelStable {
		unused("claim", rel.Claim != "")
		unused("per", rel.Per != "")
		unused("across", len(rel.Across) > 0)
	}
	return ps
}

// Set is the contracts available to a run, by name.
type Set map[string]*Contract

// LoadFS reads every *.yaml file in dir of fsys. Two files naming the same
// contract are an error.
func LoadFS(fsys fs.FS, dir string) (Set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read contracts %s: %w", dir, err)
	}
	set := Set{}
	from := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || (path.Ext(e.Name()) != ".yaml" && path.Ext(e.Name()) != ".yml") {
			continue
		}
		p := path.Join(dir, e.Name())
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("read contract %s: %w", p, err)
		}
		c, err := Parse(p, src)
		if err != nil {
			return nil, err
		}
		if prev, dup := from[c.Name]; dup {
			return nil, fmt.Errorf("contract %q is defined twice: %s and %s", c.Name, prev, p)
		}
		from[c.Name] = p
		set[c.Name] = c
	}
	return set, nil
}

// Get returns the named contract or an error listing the known ones.
func (s Set) Get(name string) (*Contract, error) {
	if c, ok := s[name]; ok {
		return c, nil
	}
	known := make([]string, 0, len(s))
	for k := range s {
		known = append(known, k)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("unknown contract %q; known: %s", name, strings.Join(known, ", "))
}

func join[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Validate checks a contract that did not come from a YAML file (one
// embedded in a baseline) with the rules Parse applies; the error lists
// every problem by field.
func (c *Contract) Validate() error {
	ps := validate(c)
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Msg
		if field := yamlfile.FieldName(p.Path); field != "" {
			msgs[i] = field + ": " + p.Msg
		}
	}
	return fmt.Errorf("contract %q: %s", c.Name, strings.Join(msgs, "; "))
}
