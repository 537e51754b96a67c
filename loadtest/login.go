package loadtest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/idpconform/idpconform/internal/login"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/target"
)

// secretAuth is how a hit authenticates its client (RFC 6749 §2.3.1): an
// Authorization header shared by every hit (never written after it is
// built), or form members appended to each body. Clients that prove
// themselves with a certificate or a signed assertion are refused: a body
// built once per attack cannot carry a fresh single-use assertion, and the
// attack's transport presents no client certificate.
type secretAuth struct {
	header http.Header
	// form is "&client_id=...&client_secret=..." for client_secret_post.
	form string
	cred oauth.Credentials
}

func newSecretAuth(scenario string, c target.Client, secrets *redact.Registry) (secretAuth, error) {
	if c.ID == "" {
		return secretAuth{}, fmt.Errorf("%s: no client", scenario)
	}
	a := secretAuth{header: http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"},
		"Accept":       {"application/json"},
	}}
	secret := c.Secret.Reveal()
	switch c.AuthMethod {
	case target.ClientSecretPost:
		a.form = "&" + url.Values{"client_id": {c.ID}, "client_secret": {secret}}.Encode()
		a.cred = oauth.Credentials{ID: c.ID, Secret: secret, Method: oauth.ClientSecretPost}
	case target.TLSClientAuth, target.PrivateKeyJWT:
		return secretAuth{}, fmt.Errorf("%s: client %s authenticates with %s, which load runs do not support yet; pick a client with a secret (--client)", scenario, c.Name, c.AuthMethod)
	default:
		cred := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID) + ":" + url.QueryEscape(secret)))
		a.header.Set("Authorization", "Basic "+cred)
		secrets.Add(cred, "Basic "+cred)
		a.cred = oauth.Credentials{ID: c.ID, Secret: secret, Method: oauth.ClientSecretBasic}
	}
	return a, nil
}

// codeFlow is the authorization code flow (RFC 6749 §4.1) with PKCE (RFC
// 7636) as one client, logging in the given users in turn: what seeds the
// refresh and Akkess pools, and what each hit of the authcode scenario is.
type codeFlow struct {
	authorize, token string
	client           target.Client
	auth             secretAuth
	users            []target.User
	params           map[string]string
	next             atomic.Uint64
}

func newCodeFlow(scenario string, env Env, users []target.User) (*codeFlow, error) {
	c := env.Client
	switch {
	case env.Endpoints.Authorization == "":
		return nil, fmt.Errorf("%s: the target has no authorization endpoint (discovery gave none and endpoints.authorization is not set)", scenario)
	case env.Endpoints.Token == "":
		return nil, fmt.Errorf("%s: the target has no token endpoint (discovery gave none and endpoints.token is not set)", scenario)
	case !c.HasGrant(target.GrantAuthorizationCode):
		return nil, fmt.Errorf("%s: client %s is not registered for authorization_code, which logging users in needs (its grants: %v)", scenario, c.Name, c.Grants)
	case c.RedirectURI == "":
		return nil, fmt.Errorf("%s: client %s has no redirect_uri", scenario, c.Name)
	case len(users) == 0:
		return nil, fmt.Errorf("%s: the target declares no users to log in as (users:)", scenario)
	}
	auth, err := newSecretAuth(scenario, c, env.Secrets)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		env.Secrets.Add(u.Password.Reveal())
	}
	var params map[string]string
	if env.Target != nil {
		params = env.Target.Login.Params
	}
	return &codeFlow{authorize: env.Endpoints.Authorization, token: env.Endpoints.Token, client: c, auth: auth, users: users, params: params}, nil
}

// Errors of a flow that reached the redirect URI without a code.
var (
	errCallbackState = errors.New("callback: state does not match the request's (RFC 6749 §4.1.2)")
	errCallbackCode  = errors.New("callback: no code")
)

// run logs the next user in with d and redeems the code with oc. The token
// response comes back whatever its status; an error names the step that
// failed (login, callback, code exchange) and never a credential.
func (f *codeFlow) run(ctx context.Context, oc *oauth.Client, d login.Driver) (*oauth.TokenResponse, error) {
	u := f.users[int((f.next.Add(1)-1)%uint64(len(f.users)))]
	pkce := oauth.NewPKCE("S256")
	state, nonce := oauth.RandomValue(), oauth.RandomValue()
	extra := url.Values{}
	for k, v := range f.params {
		extra.Set(k, v)
	}
	raw, err := oauth.AuthRequest{Endpoint: f.authorize, ClientID: f.client.ID, RedirectURI: f.client.RedirectURI,
		Scopes: f.client.Scopes, State: state, Nonce: nonce, PKCE: &pkce, Extra: extra}.URL()
	if err != nil {
		return nil, err
	}
	loc, err := d.Login(ctx, raw, f.client.RedirectURI, login.User{Username: u.Username, Password: u.Password.Reveal()})
	if err != nil {
		return nil, err
	}
	cb, err := oc.ParseCallback(loc)
	switch {
	case err != nil:
		return nil, fmt.Errorf("callback: %w", err)
	case cb.Error != nil:
		return nil, fmt.Errorf("callback: the IdP answered error %s", sanitizeCode(cb.Error.Code))
	case cb.State != state:
		return nil, errCallbackState
	case cb.Code == "":
		return nil, errCallbackCode
	}
	tr, err := oc.ExchangeCode(ctx, f.token, f.auth.cred, cb.Code, f.client.RedirectURI, pkce.Verifier)
	if err != nil {
		return nil, fmt.Errorf("code exchange: %w", err)
	}
	return tr, nil
}

// driverFor returns the login driver the target asks for, sending through
// oc: the form driver by default, the browser driver (slow: one Chromium
// page per login) when login.driver says browser, the mock's auto-login
// when it says mock.
func driverFor(env Env, oc *oauth.Client) login.Driver {
	if env.Target != nil {
		switch env.Target.Login.Driver {
		case target.DriverBrowser:
			return &login.Browser{ExecPath: env.Target.Login.BrowserPath, Secrets: env.Secrets, Timeout: 6 * env.Target.RequestTimeout.D()}
		case target.DriverMock:
			return &login.Mock{Client: oc}
		}
	}
	return &login.Form{Client: oc}
}

// issuedBy lists the credentials of a successful token response.
func issuedBy(tr *oauth.TokenResponse) []Credential {
	var out []Credential
	if tr.AccessToken != "" {
		out = append(out, Credential{Kind: AccessToken, Value: tr.AccessToken})
	}
	if tr.RefreshToken != "" {
		out = append(out, Credential{Kind: RefreshToken, Value: tr.RefreshToken})
	}
	if tr.IDToken != "" {
		out = append(out, Credential{Kind: IDToken, Value: tr.IDToken})
	}
	return out
}

// grantFailure says why a token response gave no credential, by status and
// error code: never a value.
func grantFailure(tr *oauth.TokenResponse) error {
	switch {
	case tr.Status < 200 || tr.Status >= 300:
		if tr.Error != nil {
			return fmt.Errorf("token endpoint answered %d %s", tr.Status, sanitizeCode(tr.Error.Code))
		}
		return fmt.Errorf("token endpoint answered %d", tr.Status)
	case tr.Fields == nil:
		return errors.New("token response is not a JSON object")
	case tr.AccessToken == "":
		return errors.New("token response has no access_token")
	}
	return nil
}
