package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.uber.org/goleak"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/mockidp"
	"github.com/idpconform/idpconform/reports"
	"github.com/idpconform/idpconform/reports/schema"
)

// The load tests run the real binary: flags, exit codes, files, signals
// and several processes are what users meet.

// The binary these tests run is built once by TestMain (main_test.go).

// idpconform runs the binary with a bound on its time.
func idpconform(t *testing.T, args ...string) result {
	t.Helper()
	return idpconformEnv(t, nil, args...)
}

// idpconformEnv runs the binary with env added to the environment. The
// step summary of a GitHub runner is never the test's: it is unset unless
// env sets it.
func idpconformEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(append(os.Environ(), "CI=1", "GITHUB_STEP_SUMMARY="), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return r
}

// readRun reads a load run's record, which must match the results schema.
func readRun(t *testing.T, path string) *results.Run {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.ValidateResults(doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	run, err := results.Decode(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if run.Kind != results.KindLoad || run.Load == nil {
		t.Fatalf("%s: kind %q", path, run.Kind)
	}
	return run
}

func countResults(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	n := 0
	for {
		var r vegeta.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("%s: result %d: %v", path, n, err)
		}
		if r.Body != nil || r.Headers != nil {
			t.Fatalf("%s: result %d kept its body or headers", path, n)
		}
		n++
	}
}

// vegetaReport runs vegeta's own CLI (pinned in tools/go.mod) on files.
func vegetaReport(t *testing.T, files ...string) string {
	t.Helper()
	args := append([]string{"tool", "-modfile=../../tools/go.mod", "vegeta", "report"}, files...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("vegeta report: %v\n%s", err, out)
	}
	return string(out)
}

// Rates in these tests are low and --min-attempted 0.5: a process built
// and run beside every other package's tests must not be judged on its
// timing, only on what it writes.
func TestLoadAgainstEmbeddedMock(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := t.TempDir()
	step := filepath.Join(t.TempDir(), "step-summary.md")
	if err := os.WriteFile(step, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := idpconformEnv(t, []string{"GITHUB_STEP_SUMMARY=" + step},
		"load", "--rate", "50/s", "--duration", "1s", "--out", dir, "--slo", "p99<=2s", "--slo", "success>=99%", "--min-attempted", "0.5")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"idpconform load: PASS", "embedded mock signs ES256", "pass p99<=2s: measured", "unique access_token", "verified sample"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// Plain progress lines in CI, never the terminal's carriage returns.
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("progress rewrote a line outside a terminal: %q", r.stderr)
	}
	for _, f := range []string{"results.bin", "results.json", "junit.xml", "report.html", "summary.md", "results.digests", "results-hdr-1.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	run := readRun(t, filepath.Join(dir, "results.json"))
	if run.Load.SigningAlg != "ES256" || !run.Passed() || run.Load.Steps[0].Requests == 0 {
		t.Errorf("run: alg %q passed %v", run.Load.SigningAlg, run.Passed())
	}
	n := countResults(t, filepath.Join(dir, "results.bin"))
	if uint64(n) != run.Load.Steps[0].Requests {
		t.Errorf("results.bin holds %d results, results.json says %d", n, run.Load.Steps[0].Requests)
	}
	// vegeta itself reads our results.
	rep := vegetaReport(t, filepath.Join(dir, "results.bin"))
	if !regexp.MustCompile(`Requests\s+\[total, rate, throughput\]\s+` + regexp.QuoteMeta(itoa(n)) + `,`).MatchString(rep) {
		t.Errorf("vegeta report disagrees (%d results):\n%s", n, rep)
	}
	hdr, _ := os.ReadFile(filepath.Join(dir, "results-hdr-1.txt"))
	if !bytes.HasPrefix(hdr, []byte("Value(ms)")) {
		t.Errorf("HDR file: %.80q", hdr)
	}
	// The step summary got the Markdown summary, after what was there.
	sum, err := os.ReadFile(step)
	if err != nil || !strings.HasPrefix(string(sum), "earlier step\n### ✅ idpconform load: PASS") {
		t.Errorf("step summary (%v):\n%s", err, sum)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !bytes.Contains(page, []byte(`<section id="load"`)) || !bytes.Contains(page, []byte(`id="step-1-timeline"`)) {
		t.Error("report.html has no load section with a chart")
	}
	for _, secret := range []string{mockidp.ClientCCSecret, "eyJ"} {
		for _, f := range []string{"results.bin", "results.json", "junit.xml", "report.html", "summary.md", "results.digests"} {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q", f, secret)
			}
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("output holds %q", secret)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// A breached SLO exits 1 and names the SLO, the measured value and the margin.
func TestLoadGateBreachExits1(t *testing.T) {
	dir := t.TempDir()
	r := idpconform(t, "load", "--rate", "50/s", "--duration", "500ms", "--out", dir, "--slo", "p99<=1us", "-q", "--min-attempted", "0.5")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if run := readRun(t, filepath.Join(dir, "results.json")); run.Passed() {
		t.Error("results.json says a breached run passed")
	}
	if !regexp.MustCompile(`FAIL p99<=1µs: measured [0-9.]+(µs|ms), [0-9.]+(µs|ms) over the limit`).MatchString(r.stdout) {
		t.Errorf("breach not explained:\n%s", r.stdout)
	}
	// --report-only writes the same and exits 0.
	r = idpconform(t, "load", "--rate", "50/s", "--duration", "500ms", "--out", t.TempDir(), "--slo", "p99<=1us", "-q", "--report-only", "--min-attempted", "0.5")
	if r.code != 0 || !strings.Contains(r.stdout, "idpconform load: FAIL") {
		t.Errorf("--report-only: exit %d\n%s", r.code, r.stdout)
	}
}

func TestLoadUsageErrorsExit2(t *testing.T) {
	cases := map[string][]string{
		"0-based":                          {"--shard", "2/2"},
		"upper bound":                      {"--slo", "p99>=1s"},
		"--steps":                          {"--steps", "fast"},
		"needs a latency or success SLO":   {"--find-capacity"},
		"--http":                           {"--http", "3"},
		"cannot be combined":               {"--find-capacity", "--shard", "0/2", "--slo", "p99<=1s"},
		"above the bound":                  {"--rate", "1000/s", "--duration", "1h"},
		"unknown scenario":                 {"--scenario", "password"},
		"has no client":                    {"--client", "nobody"},
		"if any flags in the group":        {"--steps", "1/s", "--ramp", "1/s:2/s"},
		"--pool-timeout must be positive":  {"--scenario", "refresh", "--pool-timeout", "0s"},
		"no akkess: section":               {"--scenario", "akkess-token"},
		"not registered for refresh_token": {"--scenario", "refresh", "--client", "cc"},
		"prepares no pool":                 {"--pool", "10"},
		"--rate: 2000000000/s: expected at least 0.01/s and at most 1000000/s": {"--rate", "2000000000/s", "--duration", "1us"},
		"--steps: 2000000/s: expected":                                         {"--steps", "10/s,2000000/s"},
		"--ramp: 5000000/s: expected":                                          {"--ramp", "10/s:5000000/s"},
		"--max-rate: 1000000000/s: expected":                                   {"--find-capacity", "--max-rate", "1000000000/s", "--slo", "p99<=1s"},
	}
	for want, args := range cases {
		r := idpconform(t, append([]string{"load", "--out", t.TempDir()}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", args, r.code, r.stderr, want)
		}
	}
}

// The scenarios that prepare credentials, from the binary: a refresh run
// reports what seeding cost and its replay check, and never writes a
// password, a secret or a token; a pool too small for the plan stops the
// attack and exits 1 saying why; an Akkess target that drops cty fails
// its verification sample.
func TestLoadScenariosThatPrepareCredentials(t *testing.T) {
	dir := t.TempDir()
	r := idpconform(t, "load", "--scenario", "refresh", "--rate", "20/s", "--duration", "1s", "--out", dir, "--min-attempted", "0.5", "-q")
	if r.code != 0 {
		t.Fatalf("refresh: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"scenario refresh, client code", "prepared before the attack (not in the figures above): 20 of 20 refresh tokens from logins", "pass refresh reuse refused"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	run := readRun(t, filepath.Join(dir, "results.json"))
	if p := run.Load.Preparation; p == nil || p.Got != 20 || p.Duration <= 0 {
		t.Errorf("preparation: %+v", p)
	}
	for _, secret := range []string{mockidp.UserAlicePassword, mockidp.UserBobPassword, mockidp.ClientCodeSecret, "eyJ"} {
		for _, f := range []string{"results.bin", "results.json", "junit.xml", "report.html", "summary.md"} {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q", f, secret)
			}
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("output holds %q", secret)
		}
	}

	dir = t.TempDir()
	r = idpconform(t, "load", "--scenario", "refresh", "--client", "refresh-static", "--pool", "5", "--rate", "20/s", "--duration", "2s", "--out", dir, "--min-attempted", "0.5", "-q")
	if r.code != 1 || !strings.Contains(r.stdout, "stopped before the plan's end:") || !strings.Contains(r.stdout, "refresh token pool ran dry after 5 refreshes") {
		t.Errorf("dry pool: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if run := readRun(t, filepath.Join(dir, "results.json")); run.Load.Steps[0].Requests != 5 || run.Passed() {
		t.Errorf("dry pool run: %+v", run.Load.Steps[0].Stopped)
	}

	r = idpconform(t, "load", "--target", "../../fixtures/targets/mock-akkess.yaml", "--scenario", "akkess-token", "--mock-fault", "akkess-no-cty",
		"--rate", "20/s", "--duration", "500ms", "--verify-every", "1", "--out", t.TempDir(), "--min-attempted", "0.5", "-q")
	if r.code != 1 || !strings.Contains(r.stdout, "akkess_t1: cty header missing or not the one required") {
		t.Errorf("akkess without cty: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// load --help lists every scenario with its line.
func TestLoadHelpListsScenarios(t *testing.T) {
	r := idpconform(t, "load", "--help")
	for _, want := range []string{"refresh ", "introspection ", "authcode ", "akkess-token ", "client-credentials ", "jwks ", "--pool ", "--pool-timeout "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// startMockProcess runs `idpconform mock` on a free loopback port and
// returns its issuer and pid.
func startMockProcess(t *testing.T) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, "mock", "--addr", "127.0.0.1:0", "--alg", "ES256")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	sc := bufio.NewScanner(out)
	re := regexp.MustCompile(`serving issuer (http://127\.0\.0\.1:\d+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return m[1], cmd.Process.Pid
		}
	}
	t.Fatalf("mock printed no issuer: %v", sc.Err())
	return "", 0
}

// Shards as separate processes against one mock process, then merged: the
// local rehearsal of deploy/k8s.
func TestLoadShardsAsProcessesThenMerge(t *testing.T) {
	issuer, pid := startMockProcess(t)
	dir := t.TempDir()
	tgt := filepath.Join(dir, "mock-process.yaml")
	if err := os.WriteFile(tgt, []byte(`name: mock-process
issuer: `+issuer+`
clients:
  - name: cc
    id: `+mockidp.ClientCC+`
    secret: ${IDPCONFORM_CC_SECRET:-`+mockidp.ClientCCSecret+`}
    grants: [client_credentials]
    scopes: [api:read]
contracts:
  access_token: rfc9068-access-token
slos:
  - p99<=2s
  - throughput>=50/s
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results")
	var wg sync.WaitGroup
	res := make([]result, 2)
	// Both shards wait for the same instant, as the pods of a Job do.
	startAt := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = idpconformNoT(binary, "load", "--target", tgt, "--rate", "100/s", "--duration", "1s",
				"--shard", itoa(i)+"/2", "--out", out, "--report-only", "-q", "--min-attempted", "0.5", "--target-pid", itoa(pid), "--start-at", startAt)
		}()
	}
	wg.Wait()
	for i, r := range res {
		if r.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s\n%s", i, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "shard "+itoa(i)+"/2") {
			t.Errorf("shard %d summary:\n%s", i, r.stdout)
		}
	}
	var sent uint64
	var starts []time.Time
	for i := range 2 {
		run := readRun(t, filepath.Join(out, "shard-"+itoa(i)+"-of-2.json"))
		starts = append(starts, run.Load.Steps[0].StartedAt)
		if run.Load.Shard == nil || run.Load.Shard.Index != i || run.Load.Steps[0].RequestedRate != 50 {
			t.Errorf("shard %d record: %+v", i, run.Load.Shard)
		}
		if c := run.Load.Steps[0].CPU; c == nil || c.TargetSeconds <= 0 {
			t.Errorf("shard %d: target CPU not recorded: %+v", i, c)
		}
		sent += run.Load.Steps[0].Requests
	}
	if d := starts[0].Sub(starts[1]).Abs(); d > 500*time.Millisecond {
		t.Errorf("shards started %s apart despite --start-at", d)
	}

	merged := filepath.Join(dir, "merged")
	step := filepath.Join(t.TempDir(), "step-summary.md")
	r := idpconformEnv(t, []string{"GITHUB_STEP_SUMMARY=" + step}, "load", "merge", "--out", merged, "--min-attempted", "0.5",
		filepath.Join(out, "shard-0-of-2.bin"), filepath.Join(out, "shard-1-of-2.bin"))
	if r.code != 0 {
		t.Fatalf("merge: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "merged from 2 files") || !strings.Contains(r.stdout, "pass throughput>=50/s") {
		t.Errorf("merge summary:\n%s", r.stdout)
	}
	if sum, err := os.ReadFile(step); err != nil || !strings.Contains(string(sum), "merged from 2 files") {
		t.Errorf("merge step summary (%v):\n%s", err, sum)
	}
	for _, f := range []string{reports.HTMLFile, reports.MarkdownFile, reports.JUnitFile} {
		if _, err := os.Stat(filepath.Join(merged, f)); err != nil {
			t.Errorf("merge wrote no %s: %v", f, err)
		}
	}
	run := readRun(t, filepath.Join(merged, "results.json"))
	st := run.Load.Steps[0]
	if st.Requests != sent || st.RequestedRate != 100 || st.Name != "100/s" {
		t.Errorf("merged: %d of %d sent, rate %v, name %q", st.Requests, sent, st.RequestedRate, st.Name)
	}
	if n := countResults(t, filepath.Join(merged, "results.bin")); uint64(n) != sent {
		t.Errorf("merged results.bin holds %d, want %d", n, sent)
	}
	// vegeta's own multi-file report sees the same total.
	rep := vegetaReport(t, filepath.Join(out, "shard-0-of-2.bin"), filepath.Join(out, "shard-1-of-2.bin"))
	if !strings.Contains(rep, "Requests      [total, rate, throughput]         "+itoa(int(sent))+",") {
		t.Errorf("vegeta report of both shards (%d sent):\n%s", sent, rep)
	}

	// The same merge (a directory stands for its shard files) gated on
	// more than the shards sent fails.
	r = idpconform(t, "load", "merge", "--out", filepath.Join(dir, "merged2"), "--slo", "throughput>=1000/s", out)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL throughput>=1000/s") {
		t.Errorf("merge with an unmet SLO: exit %d\n%s", r.code, r.stdout)
	}
}

func idpconformNoT(bin string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "CI=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		r.code = -1
		r.stderr += err.Error()
	}
	return r
}

// Ctrl-C stops the attack cleanly: exit 1, the results so far kept whole.
func TestLoadInterruptKeepsResults(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "load", "--rate", "20/s", "--duration", "30s", "--out", dir, "-q", "--min-attempted", "0.5")
	cmd.Env = append(os.Environ(), "GITHUB_STEP_SUMMARY=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// results.bin is created when the attack is about to start.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "results.bin")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no results written:\n%s", errb.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the run did not stop on SIGINT")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v\n%s\n%s", err, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted: stopping the attack") || !strings.Contains(out.String(), "FAIL run completed: interrupted") {
		t.Errorf("interrupt not reported:\n%s\n%s", out.String(), errb.String())
	}
	run := readRun(t, filepath.Join(dir, "results.json"))
	n := countResults(t, filepath.Join(dir, "results.bin"))
	if !run.Load.Interrupted || n == 0 || uint64(n) != run.Load.Steps[0].Requests || n >= 600 {
		t.Errorf("interrupted %v, %d results, record says %d", run.Load.Interrupted, n, run.Load.Steps[0].Requests)
	}
}

// TestReportRerendersALoadRun: `idpconform report --in DIR` reads a load
// run back (schema-checked) and renders its HTML, Markdown and JUnit again,
// with its terminal summary; a load record broken in one place is refused
// with exit 2, naming the place.
func TestReportRerendersALoadRun(t *testing.T) {
	dir := t.TempDir()
	if r := idpconform(t, "load", "--steps", "20/s,40/s", "--duration", "500ms", "--out", dir, "-q", "--min-attempted", "0.5",
		"--slo", "p99<=2s"); r.code != 0 {
		t.Fatalf("load: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	again := t.TempDir()
	r := idpconform(t, "report", "--in", dir, "--out", again)
	if r.code != 0 {
		t.Fatalf("report: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "idpconform load: PASS") || !strings.Contains(r.stdout, "step 2 40/s") {
		t.Errorf("report's terminal summary:\n%s", r.stdout)
	}
	page, err := os.ReadFile(filepath.Join(again, reports.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(dir, reports.HTMLFile))
	if !bytes.Equal(page, first) {
		t.Error("the re-rendered report.html differs from the one the run wrote")
	}
	md, _ := os.ReadFile(filepath.Join(again, reports.MarkdownFile))
	if !strings.Contains(string(md), "| step 1 20/s | 20/s |") {
		t.Errorf("summary.md:\n%s", md)
	}

	// The twin: a step whose request count is not a count is refused.
	doc, err := os.ReadFile(filepath.Join(dir, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(t.TempDir(), reports.JSONFile)
	if err := os.WriteFile(broken, bytes.Replace(doc, []byte(`"requests": `), []byte(`"requests": -`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	r = idpconform(t, "report", "--in", broken)
	if r.code != 2 || !strings.Contains(r.stderr, "/load/steps/0/requests") {
		t.Errorf("broken load record: exit %d\n%s", r.code, r.stderr)
	}
}

// A load run trusts the target's tls.ca_file, in its attack as in its
// setup: against the mock over HTTPS every hit succeeds with the CA, and
// without it the run stops at once naming the unknown authority.
func TestLoadOverTLSWithTargetCA(t *testing.T) {
	srv, err := mockidp.NewTLSServer("", mockidp.Options{SigningAlg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), srv.CA.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	write := localMockVariants(t, dir)
	env := []string{"IDPCONFORM_MOCK_ISSUER=" + srv.URL}
	out := filepath.Join(dir, "out")
	r := idpconformEnv(t, env, "load", "--target", write("tls.yaml", "tls:\n  ca_file: ca.pem\n"), "--rate", "20/s", "--duration", "1s",
		"--out", out, "--min-attempted", "0.5", "-q")
	if r.code != 0 {
		t.Fatalf("load over TLS with the CA: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	run := readRun(t, filepath.Join(out, "results.json"))
	if st := run.Load.Steps[0]; st.Requests == 0 || st.OK != st.Requests {
		t.Errorf("with the CA: %d of %d ok; errors %+v", st.OK, st.Requests, st.Errors)
	}
	r = idpconformEnv(t, env, "load", "--target", write("no-ca.yaml", ""), "--rate", "20/s", "--duration", "1s",
		"--out", filepath.Join(dir, "out2"), "--min-attempted", "0.5", "-q")
	if r.code == 0 || !strings.Contains(r.all(), "x509: certificate signed by unknown authority") {
		t.Errorf("without the CA: exit %d\n%s", r.code, r.all())
	}
}

// localMockVariants returns a writer of target files in dir: the bundled
// local-mock.yaml with extra YAML appended, named name.
func localMockVariants(t *testing.T, dir string) func(name, extra string) string {
	t.Helper()
	src, err := os.ReadFile(repoFile(t, "fixtures/targets/local-mock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return func(name, extra string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, append(src, []byte(extra)...), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}
