package loadtest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/slo"
)

// Model is how a run sets the request rate.
type Model string

const (
	// Constant sends one rate for the whole duration: the open model, so
	// a slow target cannot slow the generator down and hide its latency
	// (coordinated omission).
	Constant Model = "constant"
	// Steps sends each rate in turn, each for the step duration.
	Steps Model = "steps"
	// Ramp moves the rate linearly from one value to another.
	Ramp Model = "ramp"
	// FindCapacity searches for the highest rate that meets the SLOs.
	FindCapacity Model = "find-capacity"
)

// Plan is what a run asks of the generator.
type Plan struct {
	Model Model
	// Rates are requests per second: one for Constant, each step's for
	// Steps, the first probe's for FindCapacity.
	Rates []float64
	// From and To are a ramp's start and end rates.
	From, To float64
	// Duration is the length of each attack: the run, a step, a ramp or a
	// capacity probe.
	Duration time.Duration
	// MaxHits bounds each attack's hits beyond rate × duration; 0 means
	// rate × duration.
	MaxHits uint64
	// MaxRate and MaxProbes bound a capacity search; Precision ends it
	// when the gap between the best passing and the lowest failing rate
	// is under this share of the former.
	MaxRate   float64
	MaxProbes int
	Precision float64
}

// Bounds of a plan: every attack is bounded in time and in hits.
const (
	MinRate = 0.01
	// MaxRate is the highest rate one process paces: vegeta spaces hits by
	// an integer count of nanoseconds, which reaches zero (and a divide by
	// zero) past 1e9/s, and no generator sends a million a second anyway.
	// More is sharded.
	MaxRate             = 1_000_000
	DefaultMaxHits      = 2_000_000
	DefaultMaxProbes    = 12
	DefaultPrecision    = 0.05
	DefaultMaxRate      = 100_000
	MaxAttackDuration   = 24 * time.Hour
	DefaultMinAttempted = 0.98
)

// ParseRates reads a comma-separated list of rates: "100/s,200/s,400/s".
func ParseRates(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		r, err := slo.ParseRate(part)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no rate in %q; expected e.g. 100/s,200/s,400/s", s)
	}
	return out, nil
}

// ParseRamp reads "FROM-TO" or "FROM:TO", e.g. "50/s:500/s".
func ParseRamp(s string) (from, to float64, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("ramp %q: expected FROM:TO, e.g. 50/s:500/s", s)
	}
	if from, err = slo.ParseRate(a); err != nil {
		return 0, 0, fmt.Errorf("ramp %q: %w", s, err)
	}
	if to, err = slo.ParseRate(b); err != nil {
		return 0, 0, fmt.Errorf("ramp %q: %w", s, err)
	}
	return from, to, nil
}

// CheckRate checks one rate against the bounds a process can pace.
func CheckRate(r float64) error {
	if r < MinRate || r > MaxRate || math.IsNaN(r) || math.IsInf(r, 0) {
		return fmt.Errorf("%s: expected at least %s and at most %s (one process's ceiling; shard the attack for more)", FormatRate(r), FormatRate(MinRate), FormatRate(MaxRate))
	}
	return nil
}

// Validate checks the plan's bounds before anything is sent.
func (p Plan) Validate() error {
	if p.Duration <= 0 || p.Duration > MaxAttackDuration {
		return fmt.Errorf("duration %s: expected more than 0 and at most %s", p.Duration, MaxAttackDuration)
	}
	check := func(what string, r float64) error {
		if err := CheckRate(r); err != nil {
			return fmt.Errorf("%s %w", what, err)
		}
		return nil
	}
	maxHits := p.MaxHits
	if maxHits == 0 {
		maxHits = DefaultMaxHits
	}
	planned := func(r float64) error {
		if h := r * p.Duration.Seconds(); h > float64(maxHits) {
			return fmt.Errorf("%s for %s is %.0f hits, above the bound of %d per attack; shorten the duration, lower the rate, shard the attack or raise --max-hits", FormatRate(r), p.Duration, h, maxHits)
		}
		return nil
	}
	switch p.Model {
	case Constant, Steps, FindCapacity:
		if len(p.Rates) == 0 {
			return fmt.Errorf("%s: no rate", p.Model)
		}
		if p.Model == Constant && len(p.Rates) != 1 {
			return fmt.Errorf("constant: expected one rate, got %d", len(p.Rates))
		}
		for _, r := range p.Rates {
			if err := check("rate", r); err != nil {
				return err
			}
			if p.Model != FindCapacity {
				if err := planned(r); err != nil {
					return err
				}
			}
		}
		if p.Model == FindCapacity {
			if p.MaxRate < p.Rates[0] {
				return fmt.Errorf("find-capacity: max rate %s is below the start rate %s", FormatRate(p.MaxRate), FormatRate(p.Rates[0]))
			}
			if err := planned(p.MaxRate); err != nil {
				return fmt.Errorf("find-capacity max rate: %w", err)
			}
			if p.MaxProbes < 1 || p.MaxProbes > 100 {
				return fmt.Errorf("find-capacity: max probes %d: expected 1 to 100", p.MaxProbes)
			}
			if p.Precision <= 0 || p.Precision >= 1 {
				return fmt.Errorf("find-capacity: precision %v: expected a fraction between 0 and 1", p.Precision)
			}
		}
	case Ramp:
		if err := check("ramp start", p.From); err != nil {
			return err
		}
		if err := check("ramp end", p.To); err != nil {
			return err
		}
		if err := planned((p.From + p.To) / 2); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown model %q", p.Model)
	}
	return nil
}

// Shard is this process's part of an attack split across processes or
// machines: shard Index of Count (0-based, like a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX). Each shard sends 1/Count of every rate.
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/n".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: expected INDEX/COUNT, e.g. 0/4 (indexes are 0-based)", s)
	}
	if n < 1 || n > 1000 {
		return Shard{}, fmt.Errorf("shard %q: count must be 1 to 1000", s)
	}
	if i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: index must be 0 to %d (indexes are 0-based, like JOB_COMPLETION_INDEX)", s, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Split returns the plan of shard s: every rate and hit bound divided by
// the shard count.
func (p Plan) Split(s Shard) Plan {
	n := float64(s.Count)
	out := p
	out.Rates = make([]float64, len(p.Rates))
	for i, r := range p.Rates {
		out.Rates[i] = r / n
	}
	out.From, out.To, out.MaxRate = p.From/n, p.To/n, p.MaxRate/n
	if p.MaxHits > 0 {
		out.MaxHits = max(1, p.MaxHits/uint64(s.Count))
	}
	return out
}

// FormatRate prints a rate for people: "500/s", "12.5/s".
func FormatRate(r float64) string {
	if r == math.Trunc(r) && r < 1e12 {
		return strconv.FormatFloat(r, 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "/s"
}
