package suites

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
	fw "github.com/idpconform/idpconform/suites/framework"
)

func refreshSpecs(f *fw.Framework) {
	req := func(ref string, sev fw.Severity) fw.Requirement {
		return fw.Requirement{Label: fw.LabelRefresh, Ref: ref, Severity: sev,
			Needs: []target.Capability{target.CapAuthorizationCode, target.CapRefreshToken}}
	}

	// Requirement: RFC 6749 §6
	// Description: a valid refresh token MUST get a new access token as in
	// §5.1.
	f.It("issues new tokens for a refresh token", req("RFC 6749 §6", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := refreshClient(s)
			_, first := s.Tokens(ctx, c)
			rt := requireRefreshToken(first)
			next := refresh(ctx, s, c, rt)
			fw.ExpectIssued(next)
			if next.AccessToken == first.AccessToken {
				s.Info("the refreshed access token equals the first one")
			}
		})

	// Requirement: OIDC Core §12.2
	// Description: an ID token issued on refresh MUST have the iss and sub
	// of the original one, and aud MUST still contain the client.
	f.It("keeps iss and sub of the ID token across a refresh", req("OIDC Core §12.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := refreshClient(s)
			_, first := s.Tokens(ctx, c)
			orig := s.VerifyIDToken(ctx, requireIDToken(first), c)
			next := refresh(ctx, s, c, requireRefreshToken(first))
			fw.ExpectIssued(next)
			if next.IDToken == "" {
				s.Info("no ID token on refresh (allowed by OIDC Core §12.2)")
				return
			}
			tok := s.VerifyIDToken(ctx, next.IDToken, c)
			Expect(tok.Claims["iss"]).To(Equal(orig.Claims["iss"]), "iss after refresh")
			Expect(tok.Claims["sub"]).To(Equal(orig.Claims["sub"]), "sub after refresh")
		})

	// The rotation policy is declared per client and IdPs configure it per
	// client, so each refresh client's declaration is checked. Clients whose
	// refresh tokens lapse within a minute are left to the expiry specs: a
	// slow run would fail them for time, not for policy.
	for _, c := range f.Target.Clients {
		if !c.HasGrant(target.GrantAuthorizationCode) || !c.HasGrant(target.GrantRefreshToken) {
			continue
		}
		if ttl := c.RefreshTokenTTL.D(); ttl > 0 && ttl < time.Minute {
			continue
		}
		rotationSpecs(f, req, c)
	}

	// Requirement: RFC 6749 §6
	// Description: a refresh MUST NOT grant any scope the original grant
	// did not have.
	f.It("grants no scope beyond the original grant on refresh", req("RFC 6749 §6", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := refreshClient(s)
			_, first := s.Tokens(ctx, c)
			original := strings.Fields(first.Scope)
			if len(original) == 0 {
				original = c.Scopes
			}
			next := refresh(ctx, s, c, requireRefreshToken(first))
			fw.ExpectIssued(next)
			var extra []string
			for _, g := range strings.Fields(next.Scope) {
				if !slices.Contains(original, g) {
					extra = append(extra, g)
				}
			}
			Expect(extra).To(BeEmpty(), "scopes granted on refresh beyond the original %q", strings.Join(original, " "))
		})

	// Requirement: RFC 6749 §6
	// Description: a refresh token is bound to its client: another
	// authenticated client presenting it MUST be refused.
	f.It("refuses a refresh token presented by another client", req("RFC 6749 §6", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := refreshClient(s)
			other, ok := otherClient(s.Target, c, target.GrantRefreshToken)
			if !ok {
				other, ok = otherClient(s.Target, c, target.GrantClientCredentials)
			}
			if !ok {
				Skip(fmt.Sprintf("target %s declares no second client", s.Target.Name))
			}
			_, first := s.Tokens(ctx, c)
			tr := refresh(ctx, s, other, requireRefreshToken(first))
			Expect(tr.Error).NotTo(BeNil(), "an error for a foreign refresh token (answer: %s)", fw.Answer(tr))
			Expect(tr.Error.Code).To(BeElementOf(c.Refresh.RejectError, "invalid_grant", "unauthorized_client"), "error code")
		})
}

// rotationSpecs registers the checks of c's declared rotation policy.
func rotationSpecs(f *fw.Framework, req func(string, fw.Severity) fw.Requirement, c target.Client) {
	// Requirement: the client's declared rotation policy (RFC 9700 §4.14.2)
	// Description: with rotation declared, every refresh MUST return a new
	// refresh token; without it, the refresh token MAY stay the same.
	f.It(fmt.Sprintf("rotates refresh tokens of client %s as the target declares", c.Name), req("RFC 9700 §4.14.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			_, first := s.Tokens(ctx, c)
			rt := requireRefreshToken(first)
			next := refresh(ctx, s, c, rt)
			fw.ExpectIssued(next)
			switch c.Refresh.Rotation {
			case target.RotationNone:
				if next.RefreshToken != "" && next.RefreshToken != rt {
					s.Info("rotation none declared, but a new refresh token came")
				}
			default:
				Expect(next.RefreshToken).NotTo(BeEmpty(), "new refresh token (rotation %s declared)", c.Refresh.Rotation)
				Expect(next.RefreshToken).NotTo(Equal(rt), "refresh token must change (rotation %s declared)", c.Refresh.Rotation)
			}
		})

	// Requirement: the client's declared rotation policy (RFC 9700 §4.14.2)
	// Description: once rotated, the old refresh token MUST be refused with
	// the declared error (within a declared grace period it still works);
	// without rotation it keeps working. Whether a replay also kills the
	// grant is the server's choice (RFC 9700 §4.14.2): with rotate declared
	// the newest token MUST still work after the replay; with
	// rotate-reuse-detection the next spec checks that it does not.
	f.It(fmt.Sprintf("treats a used refresh token of client %s as the target declares", c.Name), req("RFC 9700 §4.14.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			_, first := s.Tokens(ctx, c)
			rt := requireRefreshToken(first)
			next := refresh(ctx, s, c, rt)
			fw.ExpectIssued(next)
			again := refresh(ctx, s, c, rt)
			switch c.Refresh.Rotation {
			case target.RotationNone:
				fw.ExpectIssued(again)
			case target.RotationGrace:
				fw.ExpectIssued(again)
				wait := c.Refresh.Grace.D() + s.Target.ClockSkew.D()
				Eventually(func(g Gomega) {
					tr := refresh(ctx, s, c, rt)
					g.Expect(tr.Error).NotTo(BeNil(), "old refresh token after the grace period (answer: %s)", fw.Answer(tr))
					g.Expect(tr.Error.Code).To(Equal(c.Refresh.RejectError), "error code")
				}).WithTimeout(wait + 2*time.Second).WithPolling(250 * time.Millisecond).Should(Succeed())
			case target.RotationRotate:
				fw.ExpectRejected(again, c.Refresh.RejectError)
				// rotate, not rotate-reuse-detection: the replay is refused
				// but the grant lives on, so the client holding the newest
				// token keeps its session.
				if newest := next.RefreshToken; newest != "" && newest != rt {
					tr := refresh(ctx, s, c, newest)
					Expect(tr.Error).To(BeNil(), "the newest refresh token after a replay of the old one: the target declares rotation rotate, not rotate-reuse-detection (answer: %s)", fw.Answer(tr))
					fw.ExpectIssued(tr)
				}
			default:
				fw.ExpectRejected(again, c.Refresh.RejectError)
			}
		})

	if c.Refresh.Rotation != target.RotationReuseDetection {
		return
	}
	// Requirement: RFC 9700 §4.14.2 (refresh token reuse detection)
	// Description: with reuse detection declared, presenting a used refresh
	// token MUST also invalidate the newest one of its family.
	f.It(fmt.Sprintf("revokes the token family of client %s when a used refresh token comes back", c.Name), req("RFC 9700 §4.14.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			_, first := s.Tokens(ctx, c)
			rt := requireRefreshToken(first)
			next := refresh(ctx, s, c, rt)
			fw.ExpectIssued(next)
			newest := requireRefreshToken(next)
			fw.ExpectRejected(refresh(ctx, s, c, rt), c.Refresh.RejectError)
			fw.ExpectRejected(refresh(ctx, s, c, newest), c.Refresh.RejectError)
		})
}

// refreshClient returns the first client registered for both the
// authorization code and the refresh token grants.
func refreshClient(s *fw.Spec) target.Client {
	for _, c := range s.Target.Clients {
		if c.HasGrant(target.GrantAuthorizationCode) && c.HasGrant(target.GrantRefreshToken) {
			return c
		}
	}
	Skip(fmt.Sprintf("target %s declares no client with grants authorization_code and refresh_token", s.Target.Name))
	return target.Client{}
}

func requireRefreshToken(tr *oauth.TokenResponse) string {
	ExpectWithOffset(1, tr.RefreshToken).NotTo(BeEmpty(), "refresh_token in the token response")
	return tr.RefreshToken
}

func refresh(ctx context.Context, s *fw.Spec, c target.Client, rt string) *oauth.TokenResponse {
	tr, err := s.Client.Refresh(ctx, s.Endpoint("token"), fw.Credentials(c), rt, nil)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "refresh request")
	return tr
}
