package mockidp

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// FaultName names a protocol misbehaviour the mock can inject on purpose, so
// that a suite can be shown to catch what it claims to catch. Faults() lists
// every name with what it breaks.
type FaultName string

// The faults. Each one's FaultInfo (Faults) says what it does, which
// requirement it violates and which scenario labels should catch it.
const (
	// HTTP level: any endpoint, or the one named after "@".
	FaultLatency       FaultName = "latency"
	FaultServerError   FaultName = "status-5xx"
	FaultRateLimit     FaultName = "rate-limit"
	FaultMalformedJSON FaultName = "malformed-json"
	FaultTruncatedBody FaultName = "truncated-body"
	FaultSlowBody      FaultName = "slow-body"

	// Token endpoint responses.
	FaultNoCacheControl    FaultName = "no-cache-control"
	FaultNoPragma          FaultName = "no-pragma"
	FaultCCRefreshToken    FaultName = "cc-refresh-token"
	FaultExpiresInString   FaultName = "expires-in-string"
	FaultNoExpiresIn       FaultName = "no-expires-in"
	FaultTokenType         FaultName = "token-type"
	FaultScopeWidened      FaultName = "scope-widened"
	FaultAcceptWrongSecret FaultName = "accept-wrong-secret"
	FaultErrorStatus200    FaultName = "error-status-200"
	FaultNoWWWAuthenticate FaultName = "no-www-authenticate"
	FaultUnknownGrant      FaultName = "unknown-grant-accepted"
	FaultAcceptNoAuth      FaultName = "accept-no-client-auth"

	// Signed tokens.
	FaultBadSignature   FaultName = "bad-signature"
	FaultAlgNone        FaultName = "alg-none"
	FaultUnknownKid     FaultName = "unknown-kid"
	FaultAtTypJWT       FaultName = "at-typ-jwt"
	FaultWrongIssuer    FaultName = "wrong-iss"
	FaultExpiredOnIssue FaultName = "expired-on-issue"
	FaultClockSkew      FaultName = "clock-skew"
	FaultTTLIgnored     FaultName = "ttl-ignored"
	FaultDuplicateJTI   FaultName = "duplicate-jti"

	// Discovery and JWKS.
	FaultIssuerMismatch FaultName = "issuer-mismatch"
	FaultJWKSPrivateKey FaultName = "jwks-private-key"
	FaultDuplicateKid   FaultName = "duplicate-kid"
	FaultUnadvertised   FaultName = "metadata-unadvertised"

	// Authorization code flow.
	FaultCodeReuse            FaultName = "code-reuse"
	FaultPKCEIgnored          FaultName = "pkce-ignored"
	FaultRedirectURIUnchecked FaultName = "redirect-uri-unchecked"
	FaultOpenRedirect         FaultName = "open-redirect"
	FaultCodeAnyClient        FaultName = "code-any-client"
	FaultStateDropped         FaultName = "state-dropped"
	FaultNonceDropped         FaultName = "nonce-dropped"
	FaultAtHashWrong          FaultName = "at-hash-wrong"
	FaultIDTokenAudWrong      FaultName = "id-token-aud-wrong"

	// Refresh.
	FaultRefreshReuse           FaultName = "refresh-reuse"
	FaultRefreshExpiredAccepted FaultName = "refresh-expired-accepted"
	FaultRefreshScopeWidened    FaultName = "refresh-scope-widened"
	FaultRefreshErrorSwapped    FaultName = "refresh-error-swapped"

	// Introspection and revocation.
	FaultIntrospectRevokedActive FaultName = "introspect-revoked-active"
	FaultIntrospectExpiredActive FaultName = "introspect-expired-active"
	FaultIntrospectNoAuth        FaultName = "introspect-no-auth"
	FaultIntrospectActiveString  FaultName = "introspect-active-string"
	FaultRevokeUnknown400        FaultName = "revoke-unknown-400"
	FaultRevokeNoop              FaultName = "revoke-noop"

	// Userinfo.
	FaultUserinfoAcceptsInvalid FaultName = "userinfo-accepts-invalid"
	FaultUserinfoSubMismatch    FaultName = "userinfo-sub-mismatch"

	// Vendor endpoints.
	FaultAkoyaExpiredAccepted FaultName = "akoya-expired-id-token-accepted"
	FaultAkkessNoCty          FaultName = "akkess-no-cty"
	FaultAkkessAcceptIgnored  FaultName = "akkess-accept-ignored"
)

// FaultInfo describes one fault: the row the selftest mutation matrix
// iterates over.
type FaultInfo struct {
	Name FaultName `json:"name"`
	// Param is the syntax of the value after "=", "" when it takes none.
	Param string `json:"param,omitempty"`
	// Default is the value used when none is given.
	Default string `json:"default,omitempty"`
	// Description says, in one line, what the mock does wrong.
	Description string `json:"description"`
	// Violates is the requirement broken, e.g. "RFC 6749 §5.1".
	Violates string `json:"violates"`
	// Severity is how the requirement is graded: MUST, SHOULD, or SLO for
	// faults only a load run's gates can judge.
	Severity string `json:"severity"`
	// CaughtBy lists the scenario labels (suites/framework) whose specs
	// should catch the fault, plus "load" for the load gates.
	CaughtBy []string `json:"caught_by"`
	// Profiles limits the fault to these profiles; empty means all.
	Profiles []string `json:"profiles,omitempty"`
}

// Endpoint names a fault's @ENDPOINT suffix may select.
var faultEndpoints = []string{"discovery", "jwks", "authorize", "login", "consent", "token", "introspect", "revoke", "userinfo", "akoya-data", "akkess"}

const endpointSuffix = "[@ENDPOINT]"

var faultCatalog = []FaultInfo{
	{Name: FaultLatency, Param: "DURATION|MIN..MAX" + endpointSuffix, Default: "50ms",
		Description: "delays every response by a fixed time or one drawn uniformly between MIN and MAX",
		Violates:    "the target's latency SLO", Severity: "SLO", CaughtBy: []string{"load"}},
	{Name: FaultServerError, Param: "SHARE" + endpointSuffix, Default: "0.5@token",
		Description: "answers a share (0..1, spread evenly) of requests with 503 and a server_error body",
		Violates:    "RFC 6749 §5.1 (a valid request gets 200)", Severity: "MUST", CaughtBy: []string{"client-credentials", "load"}},
	{Name: FaultRateLimit, Param: "SHARE" + endpointSuffix, Default: "0.5@token",
		Description: "answers a share of requests with 429 Too Many Requests and Retry-After: 1",
		Violates:    "RFC 6749 §5.1 (a valid request gets 200); RFC 6585 §4", Severity: "MUST", CaughtBy: []string{"client-credentials", "load"}},
	{Name: FaultMalformedJSON, Param: endpointSuffix, Default: "@token",
		Description: "cuts the closing brace off JSON bodies, leaving a trailing comma",
		Violates:    "RFC 6749 §5.1 (the body is a JSON object)", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultTruncatedBody, Param: endpointSuffix, Default: "@token",
		Description: "announces the full Content-Length, sends half the body and closes the connection",
		Violates:    "RFC 9110 §8.6 (Content-Length); RFC 6749 §5.1", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultSlowBody, Param: "DURATION" + endpointSuffix, Default: "2s@token",
		Description: "sends the body in small pieces spread over DURATION",
		Violates:    "the target's latency SLO and request timeout", Severity: "SLO", CaughtBy: []string{"load"}},

	{Name: FaultNoCacheControl, Description: "omits Cache-Control: no-store from token responses",
		Violates: "RFC 6749 §5.1", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultNoPragma, Description: "omits Pragma: no-cache from token responses",
		Violates: "RFC 6749 §5.1", Severity: "SHOULD", CaughtBy: []string{"client-credentials"}},
	{Name: FaultCCRefreshToken, Description: "adds a refresh token to client credentials responses",
		Violates: "RFC 6749 §4.4.3", Severity: "SHOULD", CaughtBy: []string{"client-credentials"}},
	{Name: FaultExpiresInString, Description: `sends expires_in as a JSON string ("3600") instead of a number`,
		Violates: "RFC 6749 §5.1 (numerical values are JSON numbers)", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultNoExpiresIn, Description: "omits expires_in from token responses",
		Violates: "RFC 6749 §5.1 (RECOMMENDED)", Severity: "SHOULD", CaughtBy: []string{"client-credentials"}},
	{Name: FaultTokenType, Param: "TYPE", Default: "JWT",
		Description: "answers token_type TYPE instead of Bearer",
		Violates:    "RFC 6749 §7.1; RFC 6750 §4", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultScopeWidened, Description: `grants one scope more than requested ("admin")`,
		Violates: "RFC 6749 §3.3", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultAcceptWrongSecret, Description: "issues tokens to a known client whatever secret it sends",
		Violates: "RFC 6749 §2.3.1, §5.2", Severity: "MUST", CaughtBy: []string{"client-credentials", "security"}},
	{Name: FaultErrorStatus200, Description: "sends OAuth error bodies with HTTP status 200",
		Violates: "RFC 6749 §5.2", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultNoWWWAuthenticate, Description: "omits WWW-Authenticate from 401 answers to HTTP Basic clients",
		Violates: "RFC 6749 §5.2", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultUnknownGrant, Description: "answers a grant_type it does not support as if it were client_credentials, issuing a token",
		Violates: "RFC 6749 §5.2 (unsupported_grant_type)", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultAcceptNoAuth, Description: "issues client credentials tokens to requests that carry no client authentication at all, as the first client-credentials client",
		Violates: "RFC 6749 §2.3, §5.2 (invalid_client)", Severity: "MUST", CaughtBy: []string{"client-credentials"}},

	{Name: FaultBadSignature, Description: "corrupts the signature of every JWT it issues",
		Violates: "RFC 7515 §5.2; RFC 9068 §4", Severity: "MUST", CaughtBy: []string{"client-credentials", "authcode"}},
	{Name: FaultAlgNone, Description: `issues unsigned JWTs with alg "none"`,
		Violates: "RFC 8725 §3.1; RFC 9068 §4", Severity: "MUST", CaughtBy: []string{"client-credentials", "authcode", "security"}},
	{Name: FaultUnknownKid, Description: "names a kid in JWT headers that the JWKS does not hold",
		Violates: "RFC 7515 §4.1.4; OIDC Core §10.1", Severity: "MUST", CaughtBy: []string{"client-credentials", "authcode"}},
	{Name: FaultAtTypJWT, Description: `types JWT access tokens "JWT" instead of "at+jwt" (as Next Identity's example does)`,
		Violates: "RFC 9068 §2.1", Severity: "MUST", CaughtBy: []string{"client-credentials"}},
	{Name: FaultWrongIssuer, Description: "puts another issuer in the iss claim of every token",
		Violates: "RFC 9068 §4; OIDC Core §3.1.3.7", Severity: "MUST", CaughtBy: []string{"client-credentials", "authcode"}},
	{Name: FaultExpiredOnIssue, Description: "issues tokens whose exp is already one minute in the past",
		Violates: "RFC 7519 §4.1.4", Severity: "MUST", CaughtBy: []string{"client-credentials", "authcode", "expiry"}},
	{Name: FaultClockSkew, Param: "DURATION", Default: "10m",
		Description: "shifts iat, nbf, exp and auth_time in tokens by DURATION (positive: issued in the future)",
		Violates:    "RFC 7519 §4.1.6; OIDC Core §3.1.3.7", Severity: "MUST", CaughtBy: []string{"client-credentials", "authcode"}},
	{Name: FaultTTLIgnored, Description: "ignores per-client token lifetimes: every access token lives 60 minutes",
		Violates: "the client's registered lifetime (Next Identity, seed 004)", Severity: "MUST", CaughtBy: []string{"expiry"}},
	{Name: FaultDuplicateJTI, Description: "gives every JWT the same jti",
		Violates: "RFC 7519 §4.1.7; RFC 9068 §2.2", Severity: "MUST", CaughtBy: []string{"client-credentials", "security"}},

	{Name: FaultIssuerMismatch, Description: "names another issuer in the discovery document than the one it is served from",
		Violates: "OIDC Discovery 1.0 §4.3", Severity: "MUST", CaughtBy: []string{"discovery"}},
	{Name: FaultJWKSPrivateKey, Description: "publishes the private signing key in the JWKS",
		Violates: "RFC 7517 §9.2", Severity: "MUST", CaughtBy: []string{"discovery"}},
	{Name: FaultDuplicateKid, Description: "publishes two different keys under the signing key's kid",
		Violates: "RFC 7517 §4.5", Severity: "SHOULD", CaughtBy: []string{"discovery"}},
	{Name: FaultUnadvertised, Description: "leaves client_credentials out of grant_types_supported and S256 out of code_challenge_methods_supported, while still serving both",
		Violates: "RFC 8414 §2", Severity: "SHOULD", CaughtBy: []string{"discovery"}},

	{Name: FaultCodeReuse, Description: "redeems an authorization code more than once",
		Violates: "RFC 6749 §4.1.2", Severity: "MUST", CaughtBy: []string{"authcode", "security"}},
	{Name: FaultPKCEIgnored, Description: "redeems codes without checking the PKCE code_verifier",
		Violates: "RFC 7636 §4.6", Severity: "MUST", CaughtBy: []string{"authcode", "security"}},
	{Name: FaultRedirectURIUnchecked, Description: "redeems codes whatever redirect_uri the token request names",
		Violates: "RFC 6749 §4.1.3", Severity: "MUST", CaughtBy: []string{"authcode", "security"}},
	{Name: FaultOpenRedirect, Description: "redirects to an unregistered redirect_uri instead of showing an error",
		Violates: "RFC 6749 §4.1.2.1; RFC 9700 §4.1", Severity: "MUST", CaughtBy: []string{"authcode", "security"}},
	{Name: FaultCodeAnyClient, Description: "redeems a code for any authenticated client, not only the one it was issued to",
		Violates: "RFC 6749 §4.1.3", Severity: "MUST", CaughtBy: []string{"authcode", "security"}},
	{Name: FaultStateDropped, Description: "leaves state out of the authorization response",
		Violates: "RFC 6749 §4.1.2", Severity: "MUST", CaughtBy: []string{"authcode"}},
	{Name: FaultNonceDropped, Description: "leaves nonce out of ID tokens although the request carried one",
		Violates: "OIDC Core §2 (nonce)", Severity: "MUST", CaughtBy: []string{"authcode"}},
	{Name: FaultAtHashWrong, Description: "puts an at_hash in ID tokens that does not match the access token",
		Violates: "OIDC Core §3.1.3.8", Severity: "MUST", CaughtBy: []string{"authcode"}},
	{Name: FaultIDTokenAudWrong, Description: "issues ID tokens whose aud does not contain the client",
		Violates: "OIDC Core §3.1.3.7", Severity: "MUST", CaughtBy: []string{"authcode"}},

	{Name: FaultRefreshReuse, Description: "accepts a rotated (already used) refresh token again",
		Violates: "RFC 9700 §4.14.2", Severity: "MUST", CaughtBy: []string{"refresh", "security"}},
	{Name: FaultRefreshExpiredAccepted, Description: "accepts expired refresh tokens",
		Violates: "RFC 6749 §5.2 (invalid_grant)", Severity: "MUST", CaughtBy: []string{"refresh", "expiry"}},
	{Name: FaultRefreshScopeWidened, Description: "grants scopes on refresh that the original grant did not have",
		Violates: "RFC 6749 §6", Severity: "MUST", CaughtBy: []string{"refresh"}},
	{Name: FaultRefreshErrorSwapped, Description: "answers bad refresh tokens with the other profile's error: invalid_grant for akoya profiles, Akoya's invalid_request text for the others",
		Violates: "seed 001 (akoya profiles); RFC 6749 §5.2 (others)", Severity: "MUST", CaughtBy: []string{"refresh", "akoya"}},

	{Name: FaultIntrospectRevokedActive, Description: "introspection says active: true for revoked tokens",
		Violates: "RFC 7662 §2.2; RFC 7009 §2", Severity: "MUST", CaughtBy: []string{"introspection", "revocation"}},
	{Name: FaultIntrospectExpiredActive, Description: "introspection says active: true for expired tokens",
		Violates: "RFC 7662 §2.2", Severity: "MUST", CaughtBy: []string{"introspection", "expiry"}},
	{Name: FaultIntrospectNoAuth, Description: "answers introspection requests that carry no client authentication",
		Violates: "RFC 7662 §2.1", Severity: "MUST", CaughtBy: []string{"introspection", "security"}},
	{Name: FaultIntrospectActiveString, Description: `sends introspection's active as a string ("true")`,
		Violates: "RFC 7662 §2.2", Severity: "MUST", CaughtBy: []string{"introspection"}},
	{Name: FaultRevokeUnknown400, Description: "answers revocation of an unknown token with 400 instead of 200",
		Violates: "RFC 7009 §2.2", Severity: "MUST", CaughtBy: []string{"revocation"}},
	{Name: FaultRevokeNoop, Description: "answers revocation with 200 but leaves the token valid",
		Violates: "RFC 7009 §2.1, §2.2", Severity: "MUST", CaughtBy: []string{"revocation"}},

	{Name: FaultUserinfoAcceptsInvalid, Description: "answers userinfo with 200 for expired, revoked or unknown bearer tokens",
		Violates: "RFC 6750 §3.1; OIDC Core §5.3.3", Severity: "MUST", CaughtBy: []string{"authcode", "expiry"}},
	{Name: FaultUserinfoSubMismatch, Description: "returns another sub from userinfo than the ID token's",
		Violates: "OIDC Core §5.3.2", Severity: "MUST", CaughtBy: []string{"authcode"}},

	{Name: FaultAkoyaExpiredAccepted, Description: "the data endpoint serves data for an expired ID token instead of error 602",
		Violates: "Akoya ID token details (seed 001)", Severity: "MUST", CaughtBy: []string{"expiry", "akoya"}, Profiles: []string{"akoya", "akoya-legacy"}},
	{Name: FaultAkkessNoCty, Description: `issues Akkess tokens without the cty "t1" header`,
		Violates: "Akkess issue token (seed 003)", Severity: "MUST", CaughtBy: []string{"akkess"}, Profiles: []string{"akkess"}},
	{Name: FaultAkkessAcceptIgnored, Description: "issues Akkess tokens to requests that do not accept application/jwt",
		Violates: "Akkess issue token (seed 003); RFC 9110 §12.5.1", Severity: "MUST", CaughtBy: []string{"akkess"}, Profiles: []string{"akkess"}},
}

// Faults returns the catalogue of every fault, in a stable order. The
// returned slice is a copy.
func Faults() []FaultInfo {
	out := make([]FaultInfo, len(faultCatalog))
	for i, f := range faultCatalog {
		f.CaughtBy = slices.Clone(f.CaughtBy)
		f.Profiles = slices.Clone(f.Profiles)
		out[i] = f
	}
	return out
}

// LookupFault returns the descriptor of a fault.
func LookupFault(name FaultName) (FaultInfo, bool) {
	for _, f := range faultCatalog {
		if f.Name == name {
			return f, true
		}
	}
	return FaultInfo{}, false
}

// FaultNames lists every fault name.
func FaultNames() []string {
	out := make([]string, len(faultCatalog))
	for i, f := range faultCatalog {
		out[i] = string(f.Name)
	}
	return out
}

// Fault is one fault switched on. Build it with ParseFault, or set Name and
// Value (the text after "=") and let New or SetFaults check it.
type Fault struct {
	Name  FaultName
	Value string

	p faultParams
}

type faultParams struct {
	endpoint string        // "" = every endpoint
	d, dmax  time.Duration // latency (range when dmax > 0), slow-body, clock-skew
	share    float64       // status-5xx, rate-limit
	text     string        // token-type
}

// String returns the fault in the syntax ParseFault reads.
func (f Fault) String() string {
	if f.Value == "" {
		return string(f.Name)
	}
	return string(f.Name) + "=" + f.Value
}

// ParseFault reads "name" or "name=value", e.g. "latency=20ms..80ms@token".
// An unknown name or a bad value is refused with the valid choices.
func ParseFault(s string) (Fault, error) {
	name, value, _ := strings.Cut(strings.TrimSpace(s), "=")
	if i := strings.IndexByte(name, '@'); i >= 0 && value == "" {
		// "malformed-json@token": an endpoint without a value.
		name, value = name[:i], name[i:]
	}
	f := Fault{Name: FaultName(name), Value: value}
	if err := f.check(); err != nil {
		return Fault{}, err
	}
	return f, nil
}

// ParseFaults parses each spec; the error names every bad one.
func ParseFaults(specs []string) ([]Fault, error) {
	var out []Fault
	var errs []string
	for _, s := range specs {
		f, err := ParseFault(s)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, f)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// check validates the value and fills the parsed parameters.
func (f *Fault) check() error {
	info, ok := LookupFault(f.Name)
	if !ok {
		return fmt.Errorf("unknown fault %q; valid faults: %s", f.Name, strings.Join(FaultNames(), ", "))
	}
	v := f.Value
	if v == "" {
		v = info.Default
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("fault %s: value %q: %s (syntax: %s=%s)", f.Name, f.Value, fmt.Sprintf(format, args...), f.Name, info.Param)
	}
	if strings.HasSuffix(info.Param, endpointSuffix) {
		if i := strings.LastIndexByte(v, '@'); i >= 0 {
			ep := v[i+1:]
			if !slices.Contains(faultEndpoints, ep) {
				return bad("unknown endpoint %q; expected one of %s", ep, strings.Join(faultEndpoints, ", "))
			}
			f.p.endpoint, v = ep, v[:i]
		}
	} else if info.Param == "" && f.Value != "" {
		return fmt.Errorf("fault %s takes no value, got %q", f.Name, f.Value)
	}
	switch f.Name {
	case FaultLatency:
		lo, hi, isRange := strings.Cut(v, "..")
		d, err := time.ParseDuration(lo)
		if err != nil || d < 0 {
			return bad("expected a non-negative duration such as 50ms")
		}
		f.p.d = d
		if isRange {
			dm, err := time.ParseDuration(hi)
			if err != nil || dm < d {
				return bad("expected MIN..MAX with MAX at least MIN, such as 20ms..80ms")
			}
			f.p.dmax = dm
		}
		if max(f.p.d, f.p.dmax) > maxInjectedDelay {
			return bad("at most %s", maxInjectedDelay)
		}
	case FaultSlowBody:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxInjectedDelay {
			return bad("expected a positive duration up to %s", maxInjectedDelay)
		}
		f.p.d = d
	case FaultClockSkew:
		d, err := time.ParseDuration(v)
		if err != nil || d == 0 {
			return bad("expected a non-zero duration such as 10m or -10m")
		}
		f.p.d = d
	case FaultServerError, FaultRateLimit:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || x <= 0 || x > 1 {
			return bad("expected a share greater than 0 and at most 1, such as 0.25")
		}
		f.p.share = x
	case FaultMalformedJSON, FaultTruncatedBody:
		if v != "" {
			return bad("expected only an optional @ENDPOINT")
		}
	case FaultTokenType:
		if v == "" || strings.EqualFold(v, "Bearer") {
			return bad("expected a token type other than Bearer")
		}
		f.p.text = v
	}
	return nil
}

// maxInjectedDelay bounds latency and slow-body faults, so that a typo cannot
// hang a test run.
const maxInjectedDelay = time.Minute

// faultSet is the faults in force, with a counter per rate-based fault.
// Immutable once built except for the counters.
type faultSet struct {
	list     []Fault
	byName   map[FaultName]Fault
	counters map[FaultName]*atomic.Uint64
}

func newFaultSet(fs []Fault) *faultSet {
	s := &faultSet{byName: map[FaultName]Fault{}, counters: map[FaultName]*atomic.Uint64{}}
	for _, f := range fs {
		if _, dup := s.byName[f.Name]; !dup {
			s.list = append(s.list, f)
		} else {
			for i := range s.list {
				if s.list[i].Name == f.Name {
					s.list[i] = f
				}
			}
		}
		s.byName[f.Name] = f
		s.counters[f.Name] = &atomic.Uint64{}
	}
	return s
}

func (s *faultSet) on(n FaultName) bool {
	_, ok := s.byName[n]
	return ok
}

func (s *faultSet) get(n FaultName) (Fault, bool) {
	f, ok := s.byName[n]
	return f, ok
}

// fires reports whether a rate fault hits this request. Hits are spread
// evenly rather than drawn at random (the n-th request fails when
// floor(n*share) grows), so a test sees the same sequence every run.
func (s *faultSet) fires(f Fault) bool {
	c := s.counters[f.Name]
	n := c.Add(1)
	return math.Floor(float64(n)*f.p.share) > math.Floor(float64(n-1)*f.p.share)
}
