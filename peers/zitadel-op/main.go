// Command zitadel-op is a small OpenID Provider built on the
// github.com/zitadel/oidc/v3 library, for idpconform's own CI: a real,
// independent implementation of the protocol (not our mock) that the suites
// and the load runs are pointed at. It keeps everything in memory, binds
// loopback only, and reads its client secrets and user passwords from the
// environment (peers/peers.env holds the published test values).
//
//	zitadel-op --addr 127.0.0.1:18082
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "zitadel-op:", err)
		os.Exit(1)
	}
}

// loopbackAddr splits addr and refuses anything but a loopback IP: a test
// IdP with published secrets must never be reachable from another machine.
func loopbackAddr(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", "", fmt.Errorf("--addr %q: only loopback addresses (127.0.0.0/8, ::1) are allowed", addr)
	}
	return host, port, nil
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:18082", "loopback address to listen on")
	flag.Parse()

	host, port, err := loopbackAddr(*addr)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	issuer := "http://" + net.JoinHostPort(host, port)
	if port == "0" {
		issuer = "http://" + ln.Addr().String()
	}

	store, err := newStorage(cfg, time.Now)
	if err != nil {
		return err
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return fmt.Errorf("opaque token key: %w", err)
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:             key,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       []string{"openid", "profile", "email", "offline_access", "api:read"},
	}, store, op.StaticIssuer(issuer),
		// The issuer is plain http on loopback: tests only.
		op.WithAllowInsecure(),
	)
	if err != nil {
		return fmt.Errorf("provider: %w", err)
	}

	mux := http.NewServeMux()
	login := &loginPage{store: store, callback: op.AuthCallbackURL(provider)}
	mux.Handle("/login", login)
	mux.Handle("/", provider)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("zitadel-op listening", "issuer", issuer)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
