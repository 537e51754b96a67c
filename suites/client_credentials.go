package suites

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	fw "github.com/idpconform/idpconform/suites/framework"
)

func clientCredentialsSpecs(f *fw.Framework) {
	need := []target.Capability{target.CapClientCredentials}
	req := func(ref string, sev fw.Severity, extra ...target.Capability) fw.Requirement {
		return fw.Requirement{Label: fw.LabelClientCredentials, Ref: ref, Severity: sev, Needs: append(slices.Clone(need), extra...)}
	}

	// One issuance spec per client: every registered auth method is exercised.
	for _, c := range f.Target.Clients {
		if !c.HasGrant(target.GrantClientCredentials) {
			continue
		}

		// Requirement: RFC 6749 §4.4.3, §5.1
		// Description: a valid client credentials request MUST get status
		// 200 and a JSON body with access_token and token_type strings.
		f.It(fmt.Sprintf("issues an access token to client %s (%s)", c.Name, c.AuthMethod),
			req("RFC 6749 §5.1", fw.MUST),
			func(ctx context.Context, s *fw.Spec) {
				tr := requestCC(ctx, s, c)
				fw.ExpectIssued(tr)
			})

		// Requirement: RFC 6749 §5.1
		// Description: the token response MUST carry Cache-Control: no-store.
		f.It(fmt.Sprintf("answers client %s with Cache-Control: no-store", c.Name),
			req("RFC 6749 §5.1", fw.MUST),
			func(ctx context.Context, s *fw.Spec) {
				tr := requestCC(ctx, s, c)
				fw.ExpectIssued(tr)
				Expect(directives(tr.Header.Values("Cache-Control"))).To(ContainElement("no-store"), "Cache-Control of the token response")
			})
	}

	// Requirement: RFC 6749 §5.1
	// Description: the token response SHOULD also carry Pragma: no-cache
	// (RFC 6749 requires it for HTTP/1.0 caches; OAuth 2.1 drops it).
	f.It("answers with Pragma: no-cache",
		req("RFC 6749 §5.1", fw.SHOULD),
		func(ctx context.Context, s *fw.Spec) {
			tr := requestCC(ctx, s, s.ClientFor(target.GrantClientCredentials))
			fw.ExpectIssued(tr)
			Expect(directives(tr.Header.Values("Pragma"))).To(ContainElement("no-cache"), "Pragma of the token response")
		})

	// Requirement: RFC 6749 §5.1
	// Description: expires_in is RECOMMENDED, and when present it is the
	// lifetime in seconds as a JSON number.
	f.It("states the token lifetime in expires_in as an integer",
		req("RFC 6749 §5.1", fw.SHOULD),
		func(ctx context.Context, s *fw.Spec) {
			tr := requestCC(ctx, s, s.ClientFor(target.GrantClientCredentials))
			fw.ExpectIssued(tr)
			Expect(tr.Fields).To(HaveKey("expires_in"), "expires_in in the token response")
			Expect(tr.ExpiresIn).NotTo(BeNil(), "expires_in must be an integer: %s", strings.Join(tr.TypeErrors, "; "))
			Expect(*tr.ExpiresIn).To(BeNumerically(">", 0), "expires_in")
		})

	// Requirement: RFC 6749 §4.4.3
	// Description: a refresh token SHOULD NOT be included in a client
	// credentials token response.
	f.It("issues no refresh token for client credentials",
		req("RFC 6749 §4.4.3", fw.SHOULD),
		func(ctx context.Context, s *fw.Spec) {
			tr := requestCC(ctx, s, s.ClientFor(target.GrantClientCredentials))
			fw.ExpectIssued(tr)
			Expect(tr.Fields).NotTo(HaveKey("refresh_token"), "refresh_token in a client credentials response")
		})

	// Requirement: RFC 6750 §4, RFC 6749 §7.1, §5.1; the target's
	// variants.token_type
	// Description: a bearer access token MUST be typed "Bearer" (compared
	// case-insensitively, RFC 6749 §5.1); a client sends it as
	// Authorization: Bearer. When the target declares a spelling, clients
	// may compare it exactly, so it MUST be that one.
	f.It("types access tokens as Bearer",
		req("RFC 6750 §4", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			tr := requestCC(ctx, s, s.ClientFor(target.GrantClientCredentials))
			fw.ExpectIssued(tr)
			Expect(strings.EqualFold(tr.TokenType, "Bearer")).To(BeTrue(), "token_type %q is not Bearer", tr.TokenType)
			if want := s.Target.Variants.TokenType; want != "" {
				Expect(tr.TokenType).To(Equal(want), "token_type spelling (the target declares %q)", want)
			}
			s.Info("token_type is spelt %q", tr.TokenType)
		})

	// Requirement: RFC 6749 §3.3
	// Description: the server may grant fewer scopes than requested, never
	// more; an absent scope member means exactly the requested ones.
	f.It("grants no scope beyond the requested ones",
		req("RFC 6749 §3.3", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := s.ClientFor(target.GrantClientCredentials)
			if len(c.Scopes) == 0 {
				Skip(fmt.Sprintf("client %s declares no scopes to request", c.Name))
			}
			tr := requestCC(ctx, s, c)
			fw.ExpectIssued(tr)
			granted := strings.Fields(tr.Scope)
			var extra []string
			for _, g := range granted {
				if !slices.Contains(c.Scopes, g) {
					extra = append(extra, g)
				}
			}
			Expect(extra).To(BeEmpty(), "scopes granted beyond the requested %q", strings.Join(c.Scopes, " "))
		})

	// Requirement: RFC 6749 §5.2
	// Description: a wrong client secret MUST get error invalid_client; when
	// the client used HTTP Basic the status MUST be 401 with a
	// WWW-Authenticate header.
	f.It("rejects a wrong client secret with invalid_client",
		req("RFC 6749 §5.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := s.ClientFor(target.GrantClientCredentials)
			cred := fw.Credentials(c)
			cred.Secret = wrongSecret()
			s.Secrets.Add(cred.Secret)
			tr, err := s.Client.ClientCredentials(ctx, s.Endpoint("token"), cred, c.Scopes, nil)
			Expect(err).NotTo(HaveOccurred(), "token request")
			Expect(tr.Error).NotTo(BeNil(), "error member for a wrong secret (answer: %s)", fw.Answer(tr))
			Expect(tr.Error.Code).To(Equal("invalid_client"), "error code for a wrong secret")
			if cred.Method == oauth.ClientSecretBasic {
				Expect(tr.Status).To(Equal(http.StatusUnauthorized), "status for a wrong Basic secret")
				Expect(tr.Header.Get("WWW-Authenticate")).NotTo(BeEmpty(), "WWW-Authenticate on the 401")
			} else {
				Expect(tr.Status).To(BeElementOf(http.StatusBadRequest, http.StatusUnauthorized), "status for a wrong secret")
			}
		})

	// Requirement: RFC 6749 §5.2
	// Description: a grant type the server does not support MUST get status
	// 400 and error unsupported_grant_type, never a token; the request is
	// otherwise valid (the client authenticates as registered) and names an
	// extension grant URI no server defines.
	f.It("refuses an unsupported grant type with unsupported_grant_type",
		req("RFC 6749 §5.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := s.ClientFor(target.GrantClientCredentials)
			tr, err := s.Client.Token(ctx, "token unsupported grant", s.Endpoint("token"), fw.Credentials(c),
				url.Values{"grant_type": {unsupportedGrantType}})
			Expect(err).NotTo(HaveOccurred(), "token request with grant_type %s", unsupportedGrantType)
			Expect(tr.AccessToken).To(BeEmpty(), "an access token was issued for grant_type %s (status %d)", unsupportedGrantType, tr.Status)
			Expect(tr.Error).NotTo(BeNil(), "error member for an unsupported grant type (answer: %s)", fw.Answer(tr))
			Expect(tr.Error.Code).To(Equal("unsupported_grant_type"), "error code for an unsupported grant type")
			Expect(tr.Status).To(Equal(http.StatusBadRequest), "status for an unsupported grant type")
		})

	// Requirement: RFC 6749 §5.2, §2.3
	// Description: a token request that carries no client authentication
	// at all (no Authorization header, no client_id, no assertion) MUST get
	// error invalid_client, which §5.2 names for "no client authentication
	// included", never a token; the status is 400, or 401, which §5.2
	// permits.
	f.It("refuses a token request without client authentication with invalid_client",
		req("RFC 6749 §5.2", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			c := s.ClientFor(target.GrantClientCredentials)
			anon := oauth.Credentials{Method: oauth.AuthNone}
			tr, err := s.Client.ClientCredentials(ctx, s.Endpoint("token"), anon, c.Scopes, nil)
			Expect(err).NotTo(HaveOccurred(), "token request without client authentication")
			Expect(tr.AccessToken).To(BeEmpty(), "an access token was issued without client authentication (status %d)", tr.Status)
			Expect(tr.Error).NotTo(BeNil(), "error member without client authentication (answer: %s)", fw.Answer(tr))
			Expect(tr.Error.Code).To(Equal("invalid_client"), "error code without client authentication")
			Expect(tr.Status).To(BeElementOf(http.StatusBadRequest, http.StatusUnauthorized), "status without client authentication")
		})

	// Requirement: RFC 9068 §4
	// Description: a JWT access token MUST be signed with a key the issuer
	// publishes, with an allowed algorithm, carry the issuer as iss, and not
	// be expired when issued.
	f.It("signs JWT access tokens with a published key",
		req("RFC 9068 §4", fw.MUST, target.CapJWTAccessToken),
		func(ctx context.Context, s *fw.Spec) {
			tr := requestCC(ctx, s, jwtClientOf(s))
			fw.ExpectIssued(tr)
			_, err := s.Verifier.Verify(ctx, tr.AccessToken, verify.Expected{Issuer: s.Issuer})
			Expect(err).NotTo(HaveOccurred(), "verifying the access token")
		})

	// Requirement: RFC 9068 §2.1
	// Description: JWT access tokens MUST have typ "at+jwt" in the header.
	f.It("types JWT access tokens as at+jwt",
		req("RFC 9068 §2.1", fw.MUST, target.CapJWTAccessToken),
		func(ctx context.Context, s *fw.Spec) {
			tr := requestCC(ctx, s, jwtClientOf(s))
			fw.ExpectIssued(tr)
			tok, err := s.Verifier.Verify(ctx, tr.AccessToken, verify.Expected{})
			Expect(err).NotTo(HaveOccurred(), "verifying the access token")
			Expect(strings.TrimPrefix(strings.ToLower(tok.Header.Typ), "application/")).To(Equal("at+jwt"), "typ header")
		})

	// Requirement: the target's token-response contract (RFC 6749 §5.1 for
	// rfc6749-token-response)
	// Description: a successful token response has every member the
	// contract makes mandatory with its type, and tokens with the entropy
	// it asks for (RFC 6749 §10.10: not guessable); members the contract
	// does not name are reported, never failed. Token values are judged in
	// memory, never quoted.
	f.It("meets the token response contract",
		req("RFC 6749 §5.1", fw.MUST),
		func(ctx context.Context, s *fw.Spec) {
			ct := contractFor(s, s.Target.Contracts.TokenResponse, "token_response")
			tr := requestCC(ctx, s, s.ClientFor(target.GrantClientCredentials))
			fw.ExpectIssued(tr)
			expectContract(s, ct, tr.Fields)
		})

	// Requirement: the target's access-token contract (RFC 9068 §2.2 for
	// rfc9068-access-token)
	// Description: every mandatory claim is present with its type; claims
	// the contract does not name are reported, never failed.
	f.It("meets the access token claim contract",
		req("RFC 9068 §2.2", fw.MUST, target.CapJWTAccessToken),
		func(ctx context.Context, s *fw.Spec) {
			name := s.Target.Contracts.AccessToken
			if name == "" {
				Skip(fmt.Sprintf("target %s names no access_token contract", s.Target.Name))
			}
			ct, err := s.Contracts.Get(name)
			Expect(err).NotTo(HaveOccurred(), "contract")
			tr := requestCC(ctx, s, jwtClientOf(s))
			fw.ExpectIssued(tr)
			tok, err := s.Verifier.Verify(ctx, tr.AccessToken, verify.Expected{})
			Expect(err).NotTo(HaveOccurred(), "verifying the access token")
			findings := ct.Check(tok.Claims)
			for _, fd := range findings {
				if fd.Level == contract.Info {
					s.Info("%s", fd)
				}
			}
			Expect(contract.Violations(findings)).To(BeEmpty(), "violations of contract %s", ct.Name)
		})
}

// requestCC performs the client credentials grant for c and fails the spec
// when no HTTP response came.
func requestCC(ctx context.Context, s *fw.Spec, c target.Client) *oauth.TokenResponse {
	tr, err := s.Client.ClientCredentials(ctx, s.Endpoint("token"), fw.Credentials(c), c.Scopes, nil)
	Expect(err).NotTo(HaveOccurred(), "token request for client %s", c.Name)
	return tr
}

// directives splits header values into lower-case comma-separated tokens.
func directives(values []string) []string {
	var out []string
	for _, v := range values {
		for _, d := range strings.Split(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				out = append(out, d)
			}
		}
	}
	return out
}

// unsupportedGrantType is an extension grant URI (RFC 6749 §4.5) under
// example.com's namespace, so no server can define it.
const unsupportedGrantType = "urn:example:idpconform:no-such-grant"

func wrongSecret() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "idpconform-wrong-" + hex.EncodeToString(b)
}
