package verify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpconform/idpconform/internal/jsonkind"
	"github.com/idpconform/idpconform/internal/strictjson"
)

// Verifier checks JWS-signed JWTs. Algorithms and Keys are required; the zero
// value of every other field is the strict choice.
type Verifier struct {
	// Keys finds verification keys by kid.
	Keys KeySet
	// Algorithms is the allow-list of header alg values. A token signed with
	// anything else is refused before its signature is looked at.
	Algorithms []jose.SignatureAlgorithm
	// Leeway is allowed on exp, nbf and iat, in the relying party's favour of
	// accepting tokens from an IdP whose clock is slightly off.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxTokenBytes bounds the compact token read; zero means
	// DefaultMaxTokenBytes. The check runs before anything is decoded.
	MaxTokenBytes int
}

// DefaultMaxTokenBytes is far above any real token (a few KiB) and far below
// what would make decoding costly. A token this large could not be sent as a
// bearer token anyway: common HTTP servers refuse header fields over 8-16 KiB.
const DefaultMaxTokenBytes = 64 << 10

// Expected states what a token must carry. A zero field is not checked.
type Expected struct {
	// Issuer must equal iss exactly.
	Issuer string
	// Audience must be aud (a string) or one element of aud (an array).
	Audience string
	// Type must equal the typ header, compared case-insensitively and with
	// an optional "application/" prefix (RFC 8725 §3.11, RFC 9068 §2.1).
	Type string
	// AllowMissingExp accepts a token without exp. Off by default: every
	// token idpconform checks is meant to expire.
	AllowMissingExp bool
}

// Token is a verified JWT.
type Token struct {
	Raw    string
	Header Header
	// Claims is the payload, decoded with json.Number for numbers so that
	// large integers keep their value.
	Claims map[string]any
	// Payload is the payload bytes as signed.
	Payload []byte
	// Key is the JWK that verified the signature.
	Key jose.JSONWebKey
}

// Header is the protected JOSE header of a verified token.
type Header struct {
	Alg   string
	Kid   string
	Typ   string
	Cty   string
	Extra map[string]any
}

// Verify parses raw, checks its signature with a key of the issuer, then its
// claims against want and the clock. Cheap checks run first: the algorithm
// before any key lookup, the signature before any claim is trusted.
func (v *Verifier) Verify(ctx context.Context, raw string, want Expected) (*Token, error) {
	if len(v.Algorithms) == 0 {
		return nil, fmt.Errorf("verify: no signing algorithms allowed; the verifier needs an allow-list")
	}
	raw = strings.TrimSpace(raw)
	limit := v.MaxTokenBytes
	if limit <= 0 {
		limit = DefaultMaxTokenBytes
	}
	if len(raw) > limit {
		return nil, fmt.Errorf("%w: token is %d bytes, over the limit of %d", ErrTooLarge, len(raw), limit)
	}
	if strings.Count(raw, ".") != 2 {
		return nil, fmt.Errorf("%w: expected a compact JWS of three dot-separated parts, got %d parts", ErrMalformed, strings.Count(raw, ".")+1)
	}
	rawHeader, err := checkHeader(raw[:strings.IndexByte(raw, '.')])
	if err != nil {
		return nil, err
	}
	jws, err := jose.ParseSignedCompact(raw, v.Algorithms)
	if err != nil {
		var ua *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &ua) {
			return nil, fmt.Errorf("%w: alg %q, allowed %s", ErrAlgorithm, ua.Got, algList(v.Algorithms))
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// RFC 7515 §4.1.11: a recipient MUST reject a JWS whose crit lists an
	// extension it does not understand; this verifier understands none.
	if crit, ok := rawHeader["crit"]; ok {
		return nil, fmt.Errorf("%w: crit %s lists header extensions this verifier does not process; RFC 7515 §4.1.11 requires rejecting the token", ErrCritical, crit)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: expected one signature, got %d", ErrMalformed, len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	hdr := Header{Alg: h.Algorithm, Kid: h.KeyID, Extra: map[string]any{}}
	for k, val := range h.ExtraHeaders {
		switch k {
		case jose.HeaderType:
			hdr.Typ, _ = val.(string)
		case jose.HeaderContentType:
			hdr.Cty, _ = val.(string)
		default:
			hdr.Extra[string(k)] = val
		}
	}

	// Keys come from the issuer's key set only. A key the token carries
	// (jwk, x5c) or points at (jku, x5u) is never used: whoever made the
	// token chose it (RFC 8725 §3.10). It is named in errors, since it
	// explains why a forged token's signature fails.
	refs := keyReferences(rawHeader)
	keys, err := v.Keys.Lookup(ctx, hdr.Kid)
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, refs)
	}
	found := len(keys)
	keys = usable(keys, hdr.Alg)
	switch {
	case len(keys) == 0 && found > 0 && hdr.Kid != "":
		return nil, fmt.Errorf("%w: kid %q is not a key for alg %s (its kty or alg differ); RFC 8725 §3.1 forbids using a key with another algorithm%s", ErrNoKey, hdr.Kid, hdr.Alg, refs)
	case len(keys) == 0 && hdr.Kid == "":
		return nil, fmt.Errorf("%w: token has no kid and the JWKS has no key for alg %s%s", ErrNoKey, hdr.Alg, refs)
	case len(keys) == 0:
		return nil, fmt.Errorf("%w: kid %q (alg %s) is not in the JWKS, even after refetching it%s%s", ErrNoKey, hdr.Kid, hdr.Alg, keySetProblems(v.Keys), refs)
	case len(keys) > 1 && hdr.Kid == "":
		return nil, fmt.Errorf("%w: token has no kid and the JWKS has %d keys for alg %s; OIDC Core §10.1 requires a kid then", ErrNoKey, len(keys), hdr.Alg)
	}
	var payload []byte
	var used jose.JSONWebKey
	var lastErr error
	for _, k := range keys {
		p, err := jws.Verify(k.Key)
		if err == nil {
			payload, used = p, k
			break
		}
		lastErr = err
	}
	if payload == nil {
		return nil, fmt.Errorf("%w: kid %q alg %s: %w%s", ErrSignature, hdr.Kid, hdr.Alg, lastErr, refs)
	}

	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	tok := &Token{Raw: raw, Header: hdr, Claims: claims, Payload: payload, Key: used}
	if err := v.checkClaims(tok, want); err != nil {
		return tok, err
	}
	return tok, nil
}

// usable keeps keys whose declared alg (if any) is the header's and whose
// type fits the alg: an RSA public key must never verify an HMAC (the key
// confusion of RFC 8725 §2.1), whatever the allow-list says.
func usable(keys []jose.JSONWebKey, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if (k.Algorithm == "" || k.Algorithm == alg) && keyFits(k, alg) {
			out = append(out, k)
		}
	}
	return out
}

// keyFits reports whether k's key type can verify alg (RFC 7518 §3.1,
// RFC 8037 §3.1).
func keyFits(k jose.JSONWebKey, alg string) bool {
	switch k.Key.(type) {
	case *rsa.PublicKey, *rsa.PrivateKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey, *ecdsa.PrivateKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey, ed25519.PrivateKey:
		return alg == string(jose.EdDSA)
	case []byte:
		return strings.HasPrefix(alg, "HS")
	default:
		return false
	}
}

// checkHeader decodes the protected header for the checks go-jose does not
// make: it must be UTF-8 JSON without duplicate member names (RFC 7515 §4,
// §5.2 step 4). It returns the members as sent.
func checkHeader(seg string) (map[string]json.RawMessage, error) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64url: %w", ErrMalformed, err)
	}
	if ps := strictjson.Check(b); len(ps) > 0 {
		return nil, fmt.Errorf("%w: header: %s (RFC 7515 §4: member names MUST be unique)", ErrMalformed, strings.Join(strictjson.Strings(ps), "; "))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	return m, nil
}

// keyReferences describes the header members that carry or point at a key,
// for error messages.
func keyReferences(h map[string]json.RawMessage) string {
	var refs []string
	for _, name := range []string{"jwk", "x5c", "jku", "x5u"} {
		v, ok := h[name]
		if !ok {
			continue
		}
		switch name {
		case "jku", "x5u":
			var u string
			_ = json.Unmarshal(v, &u)
			refs = append(refs, fmt.Sprintf("%s %q", name, u))
		default:
			refs = append(refs, name)
		}
	}
	if len(refs) == 0 {
		return ""
	}
	return fmt.Sprintf(" (the token names its own key: %s; keys are taken only from the issuer's JWKS, RFC 8725 §3.10)", strings.Join(refs, ", "))
}

// keySetProblems names what the key set could not read, when it says.
func keySetProblems(ks KeySet) string {
	p, ok := ks.(interface{ Problems() []string })
	if !ok || len(p.Problems()) == 0 {
		return ""
	}
	return "; the JWKS had problems: " + strings.Join(p.Problems(), "; ")
}

func decodeClaims(payload []byte) (map[string]any, error) {
	if ps := strictjson.Check(payload); len(ps) > 0 {
		return nil, fmt.Errorf("%w: payload: %s (RFC 7519 §4: claim names MUST be unique; §7.2: the claims set is UTF-8 JSON)", ErrMalformed, strings.Join(strictjson.Strings(ps), "; "))
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object: %w", ErrMalformed, err)
	}
	if claims == nil {
		return nil, fmt.Errorf("%w: payload is JSON null, expected an object", ErrMalformed)
	}
	return claims, nil
}

func (v *Verifier) checkClaims(tok *Token, want Expected) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	if want.Type != "" && !sameType(tok.Header.Typ, want.Type) {
		return fmt.Errorf("%w: typ header: expected %q, got %q", ErrType, want.Type, tok.Header.Typ)
	}
	if want.Issuer != "" {
		iss, err := StringClaim(tok.Claims, "iss")
		if err != nil {
			return err
		}
		if iss != want.Issuer {
			return fmt.Errorf("%w: iss: expected %q, got %q", ErrIssuer, want.Issuer, iss)
		}
	}
	if want.Audience != "" {
		aud, err := Audience(tok.Claims)
		if err != nil {
			return err
		}
		if !slices.Contains(aud, want.Audience) {
			return fmt.Errorf("%w: aud: expected %q in %q", ErrAudience, want.Audience, aud)
		}
	}
	exp, hasExp, err := NumericDate(tok.Claims, "exp")
	if err != nil {
		return err
	}
	switch {
	case !hasExp && !want.AllowMissingExp:
		return fmt.Errorf("%w: exp", ErrMissingClaim)
	case hasExp && !t.Before(exp.Add(v.Leeway)):
		return fmt.Errorf("%w: exp %d is %s in the past (leeway %s)", ErrExpired, exp.Unix(), t.Sub(exp).Round(time.Second), v.Leeway)
	}
	if nbf, ok, err := NumericDate(tok.Claims, "nbf"); err != nil {
		return err
	} else if ok && t.Add(v.Leeway).Before(nbf) {
		return fmt.Errorf("%w: nbf %d is %s in the future (leeway %s)", ErrNotYetValid, nbf.Unix(), nbf.Sub(t).Round(time.Second), v.Leeway)
	}
	if iat, ok, err := NumericDate(tok.Claims, "iat"); err != nil {
		return err
	} else if ok && t.Add(v.Leeway).Before(iat) {
		return fmt.Errorf("%w: iat %d is %s in the future (leeway %s)", ErrIssuedInFuture, iat.Unix(), iat.Sub(t).Round(time.Second), v.Leeway)
	}
	return nil
}

func sameType(got, want string) bool {
	norm := func(s string) string {
		return strings.TrimPrefix(strings.ToLower(s), "application/")
	}
	return norm(got) == norm(want)
}

// StringClaim returns a string claim, or an error when it is absent or not a
// string.
func StringClaim(claims map[string]any, name string) (string, error) {
	v, ok := claims[name]
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrMissingClaim, name)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s: expected a string, got %s", ErrClaimType, name, jsonkind.Of(v).Describe())
	}
	return s, nil
}

// Audience returns aud as a list, accepting a string or an array of strings
// (RFC 7519 §4.1.3).
func Audience(claims map[string]any) ([]string, error) {
	v, ok := claims["aud"]
	if !ok {
		return nil, fmt.Errorf("%w: aud", ErrMissingClaim)
	}
	switch a := v.(type) {
	case string:
		return []string{a}, nil
	case []any:
		out := make([]string, 0, len(a))
		for i, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%w: aud[%d]: expected a string, got %s", ErrClaimType, i, jsonkind.Of(e).Describe())
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: aud: expected a string or an array of strings, got %s", ErrClaimType, jsonkind.Of(v).Describe())
	}
}

// NumericDate returns a NumericDate claim (RFC 7519 §2): a JSON number of
// seconds since the epoch, possibly fractional. ok is false when absent.
func NumericDate(claims map[string]any, name string) (t time.Time, ok bool, err error) {
	v, present := claims[name]
	if !present {
		return time.Time{}, false, nil
	}
	var f float64
	switch n := v.(type) {
	case json.Number:
		f, err = n.Float64()
		if err != nil {
			return time.Time{}, true, fmt.Errorf("%w: %s: %q is not a number", ErrClaimType, name, n.String())
		}
	case float64:
		f = n
	default:
		return time.Time{}, true, fmt.Errorf("%w: %s: expected a NumericDate (number), got %s", ErrClaimType, name, jsonkind.Of(v).Describe())
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, true, fmt.Errorf("%w: %s: %v is not a plausible NumericDate", ErrClaimType, name, f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

func algList(algs []jose.SignatureAlgorithm) string {
	s := make([]string, len(algs))
	for i, a := range algs {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// Algorithms converts alg names to go-jose values, refusing "none" and
// unknown names.
func Algorithms(names []string) ([]jose.SignatureAlgorithm, error) {
	known := map[string]jose.SignatureAlgorithm{}
	for _, a := range []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.HS256, jose.HS384, jose.HS512} {
		known[string(a)] = a
	}
	out := make([]jose.SignatureAlgorithm, 0, len(names))
	for _, n := range names {
		a, ok := known[n]
		if !ok {
			return nil, fmt.Errorf("unknown signing algorithm %q", n)
		}
		out = append(out, a)
	}
	return out, nil
}
