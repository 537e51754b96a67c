package loadtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
)

// Files a run writes beside its vegeta results (RESULTS.bin): the JSON run
// (RESULTS.json) and the credential digests (RESULTS.digests). A merge finds
// them by replacing the extension.
const (
	ResultsExt = ".bin"
	RunExt     = ".json"
	DigestsExt = ".digests"
)

// Sidecar returns the path of a results file's companion with extension ext.
func Sidecar(binPath, ext string) string {
	return strings.TrimSuffix(binPath, ResultsExt) + ext
}

// MergeOptions configure Merge.
type MergeOptions struct {
	// SLOs to gate the merged run on; nil takes the shards' own.
	SLOs []slo.Objective
	// MinAttemptedRatio as in Config; default DefaultMinAttempted.
	MinAttemptedRatio float64
	// Results receives every result of every file, gob-encoded; nil
	// writes none.
	Results io.Writer
	Secrets *redact.Registry
}

// Merged is a merge's outcome: the report, the shards' run records, and
// notes on what could not be checked.
type Merged struct {
	*Report
	Runs  []*results.Run
	Notes []string
}

// Merge builds one report from the result files of several processes or
// machines (vegeta's distributed-attack practice: decode every file again
// rather than merge summaries). Results are grouped by attack name into
// steps. Each file's sidecar run record, when present, gives the requested
// rates (summed over shards), the validity of every shard's steps, the
// verification outcomes and, with the digests files, uniqueness across
// shards. Files from plain `vegeta attack` merge too; what only our
// sidecars know is then reported as unknown.
func Merge(files []string, o MergeOptions) (*Merged, error) {
	if len(files) == 0 {
		return nil, errors.New("no result files to merge")
	}
	if o.MinAttemptedRatio <= 0 {
		o.MinAttemptedRatio = DefaultMinAttempted
	}
	if o.Secrets == nil {
		o.Secrets = redact.New()
	}
	m := &Merged{}
	shardSeen := map[int]string{}
	shardCount := 0
	for _, f := range files {
		run, err := readRun(Sidecar(f, RunExt))
		switch {
		case errors.Is(err, os.ErrNotExist):
			m.Notes = append(m.Notes, fmt.Sprintf("%s has no %s beside it: its requested rate, validity and verification are unknown", f, RunExt))
			m.Runs = append(m.Runs, nil)
			continue
		case err != nil:
			return nil, err
		}
		if run.Load == nil {
			return nil, fmt.Errorf("%s: not a load run (kind %q)", Sidecar(f, RunExt), run.Kind)
		}
		if sh := run.Load.Shard; sh != nil {
			if shardCount != 0 && sh.Count != shardCount {
				return nil, fmt.Errorf("%s is shard %d/%d but an earlier file is of a %d-shard attack", f, sh.Index, sh.Count, shardCount)
			}
			shardCount = sh.Count
			if prev, dup := shardSeen[sh.Index]; dup {
				return nil, fmt.Errorf("%s and %s are both shard %d/%d", prev, f, sh.Index, sh.Count)
			}
			shardSeen[sh.Index] = f
		}
		if first := firstRun(m.Runs); first != nil && (first.Load.Scenario != run.Load.Scenario || first.Load.Endpoint != run.Load.Endpoint) {
			m.Notes = append(m.Notes, fmt.Sprintf("%s is a %s run against %s, unlike the first file (%s against %s)", f, run.Load.Scenario, run.Load.Endpoint, first.Load.Scenario, first.Load.Endpoint))
		}
		m.Runs = append(m.Runs, run)
	}
	var missing []string
	if shardCount > 0 && len(shardSeen) < shardCount {
		for i := range shardCount {
			if _, ok := shardSeen[i]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", i, shardCount))
			}
		}
		m.Notes = append(m.Notes, "shards missing from the merge: "+strings.Join(missing, ", "))
	}

	// Pass 1: the time span of every step, for its time line.
	spans := map[string]*span{}
	var order []string
	if err := eachResult(files, func(_ int, r *vegeta.Result) error {
		sp := spans[r.Attack]
		if sp == nil {
			sp = &span{first: r.Timestamp, last: r.Timestamp}
			spans[r.Attack] = sp
			order = append(order, r.Attack)
		}
		sp.first = minTime(sp.first, r.Timestamp)
		sp.last = maxTime(sp.last, r.Timestamp)
		return nil
	}); err != nil {
		return nil, err
	}
	sort.SliceStable(order, func(i, j int) bool { return spans[order[i]].first.Before(spans[order[j]].first) })

	// Pass 2: aggregate, and re-encode into one file.
	stats := map[string]*stepStats{}
	for _, name := range order {
		sp := spans[name]
		began := sp.first
		for _, run := range m.Runs {
			if st := findStep(run, name); st != nil && st.StartedAt.Before(began) {
				began = st.StartedAt
			}
		}
		stats[name] = newStepStats(began, sp.last.Sub(began))
	}
	var enc vegeta.Encoder
	if o.Results != nil {
		enc = vegeta.NewEncoder(o.Results)
	}
	if err := eachResult(files, func(_ int, r *vegeta.Result) error {
		// Files written by plain vegeta may hold bodies and headers.
		r.Body, r.Headers = nil, nil
		if r.Error != "" {
			r.Error = o.Secrets.String(normalizeTransportError(r.Error))
		}
		ss := stats[r.Attack]
		if ss == nil {
			return fmt.Errorf("a result of attack %q appeared between two reads of the files; are they still being written?", r.Attack)
		}
		ss.add(r, -1)
		if enc != nil {
			return enc.Encode(r)
		}
		return nil
	}); err != nil {
		return nil, err
	}

	load := mergedLoad(m.Runs, files)
	rep := &Report{Load: load, unique: newUniqueness()}
	slos := o.SLOs
	if slos == nil && len(load.SLOs) > 0 {
		parsed, err := slo.ParseAll(load.SLOs)
		if err != nil {
			return nil, fmt.Errorf("SLOs recorded in the shards' runs: %w", err)
		}
		slos = parsed
	}
	load.SLOs = nil
	for _, ob := range slos {
		load.SLOs = append(load.SLOs, ob.Text)
	}
	r := &runner{cfg: Config{SLOs: slos, MinAttemptedRatio: o.MinAttemptedRatio}}
	for _, name := range order {
		st := mergeStep(name, m.Runs, stats[name], o.MinAttemptedRatio)
		r.judgeStep(st, stats[name])
		load.Steps = append(load.Steps, *st)
		rep.steps = append(rep.steps, stats[name])
	}
	m.Notes = append(m.Notes, mergeUniqueness(rep, files, m.Runs)...)
	r.judgeRun(rep, mergeVerification(load, m.Runs))
	// The checks each shard ran after its attacks (a refresh token replay)
	// judge the target, not a shard's figures: every one is kept.
	for _, run := range m.Runs {
		if run == nil {
			continue
		}
		for _, g := range run.Load.Gates {
			if g.Scope == auditScope {
				g.Scope = auditScope + " shard " + shardName(run)
				load.Gates = append(load.Gates, g)
			}
		}
	}
	if shardCount > 0 {
		load.Gates = append(load.Gates, shardsGate(len(shardSeen), shardCount, missing))
	}
	// What the merge could not check belongs in the record, not only on a
	// terminal: a missing shard read on stderr is gone by the time the
	// report is opened.
	load.Notes = append(load.Notes, m.Notes...)
	m.Report = rep
	return m, nil
}

// gateShards is a merge's check that it holds the whole attack.
const gateShards = "every shard present"

func shardsGate(seen, count int, missing []string) results.LoadGate {
	g := results.LoadGate{Name: gateShards, Scope: "run", Passed: seen == count,
		Measured: fmt.Sprintf("%d of %d shards", seen, count)}
	if g.Passed {
		g.Message = fmt.Sprintf("pass %s: %d of %d shards merged", gateShards, seen, count)
	} else {
		g.Message = fmt.Sprintf("FAIL %s: %d of %d shards merged, missing %s: the figures and gates cover part of the attack", gateShards, seen, count, strings.Join(missing, ", "))
	}
	return g
}

type span struct{ first, last time.Time }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func firstRun(runs []*results.Run) *results.Run {
	for _, r := range runs {
		if r != nil {
			return r
		}
	}
	return nil
}

func readRun(path string) (*results.Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	run, err := results.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}

// eachResult decodes every result of every file, in file order.
func eachResult(files []string, fn func(int, *vegeta.Result) error) error {
	for i, path := range files {
		if err := decodeFile(path, func(r *vegeta.Result) error { return fn(i, r) }); err != nil {
			return err
		}
	}
	return nil
}

func decodeFile(path string, fn func(*vegeta.Result) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open results: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	if _, err := br.Peek(1); errors.Is(err, io.EOF) {
		return nil // an attack interrupted before its first result
	}
	dec := vegeta.DecoderFor(br)
	if dec == nil {
		return fmt.Errorf("%s: not vegeta results (gob, JSON or CSV)", path)
	}
	for n := 0; ; n++ {
		var r vegeta.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// An interrupted writer leaves a truncated last record: keep
			// what decoded.
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return fmt.Errorf("%s: result %d: %w", path, n+1, err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
}

func findStep(run *results.Run, name string) *results.LoadStep {
	if run == nil {
		return nil
	}
	for i := range run.Load.Steps {
		if run.Load.Steps[i].Name == name {
			return &run.Load.Steps[i]
		}
	}
	return nil
}

// mergedLoad is the run-level record of a merge: what the shards agree on,
// summed CPU and protocol counts.
func mergedLoad(runs []*results.Run, files []string) *results.Load {
	l := &results.Load{MergedFrom: files}
	first := firstRun(runs)
	if first != nil {
		f := first.Load
		l.Scenario, l.Client, l.Endpoint, l.Model, l.SigningAlg = f.Scenario, f.Client, f.Endpoint, f.Model, f.SigningAlg
		l.Generator = f.Generator
		l.Generator.Protocols = map[string]uint64{}
		l.SLOs = f.SLOs
	}
	for _, r := range runs {
		if r == nil {
			continue
		}
		for p, n := range r.Load.Generator.Protocols {
			l.Generator.Protocols[p] += n
		}
		l.Interrupted = l.Interrupted || r.Load.Interrupted
		for _, n := range r.Load.Notes {
			if n == noteNoSLO {
				// The merge gates on its own SLOs and says so itself.
				continue
			}
			l.Notes = append(l.Notes, fmt.Sprintf("shard %s: %s", shardName(r), n))
		}
		if p := r.Load.Preparation; p != nil {
			if l.Preparation == nil {
				l.Preparation = &results.LoadPreparation{What: p.What}
			}
			// Shards prepare at the same time: their counts and CPU add up,
			// the time is the longest.
			q := l.Preparation
			q.Wanted += p.Wanted
			q.Got += p.Got
			q.Attempts += p.Attempts
			q.Failed += p.Failed
			q.Workers += p.Workers
			q.CPUSeconds += p.CPUSeconds
			q.Duration = max(q.Duration, p.Duration)
			if q.Bound == "" {
				q.Bound = p.Bound
			}
			q.Failures = append(q.Failures, p.Failures...)
		}
	}
	return l
}

// mergeStep builds one merged step: latencies and errors from the decoded
// results, requested rate and validity from the shards' records.
func mergeStep(name string, runs []*results.Run, stats *stepStats, minRatio float64) *results.LoadStep {
	st := &results.LoadStep{Name: name, StartedAt: stats.began}
	stats.fill(st, nil)
	var due float64
	known := true
	var invalid, stopped []string
	var cpu results.LoadCPU
	haveCPU := false
	for _, run := range runs {
		s := findStep(run, name)
		if s == nil {
			known = false
			continue
		}
		st.Model = s.Model
		st.RequestedRate += s.RequestedRate
		st.RequestedRateEnd += s.RequestedRateEnd
		st.PlannedHits += s.PlannedHits
		st.PlannedDuration = max(st.PlannedDuration, s.PlannedDuration)
		st.ScheduleLagP99 = max(st.ScheduleLagP99, s.ScheduleLagP99)
		st.ScheduleLagMax = max(st.ScheduleLagMax, s.ScheduleLagMax)
		st.Interrupted = st.Interrupted || s.Interrupted
		if s.AttemptedRatio > 0 {
			due += float64(s.Requests) / s.AttemptedRatio
		}
		if !s.Valid {
			invalid = append(invalid, fmt.Sprintf("shard %s: %s", shardName(run), s.InvalidReason))
		}
		if s.Stopped != "" {
			stopped = append(stopped, fmt.Sprintf("shard %s: %s", shardName(run), s.Stopped))
		}
		if s.CPU != nil {
			haveCPU = true
			cpu.ProcessSeconds += s.CPU.ProcessSeconds
			cpu.TargetSeconds += s.CPU.TargetSeconds
		}
	}
	st.Stopped = strings.Join(stopped, "; ")
	if haveCPU && st.Requests > 0 {
		cpu.PerRequest = time.Duration(cpu.ProcessSeconds * 1e9 / float64(st.Requests))
		st.CPU = &cpu
	}
	switch {
	case !known:
		st.Valid = false
		st.InvalidReason = "a file without its run record: the requested rate is unknown, so the attempted rate cannot be judged"
		st.AttemptedRatio = 0
		if w := stats.window().Seconds(); w > 0 {
			st.AttemptedRate = float64(st.Requests) / w
		}
	case st.Requests == 0 || due == 0:
		st.Valid = false
		st.InvalidReason = "no hit was sent"
	default:
		st.AttemptedRatio = float64(st.Requests) / due
		st.AttemptedRate = st.RequestedRate * st.AttemptedRatio
		if st.Model == "ramp" {
			st.AttemptedRate = (st.RequestedRate + st.RequestedRateEnd) / 2 * st.AttemptedRatio
		}
		st.Valid = st.AttemptedRatio >= minRatio && len(invalid) == 0
		if len(invalid) > 0 {
			st.InvalidReason = strings.Join(invalid, "; ")
		} else if !st.Valid {
			st.InvalidReason = fmt.Sprintf("attempted %.1f%% of the requested rate over all shards (under %.0f%%)", 100*st.AttemptedRatio, 100*minRatio)
		}
	}
	return st
}

func shardName(run *results.Run) string {
	if run.Load.Shard == nil {
		return "?"
	}
	return fmt.Sprintf("%d/%d", run.Load.Shard.Index, run.Load.Shard.Count)
}

// mergeUniqueness checks uniqueness across all files when every one has its
// digests; otherwise it adds the shards' own counts and says that
// duplicates across shards went unchecked.
func mergeUniqueness(rep *Report, files []string, runs []*results.Run) []string {
	all := true
	for _, f := range files {
		fh, err := os.Open(Sidecar(f, DigestsExt))
		if err != nil {
			all = false
			break
		}
		err = rep.unique.readDigests(fh)
		fh.Close()
		if err != nil {
			all = false
			break
		}
	}
	if all {
		rep.Load.Uniqueness = rep.unique.summary()
		return nil
	}
	rep.unique = newUniqueness()
	sum := map[string]*results.LoadUniqueness{}
	for _, r := range runs {
		if r == nil {
			continue
		}
		for _, u := range r.Load.Uniqueness {
			s := sum[u.Kind]
			if s == nil {
				s = &results.LoadUniqueness{Kind: u.Kind}
				sum[u.Kind] = s
			}
			s.Seen += u.Seen
			s.Unique += u.Unique
			s.Duplicates += u.Duplicates
		}
	}
	for _, s := range sum {
		rep.Load.Uniqueness = append(rep.Load.Uniqueness, *s)
	}
	sort.Slice(rep.Load.Uniqueness, func(i, j int) bool { return rep.Load.Uniqueness[i].Kind < rep.Load.Uniqueness[j].Kind })
	return []string{"not every file has its " + DigestsExt + " beside it: duplicates across shards were not checked, only within each"}
}

// mergeVerification adds the shards' verification outcomes; it reports
// whether any shard verified.
func mergeVerification(l *results.Load, runs []*results.Run) bool {
	why := map[string]uint64{}
	any := false
	for _, r := range runs {
		if r == nil {
			continue
		}
		v := r.Load.Verification
		if v.Every == 0 {
			continue
		}
		any = true
		l.Verification.Every = v.Every
		l.Verification.Contract = v.Contract
		l.Verification.Offered += v.Offered
		l.Verification.Verified += v.Verified
		l.Verification.Failed += v.Failed
		l.Verification.Dropped += v.Dropped
		l.Verification.NotVerified += v.NotVerified
		l.Verification.Unverifiable += v.Unverifiable
		for _, f := range v.Failures {
			why[f.Reason] += f.Count
		}
	}
	for r, n := range why {
		l.Verification.Failures = append(l.Verification.Failures, results.LoadVerifyGroup{Reason: r, Count: n})
	}
	sort.Slice(l.Verification.Failures, func(i, j int) bool { return l.Verification.Failures[i].Count > l.Verification.Failures[j].Count })
	return any
}
