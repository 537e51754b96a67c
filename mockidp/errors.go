package mockidp

import (
	"encoding/json"
	"net/http"
)

// Error is an OAuth 2.0 error response (RFC 6749 §5.2, RFC 6750 §3.1). The
// package-level values are templates: WithDescription returns a copy, so a
// handler never edits a shared value.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Status      int    `json:"-"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// WithDescription returns a copy of e with a description.
func (e *Error) WithDescription(d string) *Error {
	cp := *e
	cp.Description = d
	return &cp
}

// Is compares error codes, so errors.Is(err, ErrInvalidClient) holds for any
// copy.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

var (
	ErrInvalidRequest       = &Error{Code: "invalid_request", Status: http.StatusBadRequest}
	ErrInvalidClient        = &Error{Code: "invalid_client", Status: http.StatusUnauthorized}
	ErrInvalidGrant         = &Error{Code: "invalid_grant", Status: http.StatusBadRequest}
	ErrUnauthorizedClient   = &Error{Code: "unauthorized_client", Status: http.StatusBadRequest}
	ErrUnsupportedGrantType = &Error{Code: "unsupported_grant_type", Status: http.StatusBadRequest}
	ErrInvalidScope         = &Error{Code: "invalid_scope", Status: http.StatusBadRequest}
	ErrServerError          = &Error{Code: "server_error", Status: http.StatusInternalServerError}
)

// writeError sends e as JSON. Token endpoint errors are never cached (RFC
// 6749 §5.2 refers to §5.1's no-store rule for the whole response).
func writeError(w http.ResponseWriter, e *Error, basicAuthUsed bool) {
	if e.Status == http.StatusUnauthorized && basicAuthUsed {
		// RFC 6749 §5.2: a 401 must carry the scheme the client used.
		w.Header().Set("WWW-Authenticate", `Basic realm="idpconform-mock", error="`+e.Code+`"`)
	}
	writeJSON(w, e.Status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
