// Package framework is what every conformance spec stands on: the target,
// its clients, the OAuth client and the verifier, and the wrapper that gives
// each spec its label, requirement and severity. Scenario files register
// their specs through Framework.It; the core imports none of them.
package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	"github.com/idpconform/idpconform/mockidp"
)

// Framework holds what the specs of one run share. Fields set by Setup are
// valid inside spec bodies only.
type Framework struct {
	Target    *target.Target
	Secrets   *redact.Registry
	Contracts contract.Set
	// Now is the clock of verifier checks; tests inject a fixed one.
	Now func() time.Time

	// Set by Setup.
	Issuer       string
	Metadata     *oauth.Metadata // nil when discovery failed or was not used
	DiscoveryErr error
	Endpoints    target.Endpoints
	OAuth        *oauth.Client
	Keys         *verify.RemoteKeySet
	Verifier     *verify.Verifier
	Mock         *mockidp.Server // the embedded mock, when the target names one
	// MockOptions adjusts the embedded mock before it starts (faults in
	// self-tests); nil leaves the target's settings.
	MockOptions func(*mockidp.Options)
	// Debug, when set, receives every HTTP exchange with the IdP as it
	// ends, through the run's redactor (--debug).
	Debug io.Writer

	mu        sync.Mutex
	regErrors []error
	current   *Requirement
	catalogue map[string]Requirement
	entries   []Entry
}

// New returns a Framework for t.
func New(t *target.Target, secrets *redact.Registry, contracts contract.Set) *Framework {
	return &Framework{Target: t, Secrets: secrets, Contracts: contracts, Now: time.Now, catalogue: map[string]Requirement{}}
}

// RegistrationErrors returns the problems found while specs registered.
func (f *Framework) RegistrationErrors() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.regErrors...)
}

func (f *Framework) regError(err error) {
	f.mu.Lock()
	f.regErrors = append(f.regErrors, err)
	f.mu.Unlock()
}

// Setup starts the embedded mock when the target names one, then discovers
// the issuer and prepares the verifier. A discovery failure does not stop the
// run: it is kept in DiscoveryErr and every spec that needs an endpoint fails
// with it, naming its own requirement.
func (f *Framework) Setup(ctx context.Context) error {
	t := f.Target
	f.Secrets.Add(t.Secrets()...)
	f.OAuth = oauth.New(oauth.Options{
		Timeout: t.RequestTimeout.D(),
		MaxBody: t.MaxResponseBytes,
		Secrets: f.Secrets,
		TLS:     t.TLSConfig(),
		Debug:   f.debugWriter(),
	})

	f.Issuer = t.Issuer
	if t.Mock != nil {
		var o mockidp.Options
		if err := t.Mock.Apply(&o); err != nil {
			return fmt.Errorf("target %s: %w", t.Name, err)
		}
		if f.MockOptions != nil {
			f.MockOptions(&o)
		}
		srv, err := mockidp.NewServer("", o)
		if err != nil {
			return fmt.Errorf("start embedded mock: %w", err)
		}
		f.Mock = srv
		f.Issuer = srv.URL
	}

	f.Endpoints = t.Endpoints.Resolved(f.Issuer)
	if f.Issuer != "" {
		md, _, err := f.OAuth.Discover(ctx, f.Issuer)
		f.Metadata, f.DiscoveryErr = md, err
		if md != nil {
			fill(&f.Endpoints.Authorization, md.AuthorizationEndpoint)
			fill(&f.Endpoints.Token, md.TokenEndpoint)
			fill(&f.Endpoints.JWKS, md.JWKSURI)
			fill(&f.Endpoints.Introspection, md.IntrospectionEndpoint)
			fill(&f.Endpoints.Revocation, md.RevocationEndpoint)
			fill(&f.Endpoints.Userinfo, md.UserinfoEndpoint)
		}
	}

	algs, err := verify.Algorithms(t.SigningAlgs)
	if err != nil {
		return fmt.Errorf("target %s: %w", t.Name, err)
	}
	jwksURL := f.Endpoints.JWKS
	f.Keys = verify.NewRemoteKeySet(func(ctx context.Context) ([]byte, error) {
		if jwksURL == "" {
			return nil, fmt.Errorf("no jwks_uri: discovery gave none and endpoints.jwks is not set")
		}
		return f.OAuth.FetchJWKS(ctx, jwksURL)
	}, f.Now)
	f.Verifier = &verify.Verifier{Keys: f.Keys, Algorithms: algs, Leeway: t.ClockSkew.D(), Now: f.Now}
	return nil
}

// Teardown closes the connections to the IdP and stops the embedded mock.
func (f *Framework) Teardown() error {
	if f.OAuth != nil {
		f.OAuth.CloseIdleConnections()
	}
	if f.Mock != nil {
		return f.Mock.Close()
	}
	return nil
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// HTTPClient returns the client specs use for requests outside the oauth
// package (hostile-response checks).
func (f *Framework) HTTPClient() *http.Client { return f.OAuth.HTTPClient() }

// debugWriter is Debug behind the redactor, or nil.
func (f *Framework) debugWriter() io.Writer {
	if f.Debug == nil {
		return nil
	}
	return f.Secrets.Writer(f.Debug)
}
