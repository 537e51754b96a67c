package suites

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	fw "github.com/idpconform/idpconform/suites/framework"
)

// The vendor specs check what the source documents (../shared/seeds) add
// to the RFCs for the vendors the project started from. They carry the
// vendor's label, selected with e.g. --label-filter akoya.

func akoyaSpecs(f *fw.Framework) {
	akoya := []fw.Label{fw.LabelAkoya}

	// Requirement: Akoya ID JWT claims (seed 000; example in seed 001)
	// Description: the ID token MUST carry Akoya's mandatory claims
	// (connectorId, recipientId, products, name, sub, iss, exp, iat, aud)
	// with their types, checked against the target's Akoya contract
	// (akoya-legacy-id-token for the old IdP) or akoya-id-token; new and
	// reordered claims pass.
	f.It("issues ID tokens that meet the Akoya claim contract",
		fw.Requirement{Label: fw.LabelAuthCode, Vendors: akoya, Ref: "Akoya seed 000 (Akoya ID JWT Claims)", Severity: fw.MUST,
			Needs: []target.Capability{target.CapAuthorizationCode}},
		func(ctx context.Context, s *fw.Spec) {
			expectVendorIDTokenContract(ctx, s, "akoya", "akoya-id-token")
		})

	// Requirement: Akoya ID token details (seed 001), expired ID token error
	// Description: a data endpoint called with an expired ID token MUST
	// answer {"code": 602, "message": "Customer not authorized"}, so that
	// the recipient knows to refresh the tokens.
	f.It("answers an expired ID token at the data endpoint with error 602",
		fw.Requirement{Label: fw.LabelExpiry, Vendors: akoya, Ref: "Akoya seed 001 (error 602)", Severity: fw.MUST,
			Needs: []target.Capability{target.CapAuthorizationCode, target.CapAkoyaData}},
		func(ctx context.Context, s *fw.Spec) {
			c := shortIDTokenClient(s)
			_, tr := s.Tokens(ctx, c)
			idt := requireIDToken(tr)
			resp, err := s.Client.Bearer(ctx, "data", s.Endpoint("data"), idt)
			Expect(err).NotTo(HaveOccurred(), "data request")
			Expect(resp.Status).To(Equal(http.StatusOK), "data endpoint with a fresh ID token")
			wait := c.IDTokenTTL.D() + s.Target.ClockSkew.D() + 2*time.Second
			Eventually(func(g Gomega) {
				resp, err := s.Client.Bearer(ctx, "data", s.Endpoint("data"), idt)
				g.Expect(err).NotTo(HaveOccurred(), "data request")
				var body struct {
					Code    *json.Number `json:"code"`
					Message string       `json:"message"`
				}
				g.Expect(json.Unmarshal(resp.Body, &body)).To(Succeed(), "data error body (HTTP %d) must be JSON", resp.Status)
				g.Expect(body.Code).NotTo(BeNil(), "code member (HTTP %d)", resp.Status)
				g.Expect(body.Code.String()).To(Equal("602"), "Akoya error code for an expired ID token")
			}).WithContext(ctx).WithTimeout(wait).WithPolling(250 * time.Millisecond).Should(Succeed())
		})

	// Requirement: Akoya unique keys and values (seed 002)
	// Description: sub MUST stay the same across refreshes, and the account
	// IDs permissioned for a sub MUST stay the same.
	f.It("keeps sub and accounts of the ID token across refreshes",
		fw.Requirement{Label: fw.LabelRefresh, Vendors: akoya, Ref: "Akoya seed 002", Severity: fw.MUST,
			Needs: []target.Capability{target.CapAuthorizationCode, target.CapRefreshToken}},
		func(ctx context.Context, s *fw.Spec) {
			c := refreshClient(s)
			_, first := s.Tokens(ctx, c)
			orig := s.VerifyIDToken(ctx, requireIDToken(first), c)
			next := refresh(ctx, s, c, requireRefreshToken(first))
			fw.ExpectIssued(next)
			tok := s.VerifyIDToken(ctx, requireIDToken(next), c)
			Expect(tok.Claims["sub"]).To(Equal(orig.Claims["sub"]), "sub after refresh")
			if accounts, ok := orig.Claims["accounts"]; ok {
				Expect(tok.Claims["accounts"]).To(ConsistOf(accounts), "accounts after refresh")
			}
		})

	// Requirement: Akoya unique keys and values (seed 002)
	// Description: id_token and refresh_token values are unique in the
	// network: every refresh MUST return a new ID token and a new refresh
	// token.
	f.It("returns a new ID token and a new refresh token on every refresh",
		fw.Requirement{Label: fw.LabelRefresh, Vendors: akoya, Ref: "Akoya seed 002", Severity: fw.MUST,
			Needs: []target.Capability{target.CapAuthorizationCode, target.CapRefreshToken}},
		func(ctx context.Context, s *fw.Spec) {
			c := refreshClient(s)
			_, first := s.Tokens(ctx, c)
			next := refresh(ctx, s, c, requireRefreshToken(first))
			fw.ExpectIssued(next)
			Expect(requireIDToken(next)).NotTo(Equal(first.IDToken), "ID token after refresh")
			Expect(requireRefreshToken(next)).NotTo(Equal(first.RefreshToken), "refresh token after refresh")
		})
}

// akkessRequest is the body of an Akkess token request (seed 003).
type akkessRequest struct {
	TenantID     any `json:"tenantId,omitempty"`
	ExpiryInSecs any `json:"expiryInSecs,omitempty"`
	TokenFormat  any `json:"tokenFormat,omitempty"`
}

func akkessSpecs(f *fw.Framework) {
	req := func(ref string) fw.Requirement {
		return fw.Requirement{Label: fw.LabelAkkess, Ref: ref, Severity: fw.MUST,
			Needs: []target.Capability{target.CapAuthorizationCode, target.CapAkkessTokens}}
	}

	// Requirement: Akkess issue token (seed 003)
	// Description: a valid request (IdP bearer token, accept:
	// application/jwt, tenantId, expiryInSecs, tokenFormat t1) MUST get a
	// JWT signed RS256 with a kid and cty "t1", whose aud and tid are the
	// tenant and whose lifetime is expiryInSecs.
	f.It("exchanges an IdP token for a t1 token signed RS256 with kid and cty t1", req("Akkess seed 003"),
		func(ctx context.Context, s *fw.Spec) {
			idp := akkessIdPToken(ctx, s)
			resp := akkessPost(ctx, s, idp, "application/jwt", akkessRequest{TenantID: s.Target.Akkess.Tenant, ExpiryInSecs: 3600, TokenFormat: "t1"})
			Expect(resp.Status).To(Equal(http.StatusOK), "Akkess token status (body: %s)", clip(resp.Body))
			Expect(resp.Header.Get("Content-Type")).To(HavePrefix("application/jwt"), "content type")
			raw := strings.TrimSpace(string(resp.Body))
			s.Secrets.Add(raw)
			// Shown in the report before it is judged, so a token that
			// fails the checks below is there to read.
			var ct *contract.Contract
			if name := s.Target.Contracts.AkkessT1; name != "" {
				ct, _ = s.Contracts.Get(name)
			}
			s.AttachToken("akkess_t1", "akkess token", raw, ct)
			tok, err := s.Verifier.Verify(ctx, raw, verify.Expected{})
			Expect(err).NotTo(HaveOccurred(), "Akkess token")
			Expect(tok.Header.Alg).To(Equal("RS256"), "alg")
			Expect(tok.Header.Kid).NotTo(BeEmpty(), "kid")
			Expect(tok.Header.Cty).To(Equal("t1"), "cty")
			Expect(tok.Claims["aud"]).To(Equal(s.Target.Akkess.Tenant), "aud is the tenant")
			Expect(tok.Claims["tid"]).To(Equal(s.Target.Akkess.Tenant), "tid is the tenant")
			exp, _, _ := verify.NumericDate(tok.Claims, "exp")
			iat, _, _ := verify.NumericDate(tok.Claims, "iat")
			Expect(exp.Sub(iat).Seconds()).To(BeNumerically("~", 3600, s.Target.ClockSkew.D().Seconds()), "exp - iat for expiryInSecs 3600")
			if name := s.Target.Contracts.AkkessT1; name != "" {
				expectContract(s, contractFor(s, name, "akkess_t1"), tok.Claims)
			}
		})

	// Requirement: Akkess issue token (seed 003), RFC 6750 §3.1
	// Description: the caller MUST supply the IdP's token; without it the
	// request is refused with 401.
	f.It("refuses a token request without a bearer token with 401", req("Akkess seed 003"),
		func(ctx context.Context, s *fw.Spec) {
			resp := akkessPost(ctx, s, "", "application/jwt", akkessRequest{TenantID: s.Target.Akkess.Tenant, ExpiryInSecs: 3600, TokenFormat: "t1"})
			Expect(resp.Status).To(Equal(http.StatusUnauthorized), "status without a bearer")
		})

	// Requirement: Akkess issue token (seed 003), RFC 9110 §12.5.1
	// Description: the client must accept application/jwt; a request that
	// does not MUST be refused (406) rather than answered with a JWT.
	f.It("refuses a token request that does not accept application/jwt", req("Akkess seed 003"),
		func(ctx context.Context, s *fw.Spec) {
			idp := akkessIdPToken(ctx, s)
			resp := akkessPost(ctx, s, idp, "application/json", akkessRequest{TenantID: s.Target.Akkess.Tenant, ExpiryInSecs: 3600, TokenFormat: "t1"})
			Expect(resp.Status).To(Equal(http.StatusNotAcceptable), "status for accept: application/json")
		})

	for _, bad := range []struct {
		name string
		body func(tenant string) akkessRequest
	}{
		{"an unknown tokenFormat", func(t string) akkessRequest { return akkessRequest{TenantID: t, ExpiryInSecs: 3600, TokenFormat: "t2"} }},
		{"a negative expiryInSecs", func(t string) akkessRequest { return akkessRequest{TenantID: t, ExpiryInSecs: -5, TokenFormat: "t1"} }},
		{"an expiryInSecs that is not a number", func(t string) akkessRequest {
			return akkessRequest{TenantID: t, ExpiryInSecs: "an hour", TokenFormat: "t1"}
		}},
		{"no tenantId", func(string) akkessRequest { return akkessRequest{ExpiryInSecs: 3600, TokenFormat: "t1"} }},
	} {
		// Requirement: Akkess issue token (seed 003)
		// Description: only tokenFormat t1 exists, expiryInSecs is a
		// positive number of seconds and tenantId is required: any other
		// body MUST be refused with 400, not answered with a token.
		f.It("refuses a token request with "+bad.name+" with 400", req("Akkess seed 003"),
			func(ctx context.Context, s *fw.Spec) {
				idp := akkessIdPToken(ctx, s)
				resp := akkessPost(ctx, s, idp, "application/jwt", bad.body(s.Target.Akkess.Tenant))
				Expect(resp.Status).To(Equal(http.StatusBadRequest), "status (body: %s)", clip(resp.Body))
			})
	}
}

func nextIdentitySpecs(f *fw.Framework) {
	ni := []fw.Label{fw.LabelNextIdentity}

	// Requirement: Next Identity token service (seed 004), ID token claims
	// Description: the ID token MUST carry the claims of the OIDC scopes
	// requested and custom claims with their types (company_name for
	// ad:user_custom), checked against the target's Next Identity contract
	// or nextidentity-id-token.
	f.It("issues ID tokens that meet the Next Identity claim contract",
		fw.Requirement{Label: fw.LabelAuthCode, Vendors: ni, Ref: "Next Identity seed 004 (ID token claims)", Severity: fw.MUST,
			Needs: []target.Capability{target.CapAuthorizationCode}},
		func(ctx context.Context, s *fw.Spec) {
			expectVendorIDTokenContract(ctx, s, "nextidentity", "nextidentity-id-token")
		})

	// Requirement: Next Identity token service (seed 004), custom scopes
	// Description: a custom scope prefix:name:suffix may be requested
	// without its suffix; the token MUST then be issued with that scope.
	f.It("grants a custom scope requested without its suffix",
		fw.Requirement{Label: fw.LabelClientCredentials, Vendors: ni, Ref: "Next Identity seed 004 (custom scopes)", Severity: fw.MUST,
			Needs: []target.Capability{target.CapClientCredentials}},
		func(ctx context.Context, s *fw.Spec) {
			c, scope, ok := customScopeClient(s.Target)
			if !ok {
				Skip(fmt.Sprintf("target %s declares no client_credentials client with a prefix:name:suffix scope", s.Target.Name))
			}
			short := scope[:strings.LastIndex(scope, ":")]
			tr, err := s.Client.ClientCredentials(ctx, s.Endpoint("token"), fw.Credentials(c), []string{short}, nil)
			Expect(err).NotTo(HaveOccurred(), "token request")
			fw.ExpectIssued(tr)
			granted := strings.Fields(tr.Scope)
			Expect(slices.Contains(granted, short) || slices.Contains(granted, scope) || tr.Scope == "").To(BeTrue(),
				"scope %q requested without its suffix; granted %q", short, tr.Scope)
		})

	// Requirement: Next Identity token service (seed 004)
	// Description: client credentials tokens are non-refreshable: the
	// response MUST NOT carry a refresh token.
	f.It("never returns a refresh token for client credentials",
		fw.Requirement{Label: fw.LabelClientCredentials, Vendors: ni, Ref: "Next Identity seed 004 (FAQ)", Severity: fw.MUST,
			Needs: []target.Capability{target.CapClientCredentials}},
		func(ctx context.Context, s *fw.Spec) {
			tr := requestCC(ctx, s, s.ClientFor(target.GrantClientCredentials))
			fw.ExpectIssued(tr)
			Expect(tr.Fields).NotTo(HaveKey("refresh_token"), "refresh_token in a client credentials response")
		})
}

// customScopeClient finds a client credentials client with a scope of the
// form prefix:name:suffix.
func customScopeClient(t *target.Target) (target.Client, string, bool) {
	for _, c := range t.Clients {
		if !c.HasGrant(target.GrantClientCredentials) {
			continue
		}
		for _, sc := range c.Scopes {
			if strings.Count(sc, ":") == 2 && !strings.HasSuffix(sc, ":") {
				return c, sc, true
			}
		}
	}
	return target.Client{}, "", false
}

// akkessIdPToken logs the target's user in and returns the IdP access token
// Akkess exchanges.
func akkessIdPToken(ctx context.Context, s *fw.Spec) string {
	_, tr := s.Tokens(ctx, s.ClientFor(target.GrantAuthorizationCode))
	return tr.AccessToken
}

// akkessPost sends an Akkess token request as seed 003 shows it.
func akkessPost(ctx context.Context, s *fw.Spec, bearer, accept string, body akkessRequest) *oauth.Response {
	b, err := json.Marshal(body)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "request body")
	req, err := http.NewRequest(http.MethodPost, s.Endpoint("akkess_tokens"), bytes.NewReader(b))
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "request")
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	req.Header.Set("Cache-Control", "no-store, no-cache, must-revalidate")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := s.Client.Do(ctx, "akkess token", req)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "Akkess token request")
	return resp
}

// shortIDTokenClient returns the authorization code client with the
// shortest declared ID token lifetime.
func shortIDTokenClient(s *fw.Spec) target.Client {
	var best target.Client
	for _, c := range s.Target.Clients {
		if c.HasGrant(target.GrantAuthorizationCode) && c.IDTokenTTL > 0 && (best.Name == "" || c.IDTokenTTL < best.IDTokenTTL) {
			best = c
		}
	}
	if best.Name == "" || best.IDTokenTTL.D() > MaxExpiryWait {
		Skip(fmt.Sprintf("target %s declares no authorization_code client with an id_token_ttl of at most %s", s.Target.Name, MaxExpiryWait))
	}
	return best
}

// clip shortens a response body for a failure message.
func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// expectVendorIDTokenContract checks a fresh ID token against the vendor's
// contract: the one the target names when it is the vendor's own (its name
// starts with the vendor's), otherwise the vendor's shipped default. So the
// vendor label selects the vendor's claim rules even when the generic
// contract spec is filtered out.
func expectVendorIDTokenContract(ctx context.Context, s *fw.Spec, vendor, fallback string) {
	name := s.Target.Contracts.IDToken
	if !strings.HasPrefix(name, vendor) {
		name = fallback
	}
	ct := contractFor(s, name, "id_token")
	c := s.ClientFor(target.GrantAuthorizationCode)
	_, tr := s.Tokens(ctx, c)
	tok := s.VerifyIDToken(ctx, requireIDToken(tr), c)
	expectContract(s, ct, tok.Claims)
}
