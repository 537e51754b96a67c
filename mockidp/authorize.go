package mockidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Lifetimes of the browser-side state.
const (
	// authRequestTTL bounds the time between the authorization request and
	// the last form.
	authRequestTTL = 10 * time.Minute
	// sessionTTL is how long a login is remembered (single sign-on).
	sessionTTL = 8 * time.Hour
)

// The HTML contract a form-filling login driver relies on: the login page
// has <form id="login"> with inputs "username" and "password"; the consent
// page has <form id="consent"> (approve) before <form id="deny">. Every form
// carries the hidden "request" input and must be posted with the cookies the
// mock set, so a driver needs a cookie jar.
var pages = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - idpconform mock IdP</title></head>
<body><main>
<h1>Sign in</h1>
<p>Client <code>{{.ClientID}}</code> asks you to sign in at <code>{{.Issuer}}</code> (idpconform mock, profile {{.Profile}}).</p>
{{if .Error}}<p role="alert" id="error">{{.Error}}</p>{{end}}
<form id="login" method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.Request}}">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username" value="{{.Username}}" required></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>
</main></body></html>
{{define "consent"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Consent - idpconform mock IdP</title></head>
<body><main>
<h1>Allow access?</h1>
<p>Client <code>{{.ClientID}}</code> asks for access to your account <code>{{.Username}}</code> with these scopes:</p>
<ul id="scopes">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form id="consent" method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.Request}}">
<input type="hidden" name="decision" value="approve">
<p><button type="submit">Allow</button></p>
</form>
<form id="deny" method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.Request}}">
<input type="hidden" name="decision" value="deny">
<p><button type="submit">Deny</button></p>
</form>
</main></body></html>{{end}}
{{define "error"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error - idpconform mock IdP</title></head>
<body><main><h1>Authorization error</h1>
<p role="alert" id="error"><code>{{.Code}}</code>: {{.Description}}</p>
</main></body></html>{{end}}
`))

type pageData struct {
	Issuer, Profile, ClientID, Action, Request, Username, Error string
	Scopes                                                      []string
}

func writePage(w http.ResponseWriter, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, data)
}

// errorPage answers a request that must not be redirected: the client or
// redirect URI cannot be trusted (RFC 6749 §4.1.2.1).
func errorPage(w http.ResponseWriter, e *Error) {
	writePage(w, e.Status, "error", e)
}

func (m *IdP) cookieName(kind string) string {
	h := sha256.Sum256([]byte(m.issuer))
	return "idpconform_" + kind + "_" + hex.EncodeToString(h[:4])
}

func (m *IdP) setCookie(w http.ResponseWriter, kind, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: m.cookieName(kind), Value: value, Path: m.prefix + "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(ttl.Seconds()), Secure: strings.HasPrefix(m.issuer, "https:")})
}

func (m *IdP) cookie(r *http.Request, kind string) string {
	c, err := r.Cookie(m.cookieName(kind))
	if err != nil {
		return ""
	}
	return c.Value
}

// redirectTo answers with a redirect to the client, adding params to the
// redirect URI's query (RFC 6749 §4.1.2).
func redirectTo(w http.ResponseWriter, redirectURI string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		errorPage(w, ErrInvalidRequest.WithDescription("redirect_uri is not a URL"))
		return
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Add(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

func (m *IdP) redirectError(w http.ResponseWriter, cfg *config, redirectURI, state string, e *Error) {
	p := url.Values{"error": {e.Code}, "error_description": {e.Description}, "iss": {m.issuer}}
	if !cfg.faults.on(FaultStateDropped) {
		p.Set("state", state)
	}
	redirectTo(w, redirectURI, p)
}

// handleAuthorize is the authorization endpoint (RFC 6749 §4.1.1, OIDC Core
// §3.1.2.1, RFC 7636 §4.3).
func (m *IdP) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		errorPage(w, ErrInvalidRequest.WithDescription("request parameters cannot be parsed"))
		return
	}
	q := r.Form
	for k, vs := range q {
		if len(vs) > 1 {
			// RFC 6749 §3.1: parameters must not be repeated.
			errorPage(w, ErrInvalidRequest.WithDescription("parameter "+k+" repeated"))
			return
		}
	}
	c, ok := m.clients[q.Get("client_id")]
	if !ok {
		errorPage(w, ErrInvalidRequest.WithDescription("unknown or missing client_id"))
		return
	}
	redirectURI, redirectSent := q.Get("redirect_uri"), q.Has("redirect_uri")
	switch {
	case redirectSent && !c.redirectAllowed(redirectURI) && !cfg.faults.on(FaultOpenRedirect):
		errorPage(w, ErrInvalidRequest.WithDescription("redirect_uri is not registered for this client"))
		return
	case !redirectSent && len(c.RedirectURIs) != 1:
		errorPage(w, ErrInvalidRequest.WithDescription("redirect_uri missing and the client has not exactly one registered"))
		return
	case !redirectSent:
		redirectURI = c.RedirectURIs[0]
	}
	state := q.Get("state")
	fail := func(e *Error) { m.redirectError(w, cfg, redirectURI, state, e) }

	switch rt := q.Get("response_type"); {
	case rt == "":
		fail(ErrInvalidRequest.WithDescription("response_type missing"))
		return
	case rt != "code":
		fail(ErrUnsupportedResponseType.WithDescription("only response_type code is supported"))
		return
	}
	if !c.allowsGrant(GrantAuthorizationCode) {
		fail(ErrUnauthorizedClient.WithDescription("client may not use the authorization code grant"))
		return
	}
	scopes, e := grantScopes(q.Get("scope"), c.Scopes)
	if e != nil {
		fail(e)
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		fail(ErrInvalidRequest.WithDescription("code_challenge_method without code_challenge"))
		return
	case challenge == "" && c.RequirePKCE:
		fail(ErrInvalidRequest.WithDescription("code_challenge required (RFC 7636)"))
		return
	case challenge != "":
		if method == "" {
			method = "plain" // RFC 7636 §4.3
		}
		if method != "S256" && method != "plain" {
			fail(ErrInvalidRequest.WithDescription("transform algorithm not supported; use S256 or plain"))
			return
		}
		if !validVerifierSyntax(challenge) {
			fail(ErrInvalidRequest.WithDescription("code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]"))
			return
		}
	}
	prompt := strings.Fields(q.Get("prompt"))
	if slices.Contains(prompt, "none") && len(prompt) > 1 {
		fail(ErrInvalidRequest.WithDescription("prompt none cannot be combined with other values"))
		return
	}
	now := m.clock.now()
	req := &authRequest{id: randomString(24), clientID: c.ID, redirectURI: redirectURI, redirectSent: redirectSent,
		scopes: scopes, state: state, nonce: q.Get("nonce"), challenge: challenge, method: method,
		prompt: q.Get("prompt"), loginHint: q.Get("login_hint"), created: now, expires: now.Add(authRequestTTL)}

	if u, ok := m.users[req.loginHint]; ok && m.autoLogin {
		// Opt-in fast path: the test user named in login_hint is logged in
		// and consents without a form.
		sess := m.newSession(w, u.Username)
		req.username, req.authTime, req.sid = u.Username, sess.authTime, sess.sid
		m.store.consent(u.Username, c.ID, scopes)
		m.store.putRequest(req, now)
		m.finishAuthorization(w, cfg, req.id)
		return
	}
	if sess, ok := m.store.session(m.cookie(r, "session"), now); ok && !slices.Contains(prompt, "login") {
		req.username, req.authTime, req.sid = sess.username, sess.authTime, sess.sid
	}
	if slices.Contains(prompt, "none") {
		switch {
		case req.username == "":
			fail(ErrLoginRequired.WithDescription("no session and prompt=none"))
			return
		case m.needsConsent(c, req):
			fail(ErrConsentRequired.WithDescription("consent needed and prompt=none"))
			return
		}
	}
	m.store.putRequest(req, now)
	m.setCookie(w, "request", req.id, authRequestTTL)
	m.next(w, cfg, c, req)
}

// next moves a request on: to the login form, the consent form, or the
// client with a code.
func (m *IdP) next(w http.ResponseWriter, cfg *config, c *Client, req *authRequest) {
	switch {
	case req.username == "":
		redirectTo(w, m.endpoint(PathLogin), url.Values{"request": {req.id}})
	case m.needsConsent(c, req):
		redirectTo(w, m.endpoint(PathConsent), url.Values{"request": {req.id}})
	default:
		m.finishAuthorization(w, cfg, req.id)
	}
}

func (m *IdP) needsConsent(c *Client, req *authRequest) bool {
	if !c.RequireConsent {
		return false
	}
	return strings.Contains(" "+req.prompt+" ", " consent ") || !m.store.consented(req.username, c.ID, req.scopes)
}

func (m *IdP) newSession(w http.ResponseWriter, username string) *session {
	now := m.clock.now()
	s := &session{id: randomString(24), username: username, authTime: now, sid: newUUID(), expires: now.Add(sessionTTL)}
	m.store.putSession(s)
	m.setCookie(w, "session", s.id, sessionTTL)
	return s
}

// pendingRequest finds the request a login or consent form is about and
// checks that it comes from the browser that started it (the request
// cookie), which is the forms' CSRF protection.
func (m *IdP) pendingRequest(w http.ResponseWriter, r *http.Request, post bool) (authRequest, *Client, bool) {
	id := r.Form.Get("request")
	req, ok := m.store.request(id)
	if !ok || !m.clock.now().Before(req.expires) {
		errorPage(w, ErrInvalidRequest.WithDescription("unknown or expired login request; start again at the client"))
		return authRequest{}, nil, false
	}
	if post && subtle.ConstantTimeCompare([]byte(m.cookie(r, "request")), []byte(id)) != 1 {
		errorPage(w, ErrInvalidRequest.WithDescription("the login request cookie is missing or belongs to another request; the browser must keep cookies"))
		return authRequest{}, nil, false
	}
	return req, m.clients[req.clientID], true
}

// handleLogin shows (GET) and checks (POST) the login form.
func (m *IdP) handleLogin(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		errorPage(w, ErrInvalidRequest.WithDescription("form cannot be parsed"))
		return
	}
	post := r.Method == http.MethodPost
	req, c, ok := m.pendingRequest(w, r, post)
	if !ok {
		return
	}
	data := pageData{Issuer: m.issuer, Profile: m.profile.Name, ClientID: c.ID, Action: m.endpoint(PathLogin), Request: req.id, Username: req.loginHint}
	if !post {
		writePage(w, http.StatusOK, "login", data)
		return
	}
	name, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	u, known := m.users[name]
	if !known || subtle.ConstantTimeCompare([]byte(u.Password), []byte(pw)) != 1 {
		data.Username, data.Error = name, "Invalid username or password."
		writePage(w, http.StatusUnauthorized, "login", data)
		return
	}
	sess := m.newSession(w, u.Username)
	m.store.loginRequest(req.id, u.Username, sess.sid, sess.authTime)
	req.username, req.authTime, req.sid = u.Username, sess.authTime, sess.sid
	m.next(w, cfg, c, &req)
}

// handleConsent shows (GET) and records (POST) the consent form.
func (m *IdP) handleConsent(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		errorPage(w, ErrInvalidRequest.WithDescription("form cannot be parsed"))
		return
	}
	post := r.Method == http.MethodPost
	req, c, ok := m.pendingRequest(w, r, post)
	if !ok {
		return
	}
	if req.username == "" {
		errorPage(w, ErrInvalidRequest.WithDescription("consent before login"))
		return
	}
	if !post {
		writePage(w, http.StatusOK, "consent", pageData{ClientID: c.ID, Action: m.endpoint(PathConsent), Request: req.id, Username: req.username, Scopes: req.scopes})
		return
	}
	switch r.PostForm.Get("decision") {
	case "approve":
		m.store.consent(req.username, c.ID, req.scopes)
		m.finishAuthorization(w, cfg, req.id)
	case "deny":
		if _, ok := m.store.finishRequest(req.id); ok {
			m.redirectError(w, cfg, req.redirectURI, req.state, ErrAccessDenied.WithDescription("the user denied the request"))
		}
	default:
		errorPage(w, ErrInvalidRequest.WithDescription("decision must be approve or deny"))
	}
}

// finishAuthorization issues the code and sends the browser back to the
// client (RFC 6749 §4.1.2; the iss parameter of RFC 9207). A request is
// answered once: a second submission of the same form finds nothing.
func (m *IdP) finishAuthorization(w http.ResponseWriter, cfg *config, id string) {
	req, ok := m.store.finishRequest(id)
	if !ok {
		errorPage(w, ErrInvalidRequest.WithDescription("this login request has already been answered"))
		return
	}
	now := m.clock.now()
	code := m.newOpaque(cfg)
	m.store.putCode(code, &authCode{clientID: req.clientID, redirectURI: req.redirectURI, redirectSent: req.redirectSent,
		challenge: req.challenge, method: req.method, scopes: req.scopes, nonce: req.nonce, username: req.username,
		authTime: req.authTime, rat: req.created, sid: req.sid, expires: now.Add(CodeTTL)}, now)
	p := url.Values{"code": {code}, "iss": {m.issuer}}
	if !cfg.faults.on(FaultStateDropped) {
		p.Set("state", req.state)
	}
	redirectTo(w, req.redirectURI, p)
}

// validVerifierSyntax checks RFC 7636 §4.1's code_verifier (and §4.2's
// challenge) syntax: 43 to 128 unreserved characters.
func validVerifierSyntax(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !isUnreserved(r) {
			return false
		}
	}
	return true
}

// isUnreserved reports whether r is an RFC 3986 §2.3 unreserved character.
func isUnreserved(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return true
	default:
		return r == '-' || r == '.' || r == '_' || r == '~'
	}
}
