package slo

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseGood(t *testing.T) {
	cases := []struct {
		in     string
		text   string
		metric Metric
		q      float64
		op     Op
		limit  float64
	}{
		{"p99<=200ms", "p99<=200ms", "p99", 0.99, LE, float64(200 * time.Millisecond)},
		{" p99.9 < 1s ", "p99.9<1s", "p99.9", 0.999, LT, float64(time.Second)},
		{"P50<=800us", "p50<=800µs", "p50", 0.5, LE, float64(800 * time.Microsecond)},
		{"mean<=50ms", "mean<=50ms", Mean, 0, LE, float64(50 * time.Millisecond)},
		{"max<=2s", "max<=2s", Max, 0, LE, float64(2 * time.Second)},
		{"success>=99.9%", "success>=99.9%", Success, 0, GE, 0.999},
		{"success>100%", "success>100%", Success, 0, GT, 1},
		{"throughput>=500/s", "throughput>=500/s", Throughput, 0, GE, 500},
		{"throughput>=600/m", "throughput>=10/s", Throughput, 0, GE, 10},
		{"throughput>=50", "throughput>=50/s", Throughput, 0, GE, 50},
	}
	for _, c := range cases {
		o, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if o.Text != c.text || o.Metric != c.metric || !near(o.Quantile, c.q) || o.Op != c.op || !near(o.Limit, c.limit) {
			t.Errorf("Parse(%q) = %+v", c.in, o)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestParseBad(t *testing.T) {
	cases := map[string]string{
		"":                  "empty SLO",
		"p99":               "expected METRIC OP VALUE",
		"p99<=":             "no value",
		"p99>=200ms":        "upper bound",
		"p100<=1s":          "percentile",
		"p0<=1s":            "percentile",
		"pxx<=1s":           "percentile",
		"p99<=fast":         "not a positive duration",
		"p99<=-1s":          "not a positive duration",
		"latency<=1s":       "unknown metric",
		"success<=99%":      "lower bound",
		"success>=99.9":     "percentage",
		"success>=101%":     "at most 100",
		"throughput<=5/s":   "lower bound",
		"throughput>=5/day": "not a time unit",
		"throughput>=-5/s":  "positive number",
	}
	for in, want := range cases {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error %q lacks %q", in, err, want)
		}
	}
}

func TestParseAllReportsEveryBadOne(t *testing.T) {
	_, err := ParseAll([]string{"p99<=1s", "p99<=x", "success<=1%"})
	if err == nil {
		t.Fatal("accepted")
	}
	if !strings.Contains(err.Error(), "p99<=x") || !strings.Contains(err.Error(), "success<=1%") {
		t.Errorf("not every bad SLO named: %v", err)
	}
	got, err := ParseAll([]string{"p99<=1s", "success>=99%"})
	if err != nil || len(got) != 2 {
		t.Errorf("ParseAll good: %v %v", got, err)
	}
}

func TestParseRate(t *testing.T) {
	cases := map[string]float64{"500/s": 500, "30/m": 0.5, "7200/h": 2, "5/100ms": 50, "12.5": 12.5}
	for in, want := range cases {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0/s", "fast", "5/", "5/0s", "NaN/s", "Inf"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}

func TestJudge(t *testing.T) {
	p99, _ := Parse("p99<=200ms")
	v := p99.Judge(float64(340 * time.Millisecond))
	if v.Passed {
		t.Fatal("340ms passed p99<=200ms")
	}
	if got, want := v.String(), "FAIL p99<=200ms: measured 340ms, 140ms over the limit (70.0% of the limit)"; got != want {
		t.Errorf("verdict\n got %q\nwant %q", got, want)
	}
	if v := p99.Judge(float64(150 * time.Millisecond)); !v.Passed || !strings.Contains(v.String(), "headroom 50ms") {
		t.Errorf("150ms: %s", v)
	}
	if v := p99.Judge(float64(200 * time.Millisecond)); !v.Passed {
		t.Errorf("equal to the limit must pass <=: %s", v)
	}
	lt, _ := Parse("p99<200ms")
	if v := lt.Judge(float64(200 * time.Millisecond)); v.Passed {
		t.Errorf("equal to the limit must fail <: %s", v)
	}

	succ, _ := Parse("success>=99.9%")
	v = succ.Judge(0.992)
	if v.Passed || !strings.Contains(v.String(), "measured 99.200%, 0.700 points short") {
		t.Errorf("success verdict: %s", v)
	}
	if v := succ.Judge(1); !v.Passed {
		t.Errorf("100%% failed: %s", v)
	}

	tp, _ := Parse("throughput>=500/s")
	v = tp.Judge(420)
	if v.Passed || !strings.Contains(v.String(), "measured 420.0/s, 80.0/s short of the limit (16.0% of the limit)") {
		t.Errorf("throughput verdict: %s", v)
	}
	if v := tp.Judge(501); !v.Passed {
		t.Errorf("501/s failed: %s", v)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"p99<=200ms", "success>=99.9%", "throughput>=5/100ms", "p<=", "<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := Parse(s)
		if err != nil {
			return
		}
		// A parsed objective re-parses from its own text to the same value.
		again, err := Parse(o.Text)
		if err != nil || again.Limit != o.Limit || again.Op != o.Op || again.Metric != o.Metric {
			t.Errorf("Parse(%q).Text %q does not round-trip: %+v %v", s, o.Text, again, err)
		}
	})
}
