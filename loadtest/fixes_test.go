package loadtest

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/mockidp"
)

// startTLSMock starts the mock over HTTPS with its own test CA and returns
// an Env for the cc client whose preparation client trusts that CA.
func startTLSMock(t *testing.T) (*mockidp.Server, Env) {
	t.Helper()
	srv, err := mockidp.NewTLSServer("", mockidp.Options{SigningAlg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	reg := redact.New()
	tg := &target.Target{Name: "tls-mock", SigningAlgs: target.DefaultSigningAlgs,
		Clients: []target.Client{{Name: "cc", ID: mockidp.ClientCC, Secret: target.Secret{Secret: redact.NewSecret(mockidp.ClientCCSecret)},
			AuthMethod: target.ClientSecretBasic, Grants: []target.Grant{target.GrantClientCredentials}, Scopes: []string{"api:read"}}}}
	reg.Add(tg.Secrets()...)
	oc := oauth.New(oauth.Options{Secrets: reg, TLS: &tls.Config{RootCAs: srv.CA.Pool(), MinVersion: tls.VersionTLS12}})
	t.Cleanup(oc.CloseIdleConnections)
	return srv, Env{Target: tg, Client: tg.Clients[0], Secrets: reg, OAuth: oc,
		Endpoints: target.Endpoints{Token: srv.URL + mockidp.PathToken, JWKS: srv.URL + mockidp.PathJWKS}}
}

// The attack trusts what the target trusts: with the mock's CA every hit
// succeeds; without it (the system roots) every hit fails, and the error
// groups name the unknown authority.
func TestAttackUsesTargetTLS(t *testing.T) {
	srv, env := startTLSMock(t)
	run := func(tc *tls.Config) *Report {
		t.Helper()
		sc, err := newClientCredentials(env)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Run(context.Background(), Config{
			Scenario: sc, Plan: Plan{Model: Constant, Rates: []float64{20}, Duration: 500 * time.Millisecond},
			HTTP: HTTPOptions{TLS: tc}, MinAttemptedRatio: 0.5, Secrets: env.Secrets,
		})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	st := run(&tls.Config{RootCAs: srv.CA.Pool(), MinVersion: tls.VersionTLS12}).Load.Steps[0]
	if st.Requests == 0 || st.OK != st.Requests {
		t.Errorf("with the CA: %d of %d ok; errors %+v", st.OK, st.Requests, st.Errors)
	}
	st = run(nil).Load.Steps[0]
	if st.Requests == 0 || st.OK != 0 {
		t.Fatalf("without the CA: %d of %d ok", st.OK, st.Requests)
	}
	if len(st.Errors) == 0 || !strings.Contains(st.Errors[0].Message, "x509: certificate signed by unknown authority") {
		t.Errorf("without the CA, errors do not name the authority: %+v", st.Errors)
	}
}
