// Package verify checks signed JWTs the way a careful relying party does:
// the algorithm must be on an allow-list given by the caller, the key is
// found by kid in the issuer's JWKS (refetched once when the kid is unknown),
// and the time claims are judged with an explicit leeway against an
// injectable clock. Errors say exactly what failed and wrap a sentinel per
// condition, so callers branch with errors.Is.
package verify

import "errors"

var (
	// ErrMalformed: not a compact JWS, or the payload is not a JSON object.
	ErrMalformed = errors.New("malformed token")
	// ErrAlgorithm: the header alg is not on the allow-list.
	ErrAlgorithm = errors.New("signing algorithm not allowed")
	// ErrNoKey: no key in the JWKS matches the header.
	ErrNoKey = errors.New("no matching key")
	// ErrSignature: the signature does not verify with the matching key.
	ErrSignature = errors.New("signature invalid")
	// ErrExpired: exp is in the past beyond the leeway.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid: nbf is in the future beyond the leeway.
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrIssuedInFuture: iat is in the future beyond the leeway.
	ErrIssuedInFuture = errors.New("token issued in the future")
	// ErrMissingClaim: a claim the check needs is absent.
	ErrMissingClaim = errors.New("required claim missing")
	// ErrClaimType: a claim has the wrong JSON type.
	ErrClaimType = errors.New("claim has the wrong type")
	// ErrIssuer: iss is not the expected issuer.
	ErrIssuer = errors.New("issuer mismatch")
	// ErrAudience: aud does not contain the expected audience.
	ErrAudience = errors.New("audience mismatch")
	// ErrType: the typ header is not the expected one.
	ErrType = errors.New("token type mismatch")
	// ErrTooLarge: the token is over the verifier's size limit.
	ErrTooLarge = errors.New("token too large")
	// ErrCritical: the header lists crit extensions the verifier does not
	// process (RFC 7515 §4.1.11).
	ErrCritical = errors.New("unsupported critical header")
	// ErrJWKS: the key set could not be fetched or parsed.
	ErrJWKS = errors.New("key set unavailable")
)
