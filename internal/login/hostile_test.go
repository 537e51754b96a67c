package login

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/hostile"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/mockidp"
)

// A hostile IdP whose authorization endpoint redirects to itself: the form
// driver stops with ErrRedirectLoop after a bounded number of requests; its
// twin, the same IdP with the loop elsewhere, logs in.
func TestFormLoginHostileRedirectLoop(t *testing.T) {
	authURL := func(s *hostile.Server) string {
		p := oauth.NewPKCE("S256")
		q := url.Values{"response_type": {"code"}, "client_id": {mockidp.ClientCode}, "redirect_uri": {mockidp.DefaultRedirectURI},
			"scope": {"openid"}, "state": {"s1"}, "code_challenge": {p.Challenge}, "code_challenge_method": {p.Method}}
		return s.URL + mockidp.PathAuthorize + "?" + q.Encode()
	}
	loop, err := hostile.Start(hostile.Config{Behaviour: hostile.RedirectLoop, Endpoint: hostile.EndpointAuthorize})
	if err != nil {
		t.Fatal(err)
	}
	defer loop.Close()
	f := &Form{Client: oauth.New(oauth.Options{Timeout: 10 * time.Second})}
	defer f.Client.HTTPClient().CloseIdleConnections()
	user := User{Username: mockidp.UserAlice, Password: mockidp.UserAlicePassword}
	_, err = f.Login(context.Background(), authURL(loop), mockidp.DefaultRedirectURI, user)
	if !errors.Is(err, ErrRedirectLoop) {
		t.Fatalf("login against a redirect loop: %v", err)
	}
	if n := loop.Requests(); n > MaxSteps {
		t.Errorf("%d requests: the loop was not bounded", n)
	}

	ok, err := hostile.Start(hostile.Config{Behaviour: hostile.RedirectLoop, Endpoint: hostile.EndpointJWKS})
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close()
	loc, err := f.Login(context.Background(), authURL(ok), mockidp.DefaultRedirectURI, user)
	if err != nil {
		t.Fatalf("twin: %v", err)
	}
	if u, _ := url.Parse(loc); u.Query().Get("code") == "" {
		t.Errorf("twin: no code at %s (error %q)", u.Path, u.Query().Get("error"))
	}
}
