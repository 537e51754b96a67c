package loadtest

import (
	"bytes"
	"encoding/json"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// tokenBody is the part of a token endpoint response (RFC 6749 §5.1, §5.2)
// load runs look at. Members of another JSON type make the body malformed.
type tokenBody struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
}

// Problems a token response can have. They are stable phrases: failed hits
// are grouped by them.
const (
	problemRedirect      = "unexpected redirect"
	problemNotJSON       = "body is not a JSON object"
	problemMalformed     = "a member has the wrong JSON type"
	problemNoAccessToken = "no access_token"
	problemNoTokenType   = "no token_type"
	problemErrorOn2xx    = "error member in a success response"
)

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
	var b tokenBody
	if err := json.Unmarshal(res.Body, &b); err != nil {
		if looksLikeObject(res.Body) {
			return Outcome{Problem: problemMalformed}
		}
		return Outcome{Problem: problemNotJSON}
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

func looksLikeObject(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(b), []byte("{"))
}

// oauthErrorCode returns the "error" member of an error body, or "".
func oauthErrorCode(body []byte) string {
	if !looksLikeObject(body) {
		return ""
	}
	var e struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	s, ok := e.Error.(string)
	if !ok {
		if e.Error != nil {
			return "(non-string error member)"
		}
		return ""
	}
	return sanitizeCode(s)
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
