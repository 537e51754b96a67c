package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// now is the fixed clock of these tests: 2024-04-23T18:34:38Z, the iat of
// the Akkess example token (seed 003) plus one second.
var now = time.Unix(1713898479, 0)

type testKey struct {
	priv jose.JSONWebKey
}

func newRSAKey(t testing.TB, kid string) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "RS256", Use: "sig"}}
}

func newECKey(t testing.TB, kid string) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "ES256", Use: "sig"}}
}

func (k testKey) public() jose.JSONWebKey { return k.priv.Public() }

func (k testKey) sign(t testing.TB, claims map[string]any, hdr map[jose.HeaderKey]any) string {
	t.Helper()
	opts := &jose.SignerOptions{ExtraHeaders: hdr}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.priv.Algorithm), Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func claims(over map[string]any) map[string]any {
	c := map[string]any{
		"iss": "https://idp.example", "sub": "user-1", "aud": "client-1",
		"iat": now.Unix() - 1, "exp": now.Unix() + 3600,
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func verifier(keys ...jose.JSONWebKey) *Verifier {
	return &Verifier{Keys: StaticKeySet(keys), Algorithms: []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, Leeway: 5 * time.Second, Now: func() time.Time { return now }}
}

func TestVerifyValid(t *testing.T) {
	k := newRSAKey(t, "k1")
	tok, err := verifier(k.public()).Verify(context.Background(), k.sign(t, claims(nil), nil),
		Expected{Issuer: "https://idp.example", Audience: "client-1"})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if tok.Header.Kid != "k1" || tok.Header.Alg != "RS256" || tok.Claims["sub"] != "user-1" {
		t.Errorf("token: %+v", tok)
	}
}

func TestVerifyFailures(t *testing.T) {
	k := newRSAKey(t, "k1")
	other := newRSAKey(t, "k1") // same kid, other key: a forged signature
	ec := newECKey(t, "e1")
	v := verifier(k.public())
	ctx := context.Background()

	cases := []struct {
		name string
		tok  string
		want Expected
		err  error
		msg  string
	}{
		{"expired", k.sign(t, claims(map[string]any{"exp": now.Unix() - 41}), nil), Expected{}, ErrExpired,
			"exp 1713898438 is 41s in the past (leeway 5s)"},
		{"expired within leeway is fine twin", "", Expected{}, nil, ""},
		{"nbf in future", k.sign(t, claims(map[string]any{"nbf": now.Unix() + 60}), nil), Expected{}, ErrNotYetValid, "nbf 1713898539 is 1m0s in the future"},
		{"iat in future", k.sign(t, claims(map[string]any{"iat": now.Unix() + 60}), nil), Expected{}, ErrIssuedInFuture, "iat 1713898539 is 1m0s in the future"},
		{"missing exp", k.sign(t, claims(map[string]any{"exp": nil}), nil), Expected{}, ErrMissingClaim, "exp"},
		{"exp as string", k.sign(t, claims(map[string]any{"exp": "tomorrow"}), nil), Expected{}, ErrClaimType, "exp: expected a NumericDate (number), got a string"},
		{"issuer", k.sign(t, claims(nil), nil), Expected{Issuer: "https://other"}, ErrIssuer, `iss: expected "https://other", got "https://idp.example"`},
		{"audience", k.sign(t, claims(nil), nil), Expected{Audience: "client-2"}, ErrAudience, `aud: expected "client-2" in ["client-1"]`},
		{"audience array", k.sign(t, claims(map[string]any{"aud": []string{"a", "b"}}), nil), Expected{Audience: "c"}, ErrAudience, `["a" "b"]`},
		{"audience number", k.sign(t, claims(map[string]any{"aud": 7}), nil), Expected{Audience: "c"}, ErrClaimType, "aud: expected a string or an array of strings, got an integer"},
		{"forged signature", other.sign(t, claims(nil), nil), Expected{}, ErrSignature, `kid "k1" alg RS256`},
		{"alg not allowed", ec.sign(t, claims(nil), nil), Expected{}, ErrAlgorithm, ""},
		{"unknown kid", newRSAKey(t, "k9").sign(t, claims(nil), nil), Expected{}, ErrNoKey, `kid "k9"`},
		{"typ", k.sign(t, claims(nil), map[jose.HeaderKey]any{"typ": "JWT"}), Expected{Type: "at+jwt"}, ErrType, `typ header: expected "at+jwt", got "JWT"`},
		{"malformed", "not.a-token", Expected{}, ErrMalformed, "three dot-separated parts, got 2"},
		{"payload not object", signRaw(t, k, []byte(`[1,2]`)), Expected{}, ErrMalformed, "not a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.tok == "" {
				// exp 3s ago is inside the 5s leeway: accepted.
				tok := k.sign(t, claims(map[string]any{"exp": now.Unix() - 3}), nil)
				if _, err := v.Verify(ctx, tok, Expected{}); err != nil {
					t.Fatalf("token within leeway refused: %v", err)
				}
				return
			}
			vv := v
			if c.name == "alg not allowed" {
				vv = &Verifier{Keys: StaticKeySet{ec.public()}, Algorithms: []jose.SignatureAlgorithm{jose.RS256}, Now: v.Now}
			}
			_, err := vv.Verify(ctx, c.tok, c.want)
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("message %q lacks %q", err, c.msg)
			}
		})
	}
}

func signRaw(t *testing.T, k testKey, payload []byte) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.priv}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

func TestAlgNoneAndHMACRefused(t *testing.T) {
	// alg none: header {"alg":"none"}, empty signature.
	none := "eyJhbGciOiJub25lIn0." + b64(`{"iss":"x","exp":9999999999}`) + "."
	v := verifier(newRSAKey(t, "k1").public())
	if _, err := v.Verify(context.Background(), none, Expected{}); !errors.Is(err, ErrAlgorithm) && !errors.Is(err, ErrMalformed) {
		t.Errorf("alg none: %v", err)
	}
	if _, err := (&Verifier{Keys: StaticKeySet{}}).Verify(context.Background(), none, Expected{}); err == nil || !strings.Contains(err.Error(), "allow-list") {
		t.Errorf("verifier without allow-list: %v", err)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestNoKid(t *testing.T) {
	k := newRSAKey(t, "")
	k.priv.KeyID = ""
	tok := k.sign(t, claims(nil), nil)
	if _, err := verifier(k.public()).Verify(context.Background(), tok, Expected{}); err != nil {
		t.Errorf("one key, no kid: %v", err)
	}
	k2 := newRSAKey(t, "")
	k2.priv.KeyID = ""
	_, err := verifier(k.public(), k2.public()).Verify(context.Background(), tok, Expected{})
	if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "has 2 keys") {
		t.Errorf("two keys, no kid: %v", err)
	}
}

// jwksServer serves whatever keys it holds and counts fetches.
type jwksServer struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fail    bool
	fetches atomic.Int32
	srv     *httptest.Server
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	js := &jwksServer{keys: keys}
	js.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		js.fetches.Add(1)
		js.mu.Lock()
		defer js.mu.Unlock()
		if js.fail {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: js.keys})
	}))
	t.Cleanup(js.srv.Close)
	return js
}

func (js *jwksServer) fetch(ctx context.Context) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, js.srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, errors.New(resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func TestRemoteKeySetRotation(t *testing.T) {
	k1, k2 := newRSAKey(t, "k1"), newRSAKey(t, "k2")
	js := newJWKSServer(t, k1.public())
	ks := NewRemoteKeySet(js.fetch, func() time.Time { return now })
	v := &Verifier{Keys: ks, Algorithms: []jose.SignatureAlgorithm{jose.RS256}, Now: func() time.Time { return now }}
	ctx := context.Background()

	if _, err := v.Verify(ctx, k1.sign(t, claims(nil), nil), Expected{}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, k1.sign(t, claims(nil), nil), Expected{}); err != nil {
		t.Fatal(err)
	}
	if got := js.fetches.Load(); got != 1 {
		t.Errorf("known kid refetched: %d fetches", got)
	}
	// The IdP rotates: a token with the new kid triggers exactly one refetch.
	js.mu.Lock()
	js.keys = []jose.JSONWebKey{k1.public(), k2.public()}
	js.mu.Unlock()
	if _, err := v.Verify(ctx, k2.sign(t, claims(nil), nil), Expected{}); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if got := js.fetches.Load(); got != 2 {
		t.Errorf("after rotation: %d fetches, want 2", got)
	}
	// An unknown kid refetches once and fails; the known keys stay usable
	// even when the JWKS endpoint goes down.
	js.mu.Lock()
	js.fail = true
	js.mu.Unlock()
	_, err := v.Verify(ctx, newRSAKey(t, "k3").sign(t, claims(nil), nil), Expected{})
	if !errors.Is(err, ErrNoKey) {
		t.Errorf("unknown kid with JWKS down: %v", err)
	}
	if got := js.fetches.Load(); got != 3 {
		t.Errorf("unknown kid: %d fetches, want 3", got)
	}
	if _, err := v.Verify(ctx, k1.sign(t, claims(nil), nil), Expected{}); err != nil {
		t.Errorf("last good keys lost after a failed refetch: %v", err)
	}
}

func TestRemoteKeySetSharesOneFetch(t *testing.T) {
	k := newRSAKey(t, "k1")
	js := newJWKSServer(t, k.public())
	ks := NewRemoteKeySet(js.fetch, nil)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ks.Lookup(context.Background(), "k1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Concurrent first lookups may race the first fetch, but never fetch
	// once per caller.
	if got := js.fetches.Load(); got > 2 {
		t.Errorf("%d fetches for 16 concurrent lookups", got)
	}
}

func TestRemoteKeySetFirstFetchFails(t *testing.T) {
	js := newJWKSServer(t)
	js.fail = true
	ks := NewRemoteKeySet(js.fetch, nil)
	_, err := ks.Lookup(context.Background(), "k1")
	if !errors.Is(err, ErrJWKS) {
		t.Errorf("got %v", err)
	}
}

func TestParseJWKS(t *testing.T) {
	k := newRSAKey(t, "pub")
	priv := newECKey(t, "priv")
	privJSON, _ := priv.priv.MarshalJSON()
	pubJSON, _ := k.public().MarshalJSON()
	body := `{"keys":[` + string(pubJSON) + `,` + string(privJSON) + `,{"kty":"unknown"},{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB","kid":"e"}]}`
	set, err := ParseJWKS([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID != "pub" {
		t.Errorf("keys: %+v", set.Keys)
	}
	if len(set.Problems) != 2 || !strings.Contains(strings.Join(set.Problems, ";"), `kid "priv"`) {
		t.Errorf("problems: %v", set.Problems)
	}
	for _, bad := range []string{`[]`, `{"nokeys":1}`, `not json`} {
		if _, err := ParseJWKS([]byte(bad)); !errors.Is(err, ErrJWKS) {
			t.Errorf("ParseJWKS(%s): %v", bad, err)
		}
	}
}

func TestNumericDate(t *testing.T) {
	got, ok, err := NumericDate(map[string]any{"exp": json.Number("1713898478.5")}, "exp")
	if err != nil || !ok || got.UnixMilli() != 1713898478500 {
		t.Errorf("fractional: %v %v %v", got, ok, err)
	}
	for _, bad := range []any{-1.0, 1e12, "x", true} {
		if _, _, err := NumericDate(map[string]any{"exp": bad}, "exp"); !errors.Is(err, ErrClaimType) {
			t.Errorf("NumericDate(%v): %v", bad, err)
		}
	}
	if _, ok, err := NumericDate(map[string]any{}, "exp"); ok || err != nil {
		t.Errorf("absent: %v %v", ok, err)
	}
}

func FuzzVerify(f *testing.F) {
	k := newRSAKey(f, "k1")
	f.Add(k.sign(f, claims(nil), nil))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	v := verifier(k.public())
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := v.Verify(context.Background(), raw, Expected{Issuer: "https://idp.example"})
		if err == nil && tok == nil {
			t.Error("nil token without error")
		}
	})
}

func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		set, err := ParseJWKS(body)
		if err == nil && set == nil {
			t.Error("nil set without error")
		}
		if err == nil && len(set.Keys) > MaxKeys {
			t.Errorf("%d keys read", len(set.Keys))
		}
	})
}
