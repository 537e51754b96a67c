package mockidp

import (
	"net/http"
	"slices"
	"strings"
)

// refreshToken is RFC 6749 §6 with rotation and reuse detection (RFC 9700
// §4.14.2). Every refresh gives a new access token and, with openid, a new
// ID token with the same sub and accounts (OIDC Core §12.2, seed 002).
type refreshToken struct{ m *IdP }

func (refreshToken) grantType() string { return GrantRefreshToken }

func (g *refreshToken) handle(r *http.Request, cfg *config, c *Client) (*claimSet, *Error) {
	m := g.m
	raw := r.PostForm.Get("refresh_token")
	if raw == "" {
		return nil, ErrInvalidRequest.WithDescription("refresh_token missing")
	}
	bad := g.badToken(cfg)
	st, ok := m.store.lookup(raw)
	if !ok || st.rec.kind != kindRefresh || st.rec.clientID != c.ID || st.revoked {
		return nil, bad
	}
	if !m.clock.now().Before(st.rec.expires) && !cfg.faults.on(FaultRefreshExpiredAccepted) {
		return nil, bad
	}
	fam := st.rec.family
	scopes := st.rec.scopes
	// A bad request must not use the token up: check the scope first.
	if req := strings.Fields(r.PostForm.Get("scope")); len(req) > 0 {
		for _, s := range req {
			if !slices.Contains(fam.scopes, s) && !cfg.faults.on(FaultRefreshScopeWidened) {
				return nil, ErrInvalidScope.WithDescription("scope " + s + " was not granted originally (RFC 6749 §6)")
			}
		}
		scopes = req
	}
	if c.Refresh != NoRotation {
		st, _ = m.store.useRefresh(raw)
		if st.used && !cfg.faults.on(FaultRefreshReuse) {
			if c.Refresh == RotateRevokeFamily {
				m.store.revokeFamily(fam)
			}
			return nil, bad
		}
	}
	if cfg.faults.on(FaultRefreshScopeWidened) {
		scopes = widen(scopes)
	}
	u, ok := m.users[fam.username]
	if !ok {
		return nil, bad
	}
	gr := grant{fam: fam, sub: fam.sub, accounts: fam.accounts, scopes: scopes}
	if cfg.drift.on(DriftUnstableSub) {
		gr.sub = m.subject(cfg, u)
	}
	if cfg.drift.on(DriftUnstableAccounts) {
		gr.accounts = m.accounts(cfg, u)
	}
	return m.userTokens(cfg, c, u, gr, c.Refresh != NoRotation)
}

// badToken is the profile's answer to an unknown, expired, revoked, reused
// or foreign refresh token; the refresh-error-swapped fault answers with the
// other convention.
func (g *refreshToken) badToken(cfg *config) *Error {
	e := g.m.profile.v.refreshError()
	if cfg.faults.on(FaultRefreshErrorSwapped) {
		if e.Code == ErrInvalidGrant.Code {
			return akoyaVendor{}.refreshError()
		}
		return genericVendor{}.refreshError()
	}
	return e
}
