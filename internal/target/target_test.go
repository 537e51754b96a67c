package target

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpconform/idpconform/internal/yamlfile"
	"github.com/idpconform/idpconform/mockidp"
)

func env(m map[string]string) LookupFunc {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const good = `name: demo
issuer: https://idp.example.com
capabilities: [discovery, client_credentials]
clients:
  - name: cc
    id: my-client
    secret: ${CC_SECRET}
    grants: [client_credentials]
    access_token_ttl: 30m
`

func TestParseGood(t *testing.T) {
	tg, err := Parse("demo.yaml", []byte(good), env(map[string]string{"CC_SECRET": "s3cret-value"}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	c, ok := tg.ClientFor(GrantClientCredentials)
	if !ok {
		t.Fatal("no client_credentials client")
	}
	if got := c.Secret.Reveal(); got != "s3cret-value" {
		t.Errorf("secret: got %q", got)
	}
	if c.AuthMethod != ClientSecretBasic {
		t.Errorf("default auth method: got %q", c.AuthMethod)
	}
	if c.AccessTokenTTL.D() != 30*time.Minute {
		t.Errorf("ttl: got %s", c.AccessTokenTTL.D())
	}
	if tg.ClockSkew.D() != DefaultClockSkew || tg.RequestTimeout.D() != DefaultRequestTimeout {
		t.Errorf("defaults not applied: %+v", tg)
	}
	if !tg.Has(CapDiscovery) || tg.Has(CapIntrospection) {
		t.Errorf("capabilities: %v", tg.Capabilities)
	}
	if got := tg.Secrets(); len(got) != 1 || got[0] != "s3cret-value" {
		t.Errorf("Secrets: %v", got)
	}
	if c.Refresh.Rotation != RotationRotate || c.Refresh.RejectError != "invalid_grant" || tg.Login.Driver != DriverForm {
		t.Errorf("refresh/login defaults: %+v %+v", c.Refresh, tg.Login)
	}

	withUser := good + "users:\n  - {name: alice, username: alice, password: \"${PW}\"}\n"
	tg, err = Parse("demo.yaml", []byte(withUser), env(map[string]string{"CC_SECRET": "s3cret-value", "PW": "alice-password"}))
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := tg.User(""); !ok || u.Password.Reveal() != "alice-password" {
		t.Errorf("user: %+v", u)
	}
	if got := tg.Secrets(); len(got) != 2 || got[1] != "alice-password" {
		t.Errorf("passwords are not secrets: %v", got)
	}
}

// The mock driver is accepted with the embedded mock's auto-login on, and
// for a target elsewhere (a mock run with --auto-login, which the file
// cannot see); its twin without auto-login is among TestParseBad.
func TestMockLoginDriver(t *testing.T) {
	for name, src := range map[string]string{
		"embedded, auto-login": strings.Replace(good, "issuer: https://idp.example.com\n", "mock: {profile: generic, auto_login: true}\n", 1) + "login: {driver: mock}\n",
		"issuer":               good + "login: {driver: mock}\n",
	} {
		tg, err := Parse("demo.yaml", []byte(src), env(map[string]string{"CC_SECRET": "x"}))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if tg.Login.Driver != DriverMock {
			t.Errorf("%s: driver %q", name, tg.Login.Driver)
		}
	}
}

// Variants default to the strict reading and take the declared choices.
func TestVariants(t *testing.T) {
	tg, err := Parse("demo.yaml", []byte(good), env(map[string]string{"CC_SECRET": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	v := tg.Variants
	if !v.IntrospectsJWT() || !v.RevokesJWT() || v.PKCEPlain != "" || v.TokenType != "" {
		t.Errorf("defaults: %+v", v)
	}
	src := good + "variants:\n  jwt_access_token_introspection: unsupported\n  jwt_access_token_revocation: unsupported\n  pkce_plain: refused\n  token_type: bearer\n"
	tg, err = Parse("demo.yaml", []byte(src), env(map[string]string{"CC_SECRET": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	v = tg.Variants
	if v.IntrospectsJWT() || v.RevokesJWT() || v.PKCEPlain != Refused || v.TokenType != "bearer" {
		t.Errorf("declared: %+v", v)
	}
}

func TestBundledMockTarget(t *testing.T) {
	tg, err := Load("../../fixtures/targets/mock.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if tg.Mock == nil || tg.Mock.Profile != "generic" {
		t.Errorf("mock: %+v", tg.Mock)
	}
}

// Each bad config must be refused with the file, the line and the field.
func TestParseBad(t *testing.T) {
	cases := []struct {
		name, src string
		env       map[string]string
		want      []string // substrings of the error
	}{
		{"typo in field", strings.Replace(good, "grants:", "grant:", 1), map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:8:5:", `unknown field "grant"`, `did you mean "grants"`}},
		{"unset variable", good, nil,
			[]string{"demo.yaml:7:13:", "CC_SECRET is not set"}},
		{"bad auth method", strings.Replace(good, "    grants:", "    auth_method: client_secret_jwt\n    grants:", 1), map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:8:18:", "clients[0].auth_method", `unknown auth_method "client_secret_jwt"`}},
		{"bad duration", strings.Replace(good, "30m", "half an hour", 1), map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:9:", "not a duration"}},
		{"bad capability", strings.Replace(good, "client_credentials]", "client_credential]", 1), map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:3:27:", "capabilities[1]", `unknown capability "client_credential"`}},
		{"none alg", good + "signing_algs: [none]\n", map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:10:16:", "signing_algs[0]", `"none" cannot be allowed`}},
		{"mock and issuer", good + "mock: {profile: generic}\n", map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:2:9:", "issuer and mock are exclusive"}},
		{"unknown profile", strings.Replace(good, "issuer: https://idp.example.com", "mock:\n  profile: okta", 1), map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:3:12:", `unknown mock profile "okta"`}},
		{"duplicate key", good + "name: again\n", map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:10:1:", "already defined"}},
		{"syntax", "issuer: [\n", nil, []string{"demo.yaml:1:"}},
		{"unknown rotation", strings.Replace(good, "    grants:", "    refresh: {rotation: sometimes}\n    grants:", 1), map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:8:", "clients[0].refresh.rotation", `unknown rotation "sometimes"`}},
		{"grace without rotate-grace", strings.Replace(good, "    grants:", "    refresh: {rotation: rotate, grace: 5s}\n    grants:", 1), map[string]string{"CC_SECRET": "x"},
			[]string{"clients[0].refresh.grace", "grace applies only to rotation rotate-grace"}},
		{"duplicate user", good + "users:\n  - {name: a, username: a, password: p}\n  - {name: a, username: b, password: p}\n", map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:12:", "users[1].name", `duplicate user name "a"`}},
		{"authcode without users", strings.Replace(good, "client_credentials]\nclients", "client_credentials, authorization_code]\nclients", 1), map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:3:", "no users are given"}},
		{"login driver", good + "login: {driver: selenium}\n", map[string]string{"CC_SECRET": "x"},
			[]string{"login.driver", `unknown login driver "selenium"`}},
		{"mock driver without auto-login", strings.Replace(good, "issuer: https://idp.example.com\n", "mock: {profile: generic}\n", 1) + "login: {driver: mock}\n", map[string]string{"CC_SECRET": "x"},
			[]string{"login.driver", "needs the mock's auto-login: set mock.auto_login: true"}},
		{"introspection variant", good + "variants: {jwt_access_token_introspection: sometimes}\n", map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:10:", "variants.jwt_access_token_introspection", `unknown value "sometimes"`, "supported, unsupported"}},
		{"revocation variant", good + "variants: {jwt_access_token_revocation: no}\n", map[string]string{"CC_SECRET": "x"},
			[]string{"variants.jwt_access_token_revocation", "supported, unsupported"}},
		{"pkce variant", good + "variants: {pkce_plain: yes}\n", map[string]string{"CC_SECRET": "x"},
			[]string{"variants.pkce_plain", "accepted, refused"}},
		{"token_type variant", good + "variants: {token_type: DPoP}\n", map[string]string{"CC_SECRET": "x"},
			[]string{"variants.token_type", `"DPoP" is not a spelling of Bearer`}},
		{"unknown variant", good + "variants: {refresh_reuse: kill}\n", map[string]string{"CC_SECRET": "x"},
			[]string{"demo.yaml:10:", `unknown field "refresh_reuse"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("demo.yaml", []byte(c.src), env(c.env))
			if err == nil {
				t.Fatal("Parse accepted a bad config")
			}
			var ce *yamlfile.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *yamlfile.Error: %v", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%s", w, err)
				}
			}
		})
	}
}

// A literal secret in the file must not be echoed by an error about its line.
func TestErrorMasksLiteralSecret(t *testing.T) {
	src := strings.Replace(good, "${CC_SECRET}", "hunter2-literal", 1)
	src = strings.Replace(src, "    secret: hunter2-literal\n", "    secret: hunter2-literal\n    auth_method: nope\n", 1)
	_, err := Parse("demo.yaml", []byte(src), env(nil))
	if err == nil {
		t.Fatal("accepted")
	}
	if strings.Contains(err.Error(), "hunter2-literal") {
		t.Errorf("error leaks the secret:\n%s", err)
	}
	// The masking rule itself: a secret line is masked, an ordinary one kept.
	if got := yamlfileMask("    secret: abc"); strings.Contains(got, "abc") {
		t.Errorf("mask kept value: %q", got)
	}
	if got := yamlfileMask("    id: abc"); !strings.Contains(got, "abc") {
		t.Errorf("mask hid a non-secret: %q", got)
	}
}

func yamlfileMask(line string) string {
	e := &yamlfile.Error{File: "f", Src: []byte(line), Problems: []yamlfile.Problem{{Line: 1, Col: 1, Msg: "m"}}}
	return e.Error()
}

func TestExpand(t *testing.T) {
	lookup := env(map[string]string{"A": "alpha", "EMPTY": ""})
	cases := map[string]string{
		"${A}":            "alpha",
		"x-${A}-y":        "x-alpha-y",
		"pa$$word":        "pa$word",
		"pa$word":         "pa$word",
		"${B:-fallback}":  "fallback",
		"${EMPTY:-def}":   "def",
		"${EMPTY}":        "",
		"trailing $":      "trailing $",
		"${A}${A}":        "alphaalpha",
		"$${A}":           "${A}",
		"no dollars here": "no dollars here",
	}
	for in, want := range cases {
		got, err := Expand(in, lookup)
		if err != nil || got != want {
			t.Errorf("Expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"${B}", "${", "${A", "${1X}", "${}"} {
		if _, err := Expand(bad, lookup); err == nil {
			t.Errorf("Expand(%q) accepted", bad)
		}
	}
}

func TestExpandErrorNeverHoldsValue(t *testing.T) {
	_, err := Expand("${SECRET_LOOKING_VALUE", env(nil))
	if err == nil || strings.Contains(err.Error(), "SECRET_LOOKING_VALUE") {
		t.Errorf("error echoes input: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	if b, err := os.ReadFile("../../fixtures/targets/mock.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("issuer: [\n"))
	// A tagged scalar where a list belongs once crashed the YAML decoder.
	f.Add([]byte("name: t\nclients: !!str a\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, _ = Parse("fuzz.yaml", src, env(map[string]string{"CC_SECRET": "x"}))
	})
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"${A}", "$$", "${A:-b}", "${", "a$b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Expand(s, env(map[string]string{"A": "v"}))
		if err == nil && !strings.Contains(s, "$") && out != s {
			t.Errorf("Expand changed %q without a $: %q", s, out)
		}
	})
}

const mockSection = `name: m
mock:
  profile: akoya
  signing_alg: ES256
  auto_login: true
  drift:
    - drop-claim=recipientId
    - reorder-claims
  faults:
    - latency=20ms..80ms@token
    - akoya-expired-id-token-accepted
clients:
  - name: cc
    id: idpconform-cc
    secret: x
    grants: [client_credentials]
`

func TestMockSection(t *testing.T) {
	tg, err := Parse("m.yaml", []byte(mockSection), env(nil))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var o mockidp.Options
	if err := tg.Mock.Apply(&o); err != nil {
		t.Fatal(err)
	}
	if o.Profile != "akoya" || o.SigningAlg != "ES256" || !o.AutoLogin || len(o.Drift) != 2 || len(o.Faults) != 2 {
		t.Errorf("options %+v", o)
	}
	if o.Drift[0].String() != "drop-claim=recipientId" || o.Faults[0].String() != "latency=20ms..80ms@token" {
		t.Errorf("drift %v faults %v", o.Drift, o.Faults)
	}
	// The options start a mock as written.
	m, err := mockidp.New(func() mockidp.Options { o.Issuer = "http://127.0.0.1:1"; return o }())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := m.ActiveFaults(); len(got) != 2 {
		t.Errorf("faults in force: %v", got)
	}
}

func TestMockSectionBad(t *testing.T) {
	cases := []struct {
		name, from, to string
		want           []string
	}{
		{"unknown drift", "drop-claim=recipientId", "drop-claims=recipientId", []string{"m.yaml:7:7:", "mock.drift[0]", `unknown drift "drop-claims"`, "valid drifts:"}},
		{"drift claim the profile never issues", "drop-claim=recipientId", "claim-type=nonexist", []string{"m.yaml:7:7:", "mock.drift[0]", `profile akoya never issues a claim "nonexist"`, "recipientId"}},
		{"empty drift value", "drop-claim=recipientId", "drop-claim=", []string{"m.yaml:7:7:", "mock.drift[0]", `drift drop-claim: empty value after "="`}},
		{"bad fault value", "latency=20ms..80ms@token", "latency=soon", []string{"m.yaml:10:7:", "mock.faults[0]", "duration"}},
		{"vendor fault elsewhere", "profile: akoya", "profile: generic", []string{"m.yaml:11:7:", "applies to profile akoya, akoya-legacy only"}},
		{"bad alg", "signing_alg: ES256", "signing_alg: HS256", []string{"m.yaml:4:16:", "unsupported signing alg"}},
		{"unknown key", "auto_login: true", "autologin: true", []string{`unknown field "autologin"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(strings.Replace(mockSection, c.from, c.to, 1)), env(nil))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%s", w, err)
				}
			}
		})
	}
}

// Every bundled target file loads, and each mock profile has one.
func TestBundledTargets(t *testing.T) {
	files, err := filepath.Glob("../../fixtures/targets/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob: %v", err)
	}
	profiles := map[string]bool{}
	for _, f := range files {
		tg, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if tg.Mock != nil && filepath.Base(f) == "mock-"+tg.Mock.Profile+".yaml" {
			profiles[tg.Mock.Profile] = true
		}
	}
	for _, p := range mockidp.Profiles() {
		if !profiles[p] {
			t.Errorf("no fixtures/targets/mock-%s.yaml", p)
		}
	}
}

// Problems found after loading (a contract name no set holds) are placed
// at the line of their field; a target built in code has no lines and
// names its file alone.
func TestTargetErrPlacesLateProblems(t *testing.T) {
	src := good + "contracts:\n  id_token: no-such-contract\n"
	tg, err := Parse("demo.yaml", []byte(src), env(map[string]string{"CC_SECRET": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	err = tg.Err([]yamlfile.Problem{yamlfile.Errorf("$.contracts.id_token", "unknown contract")})
	if err == nil || !strings.HasPrefix(err.Error(), "demo.yaml:11:13: contracts.id_token: unknown contract") {
		t.Errorf("loaded target: %v", err)
	}
	if err := tg.Err(nil); err != nil {
		t.Errorf("no problems: %v", err)
	}
	built := &Target{File: "built"}
	err = built.Err([]yamlfile.Problem{yamlfile.Errorf("$.contracts.id_token", "unknown contract")})
	if err == nil || err.Error() != "built: contracts.id_token: unknown contract" {
		t.Errorf("built in code: %v", err)
	}
}

// A file that makes the YAML library panic (a tagged scalar where a list
// belongs) is an error at its tag, from Parse as from Load; the twin
// without the tag is an ordinary type error, also placed.
func TestParseYAMLPanicIsAnError(t *testing.T) {
	for src, want := range map[string]string{
		"name: t\nclients: !!str a\n": "t.yaml:2:10: the YAML decoder could not read this file",
		"name: t\nclients: a\n":       "t.yaml:2:",
	} {
		_, err := Parse("t.yaml", []byte(src), env(nil))
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q): got %v, want a *ConfigError starting %q", src, err, want)
		}
	}
}

// A target file may open with a YAML directive; its secrets still resolve
// and its lines keep their numbers.
func TestParseWithDirective(t *testing.T) {
	tg, err := Parse("demo.yaml", []byte("%YAML 1.2\n---\n"+good), env(map[string]string{"CC_SECRET": "s3cret-value"}))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := tg.ClientFor(GrantClientCredentials); !ok || c.Secret.Reveal() != "s3cret-value" {
		t.Errorf("client: %+v", c)
	}
	if err := tg.Err([]yamlfile.Problem{yamlfile.Errorf("$.issuer", "x")}); err == nil || !strings.HasPrefix(err.Error(), "demo.yaml:4:") {
		t.Errorf("issuer is not placed at line 4: %v", err)
	}
}

// mirrorDiff names what of b differs from a among the fields a standalone
// mock's target must copy from the embedded one.
func mirrorDiff(a, b *Target) []string {
	var out []string
	if !reflect.DeepEqual(a.Clients, b.Clients) {
		out = append(out, "clients")
	}
	if !reflect.DeepEqual(a.Users, b.Users) {
		out = append(out, "users")
	}
	if !reflect.DeepEqual(a.Capabilities, b.Capabilities) {
		out = append(out, "capabilities")
	}
	if !reflect.DeepEqual(a.Contracts, b.Contracts) {
		out = append(out, "contracts")
	}
	if a.ClockSkew != b.ClockSkew {
		out = append(out, "clock_skew")
	}
	return out
}

// local-mock.yaml is for `idpconform mock` in another process, which serves
// the same clients and users as the embedded generic mock; declaring less
// skips specs the mock would pass.
func TestLocalMockMirrorsMock(t *testing.T) {
	t.Setenv("IDPCONFORM_MOCK_ISSUER", "") // empty takes the file's default
	embedded, err := Load("../../fixtures/targets/mock.yaml")
	if err != nil {
		t.Fatal(err)
	}
	local, err := Load("../../fixtures/targets/local-mock.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d := mirrorDiff(embedded, local); len(d) > 0 {
		t.Errorf("fixtures/targets/local-mock.yaml differs from mock.yaml in %v", d)
	}
	if local.Mock != nil || local.Issuer != "http://127.0.0.1:18080" {
		t.Errorf("local-mock.yaml: mock section %v, issuer %q; want none and the standalone mock's default address", local.Mock, local.Issuer)
	}
	// The twin: a target declaring less is caught.
	fewer := *local
	fewer.Clients = local.Clients[:2]
	fewer.Capabilities = local.Capabilities[:2]
	if d := mirrorDiff(embedded, &fewer); !slices.Equal(d, []string{"clients", "capabilities"}) {
		t.Errorf("a target with two clients and two capabilities: differences %v, want [clients capabilities]", d)
	}
}
