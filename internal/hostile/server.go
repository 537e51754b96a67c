package hostile

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpconform/idpconform/mockidp"
)

// Keys are made once per process: RSA key generation would otherwise be most
// of a test's time.
var (
	issuerKey   = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	attackerKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	decoyKeys   = sync.OnceValues(func() ([]jose.JSONWebKey, error) {
		out := make([]jose.JSONWebKey, 0, ManyKeysCount-1)
		for i := range ManyKeysCount - 1 {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return nil, err
			}
			out = append(out, jose.JSONWebKey{Key: &k.PublicKey, KeyID: fmt.Sprintf("decoy-%04d", i), Algorithm: "ES256", Use: "sig"})
		}
		return out, nil
	})
)

// Paths the hostile IdP serves besides the mock's: the attacker's key
// material that jku and x5u point at. A verifier that fetches them is
// counted in AttackerFetches.
const (
	PathAttackerJWKS = "/attacker/jwks"
	PathAttackerCert = "/attacker/cert.pem"
)

// attackerKid names the attacker's key in jku and x5u tokens.
const attackerKid = "attacker"

// Config chooses the misbehaviour.
type Config struct {
	Behaviour Behaviour
	// Endpoint overrides where it strikes (EndpointToken, EndpointJWKS,
	// EndpointDiscovery, EndpointAuthorize, EndpointAll); "" takes the
	// catalogue's.
	Endpoint string
	// Tick is the pause between trickled bytes; default one second.
	Tick time.Duration
	// Mock adjusts the mock behind the front (clients, faults).
	Mock func(*mockidp.Options)
}

// Server is a hostile IdP on a loopback port. Close it when done.
type Server struct {
	// URL is the issuer.
	URL string
	// IdP is the working mock behind the front.
	IdP *mockidp.IdP
	// Key is the issuer's signing key (the mock signs with it).
	Key *rsa.PrivateKey
	// Attacker is the key forged tokens are signed with.
	Attacker *rsa.PrivateKey

	cfg      Config
	info     Info
	kid      string
	srv      *httptest.Server
	done     chan struct{}
	closing  sync.Once
	streams  sync.WaitGroup
	sent     atomic.Int64
	fetches  atomic.Int64
	requests atomic.Int64
}

// Start serves cfg's behaviour on 127.0.0.1.
func Start(cfg Config) (*Server, error) {
	info, err := Lookup(cfg.Behaviour)
	if err != nil {
		return nil, err
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = info.Endpoint
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	key, err := issuerKey()
	if err != nil {
		return nil, fmt.Errorf("hostile: issuer key: %w", err)
	}
	atk, err := attackerKey()
	if err != nil {
		return nil, fmt.Errorf("hostile: attacker key: %w", err)
	}
	s := &Server{Key: key, Attacker: atk, cfg: cfg, info: info, done: make(chan struct{})}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.URL = "http://" + s.srv.Listener.Addr().String()
	o := mockidp.Options{Issuer: s.URL, SigningKey: key, SigningAlg: "RS256"}
	if cfg.Mock != nil {
		cfg.Mock(&o)
	}
	idp, err := mockidp.New(o)
	if err != nil {
		s.srv.Close()
		return nil, fmt.Errorf("hostile: mock: %w", err)
	}
	s.IdP = idp
	s.kid = idp.KeyIDs()[0]
	s.srv.Start()
	return s, nil
}

// Close stops the server, ending every trickle and stream in progress.
func (s *Server) Close() {
	s.closing.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.streams.Wait()
	})
}

// Info describes the behaviour served.
func (s *Server) Info() Info { return s.info }

// BytesSent counts the body bytes the huge and trickling responses wrote
// before the client stopped reading.
func (s *Server) BytesSent() int64 { return s.sent.Load() }

// AttackerFetches counts requests for the attacker's JWKS or certificate: a
// verifier that trusts jku or x5u makes them.
func (s *Server) AttackerFetches() int64 { return s.fetches.Load() }

// Requests counts the requests served.
func (s *Server) Requests() int64 { return s.requests.Load() }

func (s *Server) endpointOf(path string) string {
	switch path {
	case mockidp.PathToken:
		return EndpointToken
	case mockidp.PathJWKS:
		return EndpointJWKS
	case mockidp.PathDiscovery, mockidp.PathOAuthMetadata:
		return EndpointDiscovery
	case mockidp.PathAuthorize:
		return EndpointAuthorize
	}
	return ""
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	switch r.URL.Path {
	case PathAttackerJWKS:
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []json.RawMessage{PublicJWK(s.Attacker, attackerKid)}})
		return
	case PathAttackerCert:
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		_, _ = w.Write(s.attackerCert())
		return
	}
	ep := s.endpointOf(r.URL.Path)
	if s.cfg.Endpoint != EndpointAll && ep != s.cfg.Endpoint {
		s.IdP.ServeHTTP(w, r)
		return
	}
	switch b := s.cfg.Behaviour; {
	case b == RedirectLoop:
		http.Redirect(w, r, r.URL.String(), http.StatusFound)
	case b == HugeBody:
		s.huge(w, r)
	case b == TrickleHead:
		s.trickleHead(w, r)
	case b == ManyKeys && ep == EndpointJWKS:
		s.manyKeys(w)
	default:
		s.rewrite(w, r)
	}
}

// rewrite lets the mock answer, then bends its answer.
func (s *Server) rewrite(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.IdP.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var err error
		if body, err = s.bend(body); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if s.cfg.Behaviour == TrickleBody {
		s.trickleBody(w, r, rec.Code, body)
		return
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// bend applies the behaviour to a successful response body.
func (s *Server) bend(body []byte) ([]byte, error) {
	switch b := s.cfg.Behaviour; {
	case b == TruncatedJSON:
		// Cut inside the access_token string: still a prefix of valid JSON.
		i := bytes.Index(body, []byte(`"access_token":"`))
		if i < 0 {
			return body[:len(body)/2], nil
		}
		return body[:i+len(`"access_token":"`)+8], nil
	case b == InvalidUTF8:
		return WithMember(body, "x_hostile_note", []byte("\"caf\xe9\"")), nil
	case b == DuplicateMembers:
		return WithMember(body, "access_token", []byte(`"idpconform-hostile-second-access-token"`)), nil
	case forgesToken(b):
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return body, nil
		}
		var tok string
		if json.Unmarshal(m["access_token"], &tok) != nil || strings.Count(tok, ".") != 2 {
			return body, nil
		}
		forged, err := s.forge(tok)
		if err != nil {
			return nil, err
		}
		m["access_token"], _ = json.Marshal(forged)
		return json.Marshal(m)
	}
	return body, nil
}

// forge replaces a token the mock signed by the behaviour's token, keeping
// its claims.
func (s *Server) forge(tok string) (string, error) {
	payload, err := Payload(tok)
	if err != nil {
		return "", err
	}
	hdr := func(extra ...any) []byte {
		return Header(append([]any{"alg", "RS256", "kid", s.kid, "typ", "at+jwt"}, extra...)...)
	}
	switch s.cfg.Behaviour {
	case AlgNone:
		return Forge(Header("alg", "none", "typ", "at+jwt"), payload, Unsigned())
	case HS256PublicKey:
		return Forge(Header("alg", "HS256", "kid", s.kid, "typ", "at+jwt"), payload, HS256(PublicKeyPEM(&s.Key.PublicKey)))
	case UnknownCrit:
		return Forge(hdr("crit", []string{UnknownCritName}, UnknownCritName, true), payload, RS256(s.Key))
	case EmbeddedJWK:
		return Forge(hdr("jwk", PublicJWK(s.Attacker, s.kid)), payload, RS256(s.Attacker))
	case JKU:
		return Forge(Header("alg", "RS256", "kid", attackerKid, "typ", "at+jwt", "jku", s.URL+PathAttackerJWKS), payload, RS256(s.Attacker))
	case X5U:
		return Forge(Header("alg", "RS256", "kid", attackerKid, "typ", "at+jwt", "x5u", s.URL+PathAttackerCert), payload, RS256(s.Attacker))
	case DuplicateClaims:
		return Forge(hdr(), WithMember(payload, "sub", []byte(`"idpconform-hostile-other-subject"`)), RS256(s.Key))
	case DuplicateHeader:
		return Forge(hdr("kid", attackerKid), payload, RS256(s.Key))
	case InvalidUTF8Claim:
		return Forge(hdr(), WithMember(payload, "name", []byte("\"caf\xe9\"")), RS256(s.Key))
	case ManyClaims:
		var b bytes.Buffer
		b.Write(bytes.TrimSuffix(bytes.TrimSpace(payload), []byte("}")))
		for i := range ManyClaimsCount {
			fmt.Fprintf(&b, `,"claim_%05d":"value"`, i)
		}
		b.WriteByte('}')
		return Forge(hdr(), b.Bytes(), RS256(s.Key))
	}
	return tok, nil
}

// huge streams a 100 MiB JSON body without a Content-Length, from one
// reused chunk, until the client stops reading.
func (s *Server) huge(w http.ResponseWriter, r *http.Request) {
	s.streams.Add(1)
	defer s.streams.Done()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	n, _ := w.Write([]byte(`{"access_token":"`))
	s.sent.Add(int64(n))
	for sent := 0; sent < HugeBodyBytes; sent += len(chunk) {
		if s.stopped(r.Context()) {
			return
		}
		n, err := w.Write(chunk)
		s.sent.Add(int64(n))
		if err != nil {
			return
		}
	}
	_, _ = w.Write([]byte(`"}`))
}

// trickleBody sends the status and headers, then the body a byte per tick.
func (s *Server) trickleBody(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	s.streams.Add(1)
	defer s.streams.Done()
	w.WriteHeader(status)
	fl, _ := w.(http.Flusher)
	for _, c := range body {
		if fl != nil {
			fl.Flush()
		}
		if !s.wait(r.Context()) {
			return
		}
		n, err := w.Write([]byte{c})
		s.sent.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// trickleHead writes the raw response, status line first, a byte per tick.
func (s *Server) trickleHead(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.IdP.ServeHTTP(rec, r)
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "hostile: cannot hijack", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	s.streams.Add(1)
	defer s.streams.Done()
	defer func() { _ = conn.Close() }()
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	_ = rec.Header().Write(&raw)
	fmt.Fprintf(&raw, "Content-Length: %d\r\n\r\n", rec.Body.Len())
	raw.Write(rec.Body.Bytes())
	for _, c := range raw.Bytes() {
		if !s.wait(context.Background()) {
			return
		}
		if err := buf.WriteByte(c); err != nil {
			return
		}
		if err := buf.Flush(); err != nil {
			return
		}
		s.sent.Add(1)
		// A closed peer is noticed on a later write; a deadline keeps a
		// write from blocking forever on a peer that stopped reading.
		_ = conn.SetWriteDeadline(time.Now().Add(s.cfg.Tick + 5*time.Second))
	}
}

func (s *Server) manyKeys(w http.ResponseWriter) {
	decoys, err := decoyKeys()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	keys := append([]jose.JSONWebKey{}, decoys...)
	keys = append(keys, jose.JSONWebKey{Key: &s.Key.PublicKey, KeyID: s.kid, Algorithm: "RS256", Use: "sig"})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
}

// wait pauses one tick; false when the request or the server ended first.
func (s *Server) wait(ctx context.Context) bool {
	t := time.NewTimer(s.cfg.Tick)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

func (s *Server) stopped(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-s.done:
		return true
	default:
		return false
	}
}

var (
	certOnce sync.Once
	certPEM  []byte
)

// attackerCert is a self-signed certificate for the attacker's key, what an
// x5u URL serves.
func (s *Server) attackerCert() []byte {
	certOnce.Do(func() {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hostile attacker"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &s.Attacker.PublicKey, s.Attacker)
		if err == nil {
			certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		}
	})
	return certPEM
}
