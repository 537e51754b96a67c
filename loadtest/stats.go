package loadtest

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/results"
)

// stepStats aggregates the results of one step. It reads only what vegeta's
// result files keep (status, error, timestamp, latency), so a live step and
// a step rebuilt from files of several shards are computed the same way.
// Safe for concurrent use: the collector adds, the progress line reads.
type stepStats struct {
	mu          sync.Mutex
	began       time.Time
	bucketWidth time.Duration

	requests, ok uint64
	latency      vegeta.LatencyMetrics
	hist         vegeta.Histogram
	codes        map[uint16]uint64
	errors       map[string]*results.LoadErrorGroup
	buckets      []*timeBucket
	first, last  time.Time
	end          time.Time // latest response end
	lag          vegeta.LatencyMetrics
	lagged       bool
}

type timeBucket struct {
	requests, ok uint64
	latency      vegeta.LatencyMetrics
}

// maxBuckets bounds the time line; a longer step gets wider buckets.
const maxBuckets = 600

// histogramBounds are the latency histogram's bucket edges: 1-2-5 steps
// from 100µs to 30s, fine where token endpoints live and coarse beyond.
var histogramBounds = func() vegeta.Buckets {
	b := vegeta.Buckets{0}
	for d := 100 * time.Microsecond; d <= 30*time.Second; d *= 10 {
		b = append(b, d, 2*d, 5*d)
	}
	return b
}()

// bucketWidthFor picks the time-line resolution for a step of duration d:
// about a second, at most maxBuckets buckets, at least 100ms.
func bucketWidthFor(d time.Duration) time.Duration {
	w := time.Second
	if d > 0 && d < 10*time.Second {
		w = max(d/10, 100*time.Millisecond)
	}
	for d/w > maxBuckets {
		w *= 2
	}
	return w
}

func newStepStats(began time.Time, planned time.Duration) *stepStats {
	return &stepStats{
		began:       began,
		bucketWidth: bucketWidthFor(planned),
		hist:        vegeta.Histogram{Buckets: histogramBounds},
		codes:       map[uint16]uint64{},
		errors:      map[string]*results.LoadErrorGroup{},
	}
}

// isOK is the success rule: a 2xx the scenario accepted. vegeta counts
// 200-399 as success; a redirect or a 4xx from a token endpoint is a
// failed request here.
func isOK(res *vegeta.Result) bool {
	return res.Error == "" && res.Code >= 200 && res.Code < 300
}

// add records one result; lag < 0 means the schedule is unknown.
func (s *stepStats) add(res *vegeta.Result, lag time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.codes[res.Code]++
	s.latency.Add(res.Latency)
	s.hist.Add(res)
	ok := isOK(res)
	if ok {
		s.ok++
	} else {
		key := res.Error
		if key == "" {
			key = strconv.Itoa(int(res.Code)) + " " + http.StatusText(int(res.Code))
		}
		g := s.errors[key]
		if g == nil {
			g = &results.LoadErrorGroup{Status: int(res.Code), OAuthError: oauthErrorOf(key), Message: key}
			s.errors[key] = g
		}
		g.Count++
	}
	if s.first.IsZero() || res.Timestamp.Before(s.first) {
		s.first = res.Timestamp
	}
	if res.Timestamp.After(s.last) {
		s.last = res.Timestamp
	}
	if e := res.End(); e.After(s.end) {
		s.end = e
	}
	if lag >= 0 {
		s.lag.Add(lag)
		s.lagged = true
	}
	i := int(res.Timestamp.Sub(s.began) / s.bucketWidth)
	if i < 0 {
		i = 0
	}
	for i >= len(s.buckets) && len(s.buckets) < 4*maxBuckets {
		s.buckets = append(s.buckets, &timeBucket{})
	}
	if i < len(s.buckets) {
		b := s.buckets[i]
		b.requests++
		if ok {
			b.ok++
		}
		b.latency.Add(res.Latency)
	}
}

// snapshot is what the progress line shows.
type snapshot struct {
	requests, ok uint64
	p50, p99     time.Duration
	elapsed      time.Duration
}

func (s *stepStats) snapshot(now time.Time) snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	sn := snapshot{requests: s.requests, ok: s.ok, elapsed: now.Sub(s.began)}
	if s.requests > 0 {
		sn.p50 = s.latency.Quantile(0.5)
		sn.p99 = s.latency.Quantile(0.99)
	}
	return sn
}

// fill writes the aggregate into st. sched, when known, gives each time
// bucket its requested rate.
func (s *stepStats) fill(st *results.LoadStep, sched schedule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Requests = s.requests
	st.OK = s.ok
	if s.requests > 0 {
		st.Success = float64(s.ok) / float64(s.requests)
		st.Latency = results.LoadLatency{
			Mean: s.latency.Total / time.Duration(s.requests),
			P50:  s.latency.Quantile(0.50),
			P90:  s.latency.Quantile(0.90),
			P95:  s.latency.Quantile(0.95),
			P99:  s.latency.Quantile(0.99),
			P999: s.latency.Quantile(0.999),
			Min:  s.latency.Min,
			Max:  s.latency.Max,
		}
	}
	// Throughput over the send window plus the wait for the last answers,
	// as vegeta computes it, but counting only accepted responses.
	if !s.first.IsZero() {
		if secs := s.end.Sub(s.began).Seconds(); secs > 0 {
			st.Throughput = float64(s.ok) / secs
		}
	}
	if s.lagged {
		st.ScheduleLagP99 = s.lag.Quantile(0.99)
		st.ScheduleLagMax = s.lag.Max
	}
	st.StatusCodes = map[string]uint64{}
	for c, n := range s.codes {
		st.StatusCodes[strconv.Itoa(int(c))] = n
	}
	st.Errors = st.Errors[:0]
	for _, g := range s.errors {
		st.Errors = append(st.Errors, *g)
	}
	sort.Slice(st.Errors, func(i, j int) bool {
		if st.Errors[i].Count != st.Errors[j].Count {
			return st.Errors[i].Count > st.Errors[j].Count
		}
		return st.Errors[i].Message < st.Errors[j].Message
	})
	st.TimeBuckets = make([]results.LoadTimeBucket, 0, len(s.buckets))
	for i, b := range s.buckets {
		off := time.Duration(i) * s.bucketWidth
		tb := results.LoadTimeBucket{Offset: off, Width: s.bucketWidth, Requests: b.requests, OK: b.ok,
			AttemptedRate: float64(b.requests) / s.bucketWidth.Seconds()}
		if sched != nil {
			due := float64(sched.expected(off+s.bucketWidth)) - float64(sched.expected(off))
			tb.RequestedRate = due / s.bucketWidth.Seconds()
		}
		if b.requests > 0 {
			tb.P50 = b.latency.Quantile(0.5)
			tb.P90 = b.latency.Quantile(0.9)
			tb.P99 = b.latency.Quantile(0.99)
			tb.Max = b.latency.Max
		}
		st.TimeBuckets = append(st.TimeBuckets, tb)
	}
	st.Histogram = make([]results.LoadHistogramBucket, len(s.hist.Buckets))
	for i, from := range s.hist.Buckets {
		hb := results.LoadHistogramBucket{From: from}
		if i+1 < len(s.hist.Buckets) {
			hb.To = s.hist.Buckets[i+1]
		}
		if i < len(s.hist.Counts) {
			hb.Count = s.hist.Counts[i]
		}
		st.Histogram[i] = hb
	}
}

// window is the time from the step's start to its last hit.
func (s *stepStats) window() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.IsZero() {
		return 0
	}
	return s.last.Sub(s.began)
}

// The error text of a failed hit, as written into result files: vegeta's
// "400 Bad Request" extended with the OAuth error code and the scenario's
// problem, so `vegeta report` lists them and a merge regroups them.
const oauthErrorMark = "error="

func errorText(code uint16, oauthErr, problem string) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(code)))
	if t := http.StatusText(int(code)); t != "" {
		b.WriteString(" " + t)
	}
	if oauthErr != "" {
		b.WriteString(": " + oauthErrorMark + oauthErr)
	}
	if problem != "" {
		b.WriteString(": " + problem)
	}
	return b.String()
}

func oauthErrorOf(msg string) string {
	_, after, ok := strings.Cut(msg, ": "+oauthErrorMark)
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(after, ": ")
	return code
}

// ephemeral matches the local address of a connection in transport errors
// ("read tcp 127.0.0.1:53122->127.0.0.1:8080"), which differs per
// connection and would split one error into thousands of groups.
var ephemeral = regexp.MustCompile(`(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.%a-z]+\]):\d+->`)

func normalizeTransportError(msg string) string {
	return ephemeral.ReplaceAllString(msg, "")
}
