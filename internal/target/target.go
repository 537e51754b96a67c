// Package target holds the configuration of one IdP under test: where it is
// (an issuer to discover, explicit endpoints, or the bundled mock), the
// clients the suites act as, what the IdP claims to support, and the
// contracts its tokens must meet.
package target

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/yamlfile"
	"github.com/idpconform/idpconform/mockidp"
)

// Target is a loaded, validated target configuration.
type Target struct {
	// Name labels reports; defaults to the file name without extension.
	Name string `yaml:"name"`
	// Issuer is the OpenID Provider issuer URL; endpoints come from its
	// discovery document unless Endpoints overrides them.
	Issuer string `yaml:"issuer"`
	// Mock, when set, starts the bundled mock IdP in-process on a loopback
	// port and uses its issuer instead of Issuer.
	Mock *Mock `yaml:"mock"`
	// Endpoints overrides or replaces discovery.
	Endpoints Endpoints `yaml:"endpoints"`
	// Clients the suites act as, in the order given.
	Clients []Client `yaml:"clients"`
	// Capabilities the IdP claims; specs for anything else are skipped.
	Capabilities []Capability `yaml:"capabilities"`
	// Contracts names the claim contracts to apply, by token kind.
	Contracts Contracts `yaml:"contracts"`
	// SigningAlgs is the allow-list of JWS algorithms tokens may use.
	SigningAlgs []string `yaml:"signing_algs"`
	// ClockSkew is the leeway allowed on exp, iat and nbf.
	ClockSkew Duration `yaml:"clock_skew"`
	// RequestTimeout bounds every HTTP exchange with the IdP.
	RequestTimeout Duration `yaml:"request_timeout"`
	// MaxResponseBytes bounds every response body read from the IdP.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// Vendors are the vendors whose documented rules the IdP follows
	// (akoya, akkess, nextidentity): their vendor-labelled specs apply.
	Vendors []string `yaml:"vendors"`
	// Users the suites log in as (authorization code flows).
	Users []User `yaml:"users"`
	// Login says how users are logged in.
	Login Login `yaml:"login"`
	// Variants declares what the IdP does where the RFCs leave a choice.
	Variants Variants `yaml:"variants"`
	// SLOs gate load runs: "p99<=200ms", "success>=99.9%",
	// "throughput>=500/s". Flags given to `idpconform load` replace them.
	SLOs []string `yaml:"slos"`
	// Akkess, when set, is an Akkess token exchange to capture (akkess.go).
	Akkess *Akkess `yaml:"akkess"`
	// TLS configures connections to the IdP: a private CA, or (warned
	// about on every run) no verification at all.
	TLS TLS `yaml:"tls"`

	// File is the path the target was loaded from ("" when built in code).
	File string `yaml:"-"`
	// Warnings are problems of the file that do not stop a run (a literal
	// secret, TLS verification off), each naming file:line. Commands print
	// them on every run.
	Warnings []string `yaml:"-"`

	// yaml is the parsed file, kept so that problems found after loading
	// (a contract name the contract set lacks) are placed at their line.
	yaml *yamlfile.File
}

// Err places problems found after loading at their file:line:col, like the
// problems Load reports; a target built in code has no positions to give.
func (t *Target) Err(ps []yamlfile.Problem) error {
	if len(ps) == 0 {
		return nil
	}
	if t.yaml == nil {
		return &yamlfile.Error{File: t.File, Problems: ps}
	}
	return t.yaml.Err(ps)
}

// Mock selects the bundled mock IdP, and how it drifts and misbehaves.
type Mock struct {
	// Profile is the vendor the mock imitates (mockidp.Profiles).
	Profile string `yaml:"profile"`
	// SigningAlg overrides the profile's signing algorithm (ES256 or EdDSA
	// make load runs far cheaper than RS256).
	SigningAlg string `yaml:"signing_alg"`
	// Drift lists changes the mock makes to what it issues, in the syntax
	// of `idpconform mock --drift`, e.g. "drop-claim=recipientId"
	// (mockidp.Drifts).
	Drift []string `yaml:"drift"`
	// Faults lists misbehaviours, in the syntax of `idpconform mock
	// --fault`, e.g. "latency=50ms" (mockidp.Faults).
	Faults []string `yaml:"faults"`
	// AutoLogin lets an authorization request name a test user in
	// login_hint and skip the login and consent forms.
	AutoLogin bool `yaml:"auto_login"`
}

// Check validates the section against the mock's catalogues, as Load does;
// callers that change the section after loading (command-line flags) call
// it again.
func (m *Mock) Check() error {
	var msgs []string
	for _, p := range validateMock(m) {
		msgs = append(msgs, p.Msg)
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

// Apply sets the mock options this section configures. The section was
// validated when the file was loaded; an error here means it was changed
// since (a --mock-profile, a --mock-fault) and names the bad value.
func (m *Mock) Apply(o *mockidp.Options) error {
	drift, err := mockidp.ParseDrifts(m.Drift)
	if err != nil {
		return fmt.Errorf("mock drift: %w", err)
	}
	faults, err := mockidp.ParseFaults(m.Faults)
	if err != nil {
		return fmt.Errorf("mock faults: %w", err)
	}
	o.Profile, o.SigningAlg, o.Drift, o.Faults, o.AutoLogin = m.Profile, m.SigningAlg, drift, faults, m.AutoLogin
	return nil
}

// Endpoints are explicit endpoint URLs. Any that are set win over discovery.
// A value starting with "/" is relative to the issuer, so a target file
// for the embedded mock (whose port is chosen at start) can name them.
type Endpoints struct {
	Authorization string `yaml:"authorization"`
	Token         string `yaml:"token"`
	JWKS          string `yaml:"jwks"`
	Introspection string `yaml:"introspection"`
	Revocation    string `yaml:"revocation"`
	Userinfo      string `yaml:"userinfo"`
	// Data is a protected data endpoint that takes the ID token as bearer
	// (Akoya: .../accounts-info/v2/{providerId}).
	Data string `yaml:"data"`
}

// Resolved returns e with relative endpoints made absolute on issuer.
func (e Endpoints) Resolved(issuer string) Endpoints {
	base := strings.TrimSuffix(issuer, "/")
	for _, p := range []*string{&e.Authorization, &e.Token, &e.JWKS, &e.Introspection, &e.Revocation, &e.Userinfo, &e.Data} {
		if strings.HasPrefix(*p, "/") && base != "" {
			*p = base + *p
		}
	}
	return e
}

// IsZero reports whether no endpoint is set.
func (e Endpoints) IsZero() bool { return e == Endpoints{} }

// Client is one OAuth client registered at the IdP.
type Client struct {
	// Name identifies the client inside this config and in reports.
	Name string `yaml:"name"`
	// ID is the client_id.
	ID string `yaml:"id"`
	// Secret is the client secret, normally "${ENV_VAR}".
	Secret Secret `yaml:"secret"`
	// AuthMethod is the token endpoint authentication method.
	AuthMethod AuthMethod `yaml:"auth_method"`
	// Grants the client is registered for.
	Grants []Grant `yaml:"grants"`
	// Scopes to request; the IdP may grant fewer.
	Scopes []string `yaml:"scopes"`
	// RedirectURI for the authorization code grant.
	RedirectURI string `yaml:"redirect_uri"`
	// AccessTokenFormat is what the client receives: jwt or opaque.
	AccessTokenFormat TokenFormat `yaml:"access_token_format"`
	// AccessTokenTTL is the declared access token lifetime.
	AccessTokenTTL Duration `yaml:"access_token_ttl"`
	// IDTokenTTL is the declared ID token lifetime.
	IDTokenTTL Duration `yaml:"id_token_ttl"`
	// RefreshTokenTTL is the declared refresh token lifetime.
	RefreshTokenTTL Duration `yaml:"refresh_token_ttl"`
	// Refresh is the declared refresh token behaviour.
	Refresh RefreshPolicy `yaml:"refresh"`
	// Consent is true when the IdP asks the user to approve this client.
	Consent bool `yaml:"consent"`
	// ClientKeys are the certificate (tls_client_auth) or private key
	// (private_key_jwt) of clients that authenticate without a secret.
	ClientKeys `yaml:",inline"`
}

// HasGrant reports whether the client is registered for g.
func (c Client) HasGrant(g Grant) bool { return slices.Contains(c.Grants, g) }

// Contracts names a contract per token kind.
type Contracts struct {
	AccessToken string `yaml:"access_token"`
	IDToken     string `yaml:"id_token"`
	// AkkessT1 judges the tokens of the Akkess exchange (akkess:).
	AkkessT1 string `yaml:"akkess_t1"`
	// Introspection judges the response about an active token.
	Introspection string `yaml:"introspection"`
	// TokenResponse judges successful token endpoint responses.
	TokenResponse string `yaml:"token_response"`
}

// ContractRef is one contract a target names: the field it is named in
// and the contract kind that field expects.
type ContractRef struct {
	Field string // "contracts.id_token"
	Kind  string // the contract kind: "id_token"
	Name  string
}

// Named lists the contracts the target names, in a stable order.
func (c Contracts) Named() []ContractRef {
	var out []ContractRef
	for _, r := range []ContractRef{
		{"contracts.access_token", "access_token", c.AccessToken},
		{"contracts.id_token", "id_token", c.IDToken},
		{"contracts.akkess_t1", "akkess_t1", c.AkkessT1},
		{"contracts.introspection", "introspection", c.Introspection},
		{"contracts.token_response", "token_response", c.TokenResponse},
	} {
		if r.Name != "" {
			out = append(out, r)
		}
	}
	return out
}

// AuthMethod is a token endpoint client authentication method (RFC 7591 §2).
type AuthMethod string

const (
	ClientSecretBasic AuthMethod = "client_secret_basic"
	ClientSecretPost  AuthMethod = "client_secret_post"
)

var authMethods = []AuthMethod{ClientSecretBasic, ClientSecretPost, TLSClientAuth, PrivateKeyJWT}

// Grant is an OAuth 2.0 grant type a client is registered for.
type Grant string

const (
	GrantClientCredentials Grant = "client_credentials"
	GrantAuthorizationCode Grant = "authorization_code"
	GrantRefreshToken      Grant = "refresh_token"
)

var grants = []Grant{GrantClientCredentials, GrantAuthorizationCode, GrantRefreshToken}

// TokenFormat is the format of an access token.
type TokenFormat string

const (
	FormatJWT    TokenFormat = "jwt"
	FormatOpaque TokenFormat = "opaque"
)

var tokenFormats = []TokenFormat{FormatJWT, FormatOpaque}

// Capability is something an IdP may or may not support. Specs that need a
// capability the target does not declare are skipped with the reason.
type Capability string

const (
	CapDiscovery         Capability = "discovery"
	CapClientCredentials Capability = "client_credentials"
	CapAuthorizationCode Capability = "authorization_code"
	CapRefreshToken      Capability = "refresh_token"
	CapIntrospection     Capability = "introspection"
	CapRevocation        Capability = "revocation"
	CapUserinfo          Capability = "userinfo"
	CapJWTAccessToken    Capability = "jwt_access_token"
	// CapAkoyaData: an Akoya data endpoint (endpoints.data) answering 602
	// for an expired ID token (seed 001).
	CapAkoyaData Capability = "akoya_data"
	// CapAkkessTokens: the Akkess token exchange (the akkess: section;
	// seed 003).
	CapAkkessTokens Capability = "akkess_tokens"
)

// Capabilities lists every capability a target may declare.
var Capabilities = []Capability{
	CapDiscovery, CapClientCredentials, CapAuthorizationCode, CapRefreshToken,
	CapIntrospection, CapRevocation, CapUserinfo, CapJWTAccessToken, CapAkoyaData, CapAkkessTokens,
}

// VendorNames are the vendors with specs of their own.
var VendorNames = []string{"akoya", "akkess", "nextidentity"}

// HasVendor reports whether the target declares it follows vendor v.
func (t *Target) HasVendor(v string) bool { return slices.Contains(t.Vendors, v) }

// Has reports whether the target declares c.
func (t *Target) Has(c Capability) bool { return slices.Contains(t.Capabilities, c) }

// Client returns the named client.
func (t *Target) Client(name string) (Client, bool) {
	for _, c := range t.Clients {
		if c.Name == name {
			return c, true
		}
	}
	return Client{}, false
}

// ClientFor returns the first client registered for g, in config order.
func (t *Target) ClientFor(g Grant) (Client, bool) {
	for _, c := range t.Clients {
		if c.HasGrant(g) {
			return c, true
		}
	}
	return Client{}, false
}

// Secrets returns every secret value of the configuration, for the redactor.
func (t *Target) Secrets() []string {
	var out []string
	for _, c := range t.Clients {
		if !c.Secret.IsZero() {
			out = append(out, c.Secret.Reveal())
		}
	}
	for _, u := range t.Users {
		if !u.Password.IsZero() {
			out = append(out, u.Password.Reveal())
		}
	}
	return out
}

// Duration is a time.Duration written as "90s" or "1h" in YAML.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML reads the node's resolved value and reports a bad duration
// at the node's position.
func (d *Duration) UnmarshalYAML(n ast.Node) error {
	s, err := yamlfile.ScalarString(n)
	if err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return yamlfile.NodeErrorf(n, "%q is not a duration (examples: 90s, 5m, 1h)", s)
	}
	*d = Duration(v)
	return nil
}

// Secret is a secret value read from the target file, normally resolved
// from ${ENV}. It prints as [REDACTED].
type Secret struct{ redact.Secret }

// UnmarshalYAML reads the node's resolved value: decoding through text would
// re-read the file's original ${VAR} instead.
func (s *Secret) UnmarshalYAML(n ast.Node) error {
	v, err := yamlfile.ScalarString(n)
	if err != nil {
		return err
	}
	s.Secret = redact.NewSecret(v)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Default values applied by Load when a field is omitted.
const (
	DefaultClockSkew        = 5 * time.Second
	DefaultRequestTimeout   = 10 * time.Second
	DefaultMaxResponseBytes = 1 << 20
)

// DefaultSigningAlgs is the allow-list used when a target names none: the
// asymmetric algorithms IdPs use in practice. "none" and HMAC algorithms are
// never allowed by default, since a client cannot verify them with a JWKS.
var DefaultSigningAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
