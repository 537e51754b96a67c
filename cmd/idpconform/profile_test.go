package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
)

// profileVendor is the vendor whose specs a profile's bundled target opts
// into. A profile missing here fails the test, so a new one is thought about.
var profileVendor = map[string]string{
	"generic":      "",
	"akoya":        "akoya",
	"akoya-legacy": "akoya",
	"akkess":       "akkess",
	"nextidentity": "nextidentity",
}

func readConformRun(t *testing.T, path string) *results.Run {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := results.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return run
}

// --mock-profile with no --target runs the profile's own bundled target: its
// vendor specs run and pass, other vendors' specs stay out. Swapping only the
// profile of mock.yaml judged Akoya's invalid_request by the generic clients'
// invalid_grant and skipped every vendor spec.
func TestConformEveryMockProfilePasses(t *testing.T) {
	// The runs mostly wait on the expiry specs' clocks, so they start
	// together rather than under -parallel's bound of GOMAXPROCS.
	type started struct {
		profile, dir string
		cmd          *exec.Cmd
		out          *bytes.Buffer
	}
	var runs []started
	for _, p := range target.MockProfiles {
		if _, ok := profileVendor[p]; !ok {
			t.Errorf("profile %s: no expected vendor in profileVendor", p)
			continue
		}
		dir := t.TempDir()
		// The expiry specs wait out token lifetimes and judge no profile
		// choice; five runs of them at once on a loaded two-core machine
		// timed out a token request. The profile's own vendor specs run
		// whatever their scenario.
		filter := "!expiry"
		if v := profileVendor[p]; v != "" {
			filter += " || " + v
		}
		cmd := exec.Command(binary, "conform", "--mock-profile", p, "--no-color", "--label-filter", filter)
		cmd.Dir = dir
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start conform --mock-profile %s: %v", p, err)
		}
		runs = append(runs, started{p, dir, cmd, out})
	}
	for _, st := range runs {
		err := st.cmd.Wait()
		t.Run(st.profile, func(t *testing.T) {
			p, vendor := st.profile, profileVendor[st.profile]
			if err != nil {
				t.Fatalf("conform --mock-profile %s: %v, want exit 0\n%s", p, err, st.out)
			}
			run := readConformRun(t, filepath.Join(st.dir, "idpconform-report", "results.json"))
			if run.Target.Name != "mock-"+p || run.Target.MockProfile != p {
				t.Errorf("target %q profile %q, want mock-%s and %s", run.Target.Name, run.Target.MockProfile, p, p)
			}
			ran := 0
			for _, s := range run.Specs {
				for _, v := range target.VendorNames {
					if !slices.Contains(s.Labels, v) {
						continue
					}
					switch {
					case v == vendor && s.State != results.Passed:
						t.Errorf("%s spec %q: %s (%s), want passed", v, s.Name, s.State, s.SkipReason)
					case v == vendor:
						ran++
					case s.State != results.Skipped:
						t.Errorf("%s spec %q ran against profile %s: %s", v, s.Name, p, s.State)
					}
				}
			}
			if vendor != "" && ran == 0 {
				t.Errorf("no %s spec ran", vendor)
			}
		})
	}
}

// The failing twin: the same profile with a claim Akoya requires dropped
// fails on that claim, so the passes above are the profile's contract
// speaking, not a check that cannot fail.
func TestConformMockProfileCatchesDrift(t *testing.T) {
	r := runBin(t, t.TempDir(), nil, "conform", "--mock-profile", "akoya", "--mock-drift", "drop-claim=recipientId", "-l", "authcode", "--no-color")
	if r.code != 1 || !strings.Contains(r.stdout, "akoya-id-token") || !strings.Contains(r.stdout, `"recipientId"`) {
		t.Errorf("akoya without recipientId: exit %d, want 1 naming recipientId in contract akoya-id-token\n%s", r.code, r.all())
	}
}

// load takes the profile's bundled target too: its akkess section is what
// the akkess-token scenario needs, and mock.yaml has none.
func TestLoadMockProfileTakesItsTarget(t *testing.T) {
	r := idpconform(t, "load", "--mock-profile", "akkess", "--scenario", "akkess-token", "--rate", "20/s", "--duration", "500ms",
		"--out", t.TempDir(), "--min-attempted", "0.5", "-q")
	if r.code != 0 || !strings.Contains(r.stdout, "target mock-akkess") {
		t.Errorf("load --mock-profile akkess: exit %d, want 0 against target mock-akkess\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = idpconform(t, "load", "--mock-profile", "akkess", "--scenario", "akkess-token", "--mock-fault", "akkess-no-cty", "--verify-every", "1",
		"--rate", "20/s", "--duration", "500ms", "--out", t.TempDir(), "--min-attempted", "0.5", "-q")
	if r.code != 1 || !strings.Contains(r.stdout, "cty header missing") {
		t.Errorf("load --mock-profile akkess with akkess-no-cty: exit %d, want 1 naming cty\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
