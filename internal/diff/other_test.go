package diff_test

import (
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/diff"
	"github.com/idpconform/idpconform/internal/results"
)

func find(d *results.Diff, id string) *results.Difference {
	for i := range d.Differences {
		if d.Differences[i].ID == id {
			return &d.Differences[i]
		}
	}
	return nil
}

func compare(t *testing.T, old, new *baseline.Baseline) *results.Diff {
	t.Helper()
	d, err := diff.Compare(old, new, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestContinuity(t *testing.T) {
	old, same := side(t, nil, base), side(t, nil, base)
	d := compare(t, old, same)
	if !d.Continuity.Checked || d.Continuity.Same != 1 || d.Failed {
		t.Errorf("same sub: %+v", d.Continuity)
	}
	changed := side(t, nil, base)
	changed.Users[0].SubHash = "another-sub-hash-000"
	d = compare(t, old, changed)
	if x := find(d, "continuity/users/users[0]"); x == nil || x.Class != results.ClassBreaking || !strings.Contains(x.Rule, "seed 002") || !d.Failed || d.Continuity.Changed != 1 {
		t.Errorf("changed sub: %+v %+v", x, d.Continuity)
	}
	accounts := side(t, nil, base)
	old.Users[0].AccountsHash, accounts.Users[0].AccountsHash = "accounts-hash-1", "accounts-hash-2"
	if x := find(compare(t, old, accounts), "continuity/users/users[0]/accounts"); x == nil || x.Class != results.ClassBreaking {
		t.Errorf("changed accounts: %+v", x)
	}
	otherKey := side(t, nil, base)
	otherKey.SubKey = baseline.SubKey{ID: "other", Source: baseline.KeyGenerated}
	d = compare(t, old, otherKey)
	x := find(d, "continuity/users/sub")
	if x == nil || x.Class != results.ClassWarning || d.Continuity.Checked || !strings.Contains(d.Continuity.Reason, "different keys") || !strings.Contains(d.Continuity.Reason, baseline.SubKeyEnv) {
		t.Errorf("different keys: %+v %+v", x, d.Continuity)
	}
	noUsers := side(t, nil, base)
	noUsers.Users = nil
	if d := compare(t, old, noUsers); d.Continuity.Checked || !strings.Contains(d.Continuity.Reason, "no test users") {
		t.Errorf("no users: %+v", d.Continuity)
	}
}

func TestProbesKeysFlows(t *testing.T) {
	old, new := side(t, nil, base), side(t, nil, base)
	old.Probes = []baseline.Probe{
		{ID: "token.invalid_refresh_token", Expect: "400 invalid_grant (RFC 6749 §5.2)", Status: 400, Error: "invalid_grant", Description: "bad token"},
		{ID: "token.wrong_secret", Expect: "401 invalid_client", Status: 401, Error: "invalid_client", WWWAuthenticate: true},
		{ID: "revocation.unknown_token", Expect: "200", Status: 200},
	}
	new.Probes = []baseline.Probe{
		{ID: "token.invalid_refresh_token", Status: 400, Error: "invalid_request", Description: "Refresh token is invalid"},
		{ID: "token.wrong_secret", Status: 200},
		{ID: "revocation.unknown_token", Status: 400, Error: "invalid_request"},
	}
	old.Keys = baseline.Keys{Keys: []baseline.JWK{{Kid: "a", Kty: "RSA"}}, Reverified: 5}
	new.Keys = baseline.Keys{Keys: []baseline.JWK{{Kid: "b", Kty: "RSA"}}, Reverified: 5, ReverifyFailed: 2}
	old.Flows = append(old.Flows, baseline.Flow{Name: baseline.FlowIntrospection, Client: "cc", Status: baseline.FlowOK})
	new.Flows = append(new.Flows, baseline.Flow{Name: baseline.FlowIntrospection, Client: "cc", Status: baseline.FlowSkipped, Reason: "the target does not declare introspection"})
	old.Target.Clients = []baseline.Client{{Name: "cc"}, {Name: "code"}}
	new.Target.Clients = old.Target.Clients
	d := compare(t, old, new)
	want := map[string]string{
		"error/token.invalid_refresh_token/error":             results.ClassBreaking,
		"error/token.invalid_refresh_token/error_description": results.ClassInfo,
		"error/token.wrong_secret/status":                     results.ClassBreaking,
		"error/token.wrong_secret/error":                      results.ClassBreaking,
		"error/revocation.unknown_token/status":               results.ClassBreaking,
		"keys/jwks/continuity":                                results.ClassBreaking,
		"keys/jwks/kid":                                       results.ClassInfo,
		"flow/introspection.cc":                               results.ClassBreaking,
	}
	for id, class := range want {
		if x := find(d, id); x == nil || x.Class != class || x.Rule == "" {
			t.Errorf("%s: got %+v, want %s", id, x, class)
		}
	}
	// The twin: the same probes, keys and flows differ in nothing.
	for _, x := range compare(t, old, old).Differences {
		if x.Category != diff.CatContinuity {
			t.Errorf("identical sides differ: %+v", x)
		}
	}
}
