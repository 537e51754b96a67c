package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startMock runs `idpconform mock` with args and returns its banner; the
// process is interrupted when the test ends.
func startMock(t *testing.T, args ...string) (addr, banner string) {
	t.Helper()
	addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(binary, append([]string{"mock", "--addr", addr}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("mock exit: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("mock did not stop on SIGINT")
		}
	})
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
	case banner = <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("mock did not start")
	}
	return addr, banner
}

func ccStatus(t *testing.T, tokenURL string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("idpconform-cc", "idpconform-cc-secret")
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestMockIssuersFaultsAndAdmin(t *testing.T) {
	addr, banner := startMock(t, "--issuer", "old=akoya-legacy", "--issuer", "new=akoya", "--fault", "new/status-5xx=1", "--drift", "old/add-claim=x", "--admin")
	base := "http://" + addr
	for _, want := range []string{"serving issuer " + base + "\n", "(profile akoya-legacy, RS256) serving issuer " + base + "/old", "faults: status-5xx=1", "drift: add-claim=x", "admin API: " + base + "/new/_admin"} {
		if !strings.Contains(banner+"\n", want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if s := ccStatus(t, base+"/new/token"); s != 503 {
		t.Errorf("faulted issuer: HTTP %d", s)
	}
	// Twin: the other issuers answer.
	if s := ccStatus(t, base+"/old/token"); s != 200 {
		t.Errorf("old issuer: HTTP %d", s)
	}
	// The admin API switches the fault off.
	req, _ := http.NewRequest(http.MethodDelete, base+"/new/_admin/faults", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("admin: %v", err)
	}
	res.Body.Close()
	if s := ccStatus(t, base+"/new/token"); s != 200 {
		t.Errorf("after DELETE faults: HTTP %d", s)
	}
}

func TestMockFromTargetFile(t *testing.T) {
	_, banner := startMock(t, "--target", repoFile(t, "fixtures/targets/mock-nextidentity.yaml"), "--fault", "no-pragma")
	if !strings.Contains(banner, "(profile nextidentity, RS256)") || !strings.Contains(banner, "faults: no-pragma") {
		t.Errorf("banner:\n%s", banner)
	}
}

func TestMockUsage(t *testing.T) {
	cases := map[string][]string{
		"unknown fault":      {"--fault", "no-such-fault"},
		"bad fault value":    {"--fault", "latency=soon"},
		"unknown drift":      {"--drift", "drop-claims=sub"},
		"bad issuer":         {"--issuer", "a/b=akoya"},
		"unknown profile":    {"--profile", "okta"},
		"issuer profile":     {"--issuer", "x=okta"},
		"twice":              {"--issuer", "x=akoya", "--issuer", "x=generic"},
		"target and profile": {"--target", "x.yaml", "--profile", "akoya"},
		"missing key":        {"--key", "/does/not/exist.pem"},
		"real target":        {"--target", repoFile(t, "fixtures/targets/local-mock.yaml")},
		"vendor fault":       {"--fault", "akkess-no-cty"},
	}
	for name, args := range cases {
		r := runBin(t, t.TempDir(), nil, append([]string{"mock", "--addr", "127.0.0.1:0"}, args...)...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "idpconform: ") {
			t.Errorf("%s: exit %d\n%s", name, r.code, r.all())
		}
	}
	r := runBin(t, t.TempDir(), nil, "mock", "--fault", "bogus")
	if !strings.Contains(r.stderr, "valid faults: latency") {
		t.Errorf("no list of valid faults: %s", r.stderr)
	}
}

func TestMockList(t *testing.T) {
	r := runBin(t, t.TempDir(), nil, "mock", "--list")
	for _, want := range []string{"PROFILES", "akoya-legacy", "DRIFTS", "drop-claim=NAME", "FAULTS", "no-cache-control", "RFC 6749 §5.1 (MUST)", "client-credentials"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--list lacks %q", want)
		}
	}
	j := runBin(t, t.TempDir(), nil, "mock", "--list-json")
	if j.code != 0 || !strings.Contains(j.stdout, `"caught_by"`) || !strings.Contains(j.stdout, `"breaking"`) {
		t.Errorf("--list-json: exit %d\n%s", j.code, j.stdout[:min(200, len(j.stdout))])
	}
}

func TestConformMockFlags(t *testing.T) {
	r := runBin(t, t.TempDir(), nil, "conform", "--mock-fault", "no-cache-control", "-l", "client-credentials")
	if r.code != 1 || !strings.Contains(r.stdout, "Cache-Control: no-store") {
		t.Errorf("conform with a fault: exit %d\n%s", r.code, r.stdout)
	}
	r = runBin(t, t.TempDir(), nil, "conform", "--mock-drift", "drop-claim=sub", "-l", "client-credentials")
	if r.code != 1 || !strings.Contains(r.stdout, "claim contract") {
		t.Errorf("conform with a drift: exit %d\n%s", r.code, r.stdout)
	}
	for _, args := range [][]string{{"--mock-fault", "bogus"}, {"--mock-drift", "x"}, {"--target", repoFile(t, "fixtures/targets/local-mock.yaml"), "--mock-fault", "no-pragma"}} {
		if r := runBin(t, t.TempDir(), nil, append([]string{"conform"}, args...)...); r.code != 2 {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.all())
		}
	}
}

// The banner says which claim a drift acts on, its default included; an
// empty value and a claim the profile never issues are refused, the latter
// with the profile's claims.
func TestMockDriftNamesItsClaim(t *testing.T) {
	_, banner := startMock(t, "--drift", "drop-claim", "--drift", "reorder-claims")
	if !strings.Contains(banner, "drift: drop-claim=sub, reorder-claims=reverse") {
		t.Errorf("banner does not name the drifts' values:\n%s", banner)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--drift", "drop-claim="}, `drift drop-claim: empty value after "="`},
		{[]string{"--profile", "akoya", "--drift", "claim-type=nonexist"}, "profile akoya never issues a claim \"nonexist\"; its tokens and userinfo answers carry accounts,"},
		{[]string{"--issuer", "old=akoya-legacy", "--drift", "old/drop-claim=recipientId"}, "profile akoya-legacy never issues a claim \"recipientId\""},
	} {
		r := runBin(t, t.TempDir(), nil, append([]string{"mock", "--addr", "127.0.0.1:0"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 saying %q\n%s", c.args, r.code, c.want, r.all())
		}
	}
	// The twin of the refusal: the profile that issues the claim takes it.
	_, banner = startMock(t, "--profile", "akoya", "--drift", "claim-type=recipientId")
	if !strings.Contains(banner, "drift: claim-type=recipientId") {
		t.Errorf("akoya with claim-type=recipientId:\n%s", banner)
	}
}
