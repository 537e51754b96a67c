package suites

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/login"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	fw "github.com/idpconform/idpconform/suites/framework"
)

func authCodeSpecs(f *fw.Framework) {
	req := func(ref string, sev fw.Severity) fw.Requirement {
		return fw.Requirement{Label: fw.LabelAuthCode, Ref: ref, Severity: sev, Needs: []target.Capability{target.CapAuthorizationCode}}
	}
	client := func(s *fw.Spec) target.Client { return s.ClientFor(target.GrantAuthorizationCode) }

	// Requirement: RFC 6749 §4.1.2
	// Description: after the user authorizes, the IdP MUST redirect to the
	// redirect URI with a code and exactly the state the client sent.
	f.It("returns a code and the request's state to the redirect URI", req("RFC 6749 §4.1.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			a := s.Authorize(ctx, client(s), fw.AuthOptions{})
			Expect(a.Callback.Error).To(BeNil(), "authorization error in the callback")
			Expect(a.Callback.Code).NotTo(BeEmpty(), "code in the callback")
			Expect(a.Callback.State).To(Equal(a.State), "state in the callback")
		})

	// Requirement: OIDC Core §3.1.3.3
	// Description: a code granted for the openid scope MUST be exchanged for
	// an access token and an ID token.
	f.It("exchanges the code for an access token and an ID token", req("OIDC Core §3.1.3.3", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			_, tr := s.Tokens(ctx, c)
			if slices.Contains(c.Scopes, "openid") {
				Expect(tr.IDToken).NotTo(BeEmpty(), "id_token for a request with the openid scope")
			}
		})

	// Requirement: RFC 6749 §5.1
	// Description: the code exchange response MUST carry Cache-Control:
	// no-store.
	f.It("answers the code exchange with Cache-Control: no-store", req("RFC 6749 §5.1", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			_, tr := s.Tokens(ctx, client(s))
			Expect(directives(tr.Header.Values("Cache-Control"))).To(ContainElement("no-store"), "Cache-Control of the token response")
		})

	// Requirement: OIDC Core §3.1.3.7
	// Description: the ID token MUST be signed with an allowed algorithm by
	// a key of the issuer, iss MUST be the issuer, aud MUST contain the
	// client, exp MUST be in the future and iat present.
	f.It("issues an ID token whose signature, iss, aud, exp and iat validate", req("OIDC Core §3.1.3.7", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			_, tr := s.Tokens(ctx, c)
			tok := s.VerifyIDToken(ctx, requireIDToken(tr), c)
			_, hasIat, err := verify.NumericDate(tok.Claims, "iat")
			Expect(err).NotTo(HaveOccurred(), "iat")
			Expect(hasIat).To(BeTrue(), "iat in the ID token")
			_, err = verify.StringClaim(tok.Claims, "sub")
			Expect(err).NotTo(HaveOccurred(), "sub in the ID token")
		})

	// Requirement: OIDC Core §3.1.3.7 (11)
	// Description: when the request carried a nonce, the ID token's nonce
	// MUST equal it.
	f.It("echoes the request's nonce in the ID token", req("OIDC Core §3.1.3.7", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			a, tr := s.Tokens(ctx, c)
			tok := s.VerifyIDToken(ctx, requireIDToken(tr), c)
			Expect(tok.Claims["nonce"]).To(Equal(a.Nonce), "nonce in the ID token")
		})

	// Requirement: OIDC Core §3.1.3.7 (4, 5)
	// Description: with several audiences, the client SHOULD find azp, and
	// azp MUST then be its own client_id.
	f.It("names the client in azp when the ID token has several audiences", req("OIDC Core §3.1.3.7", fw.SHOULD),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			_, tr := s.Tokens(ctx, c)
			tok := s.VerifyIDToken(ctx, requireIDToken(tr), c)
			aud, err := verify.Audience(tok.Claims)
			Expect(err).NotTo(HaveOccurred(), "aud")
			if len(aud) > 1 {
				Expect(tok.Claims).To(HaveKeyWithValue("azp", c.ID), "azp with audiences %q", aud)
			} else if azp, ok := tok.Claims["azp"]; ok {
				Expect(azp).To(Equal(c.ID), "azp")
			}
		})

	// Requirement: OIDC Core §3.1.3.8
	// Description: an at_hash in the ID token MUST be the left half of the
	// hash of the access token, base64url, with the hash of the ID token's
	// alg; it is optional in the code flow.
	f.It("binds the access token with a correct at_hash when it sends one", req("OIDC Core §3.1.3.8", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			_, tr := s.Tokens(ctx, c)
			tok := s.VerifyIDToken(ctx, requireIDToken(tr), c)
			got, ok := tok.Claims["at_hash"]
			if !ok {
				s.Info("ID token has no at_hash (optional in the code flow)")
				return
			}
			want, err := contract.AtHash(tok.Header.Alg, tr.AccessToken)
			Expect(err).NotTo(HaveOccurred(), "at_hash algorithm")
			Expect(got).To(Equal(want), "at_hash of the access token")
		})

	// Requirement: the target's ID token contract (oidc-core-id-token, or a
	// vendor's)
	// Description: every mandatory claim present with its type; unknown
	// claims are reported, never failed.
	f.It("meets the ID token claim contract", req("OIDC Core §2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			ct := contractFor(s, s.Target.Contracts.IDToken, "id_token")
			c := client(s)
			_, tr := s.Tokens(ctx, c)
			tok := s.VerifyIDToken(ctx, requireIDToken(tr), c)
			expectContract(s, ct, tok.Claims)
		})

	// Requirement: RFC 6749 §4.1.2, §5.2
	// Description: a code MUST NOT be used more than once; the second
	// exchange MUST be refused with invalid_grant.
	f.It("refuses a code used twice with invalid_grant", req("RFC 6749 §4.1.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			a := s.Authorize(ctx, c, fw.AuthOptions{})
			fw.ExpectIssued(s.Exchange(ctx, a))
			fw.ExpectRejected(s.Exchange(ctx, a), "invalid_grant")
		})

	// Requirement: RFC 6749 §4.1.3
	// Description: the redirect_uri of the exchange MUST be the one of the
	// authorization request; otherwise invalid_grant.
	f.It("refuses a code presented with another redirect_uri", req("RFC 6749 §4.1.3", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			a := s.Authorize(ctx, c, fw.AuthOptions{})
			tr, err := s.Client.ExchangeCode(ctx, s.Endpoint("token"), fw.Credentials(c), a.Callback.Code, c.RedirectURI+"/other", a.PKCE.Verifier)
			Expect(err).NotTo(HaveOccurred(), "code exchange")
			fw.ExpectRejected(tr, "invalid_grant")
		})

	// Requirement: RFC 7636 §4.6
	// Description: a code_verifier that does not match the challenge MUST
	// be refused with invalid_grant.
	f.It("refuses a code presented with a wrong PKCE verifier", req("RFC 7636 §4.6", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			a := s.Authorize(ctx, c, fw.AuthOptions{})
			tr, err := s.Client.ExchangeCode(ctx, s.Endpoint("token"), fw.Credentials(c), a.Callback.Code, c.RedirectURI, oauth.NewPKCE("S256").Verifier)
			Expect(err).NotTo(HaveOccurred(), "code exchange")
			fw.ExpectRejected(tr, "invalid_grant")
		})

	// Requirement: RFC 7636 §4.6
	// Description: a code requested with a challenge MUST NOT be redeemed
	// without the verifier.
	f.It("refuses a code presented without its PKCE verifier", req("RFC 7636 §4.6", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			a := s.Authorize(ctx, c, fw.AuthOptions{})
			tr, err := s.Client.ExchangeCode(ctx, s.Endpoint("token"), fw.Credentials(c), a.Callback.Code, c.RedirectURI, "")
			Expect(err).NotTo(HaveOccurred(), "code exchange")
			Expect(tr.Error).NotTo(BeNil(), "an error response (answer: %s)", fw.Answer(tr))
			Expect(tr.Error.Code).To(BeElementOf("invalid_grant", "invalid_request"), "error code")
		})

	// Requirement: RFC 6749 §4.1.3
	// Description: a code MUST only be redeemed by the client it was issued
	// to; another authenticated client gets invalid_grant.
	f.It("refuses a code presented by another client", req("RFC 6749 §4.1.3", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			other, ok := otherClient(s.Target, c, target.GrantAuthorizationCode)
			if !ok {
				Skip(fmt.Sprintf("target %s declares only one authorization_code client", s.Target.Name))
			}
			a := s.Authorize(ctx, c, fw.AuthOptions{})
			tr, err := s.Client.ExchangeCode(ctx, s.Endpoint("token"), fw.Credentials(other), a.Callback.Code, c.RedirectURI, a.PKCE.Verifier)
			Expect(err).NotTo(HaveOccurred(), "code exchange")
			fw.ExpectRejected(tr, "invalid_grant")
		})

	// Requirement: OIDC Core §2 (sub), seed 002
	// Description: sub is never reassigned: the same user logging in twice,
	// in two separate sessions, MUST get the same sub.
	f.It("gives the same user the same sub on every login", req("OIDC Core §2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			_, first := s.Tokens(ctx, c)
			_, second := s.Tokens(ctx, c)
			a := s.VerifyIDToken(ctx, requireIDToken(first), c)
			b := s.VerifyIDToken(ctx, requireIDToken(second), c)
			Expect(b.Claims["sub"]).To(Equal(a.Claims["sub"]), "sub of the second login")
		})

	// Requirement: OIDC Core §5.3.2
	// Description: the sub the UserInfo endpoint returns MUST exactly match
	// the sub of the ID token.
	f.It("returns the ID token's sub from the UserInfo endpoint", fw.Requirement{Label: fw.LabelAuthCode, Ref: "OIDC Core §5.3.2", Severity: fw.MUST,
		Needs: []target.Capability{target.CapAuthorizationCode, target.CapUserinfo}},
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			_, tr := s.Tokens(ctx, c)
			tok := s.VerifyIDToken(ctx, requireIDToken(tr), c)
			resp, claims, err := s.Client.Userinfo(ctx, s.Endpoint("userinfo"), tr.AccessToken)
			Expect(err).NotTo(HaveOccurred(), "userinfo")
			Expect(resp.Status).To(Equal(200), "userinfo status")
			Expect(claims).To(HaveKeyWithValue("sub", tok.Claims["sub"]), "sub from userinfo")
		})

	// Requirement: RFC 6749 §4.1.2.1, RFC 9700 §4.1
	// Description: an authorization request naming an unregistered
	// redirect_uri MUST NOT be redirected there (an open redirector leaks
	// codes); the IdP shows an error instead.
	f.It("refuses to redirect to an unregistered redirect_uri", req("RFC 6749 §4.1.2.1", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			c.RedirectURI = "http://127.0.0.1:9/idpconform-unregistered-callback"
			u, ok := s.Target.User("")
			if !ok {
				Skip(fmt.Sprintf("target %s declares no users to log in as", s.Target.Name))
			}
			p := s.Client.NewPKCE("S256")
			raw, err := oauth.AuthRequest{Endpoint: s.Endpoint("authorization"), ClientID: c.ID, RedirectURI: c.RedirectURI,
				Scopes: c.Scopes, State: oauth.RandomValue(), PKCE: &p, Extra: loginParams(s)}.URL()
			Expect(err).NotTo(HaveOccurred(), "authorization URL")
			loc, err := s.Driver().Login(ctx, raw, c.RedirectURI, loginUser(u))
			Expect(err).To(HaveOccurred(), "the IdP redirected to the unregistered redirect_uri %s", stripQuery(loc))
		})

	// Requirement: RFC 7636 §4.2
	// Description: "plain" is allowed only for clients that cannot do S256;
	// whether the IdP accepts it is reported.
	f.It("reports whether PKCE plain is accepted", req("RFC 7636 §4.2", fw.INFO),
		func(ctx context.Context, s *fw.Spec) {
			c := client(s)
			a := s.Authorize(ctx, c, fw.AuthOptions{PKCEMethod: "plain"})
			if a.Callback.Error != nil {
				s.Info("PKCE plain refused at the authorization endpoint: %s", a.Callback.Error)
				return
			}
			tr := s.Exchange(ctx, a)
			s.Info("PKCE plain: code exchange answered %s", fw.Answer(tr))
		})

	// Requirement: RFC 7636 §4.2, §4.4.1; the target's variants.pkce_plain
	// Description: a server may support the "plain" method or not; it MUST
	// do what the target declares: accepted, the code is issued and
	// redeemed with the plain verifier; refused, the authorization
	// endpoint MUST answer invalid_request (§4.4.1).
	f.It("treats PKCE plain as the target declares", req("RFC 7636 §4.4.1", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			declared := s.Target.Variants.PKCEPlain
			if declared == "" {
				Skip(fmt.Sprintf("target %s declares no variants.pkce_plain", s.Target.Name))
			}
			c := client(s)
			a := s.Authorize(ctx, c, fw.AuthOptions{PKCEMethod: "plain"})
			if declared == target.Refused {
				Expect(a.Callback.Error).NotTo(BeNil(), "an authorization error for code_challenge_method plain (the target declares it refused)")
				Expect(a.Callback.Error.Code).To(Equal("invalid_request"), "error code for an unsupported code_challenge_method")
				return
			}
			fw.ExpectIssued(s.Exchange(ctx, a))
		})
}

// loginParams returns the target's extra authorization request parameters.
func loginParams(s *fw.Spec) url.Values {
	v := url.Values{}
	for k, p := range s.Target.Login.Params {
		v.Set(k, p)
	}
	return v
}

func loginUser(u target.User) login.User {
	return login.User{Username: u.Username, Password: u.Password.Reveal()}
}

func stripQuery(raw string) string {
	base, _, _ := strings.Cut(raw, "?")
	return base
}

// requireIDToken fails the spec when the token response has no ID token.
func requireIDToken(tr *oauth.TokenResponse) string {
	ExpectWithOffset(1, tr.IDToken).NotTo(BeEmpty(), "id_token in the token response")
	return tr.IDToken
}

// otherClient returns a client other than c registered for g.
func otherClient(t *target.Target, c target.Client, g target.Grant) (target.Client, bool) {
	for _, o := range t.Clients {
		if o.Name != c.Name && o.HasGrant(g) {
			return o, true
		}
	}
	return target.Client{}, false
}

// contractFor returns the named contract, skipping the spec when the
// target names none for this kind.
func contractFor(s *fw.Spec, name, kind string) *contract.Contract {
	if name == "" {
		Skip(fmt.Sprintf("target %s names no %s contract", s.Target.Name, kind))
	}
	ct, err := s.Contracts.Get(name)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "contract")
	return ct
}

// expectContract checks claims against ct: violations fail, unknown claims
// are recorded as INFO.
func expectContract(s *fw.Spec, ct *contract.Contract, claims map[string]any) {
	findings := ct.Check(claims)
	for _, fd := range findings {
		if fd.Level == contract.Info {
			s.Info("%s", fd)
		}
	}
	ExpectWithOffset(1, contract.Violations(findings)).To(BeEmpty(), "violations of contract %s", ct.Name)
}
