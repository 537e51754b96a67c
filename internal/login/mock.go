package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/idpconform/idpconform/internal/oauth"
)

// ErrNoAutoLogin is returned by the Mock driver when the IdP does not log
// the user in from login_hint alone.
var ErrNoAutoLogin = errors.New("the IdP did not redirect to the redirect URI straight away: driver mock needs the bundled mock with auto-login (mock.auto_login: true in the target file, or idpconform mock --auto-login)")

// Mock logs in through the bundled mock's auto-login: the authorization
// request names the user in login_hint and the mock answers with the
// redirect at once, with no login or consent form. It sends no password, so
// it is the fastest driver, and it works with nothing else: against any
// other IdP it stops with ErrNoAutoLogin rather than guess at a form.
type Mock struct {
	// Client sends the one request (its limits, recorder and secret
	// registrar apply).
	Client *oauth.Client
}

// Login implements Driver.
func (m *Mock) Login(ctx context.Context, authURL, redirectURI string, u User) (string, error) {
	if u.Deny {
		// The mock's auto-login records consent; refusing it takes the form.
		return "", errors.New("login: driver mock cannot refuse consent (the mock's auto-login always consents); use driver form")
	}
	if u.Username == "" {
		return "", errors.New("login: driver mock needs a username to put in login_hint")
	}
	au, err := url.Parse(authURL)
	if err != nil {
		return "", fmt.Errorf("login: authorization URL: %w", err)
	}
	q := au.Query()
	q.Set("login_hint", u.Username)
	au.RawQuery = q.Encode()
	req, err := http.NewRequest(http.MethodGet, au.String(), nil)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	// Whatever client the caller passed, the redirect must not be followed:
	// its Location is the answer, and the redirect URI is never loaded.
	hc := &http.Client{
		Transport:     m.Client.HTTPClient().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := m.Client.WithHTTPClient(hc).Do(ctx, "login auto", req)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	if resp.Status < 300 || resp.Status >= 400 {
		return "", fmt.Errorf("login at %s: HTTP %d: %w", stripQuery(au), resp.Status, ErrNoAutoLogin)
	}
	loc, err := au.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", fmt.Errorf("login: Location from %s does not parse: %w", stripQuery(au), err)
	}
	if !isRedirectURI(loc, redirectURI) {
		return "", fmt.Errorf("login at %s: redirected to %s: %w", stripQuery(au), stripQuery(loc), ErrNoAutoLogin)
	}
	return loc.String(), nil
}
