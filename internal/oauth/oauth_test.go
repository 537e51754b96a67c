package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/mockidp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startMock(t *testing.T) *mockidp.Server {
	t.Helper()
	srv, err := mockidp.NewServer("", mockidp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func newClient(reg *redact.Registry, rec *Recorder) *Client {
	return New(Options{Timeout: 5 * time.Second, Secrets: reg, Recorder: rec})
}

func TestDiscoverAndJWKS(t *testing.T) {
	srv := startMock(t)
	c := newClient(nil, nil)
	ctx := context.Background()
	md, resp, err := c.Discover(ctx, srv.URL)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if resp.Status != 200 || md.Issuer != srv.URL || md.TokenEndpoint != srv.URL+mockidp.PathToken {
		t.Errorf("metadata: %+v", md)
	}
	if _, ok := md.Raw["grant_types_supported"]; !ok {
		t.Errorf("Raw lacks members: %v", md.Raw)
	}
	body, err := c.FetchJWKS(ctx, md.JWKSURI)
	if err != nil || !bytes.Contains(body, []byte(`"keys"`)) {
		t.Errorf("FetchJWKS: %v %s", err, body)
	}
	// Failing twins: a 404 and a missing server.
	if _, _, err := c.Discover(ctx, srv.URL+"/nope"); err == nil || !strings.Contains(err.Error(), "expected status 200, got 404") {
		t.Errorf("Discover 404: %v", err)
	}
	if _, err := c.FetchJWKS(ctx, srv.URL+"/nope"); err == nil {
		t.Error("FetchJWKS 404 accepted")
	}
}

func TestParseMetadataTypes(t *testing.T) {
	_, err := ParseMetadata([]byte(`{"issuer": 42}`))
	if err == nil || !strings.Contains(err.Error(), `"issuer"`) || !strings.Contains(err.Error(), "string") {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := ParseMetadata([]byte(`[]`)); err == nil {
		t.Error("array accepted as metadata")
	}
	if md, err := ParseMetadata([]byte(`{"issuer":"https://x","extra":true}`)); err != nil || md.Raw["extra"] != true {
		t.Errorf("good metadata: %v %v", md, err)
	}
}

func TestClientCredentialsAgainstMock(t *testing.T) {
	srv := startMock(t)
	reg := redact.New()
	rec := NewRecorder()
	c := newClient(reg, rec)
	ctx := context.Background()
	tokenURL := srv.URL + mockidp.PathToken

	for _, cred := range []Credentials{
		{ID: mockidp.ClientCC, Secret: mockidp.ClientCCSecret, Method: ClientSecretBasic},
		{ID: mockidp.ClientCCPost, Secret: mockidp.ClientCCPostSecret, Method: ClientSecretPost},
	} {
		tr, err := c.ClientCredentials(ctx, tokenURL, cred, []string{"api:read"}, nil)
		if err != nil {
			t.Fatalf("%s: %v", cred.Method, err)
		}
		if tr.Status != 200 || tr.AccessToken == "" || tr.TokenType != "Bearer" || tr.ExpiresIn == nil || tr.Error != nil {
			t.Errorf("%s: %+v", cred.Method, tr)
		}
		if got := reg.String(tr.AccessToken); got != redact.Marker {
			t.Errorf("%s: access token not registered with the redactor", cred.Method)
		}
	}

	bad := Credentials{ID: mockidp.ClientCC, Secret: "wrong-secret-value", Method: ClientSecretBasic}
	tr, err := c.ClientCredentials(ctx, tokenURL, bad, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != 401 || tr.Error == nil || tr.Error.Code != "invalid_client" {
		t.Errorf("wrong secret: %d %+v", tr.Status, tr.Error)
	}

	// The recorder kept every exchange, and dumping it through the
	// redactor shows neither secrets nor tokens.
	if n := len(rec.Exchanges()); n != 3 {
		t.Errorf("recorded %d exchanges, want 3", n)
	}
	reg.Add(mockidp.ClientCCSecret, mockidp.ClientCCPostSecret)
	var buf bytes.Buffer
	if err := rec.Dump(reg.Writer(&buf)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{mockidp.ClientCCSecret, mockidp.ClientCCPostSecret, "wrong-secret-value", "Basic aWRw"} {
		if strings.Contains(buf.String(), s) {
			t.Errorf("dump leaks %q:\n%s", s, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "< 401 Unauthorized") {
		t.Errorf("dump lacks the 401:\n%s", buf.String())
	}
}

func TestBasicAuthFormEncodesCredentials(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"a","token_type":"Bearer"}`))
	}))
	defer srv.Close()
	c := newClient(nil, nil)
	_, err := c.ClientCredentials(context.Background(), srv.URL, Credentials{ID: "id:1", Secret: "s p&c", Method: ClientSecretBasic}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(got, "Basic "))
	// RFC 6749 §2.3.1: each part form-encoded, so the ":" in the id is
	// escaped and the separator stays unambiguous.
	if string(raw) != "id%3A1:s+p%26c" {
		t.Errorf("basic credentials %q", raw)
	}
}

func TestResponseLimits(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 2<<20)
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(big) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/small", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// The size limit is judged with time to spare (reading 2 MiB under
	// -race on a busy machine can take most of a second); the timeout with
	// a server that never answers, so any bound is reached.
	c := New(Options{Timeout: 30 * time.Second, MaxBody: 1 << 20})
	quick := New(Options{Timeout: 200 * time.Millisecond, MaxBody: 1 << 20})
	ctx := context.Background()

	if _, err := c.Get(ctx, "big", srv.URL+"/big", ""); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("2 MiB body: %v", err)
	}
	if _, err := quick.Get(ctx, "slow", srv.URL+"/slow", ""); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("slow server: %v", err)
	}
	if r, err := c.Get(ctx, "small", srv.URL+"/small", ""); err != nil || string(r.Body) != "{}" {
		t.Errorf("small: %v", err)
	}
}

func TestErrorsDropQuery(t *testing.T) {
	c := New(Options{Timeout: time.Second})
	_, err := c.Get(context.Background(), "x", "http://127.0.0.1:1/cb?code=secret-code-value", "")
	if err == nil || strings.Contains(err.Error(), "secret-code-value") {
		t.Errorf("error leaks the query: %v", err)
	}
}

func TestParseTokenResponse(t *testing.T) {
	tr := ParseTokenResponse(&Response{Status: 200, Body: []byte(`{"access_token":"a","token_type":"Bearer","expires_in":"3600","scope":["x"]}`)})
	if tr.ExpiresIn != nil || len(tr.TypeErrors) != 2 {
		t.Errorf("type errors: %v", tr.TypeErrors)
	}
	tr = ParseTokenResponse(&Response{Status: 200, Body: []byte(`{"access_token":"a","token_type":"Bearer","expires_in":3600}`)})
	if tr.ExpiresIn == nil || *tr.ExpiresIn != 3600 || len(tr.TypeErrors) != 0 {
		t.Errorf("good: %+v", tr)
	}
	tr = ParseTokenResponse(&Response{Status: 400, Body: []byte(`{"error":"invalid_grant","error_description":"bad"}`)})
	if tr.Error == nil || tr.Error.String() != "invalid_grant: bad" {
		t.Errorf("error: %+v", tr.Error)
	}
	if tr := ParseTokenResponse(&Response{Status: 500, Body: []byte(`<html>`)}); tr.Fields != nil {
		t.Error("HTML parsed as fields")
	}
}

func TestExtraParams(t *testing.T) {
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form = r.PostForm
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	_, err := New(Options{}).ClientCredentials(context.Background(), srv.URL, Credentials{ID: "c", Secret: "s", Method: ClientSecretPost}, []string{"a", "b"}, url.Values{"resource": {"https://api"}})
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("scope") != "a b" || form.Get("resource") != "https://api" || form.Get("client_secret") != "s" {
		t.Errorf("form: %v", form)
	}
}
