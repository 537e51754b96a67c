package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/mockidp"
)

// leakPatterns find credentials in text by their shape, independent of any
// registry: JSON members and form or query parameters that carry secrets
// with a value other than the redaction marker, and unmasked JWTs.
var leakPatterns = []*regexp.Regexp{
	regexp.MustCompile(`"(access_token|refresh_token|id_token|code|client_secret|client_assertion)":\s*"([^"]+)"`),
	regexp.MustCompile(`[?&](code|client_secret|password|refresh_token|client_assertion|token)=([^&\s"]+)`),
	regexp.MustCompile(`(Authorization): (Basic|Bearer) (\S+)`),
	regexp.MustCompile(`()()(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})`),
}

// leaks returns each credential-shaped value in text that is not redacted.
func leaks(text string) []string {
	var out []string
	for _, re := range leakPatterns {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			v := m[len(m)-1]
			if v != "[REDACTED]" && v != "%5BREDACTED%5D" {
				out = append(out, m[0])
			}
		}
	}
	return out
}

func TestLeakScanFindsLeaks(t *testing.T) {
	leaky := `{"access_token": "abc123"} POST /token?code=xyz&state=s Authorization: Basic aWQ6c2VjcmV0 eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig`
	if got := leaks(leaky); len(got) != 4 {
		t.Errorf("scan found %q in a leaky text", got)
	}
	clean := `{"access_token": "[REDACTED]"} POST /token?code=%5BREDACTED%5D&state=s Authorization: Basic [REDACTED] [REDACTED]`
	if got := leaks(clean); len(got) != 0 {
		t.Errorf("scan found %q in a clean text", got)
	}
}

// conform --debug logs every exchange (token requests, the login with its
// redirects and codes, introspection) on stderr, and none of it is a
// secret: not the target's, not a token or code the IdP issued.
func TestConformDebugRedacts(t *testing.T) {
	dir := t.TempDir()
	r := runBin(t, dir, nil, "conform", "--debug", "--label-filter", "client-credentials || authcode || introspection || revocation")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.all())
	}
	for _, want := range []string{"--- token client_credentials: POST", "--- login step 1: GET", "< 302 Found", "--- token authorization_code: POST", "--- introspection: POST"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	if found := leaks(r.all()); len(found) > 0 {
		t.Errorf("credentials in the output: %q", found)
	}
	for _, c := range mockidp.DefaultClients() {
		if c.Secret != "" && strings.Contains(r.all(), c.Secret) {
			t.Errorf("client secret of %s in the output", c.ID)
		}
	}
	for _, u := range mockidp.DefaultUsers() {
		if strings.Contains(r.all(), u.Password) {
			t.Errorf("password of %s in the output", u.Username)
		}
	}
	// Twin: without --debug no exchange is logged.
	r = runBin(t, t.TempDir(), nil, "conform", "--label-filter", "discovery")
	if r.code != 0 || strings.Contains(r.stderr, "--- ") {
		t.Errorf("exit %d; stderr without --debug:\n%s", r.code, r.stderr)
	}
}

// A target file holding a literal secret is warned about on every run, at
// file:line, without the value; the warning is kept in the report's notes.
// Its twin, the same file with an environment reference, is not.
func TestConformWarnsAboutTargetFile(t *testing.T) {
	src, err := os.ReadFile(repoFile(t, "fixtures/targets/mock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	literal := strings.Replace(string(src), "${IDPCONFORM_CC_SECRET:-idpconform-cc-secret}", "idpconform-cc-secret", 1)
	literal = strings.Replace(literal, "clock_skew: 1s", "clock_skew: 1s\ntls:\n  insecure_skip_verify: true", 1)
	line := 0
	for i, l := range strings.Split(literal, "\n") {
		if strings.Contains(l, "secret: idpconform-cc-secret") {
			line = i + 1
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "literal.yaml")
	if err := os.WriteFile(p, []byte(literal), 0o600); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		r := runBin(t, dir, nil, "conform", "--target", p, "--label-filter", "discovery")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.all())
		}
		want := []string{
			p + ":" + strconv.Itoa(line) + ": clients[0].secret is a secret written into the file",
			"tls.insecure_skip_verify is on",
		}
		for _, w := range want {
			if !strings.Contains(r.stderr, "idpconform: warning: ") || !strings.Contains(r.stderr, w) {
				t.Errorf("run %d: stderr lacks %q:\n%s", run+1, w, r.stderr)
			}
		}
		if strings.Contains(r.all(), "idpconform-cc-secret") {
			t.Errorf("run %d: the warning quotes the secret", run+1)
		}
		b, err := os.ReadFile(filepath.Join(dir, "idpconform-report", "results.json"))
		if err != nil || !strings.Contains(string(b), "is a secret written into the file") {
			t.Errorf("results.json lacks the warning in its notes: %v", err)
		}
	}
	r := runBin(t, t.TempDir(), nil, "conform", "--target", repoFile(t, "fixtures/targets/mock.yaml"), "--label-filter", "discovery")
	if r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Errorf("the bundled file (references only) warned: exit %d\n%s", r.code, r.stderr)
	}
}

// idpconform mock --tls-ca serves HTTPS and writes its test CA; conform
// trusts it through the target's tls.ca_file. The twin without ca_file
// fails, naming the unknown authority.
func TestStandaloneTLSMock(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	mock := exec.Command(binary, "mock", "--addr", addr, "--tls-ca", ca)
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
	}()
	select {
	case banner := <-ready:
		if !strings.Contains(banner, "serving issuer https://"+addr) || !strings.Contains(banner, ca) {
			t.Fatalf("banner: %s", banner)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("mock did not start")
	}
	src, err := os.ReadFile(repoFile(t, "fixtures/targets/local-mock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, extra string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, append(src, []byte(extra)...), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := []string{"IDPCONFORM_MOCK_ISSUER=https://" + addr}
	r := runBin(t, t.TempDir(), env, "conform", "--target", write("tls.yaml", "tls:\n  ca_file: ca.pem\n"), "--label-filter", "discovery || client-credentials")
	if r.code != 0 {
		t.Fatalf("conform over TLS: exit %d\n%s", r.code, r.all())
	}
	r = runBin(t, t.TempDir(), env, "conform", "--target", write("no-ca.yaml", ""), "--label-filter", "discovery")
	if r.code != 1 || !strings.Contains(r.stdout, "certificate signed by unknown authority") {
		t.Errorf("without the CA: exit %d\n%s", r.code, r.stdout)
	}
}
