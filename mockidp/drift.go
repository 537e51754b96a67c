package mockidp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// DriftName names a change a new IdP may make to what it issues: the
// changes an IdP migration brings (seed 000 lists the ones Akoya calls
// non-breaking). Drifts() lists every name with its classification.
type DriftName string

// The drifts. Each one's DriftInfo (Drifts) says whether it is breaking.
const (
	DriftAddClaim         DriftName = "add-claim"
	DriftReorderClaims    DriftName = "reorder-claims"
	DriftOpaqueFormat     DriftName = "opaque-format"
	DriftAudFlip          DriftName = "aud-flip"
	DriftRotateKey        DriftName = "rotate-key"
	DriftDropClaim        DriftName = "drop-claim"
	DriftClaimType        DriftName = "claim-type"
	DriftUnstableSub      DriftName = "unstable-sub"
	DriftUnstableAccounts DriftName = "unstable-accounts"
	DriftRotateKeyDropOld DriftName = "rotate-key-drop-old"
	DriftAlg              DriftName = "alg"
)

// DriftInfo describes one drift.
type DriftInfo struct {
	Name DriftName `json:"name"`
	// Param is the syntax of the value after "=", "" when it takes none.
	Param   string `json:"param,omitempty"`
	Default string `json:"default,omitempty"`
	// Description says, in one line, what changes.
	Description string `json:"description"`
	// Breaking is the classification a contract diff should reach: false
	// for the changes seed 000 promises recipients must tolerate (and for
	// aud as string or array, which the project's tolerant reading
	// accepts), true for everything that breaks a client relying on the
	// documented contract.
	Breaking bool `json:"breaking"`
	// Source is where the change or its classification comes from.
	Source string `json:"source"`
}

var driftCatalog = []DriftInfo{
	{Name: DriftAddClaim, Param: "NAME", Default: "idpconform_added",
		Description: `adds a claim NAME (string value "added") to every token and userinfo answer`,
		Source:      "seed 000: addition of net-new claims is non-breaking"},
	{Name: DriftReorderClaims, Param: "reverse|shuffle", Default: "reverse",
		Description: "serialises claims in reverse (or a random) order",
		Source:      "seed 000: changes to the order of claims are non-breaking"},
	{Name: DriftOpaqueFormat, Param: "hex|uuid|long", Default: "hex",
		Description: "changes the length and alphabet of opaque values: opaque access tokens, refresh tokens, codes, jti, sid, grant_id",
		Source:      "seed 000: changes to the length or format of opaque strings are non-breaking"},
	{Name: DriftAudFlip, Description: "sends aud as an array where the profile sends a string, and as a string where it sends an array of one",
		Source: "seeds 001 and 002 show both shapes; DESIGN: aud may be a string or an array containing the client"},
	{Name: DriftRotateKey, Param: "EVERY", Default: "5",
		Description: "rotates the signing key after every EVERY signed tokens, keeping old public keys in the JWKS",
		Source:      "key rotation with a new kid; verifiers refetch the JWKS on an unknown kid"},
	{Name: DriftDropClaim, Param: "NAME", Default: "sub", Breaking: true,
		Description: "removes the claim NAME from every token and userinfo answer",
		Source:      "seed 000: mandatory claims (connectorId, recipientId, products, name, sub, iss, exp, iat, aud)"},
	{Name: DriftClaimType, Param: "NAME", Default: "exp", Breaking: true,
		Description: "changes the JSON type of claim NAME (number or boolean to string, string to array, array to string)",
		Source:      "a claim's type is part of the contract (RFC 7519 §2 NumericDate, seed 000 claim list)"},
	{Name: DriftUnstableSub, Breaking: true,
		Description: "gives the user a new sub on every login and refresh",
		Source:      "seed 002: sub stays the same between refreshes and re-links; OIDC Core §12.2"},
	{Name: DriftUnstableAccounts, Breaking: true,
		Description: "gives the user new account IDs on every login and refresh",
		Source:      "seed 002: account IDs are persistent for a given sub"},
	{Name: DriftRotateKeyDropOld, Param: "EVERY", Default: "5", Breaking: true,
		Description: "rotates the signing key after every EVERY signed tokens and drops the old keys from the JWKS",
		Source:      "tokens issued before a rotation no longer verify"},
	{Name: DriftAlg, Param: "ALG", Default: "ES256", Breaking: true,
		Description: "signs with another algorithm (a new key under a new kid; the old public key stays published)",
		Source:      "clients that pin the signing algorithm break; idpconform's default allow-list accepts every asymmetric algorithm"},
}

// Drifts returns the catalogue of every drift, in a stable order.
func Drifts() []DriftInfo { return slices.Clone(driftCatalog) }

// LookupDrift returns the descriptor of a drift.
func LookupDrift(name DriftName) (DriftInfo, bool) {
	for _, d := range driftCatalog {
		if d.Name == name {
			return d, true
		}
	}
	return DriftInfo{}, false
}

// DriftNames lists every drift name.
func DriftNames() []string {
	out := make([]string, len(driftCatalog))
	for i, d := range driftCatalog {
		out[i] = string(d.Name)
	}
	return out
}

// Drift is one drift in force. Build it with ParseDrift, or set Name and
// Value and let New or SetDrift check it.
type Drift struct {
	Name  DriftName
	Value string

	p driftParams
}

type driftParams struct {
	text  string // claim name, format, order
	every int
	alg   jose.SignatureAlgorithm
}

// String returns the drift in the syntax ParseDrift reads.
func (d Drift) String() string {
	if d.Value == "" {
		return string(d.Name)
	}
	return string(d.Name) + "=" + d.Value
}

// Effective returns the drift with the value it acts on, its default
// filled in when none was given ("drop-claim" is "drop-claim=sub"), so what
// a run rehearses is never left to the reader to look up.
func (d Drift) Effective() string {
	if d.Value != "" {
		return d.String()
	}
	if info, ok := LookupDrift(d.Name); ok && info.Default != "" {
		return string(d.Name) + "=" + info.Default
	}
	return string(d.Name)
}

// ParseDrift reads "name" or "name=value", e.g. "drop-claim=recipientId".
// "name=" with nothing after it is refused: it reads like a value was meant,
// and quietly taking the default would rehearse another change.
func ParseDrift(s string) (Drift, error) {
	name, value, withValue := strings.Cut(strings.TrimSpace(s), "=")
	d := Drift{Name: DriftName(name), Value: value}
	if info, ok := LookupDrift(d.Name); ok && withValue && value == "" {
		if info.Param == "" {
			return Drift{}, fmt.Errorf("drift %s takes no value, got an empty one after \"=\"", d.Name)
		}
		return Drift{}, fmt.Errorf("drift %s: empty value after \"=\"; expected %s=%s, or %s alone for the default %s", d.Name, d.Name, info.Param, d.Name, info.Default)
	}
	if err := d.check(); err != nil {
		return Drift{}, err
	}
	return d, nil
}

// ParseDrifts parses each spec; the error names every bad one.
func ParseDrifts(specs []string) ([]Drift, error) {
	var out []Drift
	var errs []string
	for _, s := range specs {
		d, err := ParseDrift(s)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, d)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

func (d *Drift) check() error {
	info, ok := LookupDrift(d.Name)
	if !ok {
		return fmt.Errorf("unknown drift %q; valid drifts: %s", d.Name, strings.Join(DriftNames(), ", "))
	}
	if info.Param == "" && d.Value != "" {
		return fmt.Errorf("drift %s takes no value, got %q", d.Name, d.Value)
	}
	v := d.Value
	if v == "" {
		v = info.Default
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("drift %s: value %q: %s (syntax: %s=%s)", d.Name, d.Value, fmt.Sprintf(format, args...), d.Name, info.Param)
	}
	switch d.Name {
	case DriftAddClaim, DriftDropClaim, DriftClaimType:
		if !validClaimName(v) {
			return bad("expected a claim name of letters, digits, '_' or '-'")
		}
		d.p.text = v
	case DriftReorderClaims:
		if v != "reverse" && v != "shuffle" {
			return bad("expected reverse or shuffle")
		}
		d.p.text = v
	case DriftOpaqueFormat:
		if !slices.Contains([]string{"hex", "uuid", "long"}, v) {
			return bad("expected hex, uuid or long")
		}
		d.p.text = v
	case DriftRotateKey, DriftRotateKeyDropOld:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return bad("expected a count of tokens between 1 and 1000000")
		}
		d.p.every = n
	case DriftAlg:
		alg := jose.SignatureAlgorithm(v)
		if !supportsAlg(alg) {
			return bad("expected one of %s", strings.Join(signingAlgNames(), ", "))
		}
		d.p.alg = alg
	}
	return nil
}

// CheckDriftForProfile refuses a drift that names a claim (drop-claim,
// claim-type) which the profile never issues: it would change nothing, and a
// rehearsal of it would pass for the wrong reason. The error lists the
// profile's claims. Other drifts pass.
func CheckDriftForProfile(profile string, d Drift) error {
	if d.Name != DriftDropClaim && d.Name != DriftClaimType {
		return nil
	}
	p, err := LookupProfile(profile)
	if err != nil {
		return err
	}
	if err := d.check(); err != nil {
		return err
	}
	claims := p.Claims()
	if !slices.Contains(claims, d.p.text) {
		return fmt.Errorf("drift %s: profile %s never issues a claim %q; its tokens and userinfo answers carry %s",
			d.Effective(), p.Name, d.p.text, strings.Join(claims, ", "))
	}
	return nil
}

func validClaimName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r == '.' || r == '~' || !isUnreserved(r) {
			return false
		}
	}
	return true
}

// driftSet is the drifts in force. Immutable once built. The claim drifts
// (add-claim, drop-claim, claim-type) may appear several times with
// different claims; for every other drift a later entry replaces an earlier.
type driftSet struct {
	list []Drift
}

func multiValued(n DriftName) bool {
	return n == DriftAddClaim || n == DriftDropClaim || n == DriftClaimType
}

func newDriftSet(ds []Drift) *driftSet {
	s := &driftSet{}
	for _, d := range ds {
		i := slices.IndexFunc(s.list, func(x Drift) bool {
			return x.Name == d.Name && (!multiValued(d.Name) || x.p.text == d.p.text)
		})
		if i >= 0 {
			s.list[i] = d
		} else {
			s.list = append(s.list, d)
		}
	}
	return s
}

func (s *driftSet) on(n DriftName) bool {
	return slices.ContainsFunc(s.list, func(d Drift) bool { return d.Name == n })
}

func (s *driftSet) get(n DriftName) (Drift, bool) {
	for _, d := range s.list {
		if d.Name == n {
			return d, true
		}
	}
	return Drift{}, false
}

func (s *driftSet) all(n DriftName) []Drift {
	var out []Drift
	for _, d := range s.list {
		if d.Name == n {
			out = append(out, d)
		}
	}
	return out
}
