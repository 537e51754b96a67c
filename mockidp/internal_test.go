package mockidp

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// Seed 000's example sub is the mock's derivation for mikomo_6 at mikomo.
func TestAkoyaSubjectMatchesSeed(t *testing.T) {
	if got := akoyaSubject("mikomo_6", "mikomo"); got != "CghtaWtvbW9fNhIGbWlrb21v" {
		t.Errorf("got %s", got)
	}
	if got := akoyaSubject("mikomo_1", "mikomo"); got != "CghtaWtvbW9fMRIGbWlrb21v" {
		t.Errorf("seed 001's sub: got %s", got)
	}
	if akoyaSubject("mikomo_1", "otherbank") == akoyaSubject("mikomo_1", "mikomo") {
		t.Error("the provider does not change the sub")
	}
	long := akoyaSubject(string(make([]byte, 200)), "p")
	if len(long) < 200 {
		t.Error("a login over 127 bytes needs a two-byte length")
	}
}

func TestClaimSetOrder(t *testing.T) {
	c := newClaims()
	c.set("z", 1)
	c.set("a", "x")
	c.set("m", []string{"q"})
	c.set("a", "y") // replacing keeps the place
	c.setIf("empty", "")
	c.setIf("none", []string{})
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"z":1,"a":"y","m":["q"]}` {
		t.Errorf("got %s", b)
	}
	c.del("a")
	c.del("absent")
	if !slices.Equal(c.Names(), []string{"z", "m"}) {
		t.Errorf("names %v", c.Names())
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Errorf("not JSON: %v", err)
	}
}

func TestChangeTypeAndFlip(t *testing.T) {
	cases := []struct{ in, out any }{
		{"s", []string{"s"}},
		{[]string{"a", "b"}, "a b"},
		{int64(5), "5"},
		{true, "true"},
		{1.5, "1.5"},
		{map[string]int{"a": 1}, `{"a":1}`},
	}
	for _, c := range cases {
		got, _ := json.Marshal(changeType(c.in))
		want, _ := json.Marshal(c.out)
		if string(got) != string(want) {
			t.Errorf("changeType(%v) = %s, want %s", c.in, got, want)
		}
	}
	if v := flipAudience("a"); !slices.Equal(v.([]string), []string{"a"}) {
		t.Errorf("flip string: %v", v)
	}
	if v := flipAudience([]string{"a"}); v != "a" {
		t.Errorf("flip array: %v", v)
	}
	if v := flipAudience([]string{"a", "b"}); len(v.([]string)) != 2 {
		t.Errorf("flip two: %v", v)
	}
}

// The store forgets what expired a while ago, and only that.
func TestStoreSweep(t *testing.T) {
	s := newStore()
	t0 := time.Unix(1_000_000, 0)
	s.putToken("short", &record{kind: kindAccess, expires: t0.Add(time.Second)}, t0)
	s.putToken("long", &record{kind: kindAccess, expires: t0.Add(time.Hour)}, t0)
	s.putCode("code", &authCode{expires: t0.Add(time.Minute)}, t0)
	s.revokeJTI("j", t0.Add(2*time.Second))
	later := t0.Add(sweepGrace + 3*time.Second)
	s.putToken("new", &record{kind: kindAccess, expires: later.Add(time.Hour)}, later)
	if _, ok := s.lookup("short"); ok {
		t.Error("expired token kept past the grace")
	}
	if s.jtiRevoked("j") {
		t.Error("expired revocation kept")
	}
	for _, k := range []string{"long", "new"} {
		if _, ok := s.lookup(k); !ok {
			t.Errorf("live token %s dropped", k)
		}
	}
	if _, _, ok := s.code("code"); !ok {
		t.Error("live code dropped")
	}
	// A clock jump of a year walks the buckets, not the seconds.
	s.putToken("x", &record{kind: kindAccess, expires: later}, later.Add(365*24*time.Hour))
	if _, ok := s.lookup("long"); ok {
		t.Error("token kept a year after expiry")
	}
}

func TestFaultShareSequence(t *testing.T) {
	f, err := ParseFault("status-5xx=0.5")
	if err != nil {
		t.Fatal(err)
	}
	fs := newFaultSet([]Fault{f})
	var got []bool
	for range 6 {
		got = append(got, fs.fires(fs.byName[FaultServerError]))
	}
	if !slices.Equal(got, []bool{false, true, false, true, false, true}) {
		t.Errorf("sequence %v", got)
	}
}

func TestVarint(t *testing.T) {
	if got := appendVarint(nil, 300); !slices.Equal(got, []byte{0xac, 0x02}) {
		t.Errorf("300 -> %x", got)
	}
}

// README.md documents every fault and drift of the catalogues, each row as
// the catalogue has it: a row that grades a fault SHOULD where the
// catalogue (and so `mock --list` and the selftest) says MUST misleads.
func TestReadmeListsCatalogues(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, p := range readmeCatalogueProblems(readme) {
		t.Error(p)
	}
	for _, p := range Profiles() {
		if !strings.Contains(readme, "| `"+p+"` |") {
			t.Errorf("README.md lacks profile %s", p)
		}
	}
}

// The failing twin: rows that drift from the catalogue in each column are
// named, as is a row for something the catalogue does not have.
func TestReadmeCatalogueCheckFails(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	good := string(b)
	cases := []struct{ from, to, want string }{
		// The row as it was before severity was checked.
		{"numerical values are JSON numbers) (MUST)", "SHOULD)", "fault expires-in-string: violates: README has"},
		{"| `token-type` | `TYPE` (`JWT`) |", "| `token-type` | `TYPE` (`Bearer`) |", "fault token-type: value"},
		{"RFC 7636 §4.6 (MUST) | authcode, security |", "RFC 7636 §4.6 (MUST) | authcode |", "fault pkce-ignored: caught by"},
		{"| `unstable-sub` |  | yes |", "| `unstable-sub` |  | no |", "drift unstable-sub: breaking"},
		{"| `aud-flip` |  | no | sends aud", "| `aud-flip` |  | no | flips aud", "drift aud-flip: what changes"},
		{"| `no-pragma` |", "| `no-pragmas` |", "README.md lacks fault no-pragma"},
	}
	for _, c := range cases {
		if !strings.Contains(good, c.from) {
			t.Fatalf("README.md has no %q to change", c.from)
		}
		bad := strings.Replace(good, c.from, c.to, 1)
		got := strings.Join(readmeCatalogueProblems(bad), "\n")
		if !strings.Contains(got, c.want) {
			t.Errorf("README with %q for %q: problems\n%s\nwant one containing %q", c.to, c.from, got, c.want)
		}
	}
}

// readmeCatalogueProblems compares the fault and drift tables of readme
// with faultCatalog and driftCatalog, column by column.
func readmeCatalogueProblems(readme string) []string {
	rows := map[string][]string{} // "fault x" / "drift x" -> cells after the name
	table := ""
	for _, line := range strings.Split(readme, "\n") {
		switch {
		case strings.HasPrefix(line, "| fault |"):
			table = "fault"
			continue
		case strings.HasPrefix(line, "| drift |"):
			table = "drift"
			continue
		case !strings.HasPrefix(line, "|"):
			table = ""
			continue
		case table == "" || strings.HasPrefix(line, "|---"):
			continue
		}
		cells := tableCells(line)
		if len(cells) == 0 {
			continue
		}
		rows[table+" "+strings.Trim(cells[0], "`")] = cells[1:]
	}
	var problems []string
	check := func(key string, cols []string, want []string) {
		got, ok := rows[key]
		if !ok {
			problems = append(problems, "README.md lacks "+key)
			return
		}
		delete(rows, key)
		if len(got) != len(want) {
			problems = append(problems, fmt.Sprintf("%s: README has %d columns after the name, want %d", key, len(got), len(want)))
			return
		}
		for i := range want {
			if got[i] != want[i] {
				problems = append(problems, fmt.Sprintf("%s: %s: README has %q, the catalogue %q", key, cols[i], got[i], want[i]))
			}
		}
	}
	for _, f := range faultCatalog {
		caught := strings.Join(f.CaughtBy, ", ")
		if len(f.Profiles) > 0 {
			caught += " (" + strings.Join(f.Profiles, ", ") + " only)"
		}
		check("fault "+string(f.Name), []string{"value", "what goes wrong", "violates", "caught by"},
			[]string{readmeValue(f.Param, f.Default), f.Description, f.Violates + " (" + f.Severity + ")", caught})
	}
	for _, d := range driftCatalog {
		breaking := "no"
		if d.Breaking {
			breaking = "yes"
		}
		check("drift "+string(d.Name), []string{"value", "breaking", "what changes"},
			[]string{readmeValue(d.Param, d.Default), breaking, d.Description})
	}
	for key := range rows {
		problems = append(problems, "README.md documents "+key+", which the catalogue does not have")
	}
	slices.Sort(problems)
	return problems
}

// readmeValue is the value column: the syntax and its default, each in
// backquotes, with | escaped as Markdown tables need.
func readmeValue(param, def string) string {
	if param == "" {
		return ""
	}
	v := "`" + strings.ReplaceAll(param, "|", `\|`) + "`"
	if def != "" {
		v += " (`" + def + "`)"
	}
	return v
}

// tableCells splits a Markdown table row on the | that are not escaped.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' && i+1 < len(line) && line[i+1] == '|' {
			cur.WriteString(`\|`)
			i++
			continue
		}
		if line[i] == '|' {
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteByte(line[i])
	}
	return append(cells, strings.TrimSpace(cur.String()))
}
