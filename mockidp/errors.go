package mockidp

import (
	"net/http"
)

// Error is an OAuth 2.0 error response (RFC 6749 §4.1.2.1, §5.2; RFC 6750
// §3.1). The package-level values are templates: WithDescription returns a
// copy, so a handler never edits a shared value.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Status      int    `json:"-"`
}

func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// WithDescription returns a copy of e with a description.
func (e *Error) WithDescription(d string) *Error {
	cp := *e
	cp.Description = d
	return &cp
}

// WithStatus returns a copy of e with another HTTP status.
func (e *Error) WithStatus(s int) *Error {
	cp := *e
	cp.Status = s
	return &cp
}

// Is compares error codes, so errors.Is(err, ErrInvalidClient) holds for any
// copy.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Error templates. The status is the one the mock answers with.
var (
	ErrInvalidRequest          = &Error{Code: "invalid_request", Status: http.StatusBadRequest}
	ErrInvalidClient           = &Error{Code: "invalid_client", Status: http.StatusUnauthorized}
	ErrInvalidGrant            = &Error{Code: "invalid_grant", Status: http.StatusBadRequest}
	ErrUnauthorizedClient      = &Error{Code: "unauthorized_client", Status: http.StatusBadRequest}
	ErrUnsupportedGrantType    = &Error{Code: "unsupported_grant_type", Status: http.StatusBadRequest}
	ErrInvalidScope            = &Error{Code: "invalid_scope", Status: http.StatusBadRequest}
	ErrServerError             = &Error{Code: "server_error", Status: http.StatusInternalServerError}
	ErrAccessDenied            = &Error{Code: "access_denied", Status: http.StatusForbidden}
	ErrUnsupportedResponseType = &Error{Code: "unsupported_response_type", Status: http.StatusBadRequest}
	ErrLoginRequired           = &Error{Code: "login_required", Status: http.StatusBadRequest}
	ErrConsentRequired         = &Error{Code: "consent_required", Status: http.StatusBadRequest}
	ErrInvalidToken            = &Error{Code: "invalid_token", Status: http.StatusUnauthorized}
	ErrInsufficientScope       = &Error{Code: "insufficient_scope", Status: http.StatusForbidden}
	ErrUnsupportedTokenType    = &Error{Code: "unsupported_token_type", Status: http.StatusBadRequest}
	ErrTemporarilyUnavailable  = &Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable}
)

// AkoyaRefreshErrorDescription is the text Akoya answers an expired or
// reused refresh token with, as error invalid_request and HTTP 400 (seed 001).
const AkoyaRefreshErrorDescription = "Refresh token is invalid or has already been claimed by another client."

// writeError sends e as JSON. Token endpoint errors are never cached (RFC
// 6749 §5.2 refers to §5.1's no-store rule for the whole response). The
// error-status-200 and no-www-authenticate faults bend it.
func writeError(w http.ResponseWriter, fs *faultSet, e *Error, basicAuthUsed bool) {
	status := e.Status
	if status == http.StatusUnauthorized && basicAuthUsed && !fs.on(FaultNoWWWAuthenticate) {
		// RFC 6749 §5.2: a 401 must carry the scheme the client used.
		w.Header().Set("WWW-Authenticate", `Basic realm="idpconform-mock", error="`+e.Code+`"`)
	}
	if fs.on(FaultErrorStatus200) {
		status = http.StatusOK
	}
	writeJSON(w, status, e)
}
