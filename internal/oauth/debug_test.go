package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/mockidp"
)

// The debug log shows every exchange as it ends, and no secret: the client
// secret, the Basic credentials, the tokens of the response and the code in
// a redirect's Location are registered before the exchange is written. The
// twin, an unredacted debug writer, shows that the same log would hold them.
func TestDebugLogRedacts(t *testing.T) {
	srv, err := mockidp.NewServer("", mockidp.Options{AutoLogin: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, redacted := range []bool{true, false} {
		c, buf := debugClient(redacted, mockidp.ClientCCPostSecret, mockidp.ClientCCSecret)
		ctx := context.Background()
		var secrets []string
		for _, cred := range []Credentials{
			{ID: mockidp.ClientCCPost, Secret: mockidp.ClientCCPostSecret, Method: ClientSecretPost},
			{ID: mockidp.ClientCC, Secret: mockidp.ClientCCSecret, Method: ClientSecretBasic},
		} {
			tr, err := c.ClientCredentials(ctx, srv.URL+mockidp.PathToken, cred, nil, nil)
			if err != nil || tr.AccessToken == "" {
				t.Fatalf("%s: %v", cred.Method, err)
			}
			secrets = append(secrets, tr.AccessToken)
			if cred.Method == ClientSecretPost {
				secrets = append(secrets, cred.Secret)
			} else {
				// Basic sends the secret base64-encoded.
				secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(cred.ID+":"+cred.Secret)))
			}
		}
		// A redirect carrying a code, as the login driver meets it.
		q := url.Values{"response_type": {"code"}, "client_id": {mockidp.ClientCode}, "redirect_uri": {mockidp.DefaultRedirectURI},
			"scope": {"openid"}, "login_hint": {mockidp.UserAlice}, "state": {"s"}}
		resp, err := c.Get(ctx, "authorize", srv.URL+mockidp.PathAuthorize+"?"+q.Encode(), "")
		if err != nil || resp.Status != http.StatusFound {
			t.Fatalf("authorize: %+v %v", resp, err)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		secrets = append(secrets, loc.Query().Get("code"))
		c.CloseIdleConnections()

		log := buf.String()
		if n := strings.Count(log, "--- "); n != 3 {
			t.Fatalf("%d exchanges logged, want 3:\n%s", n, log)
		}
		leaked := 0
		for _, s := range secrets {
			if s != "" && strings.Contains(log, s) {
				leaked++
			}
		}
		if redacted && leaked > 0 {
			t.Errorf("%d secrets in the redacted debug log:\n%s", leaked, log)
		}
		if !redacted && leaked != len(secrets) {
			t.Errorf("the unredacted twin shows %d of %d secrets: the scan cannot see them", leaked, len(secrets))
		}
	}
}

// The PKCE verifier is a secret (RFC 7636 §7.1): a verifier the client
// made is registered when made (with "plain" it is also the challenge in
// the authorization URL), and one made elsewhere when the token request
// sends it. The debug log of a whole code flow holds none; the twin, an
// unredacted writer, shows each verifier was sent and the exchange
// succeeded with it.
func TestDebugLogRedactsCodeVerifier(t *testing.T) {
	srv, err := mockidp.NewServer("", mockidp.Options{AutoLogin: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cred := Credentials{ID: mockidp.ClientCode, Secret: mockidp.ClientCodeSecret, Method: ClientSecretBasic}
	for _, redacted := range []bool{true, false} {
		c, buf := debugClient(redacted, mockidp.ClientCodeSecret)
		ctx := context.Background()
		var verifiers []string
		for name, pkce := range map[string]PKCE{"client S256": c.NewPKCE("S256"), "client plain": c.NewPKCE("plain"), "made elsewhere": NewPKCE("S256")} {
			raw, err := AuthRequest{Endpoint: srv.URL + mockidp.PathAuthorize, ClientID: cred.ID, RedirectURI: mockidp.DefaultRedirectURI,
				Scopes: []string{"openid"}, State: "s", PKCE: &pkce, Extra: url.Values{"login_hint": {mockidp.UserAlice}}}.URL()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Get(ctx, "authorize", raw, "")
			if err != nil || resp.Status != http.StatusFound {
				t.Fatalf("%s: authorize: %+v %v", name, resp, err)
			}
			cb, err := c.ParseCallback(resp.Header.Get("Location"))
			if err != nil || cb.Code == "" {
				t.Fatalf("%s: callback: %+v %v", name, cb, err)
			}
			tr, err := c.ExchangeCode(ctx, srv.URL+mockidp.PathToken, cred, cb.Code, mockidp.DefaultRedirectURI, pkce.Verifier)
			if err != nil || tr.Status != http.StatusOK {
				t.Fatalf("%s: code exchange: %+v %v", name, tr, err)
			}
			verifiers = append(verifiers, pkce.Verifier)
		}
		c.CloseIdleConnections()
		log := buf.String()
		for i, v := range verifiers {
			in := strings.Contains(log, v)
			if redacted && in {
				t.Errorf("verifier %d in the redacted debug log:\n%s", i, log)
			}
			if !redacted && !in {
				t.Errorf("verifier %d is not in the unredacted twin: the check proves nothing", i)
			}
		}
		if !strings.Contains(log, "code_verifier=") {
			t.Errorf("no code_verifier sent:\n%s", log)
		}
	}
}

// debugClient returns a client whose debug log goes to buf, through the
// registry holding secrets when redacted, raw otherwise (the failing twin).
func debugClient(redacted bool, secrets ...string) (*Client, *bytes.Buffer) {
	reg := redact.New()
	reg.Add(secrets...)
	buf := new(bytes.Buffer)
	var debug io.Writer = reg.Writer(buf)
	if !redacted {
		debug = buf
	}
	return New(Options{Timeout: generous, Secrets: reg, Debug: debug}), buf
}
