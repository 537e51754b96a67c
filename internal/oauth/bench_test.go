package oauth

import (
	"net/http"
	"testing"
)

// A token response as the mock sends it (JWT access token, ID token,
// refresh token): the JSON checks run on each one a spec receives.
var benchBody = []byte(`{"access_token":"eyJhbGciOiJFUzI1NiIsImtpZCI6ImtpZC0xMjM0NTY3OCIsInR5cCI6ImF0K2p3dCJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjE4MDgwIiwic3ViIjoiaWRwY29uZm9ybS1jYyIsImF1ZCI6ImlkcGNvbmZvcm0tY2MiLCJleHAiOjE3MTM5MDIwNzksImlhdCI6MTcxMzg5ODQ3OSwianRpIjoiMTIzNDU2Nzg5MCIsImNsaWVudF9pZCI6ImlkcGNvbmZvcm0tY2MiLCJzY29wZSI6ImFwaTpyZWFkIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-0123456789abcdef0123456789abcdef","id_token":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln","scope":"openid profile email offline_access"}`)

func BenchmarkParseTokenResponse(b *testing.B) {
	resp := &Response{Status: 200, Header: http.Header{}, Body: benchBody}
	b.ReportAllocs()
	for b.Loop() {
		if tr := ParseTokenResponse(resp); tr.AccessToken == "" {
			b.Fatal("no token")
		}
	}
}
