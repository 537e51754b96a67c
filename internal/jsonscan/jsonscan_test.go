package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type member struct {
	Name string
	Kind Kind
	Raw  string
}

func collect(t testing.TB, data []byte) ([]member, error) {
	t.Helper()
	var got []member
	err := Members(data, func(name []byte, v Value) {
		got = append(got, member{string(name), v.Kind, string(v.Raw)})
	})
	return got, err
}

func TestMembers(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []member
		err      string // "" for success, "object" for ErrNotObject, else a SyntaxError substring
	}{
		{"empty object", ` {} `, nil, ""},
		{"every kind", `{"o":{"x":[1,{"y":null}]},"a":[],"s":"v","n":-1.5e+3,"t":true,"f":false,"z":null}`, []member{
			{"o", Object, `{"x":[1,{"y":null}]}`}, {"a", Array, `[]`}, {"s", String, `"v"`}, {"n", Number, `-1.5e+3`},
			{"t", Bool, `true`}, {"f", Bool, `false`}, {"z", Null, `null`},
		}, ""},
		{"duplicates all visited, in order", `{"a":"1","a":2}`, []member{{"a", String, `"1"`}, {"a", Number, `2`}}, ""},
		{"escaped name decoded", `{"access\u005ftoken":"x"}`, []member{{"access_token", String, `"x"`}}, ""},
		{"names are case-sensitive", `{"Access_Token":"x"}`, []member{{"Access_Token", String, `"x"`}}, ""},
		{"array is not an object", `[1]`, nil, "object"},
		{"null is not an object", `null`, nil, "object"},
		{"string is not an object", `"{}"`, nil, "object"},
		{"empty text", ``, nil, "unexpected end"},
		{"truncated", `{"a":`, nil, "unexpected end"},
		{"trailing comma", `{"a":1,}`, nil, "expected a member name"},
		{"trailing data", `{} {}`, nil, "data after"},
		{"leading zero", `{"a":01}`, nil, "expected ',' or '}'"},
		{"bare minus", `{"a":-}`, nil, "bad number"},
		{"fraction without digits", `{"a":1.}`, nil, "bad number"},
		{"exponent without digits", `{"a":1e}`, nil, "bad number"},
		{"control character", "{\"a\":\"x\ny\"}", nil, "control character"},
		{"bad escape", `{"a":"\x"}`, nil, "bad escape"},
		{"short unicode escape", `{"a":"\u12"}`, nil, "bad \\u escape"},
		{"unterminated string", `{"a":"x`, nil, "unterminated"},
		{"bad literal", `{"a":tru}`, nil, "bad literal"},
		{"single quotes", `{'a':1}`, nil, "expected a member name"},
		{"missing colon", `{"a" 1}`, nil, "expected ':'"},
		{"unclosed nested array", `{"a":[1,2}`, nil, "expected ',' or ']'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, []byte(tc.in))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Members(%q): %v, want success", tc.in, err)
			case tc.err == "object":
				if !errors.Is(err, ErrNotObject) {
					t.Fatalf("Members(%q) = %v, want ErrNotObject", tc.in, err)
				}
			case tc.err != "":
				var se *SyntaxError
				if !errors.As(err, &se) || !strings.Contains(se.Msg, tc.err) {
					t.Fatalf("Members(%q) = %v, want a syntax error like %q", tc.in, err, tc.err)
				}
				if json.Valid([]byte(tc.in)) {
					t.Fatalf("json.Valid accepts %q, which Members refused", tc.in)
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Members(%q) visited %v, want %v", tc.in, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("member %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// The nesting limit is encoding/json's: 10000 open containers pass, 10001
// fail, in both.
func TestMembersDepth(t *testing.T) {
	for _, n := range []int{MaxDepth, MaxDepth + 1} {
		// The top-level object is the first container.
		in := []byte(`{"a":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`)
		_, err := collect(t, in)
		if (err == nil) != json.Valid(in) {
			t.Errorf("depth %d: Members error %v, json.Valid %v", n, err, json.Valid(in))
		}
		if n > MaxDepth && err == nil {
			t.Errorf("depth %d accepted, want refused", n)
		}
	}
}

func TestStr(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`"plain"`, "plain"},
		{`"a\"b\\c\/d\n"`, "a\"b\\c/d\n"},
		{`"\u00e9\ud83d\ude00"`, "é😀"},
		{"\"\xff\"", "\uFFFD"},
	} {
		got, ok := Value{Kind: String, Raw: []byte(tc.raw)}.Str()
		if !ok || got != tc.want {
			t.Errorf("Str(%s) = %q, %v; want %q", tc.raw, got, ok, tc.want)
		}
	}
	if _, ok := (Value{Kind: Number, Raw: []byte("1")}).Str(); ok {
		t.Error("Str of a number: ok, want not ok")
	}
	if !(Value{Kind: Bool, Raw: []byte("true")}).IsTrue() || (Value{Kind: Bool, Raw: []byte("false")}).IsTrue() {
		t.Error("IsTrue wrong")
	}
	if !(Value{Kind: Bool, Raw: []byte("false")}).IsFalse() || (Value{Kind: String, Raw: []byte(`"false"`)}).IsFalse() {
		t.Error("IsFalse wrong")
	}
}

// oracle is what encoding/json says of data: whether it is valid, whether
// it is an object, and its top-level members in order with their raw
// values and decoded strings.
func oracle(t testing.TB, data []byte) (valid, object bool, members []member, strs []string) {
	if !json.Valid(data) {
		return false, false, nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // 1E1000 is valid JSON, though no float64
	tok, err := dec.Token()
	if err != nil {
		t.Fatalf("Token after json.Valid: %v", err)
	}
	if tok != json.Delim('{') {
		return true, false, nil, nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatalf("name: %v", err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("value: %v", err)
		}
		kind := map[byte]Kind{'{': Object, '[': Array, '"': String, 't': Bool, 'f': Bool, 'n': Null}[raw[0]]
		if kind == 0 {
			kind = Number
		}
		var s string
		if kind == String {
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("string: %v", err)
			}
		}
		members = append(members, member{k.(string), kind, string(raw)})
		strs = append(strs, s)
	}
	return true, true, members, strs
}

// FuzzMembers holds Members to encoding/json on any input: the same
// texts valid, the same ones objects, the same members in the same order
// with the same values, and strings decoded alike.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"access_token":"eyJ.x.y","token_type":"Bearer","expires_in":3600}`, `{"a":{"b":[1,2,{"c":null}]},"d":"\u00e9"}`,
		`[1,2]`, `null`, `"x"`, `1e5`, `{"a":1,}`, `{"a":01}`, "{\"a\":\"\xff\"}", `{"a\u0062":true}`, ` { "a" : -0.5E-7 } `,
		`{"a":"\ud800"}`, `{"a":1}x`, `{"a":[}`, `tru`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []member
		var strs []string
		err := Members(data, func(name []byte, v Value) {
			got = append(got, member{string(name), v.Kind, string(v.Raw)})
			s, _ := v.Str()
			strs = append(strs, s)
		})
		valid, object, want, wantStrs := oracle(t, data)
		var se *SyntaxError
		switch {
		case !valid:
			if !errors.As(err, &se) {
				t.Fatalf("json.Valid refuses %q; Members returned %v", data, err)
			}
			return
		case !object:
			if !errors.Is(err, ErrNotObject) {
				t.Fatalf("%q is valid JSON but no object; Members returned %v", data, err)
			}
			return
		case err != nil:
			t.Fatalf("%q is a valid object; Members returned %v", data, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: members %+v, encoding/json %+v", data, got, want)
		}
		for i := range got {
			// encoding/json re-renders nothing in a RawMessage, so raw
			// values compare byte for byte.
			if got[i] != want[i] || strs[i] != wantStrs[i] {
				t.Fatalf("%q: member %d = %+v %q, encoding/json %+v %q", data, i, got[i], strs[i], want[i], wantStrs[i])
			}
		}
	})
}

func BenchmarkMembers(b *testing.B) {
	body := []byte(`{"access_token":"` + strings.Repeat("A", 600) + `","token_type":"Bearer","expires_in":3600,"scope":"read write"}`)
	b.Run("jsonscan", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for range b.N {
			var tok string
			if err := Members(body, func(name []byte, v Value) {
				if string(name) == "access_token" {
					tok, _ = v.Str()
				}
			}); err != nil || tok == "" {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for range b.N {
			var v struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
			}
			if err := json.Unmarshal(body, &v); err != nil || v.AccessToken == "" {
				b.Fatal(err)
			}
		}
	})
}
