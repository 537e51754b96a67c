package baseline

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
)

// Env is the target a capture runs against, set up by the caller (the CLI
// uses suites/framework's Setup, which starts an embedded mock and
// discovers the endpoints).
type Env struct {
	Target    *target.Target
	Contracts contract.Set
	// Issuer is the issuer the target was discovered at ("" without
	// discovery).
	Issuer       string
	Endpoints    target.Endpoints
	Metadata     *oauth.Metadata
	DiscoveryErr error
	OAuth        *oauth.Client
	Verifier     *verify.Verifier
	// Secrets learns every secret seen; the baseline passes through it.
	Secrets *redact.Registry
}

// Options tune a capture.
type Options struct {
	// Hasher makes the keyed hashes of subs; required.
	Hasher *Hasher
	// Samples is how many extra requests each cheap operation gets for its
	// latency percentiles (discovery, jwks, client credentials,
	// introspection, userinfo). Default DefaultSamples; negative: none.
	Samples int
	// Budget bounds the time spent on those extra samples.
	Budget time.Duration
	// Tool names the binary ("idpconform v1.2.3").
	Tool string
	// Now is the clock of the capture time; nil means time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultSamples = 20
	DefaultBudget  = 30 * time.Second
)

// ErrNoHasher is returned when Options.Hasher is nil.
var ErrNoHasher = errors.New("baseline capture needs a sub key (Options.Hasher)")

// Capture runs the flows the target declares and records their shape. An
// IdP that misbehaves is recorded, not an error: a flow that fails is kept
// with its reason. The error is for a capture that cannot start.
//
// The baseline it returns is already redacted: its free text went through
// the run's secrets and through every claim value seen.
func Capture(ctx context.Context, env Env, o Options) (*Baseline, error) {
	if env.Target == nil || env.OAuth == nil || env.Verifier == nil || env.Secrets == nil {
		return nil, errors.New("baseline capture: the environment needs a target, an OAuth client, a verifier and a secrets registry")
	}
	if o.Hasher == nil {
		return nil, ErrNoHasher
	}
	if o.Samples == 0 {
		o.Samples = DefaultSamples
	}
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := newCapturer(env, o)
	c.describeTarget()
	c.discovery()
	c.jwks(ctx)
	c.clientCredentialsFlows(ctx)
	c.userFlows(ctx)
	c.akkess(ctx)
	c.probes(ctx)
	c.sample(ctx)
	c.reverify(ctx)
	c.checkSeries()
	return c.finish(), nil
}

// capturer holds one capture's state. Tokens are kept in memory for the
// checks that need them (at_hash, re-verification) and never leave it.
type capturer struct {
	env Env
	o   Options
	tg  *target.Target
	b   *Baseline

	started  time.Time
	personal *redact.Registry
	shapes   map[string]*shapeAcc
	order    []string
	latency  map[string][]time.Duration
	jwts     []string
	// series are the ID tokens per client, for the stable relations.
	idSeries map[string][]contract.Observation
	// userAccess is each user's access token from the second login.
	userAccess map[string]string
	// liveAccess is an access token never revoked, for userinfo samples.
	liveAccess string
	// ccClient is the first client credentials client, for latency samples.
	ccClient *target.Client
}

func newCapturer(env Env, o Options) *capturer {
	c := &capturer{
		env: env, o: o, tg: env.Target,
		started:    o.Now(),
		personal:   redact.New(),
		shapes:     map[string]*shapeAcc{},
		latency:    map[string][]time.Duration{},
		idSeries:   map[string][]contract.Observation{},
		userAccess: map[string]string{},
	}
	c.b = &Baseline{Format: Format, Version: Version, Tool: o.Tool, CapturedAt: c.started.UTC().Truncate(time.Second), SubKey: o.Hasher.Key()}
	// Client IDs, usernames and tenants are claim values: keep them out of
	// free text too.
	for _, cl := range c.tg.Clients {
		c.personal.Add(cl.ID)
	}
	for _, u := range c.tg.Users {
		c.personal.Add(u.Username)
	}
	if c.tg.Akkess != nil {
		c.personal.Add(c.tg.Akkess.Tenant)
	}
	return c
}

func (c *capturer) describeTarget() {
	t := Target{Name: c.tg.Name, SigningAlgs: c.tg.SigningAlgs, ClockSkewS: c.tg.ClockSkew.D().Seconds()}
	if c.tg.Mock != nil {
		t.MockProfile, t.MockDrift, t.MockFaults = c.tg.Mock.Profile, c.tg.Mock.Drift, c.tg.Mock.Faults
	}
	for _, cp := range c.tg.Capabilities {
		t.Capabilities = append(t.Capabilities, string(cp))
	}
	for _, cl := range c.tg.Clients {
		bc := Client{Name: cl.Name, AuthMethod: string(cl.AuthMethod), AccessTokenFormat: string(cl.AccessTokenFormat),
			AccessTokenTTLS: cl.AccessTokenTTL.D().Seconds(), IDTokenTTLS: cl.IDTokenTTL.D().Seconds(), RefreshTokenTTLS: cl.RefreshTokenTTL.D().Seconds(),
			Scopes: cl.Scopes}
		for _, g := range cl.Grants {
			bc.Grants = append(bc.Grants, string(g))
		}
		if cl.HasGrant(target.GrantRefreshToken) {
			bc.Rotation = string(cl.Refresh.Rotation)
		}
		t.Clients = append(t.Clients, bc)
	}
	c.b.Target = t
	for _, ref := range c.tg.Contracts.Named() {
		if ct, err := c.env.Contracts.Get(ref.Name); err == nil {
			if c.b.Contracts == nil {
				c.b.Contracts = map[string]*contract.Contract{}
			}
			c.b.Contracts[ref.Kind] = ct
		}
	}
}

// contractFor returns the contract the target names for a kind, or nil.
func (c *capturer) contractFor(kind string) *contract.Contract {
	return c.b.Contracts[kind]
}

func (c *capturer) flow(f Flow) {
	c.b.Flows = append(c.b.Flows, f)
}

func (c *capturer) shape(kind, flow, client, format string) *shapeAcc {
	k := kind + "|" + flow + "|" + client
	a, ok := c.shapes[k]
	if !ok {
		a = &shapeAcc{kind: kind, flow: flow, client: client, format: format}
		if ct := c.contractFor(kind); ct != nil {
			a.contract = ct.Name
		}
		c.shapes[k] = a
		c.order = append(c.order, k)
	}
	if a.format != format {
		a.format = "mixed"
	}
	return a
}

func (c *capturer) observe(op string, d time.Duration) {
	c.latency[op] = append(c.latency[op], d)
}

// learn registers every value of a decoded JSON object as personal, so that
// no free text of the baseline repeats one.
func (c *capturer) learn(v any) {
	switch x := v.(type) {
	case string:
		c.personal.Add(x)
	case json.Number:
		if s := x.String(); len(s) >= 6 {
			c.personal.Add(s)
		}
	case float64:
		if s := strconv.FormatFloat(x, 'f', -1, 64); len(s) >= 6 {
			c.personal.Add(s)
		}
	case []any:
		for _, e := range x {
			c.learn(e)
		}
	case map[string]any:
		for _, e := range x {
			c.learn(e)
		}
	}
}

// tokenCtx is what the flow knows about a token for the contract's
// relations.
type tokenCtx struct {
	kind, flow string
	client     target.Client
	// check is the contract context (client, declared TTL, access token).
	check contract.Context
	// expiresIn is the expires_in of the response that carried it.
	expiresIn *int64
	// issuer, when set, must be the token's iss.
	issuer string
}

// recordJWT verifies a JWT (signature, then time claims), records its shape
// and checks it against the contract of its kind. It returns the claims
// (nil when the token is not a JWT) for the caller's series and hashes.
func (c *capturer) recordJWT(ctx context.Context, raw string, tc tokenCtx) map[string]any {
	hdr, payload, ok := splitJWT(raw)
	if !ok {
		return nil
	}
	claims, order, ok := decodeObject(payload)
	if !ok {
		a := c.shape(tc.kind, tc.flow, tc.client.Name, FormatJWT)
		a.samples++
		a.addFinding(Finding{Claim: "(payload)", Level: string(contract.Violation), Rule: "verify", Message: "the payload is not a JSON object"})
		return nil
	}
	c.learn(claims)
	c.jwts = append(c.jwts, raw)
	a := c.shape(tc.kind, tc.flow, tc.client.Name, FormatJWT)
	a.addHeader(headerOf(hdr))
	a.addClaims(claims, order)
	if tc.check.TTL > 0 {
		a.declared = tc.check.TTL.Seconds()
	}
	if tc.expiresIn != nil {
		widen(&a.expiresIn, float64(*tc.expiresIn))
	}
	_, err := c.env.Verifier.Verify(ctx, raw, verify.Expected{Issuer: tc.issuer, AllowMissingExp: true})
	if err != nil {
		a.addFinding(verifyFinding(err))
	}
	if ct := c.contractFor(tc.kind); ct != nil {
		cx := tc.check
		cx.Skew = c.tg.ClockSkew.D()
		cx.Alg = headerOf(hdr).Alg
		a.addFindings(ct.CheckWith(claims, cx))
	}
	return claims
}

// recordObject records a JSON response (userinfo, introspection, token
// response) as a shape, checked against the contract of its kind.
func (c *capturer) recordObject(kind, flow, client string, body []byte, check bool) map[string]any {
	m, order, ok := decodeObject(body)
	if !ok {
		return nil
	}
	a := c.shape(kind, flow, client, FormatJSON)
	a.addClaims(m, order)
	if kind != KindTokenResponse {
		c.learn(m)
	} else {
		// A token response's own values are the tokens (secrets) and
		// protocol words; its scope is learnt like a claim.
		c.learn(m["scope"])
	}
	if ct := c.contractFor(kind); ct != nil && check {
		a.addFindings(ct.CheckWith(m, contract.Context{Skew: c.tg.ClockSkew.D()}))
	}
	return m
}

// recordOpaque records an opaque string (an opaque access token, a refresh
// token, a code): its length, entropy and alphabet.
func (c *capturer) recordOpaque(kind, flow, client, value string) {
	if value == "" {
		return
	}
	c.shape(kind, flow, client, FormatOpaque).addOpaque(value)
}

// recordToken records an access token: a JWT's claims or an opaque
// string's shape.
func (c *capturer) recordToken(ctx context.Context, raw string, tc tokenCtx) {
	if c.recordJWT(ctx, raw, tc) == nil {
		if _, _, isJWT := splitJWT(raw); !isJWT {
			a := c.shape(tc.kind, tc.flow, tc.client.Name, FormatOpaque)
			a.addOpaque(raw)
			if tc.expiresIn != nil {
				widen(&a.expiresIn, float64(*tc.expiresIn))
			}
			if tc.check.TTL > 0 {
				a.declared = tc.check.TTL.Seconds()
			}
		}
	}
}

// verifyFinding turns a verifier error into a finding that names the claim
// or the header check and never a value: the verifier's own messages quote
// issuers and audiences.
func verifyFinding(err error) Finding {
	type cond struct {
		sentinel error
		claim    string
	}
	for _, k := range []cond{
		{verify.ErrAlgorithm, "(header) alg"}, {verify.ErrNoKey, "(header) kid"}, {verify.ErrSignature, "(signature)"},
		{verify.ErrMalformed, "(token)"}, {verify.ErrJWKS, "(jwks)"}, {verify.ErrExpired, "exp"},
		{verify.ErrNotYetValid, "nbf"}, {verify.ErrIssuedInFuture, "iat"}, {verify.ErrIssuer, "iss"},
		{verify.ErrAudience, "aud"}, {verify.ErrType, "(header) typ"},
		{verify.ErrMissingClaim, ""}, {verify.ErrClaimType, ""},
	} {
		if !errors.Is(err, k.sentinel) {
			continue
		}
		claim := k.claim
		if claim == "" {
			claim = claimOf(err, k.sentinel)
		}
		return Finding{Claim: claim, Level: string(contract.Violation), Rule: "verify", Message: "verification: " + k.sentinel.Error()}
	}
	return Finding{Claim: "(token)", Level: string(contract.Violation), Rule: "verify", Message: "verification failed"}
}

// claimOf reads the claim name the verifier puts right after a sentinel
// ("required claim missing: exp", "claim has the wrong type: exp: ...").
func claimOf(err error, sentinel error) string {
	msg := err.Error()
	i := strings.Index(msg, sentinel.Error()+": ")
	if i < 0 {
		return "(token)"
	}
	rest := msg[i+len(sentinel.Error())+2:]
	if j := strings.IndexAny(rest, ": ["); j >= 0 {
		rest = rest[:j]
	}
	if rest == "" || len(rest) > 64 {
		return "(token)"
	}
	return rest
}

// checkSeries checks the stable relations of each client's ID tokens (logins,
// refreshes, new logins) and files the findings under the login shape.
func (c *capturer) checkSeries() {
	ct := c.contractFor(KindIDToken)
	if ct == nil {
		return
	}
	clients := make([]string, 0, len(c.idSeries))
	for k := range c.idSeries {
		clients = append(clients, k)
	}
	sort.Strings(clients)
	for _, client := range clients {
		fs := ct.CheckSeries(c.idSeries[client])
		if len(fs) == 0 {
			continue
		}
		a := c.shape(KindIDToken, "authorization_code", client, FormatJWT)
		for _, f := range fs {
			a.addFinding(Finding{Claim: f.Claim, Level: string(f.Level), Rule: f.Rule, Message: f.Message})
		}
	}
}

func (c *capturer) finish() *Baseline {
	for _, k := range c.order {
		if a := c.shapes[k]; a.samples > 0 {
			c.b.Shapes = append(c.b.Shapes, a.shape())
		}
	}
	c.b.Latency = percentiles(c.latency)
	sort.SliceStable(c.b.Probes, func(i, j int) bool { return c.b.Probes[i].ID < c.b.Probes[j].ID })
	if c.b.Flows == nil {
		c.b.Flows = []Flow{}
	}
	if c.b.Shapes == nil {
		c.b.Shapes = []Shape{}
	}
	if c.b.Probes == nil {
		c.b.Probes = []Probe{}
	}
	if c.b.Users == nil {
		c.b.Users = []User{}
	}
	if c.b.Keys.Keys == nil {
		c.b.Keys.Keys = []JWK{}
	}
	return c.b.Redacted(c.env.Secrets, c.personal)
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
