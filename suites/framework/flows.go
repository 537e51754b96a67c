package framework

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/login"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
)

// Authorization is one authorization code flow up to the callback: what was
// sent and what came back.
type Authorization struct {
	Client   target.Client
	User     target.User
	PKCE     oauth.PKCE
	State    string
	Nonce    string
	URL      string
	Callback *oauth.Callback
}

// AuthOptions vary an authorization request.
type AuthOptions struct {
	// PKCEMethod is "S256" (default) or "plain"; "none" sends no PKCE.
	PKCEMethod string
	// Scopes overrides the client's scopes.
	Scopes []string
	// Deny refuses consent.
	Deny bool
}

// Driver returns the login driver the target asks for. The form and mock
// drivers send through the spec's client, so the login is recorded and its
// secrets registered; the browser driver registers its secrets too.
func (s *Spec) Driver() login.Driver {
	switch s.Target.Login.Driver {
	case target.DriverBrowser:
		return &login.Browser{ExecPath: s.Target.Login.BrowserPath, Secrets: s.Secrets, Timeout: s.Target.RequestTimeout.D() * 6}
	case target.DriverMock:
		return &login.Mock{Client: s.Client}
	}
	return &login.Form{Client: s.Client}
}

// Authorize runs the front channel of the authorization code flow for c as
// the target's first user: authorization URL with state, nonce and PKCE,
// headless login, callback. It fails the spec when no callback comes.
func (s *Spec) Authorize(ctx context.Context, c target.Client, o AuthOptions) *Authorization {
	u, ok := s.Target.User("")
	if !ok {
		ginkgo.Skip(fmt.Sprintf("target %s declares no users to log in as", s.Target.Name))
	}
	a := &Authorization{Client: c, User: u, State: oauth.RandomValue(), Nonce: oauth.RandomValue()}
	var pkce *oauth.PKCE
	switch o.PKCEMethod {
	case "none":
	case "":
		a.PKCE = s.Client.NewPKCE("S256")
		pkce = &a.PKCE
	default:
		a.PKCE = s.Client.NewPKCE(o.PKCEMethod)
		pkce = &a.PKCE
	}
	scopes := o.Scopes
	if scopes == nil {
		scopes = c.Scopes
	}
	extra := url.Values{}
	for k, v := range s.Target.Login.Params {
		extra.Set(k, v)
	}
	req := oauth.AuthRequest{Endpoint: s.Endpoint("authorization"), ClientID: c.ID, RedirectURI: c.RedirectURI,
		Scopes: scopes, State: a.State, Nonce: a.Nonce, PKCE: pkce, Extra: extra}
	raw, err := req.URL()
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "authorization URL")
	a.URL = raw
	loc, err := s.Driver().Login(ctx, raw, c.RedirectURI, login.User{Username: u.Username, Password: u.Password.Reveal(), Deny: o.Deny})
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "login as %s for client %s", u.Name, c.Name)
	cb, err := s.Client.ParseCallback(loc)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "callback")
	a.Callback = cb
	return a
}

// Exchange redeems the authorization's code with its PKCE verifier.
func (s *Spec) Exchange(ctx context.Context, a *Authorization) *oauth.TokenResponse {
	gomega.Expect(a.Callback.Error).To(gomega.BeNil(), "authorization error in the callback")
	gomega.Expect(a.Callback.Code).NotTo(gomega.BeEmpty(), "code in the callback")
	tr, err := s.Client.ExchangeCode(ctx, s.Endpoint("token"), Credentials(a.Client), a.Callback.Code, a.Client.RedirectURI, a.PKCE.Verifier)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "code exchange")
	return tr
}

// Tokens runs the whole authorization code flow and returns a successful
// token response, failing the spec otherwise.
func (s *Spec) Tokens(ctx context.Context, c target.Client) (*Authorization, *oauth.TokenResponse) {
	a := s.Authorize(ctx, c, AuthOptions{})
	tr := s.Exchange(ctx, a)
	ExpectIssued(tr)
	return a, tr
}

// ExpectIssued fails unless tr is a successful token response.
func ExpectIssued(tr *oauth.TokenResponse) {
	gomega.ExpectWithOffset(1, tr.Status).To(gomega.Equal(200), "token endpoint status (answer: %s)", Answer(tr))
	gomega.ExpectWithOffset(1, tr.Fields).NotTo(gomega.BeNil(), "token response must be a JSON object (%s)", strings.Join(tr.JSONProblems, "; "))
	gomega.ExpectWithOffset(1, tr.JSONProblems).To(gomega.BeEmpty(), "token response JSON: RFC 6749 §3.2 sends no parameter twice, RFC 8259 §8.1 requires UTF-8")
	gomega.ExpectWithOffset(1, tr.TypeErrors).To(gomega.BeEmpty(), "token response member types")
	gomega.ExpectWithOffset(1, tr.AccessToken).NotTo(gomega.BeEmpty(), "access_token")
	gomega.ExpectWithOffset(1, tr.TokenType).NotTo(gomega.BeEmpty(), "token_type")
}

// ExpectRejected fails unless tr is an OAuth error response with code.
func ExpectRejected(tr *oauth.TokenResponse, code string) {
	gomega.ExpectWithOffset(1, tr.Error).NotTo(gomega.BeNil(), "an error response (answer: %s)", Answer(tr))
	gomega.ExpectWithOffset(1, tr.Error.Code).To(gomega.Equal(code), "error code (answer: %s)", Answer(tr))
	gomega.ExpectWithOffset(1, tr.Status).To(gomega.BeNumerically(">=", 400), "error status")
}

// Answer summarises a token response for failure messages: status and
// OAuth error, never a token.
func Answer(tr *oauth.TokenResponse) string {
	if tr.Error != nil {
		return fmt.Sprintf("HTTP %d %s", tr.Status, tr.Error)
	}
	if loc := tr.Header.Get("Location"); tr.Status >= 300 && tr.Status < 400 && loc != "" {
		if u, err := url.Parse(loc); err == nil {
			u.RawQuery = ""
			loc = u.String()
		}
		return fmt.Sprintf("HTTP %d redirecting to %s (not followed)", tr.Status, loc)
	}
	return fmt.Sprintf("HTTP %d", tr.Status)
}

// VerifyIDToken verifies an ID token's signature and the checks of OIDC
// Core §3.1.3.7 that the verifier owns (iss, aud, exp, iat), failing the
// spec with the verifier's message.
func (s *Spec) VerifyIDToken(ctx context.Context, raw string, c target.Client) *verify.Token {
	tok, err := s.Verifier.Verify(ctx, raw, verify.Expected{Issuer: s.Issuer, Audience: c.ID})
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred(), "ID token validation")
	return tok
}
