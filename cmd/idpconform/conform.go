package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/expected"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/yamlfile"
	"github.com/idpconform/idpconform/reports"
	"github.com/idpconform/idpconform/suites"
)

type conformFlags struct {
	target      string
	mockProfile string
	mockDrift   []string
	mockFaults  []string
	labelFilter string
	focus       []string
	skip        []string
	verbosity   string
	verbose     bool
	reportDir   string
	formats     string
	timeout     time.Duration
	noColor     bool
	dryRun      bool
	contracts   string
	expected    string
	debug       bool
}

func newConformCmd() *cobra.Command {
	var fl conformFlags
	cmd := &cobra.Command{
		Use:   "conform",
		Short: "Run the conformance suites against an IdP (default: the bundled mock)",
		Long: `conform runs the conformance specs against the IdP described by a target file.

With no --target, it starts the bundled mock IdP in-process on a loopback port
and runs against it (the target file fixtures/targets/mock.yaml, embedded in the
binary): no configuration and no server are needed.

Specs are selected with Ginkgo label filters. Scenario labels: discovery,
client-credentials, authcode, refresh, introspection, revocation, expiry,
security; vendor labels: akoya, akkess, nextidentity. A spec whose capability
the target does not declare is skipped with the reason.

Reports are written to --report-dir: results.json (the run, schema in
reports/schema), junit.xml (for CI test reporters; SHOULD warnings do not
fail), report.html (one self-contained file to open in a browser) and
summary.md (short, for a pull-request comment). When $GITHUB_STEP_SUMMARY is
set, the Markdown summary is appended to it. A summary per label is printed.
Secrets from the target file and every token seen are redacted from all
output, including --debug, which logs every HTTP exchange with the IdP to
stderr as it happens.

Warnings about the target file (a secret written into it instead of an
${ENV_VAR} reference, tls.insecure_skip_verify) are printed on every run and
kept in the report's notes.`,
		Example: `  # Against the bundled mock, no configuration:
  idpconform conform

  # The mock imitating another vendor:
  idpconform conform --mock-profile nextidentity

  # Prove the suites catch a misbehaving IdP (this run should fail):
  idpconform conform --mock-fault no-cache-control --mock-drift drop-claim=sub

  # A real IdP, client-credentials specs only:
  export IDP_CLIENT_SECRET=...
  idpconform conform --target my-idp.yaml --label-filter client-credentials

  # List the specs that would run:
  idpconform conform --dry-run -v

  # See every request and response (redacted) while the specs run:
  idpconform conform --label-filter discovery --debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConform(cmd, fl)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&fl.target, "target", "t", "", "target file (YAML); default: the bundled mock")
	f.StringVar(&fl.mockProfile, "mock-profile", "", "run against the bundled mock as this vendor, with its bundled target fixtures/targets/mock-PROFILE.yaml (with --target: only swap that file's mock profile): "+strings.Join(target.MockProfiles, ", "))
	f.StringArrayVar(&fl.mockDrift, "mock-drift", nil, "add a drift to the bundled mock (repeatable), e.g. drop-claim=sub; list: idpconform mock --list")
	f.StringArrayVar(&fl.mockFaults, "mock-fault", nil, "add a fault to the bundled mock (repeatable), e.g. latency=50ms; list: idpconform mock --list")
	f.StringVarP(&fl.labelFilter, "label-filter", "l", "", `Ginkgo label filter, e.g. "client-credentials && !expiry"`)
	f.StringArrayVar(&fl.focus, "focus", nil, "run only specs whose text matches this regular expression (repeatable)")
	f.StringArrayVar(&fl.skip, "skip", nil, "skip specs whose text matches this regular expression (repeatable)")
	f.StringVar(&fl.verbosity, "verbosity", "normal", "terminal output: succinct, normal, verbose, very-verbose")
	f.BoolVarP(&fl.verbose, "verbose", "v", false, "same as --verbosity verbose")
	f.StringVar(&fl.reportDir, "report-dir", "idpconform-report", "directory for the reports")
	f.StringVar(&fl.formats, "report-format", "all", "reports to write, comma-separated: json, junit, html, markdown, or all")
	f.DurationVar(&fl.timeout, "timeout", time.Hour, "bound on the whole run")
	f.BoolVar(&fl.noColor, "no-color", false, "no ANSI colour (also when NO_COLOR is set or output is not a terminal)")
	f.BoolVar(&fl.dryRun, "dry-run", false, "list the selected specs without running them")
	f.StringVar(&fl.contracts, "contracts", "", "directory of extra claim contracts (*.yaml), besides the bundled ones")
	f.StringVar(&fl.expected, "expected-failures", "", "YAML list of known deviations (spec, reason, owner, expires): reported, not failing until they expire")
	f.BoolVar(&fl.debug, "debug", false, "log every HTTP exchange with the IdP to stderr as it happens (secrets and tokens redacted)")
	return cmd
}

func runConform(cmd *cobra.Command, fl conformFlags) error {
	if fl.verbose {
		fl.verbosity = "verbose"
	}
	switch fl.verbosity {
	case "succinct", "normal", "verbose", "very-verbose":
	default:
		return usageError("--verbosity %q: expected succinct, normal, verbose or very-verbose", fl.verbosity)
	}
	if fl.timeout <= 0 {
		return usageError("--timeout must be positive, got %s", fl.timeout)
	}
	if err := suites.ValidateSelection(fl.labelFilter, fl.focus, fl.skip); err != nil {
		return usageError("%w", err)
	}
	formats, err := reports.ParseFormats(fl.formats)
	if err != nil {
		return usageError("--report-format: %w", err)
	}
	tg, err := loadTarget(fl.target, fl.mockProfile)
	if err != nil {
		return err
	}
	if err := applyMockFlags(tg, fl.mockDrift, fl.mockFaults); err != nil {
		return err
	}
	cs, err := loadContracts(fl.contracts)
	if err != nil {
		return configError(err)
	}
	if err := checkContracts(tg, cs); err != nil {
		return configError(err)
	}
	var known []expected.Entry
	if fl.expected != "" {
		if known, err = expected.Load(fl.expected); err != nil {
			return configError(err)
		}
	}

	reg := redact.New()
	reg.Add(tg.Secrets()...)
	warnTarget(cmd.ErrOrStderr(), tg)
	out := cmd.OutOrStdout()
	var debug io.Writer
	if fl.debug {
		debug = cmd.ErrOrStderr()
	}
	run, err := suites.Run(nil, suites.Options{
		Target:      tg,
		Secrets:     reg,
		Contracts:   cs,
		LabelFilter: fl.labelFilter,
		Focus:       fl.focus,
		Skip:        fl.skip,
		Verbosity:   fl.verbosity,
		Timeout:     fl.timeout,
		NoColor:     fl.noColor || noColor(out),
		Out:         out,
		DryRun:      fl.dryRun,
		Tool:        results.Tool{Name: "idpconform", Version: toolVersion()},
		Debug:       debug,
	})
	if err != nil {
		return configError(err)
	}
	run.Notes = append(run.Notes, tg.Warnings...)
	if len(known) > 0 {
		expected.Apply(run, known, time.Now())
	}
	safeOut := reg.Writer(out)
	if run.DryRun {
		// Nothing ran: no report files, only the list.
		return reports.WriteSummary(safeOut, run.Redacted(reg))
	}
	paths, werr := reports.Write(fl.reportDir, run, reg, formats...)
	if err := reports.WriteSummary(safeOut, run.Redacted(reg)); err != nil {
		return failed(fmt.Errorf("write summary: %w", err))
	}
	if werr != nil {
		return failed(werr)
	}
	if err := appendStepSummary(run, reg); err != nil {
		return failed(err)
	}
	fmt.Fprintf(safeOut, "\nreports: %s\n", strings.Join(paths, ", "))
	if !run.Passed() {
		return &exitError{code: exitFailed}
	}
	return nil
}

// loadTarget reads the target file, or the embedded mock target when none
// is given. With no file, --mock-profile P selects the embedded
// fixtures/targets/mock-P.yaml; with a file, it replaces the profile of that
// file's mock section and keeps the rest as the user wrote it.
func loadTarget(path, mockProfile string) (*target.Target, error) {
	if mockProfile != "" && !contains(target.MockProfiles, mockProfile) {
		return nil, usageError("--mock-profile %q: expected one of %s", mockProfile, strings.Join(target.MockProfiles, ", "))
	}
	var tg *target.Target
	var err error
	if path == "" {
		embedded := fixtures.MockTargetPath
		if mockProfile != "" {
			embedded = fixtures.MockProfileTargetPath(mockProfile)
		}
		src, rerr := fixtures.FS.ReadFile(embedded)
		if rerr != nil {
			return nil, fmt.Errorf("embedded mock target %s: %w", embedded, rerr)
		}
		tg, err = target.Parse("fixtures/"+embedded+" (embedded)", src, os.LookupEnv)
	} else {
		tg, err = target.Load(path)
	}
	if err != nil {
		return nil, configError(err)
	}
	if mockProfile != "" {
		if tg.Mock == nil {
			return nil, usageError("--mock-profile needs a mock target, but %s names the real issuer %s", tg.File, tg.Issuer)
		}
		tg.Mock.Profile = mockProfile
	}
	return tg, nil
}

// applyMockFlags adds --mock-drift and --mock-fault to the target's mock
// section and checks the result, so a bad name is refused before anything
// starts.
func applyMockFlags(tg *target.Target, drift, faults []string) error {
	if len(drift)+len(faults) == 0 {
		return nil
	}
	if tg.Mock == nil {
		return usageError("--mock-drift and --mock-fault need a mock target, but %s names the real issuer %s", tg.File, tg.Issuer)
	}
	tg.Mock.Drift = append(tg.Mock.Drift, drift...)
	tg.Mock.Faults = append(tg.Mock.Faults, faults...)
	if err := tg.Mock.Check(); err != nil {
		return usageError("%w", err)
	}
	return nil
}

// loadContracts reads the bundled contracts and, if dir is set, the user's.
func loadContracts(dir string) (contract.Set, error) {
	cs, err := contract.LoadFS(fixtures.FS, fixtures.ContractsDir)
	if err != nil {
		return nil, fmt.Errorf("bundled contracts: %w", err)
	}
	if dir == "" {
		return cs, nil
	}
	extra, err := contract.LoadFS(os.DirFS(dir), ".")
	if err != nil {
		return nil, fmt.Errorf("contracts in %s: %w", dir, err)
	}
	for k, v := range extra {
		cs[k] = v
	}
	return cs, nil
}

// checkContracts refuses a target naming a contract that does not exist, or
// one of another kind than the field it is named in, before any request is
// made.
func checkContracts(tg *target.Target, cs contract.Set) error {
	var ps []yamlfile.Problem
	for _, ref := range tg.Contracts.Named() {
		ct, err := cs.Get(ref.Name)
		if err != nil {
			ps = append(ps, yamlfile.Errorf("$."+ref.Field, "%v", err))
			continue
		}
		if string(ct.Kind) != ref.Kind {
			ps = append(ps, yamlfile.Errorf("$."+ref.Field, "contract %q is of kind %s, expected %s", ref.Name, ct.Kind, ref.Kind))
		}
	}
	return tg.Err(ps)
}

func noColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return true
	}
	f, ok := w.(*os.File)
	return !ok || !term.IsTerminal(int(f.Fd()))
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// warnTarget prints the target file's warnings (a literal secret, TLS
// verification off) on every run, so that they are never forgotten.
func warnTarget(w io.Writer, tg *target.Target) {
	for _, msg := range tg.Warnings {
		fmt.Fprintln(w, "idpconform: warning:", msg)
	}
}
