// Package mockidp is the IdP bundled with idpconform: an OAuth 2.0 / OpenID
// Connect provider that really signs its tokens, imitates the vendors of the
// project's source documents, and can misbehave on purpose so that the
// conformance suites can be shown to catch what they claim to catch.
//
// New returns an http.Handler with control methods; NewServer runs it on a
// loopback port with httptest's lifecycle.
package mockidp

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Options configure a mock. Zero fields take the documented defaults.
type Options struct {
	// Issuer is the issuer URL the mock names in its metadata and tokens.
	// Required by New; NewServer sets it from its listener.
	Issuer string
	// Profile is the vendor to imitate; default "generic".
	Profile string
	// SigningAlg overrides the profile's algorithm (ES256 or EdDSA make load
	// runs of the mock an order of magnitude cheaper than RS256).
	SigningAlg string
	// Clients replaces DefaultClients.
	Clients []Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per request; nil discards. The mock logs no
	// secret: client IDs and paths only.
	Logger *slog.Logger
}

// Paths of the mock's endpoints, relative to the issuer.
const (
	PathDiscovery     = "/.well-known/openid-configuration"
	PathOAuthMetadata = "/.well-known/oauth-authorization-server"
	PathJWKS          = "/jwks"
	PathToken         = "/token"
)

// IdP is a mock identity provider. It is an http.Handler; its methods are the
// control handle tests and the admin API use. Safe for concurrent use.
type IdP struct {
	issuer  string
	prefix  string // path of the issuer URL, routes live under it
	profile Profile
	clients map[string]*Client
	keys    *keyring
	store   *store
	now     func() time.Time
	log     *slog.Logger
	grants  map[string]grantHandler
	mux     *http.ServeMux
}

// New returns a mock configured by o.
func New(o Options) (*IdP, error) {
	if o.Issuer == "" {
		return nil, fmt.Errorf("mockidp: Options.Issuer is required")
	}
	u, err := url.Parse(o.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("mockidp: issuer %q is not an absolute http(s) URL", o.Issuer)
	}
	if o.Profile == "" {
		o.Profile = "generic"
	}
	prof, err := LookupProfile(o.Profile)
	if err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	if o.SigningAlg != "" {
		alg := jose.SignatureAlgorithm(o.SigningAlg)
		if !supportsAlg(alg) {
			return nil, fmt.Errorf("mockidp: cannot sign with %q", o.SigningAlg)
		}
		prof.SigningAlg = alg
	}
	keys, err := newKeyring(prof.SigningAlg)
	if err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	clients := o.Clients
	if clients == nil {
		clients = DefaultClients()
	}
	m := &IdP{
		issuer:  strings.TrimSuffix(o.Issuer, "/"),
		prefix:  strings.TrimSuffix(u.Path, "/"),
		profile: prof,
		clients: map[string]*Client{},
		keys:    keys,
		store:   newStore(),
		now:     o.Now,
		log:     o.Logger,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	for i := range clients {
		c := clients[i]
		if c.ID == "" {
			return nil, fmt.Errorf("mockidp: client %d has no ID", i)
		}
		if _, dup := m.clients[c.ID]; dup {
			return nil, fmt.Errorf("mockidp: client %q registered twice", c.ID)
		}
		m.clients[c.ID] = &c
	}
	m.grants = map[string]grantHandler{}
	for _, g := range []grantHandler{&clientCredentials{m}} {
		m.grants[g.grantType()] = g
	}
	m.routes()
	return m, nil
}

func (m *IdP) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+m.prefix+PathDiscovery, m.handleDiscovery)
	mux.HandleFunc("GET "+m.prefix+PathOAuthMetadata, m.handleDiscovery)
	mux.HandleFunc("GET "+m.prefix+PathJWKS, m.handleJWKS)
	mux.HandleFunc("POST "+m.prefix+PathToken, m.handleToken)
	m.mux = mux
}

// ServeHTTP implements http.Handler.
func (m *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := m.now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	m.mux.ServeHTTP(rec, r)
	m.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "elapsed", m.now().Sub(start))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Issuer returns the issuer URL.
func (m *IdP) Issuer() string { return m.issuer }

// Profile returns the profile in use.
func (m *IdP) Profile() Profile { return m.profile }

// RotateKeys makes a new signing key; the old public key stays in the JWKS.
func (m *IdP) RotateKeys() error { return m.keys.rotate() }

// JWKS returns the public key set the mock publishes.
func (m *IdP) JWKS() jose.JSONWebKeySet { return m.keys.publicSet() }

// IssuedCount reports how many tokens the mock has issued.
func (m *IdP) IssuedCount() int { return m.store.count() }

func (m *IdP) endpoint(p string) string { return m.issuer + p }

func (m *IdP) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	grantTypes := make([]string, 0, len(m.grants))
	for g := range m.grants {
		grantTypes = append(grantTypes, g)
	}
	sortStrings(grantTypes)
	doc := map[string]any{
		"issuer":                                m.issuer,
		"token_endpoint":                        m.endpoint(PathToken),
		"jwks_uri":                              m.endpoint(PathJWKS),
		"grant_types_supported":                 grantTypes,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(m.profile.SigningAlg)},
		"scopes_supported":                      m.scopesSupported(),
	}
	w.Header().Set("Content-Type", "application/json")
	writeJSONCacheable(w, doc)
}

func (m *IdP) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	writeJSONCacheable(w, m.keys.publicSet())
}

func (m *IdP) scopesSupported() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range m.clients {
		for _, s := range c.Scopes {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sortStrings(out)
	return out
}
