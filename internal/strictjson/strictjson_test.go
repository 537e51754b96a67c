package strictjson

import (
	"encoding/json"
	"strings"
	"testing"
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
