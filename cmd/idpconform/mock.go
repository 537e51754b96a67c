package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/mockidp"
)

type mockFlags struct {
	addr, profile, alg, keyFile, targetFile string
	tlsCA                                   string
	drift, faults, issuers                  []string
	admin, autoLogin, logRequests           bool
	list, listJSON                          bool
}

func newMockCmd() *cobra.Command {
	var fl mockFlags
	cmd := &cobra.Command{
		Use:   "mock",
		Short: "Run the bundled mock IdP standalone until interrupted",
		Long: `mock serves the bundled mock IdP on a loopback address until interrupted
(Ctrl-C or SIGTERM), for clients and tools outside idpconform, or for
'idpconform conform --target' against a separate process.

The mock is an OAuth 2.0 / OpenID Connect provider that signs its tokens for
real: authorization code with PKCE (an HTML login form, then a consent form for
clients that ask for it), refresh tokens with rotation and reuse detection,
client credentials, introspection (RFC 7662), revocation (RFC 7009) and
userinfo. Its keys are generated at start and live only in memory, unless
--key loads one (fixtures/keys holds test keys). It listens on loopback only.

Profiles imitate a vendor: generic (the standards), akoya (Akoya's new IdP,
with the 602 data endpoint), akoya-legacy (Akoya's old IdP), akkess (with
POST /authorization/v1/tokens) and nextidentity (custom scopes, opaque or JWT
access tokens, /logout).

Drift changes what the mock issues the way a new IdP would (--drift
drop-claim=recipientId); faults make it misbehave on purpose (--fault
latency=50ms). Both take NAME or NAME=VALUE; --list shows every name, what it
breaks and which scenario label should catch it. A drift or fault for an
issuer mounted with --issuer is written ISSUER/NAME[=VALUE].

--issuer NAME=PROFILE mounts another mock at /NAME, with its own profile, keys
and clients: an IdP migration's old and new IdP side by side. --admin serves
an HTTP API under {issuer}/_admin to switch drift and faults, rotate keys and
move the clock at run time (GET {issuer}/_admin/catalog lists what it takes).

The clients are those of fixtures/targets/mock.yaml with their published test
secrets; the test users are alice / idpconform-alice-password and
bob / idpconform-bob-password. With --auto-login, an authorization request
with login_hint=alice skips the login and consent forms.`,
		Example: `  idpconform mock --addr 127.0.0.1:18080
  idpconform mock --profile akoya --log-requests

  # Every drift and fault the mock knows, with what each one breaks:
  idpconform mock --list

  # A new IdP that dropped a claim and answers slowly:
  idpconform mock --profile akoya --drift drop-claim=recipientId --fault latency=20ms..80ms@token

  # Migration rehearsal: the old IdP at /old, the new one at /new, switchable:
  idpconform mock --issuer old=akoya-legacy --issuer new=akoya --fault new/status-5xx=0.1 --admin
  curl -X PUT -d '{"faults":["no-cache-control"]}' http://127.0.0.1:18080/new/_admin/faults

  # The mock a target file describes (its mock section):
  idpconform mock --target fixtures/targets/mock-nextidentity.yaml

  # in another shell:
  idpconform conform --target fixtures/targets/local-mock.yaml

  # Over HTTPS, the test CA written for the target's tls.ca_file:
  idpconform mock --tls-ca /tmp/mock-ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMock(cmd, fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.addr, "addr", "127.0.0.1:18080", "loopback address to listen on (port 0 picks a free one)")
	f.StringVar(&fl.profile, "profile", "generic", "vendor profile of the root issuer: "+strings.Join(mockidp.Profiles(), ", "))
	f.StringVar(&fl.alg, "alg", "", "signing algorithm overriding the profile's: "+strings.Join(target.DefaultSigningAlgs, ", "))
	f.StringVar(&fl.keyFile, "key", "", "PEM private key to sign with instead of a generated one (e.g. fixtures/keys/es256.pem)")
	f.StringArrayVar(&fl.drift, "drift", nil, "drift in force, [ISSUER/]NAME[=VALUE] (repeatable); see --list")
	f.StringArrayVar(&fl.faults, "fault", nil, "fault in force, [ISSUER/]NAME[=VALUE] (repeatable); see --list")
	f.StringArrayVar(&fl.issuers, "issuer", nil, "mount another issuer at /NAME: NAME=PROFILE (repeatable)")
	f.BoolVar(&fl.admin, "admin", false, "serve the admin API under {issuer}/_admin (loopback clients only)")
	f.BoolVar(&fl.autoLogin, "auto-login", false, "let login_hint=USER log in without the forms, for fast runs")
	f.StringVar(&fl.targetFile, "target", "", "take profile, alg, drift, faults and auto-login from this target file's mock section")
	f.StringVar(&fl.tlsCA, "tls-ca", "", "serve HTTPS with a certificate from a test CA made at start, and write that CA's certificate to this file (a target's tls.ca_file); the CA also verifies tls_client_auth client certificates")
	f.BoolVar(&fl.logRequests, "log-requests", false, "log one line per request to stderr (method, path, status; never secrets)")
	f.BoolVar(&fl.list, "list", false, "print the profiles, drifts and faults, then exit")
	f.BoolVar(&fl.listJSON, "list-json", false, "print the drift and fault catalogue as JSON, then exit")
	cmd.MarkFlagsMutuallyExclusive("target", "profile")
	return cmd
}

// issuerNameRE is what --issuer accepts as a path segment.
var issuerNameRE = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

func runMock(cmd *cobra.Command, fl mockFlags) error {
	out := cmd.OutOrStdout()
	if fl.list {
		return printCatalogue(out)
	}
	if fl.listJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"profiles": mockidp.Profiles(), "drifts": mockidp.Drifts(), "faults": mockidp.Faults()})
	}

	root := mockidp.Options{Profile: fl.profile, SigningAlg: fl.alg, AutoLogin: fl.autoLogin, Admin: fl.admin}
	if fl.targetFile != "" {
		tg, err := target.Load(fl.targetFile)
		if err != nil {
			return configError(err)
		}
		if tg.Mock == nil {
			return usageError("--target %s has no mock section; it names the real issuer %s", fl.targetFile, tg.Issuer)
		}
		if err := tg.Mock.Apply(&root); err != nil {
			return configError(err)
		}
		root.AutoLogin = root.AutoLogin || fl.autoLogin
		root.Admin = fl.admin
		if fl.alg != "" {
			root.SigningAlg = fl.alg
		}
	}
	if _, err := mockidp.LookupProfile(root.Profile); err != nil {
		return usageError("--profile: %w", err)
	}
	if fl.keyFile != "" {
		pemBytes, err := os.ReadFile(fl.keyFile)
		if err != nil {
			return usageError("--key: %w", err)
		}
		key, err := mockidp.ParseSigningKey(pemBytes)
		if err != nil {
			return usageError("--key %s: %w", fl.keyFile, err)
		}
		root.SigningKey = key
	}
	if fl.logRequests {
		root.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	}

	// Other issuers, and which drift and faults go to which.
	mounted := map[string]*mockidp.Options{}
	var order []string
	for _, spec := range fl.issuers {
		name, profile, _ := strings.Cut(spec, "=")
		if profile == "" {
			profile = mockidp.ProfileGeneric
		}
		if !issuerNameRE.MatchString(name) {
			return usageError("--issuer %q: expected NAME=PROFILE with NAME of letters, digits, . _ ~ -", spec)
		}
		if _, dup := mounted[name]; dup {
			return usageError("--issuer %s given twice", name)
		}
		if _, err := mockidp.LookupProfile(profile); err != nil {
			return usageError("--issuer %s: %w", name, err)
		}
		mounted[name] = &mockidp.Options{Profile: profile, AutoLogin: root.AutoLogin, Admin: fl.admin, Logger: root.Logger}
		order = append(order, name)
	}
	optsFor := func(spec string) (*mockidp.Options, string) {
		if name, rest, ok := strings.Cut(spec, "/"); ok {
			if o, ok := mounted[name]; ok {
				return o, rest
			}
		}
		return &root, spec
	}
	for _, spec := range fl.drift {
		o, s := optsFor(spec)
		d, err := mockidp.ParseDrift(s)
		if err != nil {
			return usageError("--drift: %w", err)
		}
		o.Drift = append(o.Drift, d)
	}
	for _, spec := range fl.faults {
		o, s := optsFor(spec)
		f, err := mockidp.ParseFault(s)
		if err != nil {
			return usageError("--fault: %w", err)
		}
		o.Faults = append(o.Faults, f)
	}

	// Signals are caught before the banner tells anyone the mock is up: a
	// Ctrl-C right after it must stop the mock cleanly, not kill it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var srv *mockidp.Server
	var err error
	if fl.tlsCA != "" {
		// A TLS server starts at once; issuers mount on a started server.
		srv, err = mockidp.NewTLSServer(fl.addr, root)
		if err == nil {
			if werr := os.WriteFile(fl.tlsCA, srv.CA.PEM, 0o644); werr != nil {
				_ = srv.Close()
				return usageError("--tls-ca: %w", werr)
			}
		}
	} else {
		srv, err = mockidp.NewUnstartedServer(fl.addr, root)
	}
	if err != nil {
		return usageError("%w", err)
	}
	for _, name := range order {
		if _, err := srv.AddIssuer("/"+name, *mounted[name]); err != nil {
			_ = srv.Close()
			return usageError("--issuer %s: %w", name, err)
		}
	}
	srv.Start()

	shown := []*mockidp.IdP{srv.IdP}
	for _, name := range order {
		m, _ := srv.IssuerAt("/" + name)
		shown = append(shown, m)
	}
	for _, m := range shown {
		st := m.State()
		fmt.Fprintf(out, "mock IdP (profile %s, %s) serving issuer %s\n", st.Profile, st.SigningAlg, st.Issuer)
		fmt.Fprintf(out, "  discovery: %s%s\n", st.Issuer, mockidp.PathDiscovery)
		if ds := m.ActiveDrift(); len(ds) > 0 {
			eff := make([]string, len(ds))
			for i, d := range ds {
				eff[i] = d.Effective()
			}
			fmt.Fprintf(out, "  drift: %s\n", strings.Join(eff, ", "))
		}
		if len(st.Faults) > 0 {
			fmt.Fprintf(out, "  faults: %s\n", strings.Join(st.Faults, ", "))
		}
		if fl.admin {
			fmt.Fprintf(out, "  admin API: %s%s\n", st.Issuer, mockidp.PathAdmin)
		}
	}
	ids := make([]string, 0)
	for _, c := range srv.Clients() {
		ids = append(ids, c.ID)
	}
	fmt.Fprintf(out, "clients: %s (secrets: see fixtures/targets/mock.yaml)\n", strings.Join(ids, ", "))
	fmt.Fprintf(out, "users: %s, %s (passwords: see idpconform mock --help)\n", mockidp.UserAlice, mockidp.UserBob)
	if fl.tlsCA != "" {
		fmt.Fprintf(out, "TLS: the test CA's certificate is in %s (a target file's tls.ca_file)\n", fl.tlsCA)
	}
	fmt.Fprintln(out, "press Ctrl-C to stop")

	<-ctx.Done()
	fmt.Fprintln(out, "stopping")
	return srv.Close()
}

// printCatalogue writes the profiles, drifts and faults as aligned text.
func printCatalogue(out io.Writer) error {
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILES")
	for _, name := range mockidp.Profiles() {
		p, _ := mockidp.LookupProfile(name)
		fmt.Fprintf(tw, "  %s\t%s; after %s\n", p.Name, p.Description, p.Doc)
	}
	fmt.Fprintln(tw, "\nDRIFTS\tBREAKING\tWHAT CHANGES")
	for _, d := range mockidp.Drifts() {
		name := string(d.Name)
		if d.Param != "" {
			name += "=" + d.Param + " (default " + d.Default + ")"
		}
		fmt.Fprintf(tw, "  %s\t%v\t%s\n", name, d.Breaking, d.Description)
	}
	fmt.Fprintln(tw, "\nFAULTS\tVIOLATES\tCAUGHT BY\tWHAT GOES WRONG")
	for _, f := range mockidp.Faults() {
		name := string(f.Name)
		switch {
		case strings.HasPrefix(f.Param, "["):
			name += f.Param + " (default " + f.Default + ")"
		case f.Param != "":
			name += "=" + f.Param + " (default " + f.Default + ")"
		}
		caught := strings.Join(f.CaughtBy, ", ")
		if len(f.Profiles) > 0 {
			caught += " [" + strings.Join(f.Profiles, ", ") + " only]"
		}
		fmt.Fprintf(tw, "  %s\t%s (%s)\t%s\t%s\n", name, f.Violates, f.Severity, caught, f.Description)
	}
	fmt.Fprintln(tw, "\nENDPOINT names for @ENDPOINT: discovery, jwks, authorize, login, consent, token, introspect, revoke, userinfo, akoya-data, akkess")
	return tw.Flush()
}
