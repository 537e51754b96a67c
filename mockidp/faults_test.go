package mockidp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/mockidp"
)

// faultProbe shows one fault: it reports whether the misbehaviour is seen.
type faultProbe struct {
	value   string // the fault's value; "" for its default
	profile string
	seen    func(h *harness) bool
}

func ccResp(h *harness, cr creds) *resp {
	return h.post(mockidp.PathToken, cr, url.Values{"grant_type": {"client_credentials"}})
}

func ccToken(h *harness) string { return ccResp(h, ccBasic).str("access_token") }

func wrongSecret(h *harness) *resp {
	return h.post(mockidp.PathToken, creds{mockidp.ClientCC, "wrong", "basic"}, url.Values{"grant_type": {"client_credentials"}})
}

// timesOut reports whether a token request takes longer than three
// seconds; the faults it probes delay by twenty.
func timesOut(h *harness) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL+mockidp.PathToken, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(mockidp.ClientCC, mockidp.ClientCCSecret)
	res, err := h.c.Do(req)
	if err != nil {
		return errors.Is(err, context.DeadlineExceeded)
	}
	defer res.Body.Close()
	_, err = io.ReadAll(res.Body)
	return errors.Is(err, context.DeadlineExceeded)
}

// exchange runs the code flow up to the token request and lets edit change
// it; it returns the token response.
func exchange(h *harness, cr creds, authz url.Values, edit func(url.Values) creds) *resp {
	h.t.Helper()
	verifier, challenge := pkce()
	params := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range authz {
		params[k] = v
	}
	q := h.browser().login(h.authorizeURL(cr.id, params), mockidp.UserAlice, mockidp.UserAlicePassword)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {mockidp.DefaultRedirectURI}, "code_verifier": {verifier}}
	if edit != nil {
		cr = edit(form)
	}
	return h.post(mockidp.PathToken, cr, form)
}

var faultProbes = map[mockidp.FaultName]faultProbe{
	mockidp.FaultLatency:  {value: "20s@token", seen: timesOut},
	mockidp.FaultSlowBody: {value: "20s@token", seen: timesOut},
	mockidp.FaultServerError: {value: "1@token", seen: func(h *harness) bool {
		r := ccResp(h, ccBasic)
		return r.status == http.StatusServiceUnavailable && h.get(mockidp.PathDiscovery, nil).status == 200
	}},
	mockidp.FaultRateLimit: {value: "1", seen: func(h *harness) bool {
		r := ccResp(h, ccBasic)
		return r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") != ""
	}},
	mockidp.FaultMalformedJSON: {seen: func(h *harness) bool {
		r := ccResp(h, ccBasic)
		return r.status == 200 && r.json == nil
	}},
	mockidp.FaultTruncatedBody: {seen: func(h *harness) bool {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+mockidp.PathToken, strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(mockidp.ClientCC, mockidp.ClientCCSecret)
		res, err := h.c.Do(req)
		if err != nil {
			return true
		}
		defer res.Body.Close()
		_, err = io.ReadAll(res.Body)
		return errors.Is(err, io.ErrUnexpectedEOF)
	}},
	// Go's client turns a lone Pragma: no-cache into Cache-Control:
	// no-cache (net/http fixPragmaCacheControl), so look for no-store.
	mockidp.FaultNoCacheControl: {seen: func(h *harness) bool {
		return !strings.Contains(ccResp(h, ccBasic).header.Get("Cache-Control"), "no-store")
	}},
	mockidp.FaultNoPragma:       {seen: func(h *harness) bool { return ccResp(h, ccBasic).header.Get("Pragma") == "" }},
	mockidp.FaultCCRefreshToken: {seen: func(h *harness) bool { return ccResp(h, ccBasic).str("refresh_token") != "" }},
	mockidp.FaultExpiresInString: {seen: func(h *harness) bool {
		_, isString := ccResp(h, ccBasic).json["expires_in"].(string)
		return isString
	}},
	mockidp.FaultNoExpiresIn: {seen: func(h *harness) bool {
		_, ok := ccResp(h, ccBasic).json["expires_in"]
		return !ok
	}},
	mockidp.FaultTokenType:    {seen: func(h *harness) bool { return ccResp(h, ccBasic).str("token_type") != "Bearer" }},
	mockidp.FaultScopeWidened: {seen: func(h *harness) bool { return strings.Contains(h.cc(ccBasic, "api:read").str("scope"), "admin") }},
	mockidp.FaultAcceptWrongSecret: {seen: func(h *harness) bool {
		return wrongSecret(h).status == 200
	}},
	mockidp.FaultErrorStatus200: {seen: func(h *harness) bool {
		r := wrongSecret(h)
		return r.status == 200 && r.str("error") == "invalid_client"
	}},
	mockidp.FaultNoWWWAuthenticate: {seen: func(h *harness) bool {
		r := wrongSecret(h)
		return r.status == 401 && r.header.Get("WWW-Authenticate") == ""
	}},
	mockidp.FaultUnknownGrant: {seen: func(h *harness) bool {
		r := h.post(mockidp.PathToken, ccBasic, url.Values{"grant_type": {"urn:example:no-such-grant"}})
		return r.status == 200 && r.str("access_token") != ""
	}},
	mockidp.FaultAcceptNoAuth: {seen: func(h *harness) bool {
		// No method: neither an Authorization header nor a client_id.
		r := h.post(mockidp.PathToken, creds{}, url.Values{"grant_type": {"client_credentials"}})
		return r.status == 200 && r.str("access_token") != ""
	}},
	mockidp.FaultBadSignature: {seen: func(h *harness) bool {
		_, err := h.verify(ccToken(h))
		return err != nil
	}},
	mockidp.FaultAlgNone: {seen: func(h *harness) bool { return unverified(h.t, ccToken(h)).header["alg"] == "none" }},
	mockidp.FaultUnknownKid: {seen: func(h *harness) bool {
		_, err := h.verify(ccToken(h))
		return err != nil && strings.Contains(err.Error(), "not in the JWKS")
	}},
	mockidp.FaultAtTypJWT: {seen: func(h *harness) bool { return unverified(h.t, ccToken(h)).header["typ"] == "JWT" }},
	mockidp.FaultWrongIssuer: {seen: func(h *harness) bool {
		return h.mustVerify(ccToken(h)).claims["iss"] != h.srv.URL
	}},
	mockidp.FaultExpiredOnIssue: {seen: func(h *harness) bool {
		exp := h.mustVerify(ccToken(h)).claims["exp"].(float64)
		return time.Unix(int64(exp), 0).Before(time.Now())
	}},
	mockidp.FaultClockSkew: {seen: func(h *harness) bool {
		iat := h.mustVerify(ccToken(h)).claims["iat"].(float64)
		return time.Unix(int64(iat), 0).After(time.Now().Add(5 * time.Minute))
	}},
	mockidp.FaultTTLIgnored: {seen: func(h *harness) bool {
		return h.cc(creds{mockidp.ClientShortTTL, mockidp.ClientShortTTLSecret, "basic"}, "").json["expires_in"] != float64(2)
	}},
	mockidp.FaultDuplicateJTI: {seen: func(h *harness) bool {
		return h.mustVerify(ccToken(h)).claims["jti"] == h.mustVerify(ccToken(h)).claims["jti"]
	}},
	mockidp.FaultIssuerMismatch: {seen: func(h *harness) bool { return h.get(mockidp.PathDiscovery, nil).str("issuer") != h.srv.URL }},
	mockidp.FaultJWKSPrivateKey: {seen: func(h *harness) bool {
		return strings.Contains(string(h.get(mockidp.PathJWKS, nil).body), `"d":`)
	}},
	mockidp.FaultDuplicateKid: {seen: func(h *harness) bool {
		keys, _ := h.get(mockidp.PathJWKS, nil).json["keys"].([]any)
		var kids []string
		for _, k := range keys {
			kid, _ := k.(map[string]any)["kid"].(string)
			if slices.Contains(kids, kid) {
				return true
			}
			kids = append(kids, kid)
		}
		return false
	}},
	mockidp.FaultUnadvertised: {seen: func(h *harness) bool {
		doc := h.get(mockidp.PathDiscovery, nil).json
		has := func(member, v string) bool {
			list, _ := doc[member].([]any)
			return slices.Contains(list, any(v))
		}
		// Both are still served: only the advertisement is wrong.
		return !has("grant_types_supported", "client_credentials") && !has("code_challenge_methods_supported", "S256") &&
			has("code_challenge_methods_supported", "plain") && ccToken(h) != ""
	}},
	mockidp.FaultCodeReuse: {seen: func(h *harness) bool {
		var form url.Values
		exchange(h, code, nil, func(f url.Values) creds { form = f; return code })
		return h.post(mockidp.PathToken, code, form).status == 200
	}},
	mockidp.FaultPKCEIgnored: {seen: func(h *harness) bool {
		return exchange(h, code, nil, func(f url.Values) creds { f.Set("code_verifier", strings.Repeat("w", 43)); return code }).status == 200
	}},
	mockidp.FaultRedirectURIUnchecked: {seen: func(h *harness) bool {
		return exchange(h, code, nil, func(f url.Values) creds { f.Set("redirect_uri", "https://evil.example/cb"); return code }).status == 200
	}},
	mockidp.FaultOpenRedirect: {seen: func(h *harness) bool {
		r := h.browser().fetch(http.MethodGet, h.authorizeURL(mockidp.ClientCode, url.Values{"redirect_uri": {"https://evil.example/cb"}}), nil)
		return r.status == http.StatusFound
	}},
	mockidp.FaultCodeAnyClient: {seen: func(h *harness) bool {
		other := creds{mockidp.ClientRefreshRotate, mockidp.ClientRefreshRotateSecret, "basic"}
		return exchange(h, code, nil, func(url.Values) creds { return other }).status == 200
	}},
	mockidp.FaultStateDropped: {seen: func(h *harness) bool {
		q := h.browser().login(h.authorizeURL(mockidp.ClientCode, url.Values{"state": {"s1"}}), mockidp.UserAlice, mockidp.UserAlicePassword)
		return q.Get("state") != "s1"
	}},
	mockidp.FaultNonceDropped: {seen: func(h *harness) bool {
		r := exchange(h, code, url.Values{"nonce": {"n1"}}, nil)
		return h.mustVerify(r.str("id_token")).claims["nonce"] != "n1"
	}},
	mockidp.FaultAtHashWrong: {seen: func(h *harness) bool {
		r := exchange(h, code, nil, nil)
		return h.mustVerify(r.str("id_token")).claims["at_hash"] != atHash256(r.str("access_token"))
	}},
	mockidp.FaultIDTokenAudWrong: {seen: func(h *harness) bool {
		return h.mustVerify(exchange(h, code, nil, nil).str("id_token")).claims["aud"] != mockidp.ClientCode
	}},
	mockidp.FaultRefreshReuse: {seen: func(h *harness) bool {
		tk := tokensOf(exchange(h, code, nil, nil))
		h.refresh(code, tk.refresh)
		return h.refresh(code, tk.refresh).status == 200
	}},
	mockidp.FaultRefreshExpiredAccepted: {seen: func(h *harness) bool {
		short := creds{mockidp.ClientCodeShort, mockidp.ClientCodeShortSecret, "basic"}
		tk := tokensOf(exchange(h, short, nil, nil))
		h.srv.AdvanceClock(5 * time.Second)
		defer h.srv.SetClockOffset(0)
		return h.refresh(short, tk.refresh).status == 200
	}},
	mockidp.FaultRefreshScopeWidened: {seen: func(h *harness) bool {
		tk := tokensOf(exchange(h, code, nil, nil))
		return strings.Contains(h.refresh(code, tk.refresh).str("scope"), "admin")
	}},
	mockidp.FaultRefreshErrorSwapped: {seen: func(h *harness) bool {
		return h.refresh(code, "never-issued").str("error") == "invalid_request"
	}},
	mockidp.FaultIntrospectRevokedActive: {seen: func(h *harness) bool {
		tok := ccToken(h)
		h.post(mockidp.PathRevoke, ccBasic, url.Values{"token": {tok}})
		return h.introspect(tok).json["active"] == true
	}},
	mockidp.FaultIntrospectExpiredActive: {seen: func(h *harness) bool {
		tok := ccToken(h)
		h.srv.AdvanceClock(2 * time.Hour)
		defer h.srv.SetClockOffset(0)
		return h.introspect(tok).json["active"] == true
	}},
	mockidp.FaultIntrospectNoAuth: {seen: func(h *harness) bool {
		return h.post(mockidp.PathIntrospect, creds{}, url.Values{"token": {"x"}}).status == 200
	}},
	mockidp.FaultIntrospectActiveString: {seen: func(h *harness) bool {
		_, isString := h.introspect(ccToken(h)).json["active"].(string)
		return isString
	}},
	mockidp.FaultRevokeUnknown400: {seen: func(h *harness) bool {
		return h.post(mockidp.PathRevoke, ccBasic, url.Values{"token": {"never-issued"}}).status == 400
	}},
	mockidp.FaultRevokeNoop: {seen: func(h *harness) bool {
		tok := ccResp(h, ccPost).str("access_token")
		ok := h.post(mockidp.PathRevoke, ccPost, url.Values{"token": {tok}}).status == 200
		return ok && h.introspect(tok).json["active"] == true
	}},
	mockidp.FaultUserinfoAcceptsInvalid: {seen: func(h *harness) bool {
		return h.get(mockidp.PathUserinfo, bearer("never-issued")).status == 200
	}},
	mockidp.FaultUserinfoSubMismatch: {seen: func(h *harness) bool {
		tk := tokensOf(exchange(h, code, nil, nil))
		return h.get(mockidp.PathUserinfo, bearer(tk.access)).json["sub"] != h.mustVerify(tk.id).claims["sub"]
	}},
	mockidp.FaultAkoyaExpiredAccepted: {profile: mockidp.ProfileAkoya, seen: func(h *harness) bool {
		tk := tokensOf(exchange(h, creds{mockidp.ClientCodeShort, mockidp.ClientCodeShortSecret, "basic"}, nil, nil))
		h.srv.AdvanceClock(5 * time.Second)
		defer h.srv.SetClockOffset(0)
		return h.get(mockidp.PathAkoyaData+"mikomo", bearer(tk.id)).status == 200
	}},
	mockidp.FaultAkkessNoCty: {profile: mockidp.ProfileAkkess, seen: func(h *harness) bool {
		tok := h.codeFlow(code, nil).access
		r := h.akkess("Bearer "+tok, "application/jwt", "application/json", akkessBody)
		return unverified(h.t, string(r.body)).header["cty"] == nil
	}},
	mockidp.FaultAkkessAcceptIgnored: {profile: mockidp.ProfileAkkess, seen: func(h *harness) bool {
		tok := h.codeFlow(code, nil).access
		return h.akkess("Bearer "+tok, "application/json", "application/json", akkessBody).status == 200
	}},
}

func atHash256(tok string) string {
	return atHashOf(tok)
}

// Every fault of the catalogue is seen with the fault on and not seen
// without it: the twin proves each probe can fail.
func TestEveryFault(t *testing.T) {
	for _, info := range mockidp.Faults() {
		probe, ok := faultProbes[info.Name]
		if !ok {
			t.Errorf("fault %s has no probe in this test", info.Name)
			continue
		}
		t.Run(string(info.Name), func(t *testing.T) {
			t.Parallel()
			spec := string(info.Name)
			if probe.value != "" {
				spec += "=" + probe.value
			}
			f, err := mockidp.ParseFault(spec)
			if err != nil {
				t.Fatal(err)
			}
			on := start(t, mockidp.Options{Profile: probe.profile, Faults: []mockidp.Fault{f}})
			if !probe.seen(on) {
				t.Errorf("%s on: misbehaviour not seen", spec)
			}
			off := start(t, mockidp.Options{Profile: probe.profile})
			if probe.seen(off) {
				t.Errorf("%s off: misbehaviour seen anyway, the probe proves nothing", spec)
			}
			// Switched on at run time, the fault takes effect at once.
			if err := off.srv.SetFaults(f); err != nil {
				t.Fatal(err)
			}
			if !probe.seen(off) {
				t.Errorf("%s set at run time: not seen", spec)
			}
		})
	}
	for name := range faultProbes {
		if _, ok := mockidp.LookupFault(name); !ok {
			t.Errorf("probe for %s, which is not in the catalogue", name)
		}
	}
}

func TestFaultCatalogue(t *testing.T) {
	labels := []string{"discovery", "client-credentials", "authcode", "refresh", "introspection", "revocation", "expiry", "security", "akoya", "akkess", "nextidentity", "load"}
	seen := map[mockidp.FaultName]bool{}
	for _, f := range mockidp.Faults() {
		if seen[f.Name] {
			t.Errorf("%s listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Description == "" || f.Violates == "" || !slices.Contains([]string{"MUST", "SHOULD", "SLO"}, f.Severity) || len(f.CaughtBy) == 0 {
			t.Errorf("%s: incomplete descriptor %+v", f.Name, f)
		}
		for _, l := range f.CaughtBy {
			if !slices.Contains(labels, l) {
				t.Errorf("%s: unknown label %q", f.Name, l)
			}
		}
		for _, p := range f.Profiles {
			if !slices.Contains(mockidp.Profiles(), p) {
				t.Errorf("%s: unknown profile %q", f.Name, p)
			}
		}
		// The default value parses, and the parsed fault prints back.
		parsed, err := mockidp.ParseFault(string(f.Name))
		if err != nil {
			t.Errorf("%s with its default: %v", f.Name, err)
		}
		if parsed.String() != string(f.Name) {
			t.Errorf("String() = %q", parsed.String())
		}
	}
}

func TestFaultSyntax(t *testing.T) {
	good := []string{"latency=50ms", "latency=20ms..80ms@token", "latency=0s@jwks", "status-5xx=0.25", "rate-limit=1@userinfo",
		"slow-body=1s", "clock-skew=-10m", "token-type=mac", "malformed-json@discovery", "malformed-json=@discovery", " no-pragma "}
	for _, s := range good {
		if _, err := mockidp.ParseFault(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	bad := map[string]string{
		"no-such-fault":          "valid faults: latency",
		"latency=fast":           "duration",
		"latency=80ms..20ms":     "MAX at least MIN",
		"latency=2h":             "at most",
		"latency=50ms@nowhere":   "unknown endpoint",
		"status-5xx=1.5":         "share",
		"status-5xx=0":           "share",
		"no-pragma=yes":          "takes no value",
		"token-type=Bearer":      "other than Bearer",
		"clock-skew=0s":          "non-zero",
		"malformed-json=x@token": "optional @ENDPOINT",
	}
	for s, want := range bad {
		_, err := mockidp.ParseFault(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one mentioning %q", s, err, want)
		}
	}
	if _, err := mockidp.ParseFaults([]string{"no-pragma", "bogus", "also-bogus"}); err == nil || !strings.Contains(err.Error(), "also-bogus") {
		t.Errorf("ParseFaults names every bad one: %v", err)
	}
	// A vendor fault on another profile is refused.
	h := start(t, mockidp.Options{})
	f, _ := mockidp.ParseFault("akkess-no-cty")
	if err := h.srv.SetFaults(f); err == nil || !strings.Contains(err.Error(), "akkess") {
		t.Errorf("vendor fault on generic: %v", err)
	}
}

// status-5xx spreads its share evenly: exactly every fourth request fails.
func TestFaultShareIsExact(t *testing.T) {
	f, _ := mockidp.ParseFault("status-5xx=0.25@token")
	h := start(t, mockidp.Options{Faults: []mockidp.Fault{f}})
	failed := 0
	for range 40 {
		if ccResp(h, ccBasic).status == 503 {
			failed++
		}
	}
	if failed != 10 {
		t.Errorf("%d of 40 failed, want 10", failed)
	}
	if h.get(mockidp.PathDiscovery, nil).status != 200 {
		t.Error("a fault scoped to @token hit discovery")
	}
}
