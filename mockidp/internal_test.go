package mockidp

import (
	"encoding/json"
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

// README.md documents every fault and drift of the catalogues.
func TestReadmeListsCatalogues(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range faultCatalog {
		if !strings.Contains(string(b), "| `"+string(f.Name)+"` |") {
			t.Errorf("README.md lacks fault %s", f.Name)
		}
	}
	for _, d := range driftCatalog {
		if !strings.Contains(string(b), "| `"+string(d.Name)+"` |") {
			t.Errorf("README.md lacks drift %s", d.Name)
		}
	}
	for _, p := range Profiles() {
		if !strings.Contains(string(b), "| `"+p+"` |") {
			t.Errorf("README.md lacks profile %s", p)
		}
	}
}
