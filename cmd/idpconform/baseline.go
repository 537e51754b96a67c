package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpconform/idpconform/internal/atomicfile"
	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/target"
	fw "github.com/idpconform/idpconform/suites/framework"
)

// captureFlags are shared by `baseline capture` and `diff`.
type captureFlags struct {
	subKeyFile string
	samples    int
	budget     time.Duration
	contracts  string
	// mockDrift and mockFaults change the bundled mock of the captured
	// side (baseline capture) or of the new side (diff).
	mockDrift, mockFaults []string
}

func (c *captureFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.subKeyFile, "sub-key-file", "", "file holding the HMAC key of the keyed sub hashes (hex, or any text of 16 bytes or more); default: $"+baseline.SubKeyEnv+", else a key generated for this run and kept nowhere")
	f.IntVar(&c.samples, "samples", baseline.DefaultSamples, "extra requests per cheap operation (discovery, jwks, client credentials, introspection, userinfo) for latency percentiles; 0 for none")
	f.DurationVar(&c.budget, "samples-budget", baseline.DefaultBudget, "bound on the time the extra latency samples may take")
	f.StringVar(&c.contracts, "contracts", "", "directory of extra claim contracts (*.yaml), besides the bundled ones")
}

const subKeyHelp = `Keyed sub hashes: a baseline records, for each test user, an HMAC-SHA256
of the sub of their first login, never the sub. The key comes from
--sub-key-file or $` + baseline.SubKeyEnv + ` (keep it as a CI secret: with the key, anyone
holding a baseline could test guesses of a sub). Without one, a random key is
generated for the run and stored nowhere: the baseline then compares with
nothing else, and a diff against it reports sub continuity as not checked.
A diff of two target files uses one key for both sides either way. The
baseline records only an ID derived from the key, so equal IDs mean hashes
that compare.`

// hasher picks the key of the keyed hashes.
func (c *captureFlags) hasher(reg *redact.Registry) (*baseline.Hasher, error) {
	var text, from string
	switch {
	case c.subKeyFile != "":
		b, err := os.ReadFile(c.subKeyFile)
		if err != nil {
			return nil, usageError("--sub-key-file: %w", err)
		}
		text, from = string(b), "--sub-key-file "+c.subKeyFile
	case os.Getenv(baseline.SubKeyEnv) != "":
		text, from = os.Getenv(baseline.SubKeyEnv), "$"+baseline.SubKeyEnv
	default:
		h, err := baseline.GenerateHasher()
		if err != nil {
			return nil, failed(err)
		}
		return h, nil
	}
	reg.Add(strings.TrimSpace(text))
	h, err := baseline.NewHasher(baseline.ParseKey(text), baseline.KeyProvided)
	if err != nil {
		return nil, usageError("%s: %w", from, err)
	}
	return h, nil
}

func (c *captureFlags) check() error {
	if c.samples < 0 || c.samples > 1000 {
		return usageError("--samples %d: expected 0 to 1000", c.samples)
	}
	if c.budget <= 0 {
		return usageError("--samples-budget must be positive, got %s", c.budget)
	}
	return nil
}

func newBaselineCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Record the shape of an IdP in a baseline file, to diff against later",
		Long: `baseline records what an IdP issues, so that a later diff can tell what changed
without keeping a single token, secret or personal value. See 'baseline capture'.`,
		Example: `  idpconform baseline capture --target my-idp.yaml -o baselines/my-idp.json
  idpconform diff baselines/my-idp.json my-new-idp.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newBaselineCaptureCmd())
	return cmd
}

func newBaselineCaptureCmd() *cobra.Command {
	var (
		cf         captureFlags
		targetPath string
		out        string
	)
	cmd := &cobra.Command{
		Use:   "capture",
		Short: "Run the flows a target declares and record their shape in a baseline file",
		Long: `capture runs the flows the target declares (client credentials for every client
credentials client; authorization code with login, refresh, userinfo,
introspection and a second login for every test user; revocation; an Akkess
exchange when the target has an akkess: section) and error probes (wrong
client secret, unsupported grant, unknown code and refresh token, revoked
and reused refresh tokens, introspection without authentication or of an
unknown token, userinfo with an unknown token, revocation of an unknown
token), then writes their shape as JSON:

  - per token kind, flow and client: claim names, JSON types, presence,
    string lengths and estimated entropy, claim order, JOSE header values,
    lifetimes (exp - iat, expires_in), and the findings of the contract the
    target names for the kind (relations included);
  - error responses: status, error code, description;
  - the discovery document's members and its *_supported vocabularies;
  - the JWKS's key parameters, and whether the tokens of the capture still
    verify against the JWKS at its end;
  - latency percentiles per operation;
  - a keyed hash of each test user's sub and accounts.

A baseline holds no token, secret, claim value or test user name; free text
(error descriptions, failure reasons) passes through the run's secrets and
through every claim value seen, so it is fit to commit next to the target
file. A flow the IdP fails is recorded with its reason, not an error.

` + subKeyHelp + `

Exit codes: 0 the baseline was written (whatever the IdP did), 2 bad usage,
configuration or an unreachable target.`,
		Example: `  # The bundled mock imitating Akoya's old IdP:
  idpconform baseline capture --target fixtures/targets/mock-akoya-legacy.yaml -o old.json

  # A real IdP, with a key kept as a CI secret so later baselines compare:
  export IDP_CLIENT_SECRET=... IDPCONFORM_SUB_KEY=$(cat sub.key)
  idpconform baseline capture --target prod-idp.yaml -o baselines/prod.json

  # Then gate a change on it:
  idpconform diff baselines/prod.json new-idp.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBaselineCapture(cmd, targetPath, out, cf)
		},
	}
	cmd.Flags().StringVarP(&targetPath, "target", "t", "", "target file (YAML); default: the bundled mock")
	cmd.Flags().StringVarP(&out, "output", "o", "baseline.json", `baseline file to write ("-" for stdout)`)
	cf.register(cmd)
	cmd.Flags().StringArrayVar(&cf.mockDrift, "mock-drift", nil, "add a drift to the bundled mock of the target (repeatable), e.g. drop-claim=email; list: idpconform mock --list")
	cmd.Flags().StringArrayVar(&cf.mockFaults, "mock-fault", nil, "add a fault to the bundled mock of the target (repeatable); list: idpconform mock --list")
	return cmd
}

func runBaselineCapture(cmd *cobra.Command, targetPath, out string, cf captureFlags) error {
	if err := cf.check(); err != nil {
		return err
	}
	reg := redact.New()
	h, err := cf.hasher(reg)
	if err != nil {
		return err
	}
	cs, err := loadContracts(cf.contracts)
	if err != nil {
		return configError(err)
	}
	tg, err := loadTarget(targetPath, "")
	if err != nil {
		return err
	}
	if err := applyMockFlags(tg, cf.mockDrift, cf.mockFaults); err != nil {
		return err
	}
	if err := prepareSide(cmd.ErrOrStderr(), tg, cs); err != nil {
		return err
	}
	stderr := reg.Writer(cmd.ErrOrStderr())
	b, err := captureTarget(cmd.Context(), tg, cs, reg, h, cf, stderr)
	if err != nil {
		return err
	}
	if h.Key().Source == baseline.KeyGenerated {
		fmt.Fprintf(stderr, "note: sub hashes use a key generated for this run and kept nowhere; set %s (or --sub-key-file) to compare this baseline's subs with another's\n", baseline.SubKeyEnv)
	}
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		return failed(err)
	}
	data := reg.Bytes(buf.Bytes())
	if out == "-" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if err := atomicfile.Write(out, data); err != nil {
		return failed(err)
	}
	fmt.Fprintf(reg.Writer(cmd.OutOrStdout()), "baseline of %s: %s\n", tg.Name, out)
	return nil
}

// captureTarget starts the target (the embedded mock when it names one),
// captures it and stops it.
// The caller has checked it with prepareSide.
func captureTarget(ctx context.Context, tg *target.Target, cs contract.Set, reg *redact.Registry, h *baseline.Hasher, cf captureFlags, log io.Writer) (*baseline.Baseline, error) {
	reg.Add(tg.Secrets()...)
	f := fw.New(tg, reg, cs)
	setupCtx, cancel := context.WithTimeout(ctx, 2*tg.RequestTimeout.D()+5*time.Second)
	err := f.Setup(setupCtx)
	cancel()
	defer func() {
		if err := f.Teardown(); err != nil {
			fmt.Fprintln(log, "idpconform: stop the embedded mock:", err)
		}
	}()
	if err != nil {
		return nil, configError(err)
	}
	if f.DiscoveryErr != nil && f.Endpoints.Token == "" {
		return nil, configError(fmt.Errorf("target %s unreachable: %w", tg.Name, f.DiscoveryErr))
	}
	fmt.Fprintf(log, "capturing %s (%s)\n", tg.Name, f.Issuer)
	samples := cf.samples
	if samples == 0 {
		samples = -1
	}
	env := baseline.Env{Target: tg, Contracts: cs, Issuer: f.Issuer, Endpoints: f.Endpoints, Metadata: f.Metadata,
		DiscoveryErr: f.DiscoveryErr, OAuth: f.OAuth, Verifier: f.Verifier, Secrets: reg}
	b, err := baseline.Capture(ctx, env, baseline.Options{Hasher: h, Samples: samples, Budget: cf.budget, Tool: "idpconform " + toolVersion()})
	if err != nil {
		return nil, failed(err)
	}
	var failedFlows []string
	for _, fl := range b.Flows {
		if fl.Status == baseline.FlowFailed {
			failedFlows = append(failedFlows, fmt.Sprintf("%s: %s", fl.Key(), fl.Reason))
		}
	}
	fmt.Fprintf(log, "captured %s: %d flows (%d failed), %d shapes, %d probes\n", tg.Name, len(b.Flows), len(failedFlows), len(b.Shapes), len(b.Probes))
	for _, l := range failedFlows {
		fmt.Fprintf(log, "  failed flow %s\n", l)
	}
	return b, nil
}

// prepareSide checks a target file before anything is captured (a misspelt
// contract name must not cost a whole capture of the other side) and prints
// its warnings, as conform and load do.
func prepareSide(w io.Writer, tg *target.Target, cs contract.Set) error {
	if err := checkContracts(tg, cs); err != nil {
		return configError(err)
	}
	warnTarget(w, tg)
	return nil
}

// readSide reads a diff side: a baseline file (JSON with the baseline
// format) or a target file (YAML) to capture.
func readSide(path string) (*baseline.Baseline, *target.Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, usageError("%s: no such file; expected a target file (YAML) or a baseline file (JSON)", path)
		}
		return nil, nil, configError(fmt.Errorf("read %s: %w", path, err))
	}
	var head struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(data, &head) == nil && head.Format != "" {
		b, err := baseline.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, nil, configError(fmt.Errorf("%s: %w", path, err))
		}
		return b, nil, nil
	}
	tg, err := loadTarget(path, "")
	if err != nil {
		return nil, nil, err
	}
	return nil, tg, nil
}
