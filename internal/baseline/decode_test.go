package baseline_test

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/baseline/baselinetest"
	"github.com/idpconform/idpconform/internal/jsonkind"
)

// sample captures the akoya mock once for the decoder tests.
func sample(t testing.TB) []byte {
	t.Helper()
	b, _, _ := baselinetest.Capture(t, baselinetest.Target(t, "mock-akoya"), baselinetest.Hasher(t), 2)
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeRoundTrip(t *testing.T) {
	data := sample(t)
	b, err := baseline.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := b.Encode(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again.Bytes()) {
		t.Error("a decoded baseline encodes differently")
	}
	b2, err := baseline.Decode(bytes.NewReader(again.Bytes()))
	if err != nil || !reflect.DeepEqual(b, b2) {
		t.Errorf("second decode: %v", err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	data := string(sample(t))
	cases := map[string]string{
		`{}`:  `not a baseline: format is ""`,
		`[1]`: "not a JSON object",
		`{"format":"idpconform-baseline","version":2}`:                             "baseline version 2 is not supported",
		strings.Replace(data, `"tool":`, `"toll": "x", "tool":`, 1):                "unknown field \"toll\"",
		strings.Replace(data, `"source": "generated"`, `"source": "guessed"`, 1):   "sub_key.source \"guessed\"",
		strings.Replace(data, `"samples": 4,`, `"samples": 0,`, 1):                 "samples must be at least 1",
		strings.Replace(data, `"reverify_failed": 0`, `"reverify_failed": 999`, 1): "reverify_failed 999 must be between 0",
		strings.Replace(data, `"kind": "id_token",`, `"kind": "access_token",`, 1): "contracts.id_token holds a contract of kind \"access_token\"",
		strings.Replace(data, `"type": "numeric_date"`, `"type": "date"`, 1):       `unknown type "date"`,
		data + data: "invalid character",
	}
	for in, want := range cases {
		if in == data {
			t.Fatalf("case for %q changed nothing", want)
		}
		_, err := baseline.Decode(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
	if _, err := baseline.Decode(strings.NewReader(data)); err != nil {
		t.Errorf("the unchanged baseline is refused: %v", err)
	}
}

// A claim type outside the jsonkind vocabulary is refused, naming the
// shape's token kind and the claim: a diff would otherwise report
// "type banana → string" as a change. The twin: every real kind passes.
func TestDecodeRefusesInventedClaimType(t *testing.T) {
	data := sample(t)
	for _, kind := range append([]string{"banana"}, kindStrings()...) {
		for _, field := range []string{"types", "elements"} {
			b, err := baseline.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(b.Shapes, func(s baseline.Shape) bool { return s.Kind == baseline.KindIDToken && s.Claims["sub"].Present > 0 })
			if i < 0 {
				t.Fatal("the sample has no id_token shape with a sub")
			}
			c := b.Shapes[i].Claims["sub"]
			if field == "types" {
				c.Types = []string{kind}
			} else {
				c.Elements = []string{kind}
			}
			b.Shapes[i].Claims["sub"] = c
			var buf bytes.Buffer
			if err := b.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			_, err = baseline.Decode(&buf)
			if kind != "banana" {
				if err != nil {
					t.Errorf("%s %q refused: %v", field, kind, err)
				}
				continue
			}
			want := fmt.Sprintf("shapes[%d] (id_token from %s", i, b.Shapes[i].Flow)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "claims.sub."+field+`: "banana" is not a JSON kind; expected one of null, string,`) {
				t.Errorf("%s banana: got %v, want %q and the claim", field, err, want)
			}
		}
	}
}

func kindStrings() []string {
	var out []string
	for _, k := range jsonkind.All() {
		out = append(out, string(k))
	}
	return out
}

// FuzzDecode: no input makes the decoder panic, and whatever it accepts
// encodes and decodes again. The corpus starts from a real capture.
func FuzzDecode(f *testing.F) {
	f.Add(sample(f))
	f.Add([]byte(`{"format":"idpconform-baseline","version":1,"sub_key":{"id":"x","source":"provided"},"target":{"name":"t"},"shapes":[{"kind":"k","flow":"f","samples":1,"claims":{"a":{"types":["string"],"present":2}}}]}`))
	f.Add([]byte(`{"format":"idpconform-baseline","version":1,"latency":[{"operation":"x","samples":1,"p50_ms":-1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := baseline.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := b.Encode(&buf); err != nil {
			t.Fatalf("an accepted baseline does not encode: %v", err)
		}
		if _, err := baseline.Decode(&buf); err != nil {
			t.Fatalf("an accepted baseline does not decode again: %v", err)
		}
	})
}
