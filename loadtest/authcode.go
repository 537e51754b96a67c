package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
)

// authcode runs the whole authorization code flow per hit (RFC 6749 §4.1
// with PKCE): the authorization request, the login form filled with a test
// user's credentials, the consent form when one comes, the redirect to the
// callback (never loaded) and the code exchange. vegeta times the hit end
// to end: it measures the IdP's login path, the most expensive thing an
// IdP does (Keycloak's sizing guide plans ~15 password logins per second
// per vCPU, against ~120 client credentials grants).
//
// The hit's one request goes to a RoundTripper (Flow) that runs the flow
// over the attack's transport; it answers with the code exchange's
// response, which Inspect judges like any token response. A flow that
// stops before the code exchange (the login refused, no code in the
// callback) is a failed hit with no response, whose error names the step.
type authcode struct {
	flow    *codeFlow
	env     Env
	openid  bool
	timeout time.Duration
	maxBody int64
}

// problemNoIDToken: OIDC Core §3.1.3.3, an ID token comes with every code
// exchange of an openid request.
const problemNoIDToken = "no id_token (openid was asked for)"

func newAuthcode(env Env) (Scenario, error) {
	if env.Target != nil && env.Target.Login.Driver == target.DriverBrowser {
		return nil, fmt.Errorf("authcode: load runs log in with the form driver; with login.driver: browser every hit would time a Chromium page, not the IdP")
	}
	var users []target.User
	if env.Target != nil {
		users = env.Target.Users
	}
	flow, err := newCodeFlow("authcode", env, users)
	if err != nil {
		return nil, err
	}
	s := &authcode{flow: flow, env: env, openid: slices.Contains(env.Client.Scopes, "openid"),
		timeout: oauth.DefaultTimeout, maxBody: oauth.DefaultMaxBody}
	if env.Target != nil {
		if d := env.Target.RequestTimeout.D(); d > 0 {
			s.timeout = d
		}
		if env.Target.MaxResponseBytes > 0 {
			s.maxBody = env.Target.MaxResponseBytes
		}
	}
	return s, nil
}

func (s *authcode) Name() string     { return "authcode" }
func (s *authcode) Endpoint() string { return s.flow.authorize }

// Prepare logs in once with the run's client, so that a login the target
// refuses (a wrong password, a login page the form driver cannot read)
// fails the run at once, with its reason, instead of failing every hit.
func (s *authcode) Prepare(ctx context.Context, d Demand) (*results.LoadPreparation, error) {
	driver := driverFor(s.env, s.env.OAuth)
	return fill(ctx, d, "logins to check the flow before the attack", 1, PoolOptions{Timeout: s.env.Pool.Timeout, Workers: 1}, func(ctx context.Context) error {
		tr, err := s.flow.run(ctx, s.env.OAuth, driver)
		if err != nil {
			return err
		}
		if err := grantFailure(tr); err != nil {
			return err
		}
		d.issued(issuedBy(tr)...)
		return nil
	})
}

// Targeter names the authorization endpoint; the flow transport builds
// the real authorization request, with its own state, nonce and PKCE
// verifier, for every hit.
func (s *authcode) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method = http.MethodGet
		t.URL = s.flow.authorize
		return nil
	}
}

// Transport implements Flow.
func (s *authcode) Transport(next http.RoundTripper) http.RoundTripper {
	return &flowTransport{s: s, next: next}
}

// Inspect judges the code exchange's response.
func (s *authcode) Inspect(res *vegeta.Result) Outcome {
	out := inspectTokenResponse(res)
	if out.Problem != "" || out.OAuthError != "" || res.Code < 200 || res.Code >= 300 || !s.openid {
		return out
	}
	if !slices.ContainsFunc(out.Issued, func(c Credential) bool { return c.Kind == IDToken }) {
		out.Problem = problemNoIDToken
	}
	return out
}

// flowTransport runs one login per request it is given.
type flowTransport struct {
	s    *authcode
	next http.RoundTripper
}

// RoundTrip runs the flow over next with a client of its own (a fresh
// cookie jar: a new browser session) that registers nothing: the hit's
// codes and tokens are never written anywhere (the engine drops response
// bodies, error texts name steps and URLs without their query), and
// registering every one would grow the run's redactor with every hit.
func (f *flowTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	rec := &protoRecorder{next: f.next}
	oc := oauth.New(oauth.Options{
		HTTPClient: &http.Client{Transport: rec, CheckRedirect: noRedirect},
		Timeout:    f.s.timeout,
		MaxBody:    f.s.maxBody,
	})
	tr, err := f.s.flow.run(req.Context(), oc, driverFor(f.s.env, oc))
	if err != nil {
		return nil, err
	}
	return &http.Response{
		Status:     strconv.Itoa(tr.Status) + " " + http.StatusText(tr.Status),
		StatusCode: tr.Status,
		Proto:      rec.proto, ProtoMajor: rec.major, ProtoMinor: rec.minor,
		Header:        tr.Header,
		Body:          io.NopCloser(bytes.NewReader(tr.Body)),
		ContentLength: int64(len(tr.Body)),
		Request:       req,
	}, nil
}

// protoRecorder remembers the protocol of the last response through it:
// the flow's answer came over the code exchange's connection. One flow's
// exchanges are sequential, so it needs no lock.
type protoRecorder struct {
	next         http.RoundTripper
	proto        string
	major, minor int
}

func (p *protoRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(r)
	if err == nil {
		p.proto, p.major, p.minor = resp.Proto, resp.ProtoMajor, resp.ProtoMinor
	}
	return resp, err
}
