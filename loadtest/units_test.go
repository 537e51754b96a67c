package loadtest

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestSanitizeCode(t *testing.T) {
	cases := map[string]string{
		"invalid_grant":         "invalid_grant",
		"":                      "",
		"with space":            "with space",
		"quote\"inside":         "(error code with characters RFC 6749 §5.2 forbids)",
		"new\nline":             "(error code with characters RFC 6749 §5.2 forbids)",
		"ünïcode":               "(error code with characters RFC 6749 §5.2 forbids)",
		strings.Repeat("x", 65): "(over-long error code)",
		strings.Repeat("x", 64): strings.Repeat("x", 64),
	}
	for in, want := range cases {
		if got := sanitizeCode(in); got != want {
			t.Errorf("sanitizeCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOAuthErrorCode(t *testing.T) {
	cases := map[string]string{
		`{"error":"invalid_client","error_description":"x"}`: "invalid_client",
		`{"error":42}`:   "(non-string error member)",
		`{"other":1}`:    "",
		`<html>`:         "",
		`{"error":`:      "",
		`{"error":null}`: "",
		`["error"]`:      "",
		` {"error":"a"}`: "a",
	}
	for in, want := range cases {
		if got := oauthErrorCode([]byte(in)); got != want {
			t.Errorf("oauthErrorCode(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestInspectTokenResponse(t *testing.T) {
	cases := []struct {
		code    uint16
		body    string
		problem string
		oauth   string
		issued  int
	}{
		{200, `{"access_token":"a","token_type":"Bearer"}`, "", "", 1},
		{200, `{"access_token":"a","token_type":"Bearer","refresh_token":"r","id_token":"i"}`, "", "", 3},
		{200, `{"token_type":"Bearer"}`, problemNoAccessToken, "", 0},
		{200, `{"access_token":"a"}`, problemNoTokenType, "", 1},
		{200, `{"access_token":7,"token_type":"Bearer"}`, problemMalformed, "", 0},
		{200, `not json`, problemInvalidJSON, "", 0},
		{200, `{"access_token":"a","token_type":"Bearer"`, problemInvalidJSON, "", 0},
		{200, `[{"access_token":"a","token_type":"Bearer"}]`, problemNotJSON, "", 0},
		{200, `null`, problemNotJSON, "", 0},
		{200, `{"Access_Token":"a","token_type":"Bearer"}`, problemNoAccessToken, "", 0},
		{200, `{"access_token":null,"token_type":"Bearer"}`, problemNoAccessToken, "", 0},
		{200, `{"access_token":"a","access_token":null,"token_type":"Bearer"}`, "", "", 1},
		{200, `{"access\u005ftoken":"a","token_type":"Bearer"}`, "", "", 1},
		{200, `{"access_token":"a","token_type":["Bearer"]}`, problemMalformed, "", 0},
		{200, `{"error":"server_error"}`, problemErrorOn2xx, "server_error", 0},
		{302, ``, problemRedirect, "", 0},
		{400, `{"error":"invalid_scope"}`, "", "invalid_scope", 0},
	}
	for _, c := range cases {
		out := inspectTokenResponse(&vegeta.Result{Code: c.code, Body: []byte(c.body)})
		if out.Problem != c.problem || out.OAuthError != c.oauth || len(out.Issued) != c.issued {
			t.Errorf("%d %s: %+v", c.code, c.body, out)
		}
	}
}

func TestErrorTextRoundTrip(t *testing.T) {
	msg := errorText(400, "invalid_grant", "")
	if msg != "400 Bad Request: error=invalid_grant" || oauthErrorOf(msg) != "invalid_grant" {
		t.Errorf("%q -> %q", msg, oauthErrorOf(msg))
	}
	msg = errorText(200, "server_error", problemErrorOn2xx)
	if oauthErrorOf(msg) != "server_error" || !strings.HasSuffix(msg, problemErrorOn2xx) {
		t.Errorf("%q", msg)
	}
	if oauthErrorOf("429 Too Many Requests") != "" || oauthErrorOf(errorText(200, "", problemNoAccessToken)) != "" {
		t.Error("an error code found where there is none")
	}
}

func TestNormalizeTransportError(t *testing.T) {
	a := normalizeTransportError(`Post "http://127.0.0.1:8080/token": read tcp 127.0.0.1:53122->127.0.0.1:8080: read: connection reset by peer`)
	b := normalizeTransportError(`Post "http://127.0.0.1:8080/token": read tcp 127.0.0.1:40001->127.0.0.1:8080: read: connection reset by peer`)
	if a != b || strings.Contains(a, "53122") || !strings.Contains(a, "127.0.0.1:8080: read") {
		t.Errorf("%q vs %q", a, b)
	}
	c := normalizeTransportError(`read tcp [::1]:5555->[::1]:8080: i/o timeout`)
	if c != "read tcp [::1]:8080: i/o timeout" {
		t.Errorf("ipv6: %q", c)
	}
}

func TestConstantScheduleMatchesVegeta(t *testing.T) {
	s := newConstant(100, time.Second, 0)
	if s.limit() != 100 {
		t.Errorf("limit %d", s.limit())
	}
	if s.due(0) != 10*time.Millisecond || s.due(99) != time.Second {
		t.Errorf("due %s %s", s.due(0), s.due(99))
	}
	if s.expected(995*time.Millisecond) != 99 || s.expected(0) != 0 {
		t.Errorf("expected %d", s.expected(995*time.Millisecond))
	}
	// vegeta's own pacer waits until each hit's due time.
	for _, k := range []uint64{0, 1, 50} {
		wait, stop := s.Pace(0, k)
		if stop || wait != s.due(k) {
			t.Errorf("Pace(0,%d) = %s, %v; due %s", k, wait, stop, s.due(k))
		}
	}
	if _, stop := s.Pace(0, 100); !stop {
		t.Error("the cap did not stop the attack")
	}
	if c := newConstant(100, time.Second, 30); c.limit() != 30 {
		t.Errorf("max hits: %d", c.limit())
	}
	if f := newConstant(2.5, 2*time.Second, 0); f.limit() != 5 || f.due(0) != 400*time.Millisecond {
		t.Errorf("fractional: limit %d due %s", f.limit(), f.due(0))
	}
}

func TestRampSchedule(t *testing.T) {
	s := newRamp(100, 300, time.Second, 0)
	if s.limit() != 200 {
		t.Errorf("limit %d", s.limit())
	}
	if d := s.due(200); d < 999*time.Millisecond || d > 1001*time.Millisecond {
		t.Errorf("due(200) %s", d)
	}
	// Slow at first: half the hits are due after half the time.
	if d := s.due(100); d < 600*time.Millisecond || d > 630*time.Millisecond {
		t.Errorf("due(100) %s, want (√50000-100)/200 s ≈ 618ms", d)
	}
	if _, stop := s.Pace(0, 200); !stop {
		t.Error("the cap did not stop the ramp")
	}
}

func TestPlanValidate(t *testing.T) {
	good := []Plan{
		{Model: Constant, Rates: []float64{10}, Duration: time.Second},
		{Model: Steps, Rates: []float64{10, 20}, Duration: time.Second},
		{Model: Ramp, From: 1, To: 10, Duration: time.Second},
		{Model: FindCapacity, Rates: []float64{10}, Duration: time.Second, MaxRate: 100, MaxProbes: 5, Precision: 0.1},
	}
	for _, p := range good {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	bad := map[string]Plan{
		"duration":               {Model: Constant, Rates: []float64{10}},
		"at least":               {Model: Constant, Rates: []float64{0.001}, Duration: time.Second},
		"above the bound of 100": {Model: Constant, Rates: []float64{1000}, Duration: time.Second, MaxHits: 100},
		"expected one rate":      {Model: Constant, Rates: []float64{1, 2}, Duration: time.Second},
		"below the start rate":   {Model: FindCapacity, Rates: []float64{10}, Duration: time.Second, MaxRate: 5, MaxProbes: 5, Precision: 0.1},
		"ramp start":             {Model: Ramp, To: 10, Duration: time.Second},
		"unknown model":          {Model: "spiky", Rates: []float64{1}, Duration: time.Second},
	}
	for want, p := range bad {
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want %q", p, err, want)
		}
	}
}

func TestShard(t *testing.T) {
	s, err := ParseShard("1/4")
	if err != nil || s.Index != 1 || s.Count != 4 {
		t.Fatalf("%+v %v", s, err)
	}
	p := Plan{Model: Steps, Rates: []float64{100, 400}, Duration: time.Second, MaxHits: 1000}.Split(s)
	if p.Rates[0] != 25 || p.Rates[1] != 100 || p.MaxHits != 250 {
		t.Errorf("split: %+v", p)
	}
	for _, bad := range []string{"4/4", "-1/4", "0/0", "a/b", "1", "0/1001"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	if _, err := ParseShard("4/4"); !strings.Contains(err.Error(), "0-based") {
		t.Errorf("error does not explain 0-based indexes: %v", err)
	}
}

func TestParseRatesAndRamp(t *testing.T) {
	r, err := ParseRates("100/s, 200/s,,30/m")
	if err != nil || len(r) != 3 || r[2] != 0.5 {
		t.Errorf("%v %v", r, err)
	}
	if _, err := ParseRates(" , "); err == nil {
		t.Error("empty list accepted")
	}
	from, to, err := ParseRamp("50/s:500/s")
	if err != nil || from != 50 || to != 500 {
		t.Errorf("%v %v %v", from, to, err)
	}
	for _, bad := range []string{"50/s", "x:1", "1:x"} {
		if _, _, err := ParseRamp(bad); err == nil {
			t.Errorf("ParseRamp(%q) accepted", bad)
		}
	}
}

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestJTIOf(t *testing.T) {
	big := `{"pad":"` + strings.Repeat("p", 2000) + `","jti":"big"}` // past the stack buffer
	for payload, want := range map[string]string{`{"jti":"abc"}`: "abc", big: "big", `{"j\u0074i":"esc"}`: "esc"} {
		if j, ok := jtiOf(jwt(payload)); !ok || j != want {
			t.Errorf("jtiOf(%.40s…) = %q %v, want %q", payload, j, ok, want)
		}
	}
	for _, bad := range []string{jwt(`{"jti":5}`), jwt(`{"jti":null}`), jwt(`{"jti":""}`), jwt(`{"jti":"a"`), jwt(`{}`), jwt(`[`), "a.b", "eyJ.!!!.x"} {
		if _, ok := jtiOf(bad); ok {
			t.Errorf("jtiOf(%q) found a jti", bad)
		}
	}
}

func TestUniquenessAndDigestsRoundTrip(t *testing.T) {
	u := newUniqueness()
	for _, v := range []string{jwt(`{"jti":"1"}`), jwt(`{"jti":"2"}`), jwt(`{"jti":"1","x":1}`), "opaque-1", "opaque-1"} {
		u.add(Credential{Kind: AccessToken, Value: v})
	}
	want := map[string][3]uint64{"access_token": {5, 4, 1}, "access_token jti": {3, 2, 1}}
	check := func(u *uniqueness, want map[string][3]uint64) {
		t.Helper()
		got := u.summary()
		if len(got) != len(want) {
			t.Fatalf("summary %+v", got)
		}
		for _, s := range got {
			w := want[s.Kind]
			if s.Seen != w[0] || s.Unique != w[1] || s.Duplicates != w[2] {
				t.Errorf("%s: %+v, want %v", s.Kind, s, w)
			}
		}
	}
	check(u, want)

	var buf bytes.Buffer
	if err := u.writeDigests(&buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("opaque-1")) || bytes.Contains(buf.Bytes(), []byte("eyJ")) {
		t.Error("the digests file holds a token")
	}
	// Two shards that saw the same values: every value of the second is a
	// duplicate across shards.
	m := newUniqueness()
	for range 2 {
		if err := m.readDigests(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatal(err)
		}
	}
	check(m, map[string][3]uint64{"access_token": {10, 4, 6}, "access_token jti": {6, 2, 4}})

	for _, bad := range [][]byte{[]byte("nope"), buf.Bytes()[:len(buf.Bytes())-3], append([]byte(digestsMagic), "k\n1 0 0\n"...)} {
		if err := newUniqueness().readDigests(bytes.NewReader(bad)); err == nil {
			t.Errorf("corrupt digests accepted: %q", bad)
		}
	}
}

func TestBucketWidth(t *testing.T) {
	cases := map[time.Duration]time.Duration{
		500 * time.Millisecond: 100 * time.Millisecond,
		5 * time.Second:        500 * time.Millisecond,
		time.Minute:            time.Second,
		time.Hour:              8 * time.Second,
	}
	for d, want := range cases {
		if got := bucketWidthFor(d); got != want {
			t.Errorf("bucketWidthFor(%s) = %s, want %s", d, got, want)
		}
	}
}

// Off a terminal the progress is whole lines (CI logs); on a terminal one
// line rewritten in place.
func TestProgressLines(t *testing.T) {
	m := startMock(t, "ES256", nil)
	for _, tty := range []bool{false, true} {
		var buf bytes.Buffer
		_ = run(t, Config{Scenario: m.scenario(t), Plan: constant(100, 300*time.Millisecond), Progress: &buf, TTY: tty, ProgressEvery: 100 * time.Millisecond})
		out := buf.String()
		if !strings.Contains(out, "load 100/s: ") || !strings.Contains(out, "/30 hits") {
			t.Errorf("tty=%v: %q", tty, out)
		}
		if strings.Contains(out, "\r") != tty {
			t.Errorf("tty=%v: carriage returns %v in %q", tty, strings.Contains(out, "\r"), out)
		}
		if !tty && !strings.HasPrefix(out, "load 100/s: starting, 30 hits over 300ms\n") {
			t.Errorf("no start line: %q", out)
		}
	}
}

// freshBodies calls tr from many goroutines, as vegeta's workers do, and
// reports whether every hit got a body of its own.
func freshBodies(t *testing.T, tr vegeta.Targeter) bool {
	t.Helper()
	const workers, each = 8, 50
	bodies := make(chan []byte, workers*each)
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for range each {
				var tgt vegeta.Target
				if err := tr(&tgt); err != nil {
					t.Error(err)
					return
				}
				bodies <- tgt.Body
			}
		}()
	}
	for range workers {
		<-done
	}
	close(bodies)
	seen := map[*byte]bool{}
	for b := range bodies {
		if len(b) == 0 || seen[&b[0]] {
			return false
		}
		seen[&b[0]] = true
	}
	return len(seen) == workers*each
}

func TestTargeterGivesEveryHitItsOwnBody(t *testing.T) {
	m := startMock(t, "ES256", nil)
	if !freshBodies(t, m.scenario(t).Targeter()) {
		t.Error("client-credentials targeter shares bodies between hits")
	}
	var tgt vegeta.Target
	_ = m.scenario(t).Targeter()(&tgt)
	if tgt.Method != http.MethodPost || string(tgt.Body) != "grant_type=client_credentials&scope=api%3Aread" || !strings.HasPrefix(tgt.Header.Get("Authorization"), "Basic ") {
		t.Errorf("target: %s %q %v", tgt.Method, tgt.Body, tgt.Header)
	}
	// The check itself catches a targeter that hands out one slice.
	shared := []byte("grant_type=client_credentials")
	if freshBodies(t, func(t *vegeta.Target) error { t.Body = shared; return nil }) {
		t.Error("a shared body passed the check")
	}
}
