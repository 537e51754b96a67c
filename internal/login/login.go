// Package login completes an authorization request the way a user's browser
// would, headlessly: it follows the IdP's redirects, fills the login form
// with a test user's credentials, approves a consent form, and stops at the
// redirect URI without loading it, returning where it was sent.
package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/idpconform/idpconform/internal/oauth"
)

// User is a test user of the IdP.
type User struct {
	Username string
	Password string
	// Deny makes the driver refuse consent instead of granting it.
	Deny bool
}

// Driver completes an authorization request as a user.
type Driver interface {
	// Login starts at authURL and returns the URL the IdP redirected to
	// under redirectURI (carrying code and state, or an error).
	Login(ctx context.Context, authURL, redirectURI string, u User) (string, error)
}

// MaxSteps bounds the requests of one login: redirects plus form posts.
const MaxSteps = 20

// Form is the default driver: plain HTTP with a cookie jar and an HTML form
// parser. It works for IdPs whose login page is a server-rendered form.
type Form struct {
	// Client sends the requests (its limits, recorder and secret registrar
	// apply). Each Login gets a fresh cookie jar: a new browser session.
	Client *oauth.Client
}

// Errors a caller may branch on.
var (
	ErrNoForm       = errors.New("no login or consent form on the page")
	ErrTooManySteps = errors.New("login did not reach the redirect URI")
	ErrRedirectLoop = errors.New("redirect loop")
	ErrRejected     = errors.New("login rejected: the IdP showed the login form again after the credentials were sent (wrong username or password?)")
)

// Login implements Driver.
func (f *Form) Login(ctx context.Context, authURL, redirectURI string, u User) (string, error) {
	if u.Password != "" {
		if s := f.Client.Secrets(); s != nil {
			s.Add(u.Password)
		}
	}
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return "", fmt.Errorf("login: cookie jar: %w", err)
	}
	hc := &http.Client{
		Jar:           jar,
		Transport:     f.Client.HTTPClient().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c := f.Client.WithHTTPClient(hc)

	req, err := http.NewRequest(http.MethodGet, authURL, nil)
	if err != nil {
		return "", fmt.Errorf("login: authorization URL: %w", err)
	}
	visits := map[string]int{}
	sent := false
	for step := 0; step < MaxSteps; step++ {
		if isRedirectURI(req.URL, redirectURI) {
			return req.URL.String(), nil
		}
		key := req.Method + " " + req.URL.String()
		if visits[key]++; visits[key] > 2 {
			return "", fmt.Errorf("login: %w at %s", ErrRedirectLoop, stripQuery(req.URL))
		}
		resp, err := c.Do(ctx, "login step "+fmt.Sprint(step+1), req)
		if err != nil {
			return "", fmt.Errorf("login: %w", err)
		}
		switch {
		case resp.Status >= 300 && resp.Status < 400:
			loc := resp.Header.Get("Location")
			if loc == "" {
				return "", fmt.Errorf("login: %d from %s without a Location header", resp.Status, stripQuery(req.URL))
			}
			next, err := req.URL.Parse(loc)
			if err != nil {
				return "", fmt.Errorf("login: Location from %s does not parse: %w", stripQuery(req.URL), err)
			}
			req, err = http.NewRequest(http.MethodGet, next.String(), nil)
			if err != nil {
				return "", fmt.Errorf("login: %w", err)
			}
		case resp.Status == http.StatusOK:
			next, creds, err := nextRequest(req.URL, resp.Body, u, sent)
			if err != nil {
				return "", fmt.Errorf("login at %s: %w", stripQuery(req.URL), err)
			}
			sent = sent || creds
			req = next
		default:
			return "", fmt.Errorf("login: %s answered HTTP %d", stripQuery(req.URL), resp.Status)
		}
	}
	return "", fmt.Errorf("login: %w in %d steps", ErrTooManySteps, MaxSteps)
}

// isRedirectURI reports whether u is the client's redirect URI (same
// scheme, host and path; the query carries the result).
func isRedirectURI(u *url.URL, redirectURI string) bool {
	r, err := url.Parse(redirectURI)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, r.Scheme) && strings.EqualFold(u.Host, r.Host) && u.Path == r.Path
}

func parseURL(raw string) (*url.URL, error) { return url.Parse(raw) }

func stripQuery(u *url.URL) string {
	cp := *u
	cp.RawQuery = ""
	cp.Fragment = ""
	return cp.String()
}
