package loadtest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// HTTP versions a run can speak. The choice is explicit and recorded:
// vegeta's library defaults to HTTP/1.1 while its CLI defaults to HTTP/2,
// and with HTTP/2 every hit shares one connection, which measures another
// thing than a fleet of HTTP/1.1 clients does.
const (
	HTTP1 = "1.1"
	HTTP2 = "2"
)

// HTTPOptions configure the generator's HTTP client.
type HTTPOptions struct {
	// Version is HTTP1 or HTTP2. HTTP/2 over http:// is h2c with prior
	// knowledge; over https:// it is negotiated by ALPN and refused if the
	// server does not offer it.
	Version string
	// Timeout bounds each hit, connection to last byte.
	Timeout time.Duration
	// MaxConnections bounds connections to the target; 0 leaves it to the
	// worker cap.
	MaxConnections int
	// IdleConnections is how many idle connections are kept for reuse.
	IdleConnections int
	// TLS is the target's TLS configuration (tls.ca_file,
	// insecure_skip_verify); nil verifies against the system roots. The
	// attack must trust what the target file trusts, or an IdP behind a
	// private CA fails every hit while its setup succeeded.
	TLS *tls.Config
}

// newTransport builds the one transport every attack of a run shares: the
// connections a step warms are reused by the next, and closed at the end.
func newTransport(o HTTPOptions) (*http.Transport, error) {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		MaxIdleConnsPerHost:   o.IdleConnections,
		MaxConnsPerHost:       o.MaxConnections,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		Protocols:             new(http.Protocols),
	}
	if o.TLS != nil {
		// Cloned: the transport sets NextProtos for ALPN on its copy.
		tr.TLSClientConfig = o.TLS.Clone()
	}
	switch o.Version {
	case HTTP1, "":
		tr.Protocols.SetHTTP1(true)
	case HTTP2:
		tr.Protocols.SetHTTP2(true)
		tr.Protocols.SetUnencryptedHTTP2(true)
	default:
		return nil, fmt.Errorf("HTTP version %q: expected %s or %s", o.Version, HTTP1, HTTP2)
	}
	return tr, nil
}

// protocolCounter counts responses by the protocol they came over, so the
// report says what was measured, not only what was asked for.
type protocolCounter struct {
	next   http.RoundTripper
	mu     sync.Mutex
	counts map[string]*atomic.Uint64
}

func newProtocolCounter(next http.RoundTripper) *protocolCounter {
	return &protocolCounter{next: next, counts: map[string]*atomic.Uint64{}}
}

func (p *protocolCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(r)
	if err == nil {
		p.counter(resp.Proto).Add(1)
	}
	return resp, err
}

func (p *protocolCounter) counter(proto string) *atomic.Uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts[proto]
	if c == nil {
		c = new(atomic.Uint64)
		p.counts[proto] = c
	}
	return c
}

func (p *protocolCounter) snapshot() map[string]uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]uint64, len(p.counts))
	for k, c := range p.counts {
		out[k] = c.Load()
	}
	return out
}

// inFlight counts the requests on the wire and the most at once since the
// last reset: a step whose rate fell with every worker waiting on the
// target hit the worker cap, which says something else than a generator
// short of CPU.
//
// It also bounds each hit by timeout, from sending to the last byte of the
// body. The bound is here and not in http.Client.Timeout because with a
// RoundTripper net/http does not know (this one, and the wrappers under
// it), http.Client enforces its Timeout the legacy way: a goroutine, a
// timer and a cancel channel per request. BenchmarkOverhead measured the
// tail at 1.21x bare vegeta's with that and 1.07x with a context deadline,
// which costs one runtime timer (docs/performance.md).
type inFlight struct {
	next      http.RoundTripper
	timeout   time.Duration
	now, peak atomic.Int64
}

func (f *inFlight) RoundTrip(r *http.Request) (*http.Response, error) {
	n := f.now.Add(1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	var ctx context.Context
	cancel := context.CancelFunc(func() {})
	if f.timeout > 0 {
		ctx, cancel = context.WithTimeout(r.Context(), f.timeout)
		r = r.WithContext(ctx)
	}
	resp, err := f.next.RoundTrip(r)
	if err != nil {
		err = f.annotate(ctx, err)
		cancel()
		f.now.Add(-1)
		return resp, err
	}
	// The worker is busy until it has read the body.
	resp.Body = &doneBody{ReadCloser: resp.Body, ctx: ctx, f: f, done: func() { cancel(); f.now.Add(-1) }}
	return resp, nil
}

// annotate says that an error came from the hit timeout, which a bare
// "context deadline exceeded" does not.
func (f *inFlight) annotate(ctx context.Context, err error) error {
	if ctx != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no complete response within the hit timeout (%s): %w", f.timeout, err)
	}
	return err
}

// resetPeak starts a step's count from the requests still in flight.
func (f *inFlight) resetPeak() { f.peak.Store(f.now.Load()) }

type doneBody struct {
	io.ReadCloser
	ctx  context.Context
	f    *inFlight
	once sync.Once
	done func()
}

func (b *doneBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = b.f.annotate(b.ctx, err)
	}
	return n, err
}

func (b *doneBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
