package baseline

import (
	"context"
	"net/http"
	"net/url"
	"regexp"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
)

// probes provokes the error responses clients meet and branch on: a wrong
// client secret, an unsupported grant, an unknown code or refresh token,
// introspection without authentication or of an unknown token, userinfo
// with an unknown bearer, revocation of an unknown token. Each records the
// status, the OAuth error code and its description.
func (c *capturer) probes(ctx context.Context) {
	tok := c.env.Endpoints.Token
	any, hasClient := c.anyClient()
	switch {
	case tok == "" || !hasClient:
		for _, id := range []string{"token.wrong_secret", "token.unsupported_grant_type"} {
			c.skipProbe(id, "no token endpoint or no client")
		}
	default:
		wrong := any
		secret := "idpconform-wrong-secret-" + oauth.RandomValue()
		c.env.Secrets.Add(secret)
		cred := credentials(wrong)
		cred.Secret = secret
		c.tokenProbeCred(ctx, "token.wrong_secret", "401 invalid_client (RFC 6749 §5.2)", cred,
			url.Values{"grant_type": {firstGrant(wrong)}})
		c.tokenProbe(ctx, "token.unsupported_grant_type", "400 unsupported_grant_type (RFC 6749 §5.2)", any,
			url.Values{"grant_type": {"urn:idpconform:unsupported"}})
	}
	if cl, ok := c.tg.ClientFor(target.GrantAuthorizationCode); ok && tok != "" && c.tg.Has(target.CapAuthorizationCode) {
		c.tokenProbe(ctx, "token.invalid_code", "400 invalid_grant (RFC 6749 §5.2)", cl,
			url.Values{"grant_type": {"authorization_code"}, "code": {oauth.RandomValue()}, "redirect_uri": {cl.RedirectURI}, "code_verifier": {oauth.NewPKCE("S256").Verifier}})
	} else {
		c.skipProbe("token.invalid_code", "no authorization code client")
	}
	if cl, ok := c.tg.ClientFor(target.GrantRefreshToken); ok && tok != "" && c.tg.Has(target.CapRefreshToken) {
		c.tokenProbe(ctx, "token.invalid_refresh_token", "400 "+cl.Refresh.RejectError+" (RFC 6749 §5.2; the target's reject_error)", cl,
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {oauth.RandomValue()}})
	} else {
		c.skipProbe("token.invalid_refresh_token", "no refresh token client")
	}
	if c.tg.Has(target.CapIntrospection) && c.env.Endpoints.Introspection != "" && hasClient {
		c.introspectionProbe(ctx, "introspection.unknown_token", any, oauth.RandomValue(), "")
		c.introspectionProbeCred(ctx, "introspection.unauthenticated", "401 invalid_client (RFC 7662 §2.1: the endpoint requires client authentication)",
			oauth.Credentials{Method: oauth.AuthNone}, oauth.RandomValue())
	} else {
		c.skipProbe("introspection.unknown_token", "the target does not declare introspection")
		c.skipProbe("introspection.unauthenticated", "the target does not declare introspection")
	}
	if c.tg.Has(target.CapUserinfo) && c.env.Endpoints.Userinfo != "" {
		p := Probe{ID: "userinfo.invalid_token", Expect: "401 invalid_token with WWW-Authenticate (RFC 6750 §3.1; OIDC Core §5.3.3)"}
		resp, m, err := c.env.OAuth.Userinfo(ctx, c.env.Endpoints.Userinfo, "idpconform-unknown-"+oauth.RandomValue())
		if err != nil {
			p.Skipped = "no answer: " + err.Error()
		} else {
			p.Status = resp.Status
			p.WWWAuthenticate = resp.Header.Get("WWW-Authenticate") != ""
			p.Error, _ = m["error"].(string)
			p.Description, _ = m["error_description"].(string)
			if p.Error == "" {
				p.Error = bearerError(resp.Header.Get("WWW-Authenticate"))
			}
		}
		c.b.Probes = append(c.b.Probes, p)
	} else {
		c.skipProbe("userinfo.invalid_token", "the target does not declare userinfo")
	}
	if c.tg.Has(target.CapRevocation) && c.env.Endpoints.Revocation != "" && hasClient {
		p := Probe{ID: "revocation.unknown_token", Expect: "200 (RFC 7009 §2.2: an invalid token is not an error)"}
		tr, err := c.env.OAuth.Revoke(ctx, c.env.Endpoints.Revocation, credentials(any), oauth.RandomValue(), "")
		if err != nil {
			p.Skipped = "no answer: " + err.Error()
		} else {
			fillProbe(&p, tr)
		}
		c.b.Probes = append(c.b.Probes, p)
	} else {
		c.skipProbe("revocation.unknown_token", "the target does not declare revocation")
	}
}

// anyClient is the client the probes authenticate as: the first client
// credentials client, or else the first client.
func (c *capturer) anyClient() (target.Client, bool) {
	if cl, ok := c.tg.ClientFor(target.GrantClientCredentials); ok {
		return cl, true
	}
	if len(c.tg.Clients) > 0 {
		return c.tg.Clients[0], true
	}
	return target.Client{}, false
}

func firstGrant(cl target.Client) string {
	if len(cl.Grants) > 0 {
		return string(cl.Grants[0])
	}
	return "client_credentials"
}

func (c *capturer) skipProbe(id, why string) {
	c.b.Probes = append(c.b.Probes, Probe{ID: id, Skipped: why})
}

func (c *capturer) tokenProbe(ctx context.Context, id, expect string, cl target.Client, params url.Values) {
	c.tokenProbeCred(ctx, id, expect, credentials(cl), params)
}

func (c *capturer) tokenProbeCred(ctx context.Context, id, expect string, cred oauth.Credentials, params url.Values) {
	p := Probe{ID: id, Expect: expect}
	tr, err := c.env.OAuth.Token(ctx, "probe "+id, c.env.Endpoints.Token, cred, params)
	if err != nil {
		p.Skipped = "no answer: " + err.Error()
	} else {
		fillProbe(&p, tr)
	}
	c.b.Probes = append(c.b.Probes, p)
}

func fillProbe(p *Probe, tr *oauth.TokenResponse) {
	p.Status = tr.Status
	p.WWWAuthenticate = tr.Header.Get("WWW-Authenticate") != ""
	if tr.Error != nil {
		p.Error, p.Description = tr.Error.Code, tr.Error.Description
	}
}

func (c *capturer) introspectionProbe(ctx context.Context, id string, cl target.Client, token, hint string) {
	p := Probe{ID: id, Expect: "200 with active false (RFC 7662 §2.2)"}
	c.runIntrospectionProbe(ctx, &p, credentials(cl), token, hint)
}

func (c *capturer) introspectionProbeCred(ctx context.Context, id, expect string, cred oauth.Credentials, token string) {
	p := Probe{ID: id, Expect: expect}
	c.runIntrospectionProbe(ctx, &p, cred, token, "")
}

func (c *capturer) runIntrospectionProbe(ctx context.Context, p *Probe, cred oauth.Credentials, token, hint string) {
	in, err := c.env.OAuth.Introspect(ctx, c.env.Endpoints.Introspection, cred, token, hint)
	if err != nil {
		p.Skipped = "no answer: " + err.Error()
	} else {
		p.Status = in.Status
		p.WWWAuthenticate = in.Header.Get("WWW-Authenticate") != ""
		p.Active = in.Active
		if in.Error != nil {
			p.Error, p.Description = in.Error.Code, in.Error.Description
		}
		if in.Status == http.StatusOK && in.Active != nil && *in.Active {
			// An active answer about a token the IdP should not honour
			// carries the token's claims: learn them as personal values.
			c.learn(in.Fields)
		}
	}
	c.b.Probes = append(c.b.Probes, *p)
}

var bearerErrorParam = regexp.MustCompile(`error="([^"]*)"`)

// bearerError reads the error parameter of a Bearer WWW-Authenticate
// challenge (RFC 6750 §3).
func bearerError(h string) string {
	if m := bearerErrorParam.FindStringSubmatch(h); m != nil {
		return m[1]
	}
	return ""
}
