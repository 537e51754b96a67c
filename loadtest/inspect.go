package loadtest

import (
	"errors"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/jsonscan"
)

// tokenBody is the part of a token endpoint response (RFC 6749 §5.1, §5.2)
// load runs look at.
type tokenBody struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	IDToken      string
	Error        string
}

// Problems a token response can have. They are stable phrases: failed hits
// are grouped by them.
const (
	problemRedirect      = "unexpected redirect"
	problemInvalidJSON   = "body is not valid JSON"
	problemNotJSON       = "body is not a JSON object"
	problemMalformed     = "a member has the wrong JSON type"
	problemNoAccessToken = "no access_token"
	problemNoTokenType   = "no token_type"
	problemErrorOn2xx    = "error member in a success response"
)

// parseTokenBody reads the members of a token response in one pass
// (jsonscan: this runs on every response of an attack). Names are
// case-sensitive (RFC 8259 §8.3 compares names code unit by code unit; a
// member spelled "Access_Token" is not access_token, though encoding/json
// would take it). A null member counts as absent; a member of another
// type is a problem. Of a repeated member the last non-null one counts,
// as with encoding/json.
func parseTokenBody(body []byte) (tokenBody, string) {
	var b tokenBody
	wrongType := false
	err := jsonscan.Members(body, func(name []byte, v jsonscan.Value) {
		var dst *string
		switch string(name) {
		case "access_token":
			dst = &b.AccessToken
		case "token_type":
			dst = &b.TokenType
		case "refresh_token":
			dst = &b.RefreshToken
		case "id_token":
			dst = &b.IDToken
		case "error":
			dst = &b.Error
		default:
			return
		}
		if v.Kind == jsonscan.Null {
			return
		}
		s, ok := v.Str()
		if !ok {
			wrongType = true
			return
		}
		*dst = s
	})
	switch {
	case errors.Is(err, jsonscan.ErrNotObject):
		return tokenBody{}, problemNotJSON
	case err != nil:
		return tokenBody{}, problemInvalidJSON
	case wrongType:
		return tokenBody{}, problemMalformed
	}
	return b, ""
}

// inspectTokenResponse judges a token endpoint response: a 2xx must carry an
// access token and its type (RFC 6749 §5.1); any other status is a failure
// whose OAuth error code, if the body has one, groups it.
func inspectTokenResponse(res *vegeta.Result) Outcome {
	if res.Code < 200 || res.Code >= 300 {
		out := Outcome{OAuthError: oauthErrorCode(res.Body)}
		if res.Code >= 300 && res.Code < 400 {
			out.Problem = problemRedirect
		}
		return out
	}
	b, problem := parseTokenBody(res.Body)
	if problem != "" {
		return Outcome{Problem: problem}
	}
	out := Outcome{}
	if b.AccessToken != "" {
		out.Issued = append(out.Issued, Credential{Kind: AccessToken, Value: b.AccessToken})
	}
	if b.RefreshToken != "" {
		out.Issued = append(out.Issued, Credential{Kind: RefreshToken, Value: b.RefreshToken})
	}
	if b.IDToken != "" {
		out.Issued = append(out.Issued, Credential{Kind: IDToken, Value: b.IDToken})
	}
	switch {
	case b.Error != "":
		out.Problem = problemErrorOn2xx
		out.OAuthError = sanitizeCode(b.Error)
	case b.AccessToken == "":
		out.Problem = problemNoAccessToken
	case b.TokenType == "":
		out.Problem = problemNoTokenType
	}
	return out
}

// oauthErrorCode returns the "error" member of an error body, or "".
func oauthErrorCode(body []byte) string {
	var code string
	var kind jsonscan.Kind
	if jsonscan.Members(body, func(name []byte, v jsonscan.Value) {
		if string(name) == "error" && v.Kind != jsonscan.Null {
			kind = v.Kind
			code, _ = v.Str()
		}
	}) != nil {
		return ""
	}
	switch kind {
	case 0:
		return ""
	case jsonscan.String:
		return sanitizeCode(code)
	}
	return "(non-string error member)"
}

// maxCodeLen bounds an error code kept in results: codes are short words
// (RFC 6749 §5.2); anything longer is an IdP putting text where a code goes.
const maxCodeLen = 64

// sanitizeCode keeps an error code as a grouping key only when it is made of
// the characters RFC 6749 §5.2 allows (%x20-21 / %x23-5B / %x5D-7E): a
// hostile or broken IdP must not put arbitrary text, or a secret, into every
// failed result.
func sanitizeCode(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > maxCodeLen {
		return "(over-long error code)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "(error code with characters RFC 6749 §5.2 forbids)"
		}
	}
	return strings.TrimSpace(s)
}
