package target

import (
	"strings"
	"testing"
	"time"
)

func TestAkkessSection(t *testing.T) {
	base := good + "users:\n  - {name: alice, username: alice, password: pw}\n"
	lookup := env(map[string]string{"CC_SECRET": "s"})
	tg, err := Parse("demo.yaml", []byte(base+"akkess:\n  endpoint: /authorization/v1/tokens\n  tenant: t-1\n"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Akkess.Expiry.D() != DefaultAkkessExpiry {
		t.Errorf("default expiry: %s", tg.Akkess.Expiry.D())
	}
	if u, err := tg.Akkess.URL("https://idp.example.com/"); err != nil || u != "https://idp.example.com/authorization/v1/tokens" {
		t.Errorf("URL: %q %v", u, err)
	}
	if _, err := tg.Akkess.URL(""); err == nil {
		t.Error("a path without an issuer resolved")
	}
	abs, err := Parse("demo.yaml", []byte(base+"akkess:\n  endpoint: https://akkess.example.com/authorization/v1/tokens\n  tenant: t-1\n  expiry: 90s\n  user: alice\n"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := abs.Akkess.URL("https://idp.example.com"); u != "https://akkess.example.com/authorization/v1/tokens" || abs.Akkess.Expiry.D() != 90*time.Second {
		t.Errorf("absolute: %q %s", u, abs.Akkess.Expiry.D())
	}
	bad := map[string]string{
		"akkess:\n  tenant: t-1\n":                              "akkess has no endpoint",
		"akkess:\n  endpoint: ftp://x/y\n  tenant: t-1\n":       "akkess.endpoint: \"ftp://x/y\" is not an absolute http(s) URL",
		"akkess:\n  endpoint: /t\n":                             "akkess has no tenant",
		"akkess:\n  endpoint: /t\n  tenant: t\n  expiry: 48h\n": "akkess.expiry: expiry must be between 1s and 24h",
		"akkess:\n  endpoint: /t\n  tenant: t\n  user: bob\n":   `akkess.user: no user named "bob"`,
		"akkess:\n  endpoint: /t\n  tenant: t\n  tennant: t\n":  `did you mean "tenant"`,
	}
	for extra, want := range bad {
		_, err := Parse("demo.yaml", []byte(base+extra), lookup)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", extra, err, want)
		}
	}
}

func TestContractsNamed(t *testing.T) {
	c := Contracts{IDToken: "a", TokenResponse: "b"}
	got := c.Named()
	if len(got) != 2 || got[0].Field != "contracts.id_token" || got[0].Kind != "id_token" || got[1].Kind != "token_response" || got[1].Name != "b" {
		t.Errorf("Named: %+v", got)
	}
	if len((Contracts{}).Named()) != 0 {
		t.Error("empty contracts named some")
	}
}
