package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/verify"
)

// TokenChecker verifies one issued credential: signature, claims and
// contract. It is called from the verification workers, concurrently.
type TokenChecker interface {
	Check(ctx context.Context, c Credential) error
}

// errUnverifiable marks a credential no offline check applies to (an opaque
// token: only introspection can say whether it is good).
var errUnverifiable = errors.New("not a JWT")

// JWTChecker verifies JWT credentials with a verifier and the target's
// contracts. Opaque credentials are unverifiable, not failed.
type JWTChecker struct {
	Verifier *verify.Verifier
	Issuer   string
	// ClientID is the audience an ID token must carry.
	ClientID string
	// Contracts by credential kind; nil skips the contract check.
	Contracts map[CredentialKind]*contract.Contract
	// Kinds replaces, per credential kind, what a token must carry: the
	// Akkess t1 token has an issuer of its own, the tenant as audience,
	// cty t1 and the lifetime asked for. Kinds not listed are checked
	// against Issuer (and ClientID as the ID token's audience).
	Kinds map[CredentialKind]KindCheck
}

// KindCheck is what a token of one kind must carry beyond a good
// signature.
type KindCheck struct {
	Expected verify.Expected
	// Cty is the cty header the token must carry; "" checks none.
	Cty string
	// Context evaluates the contract's relations (a declared lifetime).
	Context contract.Context
}

// errCty groups tokens whose cty header is missing or not the one
// required; the value is not quoted (it is the IdP's text).
var errCty = errors.New("cty header missing or not the one required")

// Check implements TokenChecker.
func (j *JWTChecker) Check(ctx context.Context, c Credential) error {
	if !isJWT(c.Value) {
		return errUnverifiable
	}
	want := verify.Expected{Issuer: j.Issuer}
	if c.Kind == IDToken {
		want.Audience = j.ClientID
	}
	kc, special := j.Kinds[c.Kind]
	if special {
		want = kc.Expected
	}
	tok, err := j.Verifier.Verify(ctx, c.Value, want)
	if err != nil {
		return err
	}
	if special && kc.Cty != "" && tok.Header.Cty != kc.Cty {
		return fmt.Errorf("%w (%s)", errCty, kc.Cty)
	}
	if ct := j.Contracts[c.Kind]; ct != nil {
		if vs := contract.Violations(ct.CheckWith(tok.Claims, kc.Context)); len(vs) > 0 {
			msgs := make([]string, len(vs))
			for i, v := range vs {
				msgs[i] = v.String()
			}
			return fmt.Errorf("%w: contract %s: %s", errContract, ct.Name, strings.Join(msgs, "; "))
		}
	}
	return nil
}

var errContract = errors.New("contract violated")

// reasonOf groups a verification error by its condition, so a thousand
// expired tokens make one line, not a thousand with their own timestamps.
func reasonOf(kind CredentialKind, err error) string {
	for _, s := range []error{verify.ErrMalformed, verify.ErrAlgorithm, verify.ErrNoKey, verify.ErrSignature,
		verify.ErrExpired, verify.ErrNotYetValid, verify.ErrIssuedInFuture, verify.ErrMissingClaim,
		verify.ErrClaimType, verify.ErrIssuer, verify.ErrAudience, verify.ErrType, verify.ErrJWKS, errCty} {
		if errors.Is(err, s) {
			return string(kind) + ": " + s.Error()
		}
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return string(kind) + ": " + msg
}

// verifyPool verifies a sample of issued credentials on its own workers, off
// the result loop: verifying inline costs ~100 µs a token and nearly halves
// the rate one generator can send (../shared/PERFORMANCE.md). Offers never
// block: when the queue is full the sample is dropped and counted.
type verifyPool struct {
	check TokenChecker
	in    chan Credential
	stop  context.Context
	halt  context.CancelFunc
	wg    sync.WaitGroup

	mu  sync.Mutex
	sum results.LoadVerification
	why map[string]uint64
}

func newVerifyPool(check TokenChecker, workers, queue int, every uint64) *verifyPool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &verifyPool{check: check, in: make(chan Credential, queue), stop: ctx, halt: cancel, why: map[string]uint64{}}
	p.sum.Every = every
	for range workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

func (p *verifyPool) work() {
	defer p.wg.Done()
	for c := range p.in {
		if p.stop.Err() != nil {
			p.count(func(s *results.LoadVerification) { s.NotVerified++ })
			continue
		}
		ctx, cancel := context.WithTimeout(p.stop, 10*time.Second)
		err := p.check.Check(ctx, c)
		cancel()
		switch {
		case err == nil:
			p.count(func(s *results.LoadVerification) { s.Verified++ })
		case errors.Is(err, errUnverifiable):
			p.count(func(s *results.LoadVerification) { s.Unverifiable++ })
		case p.stop.Err() != nil:
			p.count(func(s *results.LoadVerification) { s.NotVerified++ })
		default:
			r := reasonOf(c.Kind, err)
			p.mu.Lock()
			p.sum.Failed++
			p.why[r]++
			p.mu.Unlock()
		}
	}
}

func (p *verifyPool) count(f func(*results.LoadVerification)) {
	p.mu.Lock()
	f(&p.sum)
	p.mu.Unlock()
}

// offer queues c for verification unless the pool is busy.
func (p *verifyPool) offer(c Credential) {
	select {
	case p.in <- c:
		p.count(func(s *results.LoadVerification) { s.Offered++ })
	default:
		p.count(func(s *results.LoadVerification) { s.Offered++; s.Dropped++ })
	}
}

// finish stops taking offers, lets the workers verify what is queued for at
// most bound, and returns the outcome. Credentials still queued then are
// counted as not verified.
func (p *verifyPool) finish(bound time.Duration) results.LoadVerification {
	close(p.in)
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	t := time.NewTimer(bound)
	select {
	case <-done:
	case <-t.C:
		p.halt()
		<-done
	}
	t.Stop()
	p.halt()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.sum
	for r, n := range p.why {
		out.Failures = append(out.Failures, results.LoadVerifyGroup{Reason: r, Count: n})
	}
	sort.Slice(out.Failures, func(i, j int) bool {
		if out.Failures[i].Count != out.Failures[j].Count {
			return out.Failures[i].Count > out.Failures[j].Count
		}
		return out.Failures[i].Reason < out.Failures[j].Reason
	})
	return out
}
