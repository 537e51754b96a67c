// Package mockidp is the IdP bundled with idpconform: an OAuth 2.0 / OpenID
// Connect provider that really signs its tokens, imitates the vendors of the
// project's source documents (profiles), and can drift and misbehave on
// purpose so that the conformance suites can be shown to catch what they
// claim to catch.
//
// New returns an http.Handler with control methods; NewServer runs it on a
// loopback port with httptest's lifecycle, optionally with several issuers
// under path prefixes. Faults() and Drifts() are the catalogues of every
// injectable misbehaviour and change, with the requirement each violates.
// README.md in this directory shows every flow with curl.
package mockidp

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Options configure a mock. Zero fields take the documented defaults.
type Options struct {
	// Issuer is the issuer URL the mock names in its metadata and tokens;
	// its path, if any, prefixes every route. Required by New; NewServer
	// sets it from its listener.
	Issuer string
	// Profile is the vendor to imitate (Profiles); default "generic".
	Profile string
	// SigningAlg overrides the profile's algorithm. ES256 or EdDSA make load
	// runs of the mock an order of magnitude cheaper than RS256.
	SigningAlg string
	// SigningKey is used instead of a key generated at start (see
	// ParseSigningKey and fixtures/keys). Its type must fit SigningAlg; with
	// no SigningAlg, AlgForKey decides.
	SigningKey crypto.Signer
	// Clients replaces DefaultClients.
	Clients []Client
	// Users replaces DefaultUsers.
	Users []User
	// Drift and Faults are in force from the start; SetDrift and SetFaults
	// change them at run time.
	Drift  []Drift
	Faults []Fault
	// AutoLogin lets an authorization request name a test user in
	// login_hint and skip the login and consent forms, for fast runs.
	// Without it login_hint only fills in the username field.
	AutoLogin bool
	// Admin serves the admin API under {issuer}/_admin (see admin.go). It
	// answers loopback clients only.
	Admin bool
	// Now is the base clock; nil means time.Now. AdvanceClock moves the
	// mock's time relative to it.
	Now func() time.Time
	// Logger receives one line per request; nil discards. The mock logs no
	// secret: method, path (never the query), status and duration.
	Logger *slog.Logger
	// ClientCAs verifies the certificates of tls_client_auth clients;
	// NewTLSServer sets its own test CA when nil.
	ClientCAs *x509.CertPool
}

// Paths of the mock's endpoints, relative to the issuer.
const (
	PathDiscovery     = "/.well-known/openid-configuration"
	PathOAuthMetadata = "/.well-known/oauth-authorization-server"
	PathJWKS          = "/jwks"
	PathAuthorize     = "/authorize"
	PathLogin         = "/login"
	PathConsent       = "/consent"
	PathToken         = "/token"
	PathIntrospect    = "/introspect"
	PathRevoke        = "/revoke"
	PathUserinfo      = "/userinfo"
	// PathLogout revokes like PathRevoke; Next Identity names its
	// revocation endpoint /logout (seed 004). Served by that profile only.
	PathLogout = "/logout"
	// PathAkoyaData is Akoya's data endpoint for a provider (akoya and
	// akoya-legacy profiles): GET {issuer}/accounts-info/v2/{providerId}
	// with the ID token as bearer.
	PathAkoyaData = "/accounts-info/v2/"
	// PathAkkessTokens is Akkess' token-issuing endpoint (akkess profile).
	PathAkkessTokens = "/authorization/v1/tokens"
	// PathAdmin is the root of the admin API (Options.Admin).
	PathAdmin = "/_admin"
)

// IdP is a mock identity provider. It is an http.Handler; its methods are the
// control handle tests and the admin API use. Safe for concurrent use.
type IdP struct {
	issuer    string
	prefix    string // path of the issuer URL; routes live under it
	profile   Profile
	clients   map[string]*Client
	clientIDs []string // registration order
	users     map[string]*User
	userNames []string
	keys      *keyring
	keyAlg    jose.SignatureAlgorithm // the alg without drift
	store     *store
	clock     *clock
	log       *slog.Logger
	grants    map[string]grantHandler
	mux       *http.ServeMux
	endpoints map[string]string // path -> endpoint name, for @ENDPOINT faults
	autoLogin bool
	admin     bool
	clientCAs *x509.CertPool

	cfg   atomic.Pointer[config]
	cfgMu sync.Mutex // serialises changes of cfg (the alg drift rotates keys)
}

// config is the drift and faults in force; replaced whole, never edited, so
// a request sees one consistent set.
type config struct {
	faults *faultSet
	drift  *driftSet
}

// New returns a mock configured by o.
func New(o Options) (*IdP, error) {
	if o.Issuer == "" {
		return nil, fmt.Errorf("mockidp: Options.Issuer is required")
	}
	u, err := url.Parse(o.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("mockidp: issuer %q is not an absolute http(s) URL without query or fragment", o.Issuer)
	}
	if o.Profile == "" {
		o.Profile = ProfileGeneric
	}
	prof, err := LookupProfile(o.Profile)
	if err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	switch {
	case o.SigningAlg != "":
		alg := jose.SignatureAlgorithm(o.SigningAlg)
		if !supportsAlg(alg) {
			return nil, fmt.Errorf("mockidp: cannot sign with %q; expected one of %s", o.SigningAlg, strings.Join(signingAlgNames(), ", "))
		}
		prof.SigningAlg = alg
	case o.SigningKey != nil:
		prof.SigningAlg = AlgForKey(o.SigningKey)
	}
	keys, err := newKeyring(prof.SigningAlg, o.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("mockidp: signing key: %w", err)
	}
	m := &IdP{
		issuer:    strings.TrimSuffix(o.Issuer, "/"),
		prefix:    strings.TrimSuffix(u.Path, "/"),
		profile:   prof,
		clients:   map[string]*Client{},
		users:     map[string]*User{},
		keys:      keys,
		keyAlg:    prof.SigningAlg,
		store:     newStore(),
		clock:     newClock(o.Now),
		log:       o.Logger,
		autoLogin: o.AutoLogin,
		admin:     o.Admin,
		clientCAs: o.ClientCAs,
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	clients := o.Clients
	if clients == nil {
		clients = DefaultClients()
	}
	for i := range clients {
		c := clients[i]
		if err := checkClient(&c); err != nil {
			return nil, fmt.Errorf("mockidp: client %d: %w", i, err)
		}
		if _, dup := m.clients[c.ID]; dup {
			return nil, fmt.Errorf("mockidp: client %q registered twice", c.ID)
		}
		m.clients[c.ID] = &c
		m.clientIDs = append(m.clientIDs, c.ID)
	}
	users := o.Users
	if users == nil {
		users = DefaultUsers()
	}
	for i := range users {
		us := users[i]
		if err := checkUser(&us); err != nil {
			return nil, fmt.Errorf("mockidp: user %d: %w", i, err)
		}
		if _, dup := m.users[us.Username]; dup {
			return nil, fmt.Errorf("mockidp: user %q registered twice", us.Username)
		}
		m.users[us.Username] = &us
		m.userNames = append(m.userNames, us.Username)
	}
	m.cfg.Store(&config{faults: newFaultSet(nil), drift: newDriftSet(nil)})
	if err := m.SetFaults(o.Faults...); err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	if err := m.SetDrift(o.Drift...); err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	m.grants = map[string]grantHandler{}
	for _, g := range []grantHandler{&clientCredentials{m}, &authorizationCode{m}, &refreshToken{m}} {
		m.grants[g.grantType()] = g
	}
	m.routes()
	return m, nil
}

func (m *IdP) routes() {
	mux := http.NewServeMux()
	m.endpoints = map[string]string{}
	handle := func(endpoint string, methods []string, path string, h http.HandlerFunc) {
		for _, meth := range methods {
			mux.HandleFunc(meth+" "+m.prefix+path, h)
		}
		m.endpoints[m.prefix+path] = endpoint
	}
	get, post, both := []string{http.MethodGet}, []string{http.MethodPost}, []string{http.MethodGet, http.MethodPost}
	handle("discovery", get, PathDiscovery, m.handleDiscovery)
	handle("discovery", get, PathOAuthMetadata, m.handleDiscovery)
	handle("jwks", get, PathJWKS, m.handleJWKS)
	handle("authorize", both, PathAuthorize, m.handleAuthorize)
	handle("login", both, PathLogin, m.handleLogin)
	handle("consent", both, PathConsent, m.handleConsent)
	handle("token", post, PathToken, m.handleToken)
	handle("introspect", post, PathIntrospect, m.handleIntrospect)
	handle("revoke", post, PathRevoke, m.handleRevoke)
	handle("userinfo", both, PathUserinfo, m.handleUserinfo)
	switch m.profile.Name {
	case ProfileNextIdentity:
		handle("revoke", post, PathLogout, m.handleRevoke)
	case ProfileAkoya, ProfileAkoyaLegacy:
		handle("akoya-data", get, PathAkoyaData+"{provider}", m.handleAkoyaData)
		m.endpoints[m.prefix+PathAkoyaData] = "akoya-data"
	case ProfileAkkess:
		handle("akkess", post, PathAkkessTokens, m.handleAkkessTokens)
	}
	if m.admin {
		m.adminRoutes(mux)
	}
	m.mux = mux
}

// endpointName names the endpoint a path belongs to, for @ENDPOINT faults.
func (m *IdP) endpointName(path string) string {
	if n, ok := m.endpoints[path]; ok {
		return n
	}
	if strings.HasPrefix(path, m.prefix+PathAkoyaData) {
		return "akoya-data"
	}
	if strings.HasPrefix(path, m.prefix+PathAdmin+"/") || path == m.prefix+PathAdmin {
		return "admin"
	}
	return ""
}

type cfgKey struct{}

// cfgOf returns the drift and faults in force for a request: read once when
// the request arrives, so a change at run time never splits a response.
func (m *IdP) cfgOf(r *http.Request) *config {
	if c, ok := r.Context().Value(cfgKey{}).(*config); ok {
		return c
	}
	return m.cfg.Load()
}

// ServeHTTP implements http.Handler.
func (m *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	cfg := m.cfg.Load()
	r = r.WithContext(context.WithValue(r.Context(), cfgKey{}, cfg))
	ep := m.endpointName(r.URL.Path)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	if ep != "admin" {
		if m.injectHTTPFault(cfg.faults, ep, rec, r) {
			m.logRequest(r, rec.status, start)
			return
		}
		if bw := m.bodyFaultWriter(cfg.faults, ep, rec); bw != nil {
			m.mux.ServeHTTP(bw, r)
			bw.finish(r.Context())
			m.logRequest(r, rec.status, start)
			return
		}
	}
	m.mux.ServeHTTP(rec, r)
	m.logRequest(r, rec.status, start)
}

func (m *IdP) logRequest(r *http.Request, status int, start time.Time) {
	if !m.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	m.log.Info("request", "issuer", m.issuer, "method", r.Method, "path", r.URL.Path, "status", status, "elapsed", time.Since(start))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Issuer returns the issuer URL.
func (m *IdP) Issuer() string { return m.issuer }

// Profile returns the profile in use.
func (m *IdP) Profile() Profile {
	p := m.profile
	p.SigningAlg = m.keys.alg()
	return p
}

// endpoint returns the absolute URL of a path.
func (m *IdP) endpoint(p string) string { return m.issuer + p }

// Now returns the mock's current time (the base clock moved by AdvanceClock).
func (m *IdP) Now() time.Time { return m.clock.now() }

// AdvanceClock moves the mock's clock by d (negative moves it back) and
// returns the offset from the base clock now in force. Tokens expire, codes
// and sessions lapse by this clock.
func (m *IdP) AdvanceClock(d time.Duration) time.Duration { return m.clock.advance(d) }

// SetClockOffset sets the offset of the mock's clock from the base clock.
func (m *IdP) SetClockOffset(d time.Duration) { m.clock.setOffset(d) }

// ClockOffset returns the offset of the mock's clock from the base clock.
func (m *IdP) ClockOffset() time.Duration { return m.clock.getOffset() }

// RotateKeys makes a new signing key; the old public key stays in the JWKS.
func (m *IdP) RotateKeys() error { return m.keys.rotate(m.keys.alg(), true) }

// DropOldKeys removes every retired public key from the JWKS, so tokens
// signed before the last rotation no longer verify.
func (m *IdP) DropOldKeys() {
	m.keys.mu.Lock()
	m.keys.retired = nil
	m.keys.mu.Unlock()
}

// KeyIDs returns the kids of the published keys, the signing key first.
func (m *IdP) KeyIDs() []string { return m.keys.kids() }

// JWKS returns the public key set the mock publishes.
func (m *IdP) JWKS() jose.JSONWebKeySet { return m.keys.publicSet() }

// IssuedCount reports how many tokens the mock has issued.
func (m *IdP) IssuedCount() int { return int(m.store.issued.Load()) }

// Clients returns copies of the registered clients, in registration order.
func (m *IdP) Clients() []Client {
	out := make([]Client, 0, len(m.clientIDs))
	for _, id := range m.clientIDs {
		out = append(out, *m.clients[id])
	}
	return out
}

// Users returns copies of the registered users, in registration order.
func (m *IdP) Users() []User {
	out := make([]User, 0, len(m.userNames))
	for _, n := range m.userNames {
		out = append(out, *m.users[n])
	}
	return out
}

// SetFaults replaces the faults in force. A fault that is unknown, has a
// bad value, or belongs to another profile is refused and nothing changes.
func (m *IdP) SetFaults(fs ...Fault) error {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	return m.setFaultsLocked(fs)
}

func (m *IdP) setFaultsLocked(fs []Fault) error {
	checked := make([]Fault, 0, len(fs))
	for _, f := range fs {
		if err := f.check(); err != nil {
			return err
		}
		info, _ := LookupFault(f.Name)
		if len(info.Profiles) > 0 && !slices.Contains(info.Profiles, m.profile.Name) {
			return fmt.Errorf("fault %s applies to profile %s only; this mock is %s", f.Name, strings.Join(info.Profiles, ", "), m.profile.Name)
		}
		checked = append(checked, f)
	}
	old := m.cfg.Load()
	m.cfg.Store(&config{faults: newFaultSet(checked), drift: old.drift})
	return nil
}

// AddFault switches one more fault on (replacing one of the same name).
func (m *IdP) AddFault(f Fault) error {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	return m.setFaultsLocked(append(slices.Clone(m.cfg.Load().faults.list), f))
}

// RemoveFault switches a fault off.
func (m *IdP) RemoveFault(name FaultName) {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	old := m.cfg.Load()
	kept := slices.DeleteFunc(slices.Clone(old.faults.list), func(f Fault) bool { return f.Name == name })
	m.cfg.Store(&config{faults: newFaultSet(kept), drift: old.drift})
}

// ActiveFaults returns the faults in force.
func (m *IdP) ActiveFaults() []Fault { return slices.Clone(m.cfg.Load().faults.list) }

// SetDrift replaces the drift in force. The alg drift rotates to a key of
// the new algorithm (and back when it is removed), keeping the old public
// key published.
func (m *IdP) SetDrift(ds ...Drift) error {
	checked := make([]Drift, 0, len(ds))
	for _, d := range ds {
		if err := d.check(); err != nil {
			return err
		}
		if err := CheckDriftForProfile(m.profile.Name, d); err != nil {
			return err
		}
		checked = append(checked, d)
	}
	set := newDriftSet(checked)
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	want := m.keyAlg
	if d, ok := set.get(DriftAlg); ok {
		want = d.p.alg
	}
	if m.keys.alg() != want {
		if err := m.keys.rotate(want, true); err != nil {
			return fmt.Errorf("drift alg=%s: %w", want, err)
		}
	}
	old := m.cfg.Load()
	m.cfg.Store(&config{faults: old.faults, drift: set})
	return nil
}

// ActiveDrift returns the drift in force.
func (m *IdP) ActiveDrift() []Drift { return slices.Clone(m.cfg.Load().drift.list) }

// Reset switches every fault and drift off and sets the clock offset back to
// zero. Keys and issued tokens stay.
func (m *IdP) Reset() error {
	if err := m.SetDrift(); err != nil {
		return err
	}
	if err := m.SetFaults(); err != nil {
		return err
	}
	m.SetClockOffset(0)
	return nil
}
