package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/results"
)

// jwks fetches the issuer's key set, as every resource server does to verify
// access tokens; an IdP whose JWKS slows under load breaks all of them.
type jwks struct {
	endpoint string
	header   http.Header
}

func newJWKS(env Env) (Scenario, error) {
	if env.Endpoints.JWKS == "" {
		return nil, fmt.Errorf("jwks: the target has no jwks_uri (discovery gave none and endpoints.jwks is not set)")
	}
	return &jwks{endpoint: env.Endpoints.JWKS, header: http.Header{"Accept": {"application/json"}}}, nil
}

func (s *jwks) Name() string     { return "jwks" }
func (s *jwks) Endpoint() string { return s.endpoint }
func (s *jwks) Prepare(context.Context, Demand) (*results.LoadPreparation, error) {
	return nil, nil
}

func (s *jwks) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method = http.MethodGet
		t.URL = s.endpoint
		t.Header = s.header
		return nil
	}
}

// Inspect accepts a 200 whose body is a JWK Set with at least one key (RFC
// 7517 §5).
func (s *jwks) Inspect(res *vegeta.Result) Outcome {
	if res.Code != http.StatusOK {
		if res.Code >= 200 && res.Code < 400 {
			return Outcome{Problem: fmt.Sprintf("expected status 200, got %d", res.Code)}
		}
		return Outcome{}
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(res.Body, &set); err != nil {
		return Outcome{Problem: "body is not a JWK Set"}
	}
	if len(set.Keys) == 0 {
		return Outcome{Problem: "JWK Set has no keys"}
	}
	return Outcome{}
}
