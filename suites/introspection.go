package suites

import (
	"context"
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
	fw "github.com/idpconform/idpconform/suites/framework"
)

func introspectionSpecs(f *fw.Framework) {
	req := func(ref string, sev fw.Severity, more ...target.Capability) fw.Requirement {
		return fw.Requirement{Label: fw.LabelIntrospection, Ref: ref, Severity: sev,
			Needs: append([]target.Capability{target.CapIntrospection, target.CapClientCredentials}, more...)}
	}

	// Requirement: RFC 7662 §2.2
	// Description: an active token MUST be answered with "active": true.
	f.It("says an issued token is active", req("RFC 7662 §2.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c, tr := ccTokenFor(ctx, s, introspectable)
			in := introspect(ctx, s, c, tr.AccessToken)
			expectActive(in, true)
		})

	// Requirement: RFC 7662 §2.2
	// Description: scope, client_id, exp and token_type are OPTIONAL members
	// a resource server relies on; when sent they must describe the token.
	f.It("describes an active token with scope, client_id, exp and token_type", req("RFC 7662 §2.2", fw.SHOULD),
		func(ctx context.Context, s *fw.Spec) {
			c, tr := ccTokenFor(ctx, s, introspectable)
			in := introspect(ctx, s, c, tr.AccessToken)
			expectActive(in, true)
			Expect(in.Fields).To(HaveKey("scope"), "scope")
			Expect(in.Fields).To(HaveKeyWithValue("client_id", c.ID), "client_id")
			Expect(in.Fields).To(HaveKey("exp"), "exp")
			Expect(in.Fields).To(HaveKey("token_type"), "token_type")
		})

	// Requirement: the target's introspection contract (RFC 7662 §2.2 for
	// rfc7662-introspection)
	// Description: the answer about an active token has every member the
	// contract makes mandatory, each member it names has its type (exp and
	// iat numeric dates, aud an audience), and its relations hold; members
	// the contract does not name are reported, never failed.
	f.It("meets the introspection response contract", req("RFC 7662 §2.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			ct := contractFor(s, s.Target.Contracts.Introspection, "introspection")
			c, tr := ccTokenFor(ctx, s, introspectable)
			in := introspect(ctx, s, c, tr.AccessToken)
			expectActive(in, true)
			expectContract(s, ct, in.Fields)
		})

	// Requirement: RFC 7662 §2.2, the target's
	// variants.jwt_access_token_introspection
	// Description: the introspection endpoint MUST describe the IdP's JWT
	// access tokens as active, unless the target declares it does not
	// introspect them; then it MUST answer 200 with "active": false, as for
	// any token the caller may not know about, never an error status.
	f.It("answers the introspection of a JWT access token as the target declares", req("RFC 7662 §2.2", fw.MUST, target.CapJWTAccessToken),
		func(ctx context.Context, s *fw.Spec) {
			c := jwtClientOf(s)
			tr := requestCC(ctx, s, c)
			fw.ExpectIssued(tr)
			in := introspect(ctx, s, c, tr.AccessToken)
			if s.Target.Variants.IntrospectsJWT() {
				expectActive(in, true)
				return
			}
			s.Info("the target declares that JWT access tokens are not introspected")
			Expect(in.Status).To(Equal(http.StatusOK), "introspection status for a JWT access token the IdP does not introspect: RFC 7662 §2.2 answers such tokens with active false, not an error (%s)", introAnswer(in))
			Expect(in.Active).NotTo(BeNil(), "active must be a boolean member (%s)", introAnswer(in))
			Expect(*in.Active).To(BeFalse(), "active for a JWT access token the target declares it does not introspect")
		})

	for _, tc := range []struct{ name, token string }{
		{"an unknown token", "idpconform-unknown-" + oauth.RandomValue()},
		{"a malformed token", "%%% not a token %%%"},
	} {
		// Requirement: RFC 7662 §2.2
		// Description: a token that does not exist, or is not a token at
		// all, MUST be answered with 200 and "active": false, not an error.
		f.It("answers "+tc.name+" with active false", req("RFC 7662 §2.2", fw.MUST),
			func(ctx context.Context, s *fw.Spec) {
				c := s.ClientFor(target.GrantClientCredentials)
				expectActive(introspect(ctx, s, c, tc.token), false)
			})
	}

	// Requirement: RFC 7662 §2.1
	// Description: the endpoint MUST require authorization of the caller;
	// a request without client authentication is refused.
	f.It("refuses to introspect for an unauthenticated caller", req("RFC 7662 §2.1", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c, tr := ccTokenFor(ctx, s, introspectable)
			anon := fw.Credentials(c)
			anon.Method = oauth.AuthNone
			anon.ID = ""
			in, err := s.Client.Introspect(ctx, s.Endpoint("introspection"), anon, tr.AccessToken, "")
			Expect(err).NotTo(HaveOccurred(), "introspection request")
			Expect(in.Status).To(BeElementOf(http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest), "status without client authentication")
			Expect(in.Active == nil || !*in.Active).To(BeTrue(), "an unauthenticated caller must not learn that the token is active")
		})

	// Requirement: RFC 7662 §2.1
	// Description: wrong client credentials are refused like missing ones.
	f.It("refuses to introspect for a wrong client secret", req("RFC 7662 §2.1", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c, tr := ccTokenFor(ctx, s, introspectable)
			bad := fw.Credentials(c)
			bad.Secret = wrongSecret()
			s.Secrets.Add(bad.Secret)
			in, err := s.Client.Introspect(ctx, s.Endpoint("introspection"), bad, tr.AccessToken, "")
			Expect(err).NotTo(HaveOccurred(), "introspection request")
			Expect(in.Status).To(BeElementOf(http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest), "status with a wrong secret")
			Expect(in.Active == nil || !*in.Active).To(BeTrue(), "a wrong secret must not learn that the token is active")
		})
}

func revocationSpecs(f *fw.Framework) {
	req := func(ref string, sev fw.Severity, more ...target.Capability) fw.Requirement {
		return fw.Requirement{Label: fw.LabelRevocation, Ref: ref, Severity: sev,
			Needs: append([]target.Capability{target.CapRevocation}, more...)}
	}

	// Requirement: RFC 7009 §2.2
	// Description: a successful revocation MUST be answered with 200.
	f.It("revokes an access token with 200", req("RFC 7009 §2.2", fw.MUST, target.CapClientCredentials),
		func(ctx context.Context, s *fw.Spec) {
			c, tr := ccTokenFor(ctx, s, revocable)
			expectRevoked(ctx, s, c, tr.AccessToken, "access_token")
		})

	// Requirement: RFC 7009 §2.2
	// Description: an invalid token does not cause an error: 200.
	f.It("answers the revocation of an unknown token with 200", req("RFC 7009 §2.2", fw.MUST, target.CapClientCredentials),
		func(ctx context.Context, s *fw.Spec) {
			c := s.ClientFor(target.GrantClientCredentials)
			expectRevoked(ctx, s, c, "idpconform-unknown-"+oauth.RandomValue(), "")
		})

	// Requirement: RFC 7009 §2, RFC 7662 §2.2
	// Description: after revocation, introspection MUST say the token is
	// not active.
	f.It("reports a revoked access token as inactive", req("RFC 7009 §2", fw.MUST, target.CapClientCredentials, target.CapIntrospection),
		func(ctx context.Context, s *fw.Spec) {
			c, tr := ccTokenFor(ctx, s, func(t *target.Target, c target.Client) bool { return revocable(t, c) && introspectable(t, c) })
			expectActive(introspect(ctx, s, c, tr.AccessToken), true)
			expectRevoked(ctx, s, c, tr.AccessToken, "access_token")
			expectActive(introspect(ctx, s, c, tr.AccessToken), false)
		})

	// Requirement: RFC 7009 §2.2, §2.2.1, the target's
	// variants.jwt_access_token_revocation
	// Description: a JWT access token MUST be revoked with 200 (and, when
	// the IdP introspects JWTs, be inactive after), unless the target
	// declares it does not revoke them; then the endpoint MUST refuse with
	// 400 and unsupported_token_type, never a 200 that leaves the token
	// valid.
	f.It("answers the revocation of a JWT access token as the target declares", req("RFC 7009 §2.2.1", fw.MUST, target.CapClientCredentials, target.CapJWTAccessToken),
		func(ctx context.Context, s *fw.Spec) {
			c := jwtClientOf(s)
			tr := requestCC(ctx, s, c)
			fw.ExpectIssued(tr)
			if s.Target.Variants.RevokesJWT() {
				expectRevoked(ctx, s, c, tr.AccessToken, "access_token")
				if s.Target.Has(target.CapIntrospection) && s.Target.Variants.IntrospectsJWT() {
					expectActive(introspect(ctx, s, c, tr.AccessToken), false)
				}
				return
			}
			s.Info("the target declares that JWT access tokens are not revoked")
			resp, err := s.Client.Revoke(ctx, s.Endpoint("revocation"), fw.Credentials(c), tr.AccessToken, "access_token")
			Expect(err).NotTo(HaveOccurred(), "revocation request")
			Expect(resp.Error).NotTo(BeNil(), "an error for a JWT access token the IdP does not revoke (answer: %s)", fw.Answer(resp))
			Expect(resp.Error.Code).To(Equal("unsupported_token_type"), "error code (answer: %s)", fw.Answer(resp))
			Expect(resp.Status).To(Equal(http.StatusBadRequest), "status")
		})

	// Requirement: RFC 7009 §2.1
	// Description: a revoked refresh token MUST no longer be usable.
	f.It("refuses a revoked refresh token", req("RFC 7009 §2.1", fw.MUST, target.CapAuthorizationCode, target.CapRefreshToken),
		func(ctx context.Context, s *fw.Spec) {
			c := refreshClient(s)
			_, first := s.Tokens(ctx, c)
			rt := requireRefreshToken(first)
			expectRevoked(ctx, s, c, rt, "refresh_token")
			tr := refresh(ctx, s, c, rt)
			Expect(tr.Error).NotTo(BeNil(), "refresh with a revoked token (answer: %s)", fw.Answer(tr))
			Expect(tr.Error.Code).To(BeElementOf(c.Refresh.RejectError, "invalid_grant"), "error code")
		})

	// Requirement: RFC 7009 §2.1
	// Description: the revocation endpoint MUST authenticate confidential
	// clients; a wrong secret is refused with invalid_client.
	f.It("refuses revocation with a wrong client secret", req("RFC 7009 §2.1", fw.MUST, target.CapClientCredentials),
		func(ctx context.Context, s *fw.Spec) {
			c, tr := ccTokenFor(ctx, s, revocable)
			bad := fw.Credentials(c)
			bad.Secret = wrongSecret()
			s.Secrets.Add(bad.Secret)
			resp, err := s.Client.Revoke(ctx, s.Endpoint("revocation"), bad, tr.AccessToken, "access_token")
			Expect(err).NotTo(HaveOccurred(), "revocation request")
			Expect(resp.Status).To(BeElementOf(http.StatusUnauthorized, http.StatusBadRequest), "status with a wrong secret")
			if resp.Error != nil {
				Expect(resp.Error.Code).To(Equal("invalid_client"), "error code")
			}
		})
}

// ccTokenFor gets an access token by client credentials for the first
// client whose tokens ok accepts, skipping the spec when there is none.
func ccTokenFor(ctx context.Context, s *fw.Spec, ok func(*target.Target, target.Client) bool) (target.Client, *oauth.TokenResponse) {
	s.ClientFor(target.GrantClientCredentials) // skips when there is no such client at all
	for _, c := range s.Target.Clients {
		if c.HasGrant(target.GrantClientCredentials) && ok(s.Target, c) {
			tr := requestCC(ctx, s, c)
			fw.ExpectIssued(tr)
			return c, tr
		}
	}
	Skip(fmt.Sprintf("target %s declares JWT access tokens it does not introspect or revoke (variants), and no client_credentials client with opaque access tokens", s.Target.Name))
	return target.Client{}, nil
}

// introspectable: the target's introspection endpoint describes c's
// access tokens (variants.jwt_access_token_introspection).
func introspectable(t *target.Target, c target.Client) bool {
	return c.AccessTokenFormat != target.FormatJWT || t.Variants.IntrospectsJWT()
}

// revocable: c's access tokens can be revoked
// (variants.jwt_access_token_revocation).
func revocable(t *target.Target, c target.Client) bool {
	return c.AccessTokenFormat != target.FormatJWT || t.Variants.RevokesJWT()
}

func introspect(ctx context.Context, s *fw.Spec, c target.Client, token string) *oauth.Introspection {
	in, err := s.Client.Introspect(ctx, s.Endpoint("introspection"), fw.Credentials(c), token, "")
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "introspection request")
	return in
}

func expectActive(in *oauth.Introspection, want bool) {
	ExpectWithOffset(1, in.Status).To(Equal(http.StatusOK), "introspection status (%s)", introAnswer(in))
	ExpectWithOffset(1, in.Active).NotTo(BeNil(), "active must be a boolean member (%s)", introAnswer(in))
	ExpectWithOffset(1, *in.Active).To(Equal(want), "active")
}

func introAnswer(in *oauth.Introspection) string {
	if in.Error != nil {
		return fmt.Sprintf("HTTP %d %s", in.Status, in.Error)
	}
	return fmt.Sprintf("HTTP %d", in.Status)
}

func expectRevoked(ctx context.Context, s *fw.Spec, c target.Client, token, hint string) {
	resp, err := s.Client.Revoke(ctx, s.Endpoint("revocation"), fw.Credentials(c), token, hint)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "revocation request")
	ExpectWithOffset(1, resp.Status).To(Equal(http.StatusOK), "revocation status (answer: %s)", fw.Answer(resp))
}
