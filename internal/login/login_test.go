package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const redirectURI = "http://127.0.0.1:1/cb"

// pageIdP is a small IdP front end: /authorize redirects to /login, which
// sets a session cookie on a correct password and shows consent; /consent
// redirects to the redirect URI with a code.
type pageIdP struct {
	password    string
	consent     bool
	loginPage   string // override of the login form HTML
	consentPage string
}

func (p *pageIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/authorize":
		http.Redirect(w, r, "/login?state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
	case "/login":
		if r.Method == http.MethodPost {
			_ = r.ParseForm()
			if r.PostForm.Get("username") != "alice" || r.PostForm.Get("password") != p.password || r.PostForm.Get("csrf") != "tok" {
				p.writeLogin(w, "wrong password")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "session-1", Path: "/"})
			if p.consent {
				http.Redirect(w, r, "/consent?state="+r.URL.Query().Get("state"), http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, redirectURI+"?code=code-123&state="+r.URL.Query().Get("state"), http.StatusFound)
			return
		}
		p.writeLogin(w, "")
	case "/consent":
		if c, err := r.Cookie("sid"); err != nil || c.Value != "session-1" {
			http.Error(w, "no session", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			_ = r.ParseForm()
			if r.PostForm.Get("decision") == "deny" {
				http.Redirect(w, r, redirectURI+"?error=access_denied&state="+r.URL.Query().Get("state"), http.StatusFound)
				return
			}
			http.Redirect(w, r, redirectURI+"?code=code-456&state="+r.URL.Query().Get("state"), http.StatusFound)
			return
		}
		page := p.consentPage
		if page == "" {
			page = `<html><body><form method="post"><input type="hidden" name="scope" value="openid">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="allow">Allow access</button></form></body></html>`
		}
		fmt.Fprint(w, page)
	case "/loop":
		http.Redirect(w, r, "/loop", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

func (p *pageIdP) writeLogin(w http.ResponseWriter, msg string) {
	page := p.loginPage
	if page == "" {
		page = `<!doctype html><html><body><p>%s</p>
<form method="POST" action="">
  <input type="hidden" name="csrf" value="tok">
  <label>User <input type="text" name="username"></label>
  <label>Password <input type="password" name="password"></label>
  <input type="checkbox" name="remember"><select name="lang"><option value="en">English</option></select>
  <input type="submit" value="Sign in">
</form></body></html>`
	}
	fmt.Fprintf(w, page, msg)
}

func driver(reg *redact.Registry, rec *oauth.Recorder) *Form {
	return &Form{Client: oauth.New(oauth.Options{Timeout: 5 * time.Second, Secrets: reg, Recorder: rec})}
}

func TestFormLogin(t *testing.T) {
	for _, consent := range []bool{false, true} {
		srv := httptest.NewServer(&pageIdP{password: "pw-correct-horse", consent: consent})
		reg, rec := redact.New(), oauth.NewRecorder()
		loc, err := driver(reg, rec).Login(context.Background(), srv.URL+"/authorize?state=s1", redirectURI, User{Username: "alice", Password: "pw-correct-horse"})
		srv.Close()
		if err != nil {
			t.Fatalf("consent=%v: %v", consent, err)
		}
		u, _ := url.Parse(loc)
		want := "code-123"
		if consent {
			want = "code-456"
		}
		if u.Query().Get("code") != want || u.Query().Get("state") != "s1" {
			t.Errorf("consent=%v: callback %s", consent, loc)
		}
		if reg.String("pw-correct-horse") != redact.Marker {
			t.Error("password not registered with the redactor")
		}
		var dump strings.Builder
		_ = rec.Dump(reg.Writer(&dump))
		if strings.Contains(dump.String(), "pw-correct-horse") || !strings.Contains(dump.String(), "password=") {
			t.Errorf("recorded login leaks or lacks the form post:\n%s", dump.String())
		}
	}
}

func TestFormLoginDeny(t *testing.T) {
	srv := httptest.NewServer(&pageIdP{password: "pw", consent: true})
	defer srv.Close()
	loc, err := driver(nil, nil).Login(context.Background(), srv.URL+"/authorize?state=s2", redirectURI, User{Username: "alice", Password: "pw", Deny: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loc, "error=access_denied") {
		t.Errorf("deny: %s", loc)
	}
}

func TestFormLoginFailures(t *testing.T) {
	cases := []struct {
		name string
		idp  *pageIdP
		path string
		want error
	}{
		{"wrong password", &pageIdP{password: "right"}, "/authorize", ErrRejected},
		{"redirect loop", &pageIdP{}, "/loop", ErrRedirectLoop},
		{"no form", &pageIdP{password: "pw", loginPage: "<html><body>%s maintenance</body></html>"}, "/authorize", ErrNoForm},
		{"ambiguous consent", &pageIdP{password: "pw", consent: true,
			consentPage: `<form method="post"><button name="a" value="Option A">A</button><button name="b" value="Option B">B</button></form>`}, "/authorize", ErrNoForm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.idp)
			defer srv.Close()
			_, err := driver(nil, nil).Login(context.Background(), srv.URL+c.path, redirectURI, User{Username: "alice", Password: "pw"})
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
	// An HTTP error page stops the login with the status.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := driver(nil, nil).Login(context.Background(), srv.URL+"/x", redirectURI, User{}); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("404: %v", err)
	}
}

// A page with no form says which driver it needs when it runs scripts,
// and only then.
func TestNoFormHintsAtBrowser(t *testing.T) {
	scripted := `<html><body><main id="app"></main><script>render()</script></body></html>`
	_, _, err := nextRequest(mustURL("http://idp/login"), []byte(scripted), User{}, false)
	if !errors.Is(err, ErrNoForm) || !strings.Contains(err.Error(), "login.driver: browser") {
		t.Errorf("scripted page: %v", err)
	}
	plain := `<html><body>down for maintenance</body></html>`
	_, _, err = nextRequest(mustURL("http://idp/login"), []byte(plain), User{}, false)
	if !errors.Is(err, ErrNoForm) || strings.Contains(err.Error(), "browser") {
		t.Errorf("plain page: %v", err)
	}
}

func TestParseForms(t *testing.T) {
	page := `<form action="/a" method="get"><input name="q" value="1"><input name="d" value="x" disabled>
<input type="radio" name="r" value="1"><input type="radio" name="r" value="2" checked>
<select name="s"><option>one</option><option selected value="two">Two</option></select>
<textarea name="t">hello</textarea><input type="submit" name="go" value="Continue"></form>`
	fs, err := parseForms([]byte(page))
	if err != nil || len(fs) != 1 {
		t.Fatalf("%v %v", fs, err)
	}
	got := map[string]string{}
	for _, f := range fs[0].fields {
		got[f.name] = f.value
	}
	want := map[string]string{"q": "1", "r": "2", "s": "two", "t": "hello"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all %v)", k, got[k], v, got)
		}
	}
	if _, ok := got["d"]; ok {
		t.Error("disabled input submitted")
	}
	req, _, err := nextRequest(mustURL("http://idp/x"), []byte(page), User{}, false)
	if err != nil || req.Method != http.MethodGet || req.URL.Query().Get("go") != "Continue" || req.URL.Path != "/a" {
		t.Errorf("GET form: %v %v", req.URL, err)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func FuzzParseForms(f *testing.F) {
	f.Add([]byte(`<form><input type=password name=p><input name=u></form>`))
	f.Add([]byte(`<form><select name=s><option selected>`))
	f.Fuzz(func(t *testing.T, page []byte) {
		_, _, _ = nextRequest(mustURL("http://idp/"), page, User{Username: "u", Password: "p"}, false)
	})
}
