package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"

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

	// bodies holds one request body per pooled token, built in Prepare and
	// read-only after it; each hit copies one.
	bodies [][]byte
	next   atomic.Uint64
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
	var mu sync.Mutex
	s.bodies = make([][]byte, 0, size)
	return fill(ctx, d, "access tokens from client credentials grants", size, s.env.Pool, func(ctx context.Context) error {
		tr, err := s.env.OAuth.ClientCredentials(ctx, s.token, s.auth.cred, s.env.Client.Scopes, nil)
		if err != nil {
			return err
		}
		if err := grantFailure(tr); err != nil {
			return err
		}
		d.issued(issuedBy(tr)...)
		body := []byte(url.Values{"token": {tr.AccessToken}, "token_type_hint": {"access_token"}}.Encode() + s.auth.form)
		mu.Lock()
		s.bodies = append(s.bodies, body)
		mu.Unlock()
		return nil
	})
}

func (s *introspection) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		if len(s.bodies) == 0 {
			return fmt.Errorf("introspection: no token to introspect")
		}
		b := s.bodies[(s.next.Add(1)-1)%uint64(len(s.bodies))]
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
	var b struct {
		Active *json.RawMessage `json:"active"`
	}
	if err := json.Unmarshal(res.Body, &b); err != nil {
		return Outcome{Problem: problemNotJSON}
	}
	if b.Active == nil {
		return Outcome{Problem: problemNoActive}
	}
	switch string(bytes.TrimSpace(*b.Active)) {
	case "true":
		return Outcome{}
	case "false":
		return Outcome{Problem: problemInactiveLive}
	default:
		return Outcome{Problem: problemActiveNotBool}
	}
}
