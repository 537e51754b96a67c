package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
)

// akkessToken exchanges users' IdP access tokens for Akkess t1 tokens at the
// target's Akkess endpoint (seed 003: POST with the IdP token as bearer,
// accept: application/jwt, a JSON body with tenantId, expiryInSecs and
// tokenFormat t1; the answer is the bare JWT). Prepare logs the akkess
// user in to fill a pool of IdP tokens; hits take them in turn (an
// exchange does not use the IdP token up). Each t1 token is counted for
// uniqueness, its jti too, and a sample is verified off the hot path
// (signature, aud = tenant, cty t1, lifetime = expiryInSecs, contract).
type akkessToken struct {
	endpoint string
	flow     *codeFlow
	env      Env
	body     []byte

	// pool holds one request header per pooled IdP token. A token near
	// its expiry is skipped: another costs a login, which an attack's
	// worker must not run.
	pool *tokenPool
}

// defaultAkkessPool is the automatic pool: each token costs a login, and
// the exchange does not use it up.
const defaultAkkessPool = 16

// Problems of an Akkess response.
const (
	problemNotJWTType = "content type is not application/jwt (seed 003)"
	problemNotJWS     = "body is not a compact JWS"
)

func newAkkessToken(env Env) (Scenario, error) {
	tg := env.Target
	if tg == nil || tg.Akkess == nil {
		return nil, fmt.Errorf("akkess-token: the target has no akkess: section (endpoint, tenant, expiry, user)")
	}
	ak := tg.Akkess
	endpoint, err := ak.URL(env.Issuer)
	if err != nil {
		return nil, fmt.Errorf("akkess-token: %w", err)
	}
	u, ok := tg.User(ak.User)
	if !ok {
		return nil, fmt.Errorf("akkess-token: the target has no user %q to log in as (akkess.user)", ak.User)
	}
	flow, err := newCodeFlow("akkess-token", env, []target.User{u})
	if err != nil {
		return nil, err
	}
	expiry := ak.Expiry.D()
	if expiry <= 0 {
		expiry = target.DefaultAkkessExpiry
	}
	body, err := json.Marshal(map[string]any{"tenantId": ak.Tenant, "expiryInSecs": int64(expiry / time.Second), "tokenFormat": "t1"})
	if err != nil {
		return nil, fmt.Errorf("akkess-token: request body: %w", err)
	}
	return &akkessToken{endpoint: endpoint, flow: flow, env: env, body: body}, nil
}

func (s *akkessToken) Name() string     { return "akkess-token" }
func (s *akkessToken) Endpoint() string { return s.endpoint }

// Prepare logs the akkess user in once per pooled IdP access token.
func (s *akkessToken) Prepare(ctx context.Context, d Demand) (*results.LoadPreparation, error) {
	size := poolSize(s.env.Pool, min(d.TotalHits, defaultAkkessPool))
	driver := driverFor(s.env, s.env.OAuth)
	s.pool = &tokenPool{what: "IdP access token",
		why: "the scenario does not log in again during an attack: shorten --duration, or act as a client whose access tokens live longer"}
	prep, err := fill(ctx, d, "IdP access tokens from logins", size, s.env.Pool, func(ctx context.Context) error {
		tr, err := s.flow.run(ctx, s.env.OAuth, driver)
		if err != nil {
			return err
		}
		if err := grantFailure(tr); err != nil {
			return err
		}
		exp, life := expiryOf(tr, time.Now())
		d.issued(issuedBy(tr)...)
		h := http.Header{
			"Authorization": {"Bearer " + tr.AccessToken},
			"Accept":        {"application/jwt"},
			"Content-Type":  {"application/json"},
		}
		s.pool.add(&pooledToken{payload: h, exp: exp}, life)
		return nil
	})
	skew := time.Duration(0)
	if s.env.Target != nil {
		skew = s.env.Target.ClockSkew.D()
	}
	s.pool.settle(skew)
	return prep, err
}

func (s *akkessToken) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		if s.pool == nil {
			return fmt.Errorf("akkess-token: no IdP token to exchange")
		}
		h, err := s.pool.take()
		if err != nil {
			return fmt.Errorf("akkess-token: %w", err)
		}
		t.Method = http.MethodPost
		t.URL = s.endpoint
		t.Header = h.(http.Header)
		t.Body = append([]byte(nil), s.body...)
		return nil
	}
}

// Inspect accepts a 200 application/jwt whose body is a compact JWS, and
// hands the token on for the uniqueness check and the verification sample.
func (s *akkessToken) Inspect(res *vegeta.Result) Outcome {
	if res.Code < 200 || res.Code >= 300 {
		out := Outcome{OAuthError: oauthErrorCode(res.Body)}
		if res.Code >= 300 && res.Code < 400 {
			out.Problem = problemRedirect
		}
		return out
	}
	out := Outcome{}
	tok := strings.TrimSpace(string(res.Body))
	if isJWT(tok) {
		out.Issued = []Credential{{Kind: AkkessT1, Value: tok}}
	}
	mt, _, err := mime.ParseMediaType(res.Headers.Get("Content-Type"))
	switch {
	case err != nil || !strings.EqualFold(mt, "application/jwt"):
		out.Problem = problemNotJWTType
	case len(out.Issued) == 0:
		out.Problem = problemNotJWS
	}
	return out
}
