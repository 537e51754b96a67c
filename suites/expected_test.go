package suites_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/expected"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/suites"
)

// specNames returns the full names ("scenario text") of the specs
// registered for the target file at path.
func specNames(t *testing.T, path string) []string {
	t.Helper()
	tg, err := target.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := suites.Catalogue(tg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, string(e.Label)+" "+e.Text)
	}
	return names
}

func matchesAny(spec string, names []string) bool {
	for _, n := range names {
		if strings.HasPrefix(spec, "~") {
			if regexp.MustCompile(spec[1:]).MatchString(n) {
				return true
			}
		} else if spec == n {
			return true
		}
	}
	return false
}

// Every bundled expected-failures file loads, belongs to a bundled target,
// and each of its entries names a spec registered for that target: a
// renamed spec must not silently turn a known deviation into a failure
// nobody expected (or a stale entry into noise).
func TestBundledExpectedFailures(t *testing.T) {
	files, err := filepath.Glob("../fixtures/expected/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures/expected/*.yaml: %v", err)
	}
	for _, f := range files {
		entries, err := expected.Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		names := specNames(t, filepath.Join("../fixtures/targets", filepath.Base(f)))
		for _, e := range entries {
			if !matchesAny(e.Spec, names) {
				t.Errorf("%s: entry %q names no spec registered for its target", f, e.Spec)
			}
		}
	}
	// The check can fail: a misspelt name matches nothing.
	names := specNames(t, "../fixtures/targets/zitadel-op.yaml")
	if matchesAny("client-credentials types JWT access tokens as at+JWT", names) {
		t.Error("a misspelt spec name matched")
	}
	if !matchesAny("client-credentials types JWT access tokens as at+jwt", names) {
		t.Error("the exact spec name did not match")
	}
}
