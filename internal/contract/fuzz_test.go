package contract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds the contract file parser any YAML a user might write. A
// contract it accepts has a name, a known kind, and only known types and
// presences.
func FuzzParse(f *testing.F) {
	f.Add([]byte(akoyaLike))
	files, _ := filepath.Glob("../../fixtures/contracts/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("name: x\nkind: id_token\nclaims:\n  sub: {type: [string]}\n"))
	f.Add([]byte("name: &a x\nkind: *a\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("fuzz.yaml", src)
		if err != nil {
			return
		}
		if c.Name == "" {
			t.Error("accepted a contract without a name")
		}
		if !contains(Kinds, c.Kind) {
			t.Errorf("accepted kind %q", c.Kind)
		}
		for name, r := range c.Claims {
			if !contains(Types, r.Type) && r.Type != "" {
				t.Errorf("claim %s: accepted type %q", name, r.Type)
			}
			if r.Presence != "" && !contains(Presences, r.Presence) {
				t.Errorf("claim %s: accepted presence %q", name, r.Presence)
			}
		}
	})
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// A file that makes the YAML library panic is an error at its tag; the
// twin without the tag is an ordinary, placed type error.
func TestParseYAMLPanicIsAnError(t *testing.T) {
	for src, want := range map[string]string{
		"name: x\nkind: id_token\nclaims:\n  sub: {type: string}\nrelations: !!str a\n": "c.yaml:5:12: the YAML decoder could not read this file",
		"name: x\nkind: id_token\nclaims:\n  sub: {type: string}\nrelations: a\n":       "c.yaml:5:",
	} {
		_, err := Parse("c.yaml", []byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q): got %v, want an error starting %q", src, err, want)
		}
	}
}
