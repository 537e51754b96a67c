package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/results/resultstest"
	"github.com/idpconform/idpconform/reports"
	"github.com/idpconform/idpconform/reports/schema"
)

func jsonOf(t *testing.T, run *results.Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := reports.WriteJSON(&b, run); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSampleResultsValidate(t *testing.T) {
	dry := resultstest.Sample()
	dry.DryRun = true
	for i := range dry.Specs {
		dry.Specs[i].State = results.Selected
	}
	dry.Summarize()
	for name, run := range map[string]*results.Run{
		"sample": resultstest.Sample(), "suite failure": resultstest.SuiteFailure(), "dry run": dry,
		"load": resultstest.LoadSample(), "capacity": resultstest.CapacitySample(), "diff": resultstest.Diff(),
	} {
		if err := schema.ValidateResults(jsonOf(t, run)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestValidateNamesEveryProblem is the failing twin: broken documents are
// refused, each problem named by its JSON pointer.
func TestValidateNamesEveryProblem(t *testing.T) {
	good := jsonOf(t, resultstest.Sample())
	edits := map[string]struct {
		edit    func(m map[string]any)
		pointer string
	}{
		"unknown state":       {func(m map[string]any) { spec(m, 3)["state"] = "exploded" }, "/specs/3/state"},
		"unknown field":       {func(m map[string]any) { m["extra"] = true }, ""},
		"missing requirement": {func(m map[string]any) { delete(spec(m, 0), "requirement") }, "/specs/0"},
		"newer version":       {func(m map[string]any) { m["schema_version"] = "2" }, "/schema_version"},
		"unknown kind":        {func(m map[string]any) { m["kind"] = "benchmark" }, "/kind"},
		"bad time":            {func(m map[string]any) { m["started_at"] = "yesterday" }, "/started_at"},
		"negative duration":   {func(m map[string]any) { spec(m, 0)["duration_ns"] = -1 }, "/specs/0/duration_ns"},
		"bad finding level": {func(m map[string]any) {
			tok := spec(m, 2)["tokens"].([]any)[0].(map[string]any)
			tok["findings"].([]any)[0].(map[string]any)["level"] = "fatal"
		}, "/specs/2/tokens/0/findings/0/level"},
		"evidence header not a list": {func(m map[string]any) {
			ex := spec(m, 2)["evidence"].([]any)[0].(map[string]any)
			ex["request_header"].(map[string]any)["Accept"] = "text/html"
		}, "/specs/2/evidence/0/request_header/Accept"},
	}
	for name, e := range edits {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		e.edit(m)
		doc, _ := json.Marshal(m)
		err := schema.ValidateResults(doc)
		var se *schema.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: got %v, want a schema error", name, err)
			continue
		}
		found := false
		for _, p := range se.Problems {
			if p.Pointer == e.pointer {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no problem at %q in %v", name, e.pointer, se.Problems)
		}
	}
	if err := schema.ValidateResults([]byte(`{"schema_version": "1",`)); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("truncated JSON: %v", err)
	}
}

// TestValidateLoadNamesEveryProblem is the failing twin for the load
// section: a load document broken in one place is refused at that place.
func TestValidateLoadNamesEveryProblem(t *testing.T) {
	good := jsonOf(t, resultstest.LoadSample())
	step := func(m map[string]any, i int) map[string]any {
		return m["load"].(map[string]any)["steps"].([]any)[i].(map[string]any)
	}
	edits := map[string]struct {
		edit    func(m map[string]any)
		pointer string
	}{
		"load kind without its section": {func(m map[string]any) { delete(m, "load") }, ""},
		"conformance kind with a load":  {func(m map[string]any) { m["kind"] = "conformance" }, ""},
		"unknown step model":            {func(m map[string]any) { step(m, 0)["model"] = "burst" }, "/load/steps/0/model"},
		"unknown step field":            {func(m map[string]any) { step(m, 1)["p42_ns"] = 1 }, "/load/steps/1"},
		"negative requests":             {func(m map[string]any) { step(m, 0)["requests"] = -3 }, "/load/steps/0/requests"},
		"success above 1":               {func(m map[string]any) { step(m, 0)["success"] = 1.5 }, "/load/steps/0/success"},
		"fractional count":              {func(m map[string]any) { step(m, 0)["ok"] = 2.5 }, "/load/steps/0/ok"},
		"status code not a number":      {func(m map[string]any) { step(m, 0)["status_codes"].(map[string]any)["ok"] = 1 }, "/load/steps/0/status_codes"},
		"missing latency":               {func(m map[string]any) { delete(step(m, 1), "latency") }, "/load/steps/1"},
		"steps null":                    {func(m map[string]any) { m["load"].(map[string]any)["steps"] = nil }, "/load/steps"},
		"empty error group": {func(m map[string]any) {
			step(m, 1)["errors"].([]any)[0].(map[string]any)["count"] = 0
		}, "/load/steps/1/errors/0/count"},
		"gate without a verdict": {func(m map[string]any) {
			delete(m["load"].(map[string]any)["gates"].([]any)[0].(map[string]any), "passed")
		}, "/load/gates/0"},
		"bucket of no width": {func(m map[string]any) {
			step(m, 0)["time_buckets"].([]any)[3].(map[string]any)["width_ns"] = 0
		}, "/load/steps/0/time_buckets/3/width_ns"},
		"unknown http version": {func(m map[string]any) {
			m["load"].(map[string]any)["generator"].(map[string]any)["http_version"] = "HTTP/3"
		}, "/load/generator/http_version"},
	}
	for name, e := range edits {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		e.edit(m)
		doc, _ := json.Marshal(m)
		err := schema.ValidateResults(doc)
		var se *schema.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: got %v, want a schema error", name, err)
			continue
		}
		found := false
		for _, p := range se.Problems {
			if p.Pointer == e.pointer {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no problem at %q in %v", name, e.pointer, se.Problems)
		}
	}
	// A capacity search's bound is one of the known ones.
	var m map[string]any
	if err := json.Unmarshal(jsonOf(t, resultstest.CapacitySample()), &m); err != nil {
		t.Fatal(err)
	}
	m["load"].(map[string]any)["capacity"].(map[string]any)["bound"] = "patience"
	doc, _ := json.Marshal(m)
	if err := schema.ValidateResults(doc); err == nil || !strings.Contains(err.Error(), "/load/capacity/bound") {
		t.Errorf("unknown capacity bound: %v", err)
	}
}

func spec(m map[string]any, i int) map[string]any {
	return m["specs"].([]any)[i].(map[string]any)
}

// TestSchemaCoversModel walks the Go model and the schema together: every
// JSON field of every type reachable from results.Run must be a property
// of the schema at that place, and every schema property a field. A field
// added to the model without the schema (or the reverse) fails here before
// any results.json fails to validate.
func TestSchemaCoversModel(t *testing.T) {
	root := schemaDoc(t)
	for _, gap := range gaps(root, root, reflect.TypeOf(results.Run{}), "Run") {
		t.Error(gap)
	}
}

// TestSchemaCoverageCatchesGaps is the failing twin.
func TestSchemaCoverageCatchesGaps(t *testing.T) {
	type widened struct {
		results.Run
		Diff *struct {
			Rows []string `json:"rows"`
		} `json:"diff,omitempty"`
	}
	root := schemaDoc(t)
	if g := gaps(root, root, reflect.TypeOf(widened{}), "Run"); len(g) == 0 {
		t.Error("a model field missing from the schema was not found")
	}
	props := root["properties"].(map[string]any)
	props["retired"] = map[string]any{"type": "string"}
	if g := gaps(root, root, reflect.TypeOf(results.Run{}), "Run"); len(g) == 0 {
		t.Error("a schema property missing from the model was not found")
	}
}

func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(schema.ResultsV1, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var timeType = reflect.TypeOf(time.Time{})

// gaps compares the struct type typ with the schema object node.
func gaps(root, node map[string]any, typ reflect.Type, path string) []string {
	node = deref(root, node)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Struct:
		if typ == timeType {
			return nil
		}
		props, _ := node["properties"].(map[string]any)
		if props == nil {
			return []string{path + ": schema has no properties for struct " + typ.Name()}
		}
		var out []string
		fields := jsonFields(typ)
		for name, ft := range fields {
			p, ok := props[name].(map[string]any)
			if !ok {
				out = append(out, path+"."+name+": in the model, not in the schema")
				continue
			}
			out = append(out, gaps(root, p, ft, path+"."+name)...)
		}
		for name := range props {
			if _, ok := fields[name]; !ok {
				out = append(out, path+"."+name+": in the schema, not in the model")
			}
		}
		if node["additionalProperties"] != false {
			out = append(out, path+": schema object does not refuse unknown properties")
		}
		return out
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.Struct {
			items, _ := node["items"].(map[string]any)
			return gaps(root, items, typ.Elem(), path+"[]")
		}
	case reflect.Map:
		if typ.Elem().Kind() == reflect.Struct {
			ap, _ := node["additionalProperties"].(map[string]any)
			return gaps(root, ap, typ.Elem(), path+"{}")
		}
	}
	return nil
}

// deref follows a local $ref ("#/$defs/spec").
func deref(root, node map[string]any) map[string]any {
	for node != nil {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		name := strings.TrimPrefix(ref, "#/$defs/")
		node, _ = root["$defs"].(map[string]any)[name].(map[string]any)
	}
	return node
}

// jsonFields lists the JSON names of a struct's fields, flattening embedded
// structs as encoding/json does.
func jsonFields(typ reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
