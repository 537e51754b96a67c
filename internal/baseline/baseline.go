// Package baseline records the shape of what an IdP issues, so that two IdPs
// (or one IdP before and after a change) can be compared without keeping a
// single token, secret or personal value: claim names, JSON types, presence
// and lengths per token kind and flow, token lifetimes, error responses,
// discovery metadata, signing algorithms and keys, latency percentiles per
// operation, and a keyed hash of each test user's sub.
//
// A baseline is plain JSON (Format, Version) that a team can commit next to
// its target file; Decode reads it back strictly. Capture (capture.go) runs
// the flows a target declares and fills one.
package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/jsonkind"
)

// Format and Version identify a baseline file.
const (
	Format  = "idpconform-baseline"
	Version = 1
)

// Baseline is the recorded shape of one IdP.
type Baseline struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	Tool       string    `json:"tool"`
	CapturedAt time.Time `json:"captured_at"`
	Target     Target    `json:"target"`
	// SubKey identifies the key of the keyed hashes (never the key).
	SubKey SubKey `json:"sub_key"`
	// Contracts are the contracts the target names, by contract kind,
	// copied so that a diff of two baseline files needs no contract files.
	Contracts map[string]*contract.Contract `json:"contracts,omitempty"`
	Flows     []Flow                        `json:"flows"`
	Shapes    []Shape                       `json:"shapes"`
	Probes    []Probe                       `json:"probes"`
	Metadata  *Metadata                     `json:"metadata,omitempty"`
	Keys      Keys                          `json:"keys"`
	Latency   []Latency                     `json:"latency"`
	Users     []User                        `json:"users"`
}

// Target says what was captured, by its configuration labels only.
type Target struct {
	Name         string   `json:"name"`
	MockProfile  string   `json:"mock_profile,omitempty"`
	MockDrift    []string `json:"mock_drift,omitempty"`
	MockFaults   []string `json:"mock_faults,omitempty"`
	Capabilities []string `json:"capabilities"`
	Clients      []Client `json:"clients"`
	// SigningAlgs is the target's allow-list.
	SigningAlgs []string `json:"signing_algs"`
	// ClockSkewS is the tolerance of time comparisons, seconds.
	ClockSkewS float64 `json:"clock_skew_s"`
}

// Client is a target client by its label: never its client_id, which
// tokens carry as a claim value.
type Client struct {
	Name              string   `json:"name"`
	Grants            []string `json:"grants"`
	AuthMethod        string   `json:"auth_method"`
	AccessTokenFormat string   `json:"access_token_format,omitempty"`
	// Declared lifetimes, seconds.
	AccessTokenTTLS  float64 `json:"access_token_ttl_s,omitempty"`
	IDTokenTTLS      float64 `json:"id_token_ttl_s,omitempty"`
	RefreshTokenTTLS float64 `json:"refresh_token_ttl_s,omitempty"`
	Rotation         string  `json:"rotation,omitempty"`
	// Scopes are the scopes the client asks for: protocol words the
	// IdP publishes, compared with its scopes_supported.
	Scopes []string `json:"scopes,omitempty"`
}

// SubKey identifies the HMAC key of the keyed hashes.
type SubKey struct {
	// ID is derived from the key (an HMAC of a fixed label): equal IDs mean
	// the same key, so hashes compare.
	ID string `json:"id"`
	// Source is "provided" (--sub-key-file or IDPCONFORM_SUB_KEY) or
	// "generated" (random for this process, kept nowhere).
	Source string `json:"source"`
}

// Key sources.
const (
	KeyProvided  = "provided"
	KeyGenerated = "generated"
)

// Flow statuses.
const (
	FlowOK      = "ok"
	FlowFailed  = "failed"
	FlowSkipped = "skipped"
)

// Flow is one flow the capture ran or could not run.
type Flow struct {
	// Name is the flow: discovery, jwks, client_credentials,
	// authorization_code, refresh_token, relogin, userinfo, introspection,
	// revocation, akkess_exchange.
	Name   string `json:"name"`
	Client string `json:"client,omitempty"`
	User   string `json:"user,omitempty"`
	Status string `json:"status"`
	// Reason says why it failed or was skipped (redacted).
	Reason string `json:"reason,omitempty"`
}

// Key returns what identifies a flow across two baselines.
func (f Flow) Key() string { return f.Name + "|" + f.Client + "|" + f.User }

// Shape formats.
const (
	FormatJWT    = "jwt"
	FormatOpaque = "opaque"
	FormatJSON   = "json"
)

// Shape kinds: the contract kinds (contract.Kinds) and three more.
const (
	KindAccessToken   = string(contract.KindAccessToken)
	KindIDToken       = string(contract.KindIDToken)
	KindAkkessT1      = string(contract.KindAkkessT1)
	KindIntrospection = string(contract.KindIntrospection)
	KindTokenResponse = string(contract.KindTokenResponse)
	KindUserinfo      = "userinfo"
	KindRefreshToken  = "refresh_token"
	KindCode          = "code"
)

// Shape is what the tokens (or JSON responses) of one kind, from one flow
// and client, looked like over every sample.
type Shape struct {
	// Kind is a contract kind (id_token, access_token, akkess_t1,
	// introspection, token_response) or userinfo, refresh_token, code.
	Kind    string `json:"kind"`
	Flow    string `json:"flow"`
	Client  string `json:"client,omitempty"`
	Format  string `json:"format"`
	Samples int    `json:"samples"`
	// Header holds the JOSE header values of a JWT (never kid, see Keys).
	Header *Header               `json:"header,omitempty"`
	Claims map[string]ClaimShape `json:"claims,omitempty"`
	// Order is the claim order of the first sample.
	Order []string `json:"order,omitempty"`
	// Opaque describes an opaque string: its length and entropy.
	Opaque *StringShape `json:"opaque,omitempty"`
	// LifetimeS is exp - iat, seconds.
	LifetimeS *Range `json:"lifetime_s,omitempty"`
	// ExpiresInS is the expires_in of the token response that carried the
	// token.
	ExpiresInS *Range `json:"expires_in_s,omitempty"`
	// DeclaredTTLS is the lifetime the target declares, seconds.
	DeclaredTTLS float64 `json:"declared_ttl_s,omitempty"`
	// Contract names the contract the samples were checked against.
	Contract string `json:"contract,omitempty"`
	// Findings are the contract's and the verifier's findings, counted.
	Findings []Finding `json:"findings,omitempty"`
}

// Key returns what identifies a shape across two baselines.
func (s Shape) Key() string { return s.Kind + "|" + s.Flow + "|" + s.Client }

// Label names a shape for people: "id_token from authorization_code
// (client code)".
func (s Shape) Label() string {
	l := s.Kind + " from " + s.Flow
	if s.Client != "" {
		l += " (client " + s.Client + ")"
	}
	return l
}

// Header is the JOSE header values seen across the samples.
type Header struct {
	Algs []string `json:"algs"`
	Typs []string `json:"typs,omitempty"`
	Ctys []string `json:"ctys,omitempty"`
	// Kids counts the distinct kids seen; the kids are under Keys.
	Kids int `json:"kids"`
	// Params lists the other header parameters' names (jku, x5t, ...).
	Params []string `json:"params,omitempty"`
}

// ClaimShape is one claim over the samples.
type ClaimShape struct {
	// Types are the JSON kinds seen (internal/jsonkind names), sorted.
	Types []string `json:"types"`
	// Present counts the samples holding the claim.
	Present int `json:"present"`
	// Length is the length of strings (characters) or arrays (elements).
	Length *Range `json:"length,omitempty"`
	// EntropyBits is the least estimated entropy of its string values.
	EntropyBits *float64 `json:"entropy_bits,omitempty"`
	// Elements are the JSON kinds of array elements seen.
	Elements []string `json:"elements,omitempty"`
}

// StringShape is an opaque string over the samples.
type StringShape struct {
	Length      Range   `json:"length"`
	EntropyBits float64 `json:"entropy_bits"`
	// Alphabet names the characters used: hex, base64url, uuid, printable.
	Alphabet string `json:"alphabet"`
}

// Range is the least and greatest value seen.
type Range struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// Finding is a contract or verification finding, counted over samples. It
// never holds a claim value.
type Finding struct {
	Claim   string `json:"claim"`
	Level   string `json:"level"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// Probe is an error response the capture provoked on purpose.
type Probe struct {
	// ID names the probe: token.wrong_secret, token.invalid_code, ...
	ID string `json:"id"`
	// Expect is what the governing document says should come.
	Expect string `json:"expect"`
	// Skipped says why the probe was not run.
	Skipped         string `json:"skipped,omitempty"`
	Status          int    `json:"status,omitempty"`
	Error           string `json:"error,omitempty"`
	Description     string `json:"description,omitempty"`
	WWWAuthenticate bool   `json:"www_authenticate,omitempty"`
	// Active is the introspection answer of an introspection probe.
	Active *bool `json:"active,omitempty"`
}

// Metadata is the discovery document's shape.
type Metadata struct {
	// Fields maps every member to its JSON kind.
	Fields map[string]string `json:"fields"`
	// Values holds the values of the protocol vocabularies (the *_supported
	// lists): public by definition, and what clients pick from.
	Values map[string][]string `json:"values,omitempty"`
	// Flags holds the boolean members.
	Flags map[string]bool `json:"flags,omitempty"`
}

// Keys is the JWKS as the capture left it (after any rotation it saw) and
// whether the tokens issued during the capture still verify against it.
type Keys struct {
	Keys []JWK `json:"keys"`
	// Reverified counts the JWTs of the capture verified again at its end
	// against a freshly fetched JWKS; ReverifyFailed those that no longer
	// verified (their key gone).
	Reverified     int `json:"reverified"`
	ReverifyFailed int `json:"reverify_failed"`
	// Error says why the JWKS could not be read.
	Error string `json:"error,omitempty"`
}

// JWK is a public key by its parameters (never its material).
type JWK struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	Crv string `json:"crv,omitempty"`
}

// Latency is the latency of one operation, milliseconds.
type Latency struct {
	// Operation: discovery, jwks, token.client_credentials,
	// token.authorization_code, token.refresh_token, login, introspection,
	// revocation, userinfo, akkess.
	Operation string  `json:"operation"`
	Samples   int     `json:"samples"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P95       float64 `json:"p95_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
}

// Quantile returns the named percentile ("p50", "p90", "p95", "p99", "max").
func (l Latency) Quantile(name string) (float64, bool) {
	switch name {
	case "p50":
		return l.P50, true
	case "p90":
		return l.P90, true
	case "p95":
		return l.P95, true
	case "p99":
		return l.P99, true
	case "max":
		return l.Max, true
	}
	return 0, false
}

// User is a test user by position and keyed hashes.
type User struct {
	// Ref is the user's position in the target file: "users[0]".
	Ref string `json:"ref"`
	// LabelHash is the keyed hash of the user's name in the target file,
	// so users match across two targets listing them in another order.
	LabelHash string `json:"label_hash"`
	// SubHash is the keyed hash of the sub of the user's first login.
	SubHash string `json:"sub_hash,omitempty"`
	// AccountsHash is the keyed hash of the user's accounts (as a set),
	// when the tokens carry accounts.
	AccountsHash string `json:"accounts_hash,omitempty"`
	// Error says why no sub was obtained.
	Error string `json:"error,omitempty"`
}

// MaxSize bounds a baseline file Decode reads.
const MaxSize = 16 << 20

// Decode reads a baseline strictly: unknown fields, another format or
// version, and inconsistent values are errors naming what is wrong.
func Decode(r io.Reader) (*Baseline, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("baseline is larger than %d bytes", MaxSize)
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("baseline is not a JSON object: %w", err)
	}
	if head.Format != Format {
		return nil, fmt.Errorf("not a baseline: format is %q, expected %q (write one with idpconform baseline capture)", head.Format, Format)
	}
	if head.Version != Version {
		return nil, fmt.Errorf("baseline version %d is not supported (this binary reads version %d)", head.Version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Baseline
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("decode baseline: %w", err)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// Validate checks what the JSON decoder cannot: counts and ranges that make
// sense, names that identify, contracts that are valid.
func (b *Baseline) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if b.SubKey.Source != KeyProvided && b.SubKey.Source != KeyGenerated {
		bad("sub_key.source %q: expected %s or %s", b.SubKey.Source, KeyProvided, KeyGenerated)
	}
	if b.Target.Name == "" {
		bad("target.name is empty")
	}
	for kind, c := range b.Contracts {
		switch {
		case c == nil:
			bad("contracts.%s is null", kind)
		case string(c.Kind) != kind:
			bad("contracts.%s holds a contract of kind %q", kind, c.Kind)
		default:
			if err := c.Validate(); err != nil {
				bad("contracts.%s: %w", kind, err)
			}
		}
	}
	flows := map[string]bool{}
	for i, f := range b.Flows {
		if f.Name == "" || !slices.Contains([]string{FlowOK, FlowFailed, FlowSkipped}, f.Status) {
			bad("flows[%d]: needs a name and a status of ok, failed or skipped", i)
		}
		if flows[f.Key()] {
			bad("flows[%d]: %s is listed twice", i, f.Key())
		}
		flows[f.Key()] = true
	}
	shapes := map[string]bool{}
	for i, s := range b.Shapes {
		p := fmt.Sprintf("shapes[%d]", i)
		if s.Kind == "" || s.Flow == "" {
			bad("%s: needs a kind and a flow", p)
		}
		if shapes[s.Key()] {
			bad("%s: %s is listed twice", p, s.Label())
		}
		shapes[s.Key()] = true
		if s.Samples < 1 {
			bad("%s: samples must be at least 1, got %d", p, s.Samples)
		}
		for name, c := range s.Claims {
			if c.Present < 0 || c.Present > s.Samples {
				bad("%s.claims.%s: present %d is not between 0 and samples %d", p, name, c.Present, s.Samples)
			}
			if len(c.Types) == 0 {
				bad("%s.claims.%s: no types", p, name)
			}
			// A diff reads these names as what clients saw; an invented one
			// would be classified as a change of type rather than refused.
			for _, k := range c.Types {
				if !jsonkind.Known(k) {
					bad("%s (%s): claims.%s.types: %q is not a JSON kind; expected one of %s", p, s.Label(), name, k, kindNames())
				}
			}
			for _, k := range c.Elements {
				if !jsonkind.Known(k) {
					bad("%s (%s): claims.%s.elements: %q is not a JSON kind; expected one of %s", p, s.Label(), name, k, kindNames())
				}
			}
			checkRange(&errs, p+".claims."+name+".length", c.Length)
		}
		checkRange(&errs, p+".lifetime_s", s.LifetimeS)
		checkRange(&errs, p+".expires_in_s", s.ExpiresInS)
		if s.Opaque != nil {
			checkRange(&errs, p+".opaque.length", &s.Opaque.Length)
		}
		for j, f := range s.Findings {
			if f.Count < 1 || f.Claim == "" || f.Rule == "" {
				bad("%s.findings[%d]: needs a claim, a rule and a count of at least 1", p, j)
			}
		}
	}
	probes := map[string]bool{}
	for i, pr := range b.Probes {
		if pr.ID == "" || probes[pr.ID] {
			bad("probes[%d]: needs a unique id", i)
		}
		probes[pr.ID] = true
		if pr.Status < 0 || pr.Status > 999 {
			bad("probes[%d]: status %d is not an HTTP status", i, pr.Status)
		}
	}
	ops := map[string]bool{}
	for i, l := range b.Latency {
		if l.Operation == "" || ops[l.Operation] {
			bad("latency[%d]: needs a unique operation", i)
		}
		ops[l.Operation] = true
		vals := []float64{l.P50, l.P90, l.P95, l.P99, l.Max}
		if l.Samples < 1 || !sort.Float64sAreSorted(vals) || vals[0] < 0 {
			bad("latency[%d] %s: needs samples and percentiles that grow from p50 to max", i, l.Operation)
		}
	}
	users := map[string]bool{}
	for i, u := range b.Users {
		if u.Ref == "" || u.LabelHash == "" || users[u.LabelHash] {
			bad("users[%d]: needs a ref and a unique label_hash", i)
		}
		users[u.LabelHash] = true
	}
	if b.Keys.Reverified < 0 || b.Keys.ReverifyFailed < 0 || b.Keys.ReverifyFailed > b.Keys.Reverified {
		bad("keys: reverify_failed %d must be between 0 and reverified %d", b.Keys.ReverifyFailed, b.Keys.Reverified)
	}
	if len(errs) > 0 {
		return fmt.Errorf("baseline: %w", errors.Join(errs...))
	}
	return nil
}

func checkRange(errs *[]error, path string, r *Range) {
	if r == nil {
		return
	}
	if math.IsNaN(r.Min) || math.IsNaN(r.Max) || r.Min > r.Max {
		*errs = append(*errs, fmt.Errorf("%s: min %v is above max %v", path, r.Min, r.Max))
	}
}

// Encode writes b as indented JSON.
func (b *Baseline) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("encode baseline: %w", err)
	}
	return nil
}

// Shape returns the shape with key k.
func (b *Baseline) Shape(k string) (Shape, bool) {
	for _, s := range b.Shapes {
		if s.Key() == k {
			return s, true
		}
	}
	return Shape{}, false
}

// Redactor replaces secrets in text; *redact.Registry implements it.
type Redactor interface {
	String(s string) string
}

// Redacted returns a copy of b whose free-text fields went through each
// redactor: the run's secrets and the claim values seen during capture.
// Structured fields (claim names, kinds, counts) are not text from the IdP
// that could hold a value.
func (b *Baseline) Redacted(reds ...Redactor) *Baseline {
	red := func(s string) string {
		for _, r := range reds {
			s = r.String(s)
		}
		return s
	}
	cp := *b
	cp.Target.Name = red(b.Target.Name)
	cp.Flows = make([]Flow, len(b.Flows))
	for i, f := range b.Flows {
		f.Reason = red(f.Reason)
		cp.Flows[i] = f
	}
	cp.Probes = make([]Probe, len(b.Probes))
	for i, p := range b.Probes {
		p.Description = red(p.Description)
		p.Error = red(p.Error)
		p.Skipped = red(p.Skipped)
		cp.Probes[i] = p
	}
	cp.Shapes = make([]Shape, len(b.Shapes))
	for i, s := range b.Shapes {
		if s.Findings != nil {
			fs := make([]Finding, len(s.Findings))
			for j, f := range s.Findings {
				f.Message = red(f.Message)
				fs[j] = f
			}
			s.Findings = fs
		}
		cp.Shapes[i] = s
	}
	cp.Users = make([]User, len(b.Users))
	for i, u := range b.Users {
		u.Error = red(u.Error)
		cp.Users[i] = u
	}
	cp.Keys.Error = red(b.Keys.Error)
	return &cp
}

func kindNames() string {
	var names []string
	for _, k := range jsonkind.All() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}
