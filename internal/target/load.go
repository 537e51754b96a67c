package target

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/idpconform/idpconform/internal/slo"
	"github.com/idpconform/idpconform/internal/yamlfile"
	"github.com/idpconform/idpconform/mockidp"
)

// MockProfiles are the vendor profiles the bundled mock can imitate.
var MockProfiles = mockidp.Profiles()

// Load reads, resolves and validates the target file at path. Environment
// references (${NAME}, ${NAME:-default}) are resolved with os.LookupEnv.
// Every problem is reported before any request is made, as a *ConfigError
// naming the file, line, column and field.
func Load(path string) (*Target, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read target %s: %w", path, err)
	}
	return Parse(path, src, os.LookupEnv)
}

// LookupFunc resolves an environment variable.
type LookupFunc func(name string) (string, bool)

// Parse is Load on bytes already read; name is used in error messages.
func Parse(name string, src []byte, lookup LookupFunc) (_ *Target, err error) {
	// literalSecrets, resolveEnv and Locate walk and query the AST with
	// goccy's code before and after Decode.
	defer yamlfile.Recover(name, src, &err)
	f, err := yamlfile.Parse(name, src)
	if err != nil {
		return nil, err
	}
	warnings := literalSecrets(name, f.Body())
	if err := f.Err(resolveEnv(f.Body(), lookup)); err != nil {
		return nil, err
	}
	t := &Target{}
	if err := f.Decode(t); err != nil {
		return nil, err
	}
	t.File = name
	t.yaml = f
	applyDefaults(t, name)
	if err := f.Err(validate(t)); err != nil {
		return nil, err
	}
	if t.TLS.InsecureSkipVerify {
		line := f.Locate([]yamlfile.Problem{{Path: "$.tls.insecure_skip_verify"}})[0].Line
		warnings = append(warnings, fmt.Sprintf("%s:%d: tls.insecure_skip_verify is on: the IdP's certificate is not verified, so anyone on the network path can pose as the IdP and read every secret sent", name, line))
	}
	t.Warnings = warnings
	return t, nil
}

// ConfigError is the error type of Load and Parse.
type ConfigError = yamlfile.Error

func applyDefaults(t *Target, file string) {
	if t.Name == "" {
		base := filepath.Base(file)
		t.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if t.ClockSkew == 0 {
		t.ClockSkew = Duration(DefaultClockSkew)
	}
	if t.RequestTimeout == 0 {
		t.RequestTimeout = Duration(DefaultRequestTimeout)
	}
	if t.MaxResponseBytes == 0 {
		t.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if len(t.SigningAlgs) == 0 {
		t.SigningAlgs = slices.Clone(DefaultSigningAlgs)
	}
	for i := range t.Clients {
		c := &t.Clients[i]
		if c.AuthMethod == "" {
			c.AuthMethod = ClientSecretBasic
		}
		if c.Refresh.Rotation == "" {
			c.Refresh.Rotation = RotationRotate
		}
		if c.Refresh.RejectError == "" {
			c.Refresh.RejectError = DefaultRefreshRejectError
		}
	}
	if t.Login.Driver == "" {
		t.Login.Driver = DriverForm
	}
	if t.Akkess != nil && t.Akkess.Expiry == 0 {
		t.Akkess.Expiry = Duration(DefaultAkkessExpiry)
	}
	applyVariantDefaults(&t.Variants)
}

// validate checks what the YAML decoder cannot: required fields, enums,
// URLs and bounds. Each problem carries the YAML path of the field.
func validate(t *Target) []yamlfile.Problem {
	var ps []yamlfile.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, yamlfile.Errorf(path, format, args...))
	}

	switch {
	case t.Mock != nil && t.Issuer != "":
		add("$.issuer", "issuer and mock are exclusive: a target is either a real IdP or the bundled mock")
	case t.Mock == nil && t.Issuer == "" && t.Endpoints.Token == "":
		add("$", "no IdP: set issuer (discovery), endpoints.token, or mock")
	}
	if t.Mock != nil {
		ps = append(ps, validateMock(t.Mock)...)
	}
	if t.Issuer != "" {
		if msg := checkURL(t.Issuer); msg != "" {
			add("$.issuer", "%s", msg)
		}
	}
	for field, v := range map[string]string{
		"authorization": t.Endpoints.Authorization, "token": t.Endpoints.Token, "jwks": t.Endpoints.JWKS,
		"introspection": t.Endpoints.Introspection, "revocation": t.Endpoints.Revocation, "userinfo": t.Endpoints.Userinfo,
		"data": t.Endpoints.Data,
	} {
		if v == "" || strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") {
			continue
		}
		if msg := checkURL(v); msg != "" {
			add("$.endpoints."+field, "%s", msg)
		}
	}

	if len(t.Clients) == 0 {
		add("$", "no clients: declare at least one under clients")
	}
	seen := map[string]bool{}
	for i, c := range t.Clients {
		p := fmt.Sprintf("$.clients[%d]", i)
		if c.Name == "" {
			add(p, "client has no name")
		} else if seen[c.Name] {
			add(p+".name", "duplicate client name %q", c.Name)
		}
		seen[c.Name] = true
		if c.ID == "" {
			add(p, "client %q has no id (the client_id)", c.Name)
		}
		if !slices.Contains(authMethods, c.AuthMethod) {
			add(p+".auth_method", "unknown auth_method %q; expected one of %s", c.AuthMethod, joinAny(authMethods))
		}
		if c.Secret.IsZero() && c.AuthMethod.UsesSecret() {
			add(p, "client %q has no secret (use secret: ${ENV_VAR})", c.Name)
		}
		if len(c.Grants) == 0 {
			add(p, "client %q has no grants; expected some of %s", c.Name, joinAny(grants))
		}
		for j, g := range c.Grants {
			if !slices.Contains(grants, g) {
				add(fmt.Sprintf("%s.grants[%d]", p, j), "unknown grant %q; expected one of %s", g, joinAny(grants))
			}
		}
		if c.AccessTokenFormat != "" && !slices.Contains(tokenFormats, c.AccessTokenFormat) {
			add(p+".access_token_format", "unknown access_token_format %q; expected one of %s", c.AccessTokenFormat, joinAny(tokenFormats))
		}
		if c.HasGrant(GrantAuthorizationCode) && c.RedirectURI == "" {
			add(p, "client %q uses authorization_code but has no redirect_uri", c.Name)
		}
		for field, d := range map[string]Duration{"access_token_ttl": c.AccessTokenTTL, "id_token_ttl": c.IDTokenTTL, "refresh_token_ttl": c.RefreshTokenTTL} {
			if d < 0 {
				add(p+"."+field, "%s must not be negative, got %s", field, d.D())
			}
		}
	}
	users := map[string]bool{}
	for i, u := range t.Users {
		p := fmt.Sprintf("$.users[%d]", i)
		switch {
		case u.Name == "":
			add(p, "user has no name")
		case users[u.Name]:
			add(p+".name", "duplicate user name %q", u.Name)
		}
		users[u.Name] = true
		if u.Username == "" {
			add(p, "user %q has no username", u.Name)
		}
	}
	if !slices.Contains(loginDrivers, t.Login.Driver) {
		add("$.login.driver", "unknown login driver %q; expected one of %s", t.Login.Driver, strings.Join(loginDrivers, ", "))
	}
	// The embedded mock logs a login_hint user in only with auto-login on;
	// without it every login would stop at a form the driver never fills.
	// A mock run elsewhere is told with --auto-login, which a target file
	// cannot see: the driver says so at the first login.
	if t.Login.Driver == DriverMock && t.Mock != nil && !t.Mock.AutoLogin {
		add("$.login.driver", "login driver mock needs the mock's auto-login: set mock.auto_login: true")
	}
	for i, c := range t.Clients {
		p := fmt.Sprintf("$.clients[%d].refresh", i)
		if !ValidRotation(c.Refresh.Rotation) {
			add(p+".rotation", "unknown rotation %q; expected one of %s", c.Refresh.Rotation, joinAny(rotations))
		}
		if c.Refresh.Rotation == RotationGrace && c.Refresh.Grace <= 0 {
			add(p+".grace", "rotation rotate-grace needs a positive grace period")
		}
		if c.Refresh.Rotation != RotationGrace && c.Refresh.Grace != 0 {
			add(p+".grace", "grace applies only to rotation rotate-grace")
		}
	}
	validateVariants(t.Variants, add)
	for i, v := range t.Vendors {
		if !slices.Contains(VendorNames, v) {
			add(fmt.Sprintf("$.vendors[%d]", i), "unknown vendor %q; expected one of %s", v, strings.Join(VendorNames, ", "))
		}
	}
	if t.Has(CapAkoyaData) && t.Endpoints.Data == "" {
		add("$.capabilities", "akoya_data is declared but endpoints.data is not set")
	}
	if t.Has(CapAkkessTokens) && t.Akkess == nil {
		add("$.capabilities", "akkess_tokens is declared but there is no akkess: section (endpoint, tenant)")
	}
	if t.Has(CapAuthorizationCode) && len(t.Users) == 0 {
		add("$.capabilities", "authorization_code is declared but no users are given to log in as")
	}
	for i, c := range t.Capabilities {
		if !slices.Contains(Capabilities, c) {
			add(fmt.Sprintf("$.capabilities[%d]", i), "unknown capability %q; expected one of %s", c, joinAny(Capabilities))
		}
	}
	for i, a := range t.SigningAlgs {
		switch {
		case strings.EqualFold(a, "none"):
			add(fmt.Sprintf("$.signing_algs[%d]", i), `"none" cannot be allowed: unsigned tokens prove nothing`)
		case !slices.Contains(DefaultSigningAlgs, a):
			add(fmt.Sprintf("$.signing_algs[%d]", i), "unsupported signing alg %q; expected some of %s", a, strings.Join(DefaultSigningAlgs, ", "))
		}
	}
	if t.ClockSkew < 0 {
		add("$.clock_skew", "clock_skew must not be negative")
	}
	if t.RequestTimeout < 0 {
		add("$.request_timeout", "request_timeout must not be negative")
	}
	if t.MaxResponseBytes < 0 {
		add("$.max_response_bytes", "max_response_bytes must not be negative")
	}
	for i, s := range t.SLOs {
		if _, err := slo.Parse(s); err != nil {
			add(fmt.Sprintf("$.slos[%d]", i), "%v", err)
		}
	}
	ps = append(ps, validateAkkess(t)...)
	return append(ps, validateTLS(t)...)
}

func checkURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Sprintf("%q is not an absolute http(s) URL", v)
	}
	return ""
}

func joinAny[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// validateMock checks the mock section against the mock's own catalogues,
// so a bad profile, drift or fault is refused with the valid choices before
// anything starts.
func validateMock(m *Mock) []yamlfile.Problem {
	var ps []yamlfile.Problem
	if !slices.Contains(MockProfiles, m.Profile) {
		ps = append(ps, yamlfile.Errorf("$.mock.profile", "unknown mock profile %q; expected one of %s", m.Profile, strings.Join(MockProfiles, ", ")))
	}
	if m.SigningAlg != "" && !slices.Contains(DefaultSigningAlgs, m.SigningAlg) {
		ps = append(ps, yamlfile.Errorf("$.mock.signing_alg", "unsupported signing alg %q; expected one of %s", m.SigningAlg, strings.Join(DefaultSigningAlgs, ", ")))
	}
	for i, s := range m.Drift {
		d, err := mockidp.ParseDrift(s)
		if err == nil && slices.Contains(MockProfiles, m.Profile) {
			err = mockidp.CheckDriftForProfile(m.Profile, d)
		}
		if err != nil {
			ps = append(ps, yamlfile.Errorf(fmt.Sprintf("$.mock.drift[%d]", i), "%s", err))
		}
	}
	for i, s := range m.Faults {
		f, err := mockidp.ParseFault(s)
		if err != nil {
			ps = append(ps, yamlfile.Errorf(fmt.Sprintf("$.mock.faults[%d]", i), "%s", err))
			continue
		}
		if info, _ := mockidp.LookupFault(f.Name); len(info.Profiles) > 0 && !slices.Contains(info.Profiles, m.Profile) {
			ps = append(ps, yamlfile.Errorf(fmt.Sprintf("$.mock.faults[%d]", i), "fault %s applies to profile %s only, not %s", f.Name, strings.Join(info.Profiles, ", "), m.Profile))
		}
	}
	return ps
}
