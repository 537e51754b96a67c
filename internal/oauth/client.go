// Package oauth is the client side of the protocols idpconform checks:
// discovery, JWKS and the token endpoint grants, over raw HTTP so that every
// status, header and byte of a response can be judged. Nothing here decides
// whether a response is conformant; it reports what came, and errors only
// when nothing usable came (a transport failure, a body over the size limit).
package oauth

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Registrar learns secret values as they are seen, so that output can be
// redacted later. *redact.Registry implements it.
type Registrar interface {
	Add(values ...string)
}

// Client sends requests to one IdP. The zero value is not usable; use New.
type Client struct {
	http     *http.Client
	maxBody  int64
	timeout  time.Duration
	secrets  Registrar
	recorder *Recorder
	certs    *certClients
	debug    io.Writer
}

// Options configure a Client. Zero fields take the documented defaults.
type Options struct {
	// HTTPClient sends the requests. Default: a client that does not follow
	// redirects (an IdP's redirect is itself a response to judge).
	HTTPClient *http.Client
	// Timeout bounds each exchange, connection to last byte. Default 10s.
	Timeout time.Duration
	// MaxBody bounds each response body. Default 1 MiB.
	MaxBody int64
	// Secrets learns every token and code seen in responses.
	Secrets Registrar
	// Recorder keeps every exchange for evidence; may be nil.
	Recorder *Recorder
	// TLS configures the default client's connections (a custom CA bundle,
	// or InsecureSkipVerify); ignored when HTTPClient is set.
	TLS *tls.Config
	// Debug receives every exchange as readable HTTP text as soon as it
	// ends, one Write per exchange. It must redact: callers pass the run's
	// redactor (redact.Registry.Writer), and every credential in a response
	// is registered before the exchange is written.
	Debug io.Writer
}

// Defaults for Options.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxBody = 1 << 20
)

// New returns a Client.
func New(o Options) *Client {
	c := &Client{http: o.HTTPClient, maxBody: o.MaxBody, timeout: o.Timeout, secrets: o.Secrets, recorder: o.Recorder, certs: &certClients{}, debug: o.Debug}
	if c.http == nil {
		c.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if o.TLS != nil {
			c.http.Transport = newTransport(o.TLS)
		}
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBody
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	return c
}

// WithRecorder returns a copy of c that records into r. Specs take a copy
// each so that every spec's evidence is its own.
func (c *Client) WithRecorder(r *Recorder) *Client {
	cp := *c
	cp.recorder = r
	return &cp
}

// Recorder returns the recorder exchanges are kept in, or nil.
func (c *Client) Recorder() *Recorder { return c.recorder }

// HTTPClient returns the underlying HTTP client.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Response is an HTTP response read in full (up to the size limit).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Elapsed is the time from sending the request to the last body byte.
	Elapsed time.Duration
}

// ErrBodyTooLarge is returned when a response body exceeds the limit.
var ErrBodyTooLarge = errors.New("response body exceeds the size limit")

// Do sends req and reads the whole response, bounded in time and size. The
// exchange is recorded under name.
func (c *Client) Do(ctx context.Context, name string, req *http.Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req = req.WithContext(ctx)

	var reqBody []byte
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			reqBody, _ = io.ReadAll(io.LimitReader(rc, c.maxBody))
			rc.Close()
		}
	}
	ex := &Exchange{Name: name, Method: req.Method, URL: req.URL.String(), RequestHeader: req.Header.Clone(), RequestBody: string(reqBody), Start: time.Now()}
	defer c.finish(ex)

	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, query and all (codes, tokens);
		// keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		err = c.explainTimeout(ctx, err)
		ex.Err = err.Error()
		ex.Elapsed = time.Since(ex.Start)
		return nil, fmt.Errorf("%s %s: %w", req.Method, redactURL(req.URL), err)
	}
	defer resp.Body.Close()
	c.learnHeaderSecrets(resp.Header)
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	ex.Elapsed = time.Since(ex.Start)
	ex.Status = resp.StatusCode
	ex.ResponseHeader = resp.Header.Clone()
	if err != nil {
		err = c.explainTimeout(ctx, err)
		ex.Err = err.Error()
		return nil, fmt.Errorf("%s %s: read body after %d bytes: %w", req.Method, redactURL(req.URL), len(body), err)
	}
	if int64(len(body)) > c.maxBody {
		ex.Err = ErrBodyTooLarge.Error()
		return nil, fmt.Errorf("%s %s: %w (%d bytes)", req.Method, redactURL(req.URL), ErrBodyTooLarge, c.maxBody)
	}
	c.learnSecrets(body)
	ex.ResponseBody = string(body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, Elapsed: ex.Elapsed}, nil
}

// ErrTimeout is wrapped when an exchange did not complete within the
// client's Timeout: a slow or stalled IdP, not a network failure.
var ErrTimeout = errors.New("no complete response within the request timeout")

// explainTimeout names the request timeout when it is what ended the
// exchange (a stalled or trickling response), keeping the cause wrapped.
func (c *Client) explainTimeout(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
		return fmt.Errorf("%w of %s: %w", ErrTimeout, c.timeout, err)
	}
	return err
}

// finish keeps an ended exchange: in the recorder, and on the debug writer.
func (c *Client) finish(ex *Exchange) {
	c.recorder.add(ex)
	if c.debug != nil {
		var b strings.Builder
		writeExchange(&b, *ex)
		_, _ = io.WriteString(c.debug, b.String())
	}
}

// Get fetches url with an Accept header.
func (c *Client) Get(ctx context.Context, name, rawURL, accept string) (*Response, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: bad URL %q: %w", name, rawURL, err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return c.Do(ctx, name, req)
}

// PostForm sends an application/x-www-form-urlencoded POST.
func (c *Client) PostForm(ctx context.Context, name, rawURL string, form url.Values, header http.Header) (*Response, error) {
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: bad URL %q: %w", name, rawURL, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(body))), nil }
	return c.Do(ctx, name, req)
}

// redactURL drops the query, which can carry codes and tokens, from URLs put
// into error messages.
func redactURL(u *url.URL) string {
	cp := *u
	cp.RawQuery = ""
	cp.User = nil
	return cp.String()
}

// WithHTTPClient returns a copy of c sending through h (a login driver's
// cookie-jar client), keeping c's limits, recorder and secret registrar.
func (c *Client) WithHTTPClient(h *http.Client) *Client {
	cp := *c
	cp.http = h
	return &cp
}

// Secrets returns the registrar secrets are reported to, or nil.
func (c *Client) Secrets() Registrar { return c.secrets }
