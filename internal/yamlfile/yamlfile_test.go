package yamlfile

import (
	"errors"
	"strconv"
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

// Recover turns a panic under it into an error of the file, placed at the
// first tag; a panic value other than a runtime error is not quoted (it
// could quote the file). The twin: without a panic the result is untouched.
func TestRecover(t *testing.T) {
	src := []byte("name: n\nsecret: hunter2-literal\nscopes: !!str openid\n")
	run := func(fn func() error) (err error) {
		defer Recover("t.yaml", src, &err)
		return fn()
	}
	var nilMap map[string]int
	for name, fn := range map[string]func() error{
		"runtime error": func() error { nilMap["x"] = 1; return nil },
		"panic value":   func() error { panic("node hunter2-literal") },
	} {
		err := run(fn)
		var ye *Error
		if !errors.As(err, &ye) || !strings.HasPrefix(err.Error(), "t.yaml:3:9: the YAML decoder could not read this file") || !strings.Contains(err.Error(), "remove the tag") {
			t.Errorf("%s: got %v", name, err)
		}
		if strings.Contains(err.Error(), "hunter2-literal") {
			t.Errorf("%s: the error quotes the file: %v", name, err)
		}
	}
	if !strings.Contains(run(func() error { nilMap["x"] = 1; return nil }).Error(), "assignment to entry in nil map") {
		t.Error("a runtime error's own text is lost")
	}
	sentinel := errors.New("a problem")
	if err := run(func() error { return sentinel }); err != sentinel {
		t.Errorf("no panic: got %v, want the function's own error", err)
	}
	if err := run(func() error { return nil }); err != nil {
		t.Errorf("no panic: got %v, want nil", err)
	}
}

// A directive before the document ("%YAML 1.2" then "---") is part of one
// document, and lines keep their numbers; the twins: two documents, or a
// directive alone, are still refused.
func TestParseDirective(t *testing.T) {
	for _, src := range []string{"%YAML 1.2\n---\nname: n\nscopes: [a]\n", "%TAG !e! tag:example.com,2000:\n---\nname: n\nscopes: [a]\n"} {
		f, err := Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		var d listDoc
		if err := f.Decode(&d); err != nil || d.Name != "n" || len(d.Scopes) != 1 {
			t.Errorf("Decode(%q): %+v %v", src, d, err)
		}
		line := strings.Count(src[:strings.Index(src, "scopes")], "\n") + 1
		err = f.Err([]Problem{Errorf("$.scopes", "bad")})
		if err == nil || !strings.HasPrefix(err.Error(), "t.yaml:"+strconv.Itoa(line)+":") {
			t.Errorf("Err(%q) is not at line %d: %v", src, line, err)
		}
	}
	for _, src := range []string{"%YAML 1.2\n---\nname: a\n---\nname: b\n", "name: a\n---\nname: b\n", "%YAML 1.2\n---\n"} {
		if _, err := Parse("t.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), "expected one YAML document") {
			t.Errorf("Parse(%q): got %v, want one document expected", src, err)
		}
	}
}
