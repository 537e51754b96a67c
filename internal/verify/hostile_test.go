package verify

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpconform/idpconform/internal/hostile"
)

// hostileCase is a forged token, the sentinel it must fail with and words
// the message must hold; good is its well-formed twin, which must verify.
type hostileCase struct {
	name      string
	forged    string
	err       error
	msg       []string
	good      string
	verifier  *Verifier
	notLooked bool // the jku/x5u target must not be fetched
}

func TestHostileTokens(t *testing.T) {
	k := newRSAKey(t, "k1")
	priv := k.priv.Key.(*rsa.PrivateKey)
	atk := newRSAKey(t, "attacker").priv.Key.(*rsa.PrivateKey)
	payload, _ := json.Marshal(claims(nil))
	hdr := func(extra ...any) []byte {
		return hostile.Header(append([]any{"alg", "RS256", "kid", "k1"}, extra...)...)
	}
	forge := func(h, p []byte, s hostile.Signer) string {
		t.Helper()
		tok, err := hostile.Forge(h, p, s)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := forge(hdr(), payload, hostile.RS256(priv))

	// A jku/x5u target that counts fetches and would serve the attacker's key.
	var fetched atomic.Int64
	atkSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetched.Add(1)
		_, _ = fmt.Fprintf(w, `{"keys":[%s]}`, hostile.PublicJWK(atk, "k1"))
	}))
	defer atkSrv.Close()

	many := payload[:len(payload)-1]
	for i := range hostile.ManyClaimsCount {
		many = fmt.Appendf(many, `,"c%05d":1`, i)
	}
	many = append(many, '}')

	hmacToo := verifier(k.public())
	hmacToo.Algorithms = append(hmacToo.Algorithms, jose.HS256)

	cases := []hostileCase{
		{name: "alg none", forged: forge(hostile.Header("alg", "none"), payload, hostile.Unsigned()), err: ErrAlgorithm, msg: []string{`alg "none"`}, good: good},
		{name: "HS256 with the RSA public key, default allow-list", forged: forge(hostile.Header("alg", "HS256", "kid", "k1"), payload, hostile.HS256(hostile.PublicKeyPEM(&priv.PublicKey))),
			err: ErrAlgorithm, msg: []string{`alg "HS256"`}, good: good},
		{name: "HS256 with the RSA public key, HS256 allowed", forged: forge(hostile.Header("alg", "HS256", "kid", "k1"), payload, hostile.HS256(hostile.PublicKeyPEM(&priv.PublicKey))),
			err: ErrNoKey, msg: []string{`kid "k1" is not a key for alg HS256`, "RFC 8725 §3.1"}, good: good, verifier: hmacToo},
		{name: "unknown crit", forged: forge(hdr("crit", []string{"urn:x"}, "urn:x", 1), payload, hostile.RS256(priv)), err: ErrCritical, msg: []string{`crit ["urn:x"]`, "RFC 7515 §4.1.11"}, good: good},
		{name: "crit b64 (understood by go-jose, not by a JWT verifier)", forged: forge(hdr("crit", []string{"b64"}, "b64", true), payload, hostile.RS256(priv)), err: ErrCritical, msg: []string{`"b64"`}, good: good},
		{name: "embedded jwk of the attacker", forged: forge(hdr("jwk", hostile.PublicJWK(atk, "k1")), payload, hostile.RS256(atk)), err: ErrSignature, msg: []string{"jwk", "RFC 8725 §3.10"}, good: good},
		{name: "jku to the attacker", forged: forge(hostile.Header("alg", "RS256", "kid", "k1", "jku", atkSrv.URL), payload, hostile.RS256(atk)), err: ErrSignature,
			msg: []string{`jku "` + atkSrv.URL + `"`}, good: good, notLooked: true},
		{name: "x5u to the attacker", forged: forge(hostile.Header("alg", "RS256", "kid", "attacker", "x5u", atkSrv.URL+"/cert.pem"), payload, hostile.RS256(atk)), err: ErrNoKey,
			msg: []string{`kid "attacker"`, `x5u "` + atkSrv.URL + `/cert.pem"`}, good: good, notLooked: true},
		{name: "duplicate claim", forged: forge(hdr(), hostile.WithMember(payload, "sub", []byte(`"other"`)), hostile.RS256(priv)), err: ErrMalformed,
			msg: []string{`$.sub: duplicate member "sub"`, "RFC 7519 §4"}, good: good},
		{name: "duplicate header member", forged: forge(hostile.Header("alg", "RS256", "kid", "k1", "alg", "none"), payload, hostile.RS256(priv)), err: ErrMalformed,
			msg: []string{`header: $.alg: duplicate member "alg"`, "RFC 7515 §4"}, good: good},
		{name: "claim not UTF-8", forged: forge(hdr(), hostile.WithMember(payload, "name", []byte("\"caf\xe9\"")), hostile.RS256(priv)), err: ErrMalformed,
			msg: []string{"not UTF-8"}, good: good},
		{name: "header not UTF-8", forged: forge(hostile.WithMember(hdr(), "x", []byte("\"\xff\"")), payload, hostile.RS256(priv)), err: ErrMalformed,
			msg: []string{"header", "not UTF-8"}, good: good},
		{name: "10,000 claims", forged: forge(hdr(), many, hostile.RS256(priv)), err: ErrTooLarge, msg: []string{"over the limit of 65536"}, good: good},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.verifier
			if v == nil {
				v = verifier(k.public())
			}
			before := fetched.Load()
			_, err := v.Verify(context.Background(), c.forged, Expected{Issuer: "https://idp.example"})
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			for _, m := range c.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q lacks %q", err, m)
				}
			}
			if c.notLooked && fetched.Load() != before {
				t.Errorf("the verifier fetched the URL the token pointed at")
			}
			// The twin: the same claims, signed as the issuer signs, verify.
			if _, err := v.Verify(context.Background(), c.good, Expected{Issuer: "https://idp.example"}); err != nil {
				t.Errorf("well-formed twin refused: %v", err)
			}
		})
	}
}

// A large but sane token passes when the limit is raised, and the limit is
// checked before any decoding.
func TestMaxTokenBytes(t *testing.T) {
	k := newRSAKey(t, "k1")
	big := claims(map[string]any{"blob": strings.Repeat("x", 70<<10)})
	tok := k.sign(t, big, nil)
	v := verifier(k.public())
	if _, err := v.Verify(context.Background(), tok, Expected{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the default limit: %v", err)
	}
	v.MaxTokenBytes = 1 << 20
	if _, err := v.Verify(context.Background(), tok, Expected{}); err != nil {
		t.Errorf("under a raised limit: %v", err)
	}
	// Garbage of the same size fails on size, not on parsing.
	if _, err := verifier(k.public()).Verify(context.Background(), strings.Repeat("!", 1<<20), Expected{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("garbage: %v", err)
	}
}

// A JWKS of a thousand keys: the verdict names the size of the set when the
// signing key lies beyond what is read; the twin (key among the first) works.
func TestThousandKeyJWKS(t *testing.T) {
	k := newRSAKey(t, "signing")
	keys := make([]jose.JSONWebKey, 0, hostile.ManyKeysCount)
	for i := range hostile.ManyKeysCount - 1 {
		d := newECKey(t, fmt.Sprintf("decoy-%d", i))
		keys = append(keys, d.public())
	}
	serve := func(ks []jose.JSONWebKey) *RemoteKeySet {
		body, err := json.Marshal(jose.JSONWebKeySet{Keys: ks})
		if err != nil {
			t.Fatal(err)
		}
		return NewRemoteKeySet(func(context.Context) ([]byte, error) { return body, nil }, nil)
	}
	tok := k.sign(t, claims(nil), nil)
	v := verifier()
	v.Keys = serve(append(append([]jose.JSONWebKey{}, keys...), k.public()))
	_, err := v.Verify(context.Background(), tok, Expected{})
	if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "JWKS holds 1000 keys; only the first 100 are read") {
		t.Fatalf("key beyond the limit: %v", err)
	}
	v.Keys = serve(append([]jose.JSONWebKey{k.public()}, keys...))
	if _, err := v.Verify(context.Background(), tok, Expected{}); err != nil {
		t.Errorf("key among the first: %v", err)
	}
}

// Duplicate members in a JWKS are reported as problems: a key repeating a
// member is dropped (go-jose refuses it), the others are still read.
func TestParseJWKSDuplicates(t *testing.T) {
	k := newRSAKey(t, "k1")
	one, _ := json.Marshal(k.public())
	dup := hostile.WithMember(one, "kid", []byte(`"k2"`))
	set, err := ParseJWKS([]byte(`{"keys":[` + string(one) + `,` + string(dup) + `],"x":1,"x":2}`))
	if err != nil || len(set.Keys) != 1 {
		t.Fatalf("ParseJWKS: %+v %v", set, err)
	}
	got := strings.Join(set.Problems, "\n")
	for _, want := range []string{`$.keys[1].kid: duplicate member "kid"`, `$.x: duplicate member "x"`, "keys[1]: "} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	set, err = ParseJWKS([]byte(`{"keys":[` + string(one) + `]}`))
	if err != nil || len(set.Problems) != 0 || len(set.Keys) != 1 {
		t.Errorf("clean twin: %+v %v", set, err)
	}
}
