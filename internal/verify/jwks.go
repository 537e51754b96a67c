package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpconform/idpconform/internal/strictjson"
)

// KeySet finds the public keys that may have signed a token.
type KeySet interface {
	// Lookup returns the keys for kid. With kid "" it returns every signing
	// key, and the verifier accepts that only when there is exactly one.
	Lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error)
}

// ParsedJWKS is a JWK Set with the keys that could be used and the problems
// of those that could not.
type ParsedJWKS struct {
	Keys     []jose.JSONWebKey
	Problems []string
}

// MaxKeys bounds the keys read from one JWKS; real sets hold a handful.
const MaxKeys = 100

// ParseJWKS decodes a JWK Set (RFC 7517 §5) key by key, so that one key of an
// unknown type does not hide the others. Private keys are never used: a key
// with private members is listed as a problem and dropped.
func ParseJWKS(body []byte) (*ParsedJWKS, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: JWKS is not a JSON object with a keys array: %w", ErrJWKS, err)
	}
	if doc.Keys == nil {
		return nil, fmt.Errorf("%w: JWKS has no keys member", ErrJWKS)
	}
	out := &ParsedJWKS{Problems: strictjson.Strings(strictjson.Check(body))}
	if len(doc.Keys) > MaxKeys {
		out.Problems = append(out.Problems, fmt.Sprintf("JWKS holds %d keys; only the first %d are read", len(doc.Keys), MaxKeys))
		doc.Keys = doc.Keys[:MaxKeys]
	}
	for i, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			out.Problems = append(out.Problems, fmt.Sprintf("keys[%d]: %v", i, err))
			continue
		}
		if !k.IsPublic() {
			out.Problems = append(out.Problems, fmt.Sprintf("keys[%d] (kid %q): holds private key material", i, k.KeyID))
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		out.Keys = append(out.Keys, k)
	}
	return out, nil
}

// StaticKeySet is a fixed set of keys, for tests and pinned keys.
type StaticKeySet []jose.JSONWebKey

// Lookup implements KeySet.
func (s StaticKeySet) Lookup(_ context.Context, kid string) ([]jose.JSONWebKey, error) {
	return match(s, kid), nil
}

func match(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	if kid == "" {
		return keys
	}
	var out []jose.JSONWebKey
	for _, k := range keys {
		if k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// RemoteKeySet fetches a JWKS on first use and again, once, when a token
// names a kid it does not hold (the IdP may have rotated its keys). Concurrent
// lookups share one fetch. When a refetch fails the last good keys stay.
type RemoteKeySet struct {
	fetch func(ctx context.Context) ([]byte, error)
	now   func() time.Time

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	problems []string
	fetched  time.Time
	inflight *fetchCall
	fetches  int
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// NewRemoteKeySet returns a key set that calls fetch for the JWKS document.
// now may be nil (time.Now).
func NewRemoteKeySet(fetch func(ctx context.Context) ([]byte, error), now func() time.Time) *RemoteKeySet {
	if now == nil {
		now = time.Now
	}
	return &RemoteKeySet{fetch: fetch, now: now}
}

// Lookup implements KeySet.
func (r *RemoteKeySet) Lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	r.mu.Lock()
	keys, have := r.keys, !r.fetched.IsZero()
	r.mu.Unlock()
	if have {
		if m := match(keys, kid); len(m) > 0 {
			return m, nil
		}
	}
	if err := r.refresh(ctx); err != nil {
		if have {
			// Keep serving the last good keys; the kid is simply unknown.
			return nil, fmt.Errorf("%w: kid %q not in the JWKS, and refetching it failed: %w", ErrNoKey, kid, err)
		}
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return match(r.keys, kid), nil
}

// Problems returns what the last good JWKS held that could not be used
// (keys of unknown types, private keys, keys past MaxKeys).
func (r *RemoteKeySet) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.problems...)
}

// Fetches reports how many times the JWKS was fetched.
func (r *RemoteKeySet) Fetches() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches
}

func (r *RemoteKeySet) refresh(ctx context.Context) error {
	r.mu.Lock()
	if c := r.inflight; c != nil {
		r.mu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c := &fetchCall{done: make(chan struct{})}
	r.inflight = c
	r.fetches++
	r.mu.Unlock()

	body, err := r.fetch(ctx)
	var parsed *ParsedJWKS
	if err == nil {
		parsed, err = ParseJWKS(body)
	}
	r.mu.Lock()
	if err == nil {
		r.keys = parsed.Keys
		r.problems = parsed.Problems
		r.fetched = r.now()
	} else if !errors.Is(err, ErrJWKS) {
		err = fmt.Errorf("%w: %w", ErrJWKS, err)
	}
	c.err = err
	r.inflight = nil
	r.mu.Unlock()
	close(c.done)
	return err
}
