package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/idpconform/idpconform/mockidp"
)

func newMockCmd() *cobra.Command {
	var (
		addr, profile, alg string
		logRequests        bool
	)
	cmd := &cobra.Command{
		Use:   "mock",
		Short: "Run the bundled mock IdP standalone until interrupted",
		Long: `mock serves the bundled mock IdP on a loopback address until interrupted
(Ctrl-C or SIGTERM), for clients and tools outside idpconform, or for
'idpconform conform --target' against a separate process.

The mock registers the clients of fixtures/targets/mock.yaml with their
published test secrets. It signs tokens for real; its keys are generated at
start and live only in memory. It listens on loopback only.`,
		Example: `  idpconform mock --addr 127.0.0.1:18080
  idpconform mock --addr 127.0.0.1:18080 --profile akoya --log-requests

  # in another shell:
  idpconform conform --target fixtures/targets/local-mock.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := mockidp.Options{Profile: profile, SigningAlg: alg}
			if logRequests {
				o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			}
			if _, err := mockidp.LookupProfile(profile); err != nil {
				return usageError("--profile: %w", err)
			}
			srv, err := mockidp.NewServer(addr, o)
			if err != nil {
				return usageError("%w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "mock IdP (profile %s, %s) serving issuer %s\n", srv.Profile().Name, srv.Profile().SigningAlg, srv.URL)
			fmt.Fprintf(out, "discovery: %s%s\n", srv.URL, mockidp.PathDiscovery)
			ids := make([]string, 0)
			for _, c := range mockidp.DefaultClients() {
				ids = append(ids, c.ID)
			}
			fmt.Fprintf(out, "clients: %s (secrets: see fixtures/targets/mock.yaml)\n", strings.Join(ids, ", "))
			fmt.Fprintln(out, "press Ctrl-C to stop")

			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			fmt.Fprintln(out, "stopping")
			return srv.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:18080", "loopback address to listen on (port 0 picks a free one)")
	f.StringVar(&profile, "profile", "generic", "vendor profile: "+strings.Join(mockidp.Profiles(), ", "))
	f.StringVar(&alg, "alg", "", "signing algorithm overriding the profile's (RS256, PS256, ES256, ES384, ES512, EdDSA)")
	f.BoolVar(&logRequests, "log-requests", false, "log one line per request to stderr (method, path, status; never secrets)")
	return cmd
}
