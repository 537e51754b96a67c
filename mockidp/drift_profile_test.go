package mockidp_test

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/mockidp"
)

// issuedClaimNames runs every flow of the profile against h (code flow
// with every scope, refresh, userinfo, client credentials, and the Akkess
// exchange for akkess) and returns the claim names that came back.
func issuedClaimNames(t *testing.T, h *harness, profile string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	jwtClaims := func(tok string) {
		for k := range h.mustVerify(tok).claims {
			seen[k] = true
		}
	}
	tk := h.codeFlow(code, url.Values{"scope": {"openid profile email offline_access ad:user_custom"}})
	jwtClaims(tk.id)
	jwtClaims(tk.access)
	rr := h.refresh(code, tk.refresh)
	if rr.status != 200 {
		t.Fatalf("refresh: HTTP %d %s", rr.status, rr.body)
	}
	jwtClaims(rr.str("id_token"))
	jwtClaims(rr.str("access_token"))
	ui := h.get(mockidp.PathUserinfo, bearer(tk.access))
	if ui.status != 200 {
		t.Fatalf("userinfo: HTTP %d %s", ui.status, ui.body)
	}
	for k := range ui.json {
		seen[k] = true
	}
	jwtClaims(h.cc(ccBasic, "").str("access_token"))
	if profile == mockidp.ProfileAkkess {
		r := h.akkess("Bearer "+tk.access, "application/jwt", "application/json", akkessBody)
		if r.status != 200 {
			t.Fatalf("akkess: HTTP %d %s", r.status, r.body)
		}
		jwtClaims(string(r.body))
	}
	return seen
}

// unlisted returns the names in seen that listed lacks, sorted.
func unlisted(seen map[string]bool, listed []string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(seen)) {
		if !slices.Contains(listed, k) {
			out = append(out, k)
		}
	}
	return out
}

// Profile.Claims lists every claim a real run of the profile issues, so a
// drift naming any of them is accepted; the twin adds a claim by drift and
// sees it reported as unlisted.
func TestProfileClaimsCoverIssued(t *testing.T) {
	for _, name := range mockidp.Profiles() {
		t.Run(name, func(t *testing.T) {
			p, err := mockidp.LookupProfile(name)
			if err != nil {
				t.Fatal(err)
			}
			listed := p.Claims()
			seen := issuedClaimNames(t, start(t, mockidp.Options{Profile: name}), name)
			if u := unlisted(seen, listed); len(u) > 0 {
				t.Errorf("profile %s issued %v, which Claims() %v lacks", name, u, listed)
			}
			added, err := mockidp.ParseDrift("add-claim=zz_added")
			if err != nil {
				t.Fatal(err)
			}
			seen = issuedClaimNames(t, start(t, mockidp.Options{Profile: name, Drift: []mockidp.Drift{added}}), name)
			if u := unlisted(seen, listed); !slices.Equal(u, []string{"zz_added"}) {
				t.Errorf("with add-claim=zz_added: unlisted %v, want [zz_added]", u)
			}
		})
	}
}

// A claim drift naming a claim the profile never issues is refused when the
// mock is built and when drift is switched at run time, naming the
// profile's claims; the same drift on a profile that issues the claim is
// accepted.
func TestDriftClaimMustBeIssued(t *testing.T) {
	for _, c := range []struct {
		profile, drift string
		ok             bool
	}{
		{mockidp.ProfileGeneric, "claim-type=nonexist", false},
		{mockidp.ProfileGeneric, "drop-claim=recipientId", false},
		{mockidp.ProfileAkoya, "drop-claim=recipientId", true},
		{mockidp.ProfileAkoya, "claim-type=products", true},
		{mockidp.ProfileAkkess, "drop-claim=tid", true},
		{mockidp.ProfileNextIdentity, "drop-claim=tid", false},
		{mockidp.ProfileGeneric, "drop-claim", true}, // the default, sub
		{mockidp.ProfileGeneric, "add-claim=nonexist", true},
	} {
		d, err := mockidp.ParseDrift(c.drift)
		if err != nil {
			t.Fatalf("%s: %v", c.drift, err)
		}
		_, err = mockidp.New(mockidp.Options{Issuer: "http://127.0.0.1:1", Profile: c.profile, SigningAlg: "ES256", Drift: []mockidp.Drift{d}})
		if c.ok {
			if err != nil {
				t.Errorf("%s on %s: %v, want accepted", c.drift, c.profile, err)
			}
			continue
		}
		p, _ := mockidp.LookupProfile(c.profile)
		if err == nil || !strings.Contains(err.Error(), "never issues a claim") || !strings.Contains(err.Error(), strings.Join(p.Claims(), ", ")) {
			t.Errorf("%s on %s: %v, want a refusal listing the profile's claims", c.drift, c.profile, err)
		}
	}
	h := start(t, mockidp.Options{Profile: mockidp.ProfileGeneric, SigningAlg: "ES256"})
	bad, _ := mockidp.ParseDrift("drop-claim=connectorId")
	if err := h.srv.SetDrift(bad); err == nil || !strings.Contains(err.Error(), "connectorId") {
		t.Errorf("SetDrift(drop-claim=connectorId) on generic: %v, want refused", err)
	}
	good, _ := mockidp.ParseDrift("drop-claim=email")
	if err := h.srv.SetDrift(good); err != nil {
		t.Errorf("SetDrift(drop-claim=email) on generic: %v", err)
	}
}

// "name=" with nothing after it is an error, not the default; the name
// alone still means the default, and Effective says which it is.
func TestParseDriftEmptyValue(t *testing.T) {
	for spec, want := range map[string]string{
		"drop-claim=":      `drift drop-claim: empty value after "="; expected drop-claim=NAME, or drop-claim alone for the default sub`,
		"rotate-key=":      "expected rotate-key=EVERY",
		"aud-flip=":        "takes no value",
		"reorder-claims= ": "expected reorder-claims=reverse|shuffle",
	} {
		if _, err := mockidp.ParseDrift(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDrift(%q): %v, want an error containing %q", spec, err, want)
		}
	}
	for spec, eff := range map[string]string{
		"drop-claim":             "drop-claim=sub",
		"drop-claim=email":       "drop-claim=email",
		"rotate-key":             "rotate-key=5",
		"aud-flip":               "aud-flip",
		"reorder-claims=shuffle": "reorder-claims=shuffle",
	} {
		d, err := mockidp.ParseDrift(spec)
		if err != nil {
			t.Errorf("ParseDrift(%q): %v", spec, err)
			continue
		}
		if d.Effective() != eff {
			t.Errorf("ParseDrift(%q).Effective() = %q, want %q", spec, d.Effective(), eff)
		}
	}
}
