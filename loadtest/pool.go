package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/idpconform/idpconform/internal/results"
)

// Bounds of filling a pool.
const (
	// maxFailureReasons bounds the distinct reasons a preparation keeps;
	// the rest are counted under one line.
	maxFailureReasons = 20
	// minFailuresToGiveUp is how many flows must fail, and outnumber the
	// successes, before filling stops: a target that refuses every login
	// is told apart from one that refuses a few.
	minFailuresToGiveUp = 10
	// firstTries is how many attempts may fail before any succeeded.
	firstTries   = 2
	maxReasonLen = 300
)

// fill runs attempt until want attempts succeeded, o.Timeout passed,
// failures outnumbered successes (at least minFailuresToGiveUp of them), or
// ctx ended. The first attempts run alone, and filling stops when the first
// two both fail: failed logins can lock a test account, so a wrong password
// must not be tried by every worker at once. After a success, o.Workers
// workers share the rest. An attempt puts what it obtained into its pool
// itself and returns nil, or returns why it failed (a stable phrase, never
// a value). The preparation says what came and what it cost; the error is
// set when nothing came.
func fill(ctx context.Context, d Demand, what string, want uint64, o PoolOptions, attempt func(context.Context) error) (*results.LoadPreparation, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultPoolTimeout
	}
	if d.Progress != nil {
		fmt.Fprintf(d.Progress, "load: preparing %d %s (at most %s)\n", want, what, o.Timeout)
	}
	workers := o.Workers
	if workers <= 0 {
		workers = DefaultPoolWorkers
	}
	workers = int(min(uint64(workers), max(want, 1)))
	prep := &results.LoadPreparation{What: what, Wanted: want, Workers: workers}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	var (
		// left counts the successes still to be claimed. A worker claims
		// one and retries it until it succeeds or filling stops, so a
		// failure never hands a slot back that a worker already gone
		// could have taken (that race once left a pool one short).
		left               atomic.Int64
		got, failed, tries atomic.Uint64
		gaveUp             atomic.Bool
		mu                 sync.Mutex
		why                = map[string]uint64{}
	)
	// one runs an attempt and counts its outcome: ok when it succeeded,
	// stop when filling must end (the bound passed, or too many failed).
	one := func() (ok, stop bool) {
		tries.Add(1)
		err := attempt(ctx)
		if err == nil {
			got.Add(1)
			return true, false
		}
		if ctx.Err() != nil {
			// Cut off by the bound, not refused by the target.
			return false, true
		}
		f := failed.Add(1)
		reason := err.Error()
		if len(reason) > maxReasonLen {
			reason = reason[:maxReasonLen] + "..."
		}
		mu.Lock()
		if _, known := why[reason]; !known && len(why) >= maxFailureReasons {
			reason = "(other reasons)"
		}
		why[reason]++
		mu.Unlock()
		if f >= minFailuresToGiveUp && f > got.Load() {
			gaveUp.Store(true)
		}
		return false, gaveUp.Load()
	}
	// claimed retries one claimed slot until it is filled; false when
	// filling must end.
	claimed := func() bool {
		for {
			ok, stop := one()
			if stop {
				return false
			}
			if ok {
				return true
			}
		}
	}
	left.Store(int64(want))
	if want > 0 && ctx.Err() == nil {
		// The first slot alone, at most firstTries times.
		left.Add(-1)
		for got.Load() == 0 && ctx.Err() == nil {
			if failed.Load() >= firstTries {
				gaveUp.Store(true)
				break
			}
			if _, stop := one(); stop {
				break
			}
		}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && !gaveUp.Load() && left.Add(-1) >= 0 {
				if !claimed() {
					return
				}
			}
		}()
	}
	wg.Wait()
	prep.Got, prep.Failed, prep.Attempts = got.Load(), failed.Load(), tries.Load()
	if prep.Got < want {
		switch {
		case gaveUp.Load():
			prep.Bound = "failures"
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			prep.Bound = "time"
		case ctx.Err() != nil:
			prep.Bound = "interrupted"
		}
	}
	for r, n := range why {
		prep.Failures = append(prep.Failures, results.LoadVerifyGroup{Reason: r, Count: n})
	}
	sort.Slice(prep.Failures, func(i, j int) bool {
		if prep.Failures[i].Count != prep.Failures[j].Count {
			return prep.Failures[i].Count > prep.Failures[j].Count
		}
		return prep.Failures[i].Reason < prep.Failures[j].Reason
	})
	if prep.Got == 0 && want > 0 {
		cause := "nothing came within " + o.Timeout.String()
		switch {
		case prep.Bound == "interrupted":
			cause = "interrupted"
		case len(prep.Failures) > 0:
			cause = fmt.Sprintf("%d of %d attempts failed, most with: %s", prep.Failed, prep.Attempts, prep.Failures[0].Reason)
		}
		return prep, fmt.Errorf("%s: none obtained: %s", what, cause)
	}
	return prep, nil
}

// poolSize is the size asked for with --pool, or auto capped at
// MaxAutoPool; never under 1.
func poolSize(o PoolOptions, auto uint64) uint64 {
	if o.Size > 0 {
		return min(o.Size, MaxPool)
	}
	return max(1, min(auto, MaxAutoPool))
}
