package loadtest

import (
	"fmt"
	"sync"
	"time"
)

// startProgress shows the progress of one attack until the returned func
// is called: on a terminal one line rewritten in place twice a second,
// elsewhere (CI logs) a plain line at the start, every ProgressEvery and at
// the end.
func (r *runner) startProgress(s step, stats *stepStats) func() {
	w := r.cfg.Progress
	if w == nil {
		return func() {}
	}
	every := r.cfg.ProgressEvery
	if r.cfg.TTY {
		every = 500 * time.Millisecond
	}
	if !r.cfg.TTY {
		fmt.Fprintf(w, "load %s: starting, %d hits over %s\n", s.name, s.sched.limit(), s.duration)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if r.cfg.TTY {
					fmt.Fprintf(w, "\r\033[K%s\n", progressLine(s, stats.snapshot(time.Now())))
				} else {
					fmt.Fprintln(w, progressLine(s, stats.snapshot(time.Now())))
				}
				return
			case now := <-t.C:
				line := progressLine(s, stats.snapshot(now))
				if r.cfg.TTY {
					fmt.Fprintf(w, "\r\033[K%s", line)
				} else {
					fmt.Fprintln(w, line)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// progressLine is "load step 2 400/s: 1200/2000 hits, 398.2/s, p50 2.1ms p99 8.4ms, 3 errors".
func progressLine(s step, sn snapshot) string {
	rate := 0.0
	if secs := sn.elapsed.Seconds(); secs > 0 {
		rate = float64(sn.requests) / secs
	}
	return fmt.Sprintf("load %s: %d/%d hits, %.1f/s, p50 %s p99 %s, %d errors",
		s.name, sn.requests, s.sched.limit(), rate, fmtDur(sn.p50), fmtDur(sn.p99), sn.requests-sn.ok)
}
