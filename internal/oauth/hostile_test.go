package oauth

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/hostile"
	"github.com/idpconform/idpconform/mockidp"
)

// generous bounds a hostile exchange in wall time. Each test configures a
// request timeout far below it, so a pass means the timeout worked and a
// failure means a hang: it cannot flake on a slow machine.
const generous = 30 * time.Second

func startHostile(t *testing.T, cfg hostile.Config) *hostile.Server {
	t.Helper()
	s, err := hostile.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

var ccCred = Credentials{ID: mockidp.ClientCC, Secret: mockidp.ClientCCSecret, Method: ClientSecretBasic}

// requestCC asks the hostile IdP's token endpoint for a token, timed.
func requestCC(t *testing.T, c *Client, s *hostile.Server) (*TokenResponse, time.Duration, error) {
	t.Helper()
	start := time.Now()
	tr, err := c.ClientCredentials(context.Background(), s.URL+mockidp.PathToken, ccCred, nil, nil)
	return tr, time.Since(start), err
}

// A 100 MiB body is cut at the size limit: the error names the limit, the
// client allocates a few MiB, and the server could write only what the
// socket buffers held before the client hung up.
func TestHostileHugeBody(t *testing.T) {
	s := startHostile(t, hostile.Config{Behaviour: hostile.HugeBody})
	c := New(Options{Timeout: generous})
	defer c.HTTPClient().CloseIdleConnections()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, took, err := requestCC(t, c, s)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), "1048576 bytes") {
		t.Fatalf("error %v, want the size limit named", err)
	}
	if took >= generous {
		t.Errorf("took %s", took)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d MiB reading a body limited to 1 MiB", alloc>>20)
	}
	s.Close()
	if sent := s.BytesSent(); sent > 32<<20 {
		t.Errorf("server wrote %d MiB: the client kept reading past its limit", sent>>20)
	}

	// Twin: the same IdP without the behaviour answers in full.
	ok := startHostile(t, hostile.Config{Behaviour: hostile.HugeBody, Endpoint: hostile.EndpointJWKS})
	if tr, _, err := requestCC(t, c, ok); err != nil || tr.Status != 200 || tr.AccessToken == "" {
		t.Errorf("twin: %+v %v", tr, err)
	}
}

// A response trickling a byte a second, in its body or in its head, ends at
// the request timeout with an error that says so.
func TestHostileTrickle(t *testing.T) {
	for _, b := range []hostile.Behaviour{hostile.TrickleBody, hostile.TrickleHead} {
		t.Run(string(b), func(t *testing.T) {
			s := startHostile(t, hostile.Config{Behaviour: b})
			c := New(Options{Timeout: 1500 * time.Millisecond})
			defer c.HTTPClient().CloseIdleConnections()
			_, took, err := requestCC(t, c, s)
			if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "no complete response within the request timeout of 1.5s") {
				t.Fatalf("error %v, want the request timeout named", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("cause not kept: %v", err)
			}
			if took >= generous {
				t.Errorf("took %s", took)
			}
			// Twin: a fast tick completes within the same timeout.
			fast := startHostile(t, hostile.Config{Behaviour: b, Tick: time.Microsecond})
			tr, _, err := requestCC(t, New(Options{Timeout: generous}), fast)
			if err != nil || tr.AccessToken == "" {
				t.Errorf("twin with a fast tick: %+v %v", tr, err)
			}
		})
	}
}

// The mock's own slow-body fault: the same verdict.
func TestMockSlowBodyTimesOut(t *testing.T) {
	f, err := mockidp.ParseFault("slow-body=20s@token")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mockidp.NewServer("", mockidp.Options{Faults: []mockidp.Fault{f}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := New(Options{Timeout: time.Second})
	defer c.HTTPClient().CloseIdleConnections()
	start := time.Now()
	_, err = c.ClientCredentials(context.Background(), srv.URL+mockidp.PathToken, ccCred, nil, nil)
	if !errors.Is(err, ErrTimeout) || time.Since(start) >= generous {
		t.Fatalf("slow-body: %v after %s", err, time.Since(start))
	}
	// Twin: discovery, which the fault does not touch, answers.
	if _, _, err := c.Discover(context.Background(), srv.URL); err != nil {
		t.Errorf("discovery: %v", err)
	}
}

// Bodies json.Unmarshal would take or half-take are reported by what is
// wrong with them.
func TestHostileTokenBodies(t *testing.T) {
	for _, tc := range []struct {
		b    hostile.Behaviour
		want string
	}{
		{hostile.TruncatedJSON, "not a JSON object: unexpected end of JSON input"},
		{hostile.InvalidUTF8, "$: not UTF-8: invalid byte sequence at offset"},
		{hostile.DuplicateMembers, `$.access_token: duplicate member "access_token"`},
	} {
		t.Run(string(tc.b), func(t *testing.T) {
			s := startHostile(t, hostile.Config{Behaviour: tc.b})
			c := New(Options{Timeout: generous})
			defer c.HTTPClient().CloseIdleConnections()
			tr, _, err := requestCC(t, c, s)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(tr.JSONProblems, "; "); !strings.Contains(got, tc.want) {
				t.Errorf("JSONProblems %q, want %q", got, tc.want)
			}
			// Twin: the mock behind it, asked directly, is clean.
			direct := plainMockResponse(t)
			if len(direct.JSONProblems) != 0 {
				t.Errorf("clean response has problems: %v", direct.JSONProblems)
			}
		})
	}
}

// plainMockResponse asks a mock with no hostile front.
func plainMockResponse(t *testing.T) *TokenResponse {
	t.Helper()
	srv, err := mockidp.NewServer("", mockidp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := New(Options{Timeout: generous})
	defer c.HTTPClient().CloseIdleConnections()
	tr, err := c.ClientCredentials(context.Background(), srv.URL+mockidp.PathToken, ccCred, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// The mock's malformed-json and truncated-body faults: one names the JSON
// error, the other the short read.
func TestMockBodyFaults(t *testing.T) {
	for _, tc := range []struct{ fault, want string }{
		{"malformed-json", "not a JSON object: unexpected end of JSON input"},
		{"truncated-body", "unexpected EOF"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			f, err := mockidp.ParseFault(tc.fault)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := mockidp.NewServer("", mockidp.Options{Faults: []mockidp.Fault{f}})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			c := New(Options{Timeout: generous})
			defer c.HTTPClient().CloseIdleConnections()
			tr, err := c.ClientCredentials(context.Background(), srv.URL+mockidp.PathToken, ccCred, nil, nil)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = strings.Join(tr.JSONProblems, "; ")
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// A redirect loop is never followed: discovery and the JWKS fetch say where
// the redirect pointed, in one request each.
func TestHostileRedirectLoop(t *testing.T) {
	s := startHostile(t, hostile.Config{Behaviour: hostile.RedirectLoop})
	c := New(Options{Timeout: generous})
	defer c.HTTPClient().CloseIdleConnections()
	_, _, err := c.Discover(context.Background(), s.URL)
	if err == nil || !strings.Contains(err.Error(), "expected status 200, got 302 (a redirect to "+s.URL+mockidp.PathDiscovery+", not followed)") {
		t.Fatalf("discovery: %v", err)
	}
	if _, err := c.FetchJWKS(context.Background(), s.URL+mockidp.PathJWKS); err == nil || !strings.Contains(err.Error(), "got 302 (a redirect to") {
		t.Errorf("jwks: %v", err)
	}
	if n := s.Requests(); n != 2 {
		t.Errorf("%d requests for two fetches: a redirect was followed", n)
	}
	// Twin: a hostile server whose loop is elsewhere serves discovery.
	ok := startHostile(t, hostile.Config{Behaviour: hostile.RedirectLoop, Endpoint: hostile.EndpointAuthorize})
	if _, _, err := c.Discover(context.Background(), ok.URL); err != nil {
		t.Errorf("twin: %v", err)
	}
}
