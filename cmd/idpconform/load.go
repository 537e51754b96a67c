package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
	"github.com/idpconform/idpconform/loadtest"
	"github.com/idpconform/idpconform/mockidp"
	"github.com/idpconform/idpconform/reports"
	fw "github.com/idpconform/idpconform/suites/framework"
)

// defaultLoadAlg is the embedded mock's signing algorithm under load unless
// the user asks for another: RS256 signing is ~90% of a token endpoint's CPU
// (../shared/PERFORMANCE.md), so an RS256 mock would measure RSA, not the
// tool or the flow.
const defaultLoadAlg = "ES256"

type loadFlags struct {
	target, mockProfile, mockAlg string
	mockDrift, mockFaults        []string
	scenario, client             string
	rate, steps, ramp            string
	duration                     time.Duration
	findCapacity                 bool
	maxRate                      string
	maxProbes                    int
	precision                    float64
	maxHits                      uint64
	slos                         []string
	httpVersion                  string
	workers, maxWorkers          uint64
	timeout                      time.Duration
	maxConnections               int
	verifyEvery, verifyMax       uint64
	verifyWorkers                int
	noVerify                     bool
	shard                        string
	startAt                      string
	out                          string
	reportOnly                   bool
	quiet                        bool
	targetPID                    int
	minAttempted                 float64
	debug                        bool
	pool                         uint64
	poolTimeout                  time.Duration
}

func newLoadCmd() *cobra.Command {
	var fl loadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Load-test an IdP endpoint with vegeta: latency, throughput, SLO gates, correctness under load",
		Long: `load sends requests at a fixed rate (an open model: a slow IdP cannot slow the
generator and hide its latency) and reports latency percentiles, throughput,
errors grouped by status and OAuth error code, and whether the IdP stayed
correct: no access token, refresh token or jti issued twice, and a sample of
issued tokens verified (signature, claims, contract) on a separate worker pool.

With no --target it runs against the bundled mock, started in-process and
signing with ES256 unless --mock-alg says otherwise (RS256 signing would be
most of what is measured). The generator then shares the CPU with the mock:
judge the figures as a ratio, not an absolute.

Rate models (each attack lasts --duration and stops at rate x duration hits):
  --rate R                  one constant rate (default)
  --steps R1,R2,...         each rate in turn
  --ramp FROM:TO            the rate moving linearly from FROM to TO
  --find-capacity           the highest rate meeting every SLO, found by
                            doubling from --rate, then bisecting; a failed
                            probe is run once more before it counts

Honest numbers: vegeta's workers are capped (--max-workers). When the
generator cannot send the requested rate, the attempted rate falls; a step
whose attempted rate is under 98% of the requested one is marked invalid
(and fails the run), because its latencies measure the generator, not the
IdP. When every worker was in flight the step says "worker cap reached"
(rate x latency needed more than --max-workers); otherwise the generator was
short of CPU. The CPU the process spent per request is reported beside every
step. Rates are 0.01/s to 1000000/s per process; shard for more.

SLOs come from --slo (repeatable) or the target file's slos: section; flags
replace the file's. Latency and success objectives gate every step,
throughput the best step. A breach exits 1 naming the SLO, the measured value
and the margin. Without an SLO, latency and success are not gated (the
summary says so), but a run in which no response succeeded fails ("at least
one successful response").

The target's tls: section (ca_file, insecure_skip_verify) applies to the
attack's connections as to setup and preparation.

A sample of issued tokens is verified (one in --verify-every, and the first
of each kind); when none could be verified (opaque tokens) that gate is n/a,
and it fails if --verify-every was given.

Results go to --out: results.bin (vegeta's gob encoding, bodies and headers
stripped: 'vegeta report results.bin' and 'vegeta plot' read it),
results.json (the full measurements), junit.xml (one test per gate),
report.html (one self-contained page: gates, latency percentiles over time,
latency histograms, requested against attempted rate, errors), summary.md
(also appended to $GITHUB_STEP_SUMMARY when set), an HDR histogram per step,
and the digests of every credential seen (for merges). 'idpconform report
--in DIR' renders them again.
With --shard i/n the process sends 1/n of every rate and writes
shard-i-of-n.* files; 'idpconform load merge' joins the shards into one
report. Ctrl-C stops the attack cleanly and keeps everything measured so far.

Scenarios:` + scenarioHelp() + `

Scenarios that need credentials prepare them before the first attack with
real requests, bounded by --pool (how many; 0 sizes the pool from the plan,
at most 10000) and --pool-timeout; their cost is reported apart from the
attack's figures:
  refresh        refresh tokens from logins (authorization code flows as the
                 target's users, through its login driver). Each is sent
                 once: with rotation the new one goes back into the pool
                 (default size: one second of hits at the top rate), without
                 it every hit spends one (default: every hit of the plan).
                 A token answered 429, 5xx or not at all goes back unused.
                 A pool that runs dry stops the attack, says why, and fails
                 the run. After the attacks a few tokens are refreshed and
                 sent again: an IdP that rotates must refuse the replay.
  introspection  access tokens from client credentials grants (default 100),
                 introspected in turn; one near its expiry (expires_in or
                 exp) is minted again, so every token asked about is live
  akkess-token   IdP access tokens of the akkess user from logins (default
                 16); the target's akkess: section names the endpoint,
                 tenant and expiry (fixtures/targets/mock-akkess.yaml for
                 the bundled mock). Tokens near their expiry are skipped;
                 when none is left the attack stops and says why
  authcode       one login, so that a login the IdP refuses fails at once
authcode measures the IdP's login path, the most expensive thing it does:
Keycloak's sizing guide plans ~15 password logins/s per vCPU against ~120
client credentials grants, so ask for rates accordingly. It logs in with the
form driver, in a fresh session per hit.

Exit codes: 0 every gate passed, 1 a gate failed or the run was interrupted,
2 bad usage, configuration or an unreachable target.`,
		Example: `  # 200 client-credentials grants per second for 30 s against the bundled mock:
  idpconform load --rate 200/s --duration 30s --slo 'p99<=50ms' --slo 'success>=99.9%'

  # A real IdP, SLOs from its target file, a staircase of rates:
  export IDP_CLIENT_SECRET=...
  idpconform load --target my-idp.yaml --steps 50/s,100/s,200/s,400/s --duration 20s

  # The highest rate the IdP serves with p99 under 100 ms:
  idpconform load --target my-idp.yaml --find-capacity --rate 50/s --slo 'p99<=100ms' --slo 'success>=99.9%'

  # Shard one attack over two processes (or machines), then merge:
  START=$(date -u -d '+5 seconds' +%FT%TZ)
  idpconform load --target my-idp.yaml --rate 1000/s --shard 0/2 --start-at $START --out run1 --report-only &
  idpconform load --target my-idp.yaml --rate 1000/s --shard 1/2 --start-at $START --out run1 --report-only
  idpconform load merge --out run1/merged --slo 'p99<=100ms' run1

  # Refresh tokens: 500 seeded by logins, then 100 refreshes a second:
  idpconform load --scenario refresh --pool 500 --rate 100/s --duration 30s

  # Whole logins, and the Akkess exchange of the bundled mock's akkess profile:
  idpconform load --scenario authcode --rate 20/s --slo 'p99<=500ms'
  idpconform load --target fixtures/targets/mock-akkess.yaml --scenario akkess-token --rate 100/s

  # What vegeta says about the same results, and our report rendered again
  # (vegeta's CLI: go install github.com/tsenart/vegeta/v12@v12.13.0):
  vegeta report idpconform-load/results.bin
  idpconform report --in idpconform-load`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLoad(cmd, fl) },
	}
	f := cmd.Flags()
	f.StringVarP(&fl.target, "target", "t", "", "target file (YAML); default: the bundled mock")
	f.BoolVar(&fl.debug, "debug", false, "log the HTTP exchanges of setup and token verification to stderr (redacted); attack hits are not logged")
	f.StringVar(&fl.mockProfile, "mock-profile", "", "run against the bundled mock as this vendor, with its bundled target fixtures/targets/mock-PROFILE.yaml (with --target: only swap that file's mock profile): "+strings.Join(target.MockProfiles, ", "))
	f.StringArrayVar(&fl.mockDrift, "mock-drift", nil, "add a drift to the bundled mock (repeatable), e.g. rotate-key=5; list: idpconform mock --list")
	f.StringArrayVar(&fl.mockFaults, "mock-fault", nil, "add a fault to the bundled mock (repeatable), e.g. latency=20ms..80ms@token; list: idpconform mock --list")
	f.StringVar(&fl.mockAlg, "mock-alg", "", "signing algorithm of the embedded mock (default "+defaultLoadAlg+" for load; RS256, PS256, ES256, ES384, ES512, EdDSA)")
	f.StringVarP(&fl.scenario, "scenario", "s", "client-credentials", "what each hit does: "+strings.Join(loadtest.ScenarioNames(), ", "))
	f.StringVar(&fl.client, "client", "", "target client to act as (default: the first registered for the scenario's grant)")
	f.StringVarP(&fl.rate, "rate", "r", "50/s", "requests per second (500/s, 30/m, 5/100ms); the first probe of --find-capacity")
	f.DurationVarP(&fl.duration, "duration", "d", 10*time.Second, "length of each attack: the run, each step, the ramp, each capacity probe")
	f.StringVar(&fl.steps, "steps", "", "comma-separated rates run one after another, e.g. 100/s,200/s,400/s")
	f.StringVar(&fl.ramp, "ramp", "", "rate moving linearly over --duration, FROM:TO, e.g. 50/s:500/s")
	f.BoolVar(&fl.findCapacity, "find-capacity", false, "search for the highest rate meeting every latency and success SLO")
	f.StringVar(&fl.maxRate, "max-rate", "100000/s", "highest rate --find-capacity tries")
	f.IntVar(&fl.maxProbes, "max-probes", loadtest.DefaultMaxProbes, "most attacks --find-capacity runs")
	f.Float64Var(&fl.precision, "precision", loadtest.DefaultPrecision, "--find-capacity stops when the best passing and lowest failing rate are this close (fraction)")
	f.Uint64Var(&fl.maxHits, "max-hits", loadtest.DefaultMaxHits, "bound on the hits of each attack (rate x duration beyond it is refused)")
	f.StringArrayVar(&fl.slos, "slo", nil, "service level objective, repeatable: "+slo.Examples)
	f.StringVar(&fl.httpVersion, "http", loadtest.HTTP1, "HTTP version: 1.1, or 2 (h2 by ALPN on https, h2c prior knowledge on http)")
	f.Uint64Var(&fl.workers, "workers", loadtest.DefaultWorkers, "initial vegeta workers")
	f.Uint64Var(&fl.maxWorkers, "max-workers", loadtest.DefaultMaxWorkers, "cap on vegeta workers (requests in flight)")
	f.DurationVar(&fl.timeout, "timeout", 0, "bound on each request (default: the target's request_timeout)")
	f.IntVar(&fl.maxConnections, "max-connections", 0, "bound on connections to the target (0: as many as workers)")
	f.Uint64Var(&fl.verifyEvery, "verify-every", loadtest.DefaultVerifyEvery, "verify one issued token in this many accepted responses (the first of each kind always); given, a run with no token verifiable fails")
	f.Uint64Var(&fl.verifyMax, "verify-max", loadtest.DefaultVerifyMax, "verify at most this many tokens in the run")
	f.IntVar(&fl.verifyWorkers, "verify-workers", loadtest.DefaultVerifyWorkers, "verification workers (they share the CPU with the generator)")
	f.BoolVar(&fl.noVerify, "no-verify", false, "do not verify issued tokens")
	f.StringVar(&fl.shard, "shard", "", "run shard INDEX/COUNT of the attack (0-based, like JOB_COMPLETION_INDEX): 1/COUNT of every rate")
	f.StringVar(&fl.startAt, "start-at", "", "wait until this RFC 3339 time before the first hit, so shards start together")
	f.StringVarP(&fl.out, "out", "o", "idpconform-load", "directory for results.bin, results.json, junit.xml, report.html, summary.md, HDR histograms")
	f.BoolVar(&fl.reportOnly, "report-only", false, "write results and exit 0 even when a gate fails (shards: let the merge gate)")
	f.BoolVarP(&fl.quiet, "quiet", "q", false, "no progress line")
	f.IntVar(&fl.targetPID, "target-pid", 0, "pid of a target process on this machine whose CPU to record (Linux)")
	f.Float64Var(&fl.minAttempted, "min-attempted", loadtest.DefaultMinAttempted, "a step is invalid when its attempted rate is under this share of the requested one")
	f.Uint64Var(&fl.pool, "pool", 0, "credentials to prepare before the attack (refresh: refresh tokens from logins; introspection: access tokens; akkess-token: IdP tokens from logins); 0 sizes the pool from the plan")
	f.DurationVar(&fl.poolTimeout, "pool-timeout", loadtest.DefaultPoolTimeout, "bound on preparing the pool; the attack runs with what came by then")
	cmd.MarkFlagsMutuallyExclusive("steps", "ramp", "find-capacity")
	cmd.MarkFlagsMutuallyExclusive("no-verify", "verify-every")
	cmd.AddCommand(newLoadMergeCmd())
	return cmd
}

// pooledScenarios names the scenarios whose credentials --pool counts.
func pooledScenarios() []string {
	var out []string
	for _, n := range loadtest.ScenarioNames() {
		if loadtest.Scenarios[n].Pool != "" {
			out = append(out, n)
		}
	}
	return out
}

func scenarioHelp() string {
	var b strings.Builder
	for _, n := range loadtest.ScenarioNames() {
		fmt.Fprintf(&b, "\n  %-20s %s", n, loadtest.Scenarios[n].Summary)
	}
	return b.String()
}

// loadPlan turns the rate flags into a plan.
func loadPlan(fl loadFlags) (loadtest.Plan, error) {
	p := loadtest.Plan{Model: loadtest.Constant, Duration: fl.duration, MaxHits: fl.maxHits, MaxProbes: fl.maxProbes, Precision: fl.precision}
	rate, err := slo.ParseRate(fl.rate)
	if err != nil {
		return p, fmt.Errorf("--rate: %w", err)
	}
	p.Rates = []float64{rate}
	// Each rate is checked here, where the flag that gave it is known, as
	// the share one process sends: shards divide it.
	share := 1.0
	if sh, err := loadtest.ParseShard(fl.shard); fl.shard != "" && err == nil {
		share = float64(sh.Count)
	}
	checkRate := func(r float64) error { return loadtest.CheckRate(r / share) }
	flag := "--rate"
	switch {
	case fl.steps != "":
		p.Model, flag = loadtest.Steps, "--steps"
		if p.Rates, err = loadtest.ParseRates(fl.steps); err != nil {
			return p, fmt.Errorf("--steps: %w", err)
		}
	case fl.ramp != "":
		p.Model = loadtest.Ramp
		if p.From, p.To, err = loadtest.ParseRamp(fl.ramp); err != nil {
			return p, fmt.Errorf("--ramp: %w", err)
		}
		for _, r := range []float64{p.From, p.To} {
			if err := checkRate(r); err != nil {
				return p, fmt.Errorf("--ramp: %w", err)
			}
		}
		return p, nil
	case fl.findCapacity:
		p.Model = loadtest.FindCapacity
		if p.MaxRate, err = slo.ParseRate(fl.maxRate); err != nil {
			return p, fmt.Errorf("--max-rate: %w", err)
		}
		if err := checkRate(p.MaxRate); err != nil {
			return p, fmt.Errorf("--max-rate: %w", err)
		}
	}
	for _, r := range p.Rates {
		if err := checkRate(r); err != nil {
			return p, fmt.Errorf("%s: %w", flag, err)
		}
	}
	return p, nil
}

func runLoad(cmd *cobra.Command, fl loadFlags) error {
	plan, err := loadPlan(fl)
	if err != nil {
		return usageError("%w", err)
	}
	var shard *loadtest.Shard
	if fl.shard != "" {
		s, err := loadtest.ParseShard(fl.shard)
		if err != nil {
			return usageError("--shard: %w", err)
		}
		if plan.Model == loadtest.FindCapacity {
			return usageError("--shard and --find-capacity cannot be combined: a capacity search decides each probe on the whole attack; run it from one machine or search per shard")
		}
		shard = &s
		plan = plan.Split(s)
	}
	if err := plan.Validate(); err != nil {
		return usageError("%w", err)
	}
	if fl.minAttempted <= 0 || fl.minAttempted > 1 {
		return usageError("--min-attempted %v: expected a fraction above 0 and at most 1", fl.minAttempted)
	}
	if fl.maxWorkers == 0 {
		return usageError("--max-workers must be at least 1")
	}
	if fl.pool > loadtest.MaxPool {
		return usageError("--pool %d: at most %d (every credential is held in memory)", fl.pool, loadtest.MaxPool)
	}
	if fl.poolTimeout <= 0 {
		return usageError("--pool-timeout must be positive")
	}
	switch fl.httpVersion {
	case loadtest.HTTP1, loadtest.HTTP2:
	default:
		return usageError("--http %q: expected %s or %s", fl.httpVersion, loadtest.HTTP1, loadtest.HTTP2)
	}
	info, err := loadtest.LookupScenario(fl.scenario)
	if err != nil {
		return usageError("--scenario: %w", err)
	}
	if fl.pool > 0 && info.Pool == "" {
		return usageError("--pool: scenario %s prepares no pool; it applies to %s", info.Name, strings.Join(pooledScenarios(), ", "))
	}
	var startAt time.Time
	if fl.startAt != "" {
		if startAt, err = time.Parse(time.RFC3339, fl.startAt); err != nil {
			return usageError("--start-at %q: expected an RFC 3339 time such as 2026-11-24T10:00:00Z", fl.startAt)
		}
		if time.Until(startAt) > time.Hour {
			return usageError("--start-at %s is more than an hour away", fl.startAt)
		}
	}

	tg, err := loadTarget(fl.target, fl.mockProfile)
	if err != nil {
		return err
	}
	if err := applyMockFlags(tg, fl.mockDrift, fl.mockFaults); err != nil {
		return err
	}
	warnTarget(cmd.ErrOrStderr(), tg)
	if fl.mockAlg != "" && tg.Mock == nil {
		return usageError("--mock-alg needs a mock target, but %s names the real issuer %s", tg.File, tg.Issuer)
	}
	objectives, err := tg.Objectives()
	if err != nil {
		return configError(fmt.Errorf("%s: slos: %w", tg.File, err))
	}
	if len(fl.slos) > 0 {
		if objectives, err = slo.ParseAll(fl.slos); err != nil {
			return usageError("--slo: %w", err)
		}
	}
	if plan.Model == loadtest.FindCapacity && !hasJudgingSLO(objectives) {
		return usageError("--find-capacity needs a latency or success SLO to search against, e.g. --slo 'p99<=200ms' --slo 'success>=99.9%%', or slos: in the target file")
	}
	client, err := loadtest.PickClient(tg, info, fl.client)
	if err != nil {
		return usageError("%w", err)
	}
	cs, err := loadContracts("")
	if err != nil {
		return configError(err)
	}
	if err := checkContracts(tg, cs); err != nil {
		return configError(err)
	}

	reg := redact.New()
	reg.Add(tg.Secrets()...)
	f := fw.New(tg, reg, cs)
	if fl.debug {
		// The exchanges of setup and verification; the attack's own hits
		// are counted, never logged one by one.
		f.Debug = cmd.ErrOrStderr()
	}
	alg := ""
	if tg.Mock != nil {
		alg = fl.mockAlg
		if alg == "" {
			alg = defaultLoadAlg
		}
		f.MockOptions = func(o *mockidp.Options) { o.SigningAlg = alg }
	}
	setupCtx, cancelSetup := context.WithTimeout(cmd.Context(), 2*tg.RequestTimeout.D()+5*time.Second)
	err = f.Setup(setupCtx)
	cancelSetup()
	defer func() {
		if err := f.Teardown(); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "idpconform: stop the embedded mock:", err)
		}
	}()
	if err != nil {
		return configError(err)
	}
	if f.DiscoveryErr != nil && (f.Endpoints.Token == "" || (info.Name == "jwks" && f.Endpoints.JWKS == "")) {
		return configError(fmt.Errorf("target unreachable: %w", f.DiscoveryErr))
	}
	if f.Mock != nil {
		alg = string(f.Mock.Profile().SigningAlg)
	}

	sc, err := info.New(loadtest.Env{Target: tg, Client: client, Issuer: f.Issuer, Endpoints: f.Endpoints, OAuth: f.OAuth, Secrets: reg,
		Pool: loadtest.PoolOptions{Size: fl.pool, Timeout: fl.poolTimeout}})
	if err != nil {
		return configError(err)
	}

	base := "results"
	if shard != nil {
		base = fmt.Sprintf("shard-%d-of-%d", shard.Index, shard.Count)
	}
	if err := os.MkdirAll(fl.out, 0o755); err != nil {
		return configError(fmt.Errorf("--out: %w", err))
	}
	binPath := filepath.Join(fl.out, base+loadtest.ResultsExt)
	binFile, err := os.Create(binPath)
	if err != nil {
		return configError(fmt.Errorf("results file: %w", err))
	}
	defer binFile.Close()
	bin := bufio.NewWriterSize(binFile, 1<<16)

	timeout := fl.timeout
	if timeout <= 0 {
		timeout = tg.RequestTimeout.D()
	}
	scope := "idpconform process (the load generator)"
	if f.Mock != nil {
		scope = "idpconform process (the load generator and the embedded mock)"
	}
	stderr := cmd.ErrOrStderr()
	cfg := loadtest.Config{
		Scenario: sc, Client: client.Name, Plan: plan, SLOs: objectives,
		HTTP:    loadtest.HTTPOptions{Version: fl.httpVersion, Timeout: timeout, MaxConnections: fl.maxConnections, TLS: tg.TLSConfig()},
		Workers: fl.workers, MaxWorkers: fl.maxWorkers, MaxBody: tg.MaxResponseBytes,
		MinAttemptedRatio: fl.minAttempted,
		VerifyEvery:       fl.verifyEvery, VerifyMax: fl.verifyMax, VerifyWorkers: fl.verifyWorkers,
		Shard: shard, Results: bin, CPUScope: scope, TargetPID: fl.targetPID, Secrets: reg,
	}
	if !fl.noVerify {
		cfg.Checker = tokenChecker(f, tg, client, cs)
		cfg.VerifyRequired = cmd.Flags().Changed("verify-every")
	}
	if !fl.quiet {
		cfg.Progress = stderr
		cfg.TTY = isTTY(stderr) && os.Getenv("CI") == ""
	}

	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	stopSignals := onInterrupt(stderr, cancel)
	defer stopSignals()
	if !startAt.IsZero() {
		fmt.Fprintf(stderr, "waiting until %s to start\n", startAt.Format(time.RFC3339))
		select {
		case <-time.After(time.Until(startAt)):
		case <-ctx.Done():
		}
	}

	started := time.Now()
	rep, runErr := loadtest.Run(ctx, cfg)
	ended := time.Now()
	if err := bin.Flush(); err != nil && runErr == nil {
		runErr = fmt.Errorf("write %s: %w", binPath, err)
	}
	if rep == nil {
		return usageError("%w", runErr)
	}
	rep.Load.SigningAlg = alg
	rep.Load.Files = []string{binPath}
	run := loadtest.ToRun(rep.Load.Redacted(reg), results.Tool{Name: "idpconform", Version: toolVersion()},
		results.Target{Name: tg.Name, Issuer: f.Issuer, MockProfile: mockProfile(tg), File: tg.File}, started, ended)

	paths, werr := writeLoadOutputs(fl.out, base, shard != nil, run, rep, reg)
	safeOut := reg.Writer(cmd.OutOrStdout())
	if err := reports.WriteSummary(safeOut, run); err != nil {
		return failed(fmt.Errorf("write summary: %w", err))
	}
	fmt.Fprintf(safeOut, "\nfiles: %s\n", strings.Join(append([]string{binPath}, paths...), ", "))
	if werr != nil {
		return failed(werr)
	}
	// A shard's summary is a part; the merge appends the whole.
	if shard == nil {
		if err := appendStepSummary(run, reg); err != nil {
			return failed(err)
		}
	}
	if runErr != nil {
		return failed(runErr)
	}
	if !run.Passed() && !fl.reportOnly {
		return &exitError{code: exitFailed}
	}
	return nil
}

// onInterrupt cancels the run on the first SIGINT or SIGTERM, so the attack
// stops cleanly and its results are kept; after that the signals are
// released, and a second one ends the process the default way.
func onInterrupt(w io.Writer, cancel context.CancelFunc) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-sigs:
			signal.Stop(sigs)
			fmt.Fprintln(w, "\ninterrupted: stopping the attack and keeping the results (interrupt again to quit at once)")
			cancel()
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
		<-finished
	}
}

func hasJudgingSLO(os []slo.Objective) bool {
	for _, o := range os {
		if o.Kind() != slo.KindRate {
			return true
		}
	}
	return false
}

func mockProfile(tg *target.Target) string {
	if tg.Mock == nil {
		return ""
	}
	return tg.Mock.Profile
}

// tokenChecker verifies sampled tokens with the framework's verifier (the
// target's alg allow-list and leeway, the issuer's JWKS) and contracts.
func tokenChecker(f *fw.Framework, tg *target.Target, c target.Client, cs contract.Set) loadtest.TokenChecker {
	ch := &loadtest.JWTChecker{Verifier: f.Verifier, Issuer: f.Issuer, ClientID: c.ID, Contracts: map[loadtest.CredentialKind]*contract.Contract{}}
	if ct, err := cs.Get(tg.Contracts.AccessToken); err == nil {
		ch.Contracts[loadtest.AccessToken] = ct
	}
	if ct, err := cs.Get(tg.Contracts.IDToken); err == nil {
		ch.Contracts[loadtest.IDToken] = ct
	}
	if ak := tg.Akkess; ak != nil {
		// Seed 003: the t1 token is Akkess's, not the IdP's: its issuer is
		// its own, its audience the tenant, cty t1, and it lives the
		// expiryInSecs asked for.
		ch.Kinds = map[loadtest.CredentialKind]loadtest.KindCheck{loadtest.AkkessT1: {
			Expected: verify.Expected{Audience: ak.Tenant}, Cty: "t1",
			Context: contract.Context{TTL: ak.Expiry.D(), Skew: tg.ClockSkew.D()},
		}}
		if ct, err := cs.Get(tg.Contracts.AkkessT1); err == nil {
			ch.Contracts[loadtest.AkkessT1] = ct
		}
	}
	return ch
}

// writeLoadOutputs writes the run record, JUnit (unsharded), the digests
// and an HDR histogram per step beside the results file.
func writeLoadOutputs(dir, base string, shard bool, run *results.Run, rep *loadtest.Report, reg *redact.Registry) ([]string, error) {
	var paths []string
	if shard {
		p := filepath.Join(dir, base+loadtest.RunExt)
		if err := writeRedacted(p, reg, func(w io.Writer) error { return reports.WriteJSON(w, run) }); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	} else {
		ps, err := reports.Write(dir, run, reg)
		paths = append(paths, ps...)
		if err != nil {
			return paths, err
		}
	}
	p := filepath.Join(dir, base+loadtest.DigestsExt)
	if err := writeFileAtomic(p, rep.WriteDigests); err != nil {
		return paths, err
	}
	paths = append(paths, p)
	for i := range rep.Load.Steps {
		p := filepath.Join(dir, fmt.Sprintf("%s-hdr-%d.txt", base, i+1))
		if err := writeFileAtomic(p, func(w io.Writer) error { return rep.WriteHDR(w, i) }); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// writeRedacted renders a whole document, redacts it in one pass (a secret
// split over two writes would escape a redacting writer) and writes it.
func writeRedacted(path string, reg *redact.Registry, render func(io.Writer) error) error {
	var b strings.Builder
	if err := render(&b); err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, reg.String(b.String()))
		return err
	})
}

// writeFileAtomic writes via a temporary file and a rename, so an
// interrupted process never leaves half a file where a merge expects one.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriter(tmp)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newLoadMergeCmd() *cobra.Command {
	var (
		out, minAttempted string
		slos              []string
		reportOnly        bool
	)
	cmd := &cobra.Command{
		Use:   "merge [flags] RESULTS.bin|DIR...",
		Short: "Merge the result files of several load shards into one report, and gate it",
		Long: `merge reads the vegeta result files of several processes or machines (the
shards of one attack, 'idpconform load --shard i/n'; a directory stands for
every shard-*.bin in it), decodes every result again (vegeta's practice for
distributed attacks) and writes one report:
results.bin (all results, for 'vegeta report' and 'vegeta plot'),
results.json, junit.xml, report.html, summary.md and an HDR histogram per
step, into --out.

Beside each FILE.bin, merge reads FILE.json (the shard's run record: the
requested rate, which is summed over shards, and each shard's validity and
verification outcome) and FILE.digests (to check that no credential was
issued twice across shards). Files from plain 'vegeta attack' merge too; what
only those records know is then reported as unknown, and such steps are
invalid.

A merge of an attack with a shard missing fails its "every shard present"
gate; what the merge could not check is listed under notes in the summary
and results.json.

SLOs come from --slo, or else from the shards' records. Exit codes: 0 every
gate passed, 1 a gate failed, 2 bad usage or unreadable files.`,
		Example: `  idpconform load merge --out merged results/shard-*.bin
  idpconform load merge --out merged results
  idpconform load merge --slo 'p99<=100ms' --slo 'throughput>=2000/s' a/shard-0-of-2.bin b/shard-1-of-2.bin`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			var objectives []slo.Objective
			if len(slos) > 0 {
				var err error
				if objectives, err = slo.ParseAll(slos); err != nil {
					return usageError("--slo: %w", err)
				}
			}
			ratio, err := parseFraction(minAttempted)
			if err != nil {
				return usageError("--min-attempted: %w", err)
			}
			files, err = expandShardDirs(files)
			if err != nil {
				return usageError("%w", err)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return configError(fmt.Errorf("--out: %w", err))
			}
			binPath := filepath.Join(out, "results"+loadtest.ResultsExt)
			for _, f := range files {
				if same, _ := samePath(f, binPath); same {
					return usageError("%s is both an input and the merged output; choose another --out", f)
				}
			}
			reg := redact.New()
			tmp, err := os.CreateTemp(out, ".results.bin.*")
			if err != nil {
				return configError(fmt.Errorf("--out: %w", err))
			}
			defer os.Remove(tmp.Name())
			bw := bufio.NewWriterSize(tmp, 1<<16)
			started := time.Now()
			m, err := loadtest.Merge(files, loadtest.MergeOptions{SLOs: objectives, MinAttemptedRatio: ratio, Results: bw, Secrets: reg})
			if err == nil {
				err = bw.Flush()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return configError(err)
			}
			if err := os.Rename(tmp.Name(), binPath); err != nil {
				return failed(fmt.Errorf("write %s: %w", binPath, err))
			}
			m.Load.Files = []string{binPath}
			tg := results.Target{Name: "merged"}
			if r := firstRecord(m.Runs); r != nil {
				tg = r.Target
			}
			run := loadtest.ToRun(m.Load.Redacted(reg), results.Tool{Name: "idpconform", Version: toolVersion()}, tg, started, time.Now())
			paths, werr := writeLoadOutputs(out, "results", false, run, m.Report, reg)
			// The merge's notes are in the run's, which the summary lists.
			safeOut := reg.Writer(cmd.OutOrStdout())
			if err := reports.WriteSummary(safeOut, run); err != nil {
				return failed(err)
			}
			fmt.Fprintf(safeOut, "\nfiles: %s\n", strings.Join(append([]string{binPath}, paths...), ", "))
			if werr != nil {
				return failed(werr)
			}
			if err := appendStepSummary(run, reg); err != nil {
				return failed(err)
			}
			if !run.Passed() && !reportOnly {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "idpconform-load-merged", "directory for the merged report")
	cmd.Flags().StringArrayVar(&slos, "slo", nil, "service level objective, repeatable (default: the shards' own): "+slo.Examples)
	cmd.Flags().StringVar(&minAttempted, "min-attempted", "0.98", "a step is invalid when its attempted rate is under this share of the requested one")
	cmd.Flags().BoolVar(&reportOnly, "report-only", false, "write the report and exit 0 even when a gate fails")
	return cmd
}

// expandShardDirs replaces each directory argument with the shard result
// files in it: container images without a shell cannot expand a glob.
func expandShardDirs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("results %s: %w", a, err)
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "shard-*-of-*"+loadtest.ResultsExt))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s holds no shard-*-of-*%s files", a, loadtest.ResultsExt)
		}
		out = append(out, m...)
	}
	return out, nil
}

func firstRecord(runs []*results.Run) *results.Run {
	for _, r := range runs {
		if r != nil {
			return r
		}
	}
	return nil
}

func parseFraction(s string) (float64, error) {
	var v float64
	if _, err := fmt.Sscanf(s, "%g", &v); err != nil || v <= 0 || v > 1 {
		return 0, fmt.Errorf("%q: expected a fraction above 0 and at most 1", s)
	}
	return v, nil
}

func samePath(a, b string) (bool, error) {
	ai, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	bi, err := os.Stat(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(ai, bi), nil
}
