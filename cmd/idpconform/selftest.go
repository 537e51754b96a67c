package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/idpconform/idpconform/internal/selftest"
)

func newSelftestCmd() *cobra.Command {
	var (
		match   string
		list    bool
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "selftest",
		Short: "Prove the harness catches what it claims: run the mutation matrix against the bundled mock",
		Long: `selftest runs the conformance suites against the bundled mock once per fault
and drift the mock can inject, and checks each verdict:

  - a fault graded MUST must fail a MUST spec of the scenario that owns it;
  - a fault graded SHOULD must leave every MUST passing and warn;
  - a breaking drift (a dropped mandatory claim, a changed type, an unstable
    sub, ...) must fail a MUST spec;
  - a non-breaking drift (new claims, reordered claims, other lengths or formats
    of opaque strings, aud as a string or an array holding the client) must
    pass every MUST.

It prints the matrix (injection, expected, got, the specs that decided it) and
exits 1 on any mismatch. Run it before trusting a green run of a new install.
Faults that only a load run's gates judge (latency, slow bodies) are listed
but judged by 'idpconform load' gates, not here.`,
		Example: `  idpconform selftest
  idpconform selftest --match 'refresh|pkce' -v
  idpconform selftest --list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows := selftest.Rows()
			if match != "" {
				re, err := regexp.Compile(match)
				if err != nil {
					return usageError("--match %q: %w", match, err)
				}
				var keep []selftest.Row
				for _, r := range rows {
					if re.MatchString(r.Kind + " " + r.Injection()) {
						keep = append(keep, r)
					}
				}
				if len(keep) == 0 {
					return usageError("--match %q selects no injection; see idpconform selftest --list", match)
				}
				rows = keep
			}
			out := cmd.OutOrStdout()
			if list {
				for _, r := range rows {
					fmt.Fprintf(out, "%-6s %-34s %-8s expect %-5s %s\n", r.Kind, r.Injection(), r.Profile, r.Expect, r.Rule)
				}
				for _, f := range selftest.SLOFaults() {
					fmt.Fprintf(out, "%-6s %-34s %-8s judged by load gates (%s)\n", "fault", f.Name, "any", f.Violates)
				}
				return nil
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o := selftest.Options{}
			if verbose {
				o.Progress = cmd.ErrOrStderr()
			}
			outcomes, err := selftest.Run(ctx, rows, o)
			if werr := selftest.WriteTable(out, outcomes); werr != nil {
				return failed(werr)
			}
			if err != nil {
				return failed(fmt.Errorf("selftest stopped: %w", err))
			}
			for _, oc := range outcomes {
				if !oc.OK() {
					return &exitError{code: exitFailed}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&match, "match", "", "run only the injections whose 'kind name=value' matches this regular expression")
	f.BoolVar(&list, "list", false, "list the injections and their expected verdicts without running them")
	f.BoolVarP(&verbose, "verbose", "v", false, "print each injection's verdict to stderr as it finishes")
	return cmd
}
