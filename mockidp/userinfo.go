package mockidp

import (
	"net/http"
	"slices"
	"strings"
)

// bearerToken reads an RFC 6750 bearer token from the Authorization header
// (§2.1, scheme case-insensitive) or, for a form POST, the access_token
// parameter (§2.2). sent reports whether any credentials came.
func bearerToken(r *http.Request) (token string, sent bool, e *Error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return "", true, ErrInvalidRequest.WithDescription("Authorization must be Bearer <token>").WithStatus(http.StatusBadRequest)
		}
		if r.PostForm.Get("access_token") != "" {
			return "", true, ErrInvalidRequest.WithDescription("token sent by more than one method (RFC 6750 §2)")
		}
		return tok, true, nil
	}
	if tok := r.PostForm.Get("access_token"); tok != "" {
		return tok, true, nil
	}
	return "", false, nil
}

// writeBearerError answers a protected resource request (RFC 6750 §3): a
// request without credentials gets no error code in the challenge (§3.1).
func writeBearerError(w http.ResponseWriter, realm string, e *Error, sent bool) {
	ch := `Bearer realm="` + realm + `"`
	if sent {
		ch += `, error="` + e.Code + `"`
		if e.Description != "" {
			ch += `, error_description="` + strings.ReplaceAll(e.Description, `"`, "'") + `"`
		}
	}
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		w.Header().Set("WWW-Authenticate", ch)
	}
	writeJSON(w, e.Status, e)
}

// handleUserinfo is OIDC Core §5.3: claims about the user an access token
// with the openid scope stands for.
func (m *IdP) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	if e := parseForm(w, r); e != nil {
		writeBearerError(w, "idpconform-mock", e, true)
		return
	}
	raw, sent, e := bearerToken(r)
	switch {
	case e != nil:
		writeBearerError(w, "idpconform-mock", e, true)
		return
	case !sent:
		writeBearerError(w, "idpconform-mock", ErrInvalidToken.WithDescription("no access token"), false)
		return
	}
	ti, known := m.inspect(raw)
	lenient := cfg.faults.on(FaultUserinfoAcceptsInvalid)
	var u *User
	switch {
	case known && ti.kind == kindAccess && ti.active:
		u = m.users[ti.username]
		if u == nil {
			writeBearerError(w, "idpconform-mock", ErrInvalidToken.WithDescription("the token stands for no user (client credentials)"), true)
			return
		}
		if !slices.Contains(ti.scopes, "openid") {
			writeBearerError(w, "idpconform-mock", ErrInsufficientScope.WithDescription("the token lacks the openid scope"), true)
			return
		}
	case lenient:
		// The fault: a dead or unknown token still gets claims.
		if u = m.users[ti.username]; u == nil {
			u = m.users[m.userNames[0]]
			ti.sub = m.profile.v.userSubject(m.profile, u)
			ti.scopes = []string{"openid", "profile", "email"}
		}
	default:
		writeBearerError(w, "idpconform-mock", ErrInvalidToken.WithDescription("the access token is invalid, expired or revoked"), true)
		return
	}
	x := &mint{m: m, prof: m.profile, user: u, sub: ti.sub, scopes: ti.scopes}
	if cfg.faults.on(FaultUserinfoSubMismatch) {
		x.sub = ti.sub + "-other"
	}
	claims := m.profile.v.userinfo(x)
	applyClaimDrift(cfg.drift, claims)
	writeJSON(w, http.StatusOK, claims)
}
