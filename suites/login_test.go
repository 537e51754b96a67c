package suites_test

import (
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
)

// login.driver mock runs the code flow specs through the mock's
// auto-login: they pass, and no login form is fetched or posted. The twin:
// the same driver against the mock without auto-login (which a target file
// refuses; here the check is bypassed) fails the specs with the reason.
func TestMockLoginDriverRunsTheCodeFlow(t *testing.T) {
	tg := mockTarget(t, nil)
	tg.Mock.AutoLogin = true
	tg.Login.Driver = target.DriverMock
	r, out, _ := run(t, tg, "authcode")
	if !r.Passed() || r.Summary.ByLabel["authcode"].Passed == 0 {
		t.Fatalf("authcode with driver mock: %+v\n%s", r.Summary.ByLabel["authcode"], out)
	}
	autos := 0
	for _, sp := range r.Specs {
		for _, ex := range sp.Evidence {
			if strings.HasPrefix(ex.Name, "login step") || strings.Contains(ex.URL, "/login") {
				t.Errorf("%s: the login form was used: %s %s", sp.Name, ex.Method, ex.URL)
			}
			if ex.Name == "login auto" {
				autos++
			}
		}
	}
	if autos == 0 {
		t.Error("no spec logged in through the mock driver")
	}

	tg = mockTarget(t, nil)
	tg.Login.Driver = target.DriverMock
	r, _, _ = run(t, tg, "authcode")
	var failed []results.Spec
	for _, sp := range r.Specs {
		if sp.State == results.Failed {
			failed = append(failed, sp)
		}
	}
	if r.Passed() || len(failed) == 0 {
		t.Fatalf("driver mock without auto-login passed: %+v", r.Summary.ByLabel["authcode"])
	}
	for _, sp := range failed {
		if !strings.Contains(sp.Failure, "driver mock needs the bundled mock with auto-login") {
			t.Errorf("%s: failure without the reason: %s", sp.Name, sp.Failure)
			break
		}
	}
}
