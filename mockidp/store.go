package mockidp

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// issued is what the mock remembers of a token it issued.
type issued struct {
	Kind     string // "access_token"
	ClientID string
	Subject  string
	Scope    string
	IssuedAt time.Time
	Expires  time.Time
	Revoked  bool
}

// store remembers every token issued, keyed by its value, and every jti, so
// that no value is ever issued twice and introspection can answer.
type store struct {
	mu     sync.Mutex
	tokens map[string]*issued
	jtis   map[string]struct{}
}

func newStore() *store {
	return &store{tokens: map[string]*issued{}, jtis: map[string]struct{}{}}
}

func (s *store) put(token string, rec *issued) {
	s.mu.Lock()
	s.tokens[token] = rec
	s.mu.Unlock()
}

// newJTI returns a token identifier never returned before by this store.
func (s *store) newJTI() string {
	for {
		id := randomString(16)
		s.mu.Lock()
		_, dup := s.jtis[id]
		if !dup {
			s.jtis[id] = struct{}{}
		}
		s.mu.Unlock()
		if !dup {
			return id
		}
	}
}

// count reports how many tokens the store holds.
func (s *store) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

// randomString returns n random bytes, base64url-encoded. crypto/rand.Read
// never fails on supported platforms (Go 1.24+ crashes the program instead),
// so there is no error to return.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
