package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/idpconform/idpconform/internal/oauth"
)

// Browser logs in with a real headless Chromium, for login pages that need
// JavaScript. It drives Debian's chromium (or the ExecPath given) over the
// DevTools protocol, fills the login form and approves consent with the same
// rules as Form, and intercepts the navigation to the redirect URI so that
// the client's callback is never loaded.
type Browser struct {
	// ExecPath is the browser binary; default: chromium on PATH.
	ExecPath string
	// Secrets learns the user's password and the code in the callback.
	Secrets oauth.Registrar
	// Timeout bounds one login; default 60s.
	Timeout time.Duration
}

// ErrNoBrowser is returned when no Chromium binary can be found.
var ErrNoBrowser = errors.New("no Chromium browser found (install Debian's chromium package, or set login.browser_path)")

// FindChromium returns the path of a Chromium binary on PATH.
func FindChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Login implements Driver.
func (b *Browser) Login(ctx context.Context, authURL, redirectURI string, u User) (string, error) {
	if b.Secrets != nil && u.Password != "" {
		b.Secrets.Add(u.Password)
	}
	path := b.ExecPath
	if path == "" {
		p, err := FindChromium()
		if err != nil {
			return "", fmt.Errorf("login: %w", err)
		}
		path = p
	}
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	dir, err := os.MkdirTemp("", "idpconform-chromium-")
	if err != nil {
		return "", fmt.Errorf("login: profile dir: %w", err)
	}
	defer os.RemoveAll(dir)

	// The flags keep a headless browser off the network except for the IdP:
	// no background fetches, no component updates, a fresh profile.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	cb := &callback{}
	paused := chromedp.Events(bctx, fetch.RequestPaused)
	pattern := strings.TrimSuffix(redirectURI, "*") + "*"
	if _, err := chromedp.Call(bctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		return "", fmt.Errorf("login: start %s: %w", path, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev, err := range paused {
			if err != nil {
				return
			}
			if isRedirectURIString(ev.Request.URL, redirectURI) {
				cb.set(ev.Request.URL)
			}
			// The callback is answered here, never by the client's server.
			_, _ = chromedp.Call(bctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: 200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/plain"}},
				Body:            []byte("idpconform: callback captured"),
			})
		}
	}()
	defer wg.Wait()
	defer cancelBrowser()

	lctx, cancel := context.WithTimeout(bctx, timeout)
	defer cancel()
	if err := chromedp.Do(lctx, chromedp.Navigate(authURL)); err != nil && !cb.done() {
		return "", fmt.Errorf("login: open the authorization URL: %w", err)
	}
	script, err := stepScript(u)
	if err != nil {
		return "", err
	}
	sentCredentials := false
	idle := 0
	for step := 0; step < MaxSteps; {
		if loc := cb.get(); loc != "" {
			b.learn(loc)
			return loc, nil
		}
		res, err := chromedp.Run(lctx, chromedp.Evaluate[stepResult](script))
		if err != nil {
			if loc := cb.get(); loc != "" {
				b.learn(loc)
				return loc, nil
			}
			return "", fmt.Errorf("login: page script: %w", err)
		}
		switch res.Action {
		case "login":
			if sentCredentials {
				return "", fmt.Errorf("login at %s: %w", res.URL, ErrRejected)
			}
			sentCredentials = true
		case "consent":
		default:
			// A page may still be rendering its form: look again shortly,
			// for up to three seconds.
			if idle++; idle > 15 {
				return "", fmt.Errorf("login at %s: %w", res.URL, ErrNoForm)
			}
			select {
			case <-lctx.Done():
				return "", fmt.Errorf("login at %s: %w", res.URL, lctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		idle = 0
		step++
		if err := waitChange(lctx, cb); err != nil {
			return "", fmt.Errorf("login at %s: %w", res.URL, err)
		}
	}
	return "", fmt.Errorf("login: %w in %d steps", ErrTooManySteps, MaxSteps)
}

func (b *Browser) learn(loc string) {
	if b.Secrets == nil {
		return
	}
	if cb, err := oauth.New(oauth.Options{Secrets: b.Secrets}).ParseCallback(loc); err == nil && cb.Code != "" {
		b.Secrets.Add(cb.Code)
	}
}

type callback struct {
	mu  sync.Mutex
	url string
}

func (c *callback) set(u string) {
	c.mu.Lock()
	if c.url == "" {
		c.url = u
	}
	c.mu.Unlock()
}

func (c *callback) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.url
}

func (c *callback) done() bool { return c.get() != "" }

type stepResult struct {
	Action string `json:"action"`
	URL    string `json:"url"`
}

// waitChange polls until the page has moved on (a new document, or the
// callback captured), for at most ten seconds.
func waitChange(ctx context.Context, cb *callback) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cb.done() {
			return nil
		}
		// The step script marks the document it acted on; a loaded document
		// without the mark is the next page, even at the same URL.
		moved, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && !window.__idpconformActed`))
		if err == nil && moved {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	// No new document after ten seconds: a page that re-rendered in place
	// (a single-page login); the next step looks again.
	return nil
}

// stepScript is the JavaScript that performs one step on the current page:
// fill and submit a login form, or approve (or deny) consent. It reports
// what it did. The credentials are embedded as JSON literals.
func stepScript(u User) (string, error) {
	creds, err := json.Marshal(map[string]any{"username": u.Username, "password": u.Password, "deny": u.Deny})
	if err != nil {
		return "", err
	}
	return `(() => {
  const c = ` + string(creds) + `;
  const here = location.href;
  if (document.readyState !== "complete") return {action: "wait", url: here};
  const set = (el, v) => {
    const proto = Object.getPrototypeOf(el);
    const desc = Object.getOwnPropertyDescriptor(proto, "value");
    if (desc && desc.set) desc.set.call(el, v); else el.value = v;
    el.dispatchEvent(new Event("input", {bubbles: true}));
    el.dispatchEvent(new Event("change", {bubbles: true}));
  };
  const submit = (form, btn) => {
    if (btn) { btn.click(); return; }
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  };
  const pw = document.querySelector("input[type=password]");
  if (pw) {
    const form = pw.form || document;
    const inputs = Array.from(form.querySelectorAll("input"));
    const named = /^(username|user|login|email|user_?name|identifier|uname|j_username)$/i;
    let user = inputs.find(i => named.test(i.name || i.id || ""));
    if (!user) user = inputs.find(i => ["text", "email", ""].includes((i.getAttribute("type") || "").toLowerCase()));
    if (!user) return {action: "none", url: here};
    set(user, c.username);
    set(pw, c.password);
    const btn = form.querySelector("button[type=submit], input[type=submit], button:not([type])");
    window.__idpconformActed = true;
    submit(pw.form || form, btn);
    return {action: "login", url: here};
  }
  const words = c.deny ? /\b(deny|reject|cancel|decline|no)\b/i : /\b(allow|approve|accept|authori[sz]e|consent|continue|yes|grant|confirm)\b/i;
  const buttons = Array.from(document.querySelectorAll("button, input[type=submit]"));
  const btn = buttons.find(b => words.test(b.value || "") || words.test(b.name || "") || words.test(b.textContent || ""));
  if (btn) { window.__idpconformActed = true; btn.click(); return {action: "consent", url: here}; }
  return {action: "none", url: here};
})()`, nil
}

// isRedirectURIString is isRedirectURI for a raw URL.
func isRedirectURIString(raw, redirectURI string) bool {
	u, err := parseURL(raw)
	if err != nil {
		return false
	}
	return isRedirectURI(u, redirectURI)
}
