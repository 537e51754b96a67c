package loadtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/mockidp"
)

// Benchmarks of the generator's own costs. Compare runs with benchstat;
// judge ratios measured in one run, never absolute times (docs/performance.md).

// BenchmarkTargeter is what one hit costs before it leaves: the scenario's
// targeter and vegeta's Target.Request.
func BenchmarkTargeter(b *testing.B) {
	m := startMock(b, "ES256", nil)
	tr := m.scenario(b).Targeter()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var t vegeta.Target
			if err := tr(&t); err != nil {
				b.Fatal(err)
			}
			if _, err := t.Request(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// tokenResult fetches one real token response from the mock, to feed the
// collector benchmarks.
func tokenResult(b *testing.B, m *mockTarget) vegeta.Result {
	b.Helper()
	var t vegeta.Target
	if err := m.scenario(b).Targeter()(&t); err != nil {
		b.Fatal(err)
	}
	req, _ := t.Request()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return vegeta.Result{Code: uint16(resp.StatusCode), Body: body, Headers: resp.Header, Latency: time.Millisecond, Method: "POST", URL: t.URL}
}

// BenchmarkCollect is the result loop's cost per result: inspect, count
// credentials, sample, strip, aggregate, gob-encode. "pool" offers one
// token in 100 to the verification pool, as load runs do; "inline"
// verifies every token in the loop, which is what the pool avoids. Every
// result carries the same token, so the uniqueness maps stay small; the
// hashing and the lookups are paid in full.
func BenchmarkCollect(b *testing.B) {
	m := startMock(b, "ES256", nil)
	proto := tokenResult(b, m)
	check := m.checker(b)
	for _, mode := range []string{"none", "pool", "inline"} {
		b.Run(mode, func(b *testing.B) {
			r := &runner{cfg: Config{Scenario: m.scenario(b), VerifyEvery: 100, VerifyMax: 1 << 62}, unique: newUniqueness(),
				enc: vegeta.NewEncoder(io.Discard), errs: map[string]string{}}
			r.cfg.Secrets = redact.New()
			if mode == "pool" {
				r.verify = newVerifyPool(check, 1, 256, 100)
				defer r.verify.finish(time.Minute)
			}
			began := time.Now()
			stats := newStepStats(began, time.Minute)
			sched := newConstant(1000, time.Hour, 0)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				res := proto
				res.Seq = uint64(i)
				res.Timestamp = began.Add(time.Duration(i) * time.Millisecond)
				if mode == "inline" {
					if err := check.Check(ctx, Credential{Kind: AccessToken, Value: accessToken(b, res.Body)}); err != nil {
						b.Fatal(err)
					}
				}
				r.collect(&res, stats, began, sched)
			}
		})
	}
}

func accessToken(b *testing.B, body []byte) string {
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		b.Fatal(err)
	}
	return v.AccessToken
}

// BenchmarkEncode is vegeta's gob encoding of one result as written
// (body and headers stripped) and as vegeta would write it unstripped,
// with the bytes each takes.
func BenchmarkEncode(b *testing.B) {
	m := startMock(b, "ES256", nil)
	full := tokenResult(b, m)
	stripped := full
	stripped.Body, stripped.Headers = nil, nil
	for _, c := range []struct {
		name string
		res  vegeta.Result
	}{{"stripped", stripped}, {"with-body-and-headers", full}} {
		b.Run(c.name, func(b *testing.B) {
			var n countWriter
			enc := vegeta.NewEncoder(&n)
			b.ReportAllocs()
			for range b.N {
				r := c.res
				if err := enc.Encode(&r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/float64(b.N), "bytes/result")
		})
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// BenchmarkOverhead runs the same attack against the embedded mock with a
// bare vegeta loop (its Metrics only) and with idpconform's engine
// (inspection, uniqueness, verification pool, gob encoding), back to back
// in each iteration, and reports each one's achieved rate, p50, p99 and
// CPU per request, and the ratios idpconform/bare of the pair: a ratio
// measured in one run survives the drift of a shared machine that
// absolute figures do not. Run with -benchtime=1x -count=10: one iteration
// is two 2-second attacks at 1000/s.
func BenchmarkOverhead(b *testing.B) {
	const rate, d = 1000, 2 * time.Second
	type figures struct{ rate, p50, p99, cpu float64 }
	bare := func() figures {
		// A fresh mock per attack: the mock keeps every token it issued,
		// and a store grown by the previous attack would slow the next.
		m := startMock(b, "ES256", nil)
		tr, _ := newTransport(HTTPOptions{Version: HTTP1})
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: DefaultTimeout, CheckRedirect: noRedirect}
		atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.MaxWorkers(DefaultMaxWorkers))
		var mt vegeta.Metrics
		cpu0 := processCPU()
		for res := range atk.Attack(m.scenario(b).Targeter(), newConstant(rate, d, 0), d, "bare") {
			mt.Add(res)
		}
		cpu := processCPU() - cpu0
		mt.Close()
		return figures{mt.Rate, float64(mt.Latencies.P50.Microseconds()), float64(mt.Latencies.P99.Microseconds()), float64(cpu.Microseconds()) / float64(mt.Requests)}
	}
	tool := func() figures {
		m := startMock(b, "ES256", nil)
		rep, err := Run(context.Background(), Config{Scenario: m.scenario(b), Plan: constant(rate, d), Checker: m.checker(b), Results: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		st := rep.Load.Steps[0]
		return figures{st.AttemptedRate, float64(st.Latency.P50.Microseconds()), float64(st.Latency.P99.Microseconds()), float64(st.CPU.PerRequest.Microseconds())}
	}
	for i := range b.N {
		// Alternate which goes first, so neither always meets a warmer
		// machine.
		var x, y figures
		if i%2 == 0 {
			x, y = bare(), tool()
		} else {
			y, x = tool(), bare()
		}
		b.ReportMetric(x.p50, "bare-p50-µs")
		b.ReportMetric(y.p50, "tool-p50-µs")
		b.ReportMetric(x.p99, "bare-p99-µs")
		b.ReportMetric(y.p99, "tool-p99-µs")
		b.ReportMetric(y.rate/x.rate, "rate-ratio")
		b.ReportMetric(y.p50/x.p50, "p50-ratio")
		b.ReportMetric(y.p99/x.p99, "p99-ratio")
		b.ReportMetric(y.cpu/x.cpu, "cpu-ratio")
	}
}

// bareSigner is the least a client-credentials endpoint can do: parse the
// form, check Basic credentials, sign ten claims with ES256, answer JSON.
// The mock's capacity is judged against it.
func bareSigner(b *testing.B) http.Handler {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(mockidp.ClientCC+":"+mockidp.ClientCCSecret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.Header.Get("Authorization") != want {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt"))
		if err != nil {
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
			return
		}
		now := time.Now().Unix()
		claims, _ := json.Marshal(map[string]any{"iss": "http://bare", "sub": mockidp.ClientCC, "aud": mockidp.ClientCC, "client_id": mockidp.ClientCC,
			"iat": now, "exp": now + 3600, "jti": base64.RawURLEncoding.EncodeToString([]byte(time.Now().String())), "scope": r.PostForm.Get("scope")})
		obj, err := signer.Sign(claims)
		if err != nil {
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
			return
		}
		tok, _ := obj.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
	})
}

// BenchmarkCapacity searches, with idpconform's own --find-capacity, for the
// highest client-credentials rate at which p99 stays under 50 ms, against
// the embedded mock (ES256) and against the bare signing handler, on the
// same loopback and CPU, back to back in each iteration. It reports both
// capacities and their ratio mock/bare, the mock's efficiency. One
// iteration is two searches of up to twelve 2-second probes (about 50 s); run with
// -benchtime=1x -count=N.
func BenchmarkCapacity(b *testing.B) {
	slos := mustSLOs(b, "p99<=50ms", "success>=99.9%")
	plan := Plan{Model: FindCapacity, Rates: []float64{1000}, Duration: 2 * time.Second, MaxRate: 50000, MaxProbes: 12, Precision: 0.1}
	search := func(name string, sc Scenario) float64 {
		rep, err := Run(context.Background(), Config{Scenario: sc, Plan: plan, SLOs: slos})
		if err != nil {
			b.Fatal(err)
		}
		c := rep.Load.Capacity
		b.Logf("%s: %s after %d probes, bound %s: %s", name, FormatRate(c.Rate), c.Probes, c.Bound, c.Detail)
		return c.Rate
	}
	mock := func() float64 {
		m := startMock(b, "ES256", nil)
		return search("mock", m.scenario(b))
	}
	bare := func() float64 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: bareSigner(b), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		m := startMock(b, "ES256", nil) // only for its Env: the client and secret
		env := m.env
		env.Endpoints.Token = "http://" + ln.Addr().String() + mockidp.PathToken
		sc, err := newClientCredentials(env)
		if err != nil {
			b.Fatal(err)
		}
		return search("bare", sc)
	}
	for i := range b.N {
		var mk, br float64
		if i%2 == 0 {
			mk, br = mock(), bare()
		} else {
			br, mk = bare(), mock()
		}
		b.ReportMetric(mk, "mock-req/s")
		b.ReportMetric(br, "bare-req/s")
		b.ReportMetric(mk/br, "mock/bare")
	}
}
