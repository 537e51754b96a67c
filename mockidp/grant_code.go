package mockidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"time"
)

// authorizationCode is RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5, §4.6).
type authorizationCode struct{ m *IdP }

func (authorizationCode) grantType() string { return GrantAuthorizationCode }

func (g *authorizationCode) handle(r *http.Request, cfg *config, c *Client) (*claimSet, *Error) {
	m := g.m
	code := r.PostForm.Get("code")
	if code == "" {
		return nil, ErrInvalidRequest.WithDescription("code missing")
	}
	now := m.clock.now()
	ac, snapshot, ok := m.store.code(code)
	if !ok || !now.Before(snapshot.expires) {
		return nil, ErrInvalidGrant.WithDescription("authorization code is invalid or expired")
	}
	if snapshot.clientID != c.ID && !cfg.faults.on(FaultCodeAnyClient) {
		return nil, ErrInvalidGrant.WithDescription("authorization code was issued to another client")
	}
	if snapshot.redirectSent && r.PostForm.Get("redirect_uri") != snapshot.redirectURI && !cfg.faults.on(FaultRedirectURIUnchecked) {
		return nil, ErrInvalidGrant.WithDescription("redirect_uri differs from the authorization request's")
	}
	if !cfg.faults.on(FaultPKCEIgnored) {
		if e := checkPKCE(snapshot.challenge, snapshot.method, r.PostForm.Get("code_verifier"), r.PostForm.Has("code_verifier")); e != nil {
			return nil, e
		}
	}
	_, usedBefore, _ := m.store.redeemCode(code)
	if usedBefore && !cfg.faults.on(FaultCodeReuse) {
		// RFC 6749 §4.1.2: deny, and revoke what the code bought.
		if f := m.store.codeFamily(ac); f != nil {
			m.store.revokeFamily(f)
		}
		return nil, ErrInvalidGrant.WithDescription("authorization code has already been used")
	}
	u, ok := m.users[snapshot.username]
	if !ok {
		return nil, ErrInvalidGrant.WithDescription("the user of this code no longer exists")
	}
	fam := &family{id: randomString(16), clientID: c.ID, username: u.Username, sub: m.subject(cfg, u),
		scopes: snapshot.scopes, authTime: snapshot.authTime, rat: snapshot.rat, sid: snapshot.sid,
		grantID: newUUID(), accounts: m.accounts(cfg, u), expires: now.Add(c.refreshTTL())}
	m.store.putFamily(fam)
	m.store.bindCode(ac, fam)
	return m.userTokens(cfg, c, u, grant{fam: fam, sub: fam.sub, accounts: fam.accounts, scopes: fam.scopes, nonce: snapshot.nonce}, true)
}

// grant is what one token response of a user authorization is made of: the
// family's values, unless a drift changes them for this response.
type grant struct {
	fam      *family
	sub      string
	accounts []string
	scopes   []string
	nonce    string
}

// userTokens issues what a user authorization gets: an access token, an ID
// token when openid was granted, and a refresh token when the client may
// refresh (and newRefresh).
func (m *IdP) userTokens(cfg *config, c *Client, u *User, g grant, newRefresh bool) (*claimSet, *Error) {
	at, ttl, e := m.issueAccessToken(cfg, c, u, g.sub, g.scopes, g.fam)
	if e != nil {
		return nil, e
	}
	resp := tokenResponse(cfg, at, int64(ttl/time.Second), g.scopes)
	if newRefresh && c.allowsGrant(GrantRefreshToken) {
		resp.set("refresh_token", m.issueRefreshToken(cfg, c, g.fam, g.scopes))
	}
	if slices.Contains(g.scopes, "openid") {
		idt, e := m.issueIDToken(cfg, c, u, g, at)
		if e != nil {
			return nil, e
		}
		resp.set("id_token", idt)
	}
	return resp, nil
}

// checkPKCE verifies code_verifier against the challenge of the
// authorization request (RFC 7636 §4.6). A verifier without a challenge is
// refused too (RFC 9700 §2.1.1), so PKCE cannot be downgraded.
func checkPKCE(challenge, method, verifier string, sent bool) *Error {
	switch {
	case challenge == "" && sent:
		return ErrInvalidGrant.WithDescription("code_verifier sent but the authorization request had no code_challenge")
	case challenge == "":
		return nil
	case !sent:
		return ErrInvalidGrant.WithDescription("code_verifier missing")
	case !validVerifierSyntax(verifier):
		return ErrInvalidRequest.WithDescription("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")
	}
	want := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return ErrInvalidGrant.WithDescription("code_verifier does not match the code_challenge")
	}
	return nil
}
