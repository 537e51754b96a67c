package target

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/mockidp"
)

// writeFiles writes name -> content into a new directory and returns it.
func writeFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testCA(t *testing.T) (*mockidp.TestCA, []byte, []byte) {
	t.Helper()
	ca, err := mockidp.NewTestCA("target test CA")
	if err != nil {
		t.Fatal(err)
	}
	_, certPEM, keyPEM, err := ca.ClientCertificate("client-1", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ca, certPEM, keyPEM
}

const tlsTarget = `name: tls
issuer: https://idp.example.com
tls:
  ca_file: ca.pem
clients:
  - name: cc
    id: cc
    secret: ${CC_SECRET}
    grants: [client_credentials]
  - name: mtls
    id: mtls-client
    auth_method: tls_client_auth
    cert_file: client.pem
    key_file: client-key.pem
    grants: [client_credentials]
  - name: pkjwt
    id: pkjwt-client
    auth_method: private_key_jwt
    private_key_file: client-key.pem
    key_id: k1
    grants: [client_credentials]
`

func TestTLSSection(t *testing.T) {
	ca, certPEM, keyPEM := testCA(t)
	dir := writeFiles(t, map[string][]byte{"ca.pem": ca.PEM, "client.pem": certPEM, "client-key.pem": keyPEM})
	path := filepath.Join(dir, "tls.yaml")
	tg, err := Parse(path, []byte(tlsTarget), env(map[string]string{"CC_SECRET": "s3cret-value"}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	cfg := tg.TLSConfig()
	if cfg == nil || cfg.RootCAs == nil || cfg.InsecureSkipVerify {
		t.Fatalf("TLSConfig: %+v", cfg)
	}
	mtls, _ := tg.Client("mtls")
	pk, _ := tg.Client("pkjwt")
	if mtls.Certificate() == nil || pk.AssertionSigner() == nil || pk.KeyID != "k1" {
		t.Errorf("client keys not loaded: %+v %+v", mtls.ClientKeys, pk.ClientKeys)
	}
	if len(tg.Warnings) != 0 {
		t.Errorf("warnings: %v", tg.Warnings)
	}
	// Twin: a target without a tls section keeps Go's defaults.
	plain, err := Parse("plain.yaml", []byte(good), env(map[string]string{"CC_SECRET": "x"}))
	if err != nil || plain.TLSConfig() != nil {
		t.Errorf("no tls section: %+v %v", plain.TLSConfig(), err)
	}
}

func TestTLSSectionErrors(t *testing.T) {
	ca, certPEM, keyPEM := testCA(t)
	_ = ca
	dir := writeFiles(t, map[string][]byte{"ca.pem": []byte("not a certificate"), "client.pem": certPEM, "client-key.pem": keyPEM,
		"garbage-key.pem": []byte("-----BEGIN PRIVATE KEY-----\nTk9UQUtFWQ==\n-----END PRIVATE KEY-----\n")})
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"CA bundle without certificates", tlsTarget, []string{"tls.yaml:4:", "tls.ca_file", "holds no PEM certificate"}},
		{"missing CA file", strings.Replace(tlsTarget, "ca.pem", "nowhere.pem", 1), []string{"cannot read the CA bundle"}},
		{"tls_client_auth without key_file", strings.Replace(tlsTarget, "    key_file: client-key.pem\n", "", 1), []string{"cert_file and key_file are not both set"}},
		{"private key that does not parse", strings.Replace(tlsTarget, "private_key_file: client-key.pem", "private_key_file: garbage-key.pem", 1),
			[]string{"clients[2].private_key_file", "the PRIVATE KEY does not parse"}},
		{"secret with a certificate method", strings.Replace(tlsTarget, "    auth_method: tls_client_auth\n", "    auth_method: tls_client_auth\n    secret: x-secret\n", 1),
			[]string{"clients[1].secret", "sends no secret"}},
		{"cert_file with another method", strings.Replace(tlsTarget, "    secret: ${CC_SECRET}\n", "    secret: ${CC_SECRET}\n    cert_file: client.pem\n", 1),
			[]string{"apply to auth_method tls_client_auth only"}},
		{"both verification choices", strings.Replace(tlsTarget, "  ca_file: ca.pem\n", "  ca_file: ca.pem\n  insecure_skip_verify: true\n", 1),
			[]string{"insecure_skip_verify ignores ca_file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(filepath.Join(dir, "tls.yaml"), []byte(tc.src), env(map[string]string{"CC_SECRET": "s3cret-value"}))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a ConfigError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "TkNUQUtF") || strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("error quotes a key file:\n%v", err)
			}
		})
	}
}

func TestInsecureSkipVerifyWarns(t *testing.T) {
	src := strings.Replace(good, "issuer: https://idp.example.com\n", "issuer: https://idp.example.com\ntls:\n  insecure_skip_verify: true\n", 1)
	tg, err := Parse("insecure.yaml", []byte(src), env(map[string]string{"CC_SECRET": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := tg.TLSConfig(); cfg == nil || !cfg.InsecureSkipVerify {
		t.Fatalf("TLSConfig: %+v", cfg)
	}
	if len(tg.Warnings) != 1 || !strings.HasPrefix(tg.Warnings[0], "insecure.yaml:4: tls.insecure_skip_verify is on") {
		t.Errorf("warnings: %q", tg.Warnings)
	}
}

func TestLiteralSecretWarns(t *testing.T) {
	src := `name: literal
issuer: https://idp.example.com
clients:
  - name: a
    id: a
    secret: literal-secret-value-1
    grants: [client_credentials]
  - name: b
    id: b
    secret: ${B_SECRET}
    grants: [client_credentials]
  - name: c
    id: c
    secret: ${C_SECRET:-default-for-tests}
    grants: [client_credentials]
  - name: d
    id: d
    secret: 12345678
    grants: [client_credentials]
users:
  - name: u
    username: u
    password: "literal-password-2"
`
	tg, err := Parse("literal.yaml", []byte(src), env(map[string]string{"B_SECRET": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tg.Warnings, "\n")
	for _, w := range []string{"literal.yaml:6: clients[0].secret is a secret written into the file", "literal.yaml:18: clients[3].secret", "literal.yaml:23: users[0].password"} {
		if !strings.Contains(got, w) {
			t.Errorf("warnings lack %q:\n%s", w, got)
		}
	}
	if len(tg.Warnings) != 3 {
		t.Errorf("%d warnings, want 3 (references and defaults are not literal):\n%s", len(tg.Warnings), got)
	}
	for _, v := range []string{"literal-secret-value-1", "12345678", "literal-password-2", "from-env", "default-for-tests"} {
		if strings.Contains(got, v) {
			t.Errorf("a warning quotes the value %q", v)
		}
	}
}
