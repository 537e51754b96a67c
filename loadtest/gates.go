package loadtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
)

// Gate names of the built-in checks.
const (
	gateValid    = "valid rate"
	gateVerified = "verified sample"
	gateCapacity = "capacity found"
	gateComplete = "run completed"
	gateStopped  = "attack completed"
	// gateSucceeded holds even without an SLO: a run in which nothing
	// succeeded measured only failures, however fast they came.
	gateSucceeded = "at least one successful response"
)

// noteNoSLO is said when no latency or success objective gates the run, so
// a PASS is not read as "fast and correct".
const noteNoSLO = "no SLO given: latency and success rate not gated (--slo, or slos: in the target file)"

// measure returns a step's value of a latency or success objective.
func measure(o slo.Objective, st *results.LoadStep, stats *stepStats) float64 {
	switch o.Metric {
	case slo.Success:
		return st.Success
	case slo.Throughput:
		return st.Throughput
	case slo.Mean:
		return float64(st.Latency.Mean)
	case slo.Max:
		return float64(st.Latency.Max)
	}
	if stats == nil {
		return float64(st.Latency.P99)
	}
	stats.mu.Lock()
	defer stats.mu.Unlock()
	if stats.requests == 0 {
		return 0
	}
	return float64(stats.latency.Quantile(o.Quantile))
}

func gateOf(v slo.Verdict, scope string) results.LoadGate {
	return results.LoadGate{Name: v.Objective.Text, Scope: scope, Passed: v.Passed,
		Measured: v.MeasuredText(), Margin: v.MarginText(), Message: v.String()}
}

// judgeStep gates one step on validity and on every latency and success
// SLO. Throughput is judged on the run (a low step of a staircase is not
// meant to reach it). A step that is invalid or has no hit is not judged
// on latency: its figures measure the generator.
func (r *runner) judgeStep(st *results.LoadStep, stats *stepStats) {
	st.Gates = nil
	v := results.LoadGate{Name: gateValid, Scope: st.Name, Passed: st.Valid,
		Measured: fmt.Sprintf("%s attempted of %s requested (%.1f%%)", FormatRate(st.AttemptedRate), FormatRate(requestedOf(st)), 100*st.AttemptedRatio)}
	if st.Valid {
		v.Message = "pass valid rate: " + v.Measured
	} else {
		v.Message = "FAIL valid rate: " + st.InvalidReason
	}
	st.Gates = append(st.Gates, v)
	if st.Stopped != "" {
		st.Gates = append(st.Gates, results.LoadGate{Name: gateStopped, Scope: st.Name, Passed: false,
			Measured: fmt.Sprintf("%d of %d planned hits", st.Requests, st.PlannedHits),
			Message:  fmt.Sprintf("FAIL attack completed: stopped after %d of %d planned hits: %s", st.Requests, st.PlannedHits, st.Stopped)})
	}
	if !st.Valid {
		return
	}
	for _, o := range r.cfg.SLOs {
		if o.Kind() == slo.KindRate {
			continue
		}
		st.Gates = append(st.Gates, gateOf(o.Judge(measure(o, st, stats)), st.Name))
	}
}

func requestedOf(st *results.LoadStep) float64 {
	if st.AttemptedRatio > 0 {
		return st.AttemptedRate / st.AttemptedRatio
	}
	return st.RequestedRate
}

// stepPassed reports whether a step was valid and met every SLO it was
// judged on.
func stepPassed(st *results.LoadStep) bool {
	for _, g := range st.Gates {
		if !g.Passed {
			return false
		}
	}
	return st.Valid
}

// throughputLimit scales a throughput objective to a shard's share.
func (r *runner) throughputObjective(o slo.Objective) slo.Objective {
	if r.cfg.Shard == nil || r.cfg.Shard.Count <= 1 {
		return o
	}
	o.Limit /= float64(r.cfg.Shard.Count)
	o.Text = fmt.Sprintf("%s (shard share %s)", o.Text, FormatRate(o.Limit))
	return o
}

// judgeRun collects the run's verdicts: every step gate (except the probes
// of a capacity search, which are expected to fail above the capacity),
// throughput on the best step, uniqueness and the verification sample.
func (r *runner) judgeRun(rep *Report, verified bool) {
	l := rep.Load
	l.Gates = nil
	if l.Capacity == nil {
		for _, st := range l.Steps {
			l.Gates = append(l.Gates, st.Gates...)
		}
	} else {
		g := results.LoadGate{Name: gateCapacity, Scope: "run", Passed: l.Capacity.Found,
			Measured: FormatRate(l.Capacity.Rate)}
		if l.Capacity.Found {
			g.Message = fmt.Sprintf("pass capacity found: %s (%s)", FormatRate(l.Capacity.Rate), l.Capacity.Detail)
		} else {
			g.Message = "FAIL capacity found: " + l.Capacity.Detail
		}
		l.Gates = append(l.Gates, g)
	}
	for _, o := range r.cfg.SLOs {
		if o.Kind() != slo.KindRate {
			continue
		}
		o = r.throughputObjective(o)
		best, scope := -1.0, "run"
		for i := range l.Steps {
			st := &l.Steps[i]
			if !st.Valid {
				continue
			}
			if l.Capacity != nil && !(l.Capacity.Found && st.RequestedRate == l.Capacity.Rate && stepPassed(st)) {
				continue
			}
			if st.Throughput > best {
				best, scope = st.Throughput, st.Name
			}
		}
		if best < 0 {
			l.Gates = append(l.Gates, results.LoadGate{Name: o.Text, Scope: "run", Passed: false,
				Message: fmt.Sprintf("FAIL %s: no valid step to measure throughput on", o.Text)})
			continue
		}
		l.Gates = append(l.Gates, gateOf(o.Judge(best), scope))
	}
	var ok, sent uint64
	for _, st := range l.Steps {
		ok += st.OK
		sent += st.Requests
	}
	sg := results.LoadGate{Name: gateSucceeded, Scope: "run", Passed: ok > 0,
		Measured: fmt.Sprintf("%d of %d requests succeeded", ok, sent)}
	if sg.Passed {
		sg.Message = fmt.Sprintf("pass %s: %d of %d requests succeeded", gateSucceeded, ok, sent)
	} else {
		sg.Message = fmt.Sprintf("FAIL %s: none of %d requests succeeded; see the errors", gateSucceeded, sent)
	}
	l.Gates = append(l.Gates, sg)
	if !hasJudgingSLO(r.cfg.SLOs) {
		l.Notes = append(l.Notes, noteNoSLO)
	}
	for _, u := range l.Uniqueness {
		g := results.LoadGate{Name: "unique " + u.Kind, Scope: "run", Passed: u.Duplicates == 0,
			Measured: fmt.Sprintf("%d duplicates in %d", u.Duplicates, u.Seen)}
		if g.Passed {
			g.Message = fmt.Sprintf("pass unique %s: %d seen, all distinct", u.Kind, u.Seen)
		} else {
			g.Message = fmt.Sprintf("FAIL unique %s: %d of %d were issued before in this run (an IdP must never issue one twice)", u.Kind, u.Duplicates, u.Seen)
		}
		l.Gates = append(l.Gates, g)
	}
	if verified {
		v := l.Verification
		g := results.LoadGate{Name: gateVerified, Scope: "run", Passed: v.Failed == 0,
			Measured: fmt.Sprintf("%d verified, %d failed", v.Verified, v.Failed)}
		unchecked := fmt.Sprintf("%d offered: %d unverifiable (opaque), %d dropped while busy, %d not verified in time", v.Offered, v.Unverifiable, v.Dropped, v.NotVerified)
		switch {
		case g.Passed && v.Verified == 0 && r.cfg.VerifyRequired:
			// Asked for by name, so nothing verified is a verdict.
			g.Passed = false
			g.Message = fmt.Sprintf("FAIL verified sample: verification was asked for (1 in %d) and no token was verified (%s)", v.Every, unchecked)
		case g.Passed && v.Verified == 0:
			g.NotApplicable = true
			g.Message = fmt.Sprintf("n/a verified sample: nothing verifiable came (%s)", unchecked)
		case g.Passed:
			g.Message = fmt.Sprintf("pass verified sample: %d of %d offered verified (1 in %d; %d dropped while busy, %d unverifiable)", v.Verified, v.Offered, v.Every, v.Dropped, v.Unverifiable)
		default:
			reasons := make([]string, 0, len(v.Failures))
			for _, f := range v.Failures {
				reasons = append(reasons, fmt.Sprintf("%s (%d)", f.Reason, f.Count))
			}
			g.Message = fmt.Sprintf("FAIL verified sample: %d of %d sampled tokens failed: %s", v.Failed, v.Failed+v.Verified, strings.Join(reasons, "; "))
		}
		l.Gates = append(l.Gates, g)
	}
	if l.Interrupted {
		l.Gates = append(l.Gates, results.LoadGate{Name: gateComplete, Scope: "run", Passed: false,
			Message: "FAIL run completed: interrupted before the plan's end; the results cover what ran"})
	}
}

// hasJudgingSLO reports whether a latency or success objective is among os.
func hasJudgingSLO(os []slo.Objective) bool {
	for _, o := range os {
		if o.Kind() != slo.KindRate {
			return true
		}
	}
	return false
}

// fmtDur is slo.FormatDuration, short for tables.
func fmtDur(d time.Duration) string { return slo.FormatDuration(d) }
