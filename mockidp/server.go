package mockidp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Server runs mocks on a loopback listener, with the lifecycle of
// net/http/httptest.Server: NewUnstartedServer, configure, Start, Close.
// The embedded *IdP is the issuer at the server's root; AddIssuer mounts
// more under path prefixes, each with its own profile, keys, clients, drift
// and faults (the old and the new IdP of a migration side by side).
type Server struct {
	*IdP
	// URL is the base URL and the root issuer, e.g. http://127.0.0.1:41231.
	URL      string
	Listener net.Listener
	// CA is the test CA of a TLS server (NewTLSServer): its certificate is
	// what clients must trust, and it issues client certificates.
	CA *TestCA

	srv     *http.Server
	cancel  context.CancelFunc
	started bool
	closed  bool
	wg      sync.WaitGroup
	mu      sync.RWMutex
	mounted []*IdP // longest prefix first
}

// NewServer starts a mock on addr ("" means 127.0.0.1:0, a free port).
// o.Issuer, when empty, becomes http://ADDR.
func NewServer(addr string, o Options) (*Server, error) {
	s, err := NewUnstartedServer(addr, o)
	if err != nil {
		return nil, err
	}
	s.Start()
	return s, nil
}

// NewUnstartedServer listens on addr but does not serve until Start. Only
// loopback addresses are accepted: the mock is a test tool and holds no
// protection a public listener would need.
func NewUnstartedServer(addr string, o Options) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mockidp: listen %s: %w", addr, err)
	}
	base := "http://" + ln.Addr().String()
	if o.Issuer == "" {
		o.Issuer = base
	}
	s, err := newServerOn(ln, o)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	return s, nil
}

// newServerOn builds an unstarted server for the mock o on ln.
func newServerOn(ln net.Listener, o Options) (*Server, error) {
	idp, err := New(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{IdP: idp, URL: idp.Issuer(), Listener: ln, cancel: cancel, mounted: []*IdP{idp}}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.route),
		ReadHeaderTimeout: 10 * time.Second,
		// Injected delays end when the server closes.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	return s, nil
}

var issuerPathRE = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// AddIssuer mounts another mock at the path prefix (e.g. "/old"); its issuer
// is the server URL plus the prefix, and o.Issuer is ignored. It may be
// called before or after Start.
func (s *Server) AddIssuer(prefix string, o Options) (*IdP, error) {
	if !issuerPathRE.MatchString(prefix) {
		return nil, fmt.Errorf("mockidp: issuer path %q: expected /NAME (letters, digits, . _ ~ -), e.g. /old", prefix)
	}
	for _, reserved := range []string{PathJWKS, PathAuthorize, PathLogin, PathConsent, PathToken, PathIntrospect, PathRevoke, PathUserinfo, PathLogout, PathAdmin, "/.well-known", "/accounts-info", "/authorization"} {
		if prefix == reserved || strings.HasPrefix(prefix, reserved+"/") {
			return nil, fmt.Errorf("mockidp: issuer path %q would hide the root issuer's %s endpoint", prefix, reserved)
		}
	}
	base := strings.TrimSuffix(s.URL, s.prefix)
	o.Issuer = base + prefix
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.mounted {
		if m.prefix == prefix {
			return nil, fmt.Errorf("mockidp: an issuer is already mounted at %s", prefix)
		}
	}
	idp, err := New(o)
	if err != nil {
		return nil, err
	}
	s.mounted = append(s.mounted, idp)
	slices.SortStableFunc(s.mounted, func(a, b *IdP) int { return len(b.prefix) - len(a.prefix) })
	return idp, nil
}

// Issuers returns every mounted mock, the root one included.
func (s *Server) Issuers() []*IdP {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.mounted)
}

// IssuerAt returns the mock mounted at prefix ("" for the root).
func (s *Server) IssuerAt(prefix string) (*IdP, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, m := range s.mounted {
		if m.prefix == prefix {
			return m, true
		}
	}
	return nil, false
}

// route hands a request to the mock whose prefix is the longest match.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	mounted := s.mounted
	s.mu.RUnlock()
	for _, m := range mounted {
		if m.prefix == "" || r.URL.Path == m.prefix || strings.HasPrefix(r.URL.Path, m.prefix+"/") {
			m.ServeHTTP(w, r)
			return
		}
	}
	http.NotFound(w, r)
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("mockidp: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("mockidp: address %q is not loopback; the mock only listens on 127.0.0.1, ::1 or localhost", addr)
	}
	return nil
}

// Start serves requests in the background. It does nothing on a started or
// closed server.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(s.Listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
}

// Close stops the server: injected delays are cut short, requests in flight
// get up to five seconds, then connections are closed. It returns when the
// serving goroutine has ended. Closing twice is harmless.
func (s *Server) Close() error {
	s.mu.Lock()
	started, closed := s.started, s.closed
	s.closed = true
	s.mu.Unlock()
	if closed {
		return nil
	}
	s.cancel()
	if !started {
		return s.Listener.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	s.wg.Wait()
	return err
}

// Client returns an HTTP client for the server that does not follow
// redirects, so a test sees each redirect of the login flow.
func (s *Server) Client() *http.Client {
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if s.CA != nil {
		c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool(), MinVersion: tls.VersionTLS12}}
	}
	return c
}
