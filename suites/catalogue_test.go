package suites_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/suites"
)

var update = flag.Bool("update", false, "rewrite docs/specs.md from the registered specs")

const catalogueFile = "../docs/specs.md"

// The spec catalogue is generated from the registered specs, as
// Kubernetes does for its conformance tests; this test fails when the
// committed file drifts. Regenerate with: go test ./suites -run Catalogue -update
func TestCatalogueUpToDate(t *testing.T) {
	entries, err := suites.Catalogue(mockTarget(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("# Conformance spec catalogue\n\n")
	b.WriteString("Generated from the registered specs by `go test ./suites -run Catalogue -update`; do not edit.\n")
	b.WriteString("Specs generated per client are listed as registered for the bundled mock target.\n")
	scenario := ""
	for _, e := range entries {
		if string(e.Label) != scenario {
			scenario = string(e.Label)
			fmt.Fprintf(&b, "\n## %s\n\n| spec | requirement | severity | needs |\n|---|---|---|---|\n", scenario)
		}
		var needs []string
		for _, n := range e.Needs {
			needs = append(needs, string(n))
		}
		for _, v := range e.Vendors {
			needs = append(needs, "label "+string(v))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", e.Text, e.Ref, e.Severity, strings.Join(needs, ", "))
	}
	want := b.String()
	if *update {
		if err := os.WriteFile(catalogueFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(catalogueFile)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date: run go test ./suites -run Catalogue -update", catalogueFile)
	}
}
