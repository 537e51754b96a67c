package oauth

import "encoding/json"

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
		return
	}
	for _, k := range secretFields {
		if s, ok := m[k].(string); ok && s != "" {
			c.secrets.Add(s)
		}
	}
}
