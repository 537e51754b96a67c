package mockidp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Akkess token request limits.
const (
	// AkkessMaxExpiry bounds expiryInSecs: a day.
	AkkessMaxExpiry = 24 * 60 * 60
	// AkkessTokenFormat is the only tokenFormat Akkess supports (seed 003).
	AkkessTokenFormat = "t1"
)

// akkessRequest is the body of POST /authorization/v1/tokens (seed 003).
type akkessRequest struct {
	TenantID     *string          `json:"tenantId"`
	ExpiryInSecs *json.RawMessage `json:"expiryInSecs"`
	TokenFormat  *string          `json:"tokenFormat"`
}

// handleAkkessTokens exchanges a bearer IdP token of this mock for an Akkess
// token (seed 003): a JWT with kid and cty "t1", claims jti iss sub aud exp
// iat acc app tid ars, answered as application/jwt. It checks, in order:
// the bearer (401), the Accept header (406), the content type (415), the
// body (400), and whether the user may act in the tenant (403).
func (m *IdP) handleAkkessTokens(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	const realm = "akkess"
	h := r.Header.Get("Authorization")
	scheme, raw, _ := strings.Cut(h, " ")
	raw = strings.TrimSpace(raw)
	if h == "" {
		writeBearerError(w, realm, ErrInvalidRequest.WithDescription("missing Authorization: Bearer <IdP token>").WithStatus(http.StatusUnauthorized), false)
		return
	}
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		writeBearerError(w, realm, ErrInvalidRequest.WithDescription("Authorization must be Bearer <IdP token>").WithStatus(http.StatusUnauthorized), true)
		return
	}
	ti, known := m.inspect(raw)
	if !known || ti.kind != kindAccess || !ti.active {
		writeBearerError(w, realm, ErrInvalidToken.WithDescription("the IdP token is invalid, expired or revoked"), true)
		return
	}
	if !acceptsJWT(r.Header.Values("Accept")) && !cfg.faults.on(FaultAkkessAcceptIgnored) {
		writeJSON(w, http.StatusNotAcceptable, ErrInvalidRequest.WithDescription("the response is application/jwt; send accept: application/jwt").WithStatus(http.StatusNotAcceptable))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, ErrInvalidRequest.WithDescription("content-type must be application/json"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, ErrInvalidRequest.WithDescription("body too large"))
		return
	}
	tenant, expiry, e := parseAkkessRequest(body)
	if e != nil {
		writeJSON(w, e.Status, e)
		return
	}
	u := m.users[ti.username]
	if u == nil {
		writeJSON(w, http.StatusForbidden, ErrAccessDenied.WithDescription("an Akkess token needs an IdP token that stands for a user"))
		return
	}
	if !slices.Contains(u.Tenants, tenant) {
		writeJSON(w, http.StatusForbidden, ErrAccessDenied.WithDescription("the user may not act in tenant "+tenant))
		return
	}
	c := m.clients[ti.clientID]
	now := m.clock.now()
	x := m.newMint(cfg, c, u, "", nil, nil)
	x.times(cfg, now, time.Duration(expiry)*time.Second)
	jti := newUUID()
	if cfg.faults.on(FaultDuplicateJTI) {
		jti = duplicateJTI
	}
	claims := akkessClaims(x, u, ti.clientID, tenant, jti)
	hdr := header{cty: AkkessTokenFormat}
	if cfg.faults.on(FaultAkkessNoCty) {
		hdr.cty = ""
	}
	m.store.countIssued()
	tok, err := m.signJWT(cfg, claims, hdr)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, ErrServerError.WithDescription("signing failed"))
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, tok)
}

// acceptsJWT reports whether an Accept header admits application/jwt. No
// Accept header admits anything (RFC 9110 §12.5.1).
func acceptsJWT(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || params["q"] == "0" {
				continue
			}
			if mt == "application/jwt" || mt == "application/*" || mt == "*/*" {
				return true
			}
		}
	}
	return false
}

// parseAkkessRequest checks the request body; every error names the field
// and what was expected.
func parseAkkessRequest(body []byte) (tenant string, expiry int64, e *Error) {
	var req akkessRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return "", 0, ErrInvalidRequest.WithDescription(fmt.Sprintf("%s must be a string", te.Field))
		}
		return "", 0, ErrInvalidRequest.WithDescription("body is not a JSON object")
	}
	if req.TenantID == nil || strings.TrimSpace(*req.TenantID) == "" {
		return "", 0, ErrInvalidRequest.WithDescription("tenantId missing")
	}
	if req.TokenFormat == nil {
		return "", 0, ErrInvalidRequest.WithDescription(`tokenFormat missing; the only format is "t1"`)
	}
	if *req.TokenFormat != AkkessTokenFormat {
		return "", 0, ErrInvalidRequest.WithDescription(fmt.Sprintf(`tokenFormat %q is not supported; the only format is "t1"`, *req.TokenFormat))
	}
	if req.ExpiryInSecs == nil {
		return "", 0, ErrInvalidRequest.WithDescription("expiryInSecs missing")
	}
	if raw := bytes.TrimSpace(*req.ExpiryInSecs); len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return "", 0, ErrInvalidRequest.WithDescription(fmt.Sprintf("expiryInSecs must be a whole number of seconds, got %s", raw))
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(*req.ExpiryInSecs))
	d.UseNumber()
	if err := d.Decode(&n); err != nil {
		return "", 0, ErrInvalidRequest.WithDescription(fmt.Sprintf("expiryInSecs must be a whole number of seconds, got %s", *req.ExpiryInSecs))
	}
	v, err := n.Int64()
	if err != nil {
		return "", 0, ErrInvalidRequest.WithDescription(fmt.Sprintf("expiryInSecs must be a whole number of seconds, got %s", n))
	}
	if v < 1 || v > AkkessMaxExpiry {
		return "", 0, ErrInvalidRequest.WithDescription(fmt.Sprintf("expiryInSecs must be between 1 and %d, got %d", AkkessMaxExpiry, v))
	}
	return *req.TenantID, v, nil
}

// akkessClaims are the claims of a t1 token for user u acting in tenant
// through client clientID (seed 003).
func akkessClaims(x *mint, u *User, clientID, tenant, jti string) *claimSet {
	claims := newClaims()
	claims.set("jti", jti)
	claims.set("iss", x.issuer+"/authorization/v1")
	claims.set("sub", objectID("actor|"+u.Username))
	claims.set("aud", tenant)
	claims.set("exp", x.exp)
	claims.set("iat", x.iat)
	claims.set("acc", objectID("account|"+u.Username))
	claims.set("app", objectID("app|"+clientID))
	claims.set("tid", tenant)
	claims.set("ars", []map[string][]string{{"r": {"USER"}, "n": {objectID("node|" + u.Username + "|" + tenant)}}})
	return claims
}
