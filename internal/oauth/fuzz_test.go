package oauth

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseTokenResponse feeds the token response decoder any body an IdP
// might send. It never panics; a body it accepts without JSON problems is
// UTF-8 and an object; type errors and JSON problems name members, never
// values.
func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"a","token_type":"Bearer","expires_in":3600}`,
		`{"access_token":"a","access_token":"b"}`,
		"{\"scope\":\"caf\xe9\"}",
		`{"expires_in":"3600","token_type":7,"error":"invalid_client"}`,
		`{"expires_in":1e400}`,
		`[]`, `null`, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tr := ParseTokenResponse(&Response{Status: 200, Header: http.Header{}, Body: body})
		if tr.Fields != nil && len(tr.JSONProblems) == 0 && !utf8.Valid(body) {
			t.Errorf("body with invalid UTF-8 has no JSON problem")
		}
		if tr.Fields == nil && len(tr.JSONProblems) == 0 {
			t.Errorf("no fields and no problem named")
		}
		for _, v := range []string{tr.AccessToken, tr.RefreshToken, tr.IDToken} {
			if len(v) < 8 {
				continue
			}
			for _, p := range append(append([]string{}, tr.JSONProblems...), tr.TypeErrors...) {
				if strings.Contains(p, v) {
					t.Errorf("problem %q quotes a token", p)
				}
			}
		}
	})
}

// FuzzParseMetadata: any discovery body decodes or is refused with an error.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://idp","token_endpoint":"https://idp/token","scopes_supported":["a"]}`))
	f.Add([]byte(`{"issuer":42}`))
	f.Add([]byte(`{"scopes_supported":"a"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		md, err := ParseMetadata(body)
		if (md == nil) == (err == nil) {
			t.Errorf("metadata %v with error %v", md, err)
		}
	})
}
