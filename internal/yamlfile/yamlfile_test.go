package yamlfile

import (
	"strings"
	"testing"
)

type listDoc struct {
	Scopes []string `yaml:"scopes"`
	Name   string   `yaml:"name"`
}

// A tagged scalar where a list belongs crashed goccy/go-yaml's decoder; the
// user must get an error at the tag instead.
func TestDecodeTaggedScalarInListIsAnError(t *testing.T) {
	for _, src := range []string{
		"name: n\nscopes: !!str openid\n",
		"name: n\nscopes: !custom openid\n",
	} {
		f, err := Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		var d listDoc
		err = f.Decode(&d)
		if err == nil {
			t.Fatalf("Decode(%q) accepted a tagged scalar as a list", src)
		}
		if !strings.Contains(err.Error(), "t.yaml:2:9") || !strings.Contains(err.Error(), "remove the tag") {
			t.Errorf("Decode(%q) error does not place the tag: %v", src, err)
		}
	}
}

func TestDecodeTaggedListStillWorks(t *testing.T) {
	f, err := Parse("t.yaml", []byte("name: !!str n\nscopes: !!seq [openid, profile]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var d listDoc
	if err := f.Decode(&d); err != nil {
		t.Fatalf("Decode refused well-tagged values: %v", err)
	}
	if d.Name != "n" || len(d.Scopes) != 2 || d.Scopes[1] != "profile" {
		t.Errorf("decoded %+v", d)
	}
}
