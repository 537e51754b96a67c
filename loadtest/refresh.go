package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
)

// refresh sends the refresh token grant (RFC 6749 §6). Its refresh tokens
// come from a pool that Prepare seeds with real logins (authorization code
// flows through the target's users and login driver). Each token is sent
// once: the targeter takes it out of the pool, and when the target rotates
// refresh tokens, Inspect puts the new one from the response back, so the
// pool circulates. When the pool is empty at a hit, the targeter refuses it
// and the attack stops: the report says how the tokens were spent.
type refresh struct {
	endpoint string
	auth     secretAuth
	flow     *codeFlow
	env      Env
	rotation target.Rotation
	rotates  bool

	pool   chan string
	seeded uint64
	// taken counts tokens sent, returned rotated ones put back, spent
	// tokens whose hit was judged and gave no new one, and retried tokens
	// put back unused because the IdP answered 429 or 5xx, or nothing.
	taken, returned, spent, retried atomic.Uint64
}

// Problems of a refresh response.
const problemNotRotated = "no rotated refresh_token (the client declares rotation)"

// refreshRunway is how long a rotating token may be away from the pool
// (sent, answered, inspected): an automatic pool holds the top rate's hits
// over this time, so an attack stops only when the target answers slower.
const refreshRunway = time.Second

// minRotatingPool is the smallest automatic pool of rotating tokens.
const minRotatingPool = 16

// replays is how many refresh tokens the reuse check spends after the
// attacks.
const replays = 3

func newRefresh(env Env) (Scenario, error) {
	c := env.Client
	if !c.HasGrant(target.GrantRefreshToken) {
		return nil, fmt.Errorf("refresh: client %s is not registered for refresh_token (its grants: %v)", c.Name, c.Grants)
	}
	var users []target.User
	if env.Target != nil {
		users = env.Target.Users
	}
	flow, err := newCodeFlow("refresh", env, users)
	if err != nil {
		return nil, err
	}
	rot := c.Refresh.Rotation
	if rot == "" {
		rot = target.RotationRotate
	}
	return &refresh{endpoint: env.Endpoints.Token, auth: flow.auth, flow: flow, env: env, rotation: rot, rotates: rot != target.RotationNone}, nil
}

func (s *refresh) Name() string     { return "refresh" }
func (s *refresh) Endpoint() string { return s.endpoint }

// Prepare seeds the pool with one refresh token per login. Without
// rotation every hit spends a token, so the pool holds every hit of the
// plan; with rotation it holds the tokens in flight at the top rate for
// refreshRunway.
func (s *refresh) Prepare(ctx context.Context, d Demand) (*results.LoadPreparation, error) {
	auto := d.TotalHits
	if s.rotates {
		auto = min(d.TotalHits, max(minRotatingPool, uint64(math.Ceil(d.TopRate*refreshRunway.Seconds()))))
	}
	size := poolSize(s.env.Pool, auto)
	s.pool = make(chan string, size)
	driver := driverFor(s.env, s.env.OAuth)
	prep, err := fill(ctx, d, "refresh tokens from logins", size, s.env.Pool, func(ctx context.Context) error {
		tr, err := s.flow.run(ctx, s.env.OAuth, driver)
		if err != nil {
			return err
		}
		if err := grantFailure(tr); err != nil {
			return err
		}
		d.issued(issuedBy(tr)...)
		if tr.RefreshToken == "" {
			return errors.New("the code exchange gave no refresh_token (does the client ask for offline_access?)")
		}
		select {
		case s.pool <- tr.RefreshToken:
		default:
			return errors.New("pool full")
		}
		return nil
	})
	s.seeded = uint64(len(s.pool))
	return prep, err
}

func (s *refresh) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		var tok string
		select {
		case tok = <-s.pool:
		default:
			return s.dry()
		}
		s.taken.Add(1)
		t.Method = http.MethodPost
		t.URL = s.endpoint
		t.Header = s.auth.header
		const prefix = "grant_type=refresh_token&refresh_token="
		esc := url.QueryEscape(tok)
		b := make([]byte, 0, len(prefix)+len(esc)+len(s.auth.form))
		b = append(b, prefix...)
		b = append(b, esc...)
		t.Body = append(b, s.auth.form...)
		return nil
	}
}

// dry says how the pool's tokens were spent when it ran out.
func (s *refresh) dry() error {
	taken, returned, spent := s.taken.Load(), s.returned.Load(), s.spent.Load()
	away := int64(taken) - int64(returned) - int64(spent)
	if !s.rotates {
		return fmt.Errorf("refresh token pool ran dry after %d refreshes: the client declares rotation none, so each hit spends one of the %d seeded; raise --pool to the hits planned", taken, s.seeded)
	}
	retried := s.retried.Load()
	away -= int64(retried)
	return fmt.Errorf("refresh token pool ran dry after %d refreshes: %d seeded, %d rotated ones came back, %d put back after 429, 5xx or no answer, %d refreshes failed or gave no new token, %d were in flight; raise --pool, or look at the errors",
		taken, s.seeded, returned, retried, spent, max(away, 0))
}

// Transport watches each refresh on the wire: when the IdP answers 429 or
// 5xx, or nothing (a transport error), it did not consume the token, so it
// goes back into the pool. Dropping it would drain the pool under a rate
// limit and stop the attack on "pool ran dry", blaming the pool for the
// IdP's throttling. The token is read back from the request body only on
// those answers, so the hot path pays nothing.
func (s *refresh) Transport(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		if err == nil && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
			return resp, err
		}
		if tok := refreshTokenOf(r); tok != "" {
			select {
			case s.pool <- tok:
				s.retried.Add(1)
			default:
			}
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// refreshTokenOf reads the refresh_token member back from a request the
// targeter built.
func refreshTokenOf(r *http.Request) string {
	if r.GetBody == nil {
		return ""
	}
	body, err := r.GetBody()
	if err != nil {
		return ""
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		return ""
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return ""
	}
	return v.Get("refresh_token")
}

// retryable says whether the IdP left the token unused: a rate limit or a
// server error, which Transport has put the token back for.
func retryable(code uint16) bool { return code == http.StatusTooManyRequests || code >= 500 }

// Inspect judges a token response and, when the target rotates refresh
// tokens, returns the new one to the pool. Without rotation a refresh
// token in the response is the one sent, not a new one: it is neither
// counted for uniqueness nor sent again.
func (s *refresh) Inspect(res *vegeta.Result) Outcome {
	out := inspectTokenResponse(res)
	var rt string
	kept := out.Issued[:0]
	for _, c := range out.Issued {
		if c.Kind == RefreshToken {
			rt = c.Value
			if !s.rotates {
				continue
			}
		}
		kept = append(kept, c)
	}
	out.Issued = kept
	if !s.rotates || retryable(res.Code) {
		return out
	}
	if out.Problem != "" || out.OAuthError != "" || res.Code < 200 || res.Code >= 300 {
		s.spent.Add(1)
		return out
	}
	if rt == "" {
		out.Problem = problemNotRotated
		s.spent.Add(1)
		return out
	}
	select {
	case s.pool <- rt:
		s.returned.Add(1)
	default:
		// More tokens than were seeded: the target answered one refresh
		// with two. The uniqueness check reports it.
		s.spent.Add(1)
	}
	return out
}

// Audit replays refresh tokens after the attacks (RFC 9700 §4.14.2): each
// of a few unused pool tokens is refreshed once, then sent again. A target
// that rotates must refuse the second use. The attack itself never sends a
// token twice, so this is the one place the scenario does.
func (s *refresh) Audit(ctx context.Context) ([]results.LoadGate, []string) {
	switch s.rotation {
	case target.RotationRotate, target.RotationReuseDetection:
	default:
		return nil, []string{fmt.Sprintf("refresh token reuse not checked: client %s declares rotation %s, under which a used refresh token may work again", s.env.Client.Name, s.rotation)}
	}
	var refused, accepted int
	var failures []string
	for range replays {
		var tok string
		select {
		case tok = <-s.pool:
		default:
		}
		if tok == "" {
			break
		}
		first, err := s.env.OAuth.Refresh(ctx, s.endpoint, s.auth.cred, tok, nil)
		if err == nil {
			err = grantFailure(first)
		}
		if err != nil {
			failures = append(failures, err.Error())
			continue
		}
		again, err := s.env.OAuth.Refresh(ctx, s.endpoint, s.auth.cred, tok, nil)
		switch {
		case err != nil:
			failures = append(failures, err.Error())
		case again.Status >= 200 && again.Status < 300 && again.AccessToken != "":
			accepted++
		default:
			refused++
		}
	}
	if refused+accepted == 0 {
		why := "no unused refresh token was left after the attacks"
		if len(failures) > 0 {
			why = "the first use of every token tried failed: " + failures[0]
		}
		return nil, []string{"refresh token reuse not checked: " + why}
	}
	g := results.LoadGate{Name: gateRefreshReplay, Scope: auditScope, Passed: accepted == 0,
		Measured: fmt.Sprintf("%d of %d replays refused", refused, refused+accepted)}
	if g.Passed {
		g.Message = fmt.Sprintf("pass %s: %d refresh tokens, each used once after the attacks, were refused when sent again (rotation %s declared)", gateRefreshReplay, refused, s.rotation)
	} else {
		g.Message = fmt.Sprintf("FAIL %s: %d of %d refresh tokens were accepted again after their rotation: a leaked refresh token stays usable (RFC 9700 §4.14.2; rotation %s declared)", gateRefreshReplay, accepted, refused+accepted, s.rotation)
	}
	return []results.LoadGate{g}, nil
}

// gateRefreshReplay is the refresh scenario's check after the attacks.
const gateRefreshReplay = "refresh reuse refused"

// auditScope is the scope of a gate an Auditor returns.
const auditScope = "audit"
