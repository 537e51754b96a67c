package suites

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	fw "github.com/idpconform/idpconform/suites/framework"
)

// algFamily is the JWK key type each JWS algorithm needs (RFC 7518 §3.1,
// RFC 8037 §3.1).
var algFamily = map[string]string{
	"RS256": "RSA", "RS384": "RSA", "RS512": "RSA", "PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
	"ES256": "EC", "ES384": "EC", "ES512": "EC", "EdDSA": "OKP",
}

func securitySpecs(f *fw.Framework) {
	req := func(ref string, sev fw.Severity, more ...target.Capability) fw.Requirement {
		return fw.Requirement{Label: fw.LabelSecurity, Ref: ref, Severity: sev, Needs: more}
	}

	// Requirement: OIDC Discovery 1.0 §3 (id_token_signing_alg_values_supported)
	// Description: ID tokens MUST be signed with an algorithm the metadata
	// advertises.
	f.It("signs ID tokens only with an advertised algorithm", req("OIDC Discovery 1.0 §3", fw.MUST, target.CapAuthorizationCode, target.CapDiscovery),
		func(ctx context.Context, s *fw.Spec) {
			md := metadata(ctx, s)
			c := s.ClientFor(target.GrantAuthorizationCode)
			_, tr := s.Tokens(ctx, c)
			tok := s.VerifyIDToken(ctx, requireIDToken(tr), c)
			Expect(md.IDTokenSigningAlgValuesSupported).To(ContainElement(tok.Header.Alg), "alg %s among id_token_signing_alg_values_supported", tok.Header.Alg)
		})

	// Requirement: RFC 7517 §4.2, §4.4; RFC 7518 §6.1
	// Description: a key's alg MUST fit its kty, and a key marked for
	// encryption MUST NOT name a signature algorithm.
	f.It("publishes JWKS keys whose use, alg and kty agree", req("RFC 7517 §4.4", fw.MUST, target.CapDiscovery),
		func(ctx context.Context, s *fw.Spec) {
			var bad []string
			for _, k := range rawJWKS(ctx, s) {
				kid, _ := k["kid"].(string)
				kty, _ := k["kty"].(string)
				alg, _ := k["alg"].(string)
				use, _ := k["use"].(string)
				fam, isSig := algFamily[alg]
				switch {
				case alg != "" && isSig && fam != kty:
					bad = append(bad, fmt.Sprintf("kid %q: alg %s needs kty %s, has %s", kid, alg, fam, kty))
				case use == "enc" && isSig:
					bad = append(bad, fmt.Sprintf("kid %q: use enc with signature alg %s", kid, alg))
				case use != "" && use != "sig" && use != "enc":
					bad = append(bad, fmt.Sprintf("kid %q: unknown use %q", kid, use))
				}
			}
			Expect(bad).To(BeEmpty(), "inconsistent keys")
		})

	// Requirement: RFC 6749 §10.1
	// Description: client credentials are confidential: an error response
	// MUST NOT echo the secret the client sent.
	f.It("echoes no client secret in error responses", req("RFC 6749 §10.1", fw.MUST, target.CapClientCredentials),
		func(ctx context.Context, s *fw.Spec) {
			c := s.ClientFor(target.GrantClientCredentials)
			for _, m := range []oauth.AuthMethod{oauth.ClientSecretBasic, oauth.ClientSecretPost} {
				cred := fw.Credentials(c)
				cred.Method, cred.Secret = m, wrongSecret()
				// Registered before it is sent, so that no log (--debug)
				// shows it; the check reads the raw response.
				s.Secrets.Add(cred.Secret)
				tr, err := s.Client.ClientCredentials(ctx, s.Endpoint("token"), cred, c.Scopes, nil)
				Expect(err).NotTo(HaveOccurred(), "token request")
				echoed := strings.Contains(string(tr.Body), cred.Secret) || headerContains(tr.Header, cred.Secret)
				Expect(echoed).To(BeFalse(), "the %s error response echoes the secret sent", m)
			}
		})

	// Requirement: RFC 7519 §4.1.7, RFC 9068 §2.2
	// Description: jti MUST be unique: no two JWTs the IdP issues carry the
	// same one, or a replay cache would refuse good tokens.
	f.It("never issues two JWT access tokens with the same jti", req("RFC 7519 §4.1.7", fw.MUST, target.CapClientCredentials, target.CapJWTAccessToken),
		func(ctx context.Context, s *fw.Spec) {
			c := jwtClientOf(s)
			seen := map[string]bool{}
			for range 5 {
				tr := requestCC(ctx, s, c)
				fw.ExpectIssued(tr)
				tok, err := s.Verifier.Verify(ctx, tr.AccessToken, verify.Expected{})
				Expect(err).NotTo(HaveOccurred(), "access token")
				jti, err := verify.StringClaim(tok.Claims, "jti")
				Expect(err).NotTo(HaveOccurred(), "jti")
				Expect(seen).NotTo(HaveKey(jti), "jti issued twice")
				seen[jti] = true
			}
		})

	// Requirement: OIDC Core §10.1.1
	// Description: after a key rotation the IdP MUST keep publishing the
	// old public key while tokens signed with it are still valid.
	f.It("keeps verifying tokens issued before a key rotation", req("OIDC Core §10.1.1", fw.MUST, target.CapClientCredentials, target.CapJWTAccessToken),
		func(ctx context.Context, s *fw.Spec) {
			c := jwtClientOf(s)
			var tokens []string
			for range 8 {
				tr := requestCC(ctx, s, c)
				fw.ExpectIssued(tr)
				tokens = append(tokens, tr.AccessToken)
			}
			for i, raw := range tokens {
				_, err := s.Verifier.Verify(ctx, raw, verify.Expected{})
				Expect(err).NotTo(HaveOccurred(), "token %d of %d, verified after all were issued", i+1, len(tokens))
			}
		})

	// Requirement: RFC 6749 §5.1
	// Description: every token response, refreshes included, MUST carry
	// Cache-Control: no-store.
	f.It("answers refreshes with Cache-Control: no-store", req("RFC 6749 §5.1", fw.MUST, target.CapAuthorizationCode, target.CapRefreshToken),
		func(ctx context.Context, s *fw.Spec) {
			c := refreshClient(s)
			_, first := s.Tokens(ctx, c)
			tr := refresh(ctx, s, c, requireRefreshToken(first))
			fw.ExpectIssued(tr)
			Expect(directives(tr.Header.Values("Cache-Control"))).To(ContainElement("no-store"), "Cache-Control of the refresh response")
		})

	// Requirement: RFC 8414 §2, OIDC Discovery 1.0 §3 (issuer)
	// Description: the issuer is an https URL; plain http is tolerated on
	// loopback only, for tests.
	f.It("names an https issuer (loopback excepted)", req("RFC 8414 §2", fw.SHOULD),
		func(_ context.Context, s *fw.Spec) {
			u, err := url.Parse(s.Issuer)
			Expect(err).NotTo(HaveOccurred(), "issuer URL")
			if u.Scheme == "http" && isLoopback(u.Hostname()) {
				s.Info("issuer %s is http on loopback", s.Issuer)
				return
			}
			Expect(u.Scheme).To(Equal("https"), "issuer scheme")
		})

	// Requirement: RFC 8725 §3.1
	// Description: the IdP advertises no "none" and no HMAC algorithm a
	// relying party could be tricked into accepting.
	f.It("advertises no unsigned or symmetric ID token algorithms", req("RFC 8725 §3.1", fw.SHOULD, target.CapDiscovery),
		func(ctx context.Context, s *fw.Spec) {
			md := metadata(ctx, s)
			var weak []string
			for _, a := range md.IDTokenSigningAlgValuesSupported {
				if a == "none" || strings.HasPrefix(a, "HS") {
					weak = append(weak, a)
				}
			}
			Expect(weak).To(BeEmpty(), "id_token_signing_alg_values_supported")
		})
}

func headerContains(h map[string][]string, v string) bool {
	for _, vs := range h {
		if slices.ContainsFunc(vs, func(x string) bool { return strings.Contains(x, v) }) {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
