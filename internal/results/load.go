package results

import (
	"time"
)

// Load is the result of a load run: what was asked of the generator, what it
// managed to send, what came back, and the verdict of each gate. It is plain
// data so reports can chart it (percentiles over time, the latency
// histogram) without knowing vegeta.
type Load struct {
	// Scenario is what each hit does: "client-credentials", "jwks".
	Scenario string `json:"scenario"`
	// Client is the target client the scenario acts as, if any.
	Client string `json:"client,omitempty"`
	// Endpoint is the URL attacked.
	Endpoint string `json:"endpoint"`
	// Model is how the rate was set: constant, steps, ramp or find-capacity.
	Model string `json:"model"`
	// SigningAlg is the embedded mock's JWS algorithm, when it was the target.
	SigningAlg string        `json:"signing_alg,omitempty"`
	Generator  LoadGenerator `json:"generator"`
	// Shard is set when this run was one of several sharing an attack.
	Shard *LoadShard `json:"shard,omitempty"`
	// MergedFrom lists the result files a merged report was built from.
	MergedFrom []string `json:"merged_from,omitempty"`
	// SLOs are the objectives gated on, as written.
	SLOs  []string   `json:"slos,omitempty"`
	Steps []LoadStep `json:"steps"`
	// Capacity is the outcome of --find-capacity.
	Capacity     *LoadCapacity    `json:"capacity,omitempty"`
	Uniqueness   []LoadUniqueness `json:"uniqueness"`
	Verification LoadVerification `json:"verification"`
	// Gates are every verdict of the run, including correctness and
	// validity checks; the run passes when all passed.
	Gates []LoadGate `json:"gates"`
	// Interrupted is set when the run was stopped (Ctrl-C) before its end;
	// everything measured until then is kept.
	Interrupted bool `json:"interrupted,omitempty"`
	// Preparation is what the scenario did before its first attack (a pool
	// of credentials seeded with real requests) and what that cost; its
	// requests are in no step's figures.
	Preparation *LoadPreparation `json:"preparation,omitempty"`
	// Notes are facts a reader needs to judge the figures (a pool smaller
	// than asked for, a check that could not run), one line each.
	Notes []string `json:"notes,omitempty"`
	// Files are the vegeta result files (gob), readable by `vegeta report`.
	Files []string `json:"files,omitempty"`
}

// LoadGenerator records how the load was generated, so two runs can be
// compared only when they were made the same way.
type LoadGenerator struct {
	// HTTPVersion asked for: "HTTP/1.1" or "HTTP/2".
	HTTPVersion string `json:"http_version"`
	// Protocols counts responses by the protocol they actually came over.
	Protocols  map[string]uint64 `json:"protocols,omitempty"`
	Workers    uint64            `json:"workers"`
	MaxWorkers uint64            `json:"max_workers"`
	Timeout    time.Duration     `json:"timeout_ns"`
	// MinAttemptedRatio is the share of the requested rate under which a
	// step is invalid (the generator was the bottleneck).
	MinAttemptedRatio float64 `json:"min_attempted_ratio"`
	// CPUScope says whose CPU the per-request figures include.
	CPUScope   string `json:"cpu_scope"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

// LoadShard identifies one shard of an attack split across processes.
type LoadShard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// LoadStep is one attack at one requested rate (or one ramp).
type LoadStep struct {
	Name string `json:"name"`
	// Model is constant, ramp or probe (a find-capacity probe).
	Model string `json:"model"`
	// RequestedRate is the rate asked for, requests per second (the start
	// rate of a ramp); RequestedRateEnd is a ramp's end rate.
	RequestedRate    float64       `json:"requested_rate"`
	RequestedRateEnd float64       `json:"requested_rate_end,omitempty"`
	PlannedDuration  time.Duration `json:"planned_duration_ns"`
	// PlannedHits bounds the attack: it stops at this many hits.
	PlannedHits uint64    `json:"planned_hits"`
	StartedAt   time.Time `json:"started_at"`
	// Requests is how many hits were sent.
	Requests uint64 `json:"requests"`
	// AttemptedRate is the rate hits were actually sent at, and
	// AttemptedRatio its share of the rate the schedule asked for over the
	// same time.
	AttemptedRate  float64 `json:"attempted_rate"`
	AttemptedRatio float64 `json:"attempted_ratio"`
	// ScheduleLag is how late hits left against the schedule (p99, max):
	// a generator falling behind shows here before it shows in the rate.
	ScheduleLagP99 time.Duration `json:"schedule_lag_p99_ns"`
	ScheduleLagMax time.Duration `json:"schedule_lag_max_ns"`
	// Valid is false when the generator, not the target, was the
	// bottleneck: latencies of an invalid step do not judge the target.
	Valid         bool   `json:"valid"`
	InvalidReason string `json:"invalid_reason,omitempty"`
	// PeakInFlight is the most requests the generator had in flight at
	// once; at the worker cap, the rate fell because rate x latency
	// needed more workers, not because the generator ran out of CPU.
	PeakInFlight uint64 `json:"peak_in_flight,omitempty"`
	// OK counts responses the scenario accepted; Success is OK/Requests.
	OK      uint64  `json:"ok"`
	Success float64 `json:"success"`
	// Throughput is OK responses per second over the step's send window
	// plus the wait for its last responses.
	Throughput  float64               `json:"throughput"`
	Latency     LoadLatency           `json:"latency"`
	StatusCodes map[string]uint64     `json:"status_codes"`
	Errors      []LoadErrorGroup      `json:"errors,omitempty"`
	TimeBuckets []LoadTimeBucket      `json:"time_buckets"`
	Histogram   []LoadHistogramBucket `json:"histogram"`
	Gates       []LoadGate            `json:"gates,omitempty"`
	CPU         *LoadCPU              `json:"cpu,omitempty"`
	Interrupted bool                  `json:"interrupted,omitempty"`
	// Stopped says why the attack ended before its plan when the scenario
	// ended it: a pool of credentials ran dry.
	Stopped string `json:"stopped,omitempty"`
}

// LoadLatency summarises latencies (vegeta's t-digest estimates).
type LoadLatency struct {
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P95  time.Duration `json:"p95_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Min  time.Duration `json:"min_ns"`
	Max  time.Duration `json:"max_ns"`
}

// LoadTimeBucket is one slice of a step's time line, for percentiles over
// time.
type LoadTimeBucket struct {
	// Offset is the bucket's start from the step's start.
	Offset   time.Duration `json:"offset_ns"`
	Width    time.Duration `json:"width_ns"`
	Requests uint64        `json:"requests"`
	OK       uint64        `json:"ok"`
	// RequestedRate is what the schedule asked for in this bucket (0 when
	// unknown, as in a merge of foreign files).
	RequestedRate float64       `json:"requested_rate,omitempty"`
	AttemptedRate float64       `json:"attempted_rate"`
	P50           time.Duration `json:"p50_ns"`
	P90           time.Duration `json:"p90_ns"`
	P99           time.Duration `json:"p99_ns"`
	Max           time.Duration `json:"max_ns"`
}

// LoadHistogramBucket counts latencies in [From, To); To is 0 for the last,
// unbounded bucket.
type LoadHistogramBucket struct {
	From  time.Duration `json:"from_ns"`
	To    time.Duration `json:"to_ns"`
	Count uint64        `json:"count"`
}

// LoadErrorGroup counts failed hits with the same status and OAuth error
// code (RFC 6749 §5.2), or the same transport error.
type LoadErrorGroup struct {
	Status     int    `json:"status"`
	OAuthError string `json:"oauth_error,omitempty"`
	// Message is the grouped error as recorded in the result files.
	Message string `json:"message"`
	Count   uint64 `json:"count"`
}

// LoadGate is one verdict.
type LoadGate struct {
	// Name is the SLO as written ("p99<=200ms") or a built-in check
	// ("valid rate", "unique access_token", "verified sample").
	Name string `json:"name"`
	// Scope is the step the gate judged, or "run".
	Scope  string `json:"scope"`
	Passed bool   `json:"passed"`
	// NotApplicable is a check that had nothing to judge (no token could
	// be verified): it does not fail the run, and is not shown as a pass.
	NotApplicable bool `json:"not_applicable,omitempty"`
	// Measured and Margin are for people: "340ms", "140ms over the limit".
	Measured string `json:"measured,omitempty"`
	Margin   string `json:"margin,omitempty"`
	// Message is the whole verdict on one line.
	Message string `json:"message"`
}

// LoadUniqueness counts credentials of one kind seen in responses; any
// duplicate is an IdP bug (a replayed token, a jti issued twice).
type LoadUniqueness struct {
	Kind       string `json:"kind"`
	Seen       uint64 `json:"seen"`
	Unique     uint64 `json:"unique"`
	Duplicates uint64 `json:"duplicates"`
}

// LoadVerification is the outcome of verifying a sample of issued tokens
// off the hot path (signature, claims, contract).
type LoadVerification struct {
	// Every is the sampling interval: one token in Every is offered.
	Every    uint64 `json:"every"`
	Contract string `json:"contract,omitempty"`
	Offered  uint64 `json:"offered"`
	Verified uint64 `json:"verified"`
	Failed   uint64 `json:"failed"`
	// Dropped were offered while the verifier pool was busy; NotVerified
	// were still queued when the time bound after the run ran out;
	// Unverifiable are opaque tokens, which only introspection can check.
	Dropped      uint64            `json:"dropped"`
	NotVerified  uint64            `json:"not_verified"`
	Unverifiable uint64            `json:"unverifiable"`
	Failures     []LoadVerifyGroup `json:"failures,omitempty"`
}

// LoadVerifyGroup counts verification failures with the same reason.
type LoadVerifyGroup struct {
	Reason string `json:"reason"`
	Count  uint64 `json:"count"`
}

// LoadCPU is the CPU spent while a step ran.
type LoadCPU struct {
	// ProcessSeconds is the CPU time of the idpconform process; with the
	// embedded mock it includes the mock's work (see Generator.CPUScope).
	ProcessSeconds float64 `json:"process_seconds"`
	// PerRequest is ProcessSeconds divided by the requests sent.
	PerRequest time.Duration `json:"per_request_ns"`
	// TargetSeconds is the CPU time of the target process, when its pid was
	// given.
	TargetSeconds float64 `json:"target_seconds,omitempty"`
	// MachineBusyCores is the average number of busy cores of the whole
	// machine (Linux), so a run on a busy machine can be told apart.
	MachineBusyCores float64 `json:"machine_busy_cores,omitempty"`
	// OtherBusyCores is the machine's busy cores not spent by idpconform or
	// the target process: other work competing for the CPU.
	OtherBusyCores float64 `json:"other_busy_cores,omitempty"`
}

// LoadPreparation is the cost of readying a scenario before its first
// attack: credentials obtained with real requests (logins, grants), kept
// apart from the attack's figures.
type LoadPreparation struct {
	// What names what was prepared: "refresh tokens from logins".
	What string `json:"what"`
	// Wanted is how many credentials were asked for; Got how many came.
	Wanted uint64 `json:"wanted"`
	Got    uint64 `json:"got"`
	// Attempts counts the flows tried (a login, a grant); Failed those
	// that gave no credential.
	Attempts uint64 `json:"attempts"`
	Failed   uint64 `json:"failed"`
	// Workers is how many flows ran at once.
	Workers  int           `json:"workers"`
	Duration time.Duration `json:"duration_ns"`
	// CPUSeconds is the process CPU spent while preparing (with the
	// embedded mock, the mock's work included).
	CPUSeconds float64 `json:"cpu_seconds"`
	// Bound says what ended preparation before Wanted: "time" (its time
	// bound), "failures" (more failed than succeeded), "interrupted"; ""
	// when every credential asked for came.
	Bound string `json:"bound,omitempty"`
	// Failures groups the failed flows by reason; never a value.
	Failures []LoadVerifyGroup `json:"failures,omitempty"`
}

// LoadCapacity is the outcome of a capacity search.
type LoadCapacity struct {
	// Found is false when even the lowest rate tried failed the SLOs.
	Found bool `json:"found"`
	// Rate is the highest requested rate that met every SLO with a valid
	// step; Throughput is what that step achieved.
	Rate       float64 `json:"rate"`
	Throughput float64 `json:"throughput"`
	// Bound says what stopped the search: "slo" (the target failed an SLO
	// above Rate), "generator" (the generator could not send more: Rate is
	// a lower bound of the target's capacity), "max-rate", "probes", or
	// "stopped" (the scenario ran out of credentials).
	Bound  string `json:"bound"`
	Detail string `json:"detail"`
	Probes int    `json:"probes"`
}

// Redacted returns a copy of l with every free-text field passed through
// red. Enumerations (scenario, model, HTTP version, step and gate names,
// which idpconform composes from rates and SLO texts it parsed) are kept.
func (l *Load) Redacted(red Redactor) *Load {
	if l == nil {
		return nil
	}
	cp := *l
	cp.Client = red.String(l.Client)
	cp.Endpoint = red.String(l.Endpoint)
	cp.MergedFrom = redactAll(red, l.MergedFrom)
	cp.Files = redactAll(red, l.Files)
	if l.Steps != nil {
		cp.Steps = make([]LoadStep, len(l.Steps))
	}
	for i, s := range l.Steps {
		s.InvalidReason = red.String(s.InvalidReason)
		s.Stopped = red.String(s.Stopped)
		if s.Errors != nil {
			s.Errors = append([]LoadErrorGroup(nil), s.Errors...)
		}
		for j := range s.Errors {
			s.Errors[j].Message = red.String(s.Errors[j].Message)
			s.Errors[j].OAuthError = red.String(s.Errors[j].OAuthError)
		}
		s.Gates = redactGates(red, s.Gates)
		cp.Steps[i] = s
	}
	cp.Gates = redactGates(red, l.Gates)
	if l.Verification.Failures != nil {
		cp.Verification.Failures = append([]LoadVerifyGroup(nil), l.Verification.Failures...)
	}
	for i := range cp.Verification.Failures {
		cp.Verification.Failures[i].Reason = red.String(cp.Verification.Failures[i].Reason)
	}
	if l.Capacity != nil {
		c := *l.Capacity
		c.Detail = red.String(c.Detail)
		cp.Capacity = &c
	}
	cp.Notes = redactAll(red, l.Notes)
	if l.Preparation != nil {
		p := *l.Preparation
		p.What = red.String(p.What)
		if p.Failures != nil {
			p.Failures = append([]LoadVerifyGroup(nil), p.Failures...)
		}
		for i := range p.Failures {
			p.Failures[i].Reason = red.String(p.Failures[i].Reason)
		}
		cp.Preparation = &p
	}
	return &cp
}

// redactGates redacts what a gate says; its name (an SLO as parsed, or a
// built-in check) and scope (a step name) are idpconform's own words.
func redactGates(red Redactor, gs []LoadGate) []LoadGate {
	if gs == nil {
		return nil
	}
	out := make([]LoadGate, len(gs))
	for i, g := range gs {
		g.Measured = red.String(g.Measured)
		g.Margin = red.String(g.Margin)
		g.Message = red.String(g.Message)
		out[i] = g
	}
	return out
}

// Passed reports whether every gate of the load run passed.
func (l *Load) Passed() bool {
	for _, g := range l.Gates {
		if !g.Passed {
			return false
		}
	}
	return !l.Interrupted
}

// FillEmpty turns the absent lists and maps that results.json always
// carries into empty ones, so a run that sent nothing (interrupted before
// its first hit, a scenario that could not prepare) encodes them as [] and
// {} rather than null, as the schema requires.
func (l *Load) FillEmpty() {
	if l.Steps == nil {
		l.Steps = []LoadStep{}
	}
	if l.Uniqueness == nil {
		l.Uniqueness = []LoadUniqueness{}
	}
	if l.Gates == nil {
		l.Gates = []LoadGate{}
	}
	for i := range l.Steps {
		s := &l.Steps[i]
		if s.StatusCodes == nil {
			s.StatusCodes = map[string]uint64{}
		}
		if s.TimeBuckets == nil {
			s.TimeBuckets = []LoadTimeBucket{}
		}
		if s.Histogram == nil {
			s.Histogram = []LoadHistogramBucket{}
		}
	}
}
