package loadtest

import (
	"context"
	"fmt"
	"strings"

	"github.com/idpconform/idpconform/internal/results"
)

// findCapacity searches for the highest rate at which a valid step meets
// every latency and success SLO: it doubles the rate from the start rate
// until a probe fails (halving instead when the first one fails), then
// bisects between the best passing and the lowest failing rate until they
// are within the plan's precision. A failing probe is run once more before
// the rate counts as failed. Every probe is a bounded attack; the number of
// probes is bounded too.
//
// A probe can fail in two ways that mean different things: the target
// breached an SLO (its capacity is below that rate), or the generator could
// not send the rate (the step is invalid: the capacity is at least the best
// passing rate, and a stronger generator or more shards are needed to
// find it).
func (r *runner) findCapacity(ctx context.Context, rep *Report) {
	p := r.cfg.Plan
	capa := &results.LoadCapacity{}
	rep.Load.Capacity = capa
	var good, bad float64
	var goodStep *results.LoadStep
	var badWhy string
	badInvalid := false
	rate := p.Rates[0]
	retried := false
	flaky := 0
	for capa.Probes < p.MaxProbes && ctx.Err() == nil && r.stopped == "" {
		capa.Probes++
		name := fmt.Sprintf("probe %d %s", capa.Probes, FormatRate(rate))
		if retried {
			name += " (retry)"
		}
		st := r.runStep(ctx, rep, step{
			name: name, model: "probe",
			rate: rate, duration: p.Duration, sched: newConstant(rate, p.Duration, p.MaxHits),
		})
		if st.Interrupted {
			break
		}
		// A failure is confirmed by a second probe at the same rate: one
		// stall of a shared machine (a GC pause, a neighbour's burst) can
		// fail a probe, and the search must not stop on it. Passes need
		// no confirmation: noise makes probes fail, not pass.
		if !stepPassed(st) && !retried && capa.Probes < p.MaxProbes {
			retried = true
			continue
		}
		if retried && stepPassed(st) {
			flaky++
		}
		retried = false
		if stepPassed(st) {
			good, goodStep = rate, st
		} else {
			bad, badInvalid, badWhy = rate, !st.Valid, failedGates(st)
		}
		next, done := nextProbe(good, bad, p)
		if done {
			break
		}
		rate = next
	}

	capa.Found = goodStep != nil
	if goodStep != nil {
		capa.Rate = good
		capa.Throughput = goodStep.Throughput
	}
	switch {
	case ctx.Err() != nil:
		capa.Bound = "interrupted"
		capa.Detail = "the search was interrupted"
	case r.stopped != "":
		capa.Bound = "stopped"
		capa.Detail = "the scenario stopped the search: " + r.stopped
	case bad == 0 && good >= p.MaxRate:
		capa.Bound = "max-rate"
		capa.Detail = fmt.Sprintf("met every SLO up to the search's maximum rate %s; raise --max-rate to look further", FormatRate(p.MaxRate))
	case bad == 0 || (good > 0 && (bad-good)/good > p.Precision && capa.Probes >= p.MaxProbes):
		capa.Bound = "probes"
		capa.Detail = fmt.Sprintf("stopped after %d probes; raise --max-probes to narrow it", capa.Probes)
	case badInvalid:
		capa.Bound = "generator"
		capa.Detail = fmt.Sprintf("at %s the generator could not send the requested rate, so the target's capacity is at least %s; shard the attack or give the generator more CPU to look further", FormatRate(bad), FormatRate(good))
	default:
		capa.Bound = "slo"
		capa.Detail = fmt.Sprintf("at %s the target failed: %s", FormatRate(bad), badWhy)
	}
	if flaky > 0 {
		capa.Detail += fmt.Sprintf("; %d rate(s) failed once and passed on retry: the machine or the target is noisy, judge with care", flaky)
	}
	if goodStep == nil && capa.Bound != "interrupted" && capa.Bound != "stopped" {
		capa.Detail = fmt.Sprintf("no rate tried met the SLOs (lowest tried %s): %s", FormatRate(lowestRate(rep.Load.Steps)), badWhy)
	}
}

// nextProbe returns the next rate to try and whether the search is over.
func nextProbe(good, bad float64, p Plan) (float64, bool) {
	switch {
	case bad == 0:
		if good >= p.MaxRate {
			return 0, true
		}
		return min(good*2, p.MaxRate), false
	case good == 0:
		next := bad / 2
		if next < MinRate {
			return 0, true
		}
		return next, false
	case (bad-good)/good <= p.Precision:
		return 0, true
	default:
		return (good + bad) / 2, false
	}
}

func failedGates(st *results.LoadStep) string {
	var out []string
	for _, g := range st.Gates {
		if !g.Passed {
			out = append(out, strings.TrimPrefix(g.Message, "FAIL "))
		}
	}
	return strings.Join(out, "; ")
}

func lowestRate(steps []results.LoadStep) float64 {
	low := 0.0
	for _, s := range steps {
		if low == 0 || s.RequestedRate < low {
			low = s.RequestedRate
		}
	}
	return low
}
