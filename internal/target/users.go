package target

import "slices"

// User is a test user the suites log in as, headlessly.
type User struct {
	// Name identifies the user inside this config and in reports.
	Name string `yaml:"name"`
	// Username is typed into the login form.
	Username string `yaml:"username"`
	// Password is typed into the login form, normally "${ENV_VAR}".
	Password Secret `yaml:"password"`
}

// Login says how the suites complete an authorization request.
type Login struct {
	// Driver is "form" (default): plain HTTP with a cookie jar, filling the
	// IdP's server-rendered login and consent forms; "browser": a real
	// headless Chromium, for login pages that need JavaScript; or "mock":
	// the bundled mock's auto-login (login_hint names the user, no form),
	// which needs the mock started with auto-login.
	Driver string `yaml:"driver"`
	// BrowserPath is the Chromium binary of the browser driver; default:
	// chromium on PATH.
	BrowserPath string `yaml:"browser_path"`
	// Params are added to every authorization request, e.g. the bundled
	// mock's opt-in auto-login parameter, or a tenant hint a real IdP needs.
	Params map[string]string `yaml:"params"`
}

// Login drivers.
const (
	DriverForm    = "form"
	DriverBrowser = "browser"
	DriverMock    = "mock"
)

var loginDrivers = []string{DriverForm, DriverBrowser, DriverMock}

// Rotation is a refresh token rotation policy an IdP may declare.
type Rotation string

const (
	// RotationNone: the same refresh token is used again and again.
	RotationNone Rotation = "none"
	// RotationRotate: every refresh returns a new refresh token and the old
	// one stops working.
	RotationRotate Rotation = "rotate"
	// RotationReuseDetection: as rotate, and presenting a used refresh token
	// revokes the whole family (the tokens issued from it too).
	RotationReuseDetection Rotation = "rotate-reuse-detection"
	// RotationGrace: as rotate, but the old token keeps working for a grace
	// period (Grace).
	RotationGrace Rotation = "rotate-grace"
)

var rotations = []Rotation{RotationNone, RotationRotate, RotationReuseDetection, RotationGrace}

// RefreshPolicy is what a client's IdP declares about refresh tokens; the
// refresh specs check that the IdP does what it declares.
type RefreshPolicy struct {
	Rotation Rotation `yaml:"rotation"`
	// Grace is the reuse window of rotate-grace.
	Grace Duration `yaml:"grace"`
	// RejectError is the OAuth error code for a used, expired or foreign
	// refresh token: invalid_grant by RFC 6749 §5.2; Akoya documents
	// invalid_request.
	RejectError string `yaml:"reject_error"`
}

// DefaultRefreshRejectError is RFC 6749 §5.2's code for a bad refresh token.
const DefaultRefreshRejectError = "invalid_grant"

// User returns the named user, or the first user when name is "".
func (t *Target) User(name string) (User, bool) {
	for _, u := range t.Users {
		if name == "" || u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// ValidRotation reports whether r is a known rotation policy.
func ValidRotation(r Rotation) bool { return slices.Contains(rotations, r) }
