package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tsenart/vegeta/v12/lib/plot"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
)

// The load section charts with uPlot, taken from vegeta's lib/plot assets
// (the copy `vegeta plot` inlines), so the report adds no JavaScript
// dependency of its own. It is inlined with its MIT notice and allowed by
// hash like every other block of the page.

// uPlotSHA256 is the digest of the uPlot build the notice below describes
// (npm uplot@1.6.32, dist/uPlot.iife.min.js, which vegeta v12.13.0 ships
// byte for byte). A vegeta upgrade that changes it fails the test that
// checks it, so the notice is brought up to date with the code.
const uPlotSHA256 = "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f"

// uPlotNotice is uPlot's licence, which its MIT terms ask to keep with
// every copy.
const uPlotNotice = `/*! uPlot v1.6.32 (https://github.com/leeoniya/uPlot), from github.com/tsenart/vegeta/v12/lib/plot.
The MIT License (MIT)

Copyright (c) 2022 Leon Sorokin

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.
*/
`

type uPlotAssets struct {
	js, css []byte
	// digest is the SHA-256 of uPlot.min.js as vegeta ships it.
	digest string
}

var (
	uPlotOnce sync.Once
	uPlot     uPlotAssets
	uPlotErr  error
)

// uPlotFiles reads uPlot's script and style from vegeta's embedded assets
// once.
func uPlotFiles() (uPlotAssets, error) {
	uPlotOnce.Do(func() {
		read := func(name string) ([]byte, error) {
			f, err := plot.Assets.Open(name)
			if err != nil {
				return nil, fmt.Errorf("vegeta lib/plot asset %s: %w", name, err)
			}
			defer f.Close()
			b, err := io.ReadAll(f)
			if err != nil {
				return nil, fmt.Errorf("vegeta lib/plot asset %s: %w", name, err)
			}
			return b, nil
		}
		js, err := read("uPlot.min.js")
		if err != nil {
			uPlotErr = err
			return
		}
		css, err := read("uPlot.min.css")
		if err != nil {
			uPlotErr = err
			return
		}
		sum := sha256.Sum256(js)
		uPlot = uPlotAssets{js: append([]byte(uPlotNotice), js...), css: css, digest: hex.EncodeToString(sum[:])}
	})
	return uPlot, uPlotErr
}

// loadView is what the load section renders, derived once from run.Load.
type loadView struct {
	*results.Load
	Facts   []keyValue
	Gates   []gateRow
	Failed  int
	Steps   []stepRow
	Invalid int
	Charts  []stepChart
	// Data is the charts' data, JSON for a <script type="application/json">
	// block (json.Marshal escapes <, > and &, so it cannot end the block).
	Data     []byte
	Headline []keyValue
	CPUScope string
	// Passed counts the gates that passed; HasErrors is set when a step
	// has error groups.
	Passed    int
	HasErrors bool
}

type gateRow struct {
	results.LoadGate
	Verdict string
}

type stepRow struct {
	results.LoadStep
	ID        string
	Requested string
	Attempted string
	Lag       string
	P50, P90  string
	P99, Max  string
	CPUPerReq string
	CPUSecs   string
	Busy      string
}

// stepChart is one step's chart data: its time line (latency percentiles
// and requested and attempted rates, per time bucket) and its latency
// histogram. Latencies are in milliseconds; nil is a bucket with no
// response, drawn as a gap.
type stepChart struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Valid     bool       `json:"valid"`
	T         []float64  `json:"t"`
	P50       []*float64 `json:"p50"`
	P90       []*float64 `json:"p90"`
	P99       []*float64 `json:"p99"`
	Max       []*float64 `json:"max"`
	Requested []*float64 `json:"requested"`
	Attempted []float64  `json:"attempted"`
	HistLabel []string   `json:"hist_label"`
	HistCount []uint64   `json:"hist_count"`
}

func newLoadView(l *results.Load) (*loadView, error) {
	v := &loadView{Load: l}
	add := func(k, val string) {
		if val != "" {
			v.Facts = append(v.Facts, keyValue{Key: k, Value: val})
		}
	}
	add("Scenario", l.Scenario)
	add("Client", l.Client)
	add("Endpoint", l.Endpoint)
	add("Rate model", l.Model)
	add("SLOs", strings.Join(l.SLOs, ", "))
	g := l.Generator
	gen := fmt.Sprintf("%s, workers %d to %d, timeout %s, %d CPUs (GOMAXPROCS %d), steps under %.0f%% of the requested rate are invalid",
		g.HTTPVersion, g.Workers, g.MaxWorkers, g.Timeout, g.NumCPU, g.GOMAXPROCS, 100*g.MinAttemptedRatio)
	if len(g.Protocols) > 0 {
		gen += "; responses by protocol: " + protocolList(g.Protocols)
	}
	add("Generator", gen)
	add("Embedded mock signs", l.SigningAlg)
	if l.Shard != nil {
		add("Shard", fmt.Sprintf("%d of %d (0-based): this file holds 1/%d of every rate", l.Shard.Index, l.Shard.Count, l.Shard.Count))
	}
	if len(l.MergedFrom) > 0 {
		add("Merged from", strings.Join(l.MergedFrom, ", "))
	}
	if len(l.Files) > 0 {
		add("vegeta results", strings.Join(l.Files, ", ")+" (vegeta report / vegeta plot read them)")
	}
	if p := l.Preparation; p != nil {
		add("Prepared before the attack", preparationText(p)+" (not in the step figures)")
	}
	for _, n := range l.Notes {
		add("Note", n)
	}
	v.CPUScope = g.CPUScope

	for _, gt := range l.Gates {
		row := gateRow{LoadGate: gt, Verdict: "passed"}
		switch {
		case !gt.Passed:
			row.Verdict = "failed"
			v.Failed++
		case gt.NotApplicable:
			// Nothing to judge is not a pass: shown like a skipped spec.
			row.Verdict = "skipped"
		}
		v.Gates = append(v.Gates, row)
	}
	v.Passed = len(l.Gates) - v.Failed
	// Failures first: they are what the reader came for.
	sort.SliceStable(v.Gates, func(i, j int) bool { return !v.Gates[i].Passed && v.Gates[j].Passed })

	var sent, ok uint64
	var worstP99 time.Duration
	bestThroughput := 0.0
	for i, s := range l.Steps {
		id := fmt.Sprintf("step-%d", i+1)
		row := stepRow{LoadStep: s, ID: id, Requested: rateText(s.RequestedRate),
			Attempted: fmt.Sprintf("%s (%.1f%%)", rateText(s.AttemptedRate), 100*s.AttemptedRatio),
			Lag:       slo.FormatDuration(s.ScheduleLagP99) + " / " + slo.FormatDuration(s.ScheduleLagMax),
			P50:       slo.FormatDuration(s.Latency.P50), P90: slo.FormatDuration(s.Latency.P90),
			P99: slo.FormatDuration(s.Latency.P99), Max: slo.FormatDuration(s.Latency.Max),
			CPUPerReq: "-", CPUSecs: "-", Busy: "-"}
		if s.Model == "ramp" {
			row.Requested += " to " + rateText(s.RequestedRateEnd)
		}
		if c := s.CPU; c != nil {
			row.CPUPerReq = slo.FormatDuration(c.PerRequest)
			row.CPUSecs = fmt.Sprintf("%.2fs", c.ProcessSeconds)
			if c.TargetSeconds > 0 {
				row.CPUSecs += fmt.Sprintf(" (target %.2fs)", c.TargetSeconds)
			}
			if c.MachineBusyCores > 0 {
				row.Busy = fmt.Sprintf("%.2f (other work %.2f)", c.MachineBusyCores, c.OtherBusyCores)
			}
		}
		if !s.Valid {
			v.Invalid++
		}
		if len(s.Errors) > 0 {
			v.HasErrors = true
		}
		v.Steps = append(v.Steps, row)
		v.Charts = append(v.Charts, newStepChart(id, s))
		sent += s.Requests
		ok += s.OK
		if s.Valid {
			worstP99 = max(worstP99, s.Latency.P99)
			bestThroughput = max(bestThroughput, s.Throughput)
		}
	}
	v.Headline = []keyValue{{"requests", fmt.Sprint(sent)}, {"accepted", fmt.Sprint(ok)}}
	if sent > 0 {
		v.Headline = append(v.Headline, keyValue{"success", fmt.Sprintf("%.3f%%", 100*float64(ok)/float64(sent))})
	}
	if worstP99 > 0 {
		v.Headline = append(v.Headline, keyValue{"worst valid p99", slo.FormatDuration(worstP99)})
	}
	if bestThroughput > 0 {
		v.Headline = append(v.Headline, keyValue{"best valid throughput", fmt.Sprintf("%.1f/s", bestThroughput)})
	}
	if c := l.Capacity; c != nil && c.Found {
		v.Headline = append(v.Headline, keyValue{"capacity", rateText(c.Rate)})
	}
	data, err := json.Marshal(struct {
		Steps []stepChart `json:"steps"`
	}{v.Charts})
	if err != nil {
		return nil, fmt.Errorf("load chart data: %w", err)
	}
	v.Data = data
	return v, nil
}

func ms(d time.Duration) *float64 {
	x := float64(d) / float64(time.Millisecond)
	return &x
}

func newStepChart(id string, s results.LoadStep) stepChart {
	c := stepChart{ID: id, Name: s.Name, Valid: s.Valid}
	for _, b := range s.TimeBuckets {
		c.T = append(c.T, b.Offset.Seconds())
		c.Attempted = append(c.Attempted, b.AttemptedRate)
		if b.RequestedRate > 0 {
			r := b.RequestedRate
			c.Requested = append(c.Requested, &r)
		} else {
			c.Requested = append(c.Requested, nil)
		}
		if b.Requests == 0 {
			c.P50, c.P90, c.P99, c.Max = append(c.P50, nil), append(c.P90, nil), append(c.P99, nil), append(c.Max, nil)
			continue
		}
		c.P50, c.P90, c.P99, c.Max = append(c.P50, ms(b.P50)), append(c.P90, ms(b.P90)), append(c.P99, ms(b.P99)), append(c.Max, ms(b.Max))
	}
	// The histogram from its first to its last non-empty bucket.
	lo, hi := -1, -1
	for i, b := range s.Histogram {
		if b.Count > 0 {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	for i := lo; lo >= 0 && i <= hi; i++ {
		b := s.Histogram[i]
		label := slo.FormatDuration(b.From) + "–" + slo.FormatDuration(b.To)
		if b.To == 0 {
			label = "≥" + slo.FormatDuration(b.From)
		}
		c.HistLabel = append(c.HistLabel, label)
		c.HistCount = append(c.HistCount, b.Count)
	}
	return c
}

// loadAssets are the inline blocks a load section adds to the page.
type loadAssets struct {
	UPlotJS, UPlotCSS, LoadJS []byte
}

func readLoadAssets() (loadAssets, error) {
	u, err := uPlotFiles()
	if err != nil {
		return loadAssets{}, err
	}
	js, err := htmlAssets.ReadFile("templates/load.js")
	if err != nil {
		return loadAssets{}, fmt.Errorf("html load js: %w", err)
	}
	return loadAssets{UPlotJS: u.js, UPlotCSS: u.css, LoadJS: js}, nil
}

// cspHashes is the CSP source list allowing each block.
func cspHashes(blocks ...[]byte) string {
	var out []string
	for _, b := range blocks {
		if len(b) > 0 {
			out = append(out, cspHash(b))
		}
	}
	return strings.Join(out, " ")
}
