package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
	regexp.MustCompile(`[?&](code|code_verifier|client_secret|password|refresh_token|client_assertion|token)=([^&\s"]+)`),
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
	leaky := `{"access_token": "abc123"} POST /token?code=xyz&state=s Authorization: Basic aWQ6c2VjcmV0 eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig grant_type=authorization_code&code_verifier=dBjftJeZ4CVP`
	if got := leaks(leaky); len(got) != 5 {
		t.Errorf("scan found %q in a leaky text", got)
	}
	clean := `{"access_token": "[REDACTED]"} POST /token?code=%5BREDACTED%5D&state=s Authorization: Basic [REDACTED] [REDACTED] &code_verifier=%5BREDACTED%5D`
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
	for _, want := range []string{"--- token client_credentials: POST", "--- login step 1: GET", "< 302 Found", "--- token authorization_code: POST", "code_verifier=", "--- introspection: POST"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	if found := leaks(r.all()); len(found) > 0 {
		t.Errorf("credentials in the output: %q", found)
	}
	// The spec logs in results.json hold the exchanges of failed and
	// warned specs, code exchanges among them.
	res, err := os.ReadFile(filepath.Join(dir, "idpconform-report", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if found := leaks(string(res)); len(found) > 0 {
		t.Errorf("credentials in results.json: %q", found)
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
	dir := t.TempDir()
	p, want := literalTarget(t, dir, "literal.yaml")
	for run := range 2 {
		r := runBin(t, dir, nil, "conform", "--target", p, "--label-filter", "discovery")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.all())
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

// literalTarget writes a copy of the bundled mock target with its client
// secret written into the file and TLS verification off, and returns its
// path and the warnings every command loading it must print.
func literalTarget(t *testing.T, dir, name string) (string, []string) {
	t.Helper()
	src, err := os.ReadFile(repoFile(t, "fixtures/targets/mock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	literal := strings.Replace(string(src), "${IDPCONFORM_CC_SECRET:-idpconform-cc-secret}", "idpconform-cc-secret", 1)
	literal = strings.Replace(literal, "clock_skew: 1s", "clock_skew: 1s\ntls:\n  insecure_skip_verify: true", 1)
	line, tlsLine := 0, 0
	for i, l := range strings.Split(literal, "\n") {
		switch {
		case strings.Contains(l, "secret: idpconform-cc-secret"):
			line = i + 1
		case strings.Contains(l, "insecure_skip_verify: true"):
			tlsLine = i + 1
		}
	}
	if line == 0 || tlsLine == 0 {
		t.Fatal("fixtures/targets/mock.yaml changed: no literal secret or tls section could be written into the copy")
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(literal), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, []string{
		p + ":" + strconv.Itoa(line) + ": clients[0].secret is a secret written into the file",
		p + ":" + strconv.Itoa(tlsLine) + ": tls.insecure_skip_verify is on",
	}
}

// Every command that loads a target file prints its warnings, for each
// file it loads (both live sides of a diff); the bundled file, which only
// references its secrets, makes none of them warn.
func TestEveryCommandWarnsAboutTargetFile(t *testing.T) {
	dir := t.TempDir()
	oldP, oldWant := literalTarget(t, dir, "old.yaml")
	newP, newWant := literalTarget(t, dir, "new.yaml")
	bundled := repoFile(t, "fixtures/targets/mock.yaml")
	commands := map[string]func(target, other string) []string{
		"load": func(tg, _ string) []string {
			return []string{"load", "--target", tg, "--rate", "5/s", "--duration", "200ms", "--out", t.TempDir(), "-q", "--min-attempted", "0.5"}
		},
		"baseline capture": func(tg, _ string) []string {
			return []string{"baseline", "capture", "--target", tg, "-o", filepath.Join(t.TempDir(), "b.json"), "--samples", "0"}
		},
		"diff": func(tg, other string) []string {
			return []string{"diff", tg, other, "--samples", "0", "--report-dir", ""}
		},
	}
	for name, args := range commands {
		t.Run(name, func(t *testing.T) {
			r := runBin(t, dir, nil, args(oldP, newP)...)
			want := oldWant
			if name == "diff" {
				want = append(slices.Clone(oldWant), newWant...)
			}
			for _, w := range want {
				if !strings.Contains(r.stderr, "idpconform: warning: "+w) {
					t.Errorf("stderr lacks %q (exit %d):\n%s", w, r.code, r.all())
				}
			}
			if strings.Contains(r.all(), "idpconform-cc-secret") {
				t.Error("the output quotes the secret")
			}
			// The twin: the same command on the bundled file warns of nothing.
			r = runBin(t, dir, nil, args(bundled, bundled)...)
			if strings.Contains(r.stderr, "warning") {
				t.Errorf("the bundled file (references only) warned: exit %d\n%s", r.code, r.stderr)
			}
		})
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
	write := localMockVariants(t, dir)
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
