// Package slo parses service level objectives such as "p99<=200ms",
// "success>=99.9%" and "throughput>=500/s", and judges measured values
// against them. A verdict always carries the measured value and the margin,
// so a failed gate says by how much it failed.
package slo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Metric is what an objective constrains.
type Metric string

const (
	// Latency metrics: a percentile ("p99", "p99.9"), "mean" or "max".
	// Their limit is a duration.
	Mean Metric = "mean"
	Max  Metric = "max"
	// Success is the share of requests that got the expected answer, a
	// percentage.
	Success Metric = "success"
	// Throughput is successful requests per second.
	Throughput Metric = "throughput"
)

// Kind groups metrics by unit.
type Kind int

const (
	KindLatency Kind = iota
	KindRatio
	KindRate
)

// Op compares a measured value with the limit.
type Op string

const (
	LE Op = "<="
	LT Op = "<"
	GE Op = ">="
	GT Op = ">"
)

// Objective is one parsed SLO.
type Objective struct {
	// Text is the objective as written, normalised ("p99<=200ms").
	Text   string
	Metric Metric
	// Quantile is set for percentile metrics: 0.99 for p99.
	Quantile float64
	Op       Op
	// Limit is in the metric's unit: nanoseconds for latency, a fraction
	// (0..1) for success, requests per second for throughput.
	Limit float64
}

// Kind returns the unit group of the objective's metric.
func (o Objective) Kind() Kind {
	switch o.Metric {
	case Success:
		return KindRatio
	case Throughput:
		return KindRate
	default:
		return KindLatency
	}
}

// LatencyLimit returns the limit of a latency objective as a duration.
func (o Objective) LatencyLimit() time.Duration { return time.Duration(o.Limit) }

func (o Objective) String() string { return o.Text }

// Examples is shown in error messages and help text.
const Examples = `p99<=200ms, p50<=20ms, p99.9<=1s, mean<=50ms, max<=2s, success>=99.9%, throughput>=500/s`

// Parse reads one objective. Latency objectives are upper bounds, success
// and throughput lower bounds: the other direction is refused as a likely
// typo rather than silently gating the wrong way.
func Parse(s string) (Objective, error) {
	text := strings.Join(strings.Fields(s), "")
	if text == "" {
		return Objective{}, fmt.Errorf("empty SLO; expected e.g. %s", Examples)
	}
	i := strings.IndexAny(text, "<>")
	if i <= 0 {
		return Objective{}, fmt.Errorf("SLO %q: expected METRIC OP VALUE with OP one of <=, <, >=, >; e.g. %s", s, Examples)
	}
	name, rest := strings.ToLower(text[:i]), text[i:]
	var op Op
	switch {
	case strings.HasPrefix(rest, "<="):
		op = LE
	case strings.HasPrefix(rest, ">="):
		op = GE
	case strings.HasPrefix(rest, "<"):
		op = LT
	default:
		op = GT
	}
	value := rest[len(op):]
	if value == "" {
		return Objective{}, fmt.Errorf("SLO %q: no value after %s", s, op)
	}
	o := Objective{Op: op}
	switch {
	case name == string(Mean) || name == string(Max):
		o.Metric = Metric(name)
	case name == string(Success):
		o.Metric = Success
	case name == string(Throughput):
		o.Metric = Throughput
	case strings.HasPrefix(name, "p"):
		q, err := strconv.ParseFloat(name[1:], 64)
		if err != nil || math.IsNaN(q) || q <= 0 || q >= 100 {
			return Objective{}, fmt.Errorf("SLO %q: percentile %q: expected p followed by a number above 0 and below 100, e.g. p50, p99, p99.9", s, name)
		}
		o.Metric = Metric(name)
		o.Quantile = q / 100
	default:
		return Objective{}, fmt.Errorf("SLO %q: unknown metric %q; expected a percentile (p50, p99, p99.9), mean, max, success or throughput", s, name)
	}

	switch o.Kind() {
	case KindLatency:
		if op == GE || op == GT {
			return Objective{}, fmt.Errorf("SLO %q: a latency objective is an upper bound; write %s<=%s", s, name, value)
		}
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return Objective{}, fmt.Errorf("SLO %q: %q is not a positive duration (examples: 200ms, 1.5s, 800us)", s, value)
		}
		o.Limit = float64(d)
		o.Text = fmt.Sprintf("%s%s%s", name, op, d)
	case KindRatio:
		if op == LE || op == LT {
			return Objective{}, fmt.Errorf("SLO %q: success is a lower bound; write success>=%s", s, value)
		}
		num, ok := strings.CutSuffix(value, "%")
		if !ok {
			return Objective{}, fmt.Errorf("SLO %q: success is a percentage; write e.g. success>=99.9%%", s)
		}
		p, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(p) || p <= 0 || p > 100 {
			return Objective{}, fmt.Errorf("SLO %q: %q is not a percentage above 0 and at most 100", s, value)
		}
		o.Limit = p / 100
		o.Text = fmt.Sprintf("success%s%s%%", op, strconv.FormatFloat(p, 'f', -1, 64))
	case KindRate:
		if op == LE || op == LT {
			return Objective{}, fmt.Errorf("SLO %q: throughput is a lower bound; write throughput>=%s", s, value)
		}
		r, err := ParseRate(value)
		if err != nil {
			return Objective{}, fmt.Errorf("SLO %q: %w", s, err)
		}
		o.Limit = r
		o.Text = fmt.Sprintf("throughput%s%s/s", op, strconv.FormatFloat(r, 'f', -1, 64))
	}
	return o, nil
}

// ParseAll parses every objective and reports all bad ones at once.
func ParseAll(list []string) ([]Objective, error) {
	var out []Objective
	var bad []string
	for _, s := range list {
		o, err := Parse(s)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		out = append(out, o)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "\n"))
	}
	return out, nil
}

// ParseRate reads a request rate: "500/s", "30/m", "5/100ms", or a bare
// number meaning per second. It returns requests per second.
func ParseRate(s string) (float64, error) {
	num, per, hasPer := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 {
		return 0, fmt.Errorf("rate %q: expected a positive number of requests per time unit, e.g. 500/s, 30/m, 5/100ms", s)
	}
	if !hasPer {
		return n, nil
	}
	switch per {
	case "s":
		return n, nil
	case "m":
		return n / 60, nil
	case "h":
		return n / 3600, nil
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("rate %q: %q is not a time unit; use s, m, h or a duration such as 100ms", s, per)
	}
	return n / d.Seconds(), nil
}

// Verdict is the judgement of one objective on one measurement.
type Verdict struct {
	Objective Objective
	Passed    bool
	// Measured is the value, in the objective's unit.
	Measured float64
	// Margin is how far the measurement is inside the limit (positive) or
	// outside it (negative), in the objective's unit.
	Margin float64
}

// Judge compares measured (in the objective's unit) with the limit.
func (o Objective) Judge(measured float64) Verdict {
	v := Verdict{Objective: o, Measured: measured}
	switch o.Op {
	case LE:
		v.Passed = measured <= o.Limit
		v.Margin = o.Limit - measured
	case LT:
		v.Passed = measured < o.Limit
		v.Margin = o.Limit - measured
	case GE:
		v.Passed = measured >= o.Limit
		v.Margin = measured - o.Limit
	case GT:
		v.Passed = measured > o.Limit
		v.Margin = measured - o.Limit
	}
	return v
}

// MeasuredText formats the measured value in the objective's unit.
func (v Verdict) MeasuredText() string { return format(v.Objective.Kind(), v.Measured) }

// MarginText says how far inside or outside the limit the value is, e.g.
// "140ms over the limit (70%)" or "headroom 60ms (30%)".
func (v Verdict) MarginText() string {
	k := v.Objective.Kind()
	abs := math.Abs(v.Margin)
	rel := ""
	if v.Objective.Limit != 0 {
		rel = fmt.Sprintf(" (%s of the limit)", strconv.FormatFloat(100*abs/v.Objective.Limit, 'f', 1, 64)+"%")
	}
	amount := format(k, abs)
	if k == KindRatio {
		amount = strconv.FormatFloat(100*abs, 'f', 3, 64) + " points"
	}
	if v.Passed {
		return "headroom " + amount + rel
	}
	switch k {
	case KindLatency:
		return amount + " over the limit" + rel
	default:
		return amount + " short of the limit" + rel
	}
}

// String is the one-line verdict: "FAIL p99<=200ms: measured 340ms, 140ms over the limit (70.0% of the limit)".
func (v Verdict) String() string {
	state := "pass"
	if !v.Passed {
		state = "FAIL"
	}
	return fmt.Sprintf("%s %s: measured %s, %s", state, v.Objective.Text, v.MeasuredText(), v.MarginText())
}

func format(k Kind, x float64) string {
	switch k {
	case KindLatency:
		return FormatDuration(time.Duration(x))
	case KindRatio:
		return strconv.FormatFloat(100*x, 'f', 3, 64) + "%"
	default:
		return strconv.FormatFloat(x, 'f', 1, 64) + "/s"
	}
}

// FormatDuration rounds a latency to three significant digits for people.
func FormatDuration(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond).String()
	default:
		return d.Round(100 * time.Nanosecond).String()
	}
}
