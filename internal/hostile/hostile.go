// Package hostile is a purpose-built hostile IdP for tests: the bundled mock
// IdP on a loopback port, behind a front that misbehaves in one chosen way
// (a 100 MiB body, a byte a second, a redirect loop, a forged token, a JWKS
// of a thousand keys...). Everything else is a working IdP, so a test sees
// exactly one problem and can assert that idpconform names it, in bounded
// time and memory, through the packages or a whole conformance run.
//
// Catalogue lists every behaviour with the endpoint it hits, the rule it
// breaks and the words a verdict about it must contain. The package serves
// tests only; it is not part of the tool.
package hostile

import (
	"fmt"
	"slices"
	"strings"
)

// Behaviour is one misbehaviour of the hostile IdP.
type Behaviour string

// The behaviours. Catalogue describes each.
const (
	TruncatedJSON    Behaviour = "truncated-json"
	HugeBody         Behaviour = "huge-body"
	TrickleBody      Behaviour = "trickle-body"
	TrickleHead      Behaviour = "trickle-head"
	RedirectLoop     Behaviour = "redirect-loop"
	InvalidUTF8      Behaviour = "invalid-utf8"
	DuplicateMembers Behaviour = "duplicate-members"
	AlgNone          Behaviour = "alg-none"
	HS256PublicKey   Behaviour = "hs256-public-key"
	UnknownCrit      Behaviour = "unknown-crit"
	EmbeddedJWK      Behaviour = "embedded-jwk"
	JKU              Behaviour = "jku"
	X5U              Behaviour = "x5u"
	DuplicateClaims  Behaviour = "duplicate-claims"
	DuplicateHeader  Behaviour = "duplicate-header"
	InvalidUTF8Claim Behaviour = "invalid-utf8-claim"
	ManyClaims       Behaviour = "many-claims"
	ManyKeys         Behaviour = "many-keys"
)

// Endpoints a behaviour can hit.
const (
	EndpointToken     = "token"
	EndpointDiscovery = "discovery"
	EndpointJWKS      = "jwks"
	EndpointAuthorize = "authorize"
	// EndpointAll hits every endpoint of the IdP.
	EndpointAll = "*"
)

// Sizes of the behaviours, exported so tests can state their bounds.
const (
	// HugeBodyBytes is the size of the huge-body response: 100 MiB.
	HugeBodyBytes = 100 << 20
	// ManyClaimsCount is how many claims many-claims adds to a token.
	ManyClaimsCount = 10000
	// ManyKeysCount is the size of the many-keys JWKS; the issuer's real
	// key is the last one.
	ManyKeysCount = 1000
	// UnknownCritName is the extension the unknown-crit token marks
	// critical.
	UnknownCritName = "urn:idpconform:hostile:unknown"
)

// Info describes one behaviour.
type Info struct {
	Behaviour Behaviour
	// Endpoint is where it strikes by default.
	Endpoint string
	// Description says what the hostile IdP does.
	Description string
	// Rule is what it breaks, or the robustness a client owes.
	Rule string
	// Verdict is a phrase idpconform's failing verdict must contain.
	Verdict string
}

var catalogue = []Info{
	{TruncatedJSON, EndpointToken, "answers 200 with a JSON body cut off in the middle of a string (Content-Length matches what is sent)",
		"RFC 6749 §5.1", "unexpected end of JSON input"},
	{HugeBody, EndpointToken, "answers 200 with a 100 MiB JSON body, chunked, with no Content-Length",
		"bounded read (max_response_bytes)", "response body exceeds the size limit"},
	{TrickleBody, EndpointToken, "sends the headers at once, then the body one byte a second",
		"bounded time (request_timeout)", "no complete response within the request timeout"},
	{TrickleHead, EndpointToken, "sends the status line and headers themselves one byte a second",
		"bounded time (request_timeout)", "no complete response within the request timeout"},
	{RedirectLoop, EndpointAll, "answers every request with 302 to the URL just requested",
		"OIDC Discovery 1.0 §4; RFC 6749 §5.1", "redirect"},
	{InvalidUTF8, EndpointToken, "adds a member whose string value is Latin-1, not UTF-8",
		"RFC 8259 §8.1", "not UTF-8"},
	{DuplicateMembers, EndpointToken, "sends access_token twice in one token response, with different values",
		"RFC 6749 §3.2", "$.access_token: duplicate member"},
	{AlgNone, EndpointToken, `replaces the access token by an unsigned copy with alg "none"`,
		"RFC 8725 §3.1; RFC 9068 §4", `alg "none"`},
	{HS256PublicKey, EndpointToken, "HMAC-signs the access token (HS256) with the issuer's RSA public key as the secret",
		"RFC 8725 §2.1, §3.1", `alg "HS256"`},
	{UnknownCrit, EndpointToken, "signs the access token with the issuer's key and a crit header naming an extension nobody knows",
		"RFC 7515 §4.1.11", "crit"},
	{EmbeddedJWK, EndpointToken, "signs the access token with an attacker's key, embeds that key as jwk and names the issuer's kid",
		"RFC 8725 §3.10", "jwk"},
	{JKU, EndpointToken, "signs the access token with an attacker's key and points jku at the attacker's JWKS",
		"RFC 8725 §3.10", "jku"},
	{X5U, EndpointToken, "signs the access token with an attacker's key and points x5u at the attacker's certificate",
		"RFC 8725 §3.10", "x5u"},
	{DuplicateClaims, EndpointToken, `signs, with the issuer's key, an access token whose payload repeats "sub"`,
		"RFC 7519 §4", `duplicate member "sub"`},
	{DuplicateHeader, EndpointToken, `signs, with the issuer's key, an access token whose header repeats "kid"`,
		"RFC 7515 §4", `duplicate member "kid"`},
	{InvalidUTF8Claim, EndpointToken, "signs, with the issuer's key, an access token with a Latin-1 claim value",
		"RFC 7519 §7.2; RFC 8259 §8.1", "not UTF-8"},
	{ManyClaims, EndpointToken, "signs, with the issuer's key, an access token carrying 10,000 extra claims",
		"bounded token size (bearer tokens travel in HTTP headers)", "token too large"},
	{ManyKeys, EndpointJWKS, "publishes a JWKS of 1,000 keys with the signing key last",
		"bounded key set (verify.MaxKeys)", "1000 keys"},
}

// Catalogue returns every behaviour, in a stable order. The slice is a copy.
func Catalogue() []Info { return slices.Clone(catalogue) }

// Lookup returns a behaviour's description.
func Lookup(b Behaviour) (Info, error) {
	for _, in := range catalogue {
		if in.Behaviour == b {
			return in, nil
		}
	}
	names := make([]string, len(catalogue))
	for i, in := range catalogue {
		names[i] = string(in.Behaviour)
	}
	return Info{}, fmt.Errorf("hostile: unknown behaviour %q; expected one of %s", b, strings.Join(names, ", "))
}

// forgesToken reports whether the behaviour rewrites the access token.
func forgesToken(b Behaviour) bool {
	switch b {
	case AlgNone, HS256PublicKey, UnknownCrit, EmbeddedJWK, JKU, X5U, DuplicateClaims, DuplicateHeader, InvalidUTF8Claim, ManyClaims:
		return true
	}
	return false
}
