package baretoken

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// The floor must be a real token endpoint, or the ratio against it means
// nothing: it issues a token that verifies with its key and refuses what a
// token endpoint must refuse.
func TestHandler(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Handler(Config{Issuer: "http://bare", ClientID: "c", ClientSecret: "s", Key: key, KeyID: "k1", Algorithm: jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(grant, id, secret string) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/token", strings.NewReader(url.Values{"grant_type": {grant}, "scope": {"api:read"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("body: %v", err)
		}
		return resp, body
	}

	resp, body := post("client_credentials", "c", "s")
	if resp.StatusCode != http.StatusOK || body["token_type"] != "Bearer" {
		t.Fatalf("good request: %d %v", resp.StatusCode, body)
	}
	tok, err := jose.ParseSigned(body["access_token"].(string), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := tok.Verify(&key.PublicKey)
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims["iss"] != "http://bare" || claims["client_id"] != "c" || claims["jti"] == "" {
		t.Errorf("claims %v (%v)", claims, err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := tok.Verify(&other.PublicKey); err == nil {
		t.Error("token verifies with another key")
	}

	for _, c := range []struct {
		grant, id, secret string
		status            int
		code              string
	}{
		{"client_credentials", "c", "wrong", http.StatusUnauthorized, "invalid_client"},
		{"client_credentials", "other", "s", http.StatusUnauthorized, "invalid_client"},
		{"password", "c", "s", http.StatusBadRequest, "invalid_request"},
	} {
		resp, body := post(c.grant, c.id, c.secret)
		if resp.StatusCode != c.status || body["error"] != c.code {
			t.Errorf("%s as %s:%s: %d %v, want %d %s", c.grant, c.id, c.secret, resp.StatusCode, body, c.status, c.code)
		}
	}
}

func TestHandlerRefusesAKeyItCannotUse(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := Handler(Config{Key: key, Algorithm: jose.RS256}); err == nil {
		t.Error("an ECDSA key accepted for RS256")
	}
}
