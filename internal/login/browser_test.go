package login

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/redact"
)

// jsLogin renders its login form from JavaScript: a plain form scraper
// finds nothing, a browser finds the form.
const jsLogin = `<!doctype html><html><body><p>%s</p><div id="app"></div><script>
setTimeout(() => {
  document.getElementById("app").innerHTML =
    '<form method="POST" action=""><input type="hidden" name="csrf" value="tok">' +
    '<input name="username"><input type="password" name="password"><button type="submit">Sign in</button></form>';
}, 50);
</script></body></html>`

func browserOrSkip(t *testing.T) string {
	t.Helper()
	p, err := FindChromium()
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("IDPCONFORM_REQUIRE_BROWSER") != "" {
			t.Fatalf("browser required in CI: %v", err)
		}
		t.Skipf("%v", err)
	}
	return p
}

func TestBrowserLogin(t *testing.T) {
	path := browserOrSkip(t)
	reg := redact.New()
	b := &Browser{ExecPath: path, Secrets: reg, Timeout: 60 * time.Second}
	ctx := context.Background()

	srv := httptest.NewServer(&pageIdP{password: "pw-browser-1", consent: true, loginPage: jsLogin})
	defer srv.Close()

	// The form driver cannot log in on a page rendered by JavaScript...
	if _, err := driver(nil, nil).Login(ctx, srv.URL+"/authorize?state=s9", redirectURI, User{Username: "alice", Password: "pw-browser-1"}); !errors.Is(err, ErrNoForm) {
		t.Fatalf("form driver on a JavaScript page: %v", err)
	}
	// ...the browser can, through consent, and stops at the redirect URI.
	loc, err := b.Login(ctx, srv.URL+"/authorize?state=s9", redirectURI, User{Username: "alice", Password: "pw-browser-1"})
	if err != nil {
		t.Fatalf("browser login: %v", err)
	}
	u, _ := url.Parse(loc)
	if u.Query().Get("code") != "code-456" || u.Query().Get("state") != "s9" {
		t.Errorf("callback %s", loc)
	}
	if reg.String("code-456 pw-browser-1") != redact.Marker+" "+redact.Marker {
		t.Error("code or password not registered")
	}

	// A wrong password shows the form again: rejected, not looping.
	_, err = b.Login(ctx, srv.URL+"/authorize?state=s9", redirectURI, User{Username: "alice", Password: "wrong"})
	if !errors.Is(err, ErrRejected) {
		t.Errorf("wrong password: %v", err)
	}
}
