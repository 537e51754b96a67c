package mockidp

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

func faultApplies(f Fault, endpoint string) bool {
	return f.p.endpoint == "" || f.p.endpoint == endpoint
}

// injectHTTPFault applies the faults that act before a request reaches its
// handler: latency, and the 5xx and 429 shares. It reports whether it
// answered the request itself.
func (m *IdP) injectHTTPFault(fs *faultSet, endpoint string, w http.ResponseWriter, r *http.Request) bool {
	if f, ok := fs.get(FaultLatency); ok && faultApplies(f, endpoint) {
		d := f.p.d
		if f.p.dmax > f.p.d {
			d += rand.N(f.p.dmax - f.p.d + 1)
		}
		if !sleepCtx(r.Context(), d) {
			return true
		}
	}
	if f, ok := fs.get(FaultServerError); ok && faultApplies(f, endpoint) && fs.fires(f) {
		writeJSON(w, http.StatusServiceUnavailable, ErrServerError.WithDescription("injected fault: status-5xx"))
		return true
	}
	if f, ok := fs.get(FaultRateLimit); ok && faultApplies(f, endpoint) && fs.fires(f) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "rate_limited", "error_description": "injected fault: rate-limit"})
		return true
	}
	return false
}

// sleepCtx waits d or until ctx ends; it reports whether the whole time
// passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// bodyWriter holds a handler's response so that a body fault can rewrite
// it before it goes out.
type bodyWriter struct {
	w      http.ResponseWriter
	header http.Header
	status int
	buf    bytes.Buffer
	mutate func(ctx context.Context, w http.ResponseWriter, status int, body []byte)
}

func (b *bodyWriter) Header() http.Header { return b.header }

func (b *bodyWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bodyWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}

func (b *bodyWriter) finish(ctx context.Context) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	for k, v := range b.header {
		b.w.Header()[k] = v
	}
	b.w.Header().Del("Content-Length")
	b.mutate(ctx, b.w, b.status, b.buf.Bytes())
}

// bodyFaultWriter returns a writer that applies the body fault in force for
// this endpoint (malformed-json, truncated-body, slow-body), or nil.
func (m *IdP) bodyFaultWriter(fs *faultSet, endpoint string, w http.ResponseWriter) *bodyWriter {
	bw := &bodyWriter{w: w, header: http.Header{}}
	if f, ok := fs.get(FaultMalformedJSON); ok && faultApplies(f, endpoint) {
		bw.mutate = func(_ context.Context, w http.ResponseWriter, status int, body []byte) {
			body = bytes.TrimRight(body, "\n")
			if n := len(body); n > 0 && body[n-1] == '}' {
				body = append(body[:n-1:n-1], ',')
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}
		return bw
	}
	if f, ok := fs.get(FaultTruncatedBody); ok && faultApplies(f, endpoint) {
		bw.mutate = func(_ context.Context, w http.ResponseWriter, status int, body []byte) {
			// The server closes the connection when fewer bytes than the
			// announced Content-Length were written: the client reads an
			// unexpected EOF.
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(status)
			_, _ = w.Write(body[:len(body)/2])
		}
		return bw
	}
	if f, ok := fs.get(FaultSlowBody); ok && faultApplies(f, endpoint) {
		bw.mutate = func(ctx context.Context, w http.ResponseWriter, status int, body []byte) {
			const pieces = 10
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(status)
			step := max(1, (len(body)+pieces-1)/pieces)
			pause := f.p.d / pieces
			fl, _ := w.(http.Flusher)
			for i := 0; i < len(body); i += step {
				_, _ = w.Write(body[i:min(len(body), i+step)])
				if fl != nil {
					fl.Flush()
				}
				if i+step < len(body) && !sleepCtx(ctx, pause) {
					return
				}
			}
		}
		return bw
	}
	return nil
}
