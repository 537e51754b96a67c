package results_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/results/resultstest"
)

const planted = "s3cret-planted-value"

// exempt are the fields that never hold a value from the IdP or the user's
// secrets: enumerations, the framework's own words, contract rules from the
// contract files. Every other string must pass through the redactor.
var exempt = map[string]bool{
	"SchemaVersion": true, "Kind": true, "Tool.Name": true, "Tool.Version": true,
	"Specs[].Scenario": true, "Specs[].Labels[]": true, "Specs[].Requirement": true,
	"Specs[].Severity": true, "Specs[].State": true, "Specs[].Evidence[].Method": true,
	"Specs[].Tokens[].Contract": true, "Specs[].Tokens[].Findings[].Level": true,
	"Summary": true,
	// A load run's enumerations and the names idpconform composes: the
	// scenario and model names, the generator's settings, SLO texts as the
	// parser normalised them, step names (rates), status codes, gate names
	// and scopes, credential kinds and the contract name (from the
	// contract files).
	"Load.Scenario": true, "Load.Model": true, "Load.SigningAlg": true,
	"Load.Generator.HTTPVersion": true, "Load.Generator.Protocols{key}": true, "Load.Generator.CPUScope": true,
	"Load.SLOs[]": true, "Load.Steps[].Name": true, "Load.Steps[].Model": true, "Load.Steps[].StatusCodes{key}": true,
	"Load.Steps[].Gates[].Name": true, "Load.Steps[].Gates[].Scope": true, "Load.Gates[].Name": true, "Load.Gates[].Scope": true,
	"Load.Capacity.Bound": true, "Load.Preparation.Bound": true, "Load.Uniqueness[].Kind": true, "Load.Verification.Contract": true,
}

type replacer struct{ old string }

func (r replacer) String(s string) string { return strings.ReplaceAll(s, r.old, "[REDACTED]") }

type noop struct{}

func (noop) String(s string) string { return s }

// TestRedactedReachesEveryString plants a secret in every string of a run
// (fields, slices, map keys and values, decoded claims) and checks that
// Redacted removes it from every place not exempt. A field added to the
// model without redaction fails here.
func TestRedactedReachesEveryString(t *testing.T) {
	run := resultstest.Sample()
	fill(reflect.ValueOf(run).Elem(), "")

	red := run.Redacted(replacer{planted})
	if left := find(reflect.ValueOf(red).Elem(), ""); len(left) > 0 {
		t.Errorf("not redacted: %s", strings.Join(left, ", "))
	}
	// The twin: without a working redactor every planted place is found.
	leaky := run.Redacted(noop{})
	left := find(reflect.ValueOf(leaky).Elem(), "")
	if len(left) < 20 {
		t.Errorf("the walk found the secret in only %d places: %v", len(left), left)
	}
	// Redacted copies: the original keeps its values.
	if !strings.Contains(run.Specs[0].Failure, planted) {
		t.Error("Redacted changed the run it was given")
	}
}

// fill puts planted into every non-exempt string reachable from v.
func fill(v reflect.Value, path string) {
	if exempt[path] {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("before " + planted + " after")
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), path)
	case reflect.Struct:
		if v.Type().PkgPath() == "time" {
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			p := f.Name
			if path != "" && !f.Anonymous {
				p = path + "." + f.Name
			} else if f.Anonymous {
				p = path
			}
			fill(v.Field(i), p)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := range v.Len() {
			fill(v.Index(i), path+"[]")
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, path+"{key}")
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, path+"{}")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"k " + planted: []any{"v " + planted, map[string]any{"deep": planted}}}))
	}
}

// find lists the paths under v whose strings still hold planted.
func find(v reflect.Value, path string) []string {
	if exempt[path] {
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		if strings.Contains(v.String(), planted) {
			return []string{path}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return find(v.Elem(), path)
		}
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			p := f.Name
			if path != "" && !f.Anonymous {
				p = path + "." + f.Name
			} else if f.Anonymous {
				p = path
			}
			out = append(out, find(v.Field(i), p)...)
		}
		return out
	case reflect.Slice:
		var out []string
		for i := range v.Len() {
			out = append(out, find(v.Index(i), path+"[]")...)
		}
		return out
	case reflect.Map:
		var out []string
		for _, k := range v.MapKeys() {
			out = append(out, find(k, path+"{key}")...)
			out = append(out, find(v.MapIndex(k), path+"{}")...)
		}
		return out
	}
	return nil
}

func TestSummarize(t *testing.T) {
	run := resultstest.Sample()
	s := run.Summary
	if s.Total != 6 || s.Passed != 4 || s.Failed != 1 || s.Skipped != 1 || s.Warnings != 1 || s.Verdict != "fail" {
		t.Errorf("summary %+v", s)
	}
	if c := s.BySeverity["MUST"]; c.Total != 4 || c.Failed != 1 || c.Skipped != 1 {
		t.Errorf("MUST tally %+v", c)
	}
	if got := strings.Join(s.Severities(), ","); got != "MUST,SHOULD,INFO" {
		t.Errorf("severity order %s", got)
	}
	if c := s.ByLabel["discovery"]; c.Total != 2 || c.Warnings != 1 {
		t.Errorf("discovery tally %+v", c)
	}
	// A SHOULD warning alone does not fail the run; a suite failure does.
	run.Specs[3].State = results.Passed
	run.Summarize()
	if !run.Passed() {
		t.Error("a run with only a SHOULD warning failed")
	}
	run.SuiteFailure = "AfterSuite: teardown"
	run.Summarize()
	if run.Passed() {
		t.Error("a suite failure did not fail the run")
	}
}

func TestDecode(t *testing.T) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(resultstest.Sample()); err != nil {
		t.Fatal(err)
	}
	run, err := results.Decode(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	exp := run.Specs[2].Tokens[0].Claims["exp"]
	if n, ok := exp.(json.Number); !ok || n.String() != "1795426200" {
		t.Errorf("exp decoded as %T %v, want the exact json.Number", exp, exp)
	}
	for name, edit := range map[string][2]string{
		"newer version": {`"schema_version":"1"`, `"schema_version":"2"`},
		"unknown kind":  {`"kind":"conformance"`, `"kind":"benchmark"`},
		"not JSON":      {`{`, `[`},
	} {
		doc := strings.Replace(b.String(), edit[0], edit[1], 1)
		if doc == b.String() {
			t.Fatalf("%s: edit did not apply", name)
		}
		if _, err := results.Decode(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// A load run decodes with its section.
func TestDecodeLoad(t *testing.T) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(resultstest.LoadSample()); err != nil {
		t.Fatal(err)
	}
	run, err := results.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if run.Kind != results.KindLoad || run.Load == nil || len(run.Load.Steps) != 2 || run.Load.Steps[1].Valid {
		t.Errorf("load run decoded as kind %q with %+v", run.Kind, run.Load)
	}
}

// TestFromGinkgoReadsEntries: evidence and token report entries become
// typed evidence and tokens; an unreadable entry is noted, not lost
// silently, and does not stop the conversion.
func TestFromGinkgoReadsEntries(t *testing.T) {
	ev, _ := json.Marshal(resultstest.Sample().Specs[2].Evidence)
	tok, _ := json.Marshal(resultstest.Sample().Specs[2].Tokens[0])
	rep := types.Report{SpecReports: types.SpecReports{
		{
			LeafNodeType: types.NodeTypeIt, LeafNodeText: "issues a token", State: types.SpecStatePassed,
			ContainerHierarchyTexts: []string{results.RootContainer, "client-credentials"},
			LeafNodeLabels:          []string{"client-credentials"},
			ReportEntries: types.ReportEntries{
				{Name: results.EntryEvidence, Value: types.WrapEntryValue(string(ev))},
				{Name: results.EntryToken, Value: types.WrapEntryValue(string(tok))},
				{Name: results.EntryWarning, Value: types.WrapEntryValue("RFC x (SHOULD): y")},
			},
		},
		{
			LeafNodeType: types.NodeTypeIt, LeafNodeText: "keeps going", State: types.SpecStatePassed,
			LeafNodeLabels: []string{"discovery"},
			ReportEntries: types.ReportEntries{
				{Name: results.EntryEvidence, Value: types.WrapEntryValue("{not json")},
				{Name: results.EntryToken, Value: types.WrapEntryValue("[1]")},
			},
		},
	}}
	specs, suiteFailure := results.FromGinkgo(rep, func(string, string) (string, string) { return "RFC 6749 §5.1", "MUST" })
	if suiteFailure != "" || len(specs) != 2 {
		t.Fatalf("specs %d, suite failure %q", len(specs), suiteFailure)
	}
	s := specs[0]
	if s.Name != "client-credentials issues a token" || s.Requirement != "RFC 6749 §5.1" || s.Severity != "MUST" {
		t.Errorf("spec %q %q %q", s.Name, s.Requirement, s.Severity)
	}
	if len(s.Evidence) != 1 || s.Evidence[0].Status != 200 || s.Evidence[0].RequestHeader["Authorization"][0] != "[REDACTED]" {
		t.Errorf("evidence %+v", s.Evidence)
	}
	if len(s.Tokens) != 1 || s.Tokens[0].Contract == nil || s.Tokens[0].Claims["exp"] != json.Number("1795426200") {
		t.Errorf("token %+v", s.Tokens)
	}
	if len(s.Warnings) != 1 {
		t.Errorf("warnings %v", s.Warnings)
	}
	bad := specs[1]
	if len(bad.Evidence) != 0 || len(bad.Tokens) != 0 || len(bad.Info) != 2 {
		t.Errorf("unreadable entries: evidence %d tokens %d info %v", len(bad.Evidence), len(bad.Tokens), bad.Info)
	}
}
