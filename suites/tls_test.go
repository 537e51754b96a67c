package suites_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/mockidp"
)

// tlsIdP is an HTTPS mock with a secret client, a tls_client_auth client
// and a private_key_jwt client, and the files a target needs for it.
type tlsIdP struct {
	srv *mockidp.Server
	dir string
}

func startTLSIdP(t *testing.T) *tlsIdP {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clients := []mockidp.Client{
		{ID: mockidp.ClientCC, Secret: mockidp.ClientCCSecret, Grants: []string{mockidp.GrantClientCredentials}, Scopes: []string{"api:read"}},
		{ID: "idpconform-mtls", AuthMethod: mockidp.AuthTLSClientAuth, TLSClientAuthSubjectDN: "CN=idpconform-mtls",
			Grants: []string{mockidp.GrantClientCredentials}, Scopes: []string{"api:read"}},
		{ID: "idpconform-pkjwt", AuthMethod: mockidp.AuthPrivateKeyJWT, JWKS: []jose.JSONWebKey{{Key: key.Public(), KeyID: "pk1", Algorithm: "ES256", Use: "sig"}},
			Grants: []string{mockidp.GrantClientCredentials}, Scopes: []string{"api:read"}},
	}
	srv, err := mockidp.NewTLSServer("", mockidp.Options{Clients: clients, SigningAlg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	now := time.Now()
	_, certPEM, keyPEM, err := srv.CA.ClientCertificate("idpconform-mtls", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, oldCert, oldKey, _ := srv.CA.ClientCertificate("idpconform-mtls", now.Add(-2*time.Hour), now.Add(-time.Hour))
	other, _ := mockidp.NewTestCA("another CA")
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, b := range map[string][]byte{
		"ca.pem": srv.CA.PEM, "other-ca.pem": other.PEM,
		"client.pem": certPEM, "client-key.pem": keyPEM, "expired.pem": oldCert, "expired-key.pem": oldKey,
		"assertion-key.pem": pkcs8(t, key), "other-assertion-key.pem": pkcs8(t, otherKey),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &tlsIdP{srv: srv, dir: dir}
}

func pkcs8(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// target writes a target file for the IdP with the given tls section and
// client files, and loads it.
func (i *tlsIdP) target(t *testing.T, tlsSection, cert, key, assertionKey string) *target.Target {
	t.Helper()
	src := fmt.Sprintf(`name: tls-mock
issuer: %s
%s
capabilities: [discovery, client_credentials, jwt_access_token]
clients:
  - name: cc
    id: %s
    secret: ${TLS_CC_SECRET:-%s}
    grants: [client_credentials]
    scopes: [api:read]
    access_token_format: jwt
  - name: mtls
    id: idpconform-mtls
    auth_method: tls_client_auth
    cert_file: %s
    key_file: %s
    grants: [client_credentials]
    scopes: [api:read]
  - name: pkjwt
    id: idpconform-pkjwt
    auth_method: private_key_jwt
    private_key_file: %s
    key_id: pk1
    grants: [client_credentials]
    scopes: [api:read]
`, i.srv.URL, tlsSection, mockidp.ClientCC, mockidp.ClientCCSecret, cert, key, assertionKey)
	path := filepath.Join(i.dir, "target.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	tg, err := target.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// issuance runs the per-client issuance specs and returns the failures by
// client name ("" when the spec passed).
func issuance(t *testing.T, tg *target.Target) map[string]string {
	t.Helper()
	var out strings.Builder
	r, err := runWith(t, tg, []string{"issues an access token to client"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, sp := range r.Specs {
		for _, c := range []string{"cc", "mtls", "pkjwt"} {
			if strings.HasPrefix(sp.Name, "client-credentials issues an access token to client "+c+" (") {
				if sp.State == results.Skipped {
					t.Fatalf("%s skipped: %s", sp.Name, sp.SkipReason)
				}
				got[c] = sp.Failure
			}
		}
	}
	if len(got) != 3 {
		t.Fatalf("ran %v:\n%s", got, out.String())
	}
	return got
}

// A TLS IdP through a conformance run: the custom CA verifies it, client
// certificates and client assertions authenticate; each failing twin names
// its problem.
func TestTLSIdPThroughConform(t *testing.T) {
	idp := startTLSIdP(t)
	ok := issuance(t, idp.target(t, "tls:\n  ca_file: ca.pem", "client.pem", "client-key.pem", "assertion-key.pem"))
	for c, failure := range ok {
		if failure != "" {
			t.Errorf("client %s failed with the right CA and keys: %s", c, failure)
		}
	}

	t.Run("wrong CA", func(t *testing.T) {
		for c, failure := range issuance(t, idp.target(t, "tls:\n  ca_file: other-ca.pem", "client.pem", "client-key.pem", "assertion-key.pem")) {
			if !strings.Contains(failure, "certificate signed by unknown authority") {
				t.Errorf("client %s: %q", c, failure)
			}
		}
	})
	t.Run("no CA at all", func(t *testing.T) {
		for c, failure := range issuance(t, idp.target(t, "", "client.pem", "client-key.pem", "assertion-key.pem")) {
			if !strings.Contains(failure, "certificate signed by unknown authority") {
				t.Errorf("client %s: %q", c, failure)
			}
		}
	})
	t.Run("insecure_skip_verify", func(t *testing.T) {
		tg := idp.target(t, "tls:\n  insecure_skip_verify: true", "client.pem", "client-key.pem", "assertion-key.pem")
		if len(tg.Warnings) != 1 || !strings.Contains(tg.Warnings[0], "insecure_skip_verify is on") {
			t.Errorf("warnings: %q", tg.Warnings)
		}
		for c, failure := range issuance(t, tg) {
			if failure != "" {
				t.Errorf("client %s: %s", c, failure)
			}
		}
	})
	t.Run("expired client certificate", func(t *testing.T) {
		got := issuance(t, idp.target(t, "tls:\n  ca_file: ca.pem", "expired.pem", "expired-key.pem", "assertion-key.pem"))
		if !strings.Contains(got["mtls"], "invalid_client: the client certificate is expired") {
			t.Errorf("mtls: %q", got["mtls"])
		}
		if got["cc"] != "" || got["pkjwt"] != "" {
			t.Errorf("other clients failed: %v", got)
		}
	})
	t.Run("assertion signed by an unregistered key", func(t *testing.T) {
		got := issuance(t, idp.target(t, "tls:\n  ca_file: ca.pem", "client.pem", "client-key.pem", "other-assertion-key.pem"))
		if !strings.Contains(got["pkjwt"], "not signed by a key registered for the client") {
			t.Errorf("pkjwt: %q", got["pkjwt"])
		}
		if got["cc"] != "" || got["mtls"] != "" {
			t.Errorf("other clients failed: %v", got)
		}
	})
}
