package mockidp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server runs a mock on a loopback listener, with the lifecycle of
// net/http/httptest.Server: NewUnstartedServer, configure, Start, Close.
type Server struct {
	*IdP
	// URL is the base URL (the issuer), e.g. http://127.0.0.1:41231.
	URL      string
	Listener net.Listener

	srv     *http.Server
	started bool
	wg      sync.WaitGroup
	mu      sync.Mutex
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
	idp, err := New(o)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	return &Server{IdP: idp, URL: idp.Issuer(), Listener: ln, srv: &http.Server{Handler: idp, ReadHeaderTimeout: 10 * time.Second}}, nil
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

// Start serves requests in the background.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
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

// Close stops the server, waits up to five seconds for requests in flight, and
// returns when the serving goroutine has ended.
func (s *Server) Close() error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return s.Listener.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	return err
}

// Client returns an HTTP client for the server that does not follow
// redirects.
func (s *Server) Client() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
