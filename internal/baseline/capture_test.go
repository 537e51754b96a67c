package baseline_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/baseline/baselinetest"
	"github.com/idpconform/idpconform/internal/oauth"
)

func shapeOf(t *testing.T, b *baseline.Baseline, kind, flow, client string) baseline.Shape {
	t.Helper()
	s, ok := b.Shape(kind + "|" + flow + "|" + client)
	if !ok {
		var have []string
		for _, s := range b.Shapes {
			have = append(have, s.Label())
		}
		t.Fatalf("no shape %s from %s (%s); have %v", kind, flow, client, have)
	}
	return s
}

func violations(s baseline.Shape) []baseline.Finding {
	var out []baseline.Finding
	for _, f := range s.Findings {
		if f.Level == "violation" {
			out = append(out, f)
		}
	}
	return out
}

func TestCaptureAkoya(t *testing.T) {
	b, _, _ := baselinetest.Capture(t, baselinetest.Target(t, "mock-akoya"), baselinetest.Hasher(t), 3)
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range b.Flows {
		if f.Status != baseline.FlowOK {
			t.Errorf("flow %s: %s %s", f.Key(), f.Status, f.Reason)
		}
	}
	id := shapeOf(t, b, baseline.KindIDToken, baseline.FlowAuthorizationCode, "code")
	if id.Contract != "akoya-id-token" || id.Samples != 4 || id.Header == nil || id.Header.Algs[0] != "RS256" {
		t.Errorf("id token shape: %+v", id)
	}
	if v := violations(id); len(v) != 0 {
		t.Errorf("the akoya mock violates its contract: %+v", v)
	}
	if c := id.Claims["aud"]; len(c.Types) != 1 || c.Types[0] != "string_array" || c.Present != 4 {
		t.Errorf("aud: %+v", c)
	}
	if _, ok := id.Claims["email"]; ok {
		t.Error("the akoya profile sends no email")
	}
	if id.LifetimeS == nil || id.LifetimeS.Min != 86400 || id.DeclaredTTLS != 86400 {
		t.Errorf("lifetime: %+v declared %v", id.LifetimeS, id.DeclaredTTLS)
	}
	if len(id.Order) != len(id.Claims) || id.Order[0] != "accounts" {
		t.Errorf("order: %v", id.Order)
	}
	shapeOf(t, b, baseline.KindIDToken, baseline.FlowRefreshToken, "code")
	at := shapeOf(t, b, baseline.KindAccessToken, baseline.FlowClientCredentials, "cc")
	if at.ExpiresInS == nil || at.ExpiresInS.Min != 3600 || at.Header.Typs[0] != "at+jwt" {
		t.Errorf("access token: %+v", at)
	}
	rt := shapeOf(t, b, baseline.KindRefreshToken, baseline.FlowAuthorizationCode, "code")
	if rt.Format != baseline.FormatOpaque || rt.Opaque == nil || rt.Opaque.Length.Min < 16 || rt.Opaque.EntropyBits < 96 {
		t.Errorf("refresh token: %+v", rt.Opaque)
	}
	if len(b.Users) != 2 || b.Users[0].SubHash == "" || b.Users[0].SubHash == b.Users[1].SubHash || b.Users[0].AccountsHash == "" {
		t.Errorf("users: %+v", b.Users)
	}
	probes := map[string]baseline.Probe{}
	for _, p := range b.Probes {
		probes[p.ID] = p
	}
	want := map[string]string{
		"token.wrong_secret": "401 invalid_client", "token.invalid_code": "400 invalid_grant", "token.invalid_refresh_token": "400 invalid_request",
		"token.unsupported_grant_type": "400 unsupported_grant_type", "token.reused_refresh_token": "400 invalid_request",
		"token.revoked_refresh_token": "400 invalid_request", "introspection.unauthenticated": "401 invalid_client",
		"userinfo.invalid_token": "401 invalid_token", "revocation.unknown_token": "200 ", "introspection.unknown_token": "200 ",
		"introspection.revoked_access_token": "200 ",
	}
	for id, w := range want {
		p := probes[id]
		if got := strings.TrimSpace(strings.Join([]string{itoa(p.Status), p.Error}, " ")); got != strings.TrimSpace(w) {
			t.Errorf("probe %s: got %q, want %q (%+v)", id, got, w, p)
		}
	}
	if p := probes["introspection.unknown_token"]; p.Active == nil || *p.Active {
		t.Errorf("unknown token introspection: %+v", p)
	}
	if b.Metadata == nil || b.Metadata.Fields["token_endpoint"] != "string" || strings.Join(b.Metadata.Values["grant_types_supported"], ",") != "authorization_code,client_credentials,refresh_token" {
		t.Errorf("metadata: %+v", b.Metadata)
	}
	if len(b.Keys.Keys) != 1 || b.Keys.Keys[0].Kty != "RSA" || b.Keys.Reverified == 0 || b.Keys.ReverifyFailed != 0 {
		t.Errorf("keys: %+v", b.Keys)
	}
	ops := map[string]baseline.Latency{}
	for _, l := range b.Latency {
		ops[l.Operation] = l
	}
	for _, op := range []string{baseline.OpDiscovery, baseline.OpJWKS, baseline.OpTokenCC, baseline.OpTokenCode, baseline.OpTokenRef, baseline.OpLogin, baseline.OpIntrospect, baseline.OpRevoke, baseline.OpUserinfo} {
		if ops[op].Samples == 0 {
			t.Errorf("no latency for %s", op)
		}
	}
	if ops[baseline.OpTokenCC].Samples != 4 {
		t.Errorf("client credentials samples: one flow and 3 extra, got %d", ops[baseline.OpTokenCC].Samples)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// Each breaking drift leaves its mark in the baseline of the drifted IdP
// alone; the undrifted twin is TestCaptureAkoya.
func TestCaptureRecordsDrift(t *testing.T) {
	cases := []struct {
		drift string
		check func(t *testing.T, b *baseline.Baseline)
	}{
		{"drop-claim=connectorId", func(t *testing.T, b *baseline.Baseline) {
			id := shapeOf(t, b, baseline.KindIDToken, baseline.FlowAuthorizationCode, "code")
			if _, ok := id.Claims["connectorId"]; ok || !hasFinding(id, "connectorId", "presence") {
				t.Errorf("dropped claim: %+v", id.Findings)
			}
		}},
		{"claim-type=exp", func(t *testing.T, b *baseline.Baseline) {
			id := shapeOf(t, b, baseline.KindIDToken, baseline.FlowAuthorizationCode, "code")
			if id.Claims["exp"].Types[0] != "string" || !hasFinding(id, "exp", "type") || !hasFinding(id, "exp", "verify") {
				t.Errorf("claim type: %+v %+v", id.Claims["exp"], id.Findings)
			}
		}},
		{"unstable-sub", func(t *testing.T, b *baseline.Baseline) {
			id := shapeOf(t, b, baseline.KindIDToken, baseline.FlowAuthorizationCode, "code")
			if !hasFinding(id, "sub", "relation:stable(sub)") {
				t.Errorf("unstable sub: %+v", id.Findings)
			}
		}},
		{"unstable-accounts", func(t *testing.T, b *baseline.Baseline) {
			id := shapeOf(t, b, baseline.KindIDToken, baseline.FlowAuthorizationCode, "code")
			if !hasFinding(id, "accounts", "relation:stable(accounts per sub)") || hasFinding(id, "sub", "relation:stable(sub)") {
				t.Errorf("unstable accounts: %+v", id.Findings)
			}
		}},
		{"rotate-key-drop-old=3", func(t *testing.T, b *baseline.Baseline) {
			if b.Keys.ReverifyFailed == 0 {
				t.Errorf("dropped keys: %+v", b.Keys)
			}
		}},
		{"rotate-key=3", func(t *testing.T, b *baseline.Baseline) {
			if b.Keys.ReverifyFailed != 0 || len(b.Keys.Keys) < 2 {
				t.Errorf("kept keys: %+v", b.Keys)
			}
		}},
		{"alg=ES256", func(t *testing.T, b *baseline.Baseline) {
			if id := shapeOf(t, b, baseline.KindIDToken, baseline.FlowAuthorizationCode, "code"); strings.Join(id.Header.Algs, ",") != "ES256" {
				t.Errorf("alg: %+v", id.Header)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.drift, func(t *testing.T) {
			b, _, _ := baselinetest.Capture(t, baselinetest.Target(t, "mock-akoya", tc.drift), baselinetest.Hasher(t), -1)
			tc.check(t, b)
		})
	}
}

func hasFinding(s baseline.Shape, claim, rule string) bool {
	for _, f := range s.Findings {
		if f.Claim == claim && f.Rule == rule {
			return true
		}
	}
	return false
}

func TestCaptureAkkess(t *testing.T) {
	b, _, _ := baselinetest.Capture(t, baselinetest.Target(t, "mock-akkess"), baselinetest.Hasher(t), -1)
	t1 := shapeOf(t, b, baseline.KindAkkessT1, baseline.FlowAkkess, "code")
	if t1.Contract != "akkess-t1" || len(violations(t1)) != 0 || t1.LifetimeS == nil || t1.LifetimeS.Min != 300 || strings.Join(t1.Header.Ctys, ",") != "t1" {
		t.Errorf("akkess: %+v", t1)
	}
	op := shapeOf(t, b, baseline.KindAccessToken, baseline.FlowClientCredentials, "cc-post")
	if op.Format != baseline.FormatOpaque || op.Opaque == nil {
		t.Errorf("opaque access token: %+v", op)
	}
	// The twin: a t1 token whose tid is gone breaks the contract.
	b, _, _ = baselinetest.Capture(t, baselinetest.Target(t, "mock-akkess", "drop-claim=tid"), baselinetest.Hasher(t), -1)
	if t1 := shapeOf(t, b, baseline.KindAkkessT1, baseline.FlowAkkess, "code"); !hasFinding(t1, "tid", "presence") {
		t.Errorf("akkess without tid: %+v", t1.Findings)
	}
}

// Keyed hashes compare under one key and under no other.
func TestSubHashes(t *testing.T) {
	key := baseline.ParseKey(strings.Repeat("ab", 32))
	h1, err := baseline.NewHasher(key, baseline.KeyProvided)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := baseline.NewHasher(key, baseline.KeyProvided)
	legacy, _, _ := baselinetest.Capture(t, baselinetest.Target(t, "mock-akoya-legacy"), h1, -1)
	akoya, _, _ := baselinetest.Capture(t, baselinetest.Target(t, "mock-akoya"), h2, -1)
	other, _, _ := baselinetest.Capture(t, baselinetest.Target(t, "mock-akoya"), baselinetest.Hasher(t), -1)
	if legacy.SubKey != akoya.SubKey || legacy.SubKey.Source != baseline.KeyProvided || other.SubKey.ID == akoya.SubKey.ID {
		t.Errorf("key ids: %+v %+v %+v", legacy.SubKey, akoya.SubKey, other.SubKey)
	}
	if legacy.Users[0].SubHash == "" || legacy.Users[0].SubHash != akoya.Users[0].SubHash || legacy.Users[0].LabelHash != akoya.Users[0].LabelHash {
		t.Errorf("the same login has another hash under the same key: %+v %+v", legacy.Users[0], akoya.Users[0])
	}
	if other.Users[0].SubHash == akoya.Users[0].SubHash {
		t.Error("another key gives the same hash")
	}
	if _, err := baseline.NewHasher([]byte("short"), baseline.KeyProvided); err == nil {
		t.Error("a short key was accepted")
	}
}

// No baseline holds a registered secret or any claim value of the tokens,
// userinfo and introspection answers the capture saw.
func TestBaselineHoldsNoSecretOrClaimValue(t *testing.T) {
	for _, name := range []string{"mock-akoya", "mock-akoya-legacy", "mock-akkess", "mock-nextidentity", "mock-generic"} {
		t.Run(name, func(t *testing.T) {
			b, reg, rec := baselinetest.Capture(t, baselinetest.Target(t, name), baselinetest.Hasher(t), 2)
			var buf bytes.Buffer
			if err := b.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			secrets := reg.Values()
			if len(secrets) < 10 {
				t.Fatalf("only %d secrets registered: the scan would prove little", len(secrets))
			}
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("baseline holds a registered secret (%d bytes)", len(s))
				}
			}
			values, public := claimValues(rec)
			if len(values) < 20 {
				t.Fatalf("only %d claim values found: the scan would prove little", len(values))
			}
			for v := range values {
				if public[v] {
					continue
				}
				if strings.Contains(out, v) {
					t.Errorf("baseline holds the claim value %q", v)
				}
			}
			// The twin: a value planted in free text is found.
			var planted string
			for v := range values {
				if !public[v] && len(v) > 8 {
					planted = v
					break
				}
			}
			cp := *b
			cp.Target.Name = "target " + planted
			buf.Reset()
			_ = cp.Encode(&buf)
			if !strings.Contains(buf.String(), planted) {
				t.Error("the planted value is not found: the scan proves nothing")
			}
		})
	}
}

// claimValues collects, from every recorded response, the values of the
// claims of every JWT (ID, access and Akkess tokens) and of userinfo and
// introspection answers: strings of four characters or more, numbers of six
// digits or more. public holds the protocol words the discovery document
// publishes (scope and algorithm names), which a baseline may name.
func claimValues(rec *oauth.Recorder) (values, public map[string]bool) {
	values, public = map[string]bool{}, map[string]bool{}
	var walk func(v any, into map[string]bool)
	walk = func(v any, into map[string]bool) {
		switch x := v.(type) {
		case string:
			if len(x) >= 4 {
				into[x] = true
			}
		case json.Number:
			if len(x.String()) >= 6 {
				into[x.String()] = true
			}
		case []any:
			for _, e := range x {
				walk(e, into)
			}
		case map[string]any:
			for _, e := range x {
				walk(e, into)
			}
		}
	}
	jwt := func(raw string) {
		if m := jwtClaims(raw); m != nil {
			walk(m, values)
		}
	}
	for _, ex := range rec.Exchanges() {
		m, ok := object([]byte(ex.ResponseBody))
		switch {
		case ex.Name == "discovery" && ok:
			for k, v := range m {
				if strings.HasSuffix(k, "_supported") {
					walk(v, public)
				}
			}
		case ok:
			for _, k := range []string{"access_token", "id_token"} {
				if s, _ := m[k].(string); s != "" {
					jwt(s)
				}
			}
			if ex.Status == 200 && (ex.Name == "userinfo" || (ex.Name == "introspection" && m["active"] == true)) {
				// token_type is the protocol's word for the token
				// (RFC 6749 §7.1: "Bearer"), not a value of the user.
				delete(m, "token_type")
				walk(m, values)
			}
		case ex.Status == 200:
			jwt(strings.TrimSpace(ex.ResponseBody)) // the Akkess token
		}
	}
	return values, public
}

func object(data []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

// jwtClaims decodes a compact JWS's payload, or returns nil.
func jwtClaims(raw string) map[string]any {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	m, _ := object(p)
	return m
}
