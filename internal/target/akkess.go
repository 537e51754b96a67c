package target

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/yamlfile"
)

// Akkess describes an Akkess-style token exchange (seed 003): a user's IdP
// access token is posted as a bearer to an endpoint that answers a signed
// "t1" JWT for a tenant. Baselines and diffs capture those tokens and judge
// them by contracts.akkess_t1.
type Akkess struct {
	// Endpoint is the token-issuing URL, or a path ("/authorization/v1/tokens")
	// resolved against the issuer (the embedded mock's issuer is only known
	// once it runs).
	Endpoint string `yaml:"endpoint"`
	// Tenant is the tenantId asked for; the user must be allowed to act in it.
	Tenant string `yaml:"tenant"`
	// Expiry is the expiryInSecs asked for, which the token's exp - iat must
	// equal; default 5m.
	Expiry Duration `yaml:"expiry"`
	// User is the test user whose token is exchanged; default the first.
	User string `yaml:"user"`
}

// DefaultAkkessExpiry is the lifetime asked of an Akkess token when the
// target names none.
const DefaultAkkessExpiry = 5 * time.Minute

// URL resolves the endpoint against issuer.
func (a *Akkess) URL(issuer string) (string, error) {
	if strings.HasPrefix(a.Endpoint, "/") {
		if issuer == "" {
			return "", fmt.Errorf("akkess.endpoint %q is a path, but the target has no issuer to resolve it against", a.Endpoint)
		}
		return strings.TrimSuffix(issuer, "/") + a.Endpoint, nil
	}
	return a.Endpoint, nil
}

func validateAkkess(t *Target) []yamlfile.Problem {
	a := t.Akkess
	if a == nil {
		return nil
	}
	var ps []yamlfile.Problem
	switch {
	case a.Endpoint == "":
		ps = append(ps, yamlfile.Errorf("$.akkess", "akkess has no endpoint (a URL, or a path such as /authorization/v1/tokens)"))
	case strings.HasPrefix(a.Endpoint, "/"):
		if _, err := url.Parse(a.Endpoint); err != nil {
			ps = append(ps, yamlfile.Errorf("$.akkess.endpoint", "%q is not a URL path: %v", a.Endpoint, err))
		}
	default:
		if msg := checkURL(a.Endpoint); msg != "" {
			ps = append(ps, yamlfile.Errorf("$.akkess.endpoint", "%s", msg))
		}
	}
	if strings.TrimSpace(a.Tenant) == "" {
		ps = append(ps, yamlfile.Errorf("$.akkess", "akkess has no tenant (the tenantId to ask a token for)"))
	}
	if a.Expiry < 0 || a.Expiry.D() > 24*time.Hour || (a.Expiry != 0 && a.Expiry.D() < time.Second) {
		ps = append(ps, yamlfile.Errorf("$.akkess.expiry", "expiry must be between 1s and 24h (Akkess expiryInSecs), got %s", a.Expiry.D()))
	}
	if a.User != "" {
		if _, ok := t.User(a.User); !ok {
			ps = append(ps, yamlfile.Errorf("$.akkess.user", "no user named %q under users", a.User))
		}
	} else if len(t.Users) == 0 {
		ps = append(ps, yamlfile.Errorf("$.akkess", "akkess exchanges a user's token, but the target has no users"))
	}
	return ps
}
