package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/redact"
)

func TestPKCE(t *testing.T) {
	// RFC 7636 Appendix B.
	if got := Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "S256"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("S256 challenge %q", got)
	}
	if Challenge("abc", "plain") != "abc" {
		t.Error("plain challenge")
	}
	p, q := NewPKCE("S256"), NewPKCE("S256")
	if len(p.Verifier) != 43 || p.Verifier == q.Verifier || p.Challenge != Challenge(p.Verifier, "S256") {
		t.Errorf("NewPKCE: %+v", p)
	}
}

func TestAuthRequestURL(t *testing.T) {
	p := NewPKCE("S256")
	raw, err := AuthRequest{Endpoint: "https://idp/authorize?tenant=x", ClientID: "c", RedirectURI: "http://127.0.0.1/cb",
		Scopes: []string{"openid", "profile"}, State: "st", Nonce: "no", PKCE: &p, Extra: url.Values{"prompt": {"login"}}}.URL()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	for k, v := range map[string]string{"tenant": "x", "response_type": "code", "client_id": "c", "scope": "openid profile",
		"state": "st", "nonce": "no", "code_challenge": p.Challenge, "code_challenge_method": "S256", "prompt": "login"} {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if _, err := (AuthRequest{Endpoint: "/relative"}).URL(); err == nil {
		t.Error("relative endpoint accepted")
	}
}

func TestParseCallback(t *testing.T) {
	reg := redact.New()
	c := New(Options{Secrets: reg})
	cb, err := c.ParseCallback("http://127.0.0.1/cb?code=the-auth-code&state=s&iss=https%3A%2F%2Fidp")
	if err != nil || cb.Code != "the-auth-code" || cb.State != "s" || cb.Issuer != "https://idp" || cb.Error != nil {
		t.Errorf("%+v %v", cb, err)
	}
	if reg.String("the-auth-code") != redact.Marker {
		t.Error("code not registered")
	}
	cb, _ = c.ParseCallback("http://127.0.0.1/cb?error=access_denied&error_description=no")
	if cb.Error == nil || cb.Error.Code != "access_denied" {
		t.Errorf("error callback: %+v", cb)
	}
}

// The grant helpers send what the RFCs say; a recording server checks.
func TestGrantRequests(t *testing.T) {
	var got []url.Values
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = append(got, r.PostForm)
		auth = append(auth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/introspect":
			_, _ = w.Write([]byte(`{"active":true,"scope":"a"}`))
		case "/userinfo":
			_, _ = w.Write([]byte(`{"sub":"u1"}`))
		default:
			_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","refresh_token":"rt-new","id_token":"a.b.c"}`))
		}
	}))
	defer srv.Close()
	reg := redact.New()
	c := New(Options{Secrets: reg})
	ctx := context.Background()
	cred := Credentials{ID: "cid", Secret: "sec", Method: ClientSecretPost}

	if _, err := c.ExchangeCode(ctx, srv.URL+"/token", cred, "code1", "http://127.0.0.1/cb", "verif"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(ctx, srv.URL+"/token", cred, "rt-old", nil); err != nil {
		t.Fatal(err)
	}
	in, err := c.Introspect(ctx, srv.URL+"/introspect", cred, "at", "access_token")
	if err != nil || in.Active == nil || !*in.Active {
		t.Fatalf("introspect: %+v %v", in, err)
	}
	if _, err := c.Revoke(ctx, srv.URL+"/revoke", cred, "rt-new", "refresh_token"); err != nil {
		t.Fatal(err)
	}
	resp, claims, err := c.Userinfo(ctx, srv.URL+"/userinfo", "at")
	if err != nil || resp.Status != 200 || claims["sub"] != "u1" {
		t.Fatalf("userinfo: %v %v", claims, err)
	}
	want := []map[string]string{
		{"grant_type": "authorization_code", "code": "code1", "redirect_uri": "http://127.0.0.1/cb", "code_verifier": "verif", "client_id": "cid"},
		{"grant_type": "refresh_token", "refresh_token": "rt-old", "client_secret": "sec"},
		{"token": "at", "token_type_hint": "access_token", "client_id": "cid"},
		{"token": "rt-new", "token_type_hint": "refresh_token"},
	}
	for i, w := range want {
		for k, v := range w {
			if got[i].Get(k) != v {
				t.Errorf("request %d: %s = %q, want %q", i, k, got[i].Get(k), v)
			}
		}
	}
	if auth[4] != "Bearer at" {
		t.Errorf("userinfo Authorization %q", auth[4])
	}
	for _, s := range []string{"rt-new", "a.b.c", "at"} {
		if reg.String("x "+s+" x") == "x "+s+" x" && len(s) >= 4 {
			t.Errorf("%s not registered", s)
		}
	}
	if !strings.Contains(reg.String("rt-new"), redact.Marker) {
		t.Error("rotated refresh token not registered")
	}
}
