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
func Parse(name string, src []byte) (*Contract, error) {
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
