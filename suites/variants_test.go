package suites_test

import (
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

// variantTarget serves the real mock behind intercept (which answers a
// request itself by returning true), and returns the bundled mock target
// pointed at it with extra YAML appended (a variants section).
func variantTarget(t *testing.T, extra string, intercept func(w http.ResponseWriter, r *http.Request) bool) *target.Target {
	t.Helper()
	var idp http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if intercept != nil && intercept(w, r) {
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
	s := strings.Replace(string(src), "mock:\n  profile: generic\n", fmt.Sprintf("issuer: %s\n", srv.URL), 1) + extra
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
func jwtAt(path string, status int, body string) func(http.ResponseWriter, *http.Request) bool {
	secrets := map[string]string{}
	for _, c := range mockidp.DefaultClients() {
		secrets[c.ID] = c.Secret
	}
	return func(w http.ResponseWriter, r *http.Request) bool {
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
	)
	inactive := jwtAt(mockidp.PathIntrospect, 200, `{"active":false}`)
	unsupportedIntro := jwtAt(mockidp.PathIntrospect, 400, `{"error":"unsupported_token_type"}`)
	unsupportedRevoke := jwtAt(mockidp.PathRevoke, 400, `{"error":"unsupported_token_type"}`)
	revokeNoop := jwtAt(mockidp.PathRevoke, 200, ``)
	both := func(a, b func(http.ResponseWriter, *http.Request) bool) func(http.ResponseWriter, *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool { return a(w, r) || b(w, r) }
	}
	const undeclared = ""
	const selfContained = "variants:\n  jwt_access_token_introspection: unsupported\n  jwt_access_token_revocation: unsupported\n"
	cases := []struct {
		name      string
		variants  string
		intercept func(http.ResponseWriter, *http.Request) bool
		fails     []string
		passes    []string
	}{
		{"stateful JWTs, declared by default", undeclared, nil,
			nil, []string{introspectSpec, revokeSpec, activeSpec, revokedSpec, revoke200Spec}},
		{"self-contained JWTs, declared", selfContained, both(inactive, unsupportedRevoke),
			nil, []string{introspectSpec, revokeSpec, activeSpec, revokedSpec, revoke200Spec}},
		{"self-contained JWTs, not declared", undeclared, both(inactive, unsupportedRevoke),
			[]string{introspectSpec, revokeSpec, activeSpec, revokedSpec, revoke200Spec}, nil},
		{"introspection error instead of active false", selfContained, both(unsupportedIntro, unsupportedRevoke),
			[]string{introspectSpec}, []string{revokeSpec, activeSpec, revokedSpec, revoke200Spec}},
		{"revocation 200 that revokes nothing", selfContained, both(inactive, revokeNoop),
			[]string{revokeSpec}, []string{introspectSpec, activeSpec, revokedSpec, revoke200Spec}},
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
