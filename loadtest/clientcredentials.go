package loadtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
)

// clientCredentials sends the client credentials grant (RFC 6749 §4.4) as
// the chosen client, with its registered authentication method.
type clientCredentials struct {
	endpoint string
	body     string
	// header is shared by every hit and never written after construction:
	// vegeta's Target.Request copies it into each request.
	header http.Header
}

func newClientCredentials(env Env) (Scenario, error) {
	if env.Endpoints.Token == "" {
		return nil, fmt.Errorf("client-credentials: the target has no token endpoint (discovery gave none and endpoints.token is not set)")
	}
	c := env.Client
	if c.ID == "" {
		return nil, fmt.Errorf("client-credentials: no client")
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	header := http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"},
		"Accept":       {"application/json"},
	}
	secret := c.Secret.Reveal()
	switch c.AuthMethod {
	case target.ClientSecretPost:
		form.Set("client_id", c.ID)
		form.Set("client_secret", secret)
	case target.TLSClientAuth, target.PrivateKeyJWT:
		// A fixed body per attack cannot carry a fresh single-use assertion,
		// and the attack's transport presents no client certificate.
		return nil, fmt.Errorf("client-credentials: client %s authenticates with %s, which load runs do not support yet; pick a client with a secret (--client)", c.Name, c.AuthMethod)
	default:
		// RFC 6749 §2.3.1: id and secret are form-encoded before base64.
		cred := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID) + ":" + url.QueryEscape(secret)))
		header.Set("Authorization", "Basic "+cred)
		env.Secrets.Add(cred, "Basic "+cred)
	}
	return &clientCredentials{endpoint: env.Endpoints.Token, body: form.Encode(), header: header}, nil
}

func (s *clientCredentials) Name() string     { return "client-credentials" }
func (s *clientCredentials) Endpoint() string { return s.endpoint }
func (s *clientCredentials) Prepare(context.Context, Demand) (*results.LoadPreparation, error) {
	return nil, nil
}

func (s *clientCredentials) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method = http.MethodPost
		t.URL = s.endpoint
		// A body of its own per hit: nothing a hit does can reach another's.
		t.Body = []byte(s.body)
		t.Header = s.header
		return nil
	}
}

func (s *clientCredentials) Inspect(res *vegeta.Result) Outcome {
	out := inspectTokenResponse(res)
	// RFC 6749 §4.4.3: a refresh token should not be included. It is not a
	// failure of the hit; the conformance suites report it.
	return out
}
