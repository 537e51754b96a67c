package diff

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/jsonkind"
	"github.com/idpconform/idpconform/internal/results"
)

// The documents the classes rest on, quoted where a difference is filed.
const (
	docNewClaims   = "seed 000: addition of net-new claims is non-breaking"
	docOrder       = "seed 000: changes to the order of claims are non-breaking"
	docOpaque      = "seed 000: changes to the length or format of opaque strings are non-breaking"
	docEverything  = "seed 000 names only new claims, reordered claims and opaque lengths or formats as non-breaking"
	docAud         = "RFC 7519 §4.1.3: aud is a string or an array of strings; a client checks that it holds its client_id"
	docNotContract = "not in the contracts of either side: no client should rely on it, but one reading it would notice"
)

// ruleRef is the contract rule that governs a claim: the old side's
// contract first (what clients rely on today), else the new side's.
type ruleRef struct {
	rule     contract.Rule
	contract *contract.Contract
	side     string
	ok       bool
}

// opaque reports whether the contract treats the claim as an opaque
// string: only then do its length and format belong to the IdP.
func (r ruleRef) opaque() bool {
	return r.ok && (r.rule.MinLength > 0 || r.rule.MinEntropy > 0)
}

func (r ruleRef) text() string {
	if !r.ok {
		return ""
	}
	s := fmt.Sprintf("contract %s (%s side)", r.contract.Name, r.side)
	if r.side == "default" {
		s = fmt.Sprintf("contract %s (default: neither side names one)", r.contract.Name)
	}
	if r.contract.Source != "" {
		s += ", " + r.contract.Source
	}
	return s
}

func (c *comparer) rule(kind, claim string) ruleRef {
	for _, s := range []struct {
		contracts map[string]*contract.Contract
		side      string
	}{{c.old.Contracts, "old"}, {c.new.Contracts, "new"}, {c.defaults, "default"}} {
		if ct := s.contracts[kind]; ct != nil {
			if r, ok := ct.Claims[claim]; ok {
				return ruleRef{rule: r, contract: ct, side: s.side, ok: true}
			}
		}
	}
	if kind == baseline.KindUserinfo && claim == "sub" {
		return ruleRef{rule: contract.Rule{Type: contract.TypeString, Presence: contract.Mandatory}, contract: userinfoRules, side: "default", ok: true}
	}
	return ruleRef{}
}

// userinfoRules holds the one userinfo claim every OpenID Provider must
// return.
var userinfoRules = &contract.Contract{Name: "userinfo", Source: "OIDC Core §5.3.2: the sub claim MUST always be returned"}

// opaqueRule is the rule for an opaque token: the token response
// contract's member of the same name.
func (c *comparer) opaqueRule(kind string) ruleRef {
	switch kind {
	case baseline.KindRefreshToken:
		return c.rule(baseline.KindTokenResponse, "refresh_token")
	case baseline.KindAccessToken:
		return c.rule(baseline.KindTokenResponse, "access_token")
	}
	return ruleRef{}
}

func shapeKey(s baseline.Shape) string {
	k := s.Kind + "." + s.Flow
	if s.Client != "" {
		k += "." + s.Client
	}
	return k
}

func (c *comparer) shapes() {
	newShapes := map[string]baseline.Shape{}
	for _, s := range c.new.Shapes {
		newShapes[s.Key()] = s
	}
	seen := map[string]bool{}
	for _, o := range c.old.Shapes {
		seen[o.Key()] = true
		n, ok := newShapes[o.Key()]
		if !ok {
			c.shapeGone(o)
			continue
		}
		c.compareShape(o, n)
	}
	for _, n := range c.new.Shapes {
		if seen[n.Key()] {
			continue
		}
		c.add(results.Difference{Class: results.ClassNonBreaking, Category: CatFlow, Subject: n.Label(), Change: "new",
			New:    fmt.Sprintf("%s, %s", n.Format, plural(n.Samples, "sample")),
			Reason: "the new side returns something the old did not; clients that do not ask for it never see it", Rule: "an addition clients can ignore"}, shapeKey(n))
		c.findings(baseline.Shape{Kind: n.Kind, Flow: n.Flow, Client: n.Client}, n)
	}
}

// flowOf names the baseline flow that produces a shape.
func flowOf(s baseline.Shape) string {
	switch s.Kind {
	case baseline.KindUserinfo:
		return baseline.FlowUserinfo
	case baseline.KindIntrospection:
		if s.Flow == baseline.FlowClientCredentials {
			return baseline.FlowIntrospection
		}
		return baseline.FlowIntrospection + "." + s.Flow
	case baseline.KindAkkessT1:
		return baseline.FlowAkkess
	}
	return s.Flow
}

// shapeGone files a shape the new side does not have: breaking when its
// flow worked there, otherwise explained by the flow's own difference.
func (c *comparer) shapeGone(o baseline.Shape) {
	flow := flowOf(o)
	worked := false
	for _, f := range c.new.Flows {
		if f.Name == flow && f.Client == o.Client && f.Status == baseline.FlowOK {
			worked = true
		}
	}
	d := results.Difference{Category: CatFlow, Subject: o.Label(), Change: "missing", Old: fmt.Sprintf("%s, %s", o.Format, plural(o.Samples, "sample")), New: "none"}
	if worked {
		d.Class = results.ClassBreaking
		d.Reason = fmt.Sprintf("flow %s works on the new side but returns no %s: a client expecting one breaks", flow, o.Kind)
		d.Rule = "what the old side returned is what clients rely on"
	} else {
		d.Class = results.ClassInfo
		d.Reason = fmt.Sprintf("not compared: flow %s did not complete on the new side (see the flow differences)", flow)
		d.Rule = "a missing flow is judged once, as a flow"
	}
	c.add(d, shapeKey(o))
}

func (c *comparer) compareShape(o, n baseline.Shape) {
	subject, key := o.Label(), shapeKey(o)
	if o.Format != n.Format {
		d := results.Difference{Category: CatClaim, Subject: subject, Item: "(format)", Change: o.Format + " → " + n.Format, Old: o.Format, New: n.Format}
		switch {
		case o.Kind == baseline.KindAccessToken && o.Format == baseline.FormatJWT:
			d.Class, d.Reason, d.Rule = results.ClassBreaking, "clients and resource servers that read the JWT access token's claims lose them", "RFC 9068 §2: a JWT access token is read by whoever validates it"
		default:
			d.Class, d.Reason, d.Rule = results.ClassNonBreaking, "the value is opaque to the client", docOpaque
		}
		c.add(d, key)
		return
	}
	if o.Format == baseline.FormatOpaque {
		c.compareOpaque(o, n, subject, key)
		c.findings(o, n)
		return
	}
	c.compareClaims(o, n, subject, key)
	c.compareOrder(o, n, subject, key)
	c.compareHeader(o, n, subject, key)
	c.compareLifetime(o, n, subject, key)
	c.findings(o, n)
}

func presence(cs baseline.ClaimShape, samples int) string {
	if cs.Present == samples {
		return fmt.Sprintf("in all %s", plural(samples, "sample"))
	}
	return fmt.Sprintf("in %d of %s", cs.Present, plural(samples, "sample"))
}

func kindsText(types []string) string { return strings.Join(types, " or ") }

func (c *comparer) compareClaims(o, n baseline.Shape, subject, key string) {
	names := make([]string, 0, len(o.Claims))
	for name := range o.Claims {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		oc := o.Claims[name]
		nc, present := n.Claims[name]
		r := c.rule(o.Kind, name)
		if !present {
			c.claimDropped(o, subject, key, name, oc, r)
			continue
		}
		c.comparePresence(o, n, subject, key, name, oc, nc, r)
		c.compareTypes(subject, key, name, oc, nc, r)
		c.compareLength(subject, key, name, oc, nc, r)
	}
	var added []string
	for name := range n.Claims {
		if _, ok := o.Claims[name]; !ok {
			added = append(added, name)
		}
	}
	sort.Strings(added)
	for _, name := range added {
		nc := n.Claims[name]
		r := c.rule(o.Kind, name)
		d := results.Difference{Category: CatClaim, Subject: subject, Item: name, Change: "added", Old: "absent", New: kindsText(nc.Types) + ", " + presence(nc, n.Samples)}
		if r.ok && r.rule.Presence == contract.Forbidden {
			d.Class, d.Reason, d.Rule = results.ClassBreaking, "the contract forbids this claim; a client that refuses tokens carrying it breaks", r.text()+": presence forbidden"
		} else {
			d.Class, d.Reason, d.Rule = results.ClassNonBreaking, "a new claim; clients must ignore claims they do not know", docNewClaims
		}
		c.add(d, key)
	}
}

func (c *comparer) claimDropped(o baseline.Shape, subject, key, name string, oc baseline.ClaimShape, r ruleRef) {
	d := results.Difference{Category: CatClaim, Subject: subject, Item: name, Change: "dropped", Old: kindsText(oc.Types) + ", " + presence(oc, o.Samples), New: "absent"}
	switch {
	case r.ok && r.rule.Presence == contract.Mandatory:
		d.Class, d.Reason, d.Rule = results.ClassBreaking, "the contract makes this claim mandatory; clients reading it break", r.text()+": presence mandatory"
	case r.ok && r.rule.Presence == contract.Forbidden:
		d.Class, d.Reason, d.Rule = results.ClassNonBreaking, "a forbidden claim is gone", r.text()+": presence forbidden"
	case r.ok:
		d.Class, d.Reason, d.Rule = results.ClassWarning, "the contract makes this claim optional, so clients must cope without it; any that read it lose it", r.text()+": presence optional"
	default:
		d.Class, d.Reason, d.Rule = results.ClassWarning, "a claim the old side sent is gone", docNotContract
	}
	c.add(d, key)
}

func (c *comparer) comparePresence(o, n baseline.Shape, subject, key, name string, oc, nc baseline.ClaimShape, r ruleRef) {
	always := func(cs baseline.ClaimShape, samples int) bool { return cs.Present == samples }
	if always(oc, o.Samples) == always(nc, n.Samples) {
		return
	}
	d := results.Difference{Category: CatClaim, Subject: subject, Item: name, Old: presence(oc, o.Samples), New: presence(nc, n.Samples)}
	switch {
	case !always(nc, n.Samples) && r.ok && r.rule.Presence == contract.Mandatory:
		d.Class, d.Change = results.ClassBreaking, "sometimes missing"
		d.Reason, d.Rule = "the contract makes this claim mandatory; it is missing from some tokens", r.text()+": presence mandatory"
	case !always(nc, n.Samples):
		d.Class, d.Change = results.ClassWarning, "sometimes missing"
		d.Reason, d.Rule = "the old side always sent this claim", firstNonEmpty(r.text()+": presence optional", docNotContract, r.ok)
	default:
		d.Class, d.Change = results.ClassInfo, "always present"
		d.Reason, d.Rule = "a claim sometimes sent is now always sent", docNewClaims
	}
	c.add(d, key)
}

func firstNonEmpty(a, b string, useA bool) string {
	if useA {
		return a
	}
	return b
}

func (c *comparer) compareTypes(subject, key, name string, oc, nc baseline.ClaimShape, r ruleRef) {
	if slices.Equal(oc.Types, nc.Types) {
		return
	}
	d := results.Difference{Category: CatClaim, Subject: subject, Item: name, Change: "type " + kindsText(oc.Types) + " → " + kindsText(nc.Types), Old: kindsText(oc.Types), New: kindsText(nc.Types)}
	accepted := r.ok
	for _, t := range nc.Types {
		if !r.ok || !r.rule.Accepts(jsonkind.Kind(t)) {
			accepted = false
		}
	}
	switch {
	case accepted && r.rule.Type == contract.TypeAudience:
		d.Class, d.Reason, d.Rule = results.ClassNonBreaking, "the contract's type audience accepts a string or an array of strings", docAud+"; "+r.text()
	case accepted:
		d.Class, d.Reason, d.Rule = results.ClassNonBreaking, "the contract's type ("+r.rule.TypeText()+") accepts the new type", r.text()
	case r.ok:
		d.Class, d.Reason, d.Rule = results.ClassBreaking, "the contract expects "+r.rule.TypeText()+"; a client parsing the claim as such breaks", r.text()+"; "+docEverything
	default:
		d.Class, d.Reason, d.Rule = results.ClassWarning, "the claim's type changed", docNotContract
	}
	c.add(d, key)
}

func rangeText(r *baseline.Range, unit string) string {
	if r == nil {
		return "none"
	}
	if r.Min == r.Max {
		return fmt.Sprintf("%g %s", r.Min, unit)
	}
	return fmt.Sprintf("%g to %g %s", r.Min, r.Max, unit)
}

// compareLength judges a string claim's length and entropy: lengths and
// formats of opaque strings may change (seed 000) unless the contract's
// minimum is no longer met. A contract marks a string opaque by giving it a
// min_length or min_entropy; the length of any other string (a display
// name, an email) is not covered by seed 000's rule, so its change is only
// reported.
func (c *comparer) compareLength(subject, key, name string, oc, nc baseline.ClaimShape, r ruleRef) {
	if oc.Length == nil || nc.Length == nil || !slices.Contains(oc.Types, "string") || !slices.Equal(oc.Types, nc.Types) {
		return
	}
	d := results.Difference{Category: CatClaim, Subject: subject, Item: name}
	switch {
	case r.ok && r.rule.MinLength > 0 && nc.Length.Min < float64(r.rule.MinLength):
		d.Class, d.Change = results.ClassBreaking, "shorter than the contract's minimum"
		d.Old, d.New = rangeText(oc.Length, "characters"), rangeText(nc.Length, "characters")
		d.Reason, d.Rule = fmt.Sprintf("the contract asks for at least %d characters", r.rule.MinLength), r.text()+": min_length"
	case r.ok && r.rule.MinEntropy > 0 && nc.EntropyBits != nil && *nc.EntropyBits < r.rule.MinEntropy:
		d.Class, d.Change = results.ClassBreaking, "less entropy than the contract's minimum"
		d.Old, d.New = entropyText(oc.EntropyBits), entropyText(nc.EntropyBits)
		d.Reason, d.Rule = fmt.Sprintf("the contract asks for an estimated %.0f bits", r.rule.MinEntropy), r.text()+": min_entropy; RFC 6749 §10.10"
	case *oc.Length != *nc.Length && r.opaque():
		d.Class, d.Change = results.ClassNonBreaking, "length changed"
		d.Old, d.New = rangeText(oc.Length, "characters"), rangeText(nc.Length, "characters")
		d.Reason, d.Rule = "clients must not depend on the length or format of an opaque value", docOpaque+"; "+r.text()+": opaque (min_length or min_entropy)"
	case *oc.Length != *nc.Length:
		d.Class, d.Change = results.ClassInfo, "length changed"
		d.Old, d.New = rangeText(oc.Length, "characters"), rangeText(nc.Length, "characters")
		d.Reason = "no contract marks this string opaque (min_length or min_entropy), so no rule says whether clients may rely on its length; one displaying or storing it may notice"
		d.Rule = docNotContract
		if r.ok {
			d.Rule = r.text() + ": type string, no min_length or min_entropy"
		}
	default:
		return
	}
	c.add(d, key)
}

func entropyText(p *float64) string {
	if p == nil {
		return "unknown"
	}
	return fmt.Sprintf("~%.0f bits", *p)
}

func (c *comparer) compareOpaque(o, n baseline.Shape, subject, key string) {
	if o.Opaque == nil || n.Opaque == nil {
		return
	}
	r := c.opaqueRule(o.Kind)
	if r.ok && r.rule.MinEntropy > 0 && n.Opaque.EntropyBits < r.rule.MinEntropy {
		c.add(results.Difference{Class: results.ClassBreaking, Category: CatClaim, Subject: subject, Item: "(entropy)", Change: "less entropy than the contract's minimum",
			Old: fmt.Sprintf("~%.0f bits", o.Opaque.EntropyBits), New: fmt.Sprintf("~%.0f bits", n.Opaque.EntropyBits),
			Reason: fmt.Sprintf("the contract asks for an estimated %.0f bits: a guessable token", r.rule.MinEntropy), Rule: r.text() + ": min_entropy; RFC 6749 §10.10"}, key)
	}
	if o.Opaque.Length != n.Opaque.Length || o.Opaque.Alphabet != n.Opaque.Alphabet {
		c.add(results.Difference{Class: results.ClassNonBreaking, Category: CatClaim, Subject: subject, Item: "(format)", Change: "length or format changed",
			Old: rangeText(&o.Opaque.Length, "characters") + ", " + o.Opaque.Alphabet, New: rangeText(&n.Opaque.Length, "characters") + ", " + n.Opaque.Alphabet,
			Reason: "the value is opaque to the client", Rule: docOpaque}, key)
	}
}

// compareOrder files reordered claims once per shape: the relative order of
// the claims both sides send.
func (c *comparer) compareOrder(o, n baseline.Shape, subject, key string) {
	common := func(order []string, other map[string]baseline.ClaimShape) []string {
		var out []string
		for _, k := range order {
			if _, ok := other[k]; ok {
				out = append(out, k)
			}
		}
		return out
	}
	a, b := common(o.Order, n.Claims), common(n.Order, o.Claims)
	if len(a) < 2 || slices.Equal(a, b) {
		return
	}
	c.add(results.Difference{Class: results.ClassNonBreaking, Category: CatClaim, Subject: subject, Item: "(order)", Change: "claims reordered",
		Old: strings.Join(a, " "), New: strings.Join(b, " "),
		Reason: "JSON objects are unordered; clients must not depend on claim order", Rule: docOrder}, key)
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func (c *comparer) compareHeader(o, n baseline.Shape, subject, key string) {
	if o.Header == nil || n.Header == nil {
		return
	}
	oh, nh := o.Header, n.Header
	if !slices.Equal(oh.Algs, nh.Algs) {
		d := results.Difference{Category: CatSigning, Subject: subject, Item: "alg", Change: "signing algorithm changed", Old: strings.Join(oh.Algs, ", "), New: strings.Join(nh.Algs, ", ")}
		if subset(nh.Algs, oh.Algs) {
			d.Class, d.Reason, d.Rule = results.ClassInfo, "the new side signs with fewer of the old side's algorithms", "no new algorithm to accept"
		} else {
			d.Class = results.ClassBreaking
			d.Reason = "clients that pin the algorithm (or registered id_token_signed_response_alg) reject the tokens"
			d.Rule = "OIDC Core §3.1.3.7 (7): the alg is the one registered, RS256 by default; RFC 8725 §3.1: verifiers use an allow-list"
		}
		c.add(d, key)
	}
	if !slices.Equal(oh.Typs, nh.Typs) {
		d := results.Difference{Category: CatSigning, Subject: subject, Item: "typ", Change: "typ header changed", Old: listOrNone(oh.Typs), New: listOrNone(nh.Typs)}
		switch {
		case len(oh.Typs) == 0:
			d.Class, d.Reason, d.Rule = results.ClassInfo, "the old side sent no typ", "RFC 8725 §3.11: explicit typing"
		case o.Kind == baseline.KindAccessToken && slices.Contains(oh.Typs, "at+jwt") && !slices.Contains(nh.Typs, "at+jwt"):
			d.Class, d.Reason, d.Rule = results.ClassBreaking, "resource servers must refuse JWT access tokens not typed at+jwt", "RFC 9068 §2.1, §4"
		default:
			d.Class, d.Reason, d.Rule = results.ClassWarning, "verifiers that check typ reject the new value", "RFC 8725 §3.11: explicit typing"
		}
		c.add(d, key)
	}
	if !slices.Equal(oh.Ctys, nh.Ctys) {
		d := results.Difference{Category: CatSigning, Subject: subject, Item: "cty", Change: "cty header changed", Old: listOrNone(oh.Ctys), New: listOrNone(nh.Ctys)}
		if o.Kind == baseline.KindAkkessT1 {
			d.Class, d.Reason, d.Rule = results.ClassBreaking, "Akkess tokens carry cty t1; consumers select the format by it", "seed 003 (Akkess issue token): cty t1"
		} else {
			d.Class, d.Reason, d.Rule = results.ClassWarning, "consumers that read cty see another value", "RFC 7515 §4.1.10"
		}
		c.add(d, key)
	}
	for _, p := range oh.Params {
		if !slices.Contains(nh.Params, p) {
			c.add(results.Difference{Class: results.ClassWarning, Category: CatSigning, Subject: subject, Item: p, Change: "header parameter dropped", Old: "present", New: "absent",
				Reason: "a verifier using this header parameter to find the key loses it", Rule: "RFC 7515 §4.1"}, key)
		}
	}
	for _, p := range nh.Params {
		if !slices.Contains(oh.Params, p) {
			c.add(results.Difference{Class: results.ClassInfo, Category: CatSigning, Subject: subject, Item: p, Change: "header parameter added", Old: "absent", New: "present",
				Reason: "verifiers ignore header parameters they do not use", Rule: "RFC 7515 §4"}, key)
		}
	}
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func (c *comparer) skew() float64 {
	return math.Max(c.old.Target.ClockSkewS, c.new.Target.ClockSkewS)
}

func (c *comparer) compareLifetime(o, n baseline.Shape, subject, key string) {
	skew := c.skew()
	for _, x := range []struct {
		item     string
		old, new *baseline.Range
	}{{"exp-iat", o.LifetimeS, n.LifetimeS}, {"expires_in", o.ExpiresInS, n.ExpiresInS}} {
		if x.old == nil || x.new == nil {
			continue
		}
		d := results.Difference{Category: CatLifetime, Subject: subject, Item: x.item, Old: rangeText(x.old, "s"), New: rangeText(x.new, "s")}
		switch {
		case x.new.Min < x.old.Min-skew:
			d.Class, d.Change = results.ClassWarning, "shorter"
			d.Reason = "clients that cache tokens for the old lifetime use them after they expire, and refresh more often"
			d.Rule = "RFC 6749 §5.1 (expires_in); the lifetime the target declares"
		case x.new.Max > x.old.Max+skew:
			d.Class, d.Change = results.ClassInfo, "longer"
			d.Reason, d.Rule = "tokens live longer; clients refresh less often", "RFC 6749 §5.1 (expires_in)"
		default:
			continue
		}
		c.add(d, key)
	}
	agree := func(s baseline.Shape) bool {
		return s.ExpiresInS == nil || s.LifetimeS == nil || math.Abs(s.ExpiresInS.Max-s.LifetimeS.Max) <= skew
	}
	if agree(o) && !agree(n) {
		c.add(results.Difference{Class: results.ClassBreaking, Category: CatLifetime, Subject: subject, Item: "expires_in-vs-exp", Change: "expires_in disagrees with exp - iat",
			Old: "agree", New: fmt.Sprintf("expires_in %s, exp - iat %s", rangeText(n.ExpiresInS, "s"), rangeText(n.LifetimeS, "s")),
			Reason: "a client scheduling its refresh by expires_in uses an expired token, or refreshes too early", Rule: "RFC 6749 §5.1: expires_in is the lifetime of the access token"}, key)
	}
}

// findings compares the contract and verification findings of a shape on
// each side, by claim and rule. A finding already explained by a claim
// difference of the same class is not repeated.
func (c *comparer) findings(o, n baseline.Shape) {
	subject, key := n.Label(), shapeKey(n)
	type fk struct{ claim, rule string }
	oldF := map[fk]baseline.Finding{}
	for _, f := range o.Findings {
		oldF[fk{f.Claim, f.Rule}] = f
	}
	newF := map[fk]baseline.Finding{}
	for _, f := range n.Findings {
		newF[fk{f.Claim, f.Rule}] = f
	}
	for _, f := range n.Findings {
		k := fk{f.Claim, f.Rule}
		d := results.Difference{Category: CatContract, Subject: subject, Item: f.Claim, Change: f.Rule, New: f.Message}
		if prev, both := oldF[k]; both {
			d.Class, d.Old = results.ClassInfo, prev.Message
			d.Reason, d.Rule = "unchanged: both sides break this rule (a conformance matter, not a migration one)", ruleOf(f, n, c.new)
		} else {
			if c.has(subject, f.Claim, results.ClassBreaking) {
				continue
			}
			d.Class, d.Old = results.ClassBreaking, "met"
			d.Reason, d.Rule = "the new side breaks a rule the old side met: "+f.Message, ruleOf(f, n, c.new)
		}
		c.add(d, key, f.Rule)
	}
	for _, f := range o.Findings {
		if _, both := newF[fk{f.Claim, f.Rule}]; both {
			continue
		}
		c.add(results.Difference{Class: results.ClassNonBreaking, Category: CatContract, Subject: subject, Item: f.Claim, Change: f.Rule, Old: f.Message, New: "met",
			Reason: "the new side meets a rule the old side broke", Rule: ruleOf(f, o, c.old)}, key, f.Rule)
	}
}

// ruleOf names what a finding rests on.
func ruleOf(f baseline.Finding, s baseline.Shape, b *baseline.Baseline) string {
	if f.Rule == "verify" {
		return "JWS and JWT validation: RFC 7515 §5.2, RFC 7519 §7.2, OIDC Core §3.1.3.7"
	}
	if f.Rule == "behaviour" {
		return "RFC 7662 §2.2"
	}
	if ct := b.Contracts[s.Kind]; ct != nil {
		r := "contract " + ct.Name
		if ct.Source != "" {
			r += ", " + ct.Source
		}
		return r + ": " + f.Rule
	}
	return f.Rule
}
