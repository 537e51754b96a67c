package loadtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idpconform/idpconform/internal/oauth"
)

// pooledToken is one credential a scenario sends again and again (a token
// to introspect, an IdP token to exchange), with when it stops being live.
type pooledToken struct {
	// payload is what a hit sends: a request body or a header.
	payload any
	// exp is when the token expires by the earlier of expires_in (counted
	// from when the response came, so never later than the IdP's own) and
	// a JWT's exp; zero when neither says.
	exp time.Time
}

// tokenPool hands pooled tokens out in turn and never one that may expire
// before its hit is answered: a token within margin of its expiry is
// minted again (remint, when the scenario can do so cheaply) or skipped.
// An IdP that says "inactive" about a token sent with margin to spare is
// then wrong, not the pool.
type tokenPool struct {
	slots  []*poolSlot
	next   atomic.Uint64
	remint func(context.Context) (*pooledToken, error)
	// what names the tokens in errors; why says how to run longer than
	// they live when they cannot be minted again.
	what, why string
	timeout   time.Duration

	mu       sync.Mutex
	slack    time.Duration // the margin; set once the pool is full
	reminted atomic.Uint64
	failed   atomic.Uint64
	// waited counts hits that found no live token and waited for a grant.
	waited   atomic.Uint64
	async    atomic.Int64
	wg       sync.WaitGroup
	lastErr  atomic.Pointer[string]
	unknown  atomic.Bool // a token of unknown expiry is pooled
	lifetime time.Duration
}

type poolSlot struct {
	tok     atomic.Pointer[pooledToken]
	minting atomic.Bool
}

// add pools a token; safe for concurrent use while Prepare fills.
func (p *tokenPool) add(t *pooledToken, lifetime time.Duration) {
	s := &poolSlot{}
	s.tok.Store(t)
	p.mu.Lock()
	p.slots = append(p.slots, s)
	if t.exp.IsZero() {
		p.unknown.Store(true)
	} else if p.lifetime == 0 || lifetime < p.lifetime {
		p.lifetime = lifetime
	}
	p.mu.Unlock()
}

// settle fixes the margin once the pool is full: the clock skew the target
// allows plus a second for the hit itself, but at most half the shortest
// lifetime seen, or no short-lived token would ever be sent.
func (p *tokenPool) settle(skew time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slack = skew + time.Second
	if p.lifetime > 0 {
		p.slack = min(p.slack, p.lifetime/2)
	}
}

// margin is how long before its expiry a token is no longer sent; a hit
// slower than it may have outlived its token.
func (p *tokenPool) margin() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slack
}

// maxMinting bounds the tokens minted at once in the background, so a
// pool of short-lived tokens does not answer one expiry with a burst of
// grants.
const maxMinting = 4

// take returns the payload of the next token live for at least the margin.
// A stale token is skipped and, when the scenario can mint, minted again
// in the background: vegeta times a hit from before its targeter runs, so
// a grant made here would be counted in the hit's latency. Only when no
// pooled token is live does the hit wait for one grant (the note counts
// those).
func (p *tokenPool) take() (any, error) {
	n := uint64(len(p.slots))
	if n == 0 {
		return nil, fmt.Errorf("no %s in the pool", p.what)
	}
	margin := p.margin()
	first := p.next.Add(1) - 1
	var stale *poolSlot
	for k := range n {
		s := p.slots[(first+k)%n]
		t := s.tok.Load()
		if t.exp.IsZero() || time.Until(t.exp) > margin {
			return t.payload, nil
		}
		if stale == nil && p.remint != nil && p.async.Load() < maxMinting && s.minting.CompareAndSwap(false, true) {
			stale = s
			p.async.Add(1)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer p.async.Add(-1)
				p.mint(s)
			}()
		}
	}
	if p.remint != nil {
		// Nothing live: this hit waits for a token of its own.
		for k := range n {
			s := p.slots[(first+k)%n]
			if !s.minting.CompareAndSwap(false, true) {
				continue
			}
			if t := p.mint(s); t != nil {
				p.waited.Add(1)
				return t.payload, nil
			}
			break
		}
		why := "other workers are minting them"
		if e := p.lastErr.Load(); e != nil {
			why = "minting a new one failed: " + *e
		}
		return nil, fmt.Errorf("every pooled %s is within %s of its expiry and %s", p.what, margin, why)
	}
	return nil, fmt.Errorf("every pooled %s is within %s of its expiry (shortest lifetime %s): the run outlasts them, and %s", p.what, margin, p.lifetime.Round(time.Millisecond), p.why)
}

// mint replaces the token of s, which the caller claimed (minting set),
// and releases it; nil when minting failed.
func (p *tokenPool) mint(s *poolSlot) *pooledToken {
	defer s.minting.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	nt, err := p.remint(ctx)
	if err != nil {
		p.failed.Add(1)
		msg := err.Error()
		p.lastErr.Store(&msg)
		return nil
	}
	p.reminted.Add(1)
	s.tok.Store(nt)
	return nt
}

// wait lets the background mints finish; each is bounded by the request
// timeout.
func (p *tokenPool) wait() { p.wg.Wait() }

// notes says what keeping the pool live cost, for the run's notes.
func (p *tokenPool) notes() []string {
	var out []string
	if n := p.reminted.Load(); n > 0 {
		out = append(out, fmt.Sprintf("%d pooled %ss were minted again during the attack as they neared expiry (lifetime %s; those grants are not hits)", n, p.what, p.lifetime.Round(time.Millisecond)))
	}
	if n := p.waited.Load(); n > 0 {
		hits := fmt.Sprintf("%d hits", n)
		if n == 1 {
			hits = "1 hit"
		}
		out = append(out, fmt.Sprintf("%s found no live pooled %s and waited for a grant, which its latency includes", hits, p.what))
	}
	if n := p.failed.Load(); n > 0 {
		out = append(out, fmt.Sprintf("minting a pooled %s again failed %d times during the attack", p.what, n))
	}
	return out
}

// expiryOf says when a token from tr stops being live, as seen from got
// (when the response came), and its lifetime; zero when the response
// says neither expires_in nor, for a JWT, exp.
func expiryOf(tr *oauth.TokenResponse, got time.Time) (time.Time, time.Duration) {
	var exp time.Time
	if tr.ExpiresIn != nil && *tr.ExpiresIn > 0 {
		exp = got.Add(time.Duration(*tr.ExpiresIn) * time.Second)
	}
	if e, ok := jwtExp(tr.AccessToken); ok && (exp.IsZero() || e.Before(exp)) {
		exp = e
	}
	if exp.IsZero() {
		return exp, 0
	}
	return exp, exp.Sub(got)
}

// jwtExp reads the exp claim of a compact JWS without verifying it: the
// pool only needs to know when the IdP will call the token expired.
func jwtExp(tok string) (time.Time, bool) {
	if !isJWT(tok) {
		return time.Time{}, false
	}
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp *json.Number `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil || c.Exp == nil {
		return time.Time{}, false
	}
	f, err := c.Exp.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
