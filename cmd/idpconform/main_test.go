package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/results"
)

// These tests build the real binary and run it as a user would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "idpconform-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "idpconform")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) all() string { return r.stdout + r.stderr }

func runBin(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func repoFile(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConformDefaultMockPasses(t *testing.T) {
	dir := t.TempDir()
	r := runBin(t, dir, nil, "conform")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.all())
	}
	for _, want := range []string{"idpconform conformance: PASS", "scenario", "client-credentials", "discovery", "reports: "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Props []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "idpconform-report", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Tests == 0 || suites.Failures != 0 || len(suites.Suites) < 2 {
		t.Errorf("junit: %+v", suites)
	}
	if p := suites.Suites[0].Cases[0].Props; len(p) < 2 || p[0].Name != "requirement" || p[0].Value == "" {
		t.Errorf("junit testcase lacks the requirement: %+v", p)
	}
	var run struct {
		SchemaVersion string `json:"schema_version"`
		Summary       struct {
			Verdict string `json:"verdict"`
		} `json:"summary"`
	}
	b, err = os.ReadFile(filepath.Join(dir, "idpconform-report", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &run); err != nil || run.SchemaVersion != "1" || run.Summary.Verdict != "pass" {
		t.Errorf("results.json: %+v %v", run, err)
	}
}

func TestConformWrongSecret(t *testing.T) {
	const secret = "wrong-secret-from-env-4f1c2b"
	dir := t.TempDir()
	r := runBin(t, dir, []string{"IDPCONFORM_CC_SECRET=" + secret}, "conform", "--label-filter", "client-credentials")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.all())
	}
	if !strings.Contains(r.stdout, "RFC 6749 §5.1 (MUST): token endpoint status (answer: HTTP 401 invalid_client") {
		t.Errorf("failure line does not name the requirement and status:\n%s", r.stdout)
	}
	if strings.Contains(r.all(), secret) {
		t.Error("secret printed")
	}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestConformConfigTypo(t *testing.T) {
	src, err := os.ReadFile(repoFile(t, "fixtures/targets/mock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "    auth_method: client_secret_post", "    auth_methd: client_secret_post", 1)
	p := filepath.Join(t.TempDir(), "typo.yaml")
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, t.TempDir(), nil, "conform", "--target", p)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.all())
	}
	if !strings.Contains(r.stderr, p+":") || !strings.Contains(r.stderr, `unknown field "auth_methd"`) || !strings.Contains(r.stderr, `did you mean "auth_method"`) {
		t.Errorf("error lacks file:line and field:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "Running Suite") {
		t.Error("suite ran despite the bad config")
	}
}

func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{"conform", "--bogus"},
		{"conform", "--label-filter", "((("},
		{"conform", "--mock-profile", "okta"},
		{"conform", "--verbosity", "loud"},
		{"conform", "--target", "/does/not/exist.yaml"},
		{"conform", "--target", repoFile(t, "fixtures/targets/local-mock.yaml"), "--mock-profile", "akoya"},
		{"nosuchcommand"},
	}
	for _, args := range cases {
		r := runBin(t, t.TempDir(), nil, args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.all())
		}
		if !strings.HasPrefix(r.stderr, "idpconform: ") {
			t.Errorf("%v: stderr %q", args, r.stderr)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, cmd := range []string{"conform", "mock", "version"} {
		r := runBin(t, t.TempDir(), nil, cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help: exit %d\n%s", cmd, r.code, r.stdout)
		}
	}
	r := runBin(t, t.TempDir(), nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "idpconform ") {
		t.Errorf("version: %+v", r)
	}
	if r2 := runBin(t, t.TempDir(), nil, "--version"); r2.stdout != r.stdout {
		t.Errorf("--version %q differs from version %q", r2.stdout, r.stdout)
	}
}

func TestDryRunLists(t *testing.T) {
	dir := t.TempDir()
	r := runBin(t, dir, nil, "conform", "--dry-run", "-l", "discovery")
	if r.code != 0 || !strings.Contains(r.stdout, "dry run: 7 of") || !strings.Contains(r.stdout, "RFC 7517 §9.2") {
		t.Errorf("dry run: exit %d\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout, "client-credentials  MUST") {
		t.Error("dry run lists specs the filter excludes")
	}
	if _, err := os.Stat(filepath.Join(dir, "idpconform-report")); !os.IsNotExist(err) {
		t.Error("dry run wrote reports")
	}
}

// The mock as its own process, and conform against it through a target file.
func TestStandaloneMock(t *testing.T) {
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	mock := exec.Command(binary, "mock", "--addr", addr)
	stdout, err := mock.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := mock.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = mock.Process.Kill(); _ = mock.Wait() }()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "Ctrl-C") {
				ready <- strings.Join(lines, "\n")
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case banner := <-ready:
		if !strings.Contains(banner, "serving issuer http://"+addr) {
			t.Errorf("banner: %s", banner)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("mock did not start")
	}

	runDir := t.TempDir()
	r := runBin(t, runDir, []string{"IDPCONFORM_MOCK_ISSUER=http://" + addr}, "conform", "--target", repoFile(t, "fixtures/targets/local-mock.yaml"))
	if r.code != 0 {
		t.Fatalf("conform against the standalone mock: exit %d\n%s", r.code, r.all())
	}
	if !strings.Contains(r.stdout, "issuer http://"+addr) {
		t.Errorf("summary does not name the issuer:\n%s", r.stdout)
	}
	// local-mock.yaml declares what the standalone mock serves, so every
	// scenario of the generic profile runs, not only discovery and client
	// credentials.
	passed := map[string]int{}
	for _, s := range readConformRun(t, filepath.Join(runDir, "idpconform-report", "results.json")).Specs {
		if s.State == results.Passed {
			passed[s.Scenario]++
		}
	}
	for _, sc := range []string{"discovery", "client-credentials", "authcode", "refresh", "introspection", "revocation", "expiry", "security"} {
		if passed[sc] == 0 {
			t.Errorf("no %s spec passed against the standalone mock; passed by scenario: %v", sc, passed)
		}
	}

	// Interrupted, the mock stops cleanly with status 0.
	if err := mock.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mock.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("mock exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("mock did not stop on SIGINT")
	}

	// The twin: with the mock gone, the same run fails.
	r = runBin(t, t.TempDir(), []string{"IDPCONFORM_MOCK_ISSUER=http://" + addr}, "conform", "--target", repoFile(t, "fixtures/targets/local-mock.yaml"), "--timeout", "1m")
	if r.code != 1 || !strings.Contains(r.stdout, "discovery failed") && !strings.Contains(r.stdout, "connection refused") {
		t.Errorf("conform without a mock: exit %d\n%s", r.code, r.stdout)
	}
}

func TestMockRefusesNonLoopback(t *testing.T) {
	r := runBin(t, t.TempDir(), nil, "mock", "--addr", "0.0.0.0:0")
	if r.code != 2 || !strings.Contains(r.stderr, "not loopback") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestExpectedFailures(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "known.yaml")
	src := `expected_failures:
  - spec: "~^client-credentials "
    reason: secret rotation in progress
    owner: qa
    expires: 2999-01-01
`
	if err := os.WriteFile(list, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"IDPCONFORM_CC_SECRET=rotated-away-secret-77"}
	r := runBin(t, dir, env, "conform", "-l", "client-credentials", "--expected-failures", list)
	if r.code != 0 || !strings.Contains(r.stdout, "XFAIL") || !strings.Contains(r.stdout, "secret rotation in progress") {
		t.Errorf("known deviations: exit %d\n%s", r.code, r.all())
	}
	// The twin: an expired list excuses nothing.
	if err := os.WriteFile(list, []byte(strings.Replace(src, "2999-01-01", "2020-01-01", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, dir, env, "conform", "-l", "client-credentials", "--expected-failures", list)
	if r.code != 1 || !strings.Contains(r.stdout, "expected failure expired on 2020-01-01") {
		t.Errorf("expired list: exit %d\n%s", r.code, r.stdout)
	}
}

func TestSelftest(t *testing.T) {
	r := runBin(t, t.TempDir(), nil, "selftest", "--match", "fault (no-cache-control|duplicate-kid)$|drift reorder-claims=reverse$")
	if r.code != 0 || !strings.Contains(r.stdout, "3 injections, 3 as expected, 0 mismatched") {
		t.Errorf("selftest: exit %d\n%s", r.code, r.all())
	}
	r = runBin(t, t.TempDir(), nil, "selftest", "--list")
	if r.code != 0 || !strings.Contains(r.stdout, "judged by load gates") || !strings.Contains(r.stdout, "drift  drop-claim=sub") {
		t.Errorf("selftest --list: exit %d\n%s", r.code, r.stdout)
	}
	if r := runBin(t, t.TempDir(), nil, "selftest", "--match", "no-such-injection"); r.code != 2 {
		t.Errorf("selftest with a match selecting nothing: exit %d", r.code)
	}
}

// --mock-drift/--mock-fault reach the embedded mock of every command that
// starts one.
func TestMockFlagsOnEveryCommand(t *testing.T) {
	legacy, akoya := repoFile(t, "fixtures/targets/mock-akoya-legacy.yaml"), repoFile(t, "fixtures/targets/mock-akoya.yaml")
	dir := t.TempDir()
	r := runBin(t, dir, nil, "diff", legacy, akoya, "--new-mock-drift", "drop-claim=recipientId", "--report-dir", filepath.Join(dir, "d1"))
	if r.code != 1 || !strings.Contains(r.stdout, "recipientId") {
		t.Errorf("diff with a breaking drift on the new side: exit %d\n%s", r.code, r.all())
	}
	r = runBin(t, dir, nil, "diff", legacy, akoya, "--new-mock-drift", "add-claim=brand_new", "--report-dir", filepath.Join(dir, "d2"))
	if r.code != 0 {
		t.Errorf("diff with a tolerated drift on the new side: exit %d\n%s", r.code, r.all())
	}
	r = runBin(t, dir, nil, "load", "--mock-fault", "latency=1s@token", "--rate", "5/s", "--duration", "2s", "--slo", "p99<=250ms", "--out", filepath.Join(dir, "l"), "-q")
	if r.code != 1 || !strings.Contains(r.all(), "p99<=250ms") {
		t.Errorf("load with injected latency: exit %d\n%s", r.code, r.all())
	}
	for _, args := range [][]string{
		{"load", "--mock-fault", "no-such-fault"},
		{"baseline", "capture", "--mock-drift", "no-such-drift", "-o", filepath.Join(dir, "b.json")},
		{"load", "--target", repoFile(t, "fixtures/targets/local-mock.yaml"), "--mock-fault", "latency=5ms"},
	} {
		if r := runBin(t, dir, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.all())
		}
	}
}
