package mockidp_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/net/html"

	"github.com/idpconform/idpconform/mockidp"
)

// rsaKey is generated once: a fresh 2048-bit key per mock would make the
// suite spend most of its time in key generation.
var rsaKey = sync.OnceValue(func() crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err) // test setup only
	}
	return k
})

// harness is one mock on loopback and a client that does not follow
// redirects.
type harness struct {
	t   *testing.T
	srv *mockidp.Server
	c   *http.Client
	// as is the client introspect authenticates as; default ccBasic.
	as creds
}

func start(t *testing.T, o mockidp.Options) *harness {
	t.Helper()
	if o.SigningKey == nil && o.SigningAlg == "" {
		o.SigningKey = rsaKey()
	}
	srv, err := mockidp.NewServer("", o)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	h := &harness{t: t, srv: srv, c: srv.Client(), as: ccBasic}
	t.Cleanup(func() {
		h.c.CloseIdleConnections()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// resp is an HTTP response read in full.
type resp struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r *resp) str(k string) string {
	s, _ := r.json[k].(string)
	return s
}

func (h *harness) do(req *http.Request) *resp {
	h.t.Helper()
	res, err := h.c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	out := &resp{status: res.StatusCode, header: res.Header, body: body}
	_ = json.Unmarshal(body, &out.json)
	return out
}

// client credentials of one client for a request.
type creds struct {
	id, secret, method string
}

var (
	ccBasic = creds{mockidp.ClientCC, mockidp.ClientCCSecret, "basic"}
	ccPost  = creds{mockidp.ClientCCPost, mockidp.ClientCCPostSecret, "post"}
	code    = creds{mockidp.ClientCode, mockidp.ClientCodeSecret, "basic"}
)

// post sends a form to path (relative to the issuer iss, or the root).
func (h *harness) post(path string, cr creds, form url.Values) *resp {
	h.t.Helper()
	return h.postTo(h.srv.URL+path, cr, form)
}

func (h *harness) postTo(u string, cr creds, form url.Values) *resp {
	h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	switch cr.method {
	case "post":
		form.Set("client_id", cr.id)
		form.Set("client_secret", cr.secret)
	case "none":
		form.Set("client_id", cr.id)
	}
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cr.method == "basic" {
		req.SetBasicAuth(url.QueryEscape(cr.id), url.QueryEscape(cr.secret))
	}
	return h.do(req)
}

func (h *harness) get(path string, header http.Header) *resp {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return h.do(req)
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// cc performs the client credentials grant and fails unless it succeeds.
func (h *harness) cc(cr creds, scope string) *resp {
	h.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	r := h.post(mockidp.PathToken, cr, form)
	if r.status != http.StatusOK {
		h.t.Fatalf("client credentials for %s: HTTP %d %s", cr.id, r.status, r.body)
	}
	return r
}

// jwt is a verified token.
type jwt struct {
	header map[string]any
	claims map[string]any
	order  []string // claim names in payload order
}

// verify checks tok's signature against the JWKS the mock serves over HTTP,
// with go-jose directly (not the project's verifier), and decodes it.
func (h *harness) verify(tok string) (*jwt, error) {
	return h.verifyAt(h.srv.URL, tok)
}

func (h *harness) verifyAt(issuer, tok string) (*jwt, error) {
	h.t.Helper()
	res := h.getURL(issuer + mockidp.PathJWKS)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(res.body, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.ES384, jose.EdDSA}
	jws, err := jose.ParseSignedCompact(tok, algs)
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) == 0 {
		return nil, fmt.Errorf("kid %q not in the JWKS", kid)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		return nil, err
	}
	return decodeJWT(tok, payload)
}

func (h *harness) getURL(u string) *resp {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(req)
}

// mustVerify verifies tok and fails the test if it does not verify.
func (h *harness) mustVerify(tok string) *jwt {
	h.t.Helper()
	j, err := h.verify(tok)
	if err != nil {
		h.t.Fatalf("token does not verify: %v", err)
	}
	return j
}

// decodeJWT decodes a token without verifying it (for faulty tokens).
func decodeJWT(tok string, payload []byte) (*jwt, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%d parts", len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, err
	}
	if payload == nil {
		if payload, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
			return nil, err
		}
	}
	j := &jwt{}
	if err := json.Unmarshal(hb, &j.header); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(payload, &j.claims); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		j.order = append(j.order, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return j, nil
}

func unverified(t *testing.T, tok string) *jwt {
	t.Helper()
	j, err := decodeJWT(tok, nil)
	if err != nil {
		t.Fatalf("decode %q: %v", tok, err)
	}
	return j
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// browser is a cookie jar and a client that stops at every redirect: the
// form-filling login driver the mock's HTML contract is written for.
type browser struct {
	t   *testing.T
	c   *http.Client
	jar http.CookieJar
}

func (h *harness) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	h.t.Cleanup(c.CloseIdleConnections)
	return &browser{t: h.t, c: c, jar: jar}
}

func (b *browser) fetch(method, u string, form url.Values) *resp {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, req.URL.Path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return &resp{status: res.StatusCode, header: res.Header, body: data}
}

// form is an HTML form found on a page.
type form struct {
	id, action, method string
	fields             url.Values
}

// forms parses every <form> of a page with its inputs.
func forms(t *testing.T, page []byte) []form {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	var out []form
	var walk func(n *html.Node, cur *form)
	walk = func(n *html.Node, cur *form) {
		if n.Type == html.ElementNode && n.Data == "form" {
			f := form{fields: url.Values{}}
			for _, a := range n.Attr {
				switch a.Key {
				case "id":
					f.id = a.Val
				case "action":
					f.action = a.Val
				case "method":
					f.method = strings.ToUpper(a.Val)
				}
			}
			out = append(out, f)
			cur = &out[len(out)-1]
		}
		if n.Type == html.ElementNode && n.Data == "input" && cur != nil {
			var name, value string
			for _, a := range n.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "value":
					value = a.Val
				}
			}
			if name != "" {
				cur.fields.Set(name, value)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, cur)
		}
	}
	walk(doc, nil)
	return out
}

func findForm(t *testing.T, page []byte, id string) form {
	t.Helper()
	for _, f := range forms(t, page) {
		if f.id == id {
			return f
		}
	}
	t.Fatalf("no form %q on page:\n%s", id, page)
	return form{}
}

// authorizeURL builds an authorization request URL.
func (h *harness) authorizeURL(clientID string, params url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {mockidp.DefaultRedirectURI},
		"scope": {"openid profile email"}, "state": {"st-" + randomHex(4)}, "nonce": {"n-" + randomHex(4)}}
	for k, v := range params {
		if len(v) == 1 && v[0] == "" {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	return h.srv.URL + mockidp.PathAuthorize + "?" + q.Encode()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// login walks the authorization flow as a browser: authorize, the login
// form, the consent form if shown (approving), until the redirect to the
// client. It returns the redirect's query.
func (b *browser) login(authorizeURL, user, password string) url.Values {
	b.t.Helper()
	r := b.fetch(http.MethodGet, authorizeURL, nil)
	for range 10 {
		switch r.status {
		case http.StatusFound:
			loc := r.header.Get("Location")
			if strings.HasPrefix(loc, "http://127.0.0.1/callback") {
				u, err := url.Parse(loc)
				if err != nil {
					b.t.Fatal(err)
				}
				return u.Query()
			}
			r = b.fetch(http.MethodGet, loc, nil)
		case http.StatusOK:
			fs := forms(b.t, r.body)
			if len(fs) == 0 {
				b.t.Fatalf("page without a form:\n%s", r.body)
			}
			f := fs[0]
			if f.id == "login" {
				f.fields.Set("username", user)
				f.fields.Set("password", password)
			}
			r = b.fetch(f.method, f.action, f.fields)
		default:
			b.t.Fatalf("login flow: HTTP %d\n%s", r.status, r.body)
		}
	}
	b.t.Fatal("login flow did not end in 10 steps")
	return nil
}

// tokens is a token response of a user authorization.
type tokens struct {
	access, refresh, id string
	r                   *resp
}

func tokensOf(r *resp) tokens {
	return tokens{access: r.str("access_token"), refresh: r.str("refresh_token"), id: r.str("id_token"), r: r}
}

// codeFlow runs the whole authorization code flow with PKCE S256 for cr
// and alice, and returns the token response.
func (h *harness) codeFlow(cr creds, extra url.Values) tokens {
	h.t.Helper()
	verifier, challenge := pkce()
	params := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		params[k] = v
	}
	q := h.browser().login(h.authorizeURL(cr.id, params), mockidp.UserAlice, mockidp.UserAlicePassword)
	if q.Get("code") == "" {
		h.t.Fatalf("no code in redirect: %v", q)
	}
	r := h.post(mockidp.PathToken, cr, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {mockidp.DefaultRedirectURI}, "code_verifier": {verifier}})
	if r.status != http.StatusOK {
		h.t.Fatalf("code exchange: HTTP %d %s", r.status, r.body)
	}
	return tokensOf(r)
}

// refresh uses a refresh token.
func (h *harness) refresh(cr creds, rt string) *resp {
	h.t.Helper()
	return h.post(mockidp.PathToken, cr, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// introspect asks about a token as ccBasic.
func (h *harness) introspect(tok string) *resp {
	h.t.Helper()
	r := h.post(mockidp.PathIntrospect, h.as, url.Values{"token": {tok}})
	if r.status != http.StatusOK {
		h.t.Fatalf("introspect: HTTP %d %s", r.status, r.body)
	}
	return r
}

func readFixtureKey(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "fixtures", "keys", name))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// atHashOf is OIDC Core's at_hash for an RS256 or ES256 token.
func atHashOf(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
