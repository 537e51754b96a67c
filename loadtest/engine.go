package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
)

// Config is one load run.
type Config struct {
	Scenario Scenario
	// Client names the target client the scenario acts as, for reports.
	Client string
	Plan   Plan
	// SLOs gate the run. With a Shard, throughput limits apply to the
	// shard's share; the merge gates on the whole.
	SLOs []slo.Objective
	HTTP HTTPOptions
	// Workers is vegeta's initial worker count; MaxWorkers caps it. A
	// capped pool shows a saturated generator as a lower attempted rate
	// (and an invalid step) instead of exploding latencies.
	Workers, MaxWorkers uint64
	// MaxBody bounds each response body read (vegeta.MaxBody).
	MaxBody int64
	// MinAttemptedRatio marks a step invalid when the attempted rate falls
	// under this share of the requested one. Default DefaultMinAttempted.
	MinAttemptedRatio float64

	// Checker verifies a sample of issued credentials off the hot path;
	// nil disables verification. One credential in VerifyEvery accepted
	// responses is offered, at most VerifyMax in the run, to VerifyWorkers
	// workers with a queue of VerifyQueue; after the run they get at most
	// VerifyBound to finish.
	Checker       TokenChecker
	VerifyEvery   uint64
	VerifyMax     uint64
	VerifyWorkers int
	VerifyQueue   int
	VerifyBound   time.Duration
	// VerifyRequired makes a run in which no sampled token could be
	// verified fail its verified-sample gate, rather than report it not
	// applicable: the user asked for verification by name.
	VerifyRequired bool

	// Shard is set when this process runs one part of a split attack.
	Shard *Shard
	// Results receives every result in vegeta's gob encoding, bodies and
	// headers stripped; nil writes none.
	Results io.Writer
	// Progress receives the progress line; nil shows none. TTY rewrites
	// one line in place, otherwise a plain line is written every
	// ProgressEvery.
	Progress      io.Writer
	TTY           bool
	ProgressEvery time.Duration
	// CPUScope says whose CPU the process figures include, e.g.
	// "process (generator and embedded mock)".
	CPUScope string
	// TargetPID, when set, has the target process's CPU recorded (Linux).
	TargetPID int
	// Secrets redacts error texts before they are written.
	Secrets *redact.Registry
}

// Defaults applied by Run to zero fields.
const (
	DefaultWorkers       = 10
	DefaultMaxWorkers    = 512
	DefaultTimeout       = 10 * time.Second
	DefaultMaxBody       = 1 << 20
	DefaultVerifyEvery   = 100
	DefaultVerifyMax     = 1000
	DefaultVerifyWorkers = 1
	DefaultVerifyQueue   = 256
	DefaultVerifyBound   = 30 * time.Second
)

// Report is the outcome of a run.
type Report struct {
	Load *results.Load
	// Stats of every step, for HDR histograms; same order as Load.Steps.
	steps  []*stepStats
	unique *uniqueness
}

// WriteDigests writes the digests of every credential seen, for a merge to
// check uniqueness across shards. It holds no token.
func (r *Report) WriteDigests(w io.Writer) error { return r.unique.writeDigests(w) }

// WriteHDR writes step i's latency distribution in HdrHistogram's plot
// format (vegeta report -type=hdrplot).
func (r *Report) WriteHDR(w io.Writer, i int) error {
	s := r.steps[i]
	s.mu.Lock()
	m := vegeta.Metrics{Requests: s.requests, Latencies: s.latency}
	s.mu.Unlock()
	return vegeta.NewHDRHistogramPlotReporter(&m).Report(w)
}

// Run executes the plan. It returns what was measured even when ctx is
// cancelled midway (Ctrl-C): the report is then marked interrupted. An
// error means the run could not be carried out (bad configuration, a
// results file that cannot be written).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	applyDefaults(&cfg)
	if err := cfg.Plan.Validate(); err != nil {
		return nil, err
	}
	if cfg.Scenario == nil {
		return nil, errors.New("no scenario")
	}
	tr, err := newTransport(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	defer tr.CloseIdleConnections()
	var rt http.RoundTripper = tr
	if f, ok := cfg.Scenario.(Flow); ok {
		rt = f.Transport(tr)
	}
	counter := newProtocolCounter(rt)
	flying := &inFlight{next: counter, timeout: cfg.HTTP.Timeout}

	// No Client.Timeout: flying bounds each hit (see inFlight).
	r := &runner{
		cfg:    cfg,
		client: &http.Client{Transport: flying, CheckRedirect: noRedirect},
		protos: counter,
		flying: flying,
		unique: newUniqueness(),
		url:    cfg.Secrets.String(cfg.Scenario.Endpoint()),
		errs:   map[string]string{},
		cpu:    cpuMeter{targetPID: cfg.TargetPID},
	}
	if cfg.Results != nil {
		r.enc = vegeta.NewEncoder(cfg.Results)
	}
	if cfg.Checker != nil {
		r.verify = newVerifyPool(cfg.Checker, cfg.VerifyWorkers, cfg.VerifyQueue, cfg.VerifyEvery)
	}

	load := &results.Load{
		Scenario: cfg.Scenario.Name(),
		Client:   cfg.Client,
		Endpoint: r.url,
		Model:    string(cfg.Plan.Model),
		Generator: results.LoadGenerator{
			HTTPVersion:       "HTTP/" + cfg.HTTP.Version,
			Workers:           cfg.Workers,
			MaxWorkers:        cfg.MaxWorkers,
			Timeout:           cfg.HTTP.Timeout,
			MinAttemptedRatio: cfg.MinAttemptedRatio,
			CPUScope:          cfg.CPUScope,
			NumCPU:            runtime.NumCPU(),
			GOMAXPROCS:        runtime.GOMAXPROCS(0),
		},
	}
	for _, o := range cfg.SLOs {
		load.SLOs = append(load.SLOs, o.Text)
	}
	if cfg.Shard != nil {
		load.Shard = &results.LoadShard{Index: cfg.Shard.Index, Count: cfg.Shard.Count}
	}
	rep := &Report{Load: load, unique: r.unique}

	prepErr := r.prepare(ctx, load)
	if prepErr == nil {
		switch cfg.Plan.Model {
		case FindCapacity:
			r.findCapacity(ctx, rep)
		case Ramp:
			d := cfg.Plan.Duration
			r.runStep(ctx, rep, step{
				name: fmt.Sprintf("ramp %s to %s", r.wholeRate(cfg.Plan.From), r.wholeRate(cfg.Plan.To)), model: "ramp",
				rate: cfg.Plan.From, rateEnd: cfg.Plan.To, duration: d,
				sched: newRamp(cfg.Plan.From, cfg.Plan.To, d, cfg.Plan.MaxHits),
			})
		default:
			for i, rate := range cfg.Plan.Rates {
				if ctx.Err() != nil {
					break
				}
				name := r.wholeRate(rate)
				if cfg.Plan.Model == Steps {
					name = fmt.Sprintf("step %d %s", i+1, name)
				}
				r.runStep(ctx, rep, step{name: name, model: "constant", rate: rate, duration: cfg.Plan.Duration,
					sched: newConstant(rate, cfg.Plan.Duration, cfg.Plan.MaxHits)})
				if r.stopped != "" {
					break
				}
			}
		}
	}
	var auditGates []results.LoadGate
	if a, ok := cfg.Scenario.(Auditor); ok && prepErr == nil && ctx.Err() == nil && len(load.Steps) > 0 {
		actx, cancel := context.WithTimeout(ctx, AuditBound)
		var notes []string
		auditGates, notes = a.Audit(actx)
		cancel()
		load.Notes = append(load.Notes, notes...)
	}

	if n, ok := cfg.Scenario.(Noter); ok {
		load.Notes = append(load.Notes, n.Notes()...)
	}
	load.Generator.Protocols = r.protos.snapshot()
	load.Uniqueness = r.unique.summary()
	if r.verify != nil {
		load.Verification = r.verify.finish(cfg.VerifyBound)
	}
	load.Interrupted = ctx.Err() != nil
	r.judgeRun(rep, r.verify != nil)
	load.Gates = append(load.Gates, auditGates...)
	if prepErr != nil {
		return rep, fmt.Errorf("prepare %s: %w", cfg.Scenario.Name(), prepErr)
	}
	if r.encErr != nil {
		return rep, fmt.Errorf("write results: %w", r.encErr)
	}
	return rep, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func applyDefaults(c *Config) {
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.MaxWorkers == 0 {
		c.MaxWorkers = DefaultMaxWorkers
	}
	c.Workers = min(c.Workers, c.MaxWorkers)
	if c.HTTP.Timeout <= 0 {
		c.HTTP.Timeout = DefaultTimeout
	}
	if c.HTTP.Version == "" {
		c.HTTP.Version = HTTP1
	}
	if c.HTTP.IdleConnections <= 0 {
		c.HTTP.IdleConnections = int(min(c.MaxWorkers, 10000))
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MinAttemptedRatio <= 0 {
		c.MinAttemptedRatio = DefaultMinAttempted
	}
	if c.VerifyEvery == 0 {
		c.VerifyEvery = DefaultVerifyEvery
	}
	if c.VerifyMax == 0 {
		c.VerifyMax = DefaultVerifyMax
	}
	if c.VerifyWorkers <= 0 {
		c.VerifyWorkers = DefaultVerifyWorkers
	}
	if c.VerifyQueue <= 0 {
		c.VerifyQueue = DefaultVerifyQueue
	}
	if c.VerifyBound <= 0 {
		c.VerifyBound = DefaultVerifyBound
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 10 * time.Second
	}
	if c.Plan.MaxProbes == 0 {
		c.Plan.MaxProbes = DefaultMaxProbes
	}
	if c.Plan.Precision == 0 {
		c.Plan.Precision = DefaultPrecision
	}
	if c.Plan.MaxRate == 0 && c.Plan.Model == FindCapacity {
		c.Plan.MaxRate = DefaultMaxRate
	}
	if c.Secrets == nil {
		c.Secrets = redact.New()
	}
}

// AuditBound is how long a scenario's checks after the last attack may
// take.
const AuditBound = 30 * time.Second

// demandOf says what a plan will ask of its scenario. Hit counts are the
// schedules' own caps, so a pool sized to them is never short of a hit the
// plan sends.
func demandOf(p Plan) Demand {
	var d Demand
	add := func(s schedule, rate float64) {
		d.MaxHits = max(d.MaxHits, s.limit())
		d.TotalHits += s.limit()
		d.TopRate = max(d.TopRate, rate)
	}
	switch p.Model {
	case Ramp:
		add(newRamp(p.From, p.To, p.Duration, p.MaxHits), max(p.From, p.To))
	case FindCapacity:
		s := newConstant(p.MaxRate, p.Duration, p.MaxHits)
		for range p.MaxProbes {
			add(s, p.MaxRate)
		}
	default:
		for _, rate := range p.Rates {
			add(newConstant(rate, p.Duration, p.MaxHits), rate)
		}
	}
	return d
}

// prepare runs the scenario's Prepare, recording what it cost apart from
// every attack: the credentials it obtained go through the same
// uniqueness check and verification sample as an attack's.
func (r *runner) prepare(ctx context.Context, load *results.Load) error {
	d := demandOf(r.cfg.Plan)
	d.Issued = func(creds ...Credential) { r.issued(creds, false) }
	d.Progress = r.cfg.Progress
	cpu0 := r.cpu.read()
	began := time.Now()
	prep, err := r.cfg.Scenario.Prepare(ctx, d)
	if prep != nil && r.cfg.Progress != nil {
		// Preparing can take minutes (logins); say what it did before the
		// first attack's progress starts.
		fmt.Fprintf(r.cfg.Progress, "load %s: prepared %d of %d %s in %s, %d failed\n",
			r.cfg.Scenario.Name(), prep.Got, prep.Wanted, prep.What, fmtDur(time.Since(began)), prep.Failed)
	}
	if prep != nil {
		prep.Duration = time.Since(began)
		if cpu1 := r.cpu.read(); cpu0.process >= 0 && cpu1.process >= 0 {
			prep.CPUSeconds = (cpu1.process - cpu0.process).Seconds()
		}
		if ctx.Err() != nil && prep.Got < prep.Wanted {
			prep.Bound = "interrupted"
		}
		load.Preparation = prep
		if prep.Got < prep.Wanted && err == nil {
			load.Notes = append(load.Notes, fmt.Sprintf("%s: %d of the %d asked for (ended by: %s); an attack that needs more stops when the pool runs dry",
				prep.What, prep.Got, prep.Wanted, prep.Bound))
		}
	}
	return err
}

// runner carries the state of one run across its attacks.
type runner struct {
	cfg    Config
	client *http.Client
	protos *protocolCounter
	flying *inFlight
	unique *uniqueness
	verify *verifyPool
	enc    vegeta.Encoder
	encErr error
	url    string
	// errs memoises redacted, normalised transport error texts.
	errs map[string]string
	cpu  cpuMeter
	// stopped is why the scenario stopped an attack (a pool ran dry);
	// no attack runs after it.
	stopped string

	// sampleMu guards the sampling counters: Prepare's workers and the
	// collector both hand in credentials.
	sampleMu        sync.Mutex
	okSeen, offered uint64
	// firstOffered holds the kinds already offered, apart for preparation
	// and attack: the first of each kind from each is always verified,
	// whatever the sampling interval, so a short run or a scenario whose
	// preparation used up the interval still verifies what it attacked.
	firstOffered map[firstKey]bool
}

type firstKey struct {
	kind   CredentialKind
	attack bool
}

// wholeRate names a rate of the whole attack: shards send a share of it,
// and every shard's step must carry the same name for a merge to join them.
func (r *runner) wholeRate(rate float64) string {
	if r.cfg.Shard != nil {
		rate *= float64(r.cfg.Shard.Count)
	}
	return FormatRate(rate)
}

// step is one attack to run.
type step struct {
	name, model   string
	rate, rateEnd float64
	duration      time.Duration
	sched         schedule
}

// runStep runs one attack and appends its result to rep.
func (r *runner) runStep(ctx context.Context, rep *Report, s step) *results.LoadStep {
	st, stats := r.attack(ctx, s)
	r.judgeStep(st, stats)
	rep.Load.Steps = append(rep.Load.Steps, *st)
	rep.steps = append(rep.steps, stats)
	return &rep.Load.Steps[len(rep.Load.Steps)-1]
}

// attack runs one bounded attack: a new vegeta Attacker (an Attacker is
// one-shot), our client first in its options (later options would
// type-assert vegeta's own transport), a hit cap in the pacer and a
// duration. Cancelling ctx stops it; the results sent so far are kept.
func (r *runner) attack(ctx context.Context, s step) (*results.LoadStep, *stepStats) {
	atk := vegeta.NewAttacker(
		vegeta.Client(r.client),
		vegeta.Workers(r.cfg.Workers),
		vegeta.MaxWorkers(r.cfg.MaxWorkers),
		vegeta.MaxBody(r.cfg.MaxBody),
	)
	cpu0 := r.cpu.read()
	began := time.Now()
	stats := newStepStats(began, s.duration)
	st := &results.LoadStep{
		Name: s.name, Model: s.model, RequestedRate: s.rate, RequestedRateEnd: s.rateEnd,
		PlannedDuration: s.duration, PlannedHits: s.sched.limit(), StartedAt: began,
	}
	r.flying.resetPeak()
	stopOnCancel := context.AfterFunc(ctx, func() { atk.Stop() })
	stopProgress := r.startProgress(s, stats)

	for res := range atk.Attack(r.cfg.Scenario.Targeter(), s.sched, s.duration, s.name) {
		if res.Method == "" && res.Code == 0 && res.Error != "" {
			// The targeter refused the hit and vegeta stopped the attack:
			// no request was sent, so it is no result. Workers that asked at
			// the same moment refuse too; the first reason is kept.
			if st.Stopped == "" {
				st.Stopped = r.cfg.Secrets.String(res.Error)
			}
			continue
		}
		r.collect(res, stats, began, s.sched)
	}

	stopProgress()
	stopOnCancel()
	cpu1 := r.cpu.read()
	st.Interrupted = ctx.Err() != nil
	if st.Stopped != "" && r.stopped == "" {
		r.stopped = st.Stopped
	}
	stats.fill(st, s.sched)
	st.PeakInFlight = uint64(max(r.flying.peak.Load(), 0))
	r.rate(st, stats, s.sched)
	st.CPU = cpuOf(cpu0, cpu1, st.Requests)
	return st, stats
}

// collect handles one result on the collector goroutine: the scenario
// judges it, credentials are counted and sampled for verification, then
// body and headers are dropped (they hold tokens) before the result is
// aggregated and encoded.
func (r *runner) collect(res *vegeta.Result, stats *stepStats, began time.Time, sched schedule) {
	if res.Code == 0 {
		// No response: a transport error, vegeta's text.
		if res.Error != "" {
			res.Error = r.transportError(res.Error)
		}
	} else {
		out := r.cfg.Scenario.Inspect(res)
		if out.Problem != "" || out.OAuthError != "" || res.Code < 200 || res.Code >= 300 {
			res.Error = errorText(res.Code, out.OAuthError, out.Problem)
		} else {
			res.Error = ""
		}
		if res.Error == "" {
			r.issued(out.Issued, true)
		} else {
			for _, c := range out.Issued {
				r.unique.add(c)
			}
		}
	}
	res.Body = nil
	res.Headers = nil
	res.URL = r.url

	lag := time.Duration(-1)
	if sched != nil {
		lag = max(0, res.Timestamp.Sub(began)-sched.due(res.Seq))
	}
	stats.add(res, lag)
	if r.enc != nil && r.encErr == nil {
		r.encErr = r.enc.Encode(res)
	}
}

// issued records the credentials of one accepted response: every one for
// the uniqueness check, and those of one response in VerifyEvery for the
// verification pool (refresh tokens are opaque to every verifier).
func (r *runner) issued(creds []Credential, attack bool) {
	for _, c := range creds {
		r.unique.add(c)
	}
	if r.verify == nil || len(creds) == 0 {
		return
	}
	r.sampleMu.Lock()
	defer r.sampleMu.Unlock()
	r.okSeen++
	sampled := r.okSeen%r.cfg.VerifyEvery == 1 || r.cfg.VerifyEvery == 1
	if r.firstOffered == nil {
		r.firstOffered = map[firstKey]bool{}
	}
	for _, c := range creds {
		if c.Kind == RefreshToken || r.offered >= r.cfg.VerifyMax {
			continue
		}
		k := firstKey{c.Kind, attack}
		if !sampled && r.firstOffered[k] {
			continue
		}
		r.firstOffered[k] = true
		r.offered++
		r.verify.offer(c)
	}
}

// transportError normalises and redacts a transport error text once per
// distinct text.
func (r *runner) transportError(msg string) string {
	if v, ok := r.errs[msg]; ok {
		return v
	}
	v := r.cfg.Secrets.String(normalizeTransportError(msg))
	if len(r.errs) < 1000 {
		r.errs[msg] = v
	}
	return v
}

// rate fills the attempted rate and the validity of a step: the hits sent
// against the hits the schedule had due by the last one. A generator that
// could not keep up sends fewer hits, and later, than were due.
func (r *runner) rate(st *results.LoadStep, stats *stepStats, sched schedule) {
	w := stats.window()
	switch {
	case st.Requests == 0:
		st.Valid = false
		st.InvalidReason = "no hit was sent"
		return
	case w <= 0:
		// A single hit, or every hit in the same instant.
		st.AttemptedRatio = 1
	default:
		// Hits beyond the plan's cap were never due: a last hit sent a
		// little late must not count hits the plan would not have sent.
		due := min(sched.expected(w), sched.limit())
		if due < st.Requests {
			due = st.Requests
		}
		st.AttemptedRatio = float64(st.Requests) / float64(due)
	}
	requested := st.RequestedRate
	if st.Model == "ramp" && w > 0 {
		requested = float64(sched.expected(w)) / w.Seconds()
	}
	st.AttemptedRate = requested * st.AttemptedRatio
	st.Valid = st.AttemptedRatio >= r.cfg.MinAttemptedRatio
	if !st.Valid {
		st.InvalidReason = invalidReason(st, requested, r.cfg.MinAttemptedRatio, r.cfg.MaxWorkers)
	}
}

// invalidReason says why a step's rate fell short. With every worker in
// flight the cap held it down (the target's latency times the rate needed
// more workers than allowed); otherwise the generator could not send
// faster (CPU, scheduling).
func invalidReason(st *results.LoadStep, requested, minRatio float64, maxWorkers uint64) string {
	short := fmt.Sprintf("attempted %s is %.1f%% of the requested %s (under %.0f%%)",
		FormatRate(st.AttemptedRate), 100*st.AttemptedRatio, FormatRate(requested), 100*minRatio)
	if maxWorkers > 0 && st.PeakInFlight >= maxWorkers {
		return fmt.Sprintf("%s: worker cap reached: rate x latency exceeded --max-workers %d (%d requests in flight at the peak); its latencies do not judge the target. Raise --max-workers, lower the rate or shard the attack",
			short, maxWorkers, st.PeakInFlight)
	}
	return short + ": the generator, not the target, was the bottleneck; its latencies do not judge the target. Raise --max-workers, lower the rate or shard the attack"
}

func cpuOf(a, b cpuSample, requests uint64) *results.LoadCPU {
	if a.process < 0 || b.process < 0 {
		return nil
	}
	c := &results.LoadCPU{ProcessSeconds: (b.process - a.process).Seconds()}
	if requests > 0 {
		c.PerRequest = (b.process - a.process) / time.Duration(requests)
	}
	elapsed := b.at.Sub(a.at).Seconds()
	if a.target >= 0 && b.target >= 0 {
		c.TargetSeconds = (b.target - a.target).Seconds()
	}
	if b.machineTotal > a.machineTotal && elapsed > 0 {
		c.MachineBusyCores = float64(b.machineBusy-a.machineBusy) / clockTicksPerSecond / elapsed
		c.OtherBusyCores = max(0, c.MachineBusyCores-(c.ProcessSeconds+c.TargetSeconds)/elapsed)
	}
	return c
}

// clockTicksPerSecond is USER_HZ, the unit of /proc/stat.
const clockTicksPerSecond = 100
