package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpconform/idpconform/internal/atomicfile"
	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/diff"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/reports"
)

type diffFlags struct {
	captureFlags
	failOn         string
	accept         []string
	latency        []string
	format         string
	reportDir      string
	reportFormats  string
	writeBaselines string
}

func newDiffCmd() *cobra.Command {
	var fl diffFlags
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare two IdPs (target or baseline files) and fail on changes that break clients",
		Long: `diff compares the IdP clients use today (OLD) with the one they move to (NEW) and
classifies every difference:

  breaking      a client relying on the old side's contract breaks: a
                mandatory claim dropped, a type changed, a new forbidden
                claim, an unstable sub or accounts, another signing
                algorithm, another error code, a key dropped while its
                tokens live, a flow that stopped working, a failed latency
                gate
  warning       the contract tolerates it, but a client may notice: an
                optional claim dropped, a shorter token lifetime, another
                4xx status
  non-breaking  a change clients must tolerate (seed 000: new claims,
                reordered claims, another length or format of opaque
                strings; aud as a string or an array holding the client)
  info          worth knowing: another kid, a reworded error description

Each difference says why it has its class and names the rule or document
behind it, and has an ID (claim/id_token.authorization_code.code/email) that
--accept matches. The old side's contracts say what clients rely on; the new
side's contracts add what the new IdP promises; where neither target names a
contract for a kind, the bundled standard ones apply (oidc-core-id-token,
rfc9068-access-token, rfc7662-introspection, rfc6749-token-response).

Each side is a target file (captured now, as 'baseline capture' does) or a
baseline file written earlier. When both sides are target files, the same
test users log in on both and their keyed sub hashes are compared (sub
continuity: the same login keeps its sub, seed 002); with baseline files
this needs both captured with the same key, and is reported as not checked
otherwise.

Latency is compared per operation (p50, p99); --latency sets gates relative
to the old side, e.g. 'p99<=1.2x' (new p99 at most 1.2 times old) or
'token:p99<=1.5x+5ms' (slack for noisy runs). A failed gate is breaking.
Latency of the bundled mock is noise at the sub-millisecond level: gate
real IdPs, with slack.

Output: the terminal summary (--format terminal), Markdown fit for a
pull-request comment (--format markdown), or the results JSON (--format
json) on stdout; and results.json, report.html, summary.md and junit.xml in
--report-dir ('idpconform report' renders them again). With
$GITHUB_STEP_SUMMARY set, the Markdown is appended to it.

` + subKeyHelp + `

Exit codes: 0 no difference fails the policy, 1 one does (by default any
breaking difference; --fail-on warning tightens, --fail-on none only
reports), 2 bad usage, configuration or an unreachable target.`,
		Example: `  # Akoya's old IdP against its new one (the bundled mock imitates both):
  idpconform diff fixtures/targets/mock-akoya-legacy.yaml fixtures/targets/mock-akoya.yaml

  # A committed baseline of production against the candidate, as a PR comment:
  idpconform diff baselines/prod.json candidate.yaml --format markdown > comment.md

  # Stricter: warnings fail too, but a known change is accepted:
  idpconform diff old.yaml new.yaml --fail-on warning --accept 'claim/*/email'

  # Gate latency: the new token endpoint's p99 at most 1.2x the old one's:
  idpconform diff old.yaml new.yaml --latency 'token:p99<=1.2x+2ms' --samples 100`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runDiff(cmd, args[0], args[1], fl) },
	}
	fl.register(cmd)
	cmd.Flags().StringArrayVar(&fl.mockDrift, "new-mock-drift", nil, "rehearse a change: add a drift to the bundled mock of the NEW side (repeatable), e.g. drop-claim=recipientId")
	cmd.Flags().StringArrayVar(&fl.mockFaults, "new-mock-fault", nil, "add a fault to the bundled mock of the NEW side (repeatable)")
	f := cmd.Flags()
	f.StringVar(&fl.failOn, "fail-on", results.ClassBreaking, "least class that fails the run: breaking, warning, non-breaking, info, or none")
	f.StringArrayVar(&fl.accept, "accept", nil, "accept differences whose ID matches this pattern (path.Match: * stops at /), repeatable; they are shown, never failing")
	f.StringArrayVar(&fl.latency, "latency", nil, "latency gate relative to the old side, repeatable: "+diff.GateExamples)
	f.StringVar(&fl.format, "format", "terminal", "what to print on stdout: terminal, markdown, json")
	f.StringVar(&fl.reportDir, "report-dir", "idpconform-diff", `directory for results.json, report.html, summary.md, junit.xml ("" for none)`)
	f.StringVar(&fl.reportFormats, "report-format", "all", "reports to write, comma-separated: json, junit, html, markdown, or all")
	f.StringVar(&fl.writeBaselines, "write-baselines", "", "directory to save the baselines of the sides captured from target files (old.json, new.json)")
	return cmd
}

func runDiff(cmd *cobra.Command, oldPath, newPath string, fl diffFlags) error {
	if err := fl.check(); err != nil {
		return err
	}
	failOn, err := diff.ParseFailOn(fl.failOn)
	if err != nil {
		return usageError("%w", err)
	}
	if err := diff.CheckAccept(fl.accept); err != nil {
		return usageError("%w", err)
	}
	gates, err := diff.ParseGates(fl.latency)
	if err != nil {
		return usageError("--latency: %w", err)
	}
	switch fl.format {
	case "terminal", "markdown", "json":
	default:
		return usageError("--format %q: expected terminal, markdown or json", fl.format)
	}
	formats, err := reports.ParseFormats(fl.reportFormats)
	if err != nil {
		return usageError("--report-format: %w", err)
	}
	cs, err := loadContracts(fl.contracts)
	if err != nil {
		return configError(err)
	}

	reg := redact.New()
	stderr := reg.Writer(cmd.ErrOrStderr())
	oldB, oldT, err := readSide(oldPath)
	if err != nil {
		return err
	}
	newB, newT, err := readSide(newPath)
	if err != nil {
		return err
	}
	if len(fl.mockDrift)+len(fl.mockFaults) > 0 {
		if newT == nil {
			return usageError("--new-mock-drift and --new-mock-fault need the new side to be a mock target file, not the baseline %s", newPath)
		}
		if err := applyMockFlags(newT, fl.mockDrift, fl.mockFaults); err != nil {
			return err
		}
	}
	for _, tg := range []*target.Target{oldT, newT} {
		if tg == nil {
			continue
		}
		if err := prepareSide(cmd.ErrOrStderr(), tg, cs); err != nil {
			return err
		}
	}
	var h *baseline.Hasher
	if oldT != nil || newT != nil {
		if h, err = fl.hasher(reg); err != nil {
			return err
		}
	}
	started := time.Now()
	if oldT != nil {
		if oldB, err = captureTarget(cmd.Context(), oldT, cs, reg, h, fl.captureFlags, stderr); err != nil {
			return err
		}
	}
	if newT != nil {
		if newB, err = captureTarget(cmd.Context(), newT, cs, reg, h, fl.captureFlags, stderr); err != nil {
			return err
		}
	}
	if fl.writeBaselines != "" {
		if err := saveBaselines(fl.writeBaselines, reg, map[string]*baseline.Baseline{"old.json": live(oldB, oldT != nil), "new.json": live(newB, newT != nil)}); err != nil {
			return failed(err)
		}
	}

	d, err := diff.Compare(oldB, newB, diff.Options{FailOn: failOn, Accept: fl.accept, Gates: gates, Defaults: defaultContracts(cs),
		OldFile: oldPath, NewFile: newPath, OldLive: oldT != nil, NewLive: newT != nil})
	if err != nil {
		return usageError("%w", err)
	}
	run := diff.ToRun(d, results.Tool{Name: "idpconform", Version: toolVersion()}, started, time.Now())

	var paths []string
	if fl.reportDir != "" {
		if paths, err = reports.Write(fl.reportDir, run, reg, formats...); err != nil {
			return failed(err)
		}
	}
	if err := appendStepSummary(run, reg); err != nil {
		fmt.Fprintln(stderr, "idpconform: step summary:", err)
	}
	out := reg.Writer(cmd.OutOrStdout())
	red := run.Redacted(reg)
	switch fl.format {
	case "markdown":
		err = reports.WriteMarkdown(out, red)
	case "json":
		err = reports.WriteJSON(out, red)
	default:
		err = reports.WriteSummary(out, red)
		if err == nil && len(paths) > 0 {
			fmt.Fprintf(out, "\nreports: %s\n", strings.Join(paths, ", "))
		}
	}
	if err != nil {
		return failed(fmt.Errorf("write %s: %w", fl.format, err))
	}
	if d.Failed {
		return &exitError{code: exitFailed}
	}
	return nil
}

// live returns the baseline of a side captured now, or nil.
func live(b *baseline.Baseline, captured bool) *baseline.Baseline {
	if !captured {
		return nil
	}
	return b
}

func saveBaselines(dir string, reg *redact.Registry, bs map[string]*baseline.Baseline) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--write-baselines: %w", err)
	}
	for name, b := range bs {
		if b == nil {
			continue
		}
		var buf bytes.Buffer
		if err := b.Encode(&buf); err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(dir, name), reg.Bytes(buf.Bytes())); err != nil {
			return err
		}
	}
	return nil
}

// defaultContracts are the standard contracts that govern claims of a kind
// neither target names a contract for.
func defaultContracts(cs contract.Set) map[string]*contract.Contract {
	out := map[string]*contract.Contract{}
	for kind, name := range map[string]string{
		baseline.KindIDToken: "oidc-core-id-token", baseline.KindAccessToken: "rfc9068-access-token",
		baseline.KindIntrospection: "rfc7662-introspection", baseline.KindTokenResponse: "rfc6749-token-response",
	} {
		if ct, err := cs.Get(name); err == nil {
			out[kind] = ct
		}
	}
	return out
}
