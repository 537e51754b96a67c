package mockidp

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// tokenInfo is what the mock knows of a token presented to it.
type tokenInfo struct {
	active   bool
	kind     string
	format   string
	clientID string
	sub      string
	username string
	scopes   []string
	aud      any
	jti      string
	iat, exp time.Time
	revoked  bool
	expired  bool
	family   *family
}

// inspect finds out what token raw is: a stored opaque token, a stored
// user JWT, or a client credentials JWT known only by its signature.
func (m *IdP) inspect(raw string) (tokenInfo, bool) {
	now := m.clock.now()
	if st, ok := m.store.lookup(raw); ok {
		return infoOf(st, now), true
	}
	if strings.Count(raw, ".") != 2 {
		return tokenInfo{}, false
	}
	payload, err := m.keys.verify(raw)
	if err != nil {
		return tokenInfo{}, false
	}
	var claims struct {
		Iss      string `json:"iss"`
		Sub      string `json:"sub"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		Aud      any    `json:"aud"`
		Jti      string `json:"jti"`
		Iat      int64  `json:"iat"`
		Exp      int64  `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Jti == "" || claims.ClientID == "" {
		// Not an access token of this mock (an ID token, say).
		return tokenInfo{}, false
	}
	if st, ok := m.store.lookup(jtiKey(claims.Jti)); ok {
		return infoOf(st, now), true
	}
	ti := tokenInfo{kind: kindAccess, format: "jwt", clientID: claims.ClientID, sub: claims.Sub, scopes: strings.Fields(claims.Scope),
		aud: claims.Aud, jti: claims.Jti, iat: time.Unix(claims.Iat, 0), exp: time.Unix(claims.Exp, 0)}
	ti.revoked = m.store.jtiRevoked(claims.Jti)
	ti.expired = !now.Before(ti.exp)
	ti.active = !ti.revoked && !ti.expired
	return ti, true
}

func infoOf(st tokenState, now time.Time) tokenInfo {
	r := st.rec
	ti := tokenInfo{kind: r.kind, format: r.format, clientID: r.clientID, sub: r.sub, username: r.username, scopes: r.scopes,
		aud: r.aud, jti: r.jti, iat: r.issuedAt, exp: r.expires, revoked: st.revoked, family: r.family}
	ti.expired = !now.Before(r.expires)
	// A rotated refresh token is no longer usable (RFC 9700 §4.14.2).
	used := r.kind == kindRefresh && st.used
	ti.active = !ti.revoked && !ti.expired && !used
	return ti
}

// handleIntrospect is RFC 7662: the caller authenticates as a registered
// confidential client (§2.1); unknown, expired and revoked tokens are
// active: false and nothing else (§2.2).
func (m *IdP) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	if e := parseForm(w, r); e != nil {
		writeError(w, cfg.faults, e, false)
		return
	}
	if !cfg.faults.on(FaultIntrospectNoAuth) {
		c, basic, e := m.authenticate(r, cfg.faults)
		if e != nil {
			writeError(w, cfg.faults, e, basic)
			return
		}
		if c.AuthMethod == AuthNone {
			writeError(w, cfg.faults, ErrInvalidClient.WithDescription("public clients may not introspect"), basic)
			return
		}
	}
	raw := r.PostForm.Get("token")
	if raw == "" {
		writeError(w, cfg.faults, ErrInvalidRequest.WithDescription("token missing"), false)
		return
	}
	ti, known := m.inspect(raw)
	active := known && ti.active
	if known && !ti.active {
		// The faults that report a dead token alive.
		switch {
		case ti.revoked && cfg.faults.on(FaultIntrospectRevokedActive) && !ti.expired:
			active = true
		case ti.expired && cfg.faults.on(FaultIntrospectExpiredActive) && !ti.revoked:
			active = true
		}
	}
	var activeValue any = active
	if cfg.faults.on(FaultIntrospectActiveString) {
		activeValue = "false"
		if active {
			activeValue = "true"
		}
	}
	resp := newClaims()
	resp.set("active", activeValue)
	if active {
		resp.setIf("scope", strings.Join(ti.scopes, " "))
		resp.set("client_id", ti.clientID)
		resp.setIf("username", ti.username)
		resp.set("token_type", tokenTypeHint(ti.kind))
		resp.set("exp", ti.exp.Unix())
		resp.set("iat", ti.iat.Unix())
		resp.setIf("sub", ti.sub)
		if ti.aud != nil {
			resp.set("aud", ti.aud)
		}
		resp.set("iss", m.issuer)
		resp.setIf("jti", ti.jti)
	}
	writeJSON(w, http.StatusOK, resp)
}

func tokenTypeHint(kind string) string {
	if kind == kindRefresh {
		return "refresh_token"
	}
	return "Bearer"
}

// handleRevoke is RFC 7009: the caller authenticates (public clients name
// themselves); a token of another client is refused (§2.1); an unknown token
// gets 200 (§2.2). Revoking a refresh token revokes the access tokens of its
// grant.
func (m *IdP) handleRevoke(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	if e := parseForm(w, r); e != nil {
		writeError(w, cfg.faults, e, false)
		return
	}
	c, basic, e := m.authenticate(r, cfg.faults)
	if e != nil {
		writeError(w, cfg.faults, e, basic)
		return
	}
	raw := r.PostForm.Get("token")
	if raw == "" {
		writeError(w, cfg.faults, ErrInvalidRequest.WithDescription("token missing"), basic)
		return
	}
	if h := r.PostForm.Get("token_type_hint"); h != "" && !slices.Contains([]string{"access_token", "refresh_token"}, h) {
		// RFC 7009 §2.1: an unknown hint may be ignored; the mock does.
		m.log.Debug("revoke: unknown token_type_hint ignored")
	}
	ti, known := m.inspect(raw)
	if !known {
		if cfg.faults.on(FaultRevokeUnknown400) {
			writeError(w, cfg.faults, ErrInvalidRequest.WithDescription("unknown token"), basic)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	if ti.clientID != c.ID {
		writeError(w, cfg.faults, ErrUnauthorizedClient.WithDescription("the token was issued to another client"), basic)
		return
	}
	if !cfg.faults.on(FaultRevokeNoop) {
		m.revokeToken(raw, ti)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (m *IdP) revokeToken(raw string, ti tokenInfo) {
	switch {
	case m.store.revoke(raw):
	case ti.format == "jwt" && m.store.revoke(jtiKey(ti.jti)):
	case ti.format == "jwt":
		m.store.revokeJTI(ti.jti, ti.exp)
	}
}
