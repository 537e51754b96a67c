package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/jsonscan"
	"github.com/idpconform/idpconform/internal/results"
)

// introspection asks the introspection endpoint about live access tokens
// (RFC 7662 §2.1), authenticated as the chosen client, as every resource
// server that cannot verify tokens itself does. Prepare mints the tokens
// with the client credentials grant; hits take them in turn (asking does
// not use a token up). Every token is live when asked about, so an answer
// other than active: true is a failed hit.
type introspection struct {
	endpoint, token string
	auth            secretAuth
	env             Env

	// pool holds one request body per pooled token; each hit copies one.
	// A token near its expiry is minted again before it is sent.
	pool *tokenPool
}

// defaultIntrospectionPool is the automatic pool: tokens are not used up,
// so a hundred distinct ones keep a cache keyed by token from answering
// every hit.
const defaultIntrospectionPool = 100

// Problems of an introspection response.
const (
	problemNoActive      = "no active member"
	problemActiveNotBool = "active is not a JSON boolean (RFC 7662 §2.2)"
	problemInactiveLive  = "active: false for a live token"
	// problemInactiveSlow: the hit took longer than the token had left
	// when it was sent, so it may have expired in flight.
	problemInactiveSlow = "active: false for a token that may have expired during a slow hit"
	// problemInactiveUnknown: the token's response said nothing of its
	// lifetime, so the pool cannot keep it live.
	problemInactiveUnknown = "active: false for a token of unknown lifetime (no expires_in, not a JWT)"
)

func newIntrospection(env Env) (Scenario, error) {
	switch {
	case env.Endpoints.Introspection == "":
		return nil, fmt.Errorf("introspection: the target has no introspection endpoint (discovery gave none and endpoints.introspection is not set)")
	case env.Endpoints.Token == "":
		return nil, fmt.Errorf("introspection: the target has no token endpoint to mint the tokens to introspect (discovery gave none and endpoints.token is not set)")
	}
	auth, err := newSecretAuth("introspection", env.Client, env.Secrets)
	if err != nil {
		return nil, err
	}
	return &introspection{endpoint: env.Endpoints.Introspection, token: env.Endpoints.Token, auth: auth, env: env}, nil
}

func (s *introspection) Name() string     { return "introspection" }
func (s *introspection) Endpoint() string { return s.endpoint }

// Prepare mints the pool of access tokens with client credentials grants.
func (s *introspection) Prepare(ctx context.Context, d Demand) (*results.LoadPreparation, error) {
	size := poolSize(s.env.Pool, min(d.TotalHits, defaultIntrospectionPool))
	s.pool = &tokenPool{what: "access token", timeout: s.timeout(), remint: func(ctx context.Context) (*pooledToken, error) {
		t, _, err := s.mint(ctx, d)
		return t, err
	}}
	prep, err := fill(ctx, d, "access tokens from client credentials grants", size, s.env.Pool, func(ctx context.Context) error {
		t, life, err := s.mint(ctx, d)
		if err != nil {
			return err
		}
		s.pool.add(t, life)
		return nil
	})
	s.pool.settle(s.skew())
	return prep, err
}

// mint obtains one access token to introspect, with its expiry.
func (s *introspection) mint(ctx context.Context, d Demand) (*pooledToken, time.Duration, error) {
	tr, err := s.env.OAuth.ClientCredentials(ctx, s.token, s.auth.cred, s.env.Client.Scopes, nil)
	if err != nil {
		return nil, 0, err
	}
	if err := grantFailure(tr); err != nil {
		return nil, 0, err
	}
	exp, life := expiryOf(tr, time.Now())
	d.issued(issuedBy(tr)...)
	body := []byte(url.Values{"token": {tr.AccessToken}, "token_type_hint": {"access_token"}}.Encode() + s.auth.form)
	return &pooledToken{payload: body, exp: exp}, life, nil
}

func (s *introspection) timeout() time.Duration {
	if s.env.Target != nil && s.env.Target.RequestTimeout > 0 {
		return s.env.Target.RequestTimeout.D()
	}
	return DefaultTimeout
}

func (s *introspection) skew() time.Duration {
	if s.env.Target != nil {
		return s.env.Target.ClockSkew.D()
	}
	return 0
}

// Notes says how often pooled tokens were minted again.
func (s *introspection) Notes() []string {
	if s.pool == nil {
		return nil
	}
	// Called after the last attack: no mint outlives the run.
	s.pool.wait()
	return s.pool.notes()
}

func (s *introspection) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		if s.pool == nil {
			return fmt.Errorf("introspection: no token to introspect")
		}
		p, err := s.pool.take()
		if err != nil {
			return fmt.Errorf("introspection: %w", err)
		}
		b := p.([]byte)
		t.Method = http.MethodPost
		t.URL = s.endpoint
		t.Header = s.auth.header
		t.Body = append([]byte(nil), b...)
		return nil
	}
}

// Inspect accepts a 200 whose JSON object says active: true (RFC 7662
// §2.2: a boolean). A string "true", a missing member or false about a
// token that is live are failures, grouped by what was wrong.
func (s *introspection) Inspect(res *vegeta.Result) Outcome {
	if res.Code < 200 || res.Code >= 300 {
		out := Outcome{OAuthError: oauthErrorCode(res.Body)}
		if res.Code >= 300 && res.Code < 400 {
			out.Problem = problemRedirect
		}
		return out
	}
	var active jsonscan.Value
	if err := jsonscan.Members(res.Body, func(name []byte, v jsonscan.Value) {
		if string(name) == "active" && v.Kind != jsonscan.Null {
			active = v
		}
	}); err != nil {
		if errors.Is(err, jsonscan.ErrNotObject) {
			return Outcome{Problem: problemNotJSON}
		}
		return Outcome{Problem: problemInvalidJSON}
	}
	if active.Kind == 0 {
		return Outcome{Problem: problemNoActive}
	}
	switch {
	case active.IsTrue():
		return Outcome{}
	case active.IsFalse():
		switch {
		case s.pool != nil && s.pool.unknown.Load():
			return Outcome{Problem: problemInactiveUnknown}
		case s.pool != nil && res.Latency >= s.pool.margin():
			return Outcome{Problem: problemInactiveSlow}
		}
		return Outcome{Problem: problemInactiveLive}
	default:
		return Outcome{Problem: problemActiveNotBool}
	}
}
