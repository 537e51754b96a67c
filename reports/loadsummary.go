package reports

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/slo"
)

// maxPassedGatesShown bounds the passed gates the terminal summary lists: a
// staircase of many steps has several gates per step.
const maxPassedGatesShown = 12

// writeLoadSummary writes the terminal summary of a load run: one row per step
// with requested and attempted rate, validity, success, throughput and
// latency percentiles, then errors, uniqueness, verification, capacity and
// every gate verdict.
func writeLoadSummary(w io.Writer, run *results.Run) error {
	l := run.Load
	var b strings.Builder
	verdict := "PASS"
	if !run.Passed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\nidpconform load: %s (scenario %s", verdict, l.Scenario)
	if l.Client != "" {
		fmt.Fprintf(&b, ", client %s", l.Client)
	}
	fmt.Fprintf(&b, ", target %s", run.Target.Name)
	if run.Target.Issuer != "" {
		fmt.Fprintf(&b, ", issuer %s", run.Target.Issuer)
	}
	b.WriteString(")\n")
	g := l.Generator
	fmt.Fprintf(&b, "generator: %s", g.HTTPVersion)
	if len(g.Protocols) > 0 {
		fmt.Fprintf(&b, " (responses: %s)", protocolList(g.Protocols))
	}
	fmt.Fprintf(&b, ", workers %d to %d, timeout %s, %d CPUs", g.Workers, g.MaxWorkers, g.Timeout, g.NumCPU)
	if l.SigningAlg != "" {
		fmt.Fprintf(&b, "; embedded mock signs %s", l.SigningAlg)
	}
	if l.Shard != nil {
		fmt.Fprintf(&b, "; shard %d/%d", l.Shard.Index, l.Shard.Count)
	}
	if len(l.MergedFrom) > 0 {
		fmt.Fprintf(&b, "; merged from %d files", len(l.MergedFrom))
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "step\trequested\tattempted\tvalid\tok/sent\tsuccess\tthroughput\tp50\tp90\tp99\tmax\tcpu/req")
	for _, s := range l.Steps {
		req := rateText(s.RequestedRate)
		if s.Model == "ramp" {
			req += " to " + rateText(s.RequestedRateEnd)
		}
		valid := "yes"
		if !s.Valid {
			valid = "NO"
		}
		cpu := "-"
		if s.CPU != nil && s.Requests > 0 {
			cpu = slo.FormatDuration(s.CPU.PerRequest)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f/s (%.1f%%)\t%s\t%d/%d\t%.3f%%\t%.1f/s\t%s\t%s\t%s\t%s\t%s\n",
			s.Name, req, s.AttemptedRate, 100*s.AttemptedRatio, valid, s.OK, s.Requests, 100*s.Success, s.Throughput,
			slo.FormatDuration(s.Latency.P50), slo.FormatDuration(s.Latency.P90), slo.FormatDuration(s.Latency.P99), slo.FormatDuration(s.Latency.Max), cpu)
	}
	tw.Flush()
	if g.CPUScope != "" {
		fmt.Fprintf(&b, "cpu/req is the CPU of the %s per request sent\n", g.CPUScope)
	}
	if p := l.Preparation; p != nil {
		fmt.Fprintf(&b, "prepared before the attack (not in the figures above): %s\n", preparationText(p))
		for _, f := range p.Failures {
			fmt.Fprintf(&b, "  %8d  %s\n", f.Count, f.Reason)
		}
	}
	var stopped []string
	for _, s := range l.Steps {
		if s.Stopped != "" {
			stopped = append(stopped, fmt.Sprintf("  %s: %s", s.Name, s.Stopped))
		}
	}
	if len(stopped) > 0 {
		b.WriteString("\nstopped before the plan's end:\n" + strings.Join(stopped, "\n") + "\n")
	}
	if len(l.Notes) > 0 {
		b.WriteString("\nnotes:\n  " + strings.Join(l.Notes, "\n  ") + "\n")
	}

	var errs []string
	for _, s := range l.Steps {
		for _, e := range s.Errors {
			errs = append(errs, fmt.Sprintf("  %-12s %8d  %s", s.Name, e.Count, e.Message))
		}
	}
	if len(errs) > 0 {
		b.WriteString("\nerrors by status and OAuth error code:\n" + strings.Join(errs, "\n") + "\n")
	}
	var bad []string
	for _, s := range l.Steps {
		if !s.Valid {
			bad = append(bad, fmt.Sprintf("  %s: %s", s.Name, s.InvalidReason))
		}
	}
	if len(bad) > 0 {
		b.WriteString("\ninvalid steps (their latencies measure the generator, not the target):\n" + strings.Join(bad, "\n") + "\n")
	}

	if len(l.Uniqueness) > 0 {
		parts := make([]string, len(l.Uniqueness))
		for i, u := range l.Uniqueness {
			parts[i] = fmt.Sprintf("%s %d seen, %d duplicates", u.Kind, u.Seen, u.Duplicates)
		}
		fmt.Fprintf(&b, "\nuniqueness: %s\n", strings.Join(parts, "; "))
	}
	if v := l.Verification; v.Every > 0 {
		fmt.Fprintf(&b, "verification (1 in %d, off the hot path): %d offered, %d verified, %d failed, %d dropped while busy, %d not verified in time, %d opaque\n",
			v.Every, v.Offered, v.Verified, v.Failed, v.Dropped, v.NotVerified, v.Unverifiable)
		for _, f := range v.Failures {
			fmt.Fprintf(&b, "  %8d  %s\n", f.Count, f.Reason)
		}
	}
	if c := l.Capacity; c != nil {
		if c.Found {
			fmt.Fprintf(&b, "\ncapacity: %s (throughput %.1f/s) after %d probes; bound: %s: %s\n", rateText(c.Rate), c.Throughput, c.Probes, c.Bound, c.Detail)
		} else {
			fmt.Fprintf(&b, "\ncapacity: none found after %d probes: %s\n", c.Probes, c.Detail)
		}
	}

	b.WriteString("\ngates:\n")
	gates := append([]results.LoadGate(nil), l.Gates...)
	sort.SliceStable(gates, func(i, j int) bool { return !gates[i].Passed && gates[j].Passed })
	shown := 0
	for _, gt := range gates {
		// Every failure is listed; passes only up to a screenful.
		if gt.Passed && shown >= maxPassedGatesShown {
			fmt.Fprintf(&b, "  ... and %d more passed (results.json, report.html)\n", len(gates)-shown)
			break
		}
		fmt.Fprintf(&b, "  [%s] %s\n", gt.Scope, gt.Message)
		shown++
	}
	if len(gates) == 0 {
		b.WriteString("  (none)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// preparationText says what a scenario prepared and what it cost, on one
// line: "50 of 50 refresh tokens from logins in 1.2s (41.7/s, 4 workers,
// 0.9s CPU), 0 failed".
func preparationText(p *results.LoadPreparation) string {
	rate := ""
	if secs := p.Duration.Seconds(); secs > 0 {
		rate = fmt.Sprintf("%.1f/s, ", float64(p.Got)/secs)
	}
	out := fmt.Sprintf("%d of %d %s in %s (%s%d workers, %.2fs CPU), %d of %d attempts failed",
		p.Got, p.Wanted, p.What, slo.FormatDuration(p.Duration), rate, p.Workers, p.CPUSeconds, p.Failed, p.Attempts)
	switch p.Bound {
	case "time":
		out += "; ended by its time bound (--pool-timeout)"
	case "failures":
		out += "; ended because attempts kept failing"
	case "interrupted":
		out += "; interrupted"
	}
	return out
}

func protocolList(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// rateText prints a rate for people as the load engine names its steps:
// "500/s", "12.50/s".
func rateText(r float64) string {
	if r == math.Trunc(r) && r < 1e12 {
		return strconv.FormatFloat(r, 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "/s"
}

// writeLoadMarkdown writes the Markdown summary of a load run: verdict,
// one row of headline figures per step (the first mdMaxItems), capacity,
// correctness counts and the failed gates. The HTML report has the charts.
func writeLoadMarkdown(w io.Writer, run *results.Run) error {
	l := run.Load
	var b strings.Builder
	icon := "✅"
	if !run.Passed() {
		icon = "❌"
	}
	fmt.Fprintf(&b, "### %s idpconform load: %s\n\n", icon, strings.ToUpper(run.Summary.Verdict))
	fmt.Fprintf(&b, "Target **%s**", mdText(run.Target.Name))
	if run.Target.MockProfile != "" {
		fmt.Fprintf(&b, " (bundled mock, profile %s", mdText(run.Target.MockProfile))
		if l.SigningAlg != "" {
			fmt.Fprintf(&b, ", %s", mdText(l.SigningAlg))
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, " · %s, %s", mdText(l.Scenario), mdText(l.Model))
	if len(l.MergedFrom) > 0 {
		fmt.Fprintf(&b, ", merged from %d files", len(l.MergedFrom))
	}
	failed := 0
	for _, g := range l.Gates {
		if !g.Passed {
			failed++
		}
	}
	fmt.Fprintf(&b, " · %s: %d passed, %d failed · %s\n", plural(len(l.Gates), "gate"), len(l.Gates)-failed, failed,
		run.EndedAt.Sub(run.StartedAt).Round(time.Millisecond))
	if run.SuiteFailure != "" {
		fmt.Fprintf(&b, "\n> **%s**\n", mdText(cut(firstLine(run.SuiteFailure), mdMaxText)))
	}

	if len(l.Steps) > 0 {
		b.WriteString("\n| step | requested | attempted | valid | success | throughput | p50 | p99 |\n|---|--:|--:|:-:|--:|--:|--:|--:|\n")
		for i, s := range l.Steps {
			if i == mdMaxItems {
				fmt.Fprintf(&b, "| … and %d more steps in %s | | | | | | | |\n", len(l.Steps)-mdMaxItems, HTMLFile)
				break
			}
			valid := "yes"
			if !s.Valid {
				valid = "**no**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s (%.1f%%) | %s | %.3f%% | %.1f/s | %s | %s |\n", mdText(s.Name), rateText(s.RequestedRate),
				rateText(s.AttemptedRate), 100*s.AttemptedRatio, valid, 100*s.Success, s.Throughput,
				slo.FormatDuration(s.Latency.P50), slo.FormatDuration(s.Latency.P99))
		}
	}
	if c := l.Capacity; c != nil {
		if c.Found {
			fmt.Fprintf(&b, "\nCapacity: **%s** (throughput %.1f/s) after %d probes, bound by %s.\n", rateText(c.Rate), c.Throughput, c.Probes, mdText(c.Bound))
		} else {
			fmt.Fprintf(&b, "\nCapacity: none found after %d probes.\n", c.Probes)
		}
	}
	if p := l.Preparation; p != nil {
		fmt.Fprintf(&b, "\nPrepared before the attack: %s.\n", mdText(preparationText(p)))
	}
	var facts []string
	for _, u := range l.Uniqueness {
		facts = append(facts, fmt.Sprintf("%s %d seen, %d duplicates", mdText(u.Kind), u.Seen, u.Duplicates))
	}
	if v := l.Verification; v.Every > 0 {
		facts = append(facts, fmt.Sprintf("sample verified: %d, failed: %d", v.Verified, v.Failed))
	}
	if len(facts) > 0 {
		fmt.Fprintf(&b, "\n%s.\n", strings.Join(facts, " · "))
	}

	var fails []string
	for _, g := range l.Gates {
		if !g.Passed {
			fails = append(fails, fmt.Sprintf("- **%s** \\[%s\\]<br>%s", mdText(g.Name), mdText(g.Scope), mdText(cut(oneLine(g.Message), mdMaxText))))
		}
	}
	list(&b, "Failed gates", fails)
	var notes []string
	for _, n := range l.Notes {
		notes = append(notes, "- "+mdText(cut(oneLine(n), mdMaxText)))
	}
	list(&b, "Notes", notes)

	fmt.Fprintf(&b, "\n<sub>idpconform %s · results schema %s · full report: %s (latency over time, histograms, errors), %s, %s</sub>\n",
		mdText(run.Tool.Version), mdText(run.SchemaVersion), HTMLFile, JUnitFile, JSONFile)
	_, err := io.WriteString(w, b.String())
	return err
}
