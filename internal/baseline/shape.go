package baseline

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/jsonkind"
)

// shapeAcc accumulates the samples of one shape. It keeps counts, kinds and
// lengths, never a value.
type shapeAcc struct {
	kind, flow, client, format string
	declared                   float64
	contract                   string

	samples   int
	claims    map[string]*claimAcc
	order     []string
	algs      set
	typs      set
	ctys      set
	params    set
	kids      set
	opaque    *StringShape
	lifetime  *Range
	expiresIn *Range
	findings  []Finding
}

type claimAcc struct {
	types    set
	present  int
	length   *Range
	entropy  *float64
	elements set
}

type set map[string]bool

func (s set) sorted() []string {
	if len(s) == 0 {
		return nil
	}
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func widen(r **Range, v float64) {
	if *r == nil {
		*r = &Range{Min: v, Max: v}
		return
	}
	(*r).Min = math.Min((*r).Min, v)
	(*r).Max = math.Max((*r).Max, v)
}

// jwtHeader is what a sample's JOSE header holds.
type jwtHeader struct {
	Alg, Typ, Cty, Kid string
	Params             []string
}

// addClaims adds one JSON object sample (JWT payload, userinfo,
// introspection or token response): the kind, length and entropy of every
// member, and the order of the first sample.
func (a *shapeAcc) addClaims(claims map[string]any, order []string) {
	a.samples++
	if a.claims == nil {
		a.claims = map[string]*claimAcc{}
	}
	if a.order == nil {
		a.order = order
	}
	for name, v := range claims {
		c := a.claims[name]
		if c == nil {
			c = &claimAcc{types: set{}, elements: set{}}
			a.claims[name] = c
		}
		c.present++
		c.types[string(jsonkind.Of(v))] = true
		switch x := v.(type) {
		case string:
			widen(&c.length, float64(utf8.RuneCountInString(x)))
			e := contract.EntropyBits(x)
			if c.entropy == nil || e < *c.entropy {
				c.entropy = &e
			}
		case []any:
			widen(&c.length, float64(len(x)))
			for _, el := range x {
				c.elements[string(jsonkind.Of(el))] = true
			}
		}
	}
	if exp, ok := number(claims["exp"]); ok {
		if iat, ok := number(claims["iat"]); ok {
			widen(&a.lifetime, exp-iat)
		}
	}
}

// addHeader adds the JOSE header of a JWT sample.
func (a *shapeAcc) addHeader(h jwtHeader) {
	if a.algs == nil {
		a.algs, a.typs, a.ctys, a.params, a.kids = set{}, set{}, set{}, set{}, set{}
	}
	a.algs[h.Alg] = true
	if h.Typ != "" {
		a.typs[h.Typ] = true
	}
	if h.Cty != "" {
		a.ctys[h.Cty] = true
	}
	a.kids[h.Kid] = true
	for _, p := range h.Params {
		a.params[p] = true
	}
}

// addOpaque adds an opaque string sample.
func (a *shapeAcc) addOpaque(s string) {
	a.samples++
	n := float64(utf8.RuneCountInString(s))
	e := contract.EntropyBits(s)
	if a.opaque == nil {
		a.opaque = &StringShape{Length: Range{Min: n, Max: n}, EntropyBits: e, Alphabet: alphabet(s)}
		return
	}
	a.opaque.Length.Min = math.Min(a.opaque.Length.Min, n)
	a.opaque.Length.Max = math.Max(a.opaque.Length.Max, n)
	a.opaque.EntropyBits = math.Min(a.opaque.EntropyBits, e)
	if al := alphabet(s); al != a.opaque.Alphabet {
		a.opaque.Alphabet = "mixed"
	}
}

// addFindings counts findings, keyed by claim, rule and message.
func (a *shapeAcc) addFindings(fs []contract.Finding) {
	for _, f := range fs {
		if f.Level != contract.Violation {
			continue // unknown claims are in the shape already
		}
		a.addFinding(Finding{Claim: f.Claim, Level: string(f.Level), Rule: f.Rule, Message: f.Message})
	}
}

func (a *shapeAcc) addFinding(f Finding) {
	for i := range a.findings {
		x := &a.findings[i]
		if x.Claim == f.Claim && x.Rule == f.Rule && x.Message == f.Message {
			x.Count++
			return
		}
	}
	f.Count = 1
	a.findings = append(a.findings, f)
}

func (a *shapeAcc) shape() Shape {
	s := Shape{Kind: a.kind, Flow: a.flow, Client: a.client, Format: a.format, Samples: a.samples,
		Order: a.order, Opaque: a.opaque, LifetimeS: a.lifetime, ExpiresInS: a.expiresIn,
		DeclaredTTLS: a.declared, Contract: a.contract, Findings: a.findings}
	if a.algs != nil {
		s.Header = &Header{Algs: a.algs.sorted(), Typs: a.typs.sorted(), Ctys: a.ctys.sorted(), Kids: len(a.kids), Params: a.params.sorted()}
	}
	if a.claims != nil {
		s.Claims = map[string]ClaimShape{}
		for name, c := range a.claims {
			s.Claims[name] = ClaimShape{Types: c.types.sorted(), Present: c.present, Length: c.length, EntropyBits: round1(c.entropy), Elements: c.elements.sorted()}
		}
	}
	if s.Opaque != nil {
		s.Opaque.EntropyBits = math.Round(s.Opaque.EntropyBits*10) / 10
	}
	sort.Slice(s.Findings, func(i, j int) bool {
		if s.Findings[i].Claim != s.Findings[j].Claim {
			return s.Findings[i].Claim < s.Findings[j].Claim
		}
		return s.Findings[i].Rule < s.Findings[j].Rule
	})
	return s
}

func round1(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := math.Round(*p*10) / 10
	return &v
}

var (
	hexChars    = regexp.MustCompile(`^[0-9a-fA-F]+$`)
	uuidShape   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	b64urlChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	jwsChars    = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$`)
)

// alphabet names the characters of an opaque string, a format hint only.
func alphabet(s string) string {
	switch {
	case uuidShape.MatchString(s):
		return "uuid"
	case hexChars.MatchString(s):
		return "hex"
	case b64urlChars.MatchString(s):
		return "base64url"
	case jwsChars.MatchString(s):
		return "jws"
	}
	return "printable"
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	case float64:
		return n, true
	}
	return 0, false
}

// decodeObject decodes a JSON object keeping numbers exact, and returns its
// member names in the order they came.
func decodeObject(data []byte) (map[string]any, []string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return nil, nil, false
	}
	return m, memberOrder(data), true
}

// memberOrder lists the top-level member names of a JSON object in order.
func memberOrder(data []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out
		}
		k, ok := t.(string)
		if !ok {
			return out
		}
		out = append(out, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return out
		}
	}
	return out
}

// splitJWT decodes a compact JWS without verifying it: the header, the
// payload bytes and claims. ok is false for anything else (an opaque token).
func splitJWT(raw string) (header map[string]any, payload []byte, ok bool) {
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 {
		return nil, nil, false
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, nil, false
	}
	if json.Unmarshal(hb, &header) != nil || header == nil {
		return nil, nil, false
	}
	payload, err = base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, false
	}
	return header, payload, true
}

// headerOf reads the header values a shape records.
func headerOf(h map[string]any) jwtHeader {
	str := func(k string) string { s, _ := h[k].(string); return s }
	out := jwtHeader{Alg: str("alg"), Typ: str("typ"), Cty: str("cty"), Kid: str("kid")}
	for k := range h {
		switch k {
		case "alg", "typ", "cty", "kid":
		default:
			out.Params = append(out.Params, k)
		}
	}
	sort.Strings(out.Params)
	return out
}

// ObjectShape builds the shape of JSON object samples (JWT payloads or JSON
// responses) as a capture records them: for tests and for tools that hold
// claims from elsewhere. Findings are not computed.
func ObjectShape(kind, flow, client, format string, samples ...[]byte) (Shape, error) {
	a := &shapeAcc{kind: kind, flow: flow, client: client, format: format}
	for i, s := range samples {
		m, order, ok := decodeObject(s)
		if !ok {
			return Shape{}, fmt.Errorf("sample %d is not a JSON object", i)
		}
		a.addClaims(m, order)
	}
	if a.samples == 0 {
		return Shape{}, errors.New("no samples")
	}
	return a.shape(), nil
}
