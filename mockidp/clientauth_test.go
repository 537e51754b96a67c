package mockidp_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpconform/idpconform/mockidp"
)

const (
	mtlsClient  = "idpconform-mtls"
	pkjwtClient = "idpconform-pkjwt"
)

// tlsMock starts a TLS mock with a tls_client_auth client and a
// private_key_jwt client whose key is returned.
func tlsMock(t *testing.T) (*mockidp.Server, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clients := append(mockidp.DefaultClients(),
		mockidp.Client{ID: mtlsClient, AuthMethod: mockidp.AuthTLSClientAuth, TLSClientAuthSubjectDN: "CN=" + mtlsClient,
			Grants: []string{mockidp.GrantClientCredentials}, Scopes: []string{"api:read"}},
		mockidp.Client{ID: pkjwtClient, AuthMethod: mockidp.AuthPrivateKeyJWT,
			JWKS:   []jose.JSONWebKey{{Key: key.Public(), KeyID: "client-key-1", Algorithm: "ES256", Use: "sig"}},
			Grants: []string{mockidp.GrantClientCredentials}, Scopes: []string{"api:read"}})
	srv, err := mockidp.NewTLSServer("", mockidp.Options{Clients: clients, SigningAlg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, key
}

// tlsPost sends a client credentials request over TLS, presenting cert when
// given.
func tlsPost(t *testing.T, srv *mockidp.Server, cert *tls.Certificate, form url.Values) (int, map[string]any) {
	t.Helper()
	cfg := &tls.Config{RootCAs: srv.CA.Pool(), MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	form.Set("grant_type", "client_credentials")
	res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).PostForm(srv.URL+mockidp.PathToken, form)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func TestTLSServer(t *testing.T) {
	srv, _ := tlsMock(t)
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", srv.URL)
	}
	c := srv.Client()
	defer c.CloseIdleConnections()
	res, err := c.Get(srv.URL + mockidp.PathDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	_ = json.NewDecoder(res.Body).Decode(&md)
	res.Body.Close()
	if md["issuer"] != srv.URL {
		t.Errorf("issuer %v", md["issuer"])
	}
	methods, _ := json.Marshal(md["token_endpoint_auth_methods_supported"])
	for _, m := range []string{mockidp.AuthTLSClientAuth, mockidp.AuthPrivateKeyJWT} {
		if !strings.Contains(string(methods), m) {
			t.Errorf("metadata lacks %s: %s", m, methods)
		}
	}
	// Twin: a client that does not trust the test CA refuses the server.
	plain := &http.Client{Timeout: 10 * time.Second}
	res, err = plain.Get(srv.URL + mockidp.PathDiscovery)
	if err == nil {
		res.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("a client without the CA: %v", err)
	}
}

func TestTLSClientAuth(t *testing.T) {
	srv, _ := tlsMock(t)
	now := time.Now()
	good, _, _, err := srv.CA.ClientCertificate(mtlsClient, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	expired, _, _, _ := srv.CA.ClientCertificate(mtlsClient, now.Add(-2*time.Hour), now.Add(-time.Hour))
	wrongName, _, _, _ := srv.CA.ClientCertificate("someone-else", now.Add(-time.Hour), now.Add(time.Hour))
	otherCA, err := mockidp.NewTestCA("not the mock's CA")
	if err != nil {
		t.Fatal(err)
	}
	unknown, _, _, _ := otherCA.ClientCertificate(mtlsClient, now.Add(-time.Hour), now.Add(time.Hour))

	st, m := tlsPost(t, srv, &good, url.Values{"client_id": {mtlsClient}})
	if st != http.StatusOK || m["access_token"] == nil {
		t.Fatalf("good certificate: HTTP %d %v", st, m)
	}
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		want string
	}{
		{"expired", &expired, "expired"},
		{"unknown CA", &unknown, "not issued by a CA this server trusts"},
		{"wrong subject", &wrongName, "subject is not the one registered"},
		{"no certificate", nil, "no client certificate was presented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m := tlsPost(t, srv, tc.cert, url.Values{"client_id": {mtlsClient}})
			if st != http.StatusUnauthorized || m["error"] != "invalid_client" || !strings.Contains(m["error_description"].(string), tc.want) {
				t.Errorf("HTTP %d %v, want invalid_client naming %q", st, m, tc.want)
			}
		})
	}
	// The mock's clock decides expiry: moved past the good certificate's
	// NotAfter, it refuses it too.
	srv.AdvanceClock(2 * time.Hour)
	if st, m := tlsPost(t, srv, &good, url.Values{"client_id": {mtlsClient}}); st != http.StatusUnauthorized {
		t.Errorf("certificate expired by the mock's clock: HTTP %d %v", st, m)
	}
}

// assertion signs a client assertion with overrides of the good claims.
func assertion(t *testing.T, key crypto.Signer, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

func TestPrivateKeyJWT(t *testing.T) {
	srv, key := tlsMock(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	claims := func(over map[string]any) map[string]any {
		c := map[string]any{"iss": pkjwtClient, "sub": pkjwtClient, "aud": srv.URL + mockidp.PathToken,
			"jti": "jti-" + randomHex(8), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		for k, v := range over {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	send := func(a string) (int, map[string]any) {
		return tlsPost(t, srv, nil, url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}})
	}
	good := assertion(t, key, "client-key-1", claims(nil))
	if st, m := send(good); st != http.StatusOK || m["access_token"] == nil {
		t.Fatalf("good assertion: HTTP %d %v", st, m)
	}
	if st, m := send(assertion(t, key, "client-key-1", claims(map[string]any{"aud": srv.URL}))); st != http.StatusOK {
		t.Errorf("aud = issuer: HTTP %d %v", st, m)
	}
	for _, tc := range []struct {
		name, assertion, want string
	}{
		{"reused jti", good, "jti was already used"},
		{"wrong aud", assertion(t, key, "client-key-1", claims(map[string]any{"aud": "https://elsewhere.example/token"})), "aud does not name this authorization server"},
		{"expired", assertion(t, key, "client-key-1", claims(map[string]any{"exp": now.Add(-time.Minute).Unix()})), "has expired"},
		{"no exp", assertion(t, key, "client-key-1", claims(map[string]any{"exp": nil})), "has no exp"},
		{"no jti", assertion(t, key, "client-key-1", claims(map[string]any{"jti": nil})), "has no jti"},
		{"iss is not the client", assertion(t, key, "client-key-1", claims(map[string]any{"iss": "someone"})), "iss must be the client_id"},
		{"another key", assertion(t, other, "client-key-1", claims(nil)), "not signed by a key registered"},
		{"unknown client", assertion(t, key, "client-key-1", claims(map[string]any{"sub": "nobody", "iss": "nobody"})), "client authentication failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m := send(tc.assertion)
			desc, _ := m["error_description"].(string)
			if st != http.StatusUnauthorized || m["error"] != "invalid_client" || !strings.Contains(desc, tc.want) {
				t.Errorf("HTTP %d %v, want invalid_client naming %q", st, m, tc.want)
			}
		})
	}
	// A wrong assertion type is refused before the assertion is read.
	st, m := tlsPost(t, srv, nil, url.Values{"client_assertion_type": {"urn:x"}, "client_assertion": {good}})
	if st != http.StatusUnauthorized || !strings.Contains(m["error_description"].(string), "client_assertion_type") {
		t.Errorf("wrong type: HTTP %d %v", st, m)
	}
}

func TestClientAuthRegistration(t *testing.T) {
	for _, c := range []mockidp.Client{
		{ID: "a", AuthMethod: mockidp.AuthTLSClientAuth, Grants: []string{mockidp.GrantClientCredentials}},
		{ID: "b", AuthMethod: mockidp.AuthPrivateKeyJWT, Grants: []string{mockidp.GrantClientCredentials}},
		{ID: "c", AuthMethod: mockidp.AuthTLSClientAuth, TLSClientAuthSubjectDN: "CN=c", Secret: "s3cret", Grants: []string{mockidp.GrantClientCredentials}},
	} {
		if _, err := mockidp.New(mockidp.Options{Issuer: "http://127.0.0.1:1", Clients: []mockidp.Client{c}}); err == nil {
			t.Errorf("client %s accepted", c.ID)
		}
	}
}
