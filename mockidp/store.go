package mockidp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Kinds of token the store remembers.
const (
	kindAccess  = "access_token"
	kindRefresh = "refresh_token"
)

// record is what the mock remembers of a token it issued. Fields other than
// revoked and used never change after put; those two are read and written
// under the store's lock.
type record struct {
	kind     string
	format   string // "jwt" or "opaque"
	clientID string
	sub      string
	username string // "" for client credentials
	scopes   []string
	aud      any
	jti      string
	issuedAt time.Time
	expires  time.Time
	family   *family // nil for client credentials

	revoked bool
	used    bool // a refresh token that has been rotated
}

// family is every token descending from one authorization: the code, the
// refresh tokens it rotated through and the access tokens they bought. Reuse
// of a rotated refresh token can revoke it whole (RFC 9700 §4.14.2).
type family struct {
	id       string
	clientID string
	username string
	sub      string
	scopes   []string
	authTime time.Time
	rat      time.Time // when the authorization was requested
	sid      string
	grantID  string
	accounts []string

	revoked bool
	tokens  []string // store keys
	expires time.Time
}

// authRequest is an authorization request waiting for login or consent.
type authRequest struct {
	id           string
	clientID     string
	redirectURI  string
	redirectSent bool
	scopes       []string
	state        string
	nonce        string
	challenge    string
	method       string
	prompt       string
	loginHint    string
	created      time.Time
	expires      time.Time

	// Set once the user has logged in.
	username string
	authTime time.Time
	sid      string
}

// authCode is an issued authorization code and what it is bound to.
type authCode struct {
	clientID     string
	redirectURI  string
	redirectSent bool
	challenge    string
	method       string
	scopes       []string
	nonce        string
	username     string
	authTime     time.Time
	rat          time.Time
	sid          string
	expires      time.Time

	used   bool
	family *family // the tokens bought with it, revoked if it is replayed
}

// session is a logged-in browser, named by the session cookie.
type session struct {
	id       string
	username string
	authTime time.Time
	sid      string
	expires  time.Time
}

// store holds every piece of state the mock keeps, each entry dropped a
// while after it expires so that long load runs do not grow without bound.
// JWT access tokens from client credentials are not stored at all: they are
// verified by signature, and only their revocation is remembered.
type store struct {
	mu         sync.Mutex
	tokens     map[string]*record
	families   map[string]*family
	codes      map[string]*authCode
	requests   map[string]*authRequest
	sessions   map[string]*session
	consents   map[string][]string
	revokedJTI map[string]time.Time
	assertions map[string]time.Time // used client assertion jtis, until exp

	buckets   map[int64][]bucketEntry // expiry second -> entries
	lastSweep int64

	issued atomic.Int64
}

type bucketEntry struct {
	kind byte // 't' token, 'f' family, 'c' code, 'r' request, 's' session, 'j' revoked jti
	key  string
}

// sweepGrace keeps expired entries a little longer, so that a client using
// an expired token or code still meets "expired" rather than "unknown".
const sweepGrace = time.Minute

func newStore() *store {
	return &store{
		tokens: map[string]*record{}, families: map[string]*family{}, codes: map[string]*authCode{},
		requests: map[string]*authRequest{}, sessions: map[string]*session{}, consents: map[string][]string{},
		revokedJTI: map[string]time.Time{}, assertions: map[string]time.Time{}, buckets: map[int64][]bucketEntry{},
	}
}

// index files an entry under its expiry. Callers hold mu.
func (s *store) index(kind byte, key string, exp time.Time) {
	sec := exp.Add(sweepGrace).Unix()
	s.buckets[sec] = append(s.buckets[sec], bucketEntry{kind, key})
}

// sweep drops entries whose expiry plus grace has passed, at most once a
// second. Callers hold mu.
func (s *store) sweep(now time.Time) {
	cut := now.Unix()
	if cut <= s.lastSweep {
		return
	}
	drop := func(sec int64) {
		for _, e := range s.buckets[sec] {
			s.remove(e, now)
		}
		delete(s.buckets, sec)
	}
	// Walk the seconds passed since the last sweep, or the buckets
	// themselves when the clock jumped far (the control handle moves it).
	if cut-s.lastSweep <= int64(len(s.buckets)) {
		for sec := s.lastSweep + 1; sec <= cut; sec++ {
			drop(sec)
		}
	} else {
		for sec := range s.buckets {
			if sec <= cut {
				drop(sec)
			}
		}
	}
	s.lastSweep = cut
}

func (s *store) remove(e bucketEntry, now time.Time) {
	switch e.kind {
	case 't':
		if r, ok := s.tokens[e.key]; ok && !now.Before(r.expires.Add(sweepGrace)) {
			delete(s.tokens, e.key)
		}
	case 'f':
		if f, ok := s.families[e.key]; ok && !now.Before(f.expires.Add(sweepGrace)) {
			delete(s.families, e.key)
		}
	case 'c':
		if c, ok := s.codes[e.key]; ok && !now.Before(c.expires.Add(sweepGrace)) {
			delete(s.codes, e.key)
		}
	case 'r':
		if r, ok := s.requests[e.key]; ok && !now.Before(r.expires.Add(sweepGrace)) {
			delete(s.requests, e.key)
		}
	case 's':
		if x, ok := s.sessions[e.key]; ok && !now.Before(x.expires.Add(sweepGrace)) {
			delete(s.sessions, e.key)
		}
	case 'j':
		if exp, ok := s.revokedJTI[e.key]; ok && !now.Before(exp.Add(sweepGrace)) {
			delete(s.revokedJTI, e.key)
		}
	case 'a':
		if exp, ok := s.assertions[e.key]; ok && !now.Before(exp.Add(sweepGrace)) {
			delete(s.assertions, e.key)
		}
	}
}

// countIssued counts a token the mock handed out, stored or not.
func (s *store) countIssued() { s.issued.Add(1) }

func (s *store) putToken(key string, r *record, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.tokens[key] = r
	s.index('t', key, r.expires)
	if f := r.family; f != nil {
		f.tokens = append(f.tokens, key)
		if r.expires.After(f.expires) {
			f.expires = r.expires
			s.index('f', f.id, f.expires)
		}
	}
}

func (s *store) putFamily(f *family) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.families[f.id] = f
	s.index('f', f.id, f.expires)
}

// tokenState is a snapshot of a stored token's mutable state.
type tokenState struct {
	rec     *record
	revoked bool // the token or its family
	used    bool
}

func (s *store) lookup(key string) (tokenState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.tokens[key]
	if !ok {
		return tokenState{}, false
	}
	return tokenState{rec: r, revoked: r.revoked || (r.family != nil && r.family.revoked), used: r.used}, true
}

// useRefresh marks a refresh token rotated. It returns the state before the
// call, so exactly one of several concurrent uses sees used == false.
func (s *store) useRefresh(key string) (tokenState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.tokens[key]
	if !ok || r.kind != kindRefresh {
		return tokenState{}, false
	}
	st := tokenState{rec: r, revoked: r.revoked || (r.family != nil && r.family.revoked), used: r.used}
	r.used = true
	return st, true
}

// revoke marks one stored token revoked; with a refresh token it also
// revokes the access tokens of its family (RFC 7009 §2.1).
func (s *store) revoke(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.tokens[key]
	if !ok {
		return false
	}
	r.revoked = true
	if r.kind == kindRefresh && r.family != nil {
		for _, k := range r.family.tokens {
			if t, ok := s.tokens[k]; ok && t.kind == kindAccess {
				t.revoked = true
			}
		}
	}
	return true
}

func (s *store) revokeFamily(f *family) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.revoked = true
}

func (s *store) revokeJTI(jti string, exp time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokedJTI[jti] = exp
	s.index('j', jti, exp)
}

func (s *store) jtiRevoked(jti string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.revokedJTI[jti]
	return ok
}

func (s *store) putCode(code string, c *authCode, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.codes[code] = c
	s.index('c', code, c.expires)
}

// code returns a stored code and a snapshot of it.
func (s *store) code(code string) (*authCode, authCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[code]
	if !ok {
		return nil, authCode{}, false
	}
	return c, *c, true
}

// redeemCode marks a code used and returns it with whether it had been used
// before.
func (s *store) redeemCode(code string) (c *authCode, usedBefore bool, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok = s.codes[code]
	if !ok {
		return nil, false, false
	}
	usedBefore = c.used
	c.used = true
	return c, usedBefore, true
}

// bindCode records the family a code bought, so a replay can revoke it.
func (s *store) bindCode(c *authCode, f *family) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.family = f
}

func (s *store) codeFamily(c *authCode) *family {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.family
}

func (s *store) putRequest(r *authRequest, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.requests[r.id] = r
	s.index('r', r.id, r.expires)
}

// request returns a copy of a pending authorization request.
func (s *store) request(id string) (authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok {
		return authRequest{}, false
	}
	return *r, true
}

// loginRequest records who logged in for a request.
func (s *store) loginRequest(id, username, sid string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		r.username, r.authTime, r.sid = username, at, sid
	}
}

// finishRequest removes a request once it has been answered, so it cannot
// be answered twice.
func (s *store) finishRequest(id string) (authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok {
		return authRequest{}, false
	}
	delete(s.requests, id)
	return *r, true
}

func (s *store) putSession(x *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[x.id] = x
	s.index('s', x.id, x.expires)
}

func (s *store) session(id string, now time.Time) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.sessions[id]
	if !ok || !now.Before(x.expires) {
		return session{}, false
	}
	return *x, true
}

func consentKey(username, clientID string) string { return username + "\x00" + clientID }

func (s *store) consented(username, clientID string, scopes []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	granted := s.consents[consentKey(username, clientID)]
	for _, sc := range scopes {
		found := false
		for _, g := range granted {
			if g == sc {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (s *store) consent(username, clientID string, scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := consentKey(username, clientID)
	for _, sc := range scopes {
		dup := false
		for _, g := range s.consents[k] {
			dup = dup || g == sc
		}
		if !dup {
			s.consents[k] = append(s.consents[k], sc)
		}
	}
}

// sizes reports how many entries each map holds, for the admin state.
func (s *store) sizes() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]int{
		"tokens": len(s.tokens), "families": len(s.families), "codes": len(s.codes),
		"requests": len(s.requests), "sessions": len(s.sessions), "revoked_jtis": len(s.revokedJTI),
	}
}

// randomBytes returns n random bytes. crypto/rand.Read never fails on
// supported platforms (Go 1.24+ crashes the program instead), so there is no
// error to return.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }

// opaque returns a new opaque value (token, code, jti) in the format the
// opaque-format drift asks for: 32 random bytes base64url by default (43
// characters), 32 bytes hex (64), a UUID v4 (36), or 48 bytes base64url (64).
func opaque(format string) string {
	switch format {
	case "hex":
		return hex.EncodeToString(randomBytes(32))
	case "uuid":
		return newUUID()
	case "long":
		return randomString(48)
	default:
		return randomString(32)
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// useAssertion records a client assertion's jti; false when it was used
// before (RFC 7523 §3: a jti may be used once). Kept until the assertion
// expires, after which exp refuses it anyway.
func (s *store) useAssertion(key string, exp, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if _, used := s.assertions[key]; used {
		return false
	}
	s.assertions[key] = exp
	s.index('a', key, exp)
	return true
}
