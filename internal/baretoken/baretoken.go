// Package baretoken is the floor the bundled mock's token endpoint is
// measured against: a client-credentials endpoint that does only what any
// such endpoint must (parse the form, check HTTP Basic, sign the claims of
// an RFC 9068 access token with one key, write JSON) and nothing a
// conformance mock adds (clients, profiles, faults, drift, a token store).
//
// Two benchmarks use it, so both compare the mock with the same thing:
// mockidp's BenchmarkClientCredentials in-process (the handler's own cost)
// and loadtest's BenchmarkCapacity over loopback (the rate each sustains
// with p99 under 50 ms). It is not for production or for tests of
// behaviour.
package baretoken

import (
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Config is what the handler needs: the one client it accepts and the key
// it signs with.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Key          crypto.Signer
	KeyID        string
	Algorithm    jose.SignatureAlgorithm
	// Lifetime of the tokens; zero is an hour.
	Lifetime time.Duration
}

// Handler returns the bare token endpoint. It answers every path; mount
// it where the token endpoint is expected.
func Handler(c Config) (http.Handler, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: c.Algorithm, Key: jose.JSONWebKey{Key: c.Key, KeyID: c.KeyID}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return nil, fmt.Errorf("bare token endpoint: signer for %s: %w", c.Algorithm, err)
	}
	lifetime := c.Lifetime
	if lifetime <= 0 {
		lifetime = time.Hour
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			writeError(w, http.StatusBadRequest, "invalid_request")
			return
		}
		id, secret, ok := r.BasicAuth()
		if !ok || id != c.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(c.ClientSecret)) != 1 {
			writeError(w, http.StatusUnauthorized, "invalid_client")
			return
		}
		now := time.Now()
		jti := make([]byte, 16)
		_, _ = rand.Read(jti)
		scope := r.PostForm.Get("scope")
		payload, err := json.Marshal(map[string]any{"iss": c.Issuer, "exp": now.Add(lifetime).Unix(), "aud": id, "sub": id,
			"client_id": id, "iat": now.Unix(), "jti": base64.RawURLEncoding.EncodeToString(jti), "scope": scope})
		if err != nil {
			writeError(w, http.StatusInternalServerError, "server_error")
			return
		}
		obj, err := signer.Sign(payload)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "server_error")
			return
		}
		tok, err := obj.CompactSerialize()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "server_error")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(lifetime.Seconds()), "scope": scope})
	}), nil
}

func writeError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":%q}`, code)
}
