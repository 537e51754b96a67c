package mockidp_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/mockidp"
)

type driftProbe struct {
	value   string
	profile string
	seen    func(h *harness) bool
}

var driftProbes = map[mockidp.DriftName]driftProbe{
	mockidp.DriftAddClaim: {value: "x_new", seen: func(h *harness) bool {
		return h.mustVerify(ccToken(h)).claims["x_new"] == "added"
	}},
	mockidp.DriftReorderClaims: {seen: func(h *harness) bool {
		// The generic access token starts with iss (RFC 9068 §2.2 order).
		return h.mustVerify(ccToken(h)).order[0] != "iss"
	}},
	mockidp.DriftOpaqueFormat: {value: "hex", seen: func(h *harness) bool {
		return regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(ccResp(h, ccPost).str("access_token"))
	}},
	mockidp.DriftAudFlip: {seen: func(h *harness) bool {
		_, isArray := h.mustVerify(ccToken(h)).claims["aud"].([]any)
		return isArray
	}},
	mockidp.DriftRotateKey: {value: "1", seen: func(h *harness) bool {
		first, second := ccToken(h), ccToken(h)
		_, err := h.verify(first)
		return unverified(h.t, first).header["kid"] != unverified(h.t, second).header["kid"] && err == nil
	}},
	mockidp.DriftRotateKeyDropOld: {value: "1", seen: func(h *harness) bool {
		first := ccToken(h)
		ccToken(h)
		_, err := h.verify(first)
		return err != nil
	}},
	mockidp.DriftDropClaim: {value: "sub", seen: func(h *harness) bool {
		_, ok := h.mustVerify(ccToken(h)).claims["sub"]
		return !ok
	}},
	mockidp.DriftClaimType: {value: "exp", seen: func(h *harness) bool {
		_, isString := h.mustVerify(ccToken(h)).claims["exp"].(string)
		return isString
	}},
	mockidp.DriftUnstableSub: {seen: func(h *harness) bool {
		tk := h.codeFlow(code, nil)
		again := tokensOf(h.refresh(code, tk.refresh))
		return h.mustVerify(tk.id).claims["sub"] != h.mustVerify(again.id).claims["sub"]
	}},
	mockidp.DriftUnstableAccounts: {profile: mockidp.ProfileAkoya, seen: func(h *harness) bool {
		a := h.mustVerify(h.codeFlow(code, nil).id).claims["accounts"].([]any)
		b := h.mustVerify(h.codeFlow(code, nil).id).claims["accounts"].([]any)
		return a[0] != b[0]
	}},
	mockidp.DriftAlg: {value: "ES256", seen: func(h *harness) bool {
		return h.mustVerify(ccToken(h)).header["alg"] == "ES256"
	}},
}

func TestEveryDrift(t *testing.T) {
	for _, info := range mockidp.Drifts() {
		probe, ok := driftProbes[info.Name]
		if !ok {
			t.Errorf("drift %s has no probe in this test", info.Name)
			continue
		}
		t.Run(string(info.Name), func(t *testing.T) {
			t.Parallel()
			spec := string(info.Name)
			if probe.value != "" {
				spec += "=" + probe.value
			}
			d, err := mockidp.ParseDrift(spec)
			if err != nil {
				t.Fatal(err)
			}
			on := start(t, mockidp.Options{Profile: probe.profile, Drift: []mockidp.Drift{d}})
			if !probe.seen(on) {
				t.Errorf("%s on: change not seen", spec)
			}
			off := start(t, mockidp.Options{Profile: probe.profile})
			if probe.seen(off) {
				t.Errorf("%s off: change seen anyway, the probe proves nothing", spec)
			}
			if err := off.srv.SetDrift(d); err != nil {
				t.Fatal(err)
			}
			if !probe.seen(off) {
				t.Errorf("%s set at run time: not seen", spec)
			}
		})
	}
}

// Drift reaches every token kind and userinfo: a dropped claim is gone from
// ID tokens, access tokens, Akkess tokens and userinfo alike.
func TestDropClaimEverywhere(t *testing.T) {
	d, _ := mockidp.ParseDrift("drop-claim=iat")
	h := start(t, mockidp.Options{Profile: mockidp.ProfileAkkess, Drift: []mockidp.Drift{d}})
	tk := h.codeFlow(code, nil)
	ak := h.akkess("Bearer "+tk.access, "application/jwt", "application/json", akkessBody)
	for name, tok := range map[string]string{"id": tk.id, "access": tk.access, "akkess": string(ak.body)} {
		if _, ok := h.mustVerify(tok).claims["iat"]; ok {
			t.Errorf("%s token keeps iat", name)
		}
	}
	d2, _ := mockidp.ParseDrift("drop-claim=email")
	if err := h.srv.SetDrift(d, d2); err != nil {
		t.Fatal(err)
	}
	if ui := h.get(mockidp.PathUserinfo, bearer(tk.access)); ui.status != 200 || ui.json["email"] != nil || ui.json["sub"] == nil {
		t.Errorf("userinfo under drop-claim=email: %s", ui.body)
	}
	if got := h.srv.ActiveDrift(); len(got) != 2 {
		t.Errorf("two drop-claim drifts kept as %v", got)
	}
}

func TestDriftCatalogue(t *testing.T) {
	var breaking, tolerated []string
	for _, d := range mockidp.Drifts() {
		if d.Description == "" || d.Source == "" {
			t.Errorf("%s: incomplete %+v", d.Name, d)
		}
		if _, err := mockidp.ParseDrift(string(d.Name)); err != nil {
			t.Errorf("%s with its default: %v", d.Name, err)
		}
		if d.Breaking {
			breaking = append(breaking, string(d.Name))
		} else {
			tolerated = append(tolerated, string(d.Name))
		}
	}
	// Seed 000's non-breaking changes are classified so.
	for _, n := range []string{"add-claim", "reorder-claims", "opaque-format"} {
		if !slices.Contains(tolerated, n) {
			t.Errorf("%s classified breaking", n)
		}
	}
	for _, n := range []string{"drop-claim", "claim-type", "unstable-sub"} {
		if !slices.Contains(breaking, n) {
			t.Errorf("%s classified non-breaking", n)
		}
	}
	bad := map[string]string{
		"no-such-drift":         "valid drifts: add-claim",
		"drop-claim=a b":        "claim name",
		"reorder-claims=random": "reverse or shuffle",
		"opaque-format=base32":  "hex, uuid or long",
		"rotate-key=0":          "between 1",
		"alg=HS256":             "expected one of",
		"unstable-sub=yes":      "takes no value",
	}
	for s, want := range bad {
		if _, err := mockidp.ParseDrift(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want mention of %q", s, err, want)
		}
	}
}
