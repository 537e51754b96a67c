package oauth

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Exchange is one request and its response, as sent and received. It holds
// secrets (Authorization headers, client secrets in bodies, tokens); it is
// only ever written out through the run's redactor.
type Exchange struct {
	Name           string        `json:"name"`
	Method         string        `json:"method"`
	URL            string        `json:"url"`
	RequestHeader  http.Header   `json:"request_header,omitempty"`
	RequestBody    string        `json:"request_body,omitempty"`
	Status         int           `json:"status,omitempty"`
	ResponseHeader http.Header   `json:"response_header,omitempty"`
	ResponseBody   string        `json:"response_body,omitempty"`
	Err            string        `json:"error,omitempty"`
	Start          time.Time     `json:"start"`
	Elapsed        time.Duration `json:"elapsed_ns"`
}

// Recorder keeps the exchanges of one spec. It is safe for concurrent use; a
// nil *Recorder records nothing.
type Recorder struct {
	mu        sync.Mutex
	exchanges []*Exchange
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{} }

func (r *Recorder) add(ex *Exchange) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.exchanges = append(r.exchanges, ex)
	r.mu.Unlock()
}

// Exchanges returns the recorded exchanges in order.
func (r *Recorder) Exchanges() []Exchange {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Exchange, len(r.exchanges))
	for i, ex := range r.exchanges {
		out[i] = *ex
	}
	return out
}

// Last returns the most recent exchange, or nil.
func (r *Recorder) Last() *Exchange {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.exchanges) == 0 {
		return nil
	}
	cp := *r.exchanges[len(r.exchanges)-1]
	return &cp
}

// Dump writes the exchanges as readable HTTP text. w must redact: the
// exchanges hold secrets.
func (r *Recorder) Dump(w io.Writer) error {
	for _, ex := range r.Exchanges() {
		var b strings.Builder
		writeExchange(&b, ex)
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// writeExchange writes one exchange as readable HTTP text.
func writeExchange(b *strings.Builder, ex Exchange) {
	fmt.Fprintf(b, "--- %s: %s %s\n", ex.Name, ex.Method, ex.URL)
	writeHeader(b, "> ", ex.RequestHeader)
	if ex.RequestBody != "" {
		fmt.Fprintf(b, "> \n> %s\n", ex.RequestBody)
	}
	if ex.Err != "" {
		fmt.Fprintf(b, "! %s\n", ex.Err)
	}
	if ex.Status != 0 {
		fmt.Fprintf(b, "< %d %s (%s)\n", ex.Status, http.StatusText(ex.Status), ex.Elapsed.Round(time.Microsecond))
		writeHeader(b, "< ", ex.ResponseHeader)
		if ex.ResponseBody != "" {
			fmt.Fprintf(b, "< \n< %s\n", indentJSON(ex.ResponseBody))
		}
	}
}

func writeHeader(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, v)
		}
	}
}

func indentJSON(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	out, err := json.MarshalIndent(v, "< ", "  ")
	if err != nil {
		return s
	}
	return string(out)
}
