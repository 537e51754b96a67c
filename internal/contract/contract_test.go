package contract

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/yamlfile"
)

const akoyaLike = `name: test-id-token
kind: id_token
source: seed 000
claims:
  sub: {type: string, presence: mandatory, min_length: 8}
  aud: {type: audience, presence: mandatory}
  exp: {type: numeric_date, presence: mandatory}
  products: {type: string_array, presence: mandatory}
  accounts: {type: string_array}
  email_verified: {type: boolean, presence: optional}
  debug: {type: any, presence: forbidden}
  n: {type: number}
  i: {type: integer, strict: true}
`

func parse(t *testing.T, src string) *Contract {
	t.Helper()
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheckTolerance(t *testing.T) {
	c := parse(t, akoyaLike)
	base := `{"sub":"CghtaWtvbW9fNhIGbWlrb21v","aud":["fintech_app"],"exp":1689881094,"products":["TRANSACTIONS"]}`
	// Non-breaking: new claims, other order, aud as a string, a longer
	// opaque sub, an empty accounts list.
	tolerated := []string{
		base,
		`{"products":["TRANSACTIONS"],"exp":1689881094,"aud":"fintech_app","sub":"CghtaWtvbW9fNhIGbWlrb21v"}`,
		`{"sub":"a-much-longer-opaque-subject-in-a-new-format-1234567890","aud":["x"],"exp":1,"products":[],"accounts":[]}`,
		`{"sub":"CghtaWtvbW9f","aud":["x"],"exp":1.5,"products":["A"],"rat":1689794644,"grant_id":"7a85"}`,
		`{"sub":"CghtaWtvbW9f","aud":["x"],"exp":1,"products":["A"],"n":3,"i":4}`,
	}
	for _, js := range tolerated {
		if v := Violations(c.Check(decode(t, js))); len(v) != 0 {
			t.Errorf("%s: violations %v", js, v)
		}
	}
	fs := c.Check(decode(t, `{"sub":"CghtaWtvbW9f","aud":["x"],"exp":1,"products":["A"],"rat":1}`))
	if len(fs) != 1 || fs[0].Level != Info || fs[0].Claim != "rat" {
		t.Errorf("new claim not reported as info: %v", fs)
	}

	breaking := map[string]string{
		`{"aud":["x"],"exp":1,"products":["A"]}`:                                            "sub: mandatory claim is missing",
		`{"sub":12345678,"aud":["x"],"exp":1,"products":["A"]}`:                             "sub: expected a string, got an integer",
		`{"sub":"short","aud":["x"],"exp":1,"products":["A"]}`:                              "sub: expected at least 8 characters, got 5",
		`{"sub":"CghtaWtvbW9f","aud":[1],"exp":1,"products":["A"]}`:                         "aud: expected a string or an array of strings, got an array",
		`{"sub":"CghtaWtvbW9f","aud":"x","exp":"1","products":["A"]}`:                       "exp: expected a NumericDate",
		`{"sub":"CghtaWtvbW9f","aud":"x","exp":1,"products":"A"}`:                           "products: expected a string array, got a string",
		`{"sub":"CghtaWtvbW9f","aud":"x","exp":1,"products":["A"],"debug":1}`:               "debug: claim is forbidden",
		`{"sub":"CghtaWtvbW9f","aud":"x","exp":1,"products":["A"],"email_verified":"true"}`: "email_verified: expected a boolean, got a string",
		`{"sub":"CghtaWtvbW9f","aud":"x","exp":1,"products":["A"],"i":4.5}`:                 "i: expected an integer, got a number",
	}
	for js, want := range breaking {
		v := Violations(c.Check(decode(t, js)))
		if len(v) != 1 || !strings.Contains(v[0].String(), want) {
			t.Errorf("%s: got %v, want %q", js, v, want)
		}
	}
}

func TestStrictNumber(t *testing.T) {
	c := parse(t, "name: x\nkind: access_token\nclaims:\n  n: {type: number, strict: true}\n  d: {type: numeric_date, strict: true}\n")
	if v := Violations(c.Check(decode(t, `{"n":3,"d":1.5}`))); len(v) != 2 {
		t.Errorf("strict: %v", v)
	}
	if v := Violations(c.Check(decode(t, `{"n":3.5,"d":2}`))); len(v) != 0 {
		t.Errorf("strict twin: %v", v)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		strings.Replace(akoyaLike, "type: boolean", "type: bool", 1):            `c.yaml:10:`,
		strings.Replace(akoyaLike, "presence: forbidden", "presence: never", 1): `claims.debug.presence: unknown presence "never"`,
		strings.Replace(akoyaLike, "kind: id_token", "kind: idtoken", 1):        `c.yaml:2:7: kind: unknown kind "idtoken"`,
		strings.Replace(akoyaLike, "min_length: 8", "min_lengt: 8", 1):          `did you mean "min_length"`,
	}
	for src, want := range cases {
		_, err := Parse("c.yaml", []byte(src))
		var ye *yamlfile.Error
		if !errors.As(err, &ye) || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}

func TestBundledContracts(t *testing.T) {
	set, err := LoadFS(fixtures.FS, fixtures.ContractsDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Get("rfc9068-access-token"); err != nil {
		t.Error(err)
	}
	if _, err := set.Get("nope"); err == nil || !strings.Contains(err.Error(), "rfc9068-access-token") {
		t.Errorf("unknown contract error should list the known ones: %v", err)
	}
}

func TestDuplicateContractNames(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(dir+"/"+f, []byte("name: same\nkind: id_token\nclaims:\n  sub: {type: string}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadFS(os.DirFS(dir), "."); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("got %v", err)
	}
}

// FuzzCheck runs every check of the evaluator (claim rules, relations with
// and without context, series) on arbitrary JSON: no panic, and every
// finding names its claim, rule and reason.
func FuzzCheck(f *testing.F) {
	f.Add(`{"sub":"x","aud":["a"],"exp":1}`, `{"sub":"x","accounts":["1"]}`)
	f.Add(`{"aud":[1,{"x":null}],"products":null}`, `{}`)
	f.Add(`{"exp":"1","iat":1e400,"tid":{"a":[]},"aud":null,"at_hash":7}`, `{"sub":[],"accounts":{"b":1}}`)
	f.Add(`{"exp":-1e308,"iat":1e308,"aud":"client-1","at_hash":"x"}`, `{"sub":null}`)
	c, err := Parse("c.yaml", []byte(akoyaLike))
	if err != nil {
		f.Fatal(err)
	}
	rel, err := Parse("rel.yaml", []byte(relational))
	if err != nil {
		f.Fatal(err)
	}
	cx := Context{ClientID: "client-1", TTL: time.Hour, Skew: time.Second, AccessToken: "at", Alg: "EdDSA"}
	f.Fuzz(func(t *testing.T, js, js2 string) {
		dec := func(s string) map[string]any {
			d := json.NewDecoder(strings.NewReader(s))
			d.UseNumber()
			var m map[string]any
			if d.Decode(&m) != nil {
				return nil
			}
			return m
		}
		m, m2 := dec(js), dec(js2)
		if m == nil {
			return
		}
		_, emptyName := m[""] // a claim may be named "" (JSON allows it)
		var all []Finding
		all = append(all, c.Check(m)...)
		all = append(all, rel.Check(m)...)
		all = append(all, rel.CheckWith(m, cx)...)
		all = append(all, rel.CheckSeries([]Observation{{Subject: "u", Step: StepLogin, Claims: m}, {Subject: "u", Step: StepRefresh, Claims: m2}, {Subject: "u", Step: StepRelogin, Claims: m}})...)
		for _, fd := range all {
			if fd.Claim == "" && !emptyName || fd.Message == "" || fd.Rule == "" {
				t.Errorf("empty finding %+v", fd)
			}
		}
	})
}
