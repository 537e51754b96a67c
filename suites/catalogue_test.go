package suites_test

import (
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/suites"
)

var update = flag.Bool("update", false, "rewrite CONFORMANCE.md from the registered specs")

const catalogueFile = "../CONFORMANCE.md"

// CONFORMANCE.md is generated from the specs themselves, as Kubernetes
// generates conformance.yaml: the label, requirement and severity come from
// each spec's registration, "what it checks" from the Description in the
// comment block above it. This test fails when the file drifts or a spec
// has no Description. Regenerate: go test ./suites -run Catalogue -update
func TestCatalogueUpToDate(t *testing.T) {
	entries, err := suites.Catalogue(mockTarget(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	comments := map[string]map[int]string{}
	fset := token.NewFileSet()
	var b strings.Builder
	b.WriteString("# Conformance specs\n\n")
	b.WriteString("Every spec idpconform runs, generated from the specs themselves by\n")
	b.WriteString("`go test ./suites -run Catalogue -update` (a test fails when this file is out of date).\n")
	b.WriteString("Severity: a failed MUST fails the run, a failed SHOULD is a warning, INFO is only reported.\n")
	b.WriteString("Specs generated per client are listed as registered for the bundled mock target.\n")
	// One section per label, in the order labels first appear: vendor
	// specs registered later (vendors.go) join their label's section
	// instead of opening a second one.
	var order []string
	rows := map[string][]string{}
	for _, e := range entries {
		file, line := e.Location()
		desc, err := description(fset, comments, file, line)
		if err != nil {
			t.Fatal(err)
		}
		if desc == "" {
			t.Errorf("%s:%d: spec %q has no Description in the comment above it", file, line, e.Text)
		}
		label := string(e.Label)
		if _, seen := rows[label]; !seen {
			order = append(order, label)
		}
		var needs []string
		for _, n := range e.Needs {
			needs = append(needs, string(n))
		}
		for _, v := range e.Vendors {
			needs = append(needs, "label "+string(v))
		}
		rows[label] = append(rows[label], fmt.Sprintf("| %s | %s | %s | %s | %s |\n", e.Text, e.Ref, e.Severity, desc, strings.Join(needs, ", ")))
	}
	for _, label := range order {
		fmt.Fprintf(&b, "\n## %s\n\n| spec | requirement | severity | what it checks | needs |\n|---|---|---|---|---|\n", label)
		for _, r := range rows[label] {
			b.WriteString(r)
		}
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

// description returns the "Description:" paragraph of the comment block
// that ends on the line above line in file.
func description(fset *token.FileSet, cache map[string]map[int]string, file string, line int) (string, error) {
	blocks, ok := cache[file]
	if !ok {
		f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
		if err != nil {
			return "", err
		}
		blocks = map[int]string{}
		for _, cg := range f.Comments {
			blocks[fset.Position(cg.End()).Line] = cg.Text()
		}
		cache[file] = blocks
	}
	_, after, found := strings.Cut(blocks[line-1], "Description:")
	if !found {
		return "", nil
	}
	// The description runs to the end of the block.
	return strings.Join(strings.Fields(after), " "), nil
}
