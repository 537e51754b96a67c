package suites

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	fw "github.com/idpconform/idpconform/suites/framework"
)

// MaxExpiryWait bounds how long an expiry spec waits for a token to lapse:
// targets declare a short-TTL client for these specs.
const MaxExpiryWait = 30 * time.Second

func expirySpecs(f *fw.Framework) {
	req := func(ref string, sev fw.Severity, more ...target.Capability) fw.Requirement {
		return fw.Requirement{Label: fw.LabelExpiry, Ref: ref, Severity: sev, Needs: more}
	}

	// Requirement: RFC 6749 §5.1, RFC 9068 §2.2
	// Description: expires_in and the JWT's exp describe one lifetime: they
	// MUST agree within the clock skew.
	f.It("states expires_in in agreement with the access token's exp", req("RFC 6749 §5.1", fw.MUST, target.CapClientCredentials, target.CapJWTAccessToken),
		func(ctx context.Context, s *fw.Spec) {
			c := jwtClientOf(s)
			tr := requestCC(ctx, s, c)
			fw.ExpectIssued(tr)
			Expect(tr.ExpiresIn).NotTo(BeNil(), "expires_in")
			tok, err := s.Verifier.Verify(ctx, tr.AccessToken, verify.Expected{})
			Expect(err).NotTo(HaveOccurred(), "access token")
			exp, _, _ := verify.NumericDate(tok.Claims, "exp")
			left := time.Until(exp).Seconds()
			skew := s.Target.ClockSkew.D().Seconds()
			Expect(math.Abs(left-float64(*tr.ExpiresIn))).To(BeNumerically("<=", skew+1),
				"expires_in %d vs exp %d seconds from now", *tr.ExpiresIn, int64(left))
		})

	for _, c := range f.Target.Clients {
		if c.AccessTokenTTL == 0 || !c.HasGrant(target.GrantClientCredentials) {
			continue
		}
		// Requirement: the target's declared access_token_ttl
		// Description: each client's access tokens MUST live as long as the
		// target declares (exp - iat for JWTs, expires_in otherwise),
		// within the clock skew.
		f.It(fmt.Sprintf("issues client %s access tokens with the declared lifetime of %s", c.Name, c.AccessTokenTTL.D()),
			req("target access_token_ttl", fw.MUST, target.CapClientCredentials),
			func(ctx context.Context, s *fw.Spec) {
				tr := requestCC(ctx, s, c)
				fw.ExpectIssued(tr)
				skew := s.Target.ClockSkew.D().Seconds()
				want := c.AccessTokenTTL.D().Seconds()
				if c.AccessTokenFormat == target.FormatJWT {
					tok, err := s.Verifier.Verify(ctx, tr.AccessToken, verify.Expected{})
					Expect(err).NotTo(HaveOccurred(), "access token")
					expectLifetime(tok.Claims, c.AccessTokenTTL.D(), s.Target.ClockSkew.D(), "access token")
					return
				}
				Expect(tr.ExpiresIn).NotTo(BeNil(), "expires_in of an opaque token")
				Expect(float64(*tr.ExpiresIn)).To(BeNumerically("~", want, skew+1), "expires_in")
			})
	}

	for _, c := range f.Target.Clients {
		if c.IDTokenTTL == 0 || !c.HasGrant(target.GrantAuthorizationCode) {
			continue
		}
		// Requirement: the target's declared id_token_ttl
		// Description: each client's ID tokens MUST live as long as the
		// target declares (exp - iat), within the clock skew: a relying
		// party schedules its re-authentication (and Akoya's data calls)
		// by it.
		f.It(fmt.Sprintf("issues client %s ID tokens with the declared lifetime of %s", c.Name, c.IDTokenTTL.D()),
			req("target id_token_ttl", fw.MUST, target.CapAuthorizationCode),
			func(ctx context.Context, s *fw.Spec) {
				_, tr := s.Tokens(ctx, c)
				tok := s.VerifyIDToken(ctx, requireIDToken(tr), c)
				expectLifetime(tok.Claims, c.IDTokenTTL.D(), s.Target.ClockSkew.D(), "ID token")
			})
	}

	// Requirement: RFC 7662 §2.2, RFC 7519 §4.1.4
	// Description: once its lifetime is over, an access token MUST be
	// reported inactive by introspection and refused by a verifier. With
	// an opaque token and no introspection nothing can be checked: the
	// spec is skipped.
	f.It("stops honouring an access token after its lifetime", req("RFC 7662 §2.2", fw.MUST, target.CapClientCredentials),
		func(ctx context.Context, s *fw.Spec) {
			c := shortClient(s, target.GrantClientCredentials)
			byIntrospection := s.Target.Has(target.CapIntrospection) && introspectable(s.Target, c)
			bySignature := c.AccessTokenFormat == target.FormatJWT
			if !byIntrospection && !bySignature {
				// An opaque token says nothing about itself: without
				// introspection the wait would end in a pass that checked
				// nothing.
				Skip(fmt.Sprintf("client %s's access tokens are opaque and target %s does not declare capability %q: nothing tells whether an expired token is still honoured",
					c.Name, s.Target.Name, target.CapIntrospection))
			}
			tr := requestCC(ctx, s, c)
			fw.ExpectIssued(tr)
			wait := c.AccessTokenTTL.D() + s.Target.ClockSkew.D() + 2*time.Second
			Eventually(func(g Gomega) {
				if byIntrospection {
					in, err := s.Client.Introspect(ctx, s.Endpoint("introspection"), fw.Credentials(c), tr.AccessToken, "")
					g.Expect(err).NotTo(HaveOccurred(), "introspection")
					g.Expect(in.Active).NotTo(BeNil(), "active member (%s)", introAnswer(in))
					g.Expect(*in.Active).To(BeFalse(), "active after the lifetime")
				}
				if bySignature {
					_, err := s.Verifier.Verify(ctx, tr.AccessToken, verify.Expected{})
					g.Expect(errors.Is(err, verify.ErrExpired)).To(BeTrue(), "verifier after the lifetime: %v", err)
				}
			}).WithContext(ctx).WithTimeout(wait).WithPolling(250 * time.Millisecond).Should(Succeed())
		})

	// Requirement: RFC 6750 §3.1, OIDC Core §5.3.3
	// Description: the UserInfo endpoint MUST refuse an expired access token
	// with 401 and WWW-Authenticate error="invalid_token".
	f.It("refuses an expired access token at the UserInfo endpoint with 401", req("RFC 6750 §3.1", fw.MUST, target.CapAuthorizationCode, target.CapUserinfo),
		func(ctx context.Context, s *fw.Spec) {
			c := shortClient(s, target.GrantAuthorizationCode)
			_, tr := s.Tokens(ctx, c)
			resp, _, err := s.Client.Userinfo(ctx, s.Endpoint("userinfo"), tr.AccessToken)
			Expect(err).NotTo(HaveOccurred(), "userinfo")
			Expect(resp.Status).To(Equal(http.StatusOK), "userinfo with a fresh token")
			wait := c.AccessTokenTTL.D() + s.Target.ClockSkew.D() + 2*time.Second
			Eventually(func(g Gomega) {
				resp, _, err := s.Client.Userinfo(ctx, s.Endpoint("userinfo"), tr.AccessToken)
				g.Expect(err).NotTo(HaveOccurred(), "userinfo")
				g.Expect(resp.Status).To(Equal(http.StatusUnauthorized), "userinfo status after the lifetime")
				g.Expect(resp.Header.Get("WWW-Authenticate")).To(ContainSubstring("invalid_token"), "WWW-Authenticate")
			}).WithContext(ctx).WithTimeout(wait).WithPolling(250 * time.Millisecond).Should(Succeed())
		})

	// Requirement: RFC 6749 §5.2 (or the vendor's documented error)
	// Description: an expired refresh token MUST be refused with the error
	// the target declares (invalid_grant unless the vendor documents
	// another).
	f.It("refuses an expired refresh token", req("RFC 6749 §5.2", fw.MUST, target.CapAuthorizationCode, target.CapRefreshToken),
		func(ctx context.Context, s *fw.Spec) {
			c := shortRefreshClient(s)
			_, first := s.Tokens(ctx, c)
			issued := time.Now()
			rt := requireRefreshToken(first)
			// A refresh attempt would consume (rotate) the token, so the wait
			// is on the clock: until the declared lifetime and the skew are
			// over, then one attempt must be refused.
			lapsed := issued.Add(c.RefreshTokenTTL.D() + s.Target.ClockSkew.D())
			Eventually(func() bool { return time.Now().After(lapsed) }).WithContext(ctx).
				WithTimeout(time.Until(lapsed)+time.Second).WithPolling(100*time.Millisecond).Should(BeTrue(), "refresh token lifetime over")
			tr, err := s.Client.Refresh(ctx, s.Endpoint("token"), fw.Credentials(c), rt, nil)
			Expect(err).NotTo(HaveOccurred(), "refresh")
			Expect(tr.Error).NotTo(BeNil(), "refresh after the lifetime (answer: %s)", fw.Answer(tr))
			Expect(tr.Error.Code).To(Equal(c.Refresh.RejectError), "error code")
		})
}

// shortClient returns the client with grant g and the shortest declared
// access token lifetime, skipping when none is short enough to wait for.
func shortClient(s *fw.Spec, g target.Grant) target.Client {
	var best target.Client
	for _, c := range s.Target.Clients {
		if c.HasGrant(g) && c.AccessTokenTTL > 0 && (best.Name == "" || c.AccessTokenTTL < best.AccessTokenTTL) {
			best = c
		}
	}
	if best.Name == "" || best.AccessTokenTTL.D() > MaxExpiryWait {
		Skip(fmt.Sprintf("target %s declares no %s client with an access_token_ttl of at most %s", s.Target.Name, g, MaxExpiryWait))
	}
	return best
}

// shortRefreshClient is shortClient for refresh token lifetimes.
func shortRefreshClient(s *fw.Spec) target.Client {
	var best target.Client
	for _, c := range s.Target.Clients {
		if c.HasGrant(target.GrantAuthorizationCode) && c.HasGrant(target.GrantRefreshToken) && c.RefreshTokenTTL > 0 &&
			(best.Name == "" || c.RefreshTokenTTL < best.RefreshTokenTTL) {
			best = c
		}
	}
	if best.Name == "" || best.RefreshTokenTTL.D() > MaxExpiryWait {
		Skip(fmt.Sprintf("target %s declares no refresh client with a refresh_token_ttl of at most %s", s.Target.Name, MaxExpiryWait))
	}
	return best
}

// jwtClientOf returns the first client credentials client with JWT access
// tokens.
func jwtClientOf(s *fw.Spec) target.Client {
	for _, c := range s.Target.Clients {
		if c.HasGrant(target.GrantClientCredentials) && c.AccessTokenFormat == target.FormatJWT {
			return c
		}
	}
	Skip(fmt.Sprintf("target %s declares no client_credentials client with access_token_format jwt", s.Target.Name))
	return target.Client{}
}

// expectLifetime checks that a token's exp - iat is the declared lifetime
// within the clock skew.
func expectLifetime(claims map[string]any, want, skew time.Duration, what string) {
	exp, _, _ := verify.NumericDate(claims, "exp")
	iat, ok, _ := verify.NumericDate(claims, "iat")
	ExpectWithOffset(1, ok).To(BeTrue(), "iat in the %s", what)
	ExpectWithOffset(1, exp.Sub(iat).Seconds()).To(BeNumerically("~", want.Seconds(), skew.Seconds()), "exp - iat of the %s", what)
}
