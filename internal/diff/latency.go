package diff

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/results"
)

// Gate bounds a latency percentile of the new side relative to the old:
// new <= Factor x old + Slack. Operation selects the operations it applies
// to ("" for all; "token" for token.*).
type Gate struct {
	Text      string
	Operation string
	Metric    string // p50, p90, p95, p99, max
	Factor    float64
	Slack     time.Duration
}

var gateSyntax = regexp.MustCompile(`^(?:([a-z_.]+):)?(p50|p90|p95|p99|max)<=([0-9]+(?:\.[0-9]+)?)x(?:\+([0-9.]+(?:ns|us|µs|ms|s)))?$`)

// GateExamples is shown in help and errors.
const GateExamples = `p99<=1.2x, p50<=1.5x+2ms, token:p99<=1.3x, token.client_credentials:max<=2x`

// ParseGate reads "[OPERATION:]METRIC<=FACTORx[+SLACK]".
func ParseGate(s string) (Gate, error) {
	text := strings.Join(strings.Fields(s), "")
	m := gateSyntax.FindStringSubmatch(text)
	if m == nil {
		return Gate{}, fmt.Errorf("latency gate %q: expected [OPERATION:]METRIC<=FACTORx[+SLACK] with METRIC p50, p90, p95, p99 or max; e.g. %s", s, GateExamples)
	}
	f, err := strconv.ParseFloat(m[3], 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) {
		return Gate{}, fmt.Errorf("latency gate %q: the factor must be a positive number", s)
	}
	g := Gate{Text: text, Operation: m[1], Metric: m[2], Factor: f}
	if m[4] != "" {
		if g.Slack, err = time.ParseDuration(m[4]); err != nil {
			return Gate{}, fmt.Errorf("latency gate %q: slack: %w", s, err)
		}
	}
	return g, nil
}

// ParseGates parses each gate.
func ParseGates(ss []string) ([]Gate, error) {
	out := make([]Gate, 0, len(ss))
	for _, s := range ss {
		g, err := ParseGate(s)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

func (g Gate) applies(op string) bool {
	return g.Operation == "" || op == g.Operation || strings.HasPrefix(op, g.Operation+".")
}

// latency lays the operations of both sides side by side and judges the
// gates on them.
func (c *comparer) latency(gates []Gate) {
	newL := map[string]baseline.Latency{}
	for _, l := range c.new.Latency {
		newL[l.Operation] = l
	}
	var both []baseline.Latency
	for _, o := range c.old.Latency {
		n, ok := newL[o.Operation]
		if !ok {
			continue
		}
		both = append(both, o)
		row := results.DiffLatency{Operation: o.Operation, OldSamples: o.Samples, NewSamples: n.Samples, OldP50: o.P50, NewP50: n.P50, OldP99: o.P99, NewP99: n.P99}
		if o.P99 > 0 {
			row.Ratio = math.Round(n.P99/o.P99*100) / 100
		}
		c.lat = append(c.lat, row)
	}
	for _, g := range gates {
		matched := false
		for _, o := range both {
			if !g.applies(o.Operation) {
				continue
			}
			matched = true
			n := newL[o.Operation]
			ov, _ := o.Quantile(g.Metric)
			nv, _ := n.Quantile(g.Metric)
			limit := ov*g.Factor + float64(g.Slack)/float64(time.Millisecond)
			limit = math.Round(limit*1000) / 1000
			gr := results.DiffGate{Gate: g.Text, Operation: o.Operation, Old: ov, New: nv, Limit: limit, Passed: nv <= limit}
			c.gates = append(c.gates, gr)
			if gr.Passed {
				continue
			}
			c.add(results.Difference{Class: results.ClassBreaking, Category: CatLatency, Subject: "latency of " + o.Operation, Item: g.Metric, Change: "slower than the gate allows",
				Old: fmt.Sprintf("%s %.3f ms (%s)", g.Metric, ov, plural(o.Samples, "sample")), New: fmt.Sprintf("%s %.3f ms (%s)", g.Metric, nv, plural(n.Samples, "sample")),
				Reason: fmt.Sprintf("%.3f ms is above the limit %.3f ms", nv, limit), Rule: "latency gate " + g.Text + " (--latency)"}, o.Operation, g.Text)
		}
		if !matched {
			c.add(results.Difference{Class: results.ClassWarning, Category: CatLatency, Subject: "latency gate " + g.Text, Change: "not evaluated",
				Reason: "no operation measured on both sides matches the gate", Rule: "latency gate " + g.Text + " (--latency)"}, g.Text)
		}
	}
}
