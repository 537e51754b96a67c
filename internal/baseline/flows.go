package baseline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/jsonkind"
	"github.com/idpconform/idpconform/internal/login"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
)

// Flow names.
const (
	FlowDiscovery         = "discovery"
	FlowJWKS              = "jwks"
	FlowClientCredentials = "client_credentials"
	FlowAuthorizationCode = "authorization_code"
	FlowRefreshToken      = "refresh_token"
	FlowRelogin           = "relogin"
	FlowUserinfo          = "userinfo"
	FlowIntrospection     = "introspection"
	FlowRevocation        = "revocation"
	FlowAkkess            = "akkess_exchange"
)

// Latency operations.
const (
	OpDiscovery  = "discovery"
	OpJWKS       = "jwks"
	OpTokenCC    = "token.client_credentials"
	OpTokenCode  = "token.authorization_code"
	OpTokenRef   = "token.refresh_token"
	OpLogin      = "login"
	OpIntrospect = "introspection"
	OpRevoke     = "revocation"
	OpUserinfo   = "userinfo"
	OpAkkess     = "akkess"
)

// metadataVocabularies are the discovery members whose values are recorded:
// lists of protocol words a client chooses from (OIDC Discovery §3, RFC
// 8414 §2). They are published to everyone, so never personal.
var metadataVocabularies = map[string]bool{
	"response_types_supported": true, "response_modes_supported": true, "grant_types_supported": true,
	"subject_types_supported": true, "id_token_signing_alg_values_supported": true,
	"id_token_encryption_alg_values_supported": true, "userinfo_signing_alg_values_supported": true,
	"request_object_signing_alg_values_supported": true, "token_endpoint_auth_methods_supported": true,
	"token_endpoint_auth_signing_alg_values_supported": true, "introspection_endpoint_auth_methods_supported": true,
	"revocation_endpoint_auth_methods_supported": true, "code_challenge_methods_supported": true,
	"scopes_supported": true, "claims_supported": true, "claim_types_supported": true,
	"display_values_supported": true, "acr_values_supported": true, "ui_locales_supported": true,
	"claims_locales_supported": true, "dpop_signing_alg_values_supported": true,
}

func (c *capturer) discovery() {
	if c.env.Issuer == "" {
		c.flow(Flow{Name: FlowDiscovery, Status: FlowSkipped, Reason: "the target names no issuer; endpoints are configured"})
		return
	}
	if c.env.Metadata == nil {
		r := "discovery gave no metadata"
		if c.env.DiscoveryErr != nil {
			r = c.env.DiscoveryErr.Error()
		}
		c.flow(Flow{Name: FlowDiscovery, Status: FlowFailed, Reason: r})
		return
	}
	c.flow(Flow{Name: FlowDiscovery, Status: FlowOK})
	md := &Metadata{Fields: map[string]string{}}
	for k, v := range c.env.Metadata.Raw {
		md.Fields[k] = string(jsonkind.Of(v))
		switch x := v.(type) {
		case bool:
			if md.Flags == nil {
				md.Flags = map[string]bool{}
			}
			md.Flags[k] = x
		case []any:
			if !metadataVocabularies[k] {
				continue
			}
			var vals []string
			for _, e := range x {
				if s, ok := e.(string); ok {
					vals = append(vals, s)
				}
			}
			sort.Strings(vals)
			if md.Values == nil {
				md.Values = map[string][]string{}
			}
			md.Values[k] = vals
		}
	}
	c.b.Metadata = md
}

func (c *capturer) jwks(ctx context.Context) {
	u := c.env.Endpoints.JWKS
	if u == "" {
		c.b.Keys.Error = "no jwks_uri: discovery gave none and endpoints.jwks is not set"
		c.flow(Flow{Name: FlowJWKS, Status: FlowFailed, Reason: c.b.Keys.Error})
		return
	}
	start := time.Now()
	body, err := c.env.OAuth.FetchJWKS(ctx, u)
	if err != nil {
		c.b.Keys.Error = err.Error()
		c.flow(Flow{Name: FlowJWKS, Status: FlowFailed, Reason: err.Error()})
		return
	}
	c.observe(OpJWKS, time.Since(start))
	if !c.recordKeys(body) {
		c.b.Keys.Error = "the JWKS is not a JSON object with a keys array"
		c.flow(Flow{Name: FlowJWKS, Status: FlowFailed, Reason: c.b.Keys.Error})
		return
	}
	c.flow(Flow{Name: FlowJWKS, Status: FlowOK})
}

// recordKeys records the parameters of a JWKS's keys, replacing what an
// earlier fetch recorded.
func (c *capturer) recordKeys(body []byte) bool {
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil {
		return false
	}
	keys := []JWK{}
	for _, k := range doc.Keys {
		str := func(n string) string { s, _ := k[n].(string); return s }
		keys = append(keys, JWK{Kid: str("kid"), Kty: str("kty"), Alg: str("alg"), Use: str("use"), Crv: str("crv")})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Kid < keys[j].Kid })
	c.b.Keys.Keys = keys
	return true
}

// credentials returns a client's token endpoint credentials.
func credentials(cl target.Client) oauth.Credentials {
	return oauth.Credentials{ID: cl.ID, Secret: cl.Secret.Reveal(), Method: oauth.AuthMethod(cl.AuthMethod)}
}

// need reports whether a flow can run: the target declares the capability
// and an endpoint for it is known. Otherwise it records why not.
func (c *capturer) need(f Flow, cap target.Capability, endpoint, what string) bool {
	if !c.tg.Has(cap) {
		f.Status, f.Reason = FlowSkipped, fmt.Sprintf("the target does not declare %s", cap)
		c.flow(f)
		return false
	}
	if endpoint == "" {
		f.Status, f.Reason = FlowFailed, fmt.Sprintf("no %s endpoint: discovery gave none and endpoints.%s is not set", what, what)
		c.flow(f)
		return false
	}
	return true
}

// answer summarises an unsuccessful token response without a token.
func answer(tr *oauth.TokenResponse) string {
	if tr.Error != nil {
		return fmt.Sprintf("HTTP %d %s", tr.Status, tr.Error)
	}
	if tr.Status == http.StatusOK && tr.AccessToken == "" {
		return "HTTP 200 without an access_token"
	}
	return fmt.Sprintf("HTTP %d", tr.Status)
}

func (c *capturer) clientCredentialsFlows(ctx context.Context) {
	first := true
	for _, cl := range c.tg.Clients {
		if !cl.HasGrant(target.GrantClientCredentials) {
			continue
		}
		f := Flow{Name: FlowClientCredentials, Client: cl.Name}
		if !c.need(f, target.CapClientCredentials, c.env.Endpoints.Token, "token") {
			return
		}
		tr, err := c.env.OAuth.ClientCredentials(ctx, c.env.Endpoints.Token, credentials(cl), cl.Scopes, nil)
		if err != nil {
			f.Status, f.Reason = FlowFailed, err.Error()
			c.flow(f)
			continue
		}
		if tr.Status != http.StatusOK || tr.AccessToken == "" {
			f.Status, f.Reason = FlowFailed, answer(tr)
			c.flow(f)
			continue
		}
		c.observe(OpTokenCC, tr.Elapsed)
		f.Status = FlowOK
		c.flow(f)
		c.recordObject(KindTokenResponse, FlowClientCredentials, cl.Name, tr.Body, true)
		c.recordToken(ctx, tr.AccessToken, tokenCtx{kind: KindAccessToken, flow: FlowClientCredentials, client: cl,
			check: contract.Context{ClientID: cl.ID, TTL: cl.AccessTokenTTL.D()}, expiresIn: tr.ExpiresIn, issuer: c.env.Issuer})
		c.recordOpaque(KindRefreshToken, FlowClientCredentials, cl.Name, tr.RefreshToken)
		c.introspect(ctx, cl, tr.AccessToken, FlowClientCredentials)
		if first {
			first = false
			cc := cl
			c.ccClient = &cc
			c.revokeAccess(ctx, cl, tr.AccessToken)
		}
	}
}

// introspect records the introspection answer about a fresh access token.
func (c *capturer) introspect(ctx context.Context, cl target.Client, token, flow string) {
	f := Flow{Name: FlowIntrospection, Client: cl.Name, User: ""}
	if flow != FlowClientCredentials {
		f.Name = FlowIntrospection + "." + flow
	}
	if !c.need(f, target.CapIntrospection, c.env.Endpoints.Introspection, "introspection") {
		return
	}
	in, err := c.env.OAuth.Introspect(ctx, c.env.Endpoints.Introspection, credentials(cl), token, "access_token")
	if err != nil {
		f.Status, f.Reason = FlowFailed, err.Error()
		c.flow(f)
		return
	}
	if in.Status != http.StatusOK || in.Fields == nil {
		f.Status, f.Reason = FlowFailed, fmt.Sprintf("HTTP %d%s", in.Status, errSuffix(in.Error))
		c.flow(f)
		return
	}
	if in.Active == nil || !*in.Active {
		// The answer about an inactive token has none of the members a
		// shape would compare; the flow's failure says it all.
		f.Status, f.Reason = FlowFailed, "a freshly issued access token introspects as not active (RFC 7662 §2.2)"
		c.flow(f)
		return
	}
	c.observe(OpIntrospect, in.Elapsed)
	f.Status = FlowOK
	c.flow(f)
	c.recordObject(KindIntrospection, flow, cl.Name, in.Body, true)
}

func errSuffix(e *oauth.ErrorResponse) string {
	if e == nil {
		return ""
	}
	return " " + e.String()
}

// revokeAccess revokes an access token and records whether introspection
// then calls it inactive (RFC 7009 §2, RFC 7662 §2.2).
func (c *capturer) revokeAccess(ctx context.Context, cl target.Client, token string) {
	f := Flow{Name: FlowRevocation, Client: cl.Name}
	if !c.need(f, target.CapRevocation, c.env.Endpoints.Revocation, "revocation") {
		return
	}
	tr, err := c.env.OAuth.Revoke(ctx, c.env.Endpoints.Revocation, credentials(cl), token, "access_token")
	if err != nil {
		f.Status, f.Reason = FlowFailed, err.Error()
		c.flow(f)
		return
	}
	if tr.Status != http.StatusOK {
		f.Status, f.Reason = FlowFailed, answer(tr)
		c.flow(f)
		return
	}
	c.observe(OpRevoke, tr.Elapsed)
	f.Status = FlowOK
	c.flow(f)
	if c.tg.Has(target.CapIntrospection) && c.env.Endpoints.Introspection != "" {
		c.introspectionProbe(ctx, "introspection.revoked_access_token", cl, token, "access_token")
	}
}

// userFlows logs each test user in with the first authorization code
// client, then refreshes, asks userinfo and introspection, and logs in
// again; the ID tokens of each user form a series for the stable relations.
func (c *capturer) userFlows(ctx context.Context) {
	cl, ok := c.tg.ClientFor(target.GrantAuthorizationCode)
	if !ok {
		return
	}
	f := Flow{Name: FlowAuthorizationCode, Client: cl.Name}
	if !c.need(f, target.CapAuthorizationCode, c.env.Endpoints.Authorization, "authorization") {
		return
	}
	if c.env.Endpoints.Token == "" {
		f.Status, f.Reason = FlowFailed, "no token endpoint"
		c.flow(f)
		return
	}
	if len(c.tg.Users) == 0 {
		f.Status, f.Reason = FlowSkipped, "the target declares no users to log in as"
		c.flow(f)
		return
	}
	for i, u := range c.tg.Users {
		c.user(ctx, i, u, cl)
	}
}

func (c *capturer) user(ctx context.Context, i int, u target.User, cl target.Client) {
	ref := fmt.Sprintf("users[%d]", i)
	bu := User{Ref: ref, LabelHash: c.o.Hasher.Sum("user", u.Name)}
	defer func() { c.b.Users = append(c.b.Users, bu) }()

	f := Flow{Name: FlowAuthorizationCode, Client: cl.Name, User: ref}
	tr, err := c.login(ctx, cl, u)
	if err != nil {
		f.Status, f.Reason = FlowFailed, err.Error()
		c.flow(f)
		bu.Error = "login failed: " + err.Error()
		return
	}
	f.Status = FlowOK
	c.flow(f)
	idClaims := c.recordIssued(ctx, tr, cl, FlowAuthorizationCode, u, contract.StepLogin)

	var sub string
	var accounts any
	if idClaims != nil {
		sub, _ = idClaims["sub"].(string)
		accounts = idClaims["accounts"]
	}
	if m := c.userinfo(ctx, cl, ref, tr.AccessToken); m != nil && sub == "" {
		sub, _ = m["sub"].(string)
	}
	switch {
	case sub != "":
		bu.SubHash = c.o.Hasher.Sum("sub", sub)
		if accounts != nil {
			bu.AccountsHash = c.o.Hasher.Sum("accounts", canonicalSet(accounts))
		}
	case idClaims == nil:
		bu.Error = "no ID token and no userinfo sub"
	default:
		bu.Error = "the ID token has no string sub"
	}
	if i == 0 {
		c.introspect(ctx, cl, tr.AccessToken, FlowAuthorizationCode)
	}
	c.refresh(ctx, i, u, cl, tr)

	// A second, separate login of the same user (a re-link).
	rf := Flow{Name: FlowRelogin, Client: cl.Name, User: ref}
	tr2, err := c.login(ctx, cl, u)
	if err != nil {
		rf.Status, rf.Reason = FlowFailed, err.Error()
		c.flow(rf)
		return
	}
	rf.Status = FlowOK
	c.flow(rf)
	c.recordIssued(ctx, tr2, cl, FlowAuthorizationCode, u, contract.StepRelogin)
	// The first login's tokens may be revoked by now (the refresh probes
	// revoke their family); the second login's are never touched.
	c.userAccess[u.Name] = tr2.AccessToken
	if c.liveAccess == "" {
		c.liveAccess = tr2.AccessToken
	}
}

// canonicalSet renders a claim for hashing: a string array as a sorted set.
func canonicalSet(v any) string {
	if a, ok := v.([]any); ok {
		s := make([]string, 0, len(a))
		for _, e := range a {
			b, _ := json.Marshal(e)
			s = append(s, string(b))
		}
		sort.Strings(s)
		return "[" + strings.Join(s, ",") + "]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// login runs one authorization code flow up to a successful token
// response: state, nonce, PKCE S256, the target's login driver.
func (c *capturer) login(ctx context.Context, cl target.Client, u target.User) (*oauth.TokenResponse, error) {
	pkce := c.env.OAuth.NewPKCE("S256")
	state := oauth.RandomValue()
	extra := url.Values{}
	for k, v := range c.tg.Login.Params {
		extra.Set(k, v)
	}
	req := oauth.AuthRequest{Endpoint: c.env.Endpoints.Authorization, ClientID: cl.ID, RedirectURI: cl.RedirectURI,
		Scopes: cl.Scopes, State: state, Nonce: oauth.RandomValue(), PKCE: &pkce, Extra: extra}
	raw, err := req.URL()
	if err != nil {
		return nil, fmt.Errorf("authorization URL: %w", err)
	}
	var driver login.Driver = &login.Form{Client: c.env.OAuth}
	switch c.tg.Login.Driver {
	case target.DriverBrowser:
		driver = &login.Browser{ExecPath: c.tg.Login.BrowserPath, Secrets: c.env.Secrets, Timeout: c.tg.RequestTimeout.D() * 6}
	case target.DriverMock:
		driver = &login.Mock{Client: c.env.OAuth}
	}
	start := time.Now()
	loc, err := driver.Login(ctx, raw, cl.RedirectURI, login.User{Username: u.Username, Password: u.Password.Reveal()})
	if err != nil {
		return nil, err
	}
	c.observe(OpLogin, time.Since(start))
	cb, err := c.env.OAuth.ParseCallback(loc)
	if err != nil {
		return nil, fmt.Errorf("callback: %w", err)
	}
	if cb.Error != nil {
		return nil, fmt.Errorf("authorization error in the callback: %s", cb.Error)
	}
	if cb.Code == "" {
		return nil, fmt.Errorf("the callback carries no code")
	}
	if cb.State != state {
		return nil, fmt.Errorf("the callback's state is not the one sent")
	}
	c.recordOpaque(KindCode, FlowAuthorizationCode, cl.Name, cb.Code)
	tr, err := c.env.OAuth.ExchangeCode(ctx, c.env.Endpoints.Token, credentials(cl), cb.Code, cl.RedirectURI, pkce.Verifier)
	if err != nil {
		return nil, err
	}
	if tr.Status != http.StatusOK || tr.AccessToken == "" {
		return nil, fmt.Errorf("code exchange: %s", answer(tr))
	}
	c.observe(OpTokenCode, tr.Elapsed)
	return tr, nil
}

// recordIssued records a token response of a user flow: the response, its
// ID token (added to the user's series), access token and refresh token.
// It returns the ID token's claims.
func (c *capturer) recordIssued(ctx context.Context, tr *oauth.TokenResponse, cl target.Client, flow string, u target.User, step contract.Step) map[string]any {
	c.recordObject(KindTokenResponse, flow, cl.Name, tr.Body, true)
	c.recordToken(ctx, tr.AccessToken, tokenCtx{kind: KindAccessToken, flow: flow, client: cl,
		check: contract.Context{ClientID: cl.ID, TTL: cl.AccessTokenTTL.D()}, expiresIn: tr.ExpiresIn, issuer: c.env.Issuer})
	c.recordOpaque(KindRefreshToken, flow, cl.Name, tr.RefreshToken)
	if tr.IDToken == "" {
		return nil
	}
	claims := c.recordJWT(ctx, tr.IDToken, tokenCtx{kind: KindIDToken, flow: flow, client: cl,
		check: contract.Context{ClientID: cl.ID, TTL: cl.IDTokenTTL.D(), AccessToken: tr.AccessToken}, issuer: c.env.Issuer})
	if claims != nil {
		c.idSeries[cl.Name] = append(c.idSeries[cl.Name], contract.Observation{Subject: u.Name, Step: step, Claims: claims})
	}
	return claims
}

func (c *capturer) userinfo(ctx context.Context, cl target.Client, ref, access string) map[string]any {
	f := Flow{Name: FlowUserinfo, Client: cl.Name, User: ref}
	if !c.need(f, target.CapUserinfo, c.env.Endpoints.Userinfo, "userinfo") {
		return nil
	}
	resp, m, err := c.env.OAuth.Userinfo(ctx, c.env.Endpoints.Userinfo, access)
	if err != nil {
		f.Status, f.Reason = FlowFailed, err.Error()
		c.flow(f)
		return nil
	}
	if resp.Status != http.StatusOK || m == nil {
		f.Status, f.Reason = FlowFailed, fmt.Sprintf("HTTP %d", resp.Status)
		c.flow(f)
		return nil
	}
	c.observe(OpUserinfo, resp.Elapsed)
	f.Status = FlowOK
	c.flow(f)
	return c.recordObject(KindUserinfo, FlowAuthorizationCode, cl.Name, resp.Body, false)
}

// refresh uses the user's refresh token once; for the first user it then
// revokes the new refresh token and probes what the IdP answers to the
// revoked and to the already used one.
func (c *capturer) refresh(ctx context.Context, i int, u target.User, cl target.Client, tr *oauth.TokenResponse) {
	ref := fmt.Sprintf("users[%d]", i)
	f := Flow{Name: FlowRefreshToken, Client: cl.Name, User: ref}
	if !cl.HasGrant(target.GrantRefreshToken) {
		return
	}
	if !c.need(f, target.CapRefreshToken, c.env.Endpoints.Token, "token") {
		return
	}
	if tr.RefreshToken == "" {
		f.Status, f.Reason = FlowFailed, "the code exchange returned no refresh_token"
		c.flow(f)
		return
	}
	tr2, err := c.env.OAuth.Refresh(ctx, c.env.Endpoints.Token, credentials(cl), tr.RefreshToken, nil)
	if err != nil {
		f.Status, f.Reason = FlowFailed, err.Error()
		c.flow(f)
		return
	}
	if tr2.Status != http.StatusOK || tr2.AccessToken == "" {
		f.Status, f.Reason = FlowFailed, answer(tr2)
		c.flow(f)
		return
	}
	c.observe(OpTokenRef, tr2.Elapsed)
	f.Status = FlowOK
	c.flow(f)
	c.recordIssued(ctx, tr2, cl, FlowRefreshToken, u, contract.StepRefresh)
	if i != 0 {
		return
	}
	current := tr2.RefreshToken
	if current == "" {
		current = tr.RefreshToken
	}
	rf := Flow{Name: FlowRevocation + ".refresh_token", Client: cl.Name, User: ref}
	if c.need(rf, target.CapRevocation, c.env.Endpoints.Revocation, "revocation") {
		rv, err := c.env.OAuth.Revoke(ctx, c.env.Endpoints.Revocation, credentials(cl), current, "refresh_token")
		switch {
		case err != nil:
			rf.Status, rf.Reason = FlowFailed, err.Error()
		case rv.Status != http.StatusOK:
			rf.Status, rf.Reason = FlowFailed, answer(rv)
		default:
			rf.Status = FlowOK
			c.observe(OpRevoke, rv.Elapsed)
		}
		c.flow(rf)
		if rf.Status == FlowOK {
			c.tokenProbe(ctx, "token.revoked_refresh_token", "400 "+cl.Refresh.RejectError+" (RFC 7009 §2.1; RFC 6749 §5.2)", cl,
				url.Values{"grant_type": {"refresh_token"}, "refresh_token": {current}})
		}
	}
	if tr2.RefreshToken != "" && tr2.RefreshToken != tr.RefreshToken && cl.Refresh.Rotation != target.RotationGrace {
		c.tokenProbe(ctx, "token.reused_refresh_token", "400 "+cl.Refresh.RejectError+" (RFC 9700 §4.14.2; the target declares rotation "+string(cl.Refresh.Rotation)+")", cl,
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}})
	}
}

// akkess exchanges a user's access token for an Akkess t1 token (seed 003)
// and records it, judged by contracts.akkess_t1 with the expiry asked for
// as its declared lifetime.
func (c *capturer) akkess(ctx context.Context) {
	ak := c.tg.Akkess
	if ak == nil {
		return
	}
	cl, _ := c.tg.ClientFor(target.GrantAuthorizationCode)
	f := Flow{Name: FlowAkkess, Client: cl.Name}
	u, _ := c.tg.User(ak.User)
	access := c.userAccess[u.Name]
	if access == "" {
		f.Status, f.Reason = FlowFailed, "no access token of the akkess user: its logins did not run or failed"
		c.flow(f)
		return
	}
	endpoint, err := ak.URL(c.env.Issuer)
	if err != nil {
		f.Status, f.Reason = FlowFailed, err.Error()
		c.flow(f)
		return
	}
	body, _ := json.Marshal(map[string]any{"tenantId": ak.Tenant, "expiryInSecs": int64(ak.Expiry.D().Seconds()), "tokenFormat": "t1"})
	req, err := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		f.Status, f.Reason = FlowFailed, fmt.Sprintf("akkess endpoint: %v", err)
		c.flow(f)
		return
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Accept", "application/jwt")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.env.OAuth.Do(ctx, "akkess token", req)
	if err != nil {
		f.Status, f.Reason = FlowFailed, err.Error()
		c.flow(f)
		return
	}
	tok := strings.TrimSpace(string(resp.Body))
	if resp.Status != http.StatusOK {
		f.Status, f.Reason = FlowFailed, fmt.Sprintf("HTTP %d", resp.Status)
		c.flow(f)
		return
	}
	// The body is the token itself, not JSON: the client learnt nothing.
	c.env.Secrets.Add(tok)
	c.observe(OpAkkess, resp.Elapsed)
	f.Status = FlowOK
	c.flow(f)
	c.recordToken(ctx, tok, tokenCtx{kind: KindAkkessT1, flow: FlowAkkess, client: cl,
		check: contract.Context{ClientID: cl.ID, TTL: ak.Expiry.D()}})
}
