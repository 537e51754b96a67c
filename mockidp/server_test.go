package mockidp_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpconform/idpconform/mockidp"
)

// Two issuers side by side, as in a migration rehearsal: the old and the
// new Akoya IdP, each with its own keys and faults.
func TestSeveralIssuers(t *testing.T) {
	h := start(t, mockidp.Options{})
	old, err := h.srv.AddIssuer("/old", mockidp.Options{Profile: mockidp.ProfileAkoyaLegacy, SigningKey: rsaKey()})
	if err != nil {
		t.Fatal(err)
	}
	nw, err := h.srv.AddIssuer("/new", mockidp.Options{Profile: mockidp.ProfileAkoya, SigningAlg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	if old.Issuer() != h.srv.URL+"/old" || nw.Issuer() != h.srv.URL+"/new" {
		t.Fatalf("issuers %s %s", old.Issuer(), nw.Issuer())
	}
	for _, m := range []*mockidp.IdP{old, nw, h.srv.IdP} {
		d := h.getURL(m.Issuer() + mockidp.PathDiscovery)
		if d.status != 200 || d.str("issuer") != m.Issuer() || d.str("token_endpoint") != m.Issuer()+mockidp.PathToken {
			t.Errorf("%s discovery: HTTP %d %s", m.Issuer(), d.status, d.body)
		}
	}
	tokenAt := func(issuer string) string {
		r := h.postTo(issuer+mockidp.PathToken, ccBasic, url.Values{"grant_type": {"client_credentials"}})
		if r.status != 200 {
			t.Fatalf("%s: HTTP %d %s", issuer, r.status, r.body)
		}
		return r.str("access_token")
	}
	oldTok, newTok := tokenAt(old.Issuer()), tokenAt(nw.Issuer())
	if j, err := h.verifyAt(old.Issuer(), oldTok); err != nil || j.claims["iss"] != old.Issuer() {
		t.Errorf("old token at old JWKS: %v", err)
	}
	if j, err := h.verifyAt(nw.Issuer(), newTok); err != nil || j.header["alg"] != "ES256" {
		t.Errorf("new token at new JWKS: %v", err)
	}
	// Twin: each issuer's keys are its own.
	if _, err := h.verifyAt(nw.Issuer(), oldTok); err == nil {
		t.Error("an old-IdP token verified with the new IdP's keys")
	}
	// Faults stay with their issuer.
	f, _ := mockidp.ParseFault("status-5xx=1")
	if err := nw.SetFaults(f); err != nil {
		t.Fatal(err)
	}
	if r := h.postTo(nw.Issuer()+mockidp.PathToken, ccBasic, url.Values{"grant_type": {"client_credentials"}}); r.status != 503 {
		t.Errorf("faulted issuer: HTTP %d", r.status)
	}
	tokenAt(old.Issuer())
	tokenAt(h.srv.URL)
	// The same login keeps its sub across the migration.
	if len(h.srv.Issuers()) != 3 {
		t.Errorf("Issuers: %d", len(h.srv.Issuers()))
	}
	if m, ok := h.srv.IssuerAt("/old"); !ok || m != old {
		t.Error("IssuerAt")
	}
	if r := h.get("/nowhere/token", nil); r.status != 404 {
		t.Errorf("unmounted path: HTTP %d", r.status)
	}
}

func TestAddIssuerRefusals(t *testing.T) {
	h := start(t, mockidp.Options{})
	for _, p := range []string{"old", "/", "/a b", "/token", "/.well-known", "/_admin", "/authorize/x"} {
		if _, err := h.srv.AddIssuer(p, mockidp.Options{SigningKey: rsaKey()}); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if _, err := h.srv.AddIssuer("/a", mockidp.Options{SigningKey: rsaKey()}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.srv.AddIssuer("/a", mockidp.Options{SigningKey: rsaKey()}); err == nil {
		t.Error("the same prefix mounted twice")
	}
	if _, err := h.srv.AddIssuer("/b", mockidp.Options{Profile: "okta"}); err == nil {
		t.Error("an unknown profile mounted")
	}
}

func TestServerLifecycle(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		if _, err := mockidp.NewServer(addr, mockidp.Options{SigningKey: rsaKey()}); err == nil || !strings.Contains(err.Error(), "mockidp") {
			t.Errorf("%s: %v", addr, err)
		}
	}
	s, err := mockidp.NewUnstartedServer("127.0.0.1:0", mockidp.Options{SigningKey: rsaKey()})
	if err != nil {
		t.Fatal(err)
	}
	// Configure before Start, as with httptest.
	if _, err := s.AddIssuer("/x", mockidp.Options{SigningKey: rsaKey()}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	s.Start()
	c := s.Client()
	res, err := c.Get(s.URL + "/x" + mockidp.PathDiscovery)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET: %v", err)
	}
	res.Body.Close()
	c.CloseIdleConnections()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if res, err := c.Get(s.URL + mockidp.PathDiscovery); err == nil {
		res.Body.Close()
		t.Error("served after Close")
	}
	// An unstarted server closes its listener.
	u, err := mockidp.NewUnstartedServer("", mockidp.Options{SigningKey: rsaKey()})
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Errorf("Close unstarted: %v", err)
	}
}

// Close cuts injected delays short instead of waiting for them.
func TestCloseEndsInjectedLatency(t *testing.T) {
	f, _ := mockidp.ParseFault("latency=50s")
	s, err := mockidp.NewServer("", mockidp.Options{SigningKey: rsaKey(), Faults: []mockidp.Fault{f}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := &http.Client{}
		if res, err := c.Get(s.URL + mockidp.PathDiscovery); err == nil {
			res.Body.Close()
		}
		c.CloseIdleConnections()
	}()
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a delayed request outlived Close by ten seconds")
	}
}

func TestAdminAPI(t *testing.T) {
	off := start(t, mockidp.Options{})
	if r := off.get(mockidp.PathAdmin, nil); r.status != 404 {
		t.Errorf("admin API without the option: HTTP %d", r.status)
	}
	h := start(t, mockidp.Options{Admin: true})
	call := func(method, path, body string) *resp {
		t.Helper()
		req, err := http.NewRequest(method, h.srv.URL+mockidp.PathAdmin+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return h.do(req)
	}
	st := call(http.MethodGet, "", "")
	if st.status != 200 || st.str("profile") != "generic" || st.str("signing_alg") != "RS256" {
		t.Fatalf("state: HTTP %d %s", st.status, st.body)
	}
	r := call(http.MethodPut, "/faults", `{"faults": ["no-pragma", "token-type=mac"]}`)
	if r.status != 200 || !strings.Contains(string(r.body), `"faults":["no-pragma","token-type=mac"]`) {
		t.Errorf("PUT faults: HTTP %d %s", r.status, r.body)
	}
	if cc := ccResp(h, ccBasic); cc.str("token_type") != "mac" {
		t.Errorf("fault set over the admin API not in force: %s", cc.body)
	}
	if r := call(http.MethodPost, "/faults", `{"fault": "bogus"}`); r.status != 400 || !strings.Contains(r.str("error"), "valid faults") {
		t.Errorf("bad fault: HTTP %d %s", r.status, r.body)
	}
	if r := call(http.MethodPost, "/faults", `{"fault": "cc-refresh-token"}`); len(r.json["faults"].([]any)) != 3 {
		t.Errorf("POST fault: %s", r.body)
	}
	if r := call(http.MethodDelete, "/faults/token-type", ""); len(r.json["faults"].([]any)) != 2 {
		t.Errorf("DELETE one fault: %s", r.body)
	}
	if r := call(http.MethodDelete, "/faults", ""); len(r.json["faults"].([]any)) != 0 {
		t.Errorf("DELETE faults: %s", r.body)
	}
	if cc := ccResp(h, ccBasic); cc.str("token_type") != "Bearer" {
		t.Errorf("faults cleared but still in force: %s", cc.body)
	}
	if r := call(http.MethodPut, "/drift", `{"drift": ["drop-claim=sub"]}`); r.status != 200 {
		t.Errorf("PUT drift: %s", r.body)
	}
	if _, ok := h.mustVerify(ccToken(h)).claims["sub"]; ok {
		t.Error("drift set over the admin API not in force")
	}
	if r := call(http.MethodPut, "/drift", `{"drift": ["drop-claim"], "extra": 1}`); r.status != 400 {
		t.Errorf("unknown member accepted: %s", r.body)
	}
	kids := len(st.json["key_ids"].([]any))
	if r := call(http.MethodPost, "/keys/rotate", `{}`); len(r.json["key_ids"].([]any)) != kids+1 {
		t.Errorf("rotate keeping old: %s", r.body)
	}
	if r := call(http.MethodPost, "/keys/rotate", `{"drop_old": true}`); len(r.json["key_ids"].([]any)) != 1 {
		t.Errorf("rotate dropping old: %s", r.body)
	}
	tok := ccResp(h, ccPost).str("access_token")
	if r := call(http.MethodPost, "/clock", `{"advance": "2h"}`); r.str("clock_offset") != "2h0m0s" {
		t.Errorf("clock: %s", r.body)
	}
	if in := h.introspect(tok); in.json["active"] != false {
		t.Errorf("clock moved two hours but the token lives: %s", in.body)
	}
	if r := call(http.MethodPost, "/clock", `{"advance": "soon"}`); r.status != 400 {
		t.Errorf("bad duration: HTTP %d", r.status)
	}
	if r := call(http.MethodPost, "/reset", ""); r.str("clock_offset") != "0s" || len(r.json["drift"].([]any)) != 0 {
		t.Errorf("reset: %s", r.body)
	}
	cat := call(http.MethodGet, "/catalog", "")
	var c struct {
		Faults []mockidp.FaultInfo `json:"faults"`
		Drifts []mockidp.DriftInfo `json:"drifts"`
	}
	if err := json.Unmarshal(cat.body, &c); err != nil || len(c.Faults) != len(mockidp.Faults()) || len(c.Drifts) != len(mockidp.Drifts()) {
		t.Errorf("catalog: %v %s", err, bytes.TrimSpace(cat.body)[:80])
	}
}

// The admin API refuses clients that are not on loopback, whatever
// handler it is mounted in.
func TestAdminAPILoopbackOnly(t *testing.T) {
	m, err := mockidp.New(mockidp.Options{Issuer: "http://idp.test", Admin: true, SigningKey: rsaKey()})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]int{"192.0.2.7:5555": 403, "127.0.0.1:5555": 200, "[::1]:5555": 200} {
		rec := newRecorder()
		req, _ := http.NewRequest(http.MethodGet, "http://idp.test/_admin", nil)
		req.RemoteAddr = addr
		m.ServeHTTP(rec, req)
		if rec.status != want {
			t.Errorf("%s: HTTP %d, want %d", addr, rec.status, want)
		}
	}
}

// recorder is a minimal ResponseWriter for direct handler calls.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{h: http.Header{}} }

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(p)
}

// The request log names method, path and status, never a secret, a code
// or a token.
func TestLogHoldsNoSecret(t *testing.T) {
	var buf syncBuffer
	h := start(t, mockidp.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	tk := h.codeFlow(code, url.Values{"state": {"state-secretish"}})
	cc := h.cc(ccBasic, "")
	log := buf.String()
	if !strings.Contains(log, "path=/token") || !strings.Contains(log, "status=200") {
		t.Fatalf("log lacks the requests:\n%s", log)
	}
	for _, secret := range []string{mockidp.ClientCCSecret, mockidp.ClientCodeSecret, mockidp.UserAlicePassword,
		tk.access, tk.refresh, tk.id, cc.str("access_token"), "state-secretish"} {
		if strings.Contains(log, secret) {
			t.Errorf("log holds a secret (%d chars)", len(secret))
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
