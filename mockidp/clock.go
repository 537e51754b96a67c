package mockidp

import (
	"sync/atomic"
	"time"
)

// clock is the mock's time: a base clock plus an offset the control handle
// moves, so expiry can be tested without sleeping. Every decision the mock
// makes about time (expiry, iat, exp) reads it.
type clock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds
}

func newClock(base func() time.Time) *clock {
	if base == nil {
		base = time.Now
	}
	return &clock{base: base}
}

func (c *clock) now() time.Time { return c.base().Add(time.Duration(c.offset.Load())) }

func (c *clock) advance(d time.Duration) time.Duration {
	return time.Duration(c.offset.Add(int64(d)))
}

func (c *clock) setOffset(d time.Duration) { c.offset.Store(int64(d)) }

func (c *clock) getOffset() time.Duration { return time.Duration(c.offset.Load()) }
