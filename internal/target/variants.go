package target

import (
	"slices"
	"strings"
)

// Variants declares what the IdP does where the RFCs leave it a choice.
// The specs check the declared variant, so a permitted choice passes and
// only a behaviour that matches no permitted choice (or not the declared
// one) fails. Refresh token reuse is declared per client
// (clients[].refresh.rotation).
type Variants struct {
	// JWTIntrospection says whether the introspection endpoint describes
	// the IdP's JWT access tokens ("supported", the default) or answers
	// them as it answers tokens the caller may not know about, with
	// "active": false ("unsupported"): RFC 9068 resource servers validate
	// JWTs themselves, and RFC 7662 §2.2 lets the server decline.
	JWTIntrospection Support `yaml:"jwt_access_token_introspection"`
	// JWTRevocation says whether JWT access tokens can be revoked
	// ("supported", the default) or the revocation endpoint refuses them
	// with unsupported_token_type, as RFC 7009 §2.2.1 permits
	// ("unsupported").
	JWTRevocation Support `yaml:"jwt_access_token_revocation"`
	// PKCEPlain says whether the "plain" code challenge method is accepted
	// or refused (RFC 7636 §4.2 lets the server choose; RFC 9700 §2.1.1
	// recommends S256 only). Empty: not declared, only reported.
	PKCEPlain Acceptance `yaml:"pkce_plain"`
	// TokenType is the exact spelling of token_type the IdP sends
	// ("Bearer" or "bearer"). RFC 6749 §5.1 makes the value case
	// insensitive, so any spelling of bearer passes; a declared spelling is
	// checked too, for clients that compare it exactly. Empty: any case.
	TokenType string `yaml:"token_type"`
}

// Support is a declared optional feature: supported or unsupported.
type Support string

const (
	Supported   Support = "supported"
	Unsupported Support = "unsupported"
)

var supports = []Support{Supported, Unsupported}

// Acceptance is a declared yes/no for an optional input.
type Acceptance string

const (
	Accepted Acceptance = "accepted"
	Refused  Acceptance = "refused"
)

var acceptances = []Acceptance{Accepted, Refused}

// IntrospectsJWT reports whether the IdP introspects its JWT access tokens.
func (v Variants) IntrospectsJWT() bool { return v.JWTIntrospection != Unsupported }

// RevokesJWT reports whether the IdP revokes its JWT access tokens.
func (v Variants) RevokesJWT() bool { return v.JWTRevocation != Unsupported }

func applyVariantDefaults(v *Variants) {
	if v.JWTIntrospection == "" {
		v.JWTIntrospection = Supported
	}
	if v.JWTRevocation == "" {
		v.JWTRevocation = Supported
	}
}

func validateVariants(v Variants, add func(path, format string, args ...any)) {
	if !slices.Contains(supports, v.JWTIntrospection) {
		add("$.variants.jwt_access_token_introspection", "unknown value %q; expected one of %s", v.JWTIntrospection, joinAny(supports))
	}
	if !slices.Contains(supports, v.JWTRevocation) {
		add("$.variants.jwt_access_token_revocation", "unknown value %q; expected one of %s", v.JWTRevocation, joinAny(supports))
	}
	if v.PKCEPlain != "" && !slices.Contains(acceptances, v.PKCEPlain) {
		add("$.variants.pkce_plain", "unknown value %q; expected one of %s", v.PKCEPlain, joinAny(acceptances))
	}
	if v.TokenType != "" && !strings.EqualFold(v.TokenType, "bearer") {
		add("$.variants.token_type", "token_type %q is not a spelling of Bearer (RFC 6750 §4); DPoP and other types are not checked by this harness", v.TokenType)
	}
}
