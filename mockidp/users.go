package mockidp

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// User is a test user who can log in at the mock's login form.
type User struct {
	Username string
	Password string

	Name          string
	GivenName     string
	FamilyName    string
	Nickname      string
	Email         string
	EmailVerified bool
	Locale        string
	UpdatedAt     time.Time
	// Accounts are the account IDs the user permissions (Akoya's accounts
	// claim and data endpoint); stable for the user's sub (seed 002).
	Accounts []string
	// Claims are custom claims released by custom scopes (Next Identity:
	// company_name for ad:user_custom, seed 004).
	Claims map[string]any
	// Tenants the user may get Akkess tokens for (seed 003).
	Tenants []string
}

// Usernames and passwords of the users every mock registers unless
// Options.Users replaces them. The passwords are published test values;
// whoever types them into the login form must register them with the run's
// redactor, like any password.
const (
	UserAlice         = "alice"
	UserAlicePassword = "idpconform-alice-password"
	UserBob           = "bob"
	UserBobPassword   = "idpconform-bob-password"
	// TenantAcme is Alice's and Bob's Akkess tenant; TenantGlobex is
	// Alice's only.
	TenantAcme   = "63c65dee83abd41be9f61108"
	TenantGlobex = "63c65dee83abd41be9f61109"
)

// DefaultUsers returns the users a mock registers by default.
func DefaultUsers() []User {
	updated := time.Date(2025, 3, 30, 15, 13, 40, 0, time.UTC)
	return []User{
		{Username: UserAlice, Password: UserAlicePassword, Name: "Alice Example", GivenName: "Alice", FamilyName: "Example",
			Nickname: "alice", Email: "alice@example.com", EmailVerified: true, Locale: "en-US", UpdatedAt: updated,
			Accounts: []string{"1755209824", "1704739195", "1755093543"},
			Claims:   map[string]any{"company_name": "Bizcorp"},
			Tenants:  []string{TenantAcme, TenantGlobex}},
		{Username: UserBob, Password: UserBobPassword, Name: "Bob Example", GivenName: "Bob", FamilyName: "Example",
			Nickname: "bob", Email: "bob@example.com", EmailVerified: false, Locale: "sv-SE", UpdatedAt: updated,
			Accounts: []string{"1781013604"},
			Claims:   map[string]any{"company_name": "Globex"},
			Tenants:  []string{TenantAcme}},
	}
}

func checkUser(u *User) error {
	if u.Username == "" {
		return fmt.Errorf("user has no username")
	}
	if u.Password == "" {
		return fmt.Errorf("user %q has no password", u.Username)
	}
	u.Accounts = slices.Clone(u.Accounts)
	u.Tenants = slices.Clone(u.Tenants)
	u.Claims = maps.Clone(u.Claims)
	return nil
}
