package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "idpconform",
		Short: "Conformance, migration diff and load testing for OAuth 2.0 / OpenID Connect token providers",
		Long: `idpconform tells whether an OAuth 2.0 / OpenID Connect token provider (IdP)
behaves as its clients rely on, and how fast.

It runs conformance specs (discovery, client credentials, and more) against a
configured IdP or, with no configuration, against the mock IdP bundled in the
binary. Every spec names the requirement it checks (e.g. RFC 6749 §5.1) and its
severity: a failed MUST fails the run, a SHOULD is reported as a warning.

Exit codes: 0 every MUST passed, 1 a check failed, 2 bad usage or configuration.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newConformCmd(), newSelftestCmd(), newMockCmd(), newLoadCmd(), newReportCmd(), newVersionCmd())
	return root
}
