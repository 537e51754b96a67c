package baseline

import (
	"context"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/internal/verify"
)

// sample sends extra requests to the cheap operations so that their
// percentiles rest on more than one request: discovery, JWKS, the client
// credentials grant, introspection and userinfo. It is bounded by
// Options.Samples per operation and by Options.Budget in all; only
// successful answers count.
func (c *capturer) sample(ctx context.Context) {
	if c.o.Samples < 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.Budget)
	defer cancel()
	for i := 0; i < c.o.Samples && ctx.Err() == nil; i++ {
		if c.env.Issuer != "" && c.env.Metadata != nil {
			if _, resp, err := c.env.OAuth.Discover(ctx, c.env.Issuer); err == nil {
				c.observe(OpDiscovery, resp.Elapsed)
			}
		}
		if u := c.env.Endpoints.JWKS; u != "" {
			start := time.Now()
			if _, err := c.env.OAuth.FetchJWKS(ctx, u); err == nil {
				c.observe(OpJWKS, time.Since(start))
			}
		}
		if cl := c.ccClient; cl != nil {
			tr, err := c.env.OAuth.ClientCredentials(ctx, c.env.Endpoints.Token, credentials(*cl), cl.Scopes, nil)
			if err == nil && tr.Status == http.StatusOK && tr.AccessToken != "" {
				c.observe(OpTokenCC, tr.Elapsed)
				if c.tg.Has(target.CapIntrospection) && c.env.Endpoints.Introspection != "" {
					in, err := c.env.OAuth.Introspect(ctx, c.env.Endpoints.Introspection, credentials(*cl), tr.AccessToken, "access_token")
					if err == nil && in.Status == http.StatusOK {
						c.observe(OpIntrospect, in.Elapsed)
					}
				}
			}
		}
		if c.liveAccess != "" && c.tg.Has(target.CapUserinfo) && c.env.Endpoints.Userinfo != "" {
			resp, _, err := c.env.OAuth.Userinfo(ctx, c.env.Endpoints.Userinfo, c.liveAccess)
			if err == nil && resp.Status == http.StatusOK {
				c.observe(OpUserinfo, resp.Elapsed)
			}
		}
	}
}

// percentiles summarises each operation's durations (nearest rank).
func percentiles(m map[string][]time.Duration) []Latency {
	ops := make([]string, 0, len(m))
	for op := range m {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	out := make([]Latency, 0, len(ops))
	for _, op := range ops {
		ds := append([]time.Duration(nil), m[op]...)
		if len(ds) == 0 {
			continue
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		q := func(p float64) float64 {
			i := int(math.Ceil(p*float64(len(ds)))) - 1
			i = max(0, min(i, len(ds)-1))
			return ms(ds[i])
		}
		out = append(out, Latency{Operation: op, Samples: len(ds), P50: q(0.50), P90: q(0.90), P95: q(0.95), P99: q(0.99), Max: ms(ds[len(ds)-1])})
	}
	return out
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// reverify verifies every JWT of the capture again against a JWKS fetched
// now: a key dropped while its tokens still live breaks every client holding
// one (OIDC Core §10.1.1). Only key and signature failures count; expiry is
// judged at the capture's start.
func (c *capturer) reverify(ctx context.Context) {
	if len(c.jwts) == 0 || c.env.Endpoints.JWKS == "" {
		return
	}
	jwksURL := c.env.Endpoints.JWKS
	now := func() time.Time { return c.started }
	keys := verify.NewRemoteKeySet(func(ctx context.Context) ([]byte, error) {
		body, err := c.env.OAuth.FetchJWKS(ctx, jwksURL)
		if err == nil {
			// The key set as the capture leaves it, rotations included.
			c.recordKeys(body)
		}
		return body, err
	}, now)
	v := &verify.Verifier{Keys: keys, Algorithms: c.env.Verifier.Algorithms, Leeway: 24 * time.Hour, Now: now}
	for _, raw := range c.jwts {
		c.b.Keys.Reverified++
		_, err := v.Verify(ctx, raw, verify.Expected{AllowMissingExp: true})
		switch {
		case err == nil:
		case errorsIsAny(err, verify.ErrNoKey, verify.ErrSignature, verify.ErrJWKS):
			c.b.Keys.ReverifyFailed++
		}
	}
}
