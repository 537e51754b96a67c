// Package schema holds the JSON Schema (draft 2020-12) of results.json and
// validates documents against it. The schema is embedded, so validation
// needs no network and no files beside the binary.
package schema

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ResultsV1 is the schema of results.json, schema_version "1".
//
//go:embed results.v1.schema.json
var ResultsV1 []byte

// ResultsV1ID is the $id of ResultsV1.
const ResultsV1ID = "https://github.com/idpconform/idpconform/reports/schema/results.v1.schema.json"

// printer renders the validator's messages (it has no default for nil).
var printer = message.NewPrinter(language.English)

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	compileErr  error
)

func resultsSchema() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ResultsV1))
		if err != nil {
			compileErr = fmt.Errorf("results schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		// date-time is asserted, not just annotated: a report renders times.
		c.AssertFormat()
		if err := c.AddResource(ResultsV1ID, doc); err != nil {
			compileErr = fmt.Errorf("results schema: %w", err)
			return
		}
		compiled, compileErr = c.Compile(ResultsV1ID)
		if compileErr != nil {
			compileErr = fmt.Errorf("results schema: %w", compileErr)
		}
	})
	return compiled, compileErr
}

// Problem is one place where a document breaks the schema.
type Problem struct {
	// Pointer is the JSON pointer of the offending value ("/specs/3/state").
	Pointer string
	Message string
}

func (p Problem) String() string {
	ptr := p.Pointer
	if ptr == "" {
		ptr = "(document)"
	}
	return ptr + ": " + p.Message
}

// Error lists every problem of a document.
type Error struct {
	Problems []Problem
}

// maxShown bounds the problems an error message lists; a document of the
// wrong shape can break the schema at every spec.
const maxShown = 12

func (e *Error) Error() string {
	var lines []string
	for i, p := range e.Problems {
		if i == maxShown {
			lines = append(lines, fmt.Sprintf("... and %d more", len(e.Problems)-maxShown))
			break
		}
		lines = append(lines, p.String())
	}
	return "does not match the results schema v1:\n  " + strings.Join(lines, "\n  ")
}

// ValidateResults checks doc (results.json bytes) against ResultsV1. It
// returns *Error listing every problem, or an error when doc is not JSON.
func ValidateResults(doc []byte) error {
	sch, err := resultsSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	return &Error{Problems: leaves(ve)}
}

// leaves flattens the error tree to the errors that say what is wrong (the
// innermost ones), one per location and message.
func leaves(ve *jsonschema.ValidationError) []Problem {
	seen := map[string]bool{}
	var out []Problem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		p := Problem{Pointer: pointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)}
		if k := p.String(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return pointerLess(out[i].Pointer, out[j].Pointer) })
	return out
}

// pointerLess orders JSON pointers as the document does: /specs/2 before
// /specs/10.
func pointerLess(a, b string) bool {
	at, bt := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(at) && i < len(bt); i++ {
		if at[i] == bt[i] {
			continue
		}
		an, aerr := strconv.Atoi(at[i])
		bn, berr := strconv.Atoi(bt[i])
		if aerr == nil && berr == nil {
			return an < bn
		}
		return at[i] < bt[i]
	}
	return len(at) < len(bt)
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}
