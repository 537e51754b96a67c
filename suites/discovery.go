package suites

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	. "github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	fw "github.com/idpconform/idpconform/suites/framework"
)

// privateJWKMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func discoverySpecs(f *fw.Framework) {
	need := []target.Capability{target.CapDiscovery}

	// Requirement: OIDC Discovery 1.0 §4
	// Description: the metadata document MUST be served at
	// {issuer}/.well-known/openid-configuration with status 200 as a JSON object.
	f.It("serves the metadata document as a JSON object with status 200",
		fw.Requirement{Label: fw.LabelDiscovery, Ref: "OIDC Discovery 1.0 §4", Severity: fw.MUST, Needs: need},
		func(ctx context.Context, s *fw.Spec) {
			resp, err := s.Client.Get(ctx, "discovery", oauth.DiscoveryURL(s.Issuer), "application/json")
			Expect(err).NotTo(HaveOccurred(), "fetching the discovery document")
			Expect(resp.Status).To(Equal(http.StatusOK), "discovery status")
			var m map[string]any
			Expect(json.Unmarshal(resp.Body, &m)).To(Succeed(), "discovery body must be a JSON object")
		})

	// Requirement: OIDC Discovery 1.0 §4.3
	// Description: the issuer value returned MUST be identical to the issuer
	// URL the metadata was retrieved from.
	f.It("names the issuer it was discovered from",
		fw.Requirement{Label: fw.LabelDiscovery, Ref: "OIDC Discovery 1.0 §4.3", Severity: fw.MUST, Needs: need},
		func(ctx context.Context, s *fw.Spec) {
			md := metadata(ctx, s)
			Expect(md.Issuer).To(Equal(s.Issuer), "issuer in the metadata")
		})

	// Requirement: OIDC Discovery 1.0 §3, RFC 8414 §2
	// Description: issuer, token_endpoint and jwks_uri MUST be present; an
	// OpenID Provider (authorization_code declared) MUST also publish
	// authorization_endpoint, response_types_supported,
	// subject_types_supported and id_token_signing_alg_values_supported.
	f.It("publishes the required metadata members",
		fw.Requirement{Label: fw.LabelDiscovery, Ref: "OIDC Discovery 1.0 §3", Severity: fw.MUST, Needs: need},
		func(ctx context.Context, s *fw.Spec) {
			md := metadata(ctx, s)
			required := []string{"issuer", "token_endpoint", "jwks_uri"}
			if s.Target.Has(target.CapAuthorizationCode) {
				required = append(required, "authorization_endpoint", "response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported")
			}
			var missing []string
			for _, k := range required {
				if _, ok := md.Raw[k]; !ok {
					missing = append(missing, k)
				}
			}
			Expect(missing).To(BeEmpty(), "required metadata members missing")
		})

	// Requirement: OIDC Discovery 1.0 §3 (jwks_uri), RFC 7517 §5
	// Description: jwks_uri MUST point at a reachable JWK Set document.
	f.It("serves a JWK Set at jwks_uri",
		fw.Requirement{Label: fw.LabelDiscovery, Ref: "RFC 7517 §5", Severity: fw.MUST, Needs: need},
		func(ctx context.Context, s *fw.Spec) {
			body, err := s.Client.FetchJWKS(ctx, s.Endpoint("jwks"))
			Expect(err).NotTo(HaveOccurred(), "fetching the JWKS")
			set, err := verify.ParseJWKS(body)
			Expect(err).NotTo(HaveOccurred(), "parsing the JWKS")
			Expect(set.Keys).NotTo(BeEmpty(), "signing keys in the JWKS")
		})

	// Requirement: RFC 7517 §9.2, OIDC Discovery 1.0 §3 (jwks_uri)
	// Description: the published JWK Set MUST hold only the public keys
	// relying parties verify with, never private or symmetric key members.
	f.It("publishes no private or symmetric key material in the JWKS",
		fw.Requirement{Label: fw.LabelDiscovery, Ref: "RFC 7517 §9.2", Severity: fw.MUST, Needs: need},
		func(ctx context.Context, s *fw.Spec) {
			keys := rawJWKS(ctx, s)
			var leaks []string
			for _, k := range keys {
				for _, m := range privateJWKMembers {
					if _, ok := k[m]; ok {
						kid, _ := k["kid"].(string)
						leaks = append(leaks, "kid "+quote(kid)+" has member "+m)
					}
				}
			}
			Expect(leaks).To(BeEmpty(), "private key members in the JWKS")
		})

	// Requirement: RFC 7517 §4.5
	// Description: different keys within a JWK Set SHOULD use distinct kid
	// values, so a verifier can pick the key a token names.
	f.It("gives every key in the JWKS a distinct kid",
		fw.Requirement{Label: fw.LabelDiscovery, Ref: "RFC 7517 §4.5", Severity: fw.SHOULD, Needs: need},
		func(ctx context.Context, s *fw.Spec) {
			seen := map[string]int{}
			var dups []string
			for _, k := range rawJWKS(ctx, s) {
				kid, _ := k["kid"].(string)
				seen[kid]++
				if seen[kid] == 2 {
					dups = append(dups, kid)
				}
			}
			Expect(dups).To(BeEmpty(), "kids used by more than one key")
		})

	// Requirement: RFC 8414 §2
	// Description: the metadata SHOULD advertise what the target is declared
	// to do: each declared grant in grant_types_supported (omitted means
	// authorization_code and implicit only), S256 in
	// code_challenge_methods_supported for authorization code (omitted means
	// no PKCE), and each client's method in
	// token_endpoint_auth_methods_supported (omitted means
	// client_secret_basic only); a client that reads the metadata would
	// otherwise not use what the IdP can do.
	f.It("advertises the grants, PKCE method and client authentication the target declares",
		fw.Requirement{Label: fw.LabelDiscovery, Ref: "RFC 8414 §2", Severity: fw.SHOULD, Needs: need},
		func(ctx context.Context, s *fw.Spec) {
			md := metadata(ctx, s)
			Expect(unadvertised(s.Target, md)).To(BeEmpty(), "declared but not advertised in the metadata")
		})
}

// unadvertised lists what the target declares and its metadata does not
// advertise, applying RFC 8414 §2's defaults for omitted members.
func unadvertised(tg *target.Target, md *oauth.Metadata) []string {
	grants := md.GrantTypesSupported
	if grants == nil {
		grants = []string{"authorization_code", "implicit"}
	}
	methods := md.TokenEndpointAuthMethodsSupported
	if methods == nil {
		methods = []string{string(target.ClientSecretBasic)}
	}
	var out []string
	for capability, grant := range map[target.Capability]string{
		target.CapClientCredentials: "client_credentials",
		target.CapAuthorizationCode: "authorization_code",
		target.CapRefreshToken:      "refresh_token",
	} {
		if tg.Has(capability) && !slices.Contains(grants, grant) {
			out = append(out, "grant_types_supported lacks "+grant)
		}
	}
	if tg.Has(target.CapAuthorizationCode) && !slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
		out = append(out, "code_challenge_methods_supported lacks S256")
	}
	for _, c := range tg.Clients {
		if m := string(c.AuthMethod); m != "" && !slices.Contains(methods, m) {
			out = append(out, "token_endpoint_auth_methods_supported lacks "+m+" (client "+c.Name+")")
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// metadata fetches the discovery document for this spec, failing it when the
// document cannot be had.
func metadata(ctx context.Context, s *fw.Spec) *oauth.Metadata {
	md, _, err := s.Client.Discover(ctx, s.Issuer)
	Expect(err).NotTo(HaveOccurred(), "discovery")
	return md
}

// rawJWKS returns the JWKS keys as raw JSON objects, so that members the
// verifier would drop can still be judged.
func rawJWKS(ctx context.Context, s *fw.Spec) []map[string]any {
	body, err := s.Client.FetchJWKS(ctx, s.Endpoint("jwks"))
	Expect(err).NotTo(HaveOccurred(), "fetching the JWKS")
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	Expect(json.Unmarshal(body, &doc)).To(Succeed(), "JWKS must be a JSON object with a keys array")
	return doc.Keys
}

func quote(s string) string { return `"` + s + `"` }
