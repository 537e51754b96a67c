package jsonkind

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	cases := []struct {
		json string
		want Kind
	}{
		{`null`, Null}, {`"x"`, String}, {`true`, Boolean}, {`3`, Integer}, {`3.5`, Number},
		{`1e3`, Integer}, {`[]`, StringArray}, {`["a","b"]`, StringArray}, {`["a",1]`, Array},
		{`{}`, Object},
	}
	for _, c := range cases {
		var v any
		if err := json.Unmarshal([]byte(c.json), &v); err != nil {
			t.Fatal(err)
		}
		if got := Of(v); got != c.want {
			t.Errorf("Of(%s) = %s, want %s", c.json, got, c.want)
		}
		// json.Number decoding must agree on numbers.
		var n any
		d := json.NewDecoder(strings.NewReader(c.json))
		d.UseNumber()
		if err := d.Decode(&n); err != nil {
			t.Fatal(err)
		}
		if got := Of(n); got != c.want {
			t.Errorf("Of(json.Number %s) = %s, want %s", c.json, got, c.want)
		}
	}
}

func TestIs(t *testing.T) {
	if !Integer.Is(Number) || Number.Is(Integer) || !StringArray.Is(Array) || Array.Is(StringArray) || String.Is(Number) {
		t.Error("Is relation wrong")
	}
	if Integer.Describe() != "an integer" || StringArray.Describe() != "a string array" || Null.Describe() != "null" {
		t.Error("Describe wrong")
	}
}

// Every kind Of gives a decoded JSON value is Known; a name Of never gives
// ("unknown", an invented one) is not.
func TestKnown(t *testing.T) {
	for _, src := range []string{`null`, `"x"`, `true`, `3`, `3.5`, `["a"]`, `[1]`, `{}`} {
		var v any
		if err := json.Unmarshal([]byte(src), &v); err != nil {
			t.Fatal(err)
		}
		if k := Of(v); !Known(string(k)) {
			t.Errorf("Of(%s) = %q is not Known", src, k)
		}
	}
	for _, name := range []string{"banana", "unknown", "", "String", "numeric_date"} {
		if Known(name) {
			t.Errorf("Known(%q) = true", name)
		}
	}
}
