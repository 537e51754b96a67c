package mockidp_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/mockidp"
)

func TestDiscovery(t *testing.T) {
	for _, p := range mockidp.Profiles() {
		t.Run(p, func(t *testing.T) {
			h := start(t, mockidp.Options{Profile: p})
			r := h.get(mockidp.PathDiscovery, nil)
			if r.status != 200 || r.str("issuer") != h.srv.URL {
				t.Fatalf("HTTP %d %s", r.status, r.body)
			}
			for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"} {
				u := r.str(k)
				if !strings.HasPrefix(u, h.srv.URL+"/") {
					t.Errorf("%s = %q", k, u)
				}
			}
			if got := r.json["code_challenge_methods_supported"]; len(got.([]any)) != 2 {
				t.Errorf("code_challenge_methods_supported %v", got)
			}
			if r2 := h.get(mockidp.PathOAuthMetadata, nil); r2.str("issuer") != h.srv.URL {
				t.Errorf("RFC 8414 metadata: %s", r2.body)
			}
			jwks := h.get(mockidp.PathJWKS, nil)
			if jwks.header.Get("Content-Type") != "application/jwk-set+json" || bytes.Contains(jwks.body, []byte(`"d":`)) {
				t.Errorf("JWKS: %s %s", jwks.header.Get("Content-Type"), jwks.body)
			}
		})
	}
}

func TestKeysLoadedAndAlgorithms(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			o := mockidp.Options{SigningAlg: alg}
			if alg == "RS256" || alg == "PS256" {
				o.SigningKey = rsaKey()
			}
			h := start(t, o)
			j := h.mustVerify(h.cc(ccBasic, "").str("access_token"))
			if j.header["alg"] != alg {
				t.Errorf("alg %v", j.header["alg"])
			}
			tk := h.codeFlow(code, nil)
			h.mustVerify(tk.id)
		})
	}
	if _, err := mockidp.New(mockidp.Options{Issuer: "http://127.0.0.1:1", SigningAlg: "HS256"}); err == nil {
		t.Error("HS256 accepted")
	}
	if _, err := mockidp.New(mockidp.Options{Issuer: "http://127.0.0.1:1", SigningAlg: "ES256", SigningKey: rsaKey()}); err == nil {
		t.Error("an RSA key accepted for ES256")
	}
}

func TestFixtureKeys(t *testing.T) {
	for file, alg := range map[string]string{"rs256.pem": "RS256", "es256.pem": "ES256", "ed25519.pem": "EdDSA"} {
		pemBytes, err := readFixtureKey(file)
		if err != nil {
			t.Fatal(err)
		}
		key, err := mockidp.ParseSigningKey(pemBytes)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got := mockidp.AlgForKey(key); string(got) != alg {
			t.Errorf("%s: alg %s, want %s", file, got, alg)
		}
		h := start(t, mockidp.Options{SigningKey: key})
		j := h.mustVerify(h.cc(ccBasic, "").str("access_token"))
		if j.header["alg"] != alg {
			t.Errorf("%s signs %v", file, j.header["alg"])
		}
	}
	if _, err := mockidp.ParseSigningKey([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")); err == nil {
		t.Error("a certificate accepted as a key")
	}
	if _, err := mockidp.ParseSigningKey([]byte("not pem")); err == nil {
		t.Error("garbage accepted")
	}
}

// seed 001's ID token: claims in alphabetical order, aud an array.
func TestAkoyaProfile(t *testing.T) {
	h := start(t, mockidp.Options{Profile: mockidp.ProfileAkoya})
	tk := h.codeFlow(code, nil)
	j := h.mustVerify(tk.id)
	want := []string{"accounts", "at_hash", "aud", "auth_time", "connectorId", "exp", "grant_id", "iat", "iss", "jti", "name", "nonce", "products", "rat", "recipientId", "sid", "sub"}
	if !slices.Equal(j.order, want) {
		t.Errorf("claims %v\nwant   %v", j.order, want)
	}
	c := j.claims
	if aud, ok := c["aud"].([]any); !ok || len(aud) != 1 || aud[0] != mockidp.ClientCode {
		t.Errorf("aud %v", c["aud"])
	}
	if c["connectorId"] != "mikomo" || c["recipientId"] != mockidp.ClientCode || c["name"] != mockidp.UserAlice {
		t.Errorf("claims %v", c)
	}
	if p, _ := c["products"].([]any); len(p) != 3 || p[0] != "ACCOUNT_DETAILED" {
		t.Errorf("products %v", c["products"])
	}
	if a, _ := c["accounts"].([]any); len(a) != 3 || a[0] != "1755209824" {
		t.Errorf("accounts %v", c["accounts"])
	}
	// sub is base64 of (login, provider), as seed 000's "CghtaWtvbW9fNhIGbWlrb21v" is of (mikomo_6, mikomo).
	raw, err := base64.StdEncoding.DecodeString(c["sub"].(string))
	if err != nil || !bytes.Contains(raw, []byte(mockidp.UserAlice)) || !bytes.Contains(raw, []byte("mikomo")) {
		t.Errorf("sub %v decodes to %q", c["sub"], raw)
	}
	if rat, at := c["rat"].(float64), c["auth_time"].(float64); rat > at {
		t.Errorf("rat %v after auth_time %v", rat, at)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(c["grant_id"].(string)) {
		t.Errorf("grant_id %v", c["grant_id"])
	}
}

// seed 002's old IdP: aud a string, email holding the login, name an
// internal ID; the same sub as the new IdP for the same login, so a
// migration keeps its users.
func TestAkoyaLegacyProfile(t *testing.T) {
	old := start(t, mockidp.Options{Profile: mockidp.ProfileAkoyaLegacy})
	c := old.mustVerify(old.codeFlow(code, nil).id).claims
	if c["aud"] != mockidp.ClientCode || c["email"] != mockidp.UserAlice || c["email_verified"] != false {
		t.Errorf("claims %v", c)
	}
	if name, _ := c["name"].(string); !regexp.MustCompile(`^[A-Z2-7]{19}$`).MatchString(name) {
		t.Errorf("name %q is not an internal ID", name)
	}
	for _, k := range []string{"accounts", "connectorId", "recipientId", "products"} {
		if _, ok := c[k]; ok {
			t.Errorf("legacy ID token has %s", k)
		}
	}
	nw := start(t, mockidp.Options{Profile: mockidp.ProfileAkoya})
	if n := nw.mustVerify(nw.codeFlow(code, nil).id).claims; n["sub"] != c["sub"] {
		t.Errorf("sub differs between old (%v) and new (%v) IdP", c["sub"], n["sub"])
	}
	// Twin: the generic profile's sub is another.
	g := start(t, mockidp.Options{})
	if gc := g.mustVerify(g.codeFlow(code, nil).id).claims; gc["sub"] == c["sub"] {
		t.Error("generic and akoya subs coincide")
	}
}

func TestAkoyaDataEndpoint(t *testing.T) {
	for _, p := range []string{mockidp.ProfileAkoya, mockidp.ProfileAkoyaLegacy} {
		t.Run(p, func(t *testing.T) {
			h := start(t, mockidp.Options{Profile: p})
			short := creds{mockidp.ClientCodeShort, mockidp.ClientCodeShortSecret, "basic"}
			tk := h.codeFlow(short, nil)
			path := mockidp.PathAkoyaData + "mikomo"
			r := h.get(path, bearer(tk.id))
			if r.status != 200 || !strings.Contains(string(r.body), `"accountId":"1755209824"`) {
				t.Fatalf("valid ID token: HTTP %d %s", r.status, r.body)
			}
			h.srv.AdvanceClock(3 * time.Second)
			defer h.srv.SetClockOffset(0)
			r = h.get(path, bearer(tk.id))
			if r.status != http.StatusForbidden || r.json["code"] != float64(602) || r.str("message") != "Customer not authorized" {
				t.Errorf("expired ID token: HTTP %d %s", r.status, r.body)
			}
			if r := h.get(path, nil); r.status != 401 || r.json["code"] != float64(602) {
				t.Errorf("no bearer: HTTP %d %s", r.status, r.body)
			}
			if r := h.get(mockidp.PathAkoyaData+"otherbank", bearer(tk.id)); r.status != 404 {
				t.Errorf("other provider: HTTP %d", r.status)
			}
		})
	}
	// Twin: other profiles have no data endpoint.
	g := start(t, mockidp.Options{})
	if r := g.get(mockidp.PathAkoyaData+"mikomo", nil); r.status != 404 {
		t.Errorf("generic data endpoint: HTTP %d", r.status)
	}
}

// akkessRequest posts to the Akkess token endpoint.
func (h *harness) akkess(auth, accept, contentType, body string) *resp {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+mockidp.PathAkkessTokens, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return h.do(req)
}

const akkessBody = `{"expiryInSecs":3600,"tenantId":"` + mockidp.TenantAcme + `","tokenFormat":"t1"}`

func TestAkkessTokens(t *testing.T) {
	h := start(t, mockidp.Options{Profile: mockidp.ProfileAkkess})
	idp := h.codeFlow(code, nil).access
	// seed 003 writes the scheme in capitals.
	r := h.akkess("BEARER "+idp, "application/jwt", "application/json", akkessBody)
	if r.status != 200 || r.header.Get("Content-Type") != "application/jwt" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("HTTP %d %v %s", r.status, r.header, r.body)
	}
	j := h.mustVerify(string(r.body))
	if j.header["cty"] != "t1" || j.header["alg"] != "RS256" || j.header["kid"] == nil {
		t.Errorf("header %v", j.header)
	}
	if _, ok := j.header["typ"]; ok {
		t.Errorf("header has typ: %v", j.header)
	}
	want := []string{"jti", "iss", "sub", "aud", "exp", "iat", "acc", "app", "tid", "ars"}
	if !slices.Equal(j.order, want) {
		t.Errorf("claims %v, want %v", j.order, want)
	}
	c := j.claims
	if c["aud"] != mockidp.TenantAcme || c["tid"] != mockidp.TenantAcme || c["iss"] != h.srv.URL+"/authorization/v1" || c["exp"].(float64)-c["iat"].(float64) != 3600 {
		t.Errorf("claims %v", c)
	}
	for _, k := range []string{"sub", "acc", "app"} {
		if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(c[k].(string)) {
			t.Errorf("%s = %v, want 24 hex digits", k, c[k])
		}
	}
	if ars, _ := c["ars"].([]any); len(ars) != 1 || !strings.Contains(string(mustJSON(ars)), `"r":["USER"]`) {
		t.Errorf("ars %v", c["ars"])
	}

	expired := h.codeFlow(creds{mockidp.ClientCodeShort, mockidp.ClientCodeShortSecret, "basic"}, nil).access
	bob := h.browser().login(h.authorizeURL(mockidp.ClientCode, nil), mockidp.UserBob, mockidp.UserBobPassword)
	bobTok := h.post(mockidp.PathToken, code, url.Values{"grant_type": {"authorization_code"}, "code": {bob.Get("code")}, "redirect_uri": {mockidp.DefaultRedirectURI}}).str("access_token")
	bad := func(body string) string { return strings.Replace(akkessBody, `"expiryInSecs":3600`, body, 1) }
	cases := []struct {
		name, auth, accept, ct, body string
		status                       int
		mention                      string
	}{
		{"missing bearer", "", "application/jwt", "application/json", akkessBody, 401, "Bearer"},
		{"basic instead of bearer", "Basic eDp5", "application/jwt", "application/json", akkessBody, 401, "Bearer"},
		{"unknown IdP token", "Bearer nope", "application/jwt", "application/json", akkessBody, 401, "invalid"},
		{"wrong accept", "Bearer " + idp, "application/json", "application/json", akkessBody, 406, "application/jwt"},
		{"wrong content type", "Bearer " + idp, "application/jwt", "text/plain", akkessBody, 415, "application/json"},
		{"not JSON", "Bearer " + idp, "application/jwt", "application/json", "tenantId=x", 400, "JSON"},
		{"unknown tokenFormat", "Bearer " + idp, "application/jwt", "application/json", strings.Replace(akkessBody, `"t1"`, `"t2"`, 1), 400, "tokenFormat"},
		{"missing tokenFormat", "Bearer " + idp, "application/jwt", "application/json", strings.Replace(akkessBody, `,"tokenFormat":"t1"`, ``, 1), 400, "tokenFormat"},
		{"expiry as a string", "Bearer " + idp, "application/jwt", "application/json", bad(`"expiryInSecs":"3600"`), 400, "expiryInSecs"},
		{"expiry zero", "Bearer " + idp, "application/jwt", "application/json", bad(`"expiryInSecs":0`), 400, "expiryInSecs"},
		{"expiry negative", "Bearer " + idp, "application/jwt", "application/json", bad(`"expiryInSecs":-5`), 400, "expiryInSecs"},
		{"expiry fractional", "Bearer " + idp, "application/jwt", "application/json", bad(`"expiryInSecs":1.5`), 400, "expiryInSecs"},
		{"expiry over a day", "Bearer " + idp, "application/jwt", "application/json", bad(`"expiryInSecs":86401`), 400, "expiryInSecs"},
		{"expiry missing", "Bearer " + idp, "application/jwt", "application/json", bad(`"x":1`), 400, "expiryInSecs"},
		{"tenant missing", "Bearer " + idp, "application/jwt", "application/json", `{"expiryInSecs":60,"tokenFormat":"t1"}`, 400, "tenantId"},
		{"tenant a number", "Bearer " + idp, "application/jwt", "application/json", `{"expiryInSecs":60,"tenantId":5,"tokenFormat":"t1"}`, 400, "tenantId"},
		{"tenant not the user's", "Bearer " + bobTok, "application/jwt", "application/json", strings.Replace(akkessBody, mockidp.TenantAcme, mockidp.TenantGlobex, 1), 403, "tenant"},
		{"client credentials token", "Bearer " + h.cc(ccBasic, "").str("access_token"), "application/jwt", "application/json", akkessBody, 403, "user"},
	}
	h.srv.AdvanceClock(3 * time.Second)
	cases = append(cases, struct {
		name, auth, accept, ct, body string
		status                       int
		mention                      string
	}{"expired IdP token", "Bearer " + expired, "application/jwt", "application/json", akkessBody, 401, "expired"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.akkess(c.auth, c.accept, c.ct, c.body)
			if r.status != c.status || !strings.Contains(string(r.body), c.mention) {
				t.Errorf("HTTP %d %s, want %d mentioning %q", r.status, r.body, c.status, c.mention)
			}
			if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %v", r.header)
			}
		})
	}
	// Twins: no Accept at all, and Globex for Alice, are fine.
	if r := h.akkess("Bearer "+idp, "", "application/json", strings.Replace(akkessBody, mockidp.TenantAcme, mockidp.TenantGlobex, 1)); r.status != 200 {
		t.Errorf("no Accept header: HTTP %d %s", r.status, r.body)
	}
}

func TestNextIdentityProfile(t *testing.T) {
	h := start(t, mockidp.Options{Profile: mockidp.ProfileNextIdentity})
	tk := h.codeFlow(code, url.Values{"scope": {"openid email profile ad:user_custom"}})
	if tk.r.str("scope") != "openid email profile ad:user_custom" {
		t.Errorf("scope %q", tk.r.str("scope"))
	}
	c := h.mustVerify(tk.id).claims
	if c["company_name"] != "Bizcorp" || c["given_name"] != "Alice" || c["email"] != "alice@example.com" {
		t.Errorf("ID token %v", c)
	}
	if _, err := time.Parse(time.RFC3339, c["updated_at"].(string)); err != nil {
		t.Errorf("updated_at %v is not an ISO time", c["updated_at"])
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(c["sub"].(string)) {
		t.Errorf("sub %v is not a UUID", c["sub"])
	}
	// Twin: without the custom scope, no custom claim.
	if c2 := h.mustVerify(h.codeFlow(code, url.Values{"scope": {"openid email"}}).id).claims; c2["company_name"] != nil || c2["given_name"] != nil {
		t.Errorf("claims without their scopes: %v", c2)
	}

	at := h.mustVerify(h.cc(ccBasic, "").str("access_token"))
	if at.header["jku"] != h.srv.URL+mockidp.PathJWKS || at.claims["nbf"] == nil {
		t.Errorf("access token %v %v", at.header, at.claims)
	}
	if aud, _ := at.claims["aud"].([]any); len(aud) != 1 || aud[0] != mockidp.ClientCC {
		t.Errorf("aud %v", at.claims["aud"])
	}
	// Opaque tokens are revoked at /logout (seed 004).
	op := h.cc(ccPost, "").str("access_token")
	if r := h.post(mockidp.PathLogout, ccPost, url.Values{"token": {op}}); r.status != 200 {
		t.Errorf("/logout: HTTP %d", r.status)
	}
	if in := h.introspect(op); in.json["active"] != false {
		t.Errorf("revoked at /logout but active: %s", in.body)
	}
	if d := h.get(mockidp.PathDiscovery, nil); d.str("revocation_endpoint") != h.srv.URL+mockidp.PathLogout {
		t.Errorf("revocation_endpoint %q", d.str("revocation_endpoint"))
	}
}
