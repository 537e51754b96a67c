package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/mockidp"
)

// driftTarget writes a copy of a bundled target file whose mock injects
// drift, as a team would rehearse a change of its new IdP.
func driftTarget(t *testing.T, dir, name string, drift ...string) string {
	t.Helper()
	src, err := os.ReadFile(repoFile(t, "fixtures/targets/"+name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	list := "[]"
	if len(drift) > 0 {
		list = "[" + strings.Join(drift, ", ") + "]"
	}
	out := strings.Replace(string(src), "  drift: []", "  drift: "+list, 1)
	if out == string(src) && len(drift) > 0 {
		t.Fatalf("%s has no 'drift: []' to replace", name)
	}
	p := filepath.Join(dir, name+"-"+strings.NewReplacer("=", "-", ",", "-").Replace(strings.Join(drift, "-"))+".yaml")
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The migration the seeds describe: Akoya's old IdP to its new one is not
// breaking; email, which the old contract calls optional, is a warning.
func TestDiffAkoyaLegacyToAkoya(t *testing.T) {
	dir := t.TempDir()
	r := runBin(t, dir, nil, "diff", repoFile(t, "fixtures/targets/mock-akoya-legacy.yaml"), repoFile(t, "fixtures/targets/mock-akoya.yaml"), "--samples", "3")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.all())
	}
	for _, want := range []string{"idpconform diff: PASS", "0 breaking", "WARNING   id_token from authorization_code (client code): email: dropped",
		"presence optional", "sub continuity: the same 2 users kept their sub", "seed 000: addition of net-new claims is non-breaking"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "BREAKING") {
		t.Errorf("a breaking difference:\n%s", r.stdout)
	}
	// results.json matches the schema and decodes.
	run, err := readResults(filepath.Join(dir, "idpconform-diff", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Kind != results.KindDiff || run.Diff == nil || run.Diff.Failed || run.Diff.Counts.Warning == 0 || !run.Diff.Continuity.Checked {
		t.Fatalf("results: %+v", run.Diff)
	}
	// report renders the diff again from results.json.
	r = runBin(t, dir, nil, "report", "--in", "idpconform-diff", "--out", "again", "--format", "html,markdown")
	if r.code != 0 {
		t.Fatalf("report: exit %d\n%s", r.code, r.all())
	}
	html, _ := os.ReadFile(filepath.Join(dir, "again", "report.html"))
	md, _ := os.ReadFile(filepath.Join(dir, "again", "summary.md"))
	if !strings.Contains(string(html), `id="diff-warning"`) || !strings.Contains(string(md), "idpconform diff: mock-akoya-legacy → mock-akoya: PASS") {
		t.Errorf("re-rendered reports lack the diff:\n%s", md)
	}
	// Tightened, the same warnings fail.
	r = runBin(t, dir, nil, "diff", repoFile(t, "fixtures/targets/mock-akoya-legacy.yaml"), repoFile(t, "fixtures/targets/mock-akoya.yaml"),
		"--samples", "0", "--fail-on", "warning", "--format", "markdown", "--report-dir", "")
	if r.code != 1 || !strings.Contains(r.stdout, "### ❌ idpconform diff") || !strings.Contains(r.stdout, "**Warnings: 4**") {
		t.Errorf("--fail-on warning: exit %d\n%s", r.code, r.all())
	}
}

// driftExpect is what the diff must name for each breaking drift of the
// mock's catalogue: the item (claim, header, key check) and a part of the
// rule. A breaking drift missing here fails the test, so the table grows
// with the catalogue.
var driftExpect = map[mockidp.DriftName]struct{ item, rule string }{
	mockidp.DriftDropClaim:        {"sub: dropped", "presence mandatory"},
	mockidp.DriftClaimType:        {"exp: type integer → string", "NumericDate"},
	mockidp.DriftUnstableSub:      {"sub continuity: users[0]: sub changed", "seed 002"},
	mockidp.DriftUnstableAccounts: {"accounts: relation:stable(accounts per sub)", "seed 002: account IDs are persistent"},
	mockidp.DriftRotateKeyDropOld: {"signing keys (JWKS): continuity: earlier tokens stop verifying", "OIDC Core §10.1.1"},
	mockidp.DriftAlg:              {"alg: signing algorithm changed (RS256 → ES256)", "OIDC Core §3.1.3.7"},
}

// TestDiffDriftCatalogue applies each drift the mock can inject to the new
// side of the Akoya migration: a breaking one exits 1 and names its claim
// and rule, a non-breaking one exits 0.
func TestDiffDriftCatalogue(t *testing.T) {
	dir := t.TempDir()
	old := repoFile(t, "fixtures/targets/mock-akoya-legacy.yaml")
	for _, d := range mockidp.Drifts() {
		t.Run(string(d.Name), func(t *testing.T) {
			r := runBin(t, dir, nil, "diff", old, driftTarget(t, dir, "mock-akoya", string(d.Name)), "--samples", "0", "--report-dir", "")
			if !d.Breaking {
				if r.code != 0 || strings.Contains(r.stdout, "BREAKING") {
					t.Errorf("non-breaking drift %s: exit %d\n%s", d.Name, r.code, r.all())
				}
				return
			}
			want, ok := driftExpect[d.Name]
			if !ok {
				t.Fatalf("breaking drift %s has no expectation in driftExpect", d.Name)
			}
			if r.code != 1 {
				t.Fatalf("breaking drift %s: exit %d, want 1\n%s", d.Name, r.code, r.all())
			}
			var block string
			for _, b := range strings.Split(r.stdout, "\n  BREAKING") {
				if strings.Contains(b, want.item) {
					block = b
				}
			}
			if block == "" || !strings.Contains(block, "rule: ") || !strings.Contains(block, want.rule) {
				t.Errorf("breaking drift %s: no BREAKING line naming %q with rule %q:\n%s", d.Name, want.item, want.rule, r.stdout)
			}
		})
	}
}

func TestBaselineCaptureAndDiffFiles(t *testing.T) {
	dir := t.TempDir()
	key := strings.Repeat("0123456789abcdef", 4)
	env := []string{baseline.SubKeyEnv + "=" + key}
	for _, side := range []string{"mock-akoya-legacy", "mock-akoya"} {
		r := runBin(t, dir, env, "baseline", "capture", "-t", repoFile(t, "fixtures/targets/"+side+".yaml"), "-o", side+".json", "--samples", "2")
		if r.code != 0 || !strings.Contains(r.stdout, "baseline of "+side+": "+side+".json") {
			t.Fatalf("capture %s: exit %d\n%s", side, r.code, r.all())
		}
		data, err := os.ReadFile(filepath.Join(dir, side+".json"))
		if err != nil {
			t.Fatal(err)
		}
		// The target file holds the mock's client secrets and the test
		// users' passwords; the baseline holds none of them, nor the key.
		targetSrc, _ := os.ReadFile(repoFile(t, "fixtures/targets/"+side+".yaml"))
		for _, secret := range []string{"idpconform-cc-secret", "idpconform-code-secret", "idpconform-alice-password", "idpconform-bob-password", key, "alice"} {
			if !strings.Contains(string(targetSrc)+key, secret) {
				t.Fatalf("%q is not in the target file: the check proves nothing", secret)
			}
			if strings.Contains(string(data), secret) {
				t.Errorf("baseline %s holds %q", side, secret)
			}
		}
		var head struct {
			SubKey baseline.SubKey `json:"sub_key"`
		}
		if err := json.Unmarshal(data, &head); err != nil || head.SubKey.Source != baseline.KeyProvided {
			t.Errorf("sub key: %+v %v", head.SubKey, err)
		}
	}
	// Two baseline files captured with one key: continuity is checked.
	r := runBin(t, dir, nil, "diff", "mock-akoya-legacy.json", "mock-akoya.json", "--report-dir", "")
	if r.code != 0 || !strings.Contains(r.stdout, "sub continuity: the same 2 users kept their sub") {
		t.Errorf("baseline diff: exit %d\n%s", r.code, r.all())
	}
	// A baseline against a live target without the key: reported as not
	// checked, with what to do.
	r = runBin(t, dir, nil, "diff", "mock-akoya-legacy.json", repoFile(t, "fixtures/targets/mock-akoya.yaml"), "--samples", "0", "--report-dir", "")
	if r.code != 0 || !strings.Contains(r.stdout, "sub continuity: NOT CHECKED: the sides were hashed with different keys") || !strings.Contains(r.stdout, baseline.SubKeyEnv) {
		t.Errorf("mixed keys: exit %d\n%s", r.code, r.all())
	}
	// --write-baselines keeps what a live diff captured.
	r = runBin(t, dir, nil, "diff", "mock-akoya.json", repoFile(t, "fixtures/targets/mock-akoya.yaml"), "--samples", "0", "--report-dir", "", "--write-baselines", "saved")
	if _, err := os.Stat(filepath.Join(dir, "saved", "new.json")); err != nil || r.code != 0 {
		t.Errorf("--write-baselines: exit %d %v\n%s", r.code, err, r.all())
	}
	if _, err := os.Stat(filepath.Join(dir, "saved", "old.json")); err == nil {
		t.Error("a baseline read from a file was written again")
	}
}

func TestDiffUsageErrors(t *testing.T) {
	dir := t.TempDir()
	target := repoFile(t, "fixtures/targets/mock-akoya.yaml")
	bad := filepath.Join(dir, "future.json")
	if err := os.WriteFile(bad, []byte(`{"format":"idpconform-baseline","version":9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"--fail-on \"sometimes\"":          {"diff", target, target, "--fail-on", "sometimes"},
		"latency gate \"p99<1.2x\"":        {"diff", target, target, "--latency", "p99<1.2x"},
		"no such file":                     {"diff", "missing.yaml", target},
		"baseline version 9":               {"diff", bad, target},
		"--format \"xml\"":                 {"diff", target, target, "--format", "xml"},
		"accepts 2 arg(s), received 1":     {"diff", target},
		"sub key has 5 bytes":              {"baseline", "capture", "-t", target, "--sub-key-file", writeFile(t, dir, "k", "short")},
		"--samples -1: expected 0 to 1000": {"baseline", "capture", "-t", target, "--samples", "-1"},
	}
	for want, args := range cases {
		r := runBin(t, dir, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s", args, r.code, want, r.all())
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A misspelt contract name on either side of a diff is refused before any
// capture, at its file:line:col; the twin with the name spelt right
// captures both sides.
func TestDiffChecksContractNamesFirst(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(repoFile(t, "fixtures/targets/mock-akoya.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(src), "\n") {
		if strings.TrimSpace(l) == "id_token: akoya-id-token" {
			line = i + 1
		}
	}
	if line == 0 {
		t.Fatal("mock-akoya.yaml names no id_token contract akoya-id-token")
	}
	typo := writeFile(t, dir, "typo.yaml", strings.Replace(string(src), "id_token: akoya-id-token", "id_token: akoya-id-tokn", 1))
	good := repoFile(t, "fixtures/targets/mock-akoya.yaml")
	want := typo + ":" + strconv.Itoa(line) + ":13: contracts.id_token: unknown contract \"akoya-id-tokn\""
	for name, args := range map[string][]string{"old side": {typo, good}, "new side": {good, typo}} {
		r := runBin(t, dir, nil, append([]string{"diff"}, append(args, "--samples", "0", "--report-dir", "")...)...)
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: exit %d, want 2 and %q\n%s", name, r.code, want, r.all())
		}
		if strings.Contains(r.all(), "capturing") {
			t.Errorf("%s: a side was captured before the typo was reported:\n%s", name, r.all())
		}
	}
	r := runBin(t, dir, nil, "diff", good, good, "--samples", "0", "--report-dir", "")
	if r.code != 0 || strings.Count(r.stderr, "capturing ") != 2 {
		t.Errorf("spelt right: exit %d, want 0 and two captures\n%s", r.code, r.all())
	}
}
