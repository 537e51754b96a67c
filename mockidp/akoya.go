package mockidp

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// AkoyaCodeCustomerNotAuthorized is the Akoya data API error for an expired
// ID token (seed 001).
const AkoyaCodeCustomerNotAuthorized = 602

// akoyaError is the error body of Akoya's data APIs: an integer code, a
// message and an optional debug message (seed 001; FDX with integer codes).
type akoyaError struct {
	Code         int    `json:"code"`
	Message      string `json:"message"`
	DebugMessage string `json:"debugMessage,omitempty"`
}

// handleAkoyaData is a data endpoint of the akoya profiles: GET
// {issuer}/accounts-info/v2/{providerId} with the ID token as bearer. An
// expired ID token gets 602 "Customer not authorized" (seed 001). Seed 001
// gives the body only; the mock answers it with 403, and a request without
// a bearer with 401.
func (m *IdP) handleAkoyaData(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	notAuthorized := func(status int, debug string) {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="akoya-data"`)
		}
		writeJSON(w, status, akoyaError{Code: AkoyaCodeCustomerNotAuthorized, Message: "Customer not authorized", DebugMessage: debug})
	}
	h := r.Header.Get("Authorization")
	scheme, raw, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		notAuthorized(http.StatusUnauthorized, "send the ID token as Authorization: Bearer <id_token>")
		return
	}
	if provider := r.PathValue("provider"); provider != m.profile.Connector {
		writeJSON(w, http.StatusNotFound, akoyaError{Code: http.StatusNotFound, Message: "Provider not found",
			DebugMessage: "this mock plays provider " + m.profile.Connector})
		return
	}
	payload, err := m.keys.verify(strings.TrimSpace(raw))
	if err != nil {
		notAuthorized(http.StatusForbidden, "the ID token does not verify")
		return
	}
	var claims struct {
		Iss      string   `json:"iss"`
		Sub      string   `json:"sub"`
		Exp      int64    `json:"exp"`
		Accounts []string `json:"accounts"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Sub == "" {
		notAuthorized(http.StatusForbidden, "the bearer is not an ID token of this issuer")
		return
	}
	if !m.clock.now().Before(time.Unix(claims.Exp, 0)) && !cfg.faults.on(FaultAkoyaExpiredAccepted) {
		notAuthorized(http.StatusForbidden, "the ID token has expired; refresh the tokens and call again")
		return
	}
	accounts := claims.Accounts
	if accounts == nil {
		// The legacy ID token has no accounts claim: find the user by sub.
		for _, n := range m.userNames {
			if u := m.users[n]; m.profile.v.userSubject(m.profile, u) == claims.Sub {
				accounts = slices.Clone(u.Accounts)
			}
		}
	}
	type account struct {
		AccountID  string `json:"accountId"`
		ProviderID string `json:"providerId"`
	}
	out := struct {
		Accounts []account `json:"accounts"`
	}{Accounts: []account{}}
	for _, a := range accounts {
		out.Accounts = append(out.Accounts, account{AccountID: a, ProviderID: m.profile.Connector})
	}
	writeJSON(w, http.StatusOK, out)
}
