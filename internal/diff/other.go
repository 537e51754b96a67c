package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/results"
)

func flowKey(f baseline.Flow) string {
	k := f.Name
	if f.Client != "" {
		k += "." + f.Client
	}
	if f.User != "" {
		k += "." + f.User
	}
	return k
}

func flowLabel(f baseline.Flow) string {
	l := "flow " + f.Name
	var who []string
	if f.Client != "" {
		who = append(who, "client "+f.Client)
	}
	if f.User != "" {
		who = append(who, f.User)
	}
	if len(who) > 0 {
		l += " (" + strings.Join(who, ", ") + ")"
	}
	return l
}

func statusText(f baseline.Flow) string {
	if f.Reason == "" {
		return f.Status
	}
	return f.Status + ": " + f.Reason
}

func (c *comparer) flows() {
	newFlows := map[string]baseline.Flow{}
	for _, f := range c.new.Flows {
		newFlows[f.Key()] = f
	}
	newClients := map[string]bool{}
	for _, cl := range c.new.Target.Clients {
		newClients[cl.Name] = true
	}
	seen := map[string]bool{}
	for _, o := range c.old.Flows {
		seen[o.Key()] = true
		n, ok := newFlows[o.Key()]
		d := results.Difference{Category: CatFlow, Subject: flowLabel(o), Old: statusText(o)}
		switch {
		case !ok && o.Client != "" && !newClients[o.Client]:
			if o.Status != baseline.FlowOK {
				continue
			}
			d.Class, d.Change, d.New = results.ClassBreaking, "client missing", "no client "+o.Client
			d.Reason = "the new target has no client named " + o.Client + "; name the clients alike in both target files so that their flows compare"
			d.Rule = "what the old side served is what clients rely on"
		case !ok:
			if o.Status != baseline.FlowOK {
				continue
			}
			d.Class, d.Change, d.New = results.ClassInfo, "not run", "not run"
			d.Reason, d.Rule = "the new side did not run this flow (fewer users or no such step)", "nothing to compare"
		case o.Status == baseline.FlowOK && n.Status == baseline.FlowFailed:
			d.Class, d.Change, d.New = results.ClassBreaking, "fails", statusText(n)
			d.Reason, d.Rule = "the flow works on the old side and fails on the new", "what the old side served is what clients rely on"
		case o.Status == baseline.FlowOK && n.Status == baseline.FlowSkipped:
			d.Class, d.Change, d.New = results.ClassBreaking, "not offered", statusText(n)
			d.Reason, d.Rule = "the new side does not offer what clients of the old side use", "what the old side served is what clients rely on"
		case o.Status != baseline.FlowOK && n.Status == baseline.FlowOK:
			d.Class, d.Change, d.New = results.ClassNonBreaking, "works now", statusText(n)
			d.Reason, d.Rule = "the new side serves a flow the old did not", "an addition clients can ignore"
		case o.Status != n.Status || (o.Status == baseline.FlowFailed && o.Reason != n.Reason):
			d.Class, d.Change, d.New = results.ClassInfo, "still not working", statusText(n)
			d.Reason, d.Rule = "the flow works on neither side", "nothing clients could rely on"
		default:
			continue
		}
		c.add(d, flowKey(o))
	}
	for _, n := range c.new.Flows {
		if seen[n.Key()] || n.Status != baseline.FlowOK {
			continue
		}
		c.add(results.Difference{Class: results.ClassNonBreaking, Category: CatFlow, Subject: flowLabel(n), Change: "new flow", Old: "not run", New: n.Status,
			Reason: "the new side serves a flow the old did not run", Rule: "an addition clients can ignore"}, flowKey(n))
	}
}

func statusClass(s int) int { return s / 100 }

func probeText(p baseline.Probe) string {
	if p.Skipped != "" {
		return "not probed: " + p.Skipped
	}
	s := fmt.Sprintf("HTTP %d", p.Status)
	if p.Error != "" {
		s += " " + p.Error
	}
	if p.Active != nil {
		s += fmt.Sprintf(" active=%v", *p.Active)
	}
	return s
}

func (c *comparer) probes() {
	newP := map[string]baseline.Probe{}
	for _, p := range c.new.Probes {
		newP[p.ID] = p
	}
	for _, o := range c.old.Probes {
		n, ok := newP[o.ID]
		subject := "error probe " + o.ID
		base := results.Difference{Category: CatError, Subject: subject, Old: probeText(o)}
		if !ok || o.Skipped != "" || n.Skipped != "" {
			if o.Skipped != "" && (!ok || n.Skipped != "") {
				continue
			}
			d := base
			d.Class, d.Change, d.Item = results.ClassInfo, "not compared", "(probe)"
			d.New = "not probed"
			if ok {
				d.New = probeText(n)
			}
			d.Reason, d.Rule = "the probe ran on one side only (a capability or client is missing)", "nothing to compare"
			c.add(d, o.ID)
			continue
		}
		expect := o.Expect
		if expect == "" {
			expect = n.Expect
		}
		oc, nc := statusClass(o.Status), statusClass(n.Status)
		d := base
		d.New, d.Item = probeText(n), "status"
		switch {
		case oc == 4 && nc == 2:
			d.Class, d.Change = results.ClassBreaking, "accepted now"
			d.Reason, d.Rule = "the new side accepts a request the old side refused", "expected: "+expect
		case nc == 5 && oc != 5:
			d.Class, d.Change = results.ClassBreaking, "server error"
			d.Reason, d.Rule = "the new side answers with a server error where the old side answered the client", "expected: "+expect
		case oc == 2 && nc != 2:
			d.Class, d.Change = results.ClassBreaking, "refused now"
			d.Reason, d.Rule = "the new side refuses a request the old side accepted", "expected: "+expect
		case o.Status != n.Status:
			d.Class, d.Change = results.ClassWarning, fmt.Sprintf("status %d → %d", o.Status, n.Status)
			d.Reason, d.Rule = "clients that branch on the status see another one", "RFC 6749 §5.2: 400, or 401 for invalid_client; expected: "+expect
		default:
			d.Class = ""
		}
		if d.Class != "" {
			c.add(d, o.ID)
		}
		if o.Error != n.Error {
			c.add(results.Difference{Class: results.ClassBreaking, Category: CatError, Subject: subject, Item: "error", Change: "error code changed",
				Old: orNone(o.Error), New: orNone(n.Error), Reason: "clients branch on the error code",
				Rule: "RFC 6749 §5.2 (error codes); expected: " + expect}, o.ID)
		}
		if (o.Active == nil) != (n.Active == nil) || (o.Active != nil && *o.Active != *n.Active) {
			c.add(results.Difference{Class: results.ClassBreaking, Category: CatError, Subject: subject, Item: "active", Change: "introspection answer changed",
				Old: probeText(o), New: probeText(n), Reason: "resource servers trust introspection's active flag", Rule: "RFC 7662 §2.2; expected: " + expect}, o.ID)
		}
		if o.WWWAuthenticate && !n.WWWAuthenticate && nc == 4 {
			c.add(results.Difference{Class: results.ClassBreaking, Category: CatError, Subject: subject, Item: "WWW-Authenticate", Change: "challenge dropped",
				Old: "present", New: "absent", Reason: "clients read the challenge of a 401 to know what failed",
				Rule: "RFC 6749 §5.2 (401 with WWW-Authenticate for HTTP authentication); RFC 6750 §3"}, o.ID)
		}
		if o.Description != n.Description {
			c.add(results.Difference{Class: results.ClassInfo, Category: CatError, Subject: subject, Item: "error_description", Change: "description changed",
				Old: orNone(o.Description), New: orNone(n.Description), Reason: "a human-readable text for developers; clients must not parse it",
				Rule: "RFC 6749 §5.2 (error_description)"}, o.ID)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// requiredMetadata are the discovery members OIDC Discovery 1.0 §3 and RFC
// 8414 §2 require.
var requiredMetadata = []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"}

// endpointCapability maps an endpoint member to the capability using it.
var endpointCapability = map[string]string{
	"introspection_endpoint": "introspection", "revocation_endpoint": "revocation", "userinfo_endpoint": "userinfo",
}

// used lists the vocabulary values the old side's flows relied on, so that
// their removal is breaking rather than a warning.
func (c *comparer) used(field string) []string {
	var out []string
	add := func(vs ...string) {
		for _, v := range vs {
			if v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	for _, cl := range c.old.Target.Clients {
		switch field {
		case "grant_types_supported":
			add(cl.Grants...)
		case "token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported":
			add(cl.AuthMethod)
		case "scopes_supported":
			add(cl.Scopes...)
		case "response_types_supported":
			if slices.Contains(cl.Grants, "authorization_code") {
				add("code")
			}
		case "code_challenge_methods_supported":
			if slices.Contains(cl.Grants, "authorization_code") {
				add("S256")
			}
		}
	}
	if field == "id_token_signing_alg_values_supported" {
		for _, s := range c.old.Shapes {
			if s.Kind == baseline.KindIDToken && s.Header != nil {
				add(s.Header.Algs...)
			}
		}
	}
	return out
}

func (c *comparer) metadata() {
	o, n := c.old.Metadata, c.new.Metadata
	if o == nil || n == nil {
		return
	}
	const subject = "discovery metadata"
	fields := make([]string, 0, len(o.Fields))
	for f := range o.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		nk, ok := n.Fields[f]
		d := results.Difference{Category: CatMetadata, Subject: subject, Item: f, Old: o.Fields[f]}
		switch {
		case !ok && slices.Contains(requiredMetadata, f):
			d.Class, d.Change, d.New = results.ClassBreaking, "dropped", "absent"
			d.Reason, d.Rule = "a required member is gone; clients configuring themselves by discovery break", "OIDC Discovery 1.0 §3; RFC 8414 §2"
		case !ok && endpointCapability[f] != "" && slices.Contains(c.old.Target.Capabilities, endpointCapability[f]):
			d.Class, d.Change, d.New = results.ClassBreaking, "dropped", "absent"
			d.Reason, d.Rule = "the old side offered "+endpointCapability[f]+" at this endpoint; clients finding it by discovery lose it", "OIDC Discovery 1.0 §3; RFC 8414 §2"
		case !ok:
			d.Class, d.Change, d.New = results.ClassWarning, "dropped", "absent"
			d.Reason, d.Rule = "clients reading this member lose it", "OIDC Discovery 1.0 §3; RFC 8414 §2"
		case nk != o.Fields[f]:
			d.Class, d.Change, d.New = results.ClassBreaking, "type changed", nk
			d.Reason, d.Rule = "clients parse metadata members by their defined type", "OIDC Discovery 1.0 §3; RFC 8414 §2"
		default:
			c.metadataValues(f)
			continue
		}
		c.add(d, "metadata")
	}
	var added []string
	for f := range n.Fields {
		if _, ok := o.Fields[f]; !ok {
			added = append(added, f)
		}
	}
	sort.Strings(added)
	for _, f := range added {
		c.add(results.Difference{Class: results.ClassNonBreaking, Category: CatMetadata, Subject: subject, Item: f, Change: "added", Old: "absent", New: n.Fields[f],
			Reason: "clients ignore members they do not know", Rule: "RFC 8414 §2: additional metadata parameters MAY be used"}, "metadata")
	}
	flags := map[string]bool{}
	for f := range o.Flags {
		flags[f] = true
	}
	for f := range n.Flags {
		flags[f] = true
	}
	var names []string
	for f := range flags {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		ov, oo := o.Flags[f]
		nv, no := n.Flags[f]
		if oo && no && ov != nv {
			c.add(results.Difference{Class: results.ClassWarning, Category: CatMetadata, Subject: subject, Item: f, Change: fmt.Sprintf("%v → %v", ov, nv),
				Old: fmt.Sprint(ov), New: fmt.Sprint(nv), Reason: "clients that act on this flag behave differently", Rule: "OIDC Discovery 1.0 §3; RFC 8414 §2"}, "metadata")
		}
	}
}

// metadataValues compares a vocabulary member's values.
func (c *comparer) metadataValues(field string) {
	ov, nv := c.old.Metadata.Values[field], c.new.Metadata.Values[field]
	if ov == nil || nv == nil {
		return
	}
	used := c.used(field)
	for _, v := range ov {
		if slices.Contains(nv, v) {
			continue
		}
		d := results.Difference{Category: CatMetadata, Subject: "discovery metadata", Item: field + "/" + v, Change: "value dropped", Old: "lists " + v, New: "does not list " + v}
		switch {
		case field == "claims_supported":
			d.Class, d.Reason, d.Rule = results.ClassInfo, "the claim list is advisory; the tokens' claims are compared directly", "OIDC Discovery 1.0 §3 (claims_supported: RECOMMENDED)"
		case slices.Contains(used, v):
			d.Class, d.Reason, d.Rule = results.ClassBreaking, "the old side's clients use "+v, "OIDC Discovery 1.0 §3; RFC 8414 §2"
		default:
			d.Class, d.Reason, d.Rule = results.ClassWarning, "clients that chose "+v+" from the list lose it", "OIDC Discovery 1.0 §3; RFC 8414 §2"
		}
		c.add(d, "metadata")
	}
	for _, v := range nv {
		if !slices.Contains(ov, v) {
			c.add(results.Difference{Class: results.ClassNonBreaking, Category: CatMetadata, Subject: "discovery metadata", Item: field + "/" + v, Change: "value added",
				Old: "does not list " + v, New: "lists " + v, Reason: "a new choice clients may ignore", Rule: "OIDC Discovery 1.0 §3; RFC 8414 §2"}, "metadata")
		}
	}
}

func (c *comparer) keys() {
	o, n := c.old.Keys, c.new.Keys
	const subject = "signing keys (JWKS)"
	if n.ReverifyFailed > 0 && o.ReverifyFailed == 0 {
		c.add(results.Difference{Class: results.ClassBreaking, Category: CatKeys, Subject: subject, Item: "continuity", Change: "earlier tokens stop verifying",
			Old: fmt.Sprintf("all %d tokens still verified", o.Reverified), New: fmt.Sprintf("%d of %d tokens no longer verify", n.ReverifyFailed, n.Reverified),
			Reason: "a signing key left the JWKS while tokens it signed were still valid: clients holding them fail verification",
			Rule:   "OIDC Core §10.1.1: a rotated-out key stays published until its tokens expire"}, "jwks")
	}
	kids := func(ks []baseline.JWK) []string {
		var out []string
		for _, k := range ks {
			out = append(out, k.Kid)
		}
		sort.Strings(out)
		return out
	}
	if ok, nk := kids(o.Keys), kids(n.Keys); !slices.Equal(ok, nk) && len(ok) > 0 && len(nk) > 0 {
		c.add(results.Difference{Class: results.ClassInfo, Category: CatKeys, Subject: subject, Item: "kid", Change: "other keys",
			Old: plural(len(ok), "key"), New: plural(len(nk), "key"),
			Reason: "kids are opaque; verifiers pick the key named by the token's kid from the JWKS", Rule: "RFC 7515 §4.1.4; RFC 7517 §4.5"}, "jwks")
	}
	ktys := func(ks []baseline.JWK) []string {
		var out []string
		for _, k := range ks {
			t := k.Kty
			if k.Crv != "" {
				t += "/" + k.Crv
			}
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
		sort.Strings(out)
		return out
	}
	if ot, nt := ktys(o.Keys), ktys(n.Keys); !slices.Equal(ot, nt) && len(ot) > 0 && len(nt) > 0 {
		c.add(results.Difference{Class: results.ClassInfo, Category: CatKeys, Subject: subject, Item: "kty", Change: "other key types",
			Old: strings.Join(ot, ", "), New: strings.Join(nt, ", "),
			Reason: "the algorithms the tokens use are compared per token kind", Rule: "RFC 7517 §4.1"}, "jwks")
	}
}

// continuity compares the keyed hashes of each test user's sub: the same
// login must keep its sub across a migration (seed 002: sub survives
// re-links).
func (c *comparer) continuity() {
	const subject = "sub continuity"
	cannot := func(reason string) {
		c.cont = results.Continuity{Checked: false, Reason: reason}
		c.add(results.Difference{Class: results.ClassWarning, Category: CatContinuity, Subject: subject, Item: "sub", Change: "not checked",
			Reason: "sub continuity cannot be checked: " + reason, Rule: "seed 002: sub stays the same between refreshes and re-links"}, "users")
	}
	switch {
	case len(c.old.Users) == 0 || len(c.new.Users) == 0:
		cannot("a side has no test users that logged in (declare users and authorization_code in both target files)")
		return
	case c.old.SubKey.ID != c.new.SubKey.ID:
		cannot(fmt.Sprintf("the sides were hashed with different keys (old %s key %s, new %s key %s); capture both baselines with the same %s, or diff two target files (one key for both)",
			c.old.SubKey.Source, c.old.SubKey.ID, c.new.SubKey.Source, c.new.SubKey.ID, baseline.SubKeyEnv))
		return
	}
	newU := map[string]baseline.User{}
	for _, u := range c.new.Users {
		newU[u.LabelHash] = u
	}
	var cont results.Continuity
	var unknown []string
	for _, o := range c.old.Users {
		n, ok := newU[o.LabelHash]
		if !ok {
			unknown = append(unknown, o.Ref)
			continue
		}
		if o.SubHash == "" || n.SubHash == "" {
			why := o.Error
			if why == "" {
				why = n.Error
			}
			c.add(results.Difference{Class: results.ClassWarning, Category: CatContinuity, Subject: subject, Item: o.Ref, Change: "not checked",
				Reason: "no sub to compare for " + o.Ref + ": " + why, Rule: "seed 002"}, "users")
			continue
		}
		cont.Users++
		if o.SubHash != n.SubHash {
			cont.Changed++
			c.add(results.Difference{Class: results.ClassBreaking, Category: CatContinuity, Subject: subject, Item: o.Ref, Change: "sub changed",
				Old: "keyed hash " + short(o.SubHash), New: "keyed hash " + short(n.SubHash),
				Reason: "the same login has another sub on the new side: every link a client stored for the user is lost",
				Rule:   "seed 002: sub is unique per login and stays the same between refreshes and re-links; OIDC Core §2 (never reassigned)"}, "users")
			continue
		}
		cont.Same++
		if o.AccountsHash != "" && n.AccountsHash != "" && o.AccountsHash != n.AccountsHash {
			c.add(results.Difference{Class: results.ClassBreaking, Category: CatContinuity, Subject: subject, Item: o.Ref + "/accounts", Change: "accounts changed",
				Old: "keyed hash " + short(o.AccountsHash), New: "keyed hash " + short(n.AccountsHash),
				Reason: "the same login has other account IDs on the new side", Rule: "seed 002: account IDs are persistent for a given sub"}, "users")
		}
	}
	cont.Checked = cont.Users > 0
	switch {
	case cont.Users == 0:
		cont.Reason = "no test user logged in on both sides"
		c.cont = cont
		cannot(cont.Reason)
		return
	case cont.Changed == 0:
		cont.Reason = fmt.Sprintf("the same %s kept their sub", plural(cont.Users, "user"))
	default:
		cont.Reason = fmt.Sprintf("%d of %s changed their sub", cont.Changed, plural(cont.Users, "user"))
	}
	if len(unknown) > 0 {
		cont.Reason += fmt.Sprintf("; %s of the old side (%s) not found on the new side", plural(len(unknown), "user"), strings.Join(unknown, ", "))
	}
	c.cont = cont
}

// short shows the start of a keyed hash: enough to tell two apart.
func short(h string) string {
	if r := []rune(h); len(r) > 8 {
		return string(r[:8]) + "…"
	}
	return h
}
