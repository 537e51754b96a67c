package suites_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/mockidp"
)

// interceptor answers a request itself (returning true) or leaves it to
// next, the mock.
type interceptor func(w http.ResponseWriter, r *http.Request, next http.Handler) bool

// variantTarget serves the real mock behind intercept (which answers a
// request itself by returning true), and returns the bundled mock target
// pointed at it with extra YAML appended (a variants section).
func variantTarget(t *testing.T, extra string, intercept interceptor) *target.Target {
	t.Helper()
	return editedTarget(t, func(s string) string { return s + extra }, intercept)
}

// editedTarget is variantTarget with any edit of the target file.
func editedTarget(t *testing.T, edit func(string) string, intercept interceptor) *target.Target {
	t.Helper()
	var idp http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if intercept != nil && intercept(w, r, idp) {
			return
		}
		idp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	mock, err := mockidp.New(mockidp.Options{Issuer: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	idp = mock
	src, err := fixtures.FS.ReadFile(fixtures.MockTargetPath)
	if err != nil {
		t.Fatal(err)
	}
	s := edit(strings.Replace(string(src), "mock:\n  profile: generic\n", fmt.Sprintf("issuer: %s\n", srv.URL), 1))
	tg, err := target.Parse("variant.yaml", []byte(s), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// jwtAt answers authenticated introspection or revocation requests for JWT
// access tokens (compact JWS) at path with status and body, as an IdP that
// keeps no state for them does; other requests go to the mock, which
// authenticates them.
func jwtAt(path string, status int, body string) interceptor {
	secrets := map[string]string{}
	for _, c := range mockidp.DefaultClients() {
		secrets[c.ID] = c.Secret
	}
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
		if !strings.HasSuffix(r.URL.Path, path) || r.ParseForm() != nil || strings.Count(r.PostForm.Get("token"), ".") != 2 {
			return false
		}
		if id, secret, ok := r.BasicAuth(); !ok || secret == "" || secrets[id] != secret {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = fmt.Fprint(w, body)
		return true
	}
}

func specStates(r *results.Run) (failed, passed []string) {
	for _, sp := range r.Specs {
		switch sp.State {
		case results.Failed:
			failed = append(failed, sp.Name)
		case results.Passed:
			passed = append(passed, sp.Name)
		}
	}
	return failed, passed
}

// A permitted variation passes when it is declared; the same behaviour
// undeclared, or an error where the RFC wants an answer, fails exactly the
// spec that reads the declaration.
func TestDeclaredVariants(t *testing.T) {
	const (
		introspectSpec = "introspection answers the introspection of a JWT access token as the target declares"
		revokeSpec     = "revocation answers the revocation of a JWT access token as the target declares"
		activeSpec     = "introspection says an issued token is active"
		revokedSpec    = "revocation reports a revoked access token as inactive"
		revoke200Spec  = "revocation revokes an access token with 200"
		contractSpec   = "introspection meets the introspection response contract"
	)
	inactive := jwtAt(mockidp.PathIntrospect, 200, `{"active":false}`)
	unsupportedIntro := jwtAt(mockidp.PathIntrospect, 400, `{"error":"unsupported_token_type"}`)
	unsupportedRevoke := jwtAt(mockidp.PathRevoke, 400, `{"error":"unsupported_token_type"}`)
	revokeNoop := jwtAt(mockidp.PathRevoke, 200, ``)
	both := func(a, b interceptor) interceptor {
		return func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			return a(w, r, next) || b(w, r, next)
		}
	}
	const undeclared = ""
	const selfContained = "variants:\n  jwt_access_token_introspection: unsupported\n  jwt_access_token_revocation: unsupported\n"
	cases := []struct {
		name      string
		variants  string
		intercept interceptor
		fails     []string
		passes    []string
	}{
		{"stateful JWTs, declared by default", undeclared, nil,
			nil, []string{introspectSpec, revokeSpec, activeSpec, revokedSpec, revoke200Spec, contractSpec}},
		{"self-contained JWTs, declared", selfContained, both(inactive, unsupportedRevoke),
			nil, []string{introspectSpec, revokeSpec, activeSpec, revokedSpec, revoke200Spec, contractSpec}},
		{"self-contained JWTs, not declared", undeclared, both(inactive, unsupportedRevoke),
			[]string{introspectSpec, revokeSpec, activeSpec, revokedSpec, revoke200Spec, contractSpec}, nil},
		{"introspection error instead of active false", selfContained, both(unsupportedIntro, unsupportedRevoke),
			[]string{introspectSpec}, []string{revokeSpec, activeSpec, revokedSpec, revoke200Spec, contractSpec}},
		{"revocation 200 that revokes nothing", selfContained, both(inactive, revokeNoop),
			[]string{revokeSpec}, []string{introspectSpec, activeSpec, revokedSpec, revoke200Spec, contractSpec}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := variantTarget(t, c.variants, c.intercept)
			r, out, _ := run(t, tg, "introspection || revocation")
			failed, passed := specStates(r)
			for _, f := range c.fails {
				if !slices.Contains(failed, f) {
					t.Errorf("%q did not fail", f)
				}
			}
			for _, p := range c.passes {
				if !slices.Contains(passed, p) {
					t.Errorf("%q did not pass", p)
				}
			}
			for _, f := range failed {
				if !slices.Contains(c.fails, f) {
					t.Errorf("unexpected failure %q", f)
				}
			}
			if t.Failed() {
				t.Logf("run output:\n%s", out)
			}
		})
	}
}

// tokenType rewrites token_type in the mock's token responses.
func tokenType(v string) interceptor {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if !strings.HasSuffix(r.URL.Path, mockidp.PathToken) {
			return false
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["token_type"] == nil {
			return false
		}
		body["token_type"] = v
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_ = json.NewEncoder(w).Encode(body)
		return true
	}
}

// token_type is case insensitive: any spelling of Bearer passes unless the
// target declares one; another type fails.
func TestTokenTypeCase(t *testing.T) {
	const spec = "client-credentials types access tokens as Bearer"
	cases := []struct {
		name, variants, sent string
		fails                bool
	}{
		{"lower case, undeclared", "", "bearer", false},
		{"upper case, undeclared", "", "BEARER", false},
		{"declared spelling sent", "variants: {token_type: bearer}\n", "bearer", false},
		{"other spelling than declared", "variants: {token_type: Bearer}\n", "bearer", true},
		{"not a bearer token", "", "JWT", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, out, _ := run(t, variantTarget(t, c.variants, tokenType(c.sent)), "client-credentials")
			failed, passed := specStates(r)
			if got := slices.Contains(failed, spec); got != c.fails {
				t.Errorf("failed = %v, want %v\n%s", got, c.fails, out)
			}
			if !c.fails && !slices.Contains(passed, spec) {
				t.Errorf("did not pass\n%s", out)
			}
		})
	}
}

// refusePlain answers authorization requests with code_challenge_method
// plain as RFC 7636 §4.4.1 asks of a server without plain: invalid_request
// at the redirect URI.
func refusePlain(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
	q := r.URL.Query()
	if !strings.HasSuffix(r.URL.Path, mockidp.PathAuthorize) || q.Get("code_challenge_method") != "plain" {
		return false
	}
	to := q.Get("redirect_uri") + "?error=invalid_request&state=" + q.Get("state")
	http.Redirect(w, r, to, http.StatusFound)
	return true
}

// PKCE plain: either choice passes when declared; the other one fails.
func TestPKCEPlainDeclared(t *testing.T) {
	const spec = "authcode treats PKCE plain as the target declares"
	cases := []struct {
		name, variants string
		intercept      interceptor
		fails          bool
	}{
		{"accepted, declared", "variants: {pkce_plain: accepted}\n", nil, false},
		{"accepted, declared refused", "variants: {pkce_plain: refused}\n", nil, true},
		{"refused, declared", "variants: {pkce_plain: refused}\n", refusePlain, false},
		{"refused, declared accepted", "variants: {pkce_plain: accepted}\n", refusePlain, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, out, _ := run(t, variantTarget(t, c.variants, c.intercept), "authcode")
			failed, passed := specStates(r)
			if got := slices.Contains(failed, spec); got != c.fails {
				t.Errorf("failed = %v, want %v\n%s", got, c.fails, out)
			}
			if !c.fails && !slices.Contains(passed, spec) {
				t.Errorf("did not pass\n%s", out)
			}
		})
	}
	// Undeclared: skipped, with the reason.
	r, _, _ := run(t, variantTarget(t, "", nil), "authcode")
	for _, sp := range r.Specs {
		if sp.Name == spec && sp.State != results.Skipped {
			t.Errorf("undeclared pkce_plain: %s, want skipped", sp.State)
		}
	}
}

// Whether a replayed refresh token kills the grant is the server's choice;
// the declared rotation says which, and the other choice fails.
func TestRefreshReuseVariant(t *testing.T) {
	const spec = "refresh treats a used refresh token of client code as the target declares"
	// The bundled target's first refresh client, idpconform-code, is
	// registered at the mock with reuse detection.
	first := func(rotation string) func(string) string {
		return func(s string) string {
			return strings.Replace(s, "rotation: rotate-reuse-detection", "rotation: "+rotation, 1)
		}
	}
	// Declaring the mock's rotate-only client first.
	rotateOnly := func(s string) string {
		s = strings.Replace(s, "id: idpconform-code\n", "id: idpconform-refresh-rotate\n", 1)
		s = strings.Replace(s, "${IDPCONFORM_CODE_SECRET:-idpconform-code-secret}", "${IDPCONFORM_REFRESH_ROTATE_SECRET:-idpconform-refresh-rotate-secret}", 1)
		return first("rotate")(s)
	}
	cases := []struct {
		name  string
		edit  func(string) string
		fails bool
	}{
		{"reuse detection, declared", first("rotate-reuse-detection"), false},
		{"reuse detection, declared rotate", first("rotate"), true},
		{"rotate only, declared", rotateOnly, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, out, _ := run(t, editedTarget(t, c.edit, nil), "refresh")
			failed, passed := specStates(r)
			if got := slices.Contains(failed, spec); got != c.fails {
				t.Errorf("failed = %v, want %v\n%s", got, c.fails, out)
			}
			if !c.fails && !slices.Contains(passed, spec) {
				t.Errorf("did not pass\n%s", out)
			}
		})
	}
}

// Every refresh client's declared rotation is checked, not only the first
// client's: the bundled target passes for each of them, and declaring the
// wrong policy for the mock's rotate-only and static clients fails exactly
// their specs while the first client's still pass.
func TestRotationCheckedPerRefreshClient(t *testing.T) {
	r, out, _ := run(t, editedTarget(t, func(s string) string { return s }, nil), "refresh")
	_, passed := specStates(r)
	for _, name := range []string{"code", "consent", "refresh-rotate", "refresh-static"} {
		for _, spec := range []string{"refresh rotates refresh tokens of client " + name + " as the target declares",
			"refresh treats a used refresh token of client " + name + " as the target declares"} {
			if !slices.Contains(passed, spec) {
				t.Errorf("bundled target: %q did not pass\n%s", spec, out)
			}
		}
	}

	misdeclared := func(s string) string {
		// refresh-rotate keeps the grant alive after a replay; refresh-static
		// never rotates.
		s = strings.Replace(s, "refresh_token_ttl: 720h\n    refresh:\n      rotation: rotate\n", "refresh_token_ttl: 720h\n    refresh:\n      rotation: rotate-reuse-detection\n", 1)
		return strings.Replace(s, "rotation: none\n", "rotation: rotate\n", 1)
	}
	r, out, _ = run(t, editedTarget(t, misdeclared, nil), "refresh")
	failed, passed := specStates(r)
	want := []string{
		"refresh revokes the token family of client refresh-rotate when a used refresh token comes back",
		"refresh rotates refresh tokens of client refresh-static as the target declares",
		"refresh treats a used refresh token of client refresh-static as the target declares",
	}
	for _, spec := range want {
		if !slices.Contains(failed, spec) {
			t.Errorf("misdeclared: %q did not fail\n%s", spec, out)
		}
	}
	if !slices.Contains(passed, "refresh treats a used refresh token of client code as the target declares") {
		t.Errorf("misdeclared others: the first client's spec did not pass\n%s", out)
	}
}
