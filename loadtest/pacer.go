package loadtest

import (
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// schedule is a vegeta pacer that stops at a hit cap and knows when each hit
// was due, so the engine can measure how far the generator fell behind: a
// generator that cannot keep up sends fewer hits than were due, and later.
type schedule interface {
	vegeta.Pacer
	// due is when hit k (0-based, vegeta's Seq) was due after the start.
	due(k uint64) time.Duration
	// expected is how many hits were due by elapsed.
	expected(elapsed time.Duration) uint64
	// limit is the hit cap: the attack stops after this many hits.
	limit() uint64
}

// constantSchedule is vegeta's ConstantPacer with a hit cap. vegeta's
// PacerFunc does not satisfy Pacer (it has no Rate), so the cap is a type
// embedding the pacer.
type constantSchedule struct {
	vegeta.ConstantPacer
	max uint64
}

var _ vegeta.Pacer = constantSchedule{}

// newConstant paces rate hits per second for at most d and max hits.
func newConstant(rate float64, d time.Duration, max uint64) constantSchedule {
	p := vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}
	if rate != math.Trunc(rate) {
		// Fractional rates: the same rate over a longer unit.
		p = vegeta.ConstantPacer{Freq: int(math.Round(rate * 1000)), Per: 1000 * time.Second}
	}
	s := constantSchedule{ConstantPacer: p}
	planned := s.expected(d)
	if max == 0 || max > planned {
		max = planned
	}
	s.max = max
	return s
}

func (s constantSchedule) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= s.max {
		return 0, true
	}
	return s.ConstantPacer.Pace(elapsed, hits)
}

// interval is the pacer's spacing as vegeta computes it (integer ns).
func (s constantSchedule) interval() time.Duration {
	if s.Freq <= 0 {
		// No rate: no hit is ever due. Plan.Validate refuses such rates;
		// this keeps a caller that skipped it from dividing by zero.
		return s.Per
	}
	// At least a nanosecond: expected divides by it.
	return max(time.Duration(s.Per.Nanoseconds()/int64(s.Freq)), 1)
}

// vegeta's ConstantPacer sends hit k at (k+1) intervals.
func (s constantSchedule) due(k uint64) time.Duration { return time.Duration(k+1) * s.interval() }

func (s constantSchedule) expected(elapsed time.Duration) uint64 {
	if elapsed <= 0 {
		return 0
	}
	return uint64(elapsed / s.interval())
}

func (s constantSchedule) limit() uint64 { return s.max }

// rampSchedule is vegeta's LinearPacer (rate from start to end over d) with
// a hit cap.
type rampSchedule struct {
	vegeta.LinearPacer
	start, slope float64 // hits/s and hits/s²
	max          uint64
}

var _ vegeta.Pacer = rampSchedule{}

func newRamp(from, to float64, d time.Duration, max uint64) rampSchedule {
	slope := (to - from) / d.Seconds()
	lp := vegeta.LinearPacer{StartAt: vegeta.ConstantPacer{Freq: int(math.Round(from * 1000)), Per: 1000 * time.Second}, Slope: slope}
	s := rampSchedule{LinearPacer: lp, start: from, slope: slope}
	planned := uint64(math.Ceil(s.hitsAt(d)))
	if max == 0 || max > planned {
		max = planned
	}
	s.max = max
	return s
}

func (s rampSchedule) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= s.max {
		return 0, true
	}
	return s.LinearPacer.Pace(elapsed, hits)
}

// hitsAt integrates the rate: slope t²/2 + start t.
func (s rampSchedule) hitsAt(t time.Duration) float64 {
	x := t.Seconds()
	return s.slope*x*x/2 + s.start*x
}

// vegeta's LinearPacer sends hit k when hitsAt(t) reaches k.
func (s rampSchedule) due(k uint64) time.Duration {
	n := float64(k)
	if s.slope == 0 {
		return time.Duration(n / s.start * 1e9)
	}
	disc := s.start*s.start + 2*s.slope*n
	if disc < 0 {
		disc = 0
	}
	return time.Duration((-s.start + math.Sqrt(disc)) / s.slope * 1e9)
}

func (s rampSchedule) expected(elapsed time.Duration) uint64 {
	if elapsed < 0 {
		return 0
	}
	return uint64(math.Floor(s.hitsAt(elapsed))) + 1
}

func (s rampSchedule) limit() uint64 { return s.max }
