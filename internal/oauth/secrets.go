package oauth

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// secretFields are the response members that carry credentials.
var secretFields = []string{"access_token", "refresh_token", "id_token", "code", "device_code", "issued_token", "client_secret", "registration_access_token"}

// learnSecrets registers every credential in a JSON response body, and the
// code in a redirect, before anything else can print them.
func (c *Client) learnSecrets(body []byte) {
	if c.secrets == nil || len(body) == 0 {
		return
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		// A bare token (application/jwt, as the Akkess exchange answers).
		if tok := strings.TrimSpace(string(body)); strings.Count(tok, ".") == 2 && !strings.ContainsAny(tok, " \n<{") {
			c.secrets.Add(tok)
		}
		return
	}
	for _, k := range secretFields {
		if s, ok := m[k].(string); ok && s != "" {
			c.secrets.Add(s)
		}
	}
}

// requestSecretParams are the token request parameters that carry
// credentials the IdP has not answered with, so no response teaches them:
// the PKCE verifier (RFC 7636 §7.1), made by a caller that may not have
// used Client.NewPKCE (a wrong verifier a negative spec sends).
var requestSecretParams = []string{"code_verifier"}

// learnRequestSecrets registers them before the request is sent and
// logged.
func (c *Client) learnRequestSecrets(form url.Values) {
	if c.secrets == nil {
		return
	}
	for _, k := range requestSecretParams {
		for _, v := range form[k] {
			if v != "" {
				c.secrets.Add(v)
			}
		}
	}
}

// redirectSecretParams are the query and fragment parameters of a Location
// that carry credentials (RFC 6749 §4.1.2, §4.2.2; OIDC Core §3.2.2.5).
var redirectSecretParams = []string{"code", "access_token", "id_token", "refresh_token"}

// learnHeaderSecrets registers credentials a response carries in headers: a
// code in a redirect's Location, and session cookie values. They are learnt
// before the exchange reaches any log, not when a caller parses them later.
func (c *Client) learnHeaderSecrets(h http.Header) {
	if c.secrets == nil {
		return
	}
	if loc := h.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			for _, q := range []string{u.RawQuery, u.Fragment} {
				vals, _ := url.ParseQuery(q)
				for _, k := range redirectSecretParams {
					if v := vals.Get(k); v != "" {
						c.secrets.Add(v)
					}
				}
			}
		}
	}
	// Session-like cookies only: registering "en" or "dark" would blank
	// ordinary words out of every report.
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if len(ck.Value) >= 16 {
			c.secrets.Add(ck.Value)
		}
	}
}
