package oauth

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/idpconform/idpconform/internal/jsonkind"
	"github.com/idpconform/idpconform/internal/strictjson"
)

// AuthMethod is how a client authenticates at the token endpoint.
type AuthMethod string

const (
	ClientSecretBasic AuthMethod = "client_secret_basic"
	ClientSecretPost  AuthMethod = "client_secret_post"
	// AuthNone sends only client_id (public clients, and negative tests).
	AuthNone AuthMethod = "none"
)

// Credentials identify a client at the token endpoint.
type Credentials struct {
	ID     string
	Secret string
	Method AuthMethod
	// Certificate is presented in the TLS handshake (tls_client_auth).
	Certificate *tls.Certificate
	// AssertionKey signs client assertions (private_key_jwt).
	AssertionKey *AssertionKey
}

// apply adds client authentication to a token request (RFC 6749 §2.3.1).
func (c *Client) apply(cred Credentials, form url.Values, header http.Header) {
	switch cred.Method {
	case ClientSecretPost:
		form.Set("client_id", cred.ID)
		form.Set("client_secret", cred.Secret)
	case AuthNone:
		// An empty ID sends no client identification at all.
		if cred.ID != "" {
			form.Set("client_id", cred.ID)
		}
	default:
		// RFC 6749 §2.3.1: id and secret are form-encoded before base64.
		v := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(cred.ID)+":"+url.QueryEscape(cred.Secret)))
		if c.secrets != nil {
			c.secrets.Add(v, strings.TrimPrefix(v, "Basic "))
		}
		header.Set("Authorization", v)
	}
}

// TokenResponse is a token endpoint response: the raw HTTP response, the
// decoded JSON members, and the standard ones typed where their type is
// right. A member of the wrong type is left zero and listed in TypeErrors.
type TokenResponse struct {
	*Response
	// Fields holds every member of the JSON body; nil when the body is not a
	// JSON object.
	Fields map[string]any

	AccessToken  string
	TokenType    string
	ExpiresIn    *int64 // nil when absent or not a number
	RefreshToken string
	IDToken      string
	Scope        string

	// Error is set when the body carries an "error" member (RFC 6749 §5.2).
	Error *ErrorResponse
	// TypeErrors lists members present with the wrong JSON type.
	TypeErrors []string
	// JSONProblems lists what makes the body bad JSON: why it does not
	// decode, or what json.Unmarshal would silently forgive (a member sent
	// twice, which RFC 6749 §3.2 forbids; bytes that are not UTF-8, RFC 8259
	// §8.1). Never a value.
	JSONProblems []string
}

// ErrorResponse is an RFC 6749 §5.2 error body.
type ErrorResponse struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
}

func (e *ErrorResponse) String() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// Token sends a token request with the given grant parameters and client
// authentication. A non-2xx status is not an error here: error responses are
// what negative specs examine.
func (c *Client) Token(ctx context.Context, name, endpoint string, cred Credentials, params url.Values) (*TokenResponse, error) {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	c.learnRequestSecrets(form)
	header := http.Header{}
	sender, err := c.authenticate(cred, endpoint, form, header)
	if err != nil {
		return nil, fmt.Errorf("token request to %s: %w", endpoint, err)
	}
	resp, err := sender.PostForm(ctx, name, endpoint, form, header)
	if err != nil {
		return nil, fmt.Errorf("token request to %s: %w", endpoint, err)
	}
	return ParseTokenResponse(resp), nil
}

// ClientCredentials performs the client credentials grant (RFC 6749 §4.4).
// extra adds parameters such as resource or audience.
func (c *Client) ClientCredentials(ctx context.Context, endpoint string, cred Credentials, scopes []string, extra url.Values) (*TokenResponse, error) {
	params := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		params.Set("scope", strings.Join(scopes, " "))
	}
	for k, v := range extra {
		params[k] = v
	}
	return c.Token(ctx, "token client_credentials", endpoint, cred, params)
}

// ParseTokenResponse decodes a token endpoint response without judging it.
func ParseTokenResponse(resp *Response) *TokenResponse {
	tr := &TokenResponse{Response: resp}
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		tr.JSONProblems = []string{"not a JSON object: " + jsonError(err)}
		return tr
	}
	if m == nil {
		// json.Unmarshal takes null into a map without complaint.
		tr.JSONProblems = []string{"not a JSON object: the body is JSON null"}
		return tr
	}
	tr.JSONProblems = strictjson.Strings(strictjson.Check(resp.Body))
	tr.Fields = m
	str := func(k string) string {
		v, ok := m[k]
		if !ok {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			tr.TypeErrors = append(tr.TypeErrors, fmt.Sprintf("%s: expected a string, got %s", k, jsonkind.Of(v).Describe()))
		}
		return s
	}
	tr.AccessToken = str("access_token")
	tr.TokenType = str("token_type")
	tr.RefreshToken = str("refresh_token")
	tr.IDToken = str("id_token")
	tr.Scope = str("scope")
	if v, ok := m["expires_in"]; ok {
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			n := int64(f)
			tr.ExpiresIn = &n
		} else {
			tr.TypeErrors = append(tr.TypeErrors, fmt.Sprintf("expires_in: expected an integer number of seconds, got %s", jsonkind.Of(v).Describe()))
		}
	}
	if code, ok := m["error"].(string); ok {
		desc, _ := m["error_description"].(string)
		uri, _ := m["error_uri"].(string)
		tr.Error = &ErrorResponse{Code: code, Description: desc, URI: uri}
	}
	return tr
}

// jsonError describes why a body does not decode without quoting it: a
// syntax error's text names one character at most, a type error names the
// JSON type.
func jsonError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return err.Error()
}
