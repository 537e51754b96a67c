package login

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/mockidp"
)

func mockAuthURL(srv *mockidp.Server) string {
	p := oauth.NewPKCE("S256")
	q := url.Values{"response_type": {"code"}, "client_id": {mockidp.ClientCode}, "redirect_uri": {mockidp.DefaultRedirectURI},
		"scope": {"openid"}, "state": {"s1"}, "code_challenge": {p.Challenge}, "code_challenge_method": {p.Method}}
	return srv.URL + mockidp.PathAuthorize + "?" + q.Encode()
}

// The mock driver gets a code from the real mock with auto-login in one
// request, sending no password and posting no form. Its twin, the same
// mock without auto-login, redirects to its login form: the driver refuses with
// ErrNoAutoLogin instead of passing.
func TestMockLogin(t *testing.T) {
	user := User{Username: mockidp.UserAlice, Password: mockidp.UserAlicePassword}
	for _, auto := range []bool{true, false} {
		srv, err := mockidp.NewServer("", mockidp.Options{AutoLogin: auto})
		if err != nil {
			t.Fatal(err)
		}
		reg, rec := redact.New(), oauth.NewRecorder()
		d := &Mock{Client: oauth.New(oauth.Options{Timeout: 10 * time.Second, Secrets: reg, Recorder: rec})}
		loc, err := d.Login(context.Background(), mockAuthURL(srv), mockidp.DefaultRedirectURI, user)
		d.Client.HTTPClient().CloseIdleConnections()
		if cerr := srv.Close(); cerr != nil {
			t.Error(cerr)
		}
		ex := rec.Exchanges()
		if !auto {
			if !errors.Is(err, ErrNoAutoLogin) || !strings.Contains(err.Error(), "redirected to "+srv.URL+"/login") {
				t.Errorf("without auto-login: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("with auto-login: %v", err)
		}
		u, _ := url.Parse(loc)
		if u.Query().Get("code") == "" || u.Query().Get("state") != "s1" {
			t.Errorf("callback %s?%s", u.Path, u.RawQuery)
		}
		if len(ex) != 1 || ex[0].Method != "GET" || !strings.Contains(ex[0].URL, "login_hint=alice") {
			t.Errorf("exchanges: %+v", ex)
		}
		for _, e := range ex {
			if strings.Contains(e.URL+e.RequestBody, mockidp.UserAlicePassword) {
				t.Error("the mock driver sent the password")
			}
		}
	}
}

func TestMockLoginRefusals(t *testing.T) {
	d := &Mock{Client: oauth.New(oauth.Options{Timeout: time.Second})}
	if _, err := d.Login(context.Background(), "http://127.0.0.1:1/authorize", redirectURI, User{Username: "alice", Deny: true}); err == nil || !strings.Contains(err.Error(), "cannot refuse consent") {
		t.Errorf("deny: %v", err)
	}
	if _, err := d.Login(context.Background(), "http://127.0.0.1:1/authorize", redirectURI, User{}); err == nil || !strings.Contains(err.Error(), "needs a username") {
		t.Errorf("no username: %v", err)
	}
}
