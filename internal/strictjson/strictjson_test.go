package strictjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // substrings, one per expected problem, in order
	}{
		{"clean object", `{"a":1,"b":{"a":2},"c":[{"a":1},{"a":1}]}`, nil},
		{"clean scalar", `"x"`, nil},
		{"top-level duplicate", `{"sub":"a","sub":"b"}`, []string{`$.sub: duplicate member "sub"`}},
		{"nested duplicate", `{"a":{"x":1,"x":2}}`, []string{`$.a.x: duplicate member "x"`}},
		{"duplicate in array element", `{"keys":[{},{"kid":"1","kid":"2"}]}`, []string{`$.keys[1].kid: duplicate`}},
		{"odd name", `{"a b":1,"a b":2}`, []string{`$["a b"]: duplicate`}},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", []string{"not UTF-8: invalid byte sequence at offset 6"}},
		{"invalid UTF-8 and duplicate", "{\"a\":\"\xc3\",\"a\":1}", []string{"not UTF-8", `duplicate member "a"`}},
		{"not JSON", `{"a":`, []string{"not valid JSON"}},
		{"empty", ``, []string{"not valid JSON"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Strings(Check([]byte(tc.in)))
			if len(got) != len(tc.want) {
				t.Fatalf("Check(%q) = %q, want %d problems like %q", tc.in, got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

// A document repeating one name many times yields a bounded report.
func TestCheckBoundsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 10000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"x":1`)
	}
	b.WriteString("}")
	if n := len(Check([]byte(b.String()))); n != MaxProblems {
		t.Errorf("%d problems, want %d", n, MaxProblems)
	}
}

func TestDuplicatesLeavesEncoding(t *testing.T) {
	if got := Duplicates([]byte("{\"a\":\"\xff\"}")); len(got) != 0 {
		t.Errorf("Duplicates reported %v", got)
	}
	if got := Duplicates([]byte(`{"a":1,"a":1}`)); len(got) != 1 {
		t.Errorf("Duplicates = %v", got)
	}
}

// Values never appear in problems: they may be secrets.
func TestProblemsNameNoValue(t *testing.T) {
	for _, p := range Check([]byte("{\"access_token\":\"s3cr3t\xff\",\"access_token\":\"s3cr3t-2\"}")) {
		if strings.Contains(p.String(), "s3cr3t") {
			t.Errorf("problem quotes a value: %s", p)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, "{\"\xff\":1}", `[[[[{}]]]]`, `{"a":{"b":[1,{"c":null,"c":true}]}}`, `{"a"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps := Check(data)
		if len(ps) > MaxProblems+2 {
			t.Errorf("%d problems", len(ps))
		}
		var v any
		valid := json.Unmarshal(data, &v) == nil
		if valid && utf8.Valid(data) {
			// Differential: the scanner agrees with encoding/json's own
			// tokenizer on every repeated name.
			var got []string
			for _, p := range Duplicates(data) {
				got = append(got, p.Path)
			}
			want := referenceDuplicates(t, data)
			if len(want) > MaxProblems {
				want = want[:MaxProblems]
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("duplicates of %q:\n got  %q\n want %q", data, got, want)
			}
		}
		for _, p := range ps {
			if p.Path == "" || p.Msg == "" {
				t.Errorf("empty problem %+v", p)
			}
			if valid && strings.Contains(p.Msg, "not valid JSON") {
				t.Errorf("json.Unmarshal accepts %q but Check says %s", data, p)
			}
		}
	})
}

// referenceDuplicates finds repeated member names with json.Decoder's
// tokenizer: slow, but independent of the scanner under test.
func referenceDuplicates(t *testing.T, data []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []string
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("reference: %v", err)
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, _ := dec.Token()
				name := k.(string)
				p := memberPath(path, name)
				if seen[name] {
					out = append(out, p)
				}
				seen[name] = true
				walk(p)
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				walk(path + "[" + strconv.Itoa(i) + "]")
			}
			_, _ = dec.Token()
		}
	}
	walk("$")
	return out
}

func BenchmarkCheck(b *testing.B) {
	doc := []byte(`{"access_token":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","token_type":"Bearer","expires_in":3600,"scope":"openid profile","nested":{"a":[1,2,{"b":null}]}}`)
	b.ReportAllocs()
	for b.Loop() {
		if len(Check(doc)) != 0 {
			b.Fatal("problems")
		}
	}
}
