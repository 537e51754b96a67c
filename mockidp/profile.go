package mockidp

import (
	"fmt"
	"slices"
	"sort"

	"github.com/go-jose/go-jose/v4"
)

// Profile is the vendor the mock imitates: the algorithm it signs with and
// the shape of what it issues.
type Profile struct {
	Name string
	// Doc is the source document the profile follows (../shared/seeds).
	Doc string
	// SigningAlg is the JWS algorithm of every token.
	SigningAlg jose.SignatureAlgorithm
	// AudienceArray puts aud in access tokens as an array, not a string.
	AudienceArray bool
}

var profiles = map[string]Profile{
	"generic":      {Name: "generic", Doc: "RFC 6749, RFC 9068, OIDC Core", SigningAlg: jose.RS256},
	"akoya":        {Name: "akoya", Doc: "Akoya new IdP (seeds 000, 001)", SigningAlg: jose.RS256, AudienceArray: true},
	"akoya-legacy": {Name: "akoya-legacy", Doc: "Akoya old IdP (seed 002)", SigningAlg: jose.RS256},
	"akkess":       {Name: "akkess", Doc: "Akkess token service (seed 003)", SigningAlg: jose.RS256},
	"nextidentity": {Name: "nextidentity", Doc: "Next Identity token service (seed 004)", SigningAlg: jose.RS256, AudienceArray: true},
}

// Profiles lists the profile names, sorted.
func Profiles() []string {
	out := make([]string, 0, len(profiles))
	for k := range profiles {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LookupProfile returns the named profile.
func LookupProfile(name string) (Profile, error) {
	p, ok := profiles[name]
	if !ok {
		names := Profiles()
		return Profile{}, fmt.Errorf("unknown mock profile %q; expected one of %v", name, names)
	}
	return p, nil
}

// supportsAlg reports whether the mock can sign with alg.
func supportsAlg(alg jose.SignatureAlgorithm) bool {
	return slices.Contains([]jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}, alg)
}
