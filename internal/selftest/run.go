package selftest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/suites"
)

// Outcome is a row's result.
type Outcome struct {
	Row
	Got Verdict
	// Specs are the owning specs that failed (or warned, for Warn).
	Specs []string
	// Elsewhere are MUST failures outside the owning scenarios.
	Elsewhere []string
	Err       error
	Elapsed   time.Duration
}

// OK reports whether the row got its expected verdict.
func (o Outcome) OK() bool { return o.Err == nil && o.Got == o.Expect }

// Options configure a matrix run.
type Options struct {
	// Progress, when set, gets one line per row as it finishes.
	Progress io.Writer
}

// Run runs every row in order (the suites share Ginkgo's global state, so
// rows cannot run in parallel) and returns their outcomes.
func Run(ctx context.Context, rows []Row, o Options) ([]Outcome, error) {
	cs, err := contract.LoadFS(fixtures.FS, fixtures.ContractsDir)
	if err != nil {
		return nil, fmt.Errorf("bundled contracts: %w", err)
	}
	out := make([]Outcome, 0, len(rows))
	for i, r := range rows {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		oc := runRow(r, cs)
		out = append(out, oc)
		if o.Progress != nil {
			mark := "ok  "
			if !oc.OK() {
				mark = "FAIL"
			}
			fmt.Fprintf(o.Progress, "%s %2d/%d %-34s expected %-5s got %-5s %s\n", mark, i+1, len(rows), r.Kind+" "+r.Injection(), r.Expect, oc.Got, oc.Elapsed.Round(time.Millisecond))
		}
	}
	return out, nil
}

// Target returns the bundled target file of a mock profile.
func Target(profile string) (*target.Target, error) {
	path := fixtures.MockProfileTargetPath(profile)
	src, err := fixtures.FS.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundled target for profile %s: %w", profile, err)
	}
	// The bundled files take the mock's published test secrets as
	// defaults; the environment is not consulted, so a user's variables
	// cannot change what the matrix proves.
	return target.Parse(path, src, func(string) (string, bool) { return "", false })
}

func runRow(r Row, cs contract.Set) Outcome {
	start := time.Now()
	oc := Outcome{Row: r}
	defer func() { oc.Elapsed = time.Since(start) }()
	tg, err := Target(r.Profile)
	if err != nil {
		oc.Got, oc.Err = Error, err
		return oc
	}
	switch r.Kind {
	case "fault":
		tg.Mock.Faults = append(tg.Mock.Faults, r.Injection())
	case "drift":
		tg.Mock.Drift = append(tg.Mock.Drift, r.Injection())
	}
	if r.PinAlg {
		tg.SigningAlgs = []string{tg.Mock.SigningAlg}
		if tg.SigningAlgs[0] == "" {
			tg.SigningAlgs = []string{"RS256"}
		}
	}
	if err := tg.Mock.Check(); err != nil {
		oc.Got, oc.Err = Error, err
		return oc
	}
	run, err := suites.Run(nil, suites.Options{Target: tg, Secrets: redact.New(), Contracts: cs, LabelFilter: r.LabelFilter, NoColor: true})
	if err != nil {
		oc.Got, oc.Err = Error, err
		oc.Elapsed = time.Since(start)
		return oc
	}
	oc.Got, oc.Specs, oc.Elsewhere = judge(run, r.Owners)
	if run.SuiteFailure != "" {
		oc.Got, oc.Err = Error, fmt.Errorf("suite failure: %s", run.SuiteFailure)
	}
	return oc
}

// judge reads a run's verdict against the owning scenarios.
func judge(run *results.Run, owners []string) (Verdict, []string, []string) {
	owned := func(sp results.Spec) bool {
		if len(owners) == 0 {
			return true
		}
		for _, l := range sp.Labels {
			if slices.Contains(owners, l) {
				return true
			}
		}
		return false
	}
	var fails, elsewhere, warns []string
	for _, sp := range run.Specs {
		switch {
		case sp.State == results.Failed && owned(sp):
			fails = append(fails, sp.Name)
		case sp.State == results.Failed:
			elsewhere = append(elsewhere, sp.Name)
		case len(sp.Warnings) > 0 && owned(sp):
			warns = append(warns, sp.Name)
		}
	}
	switch {
	case len(fails) > 0:
		return Fail, fails, elsewhere
	case len(elsewhere) > 0:
		return Misplaced, nil, elsewhere
	case len(warns) > 0:
		return Warn, warns, nil
	}
	return Pass, nil, nil
}

// WriteTable prints the matrix: injection, expected, got, and the specs
// that decided it.
func WriteTable(w io.Writer, outcomes []Outcome) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "injection\tprofile\texpected\tgot\t\tcaught by")
	bad := 0
	for _, o := range outcomes {
		mark := "ok"
		if !o.OK() {
			mark = "MISMATCH"
			bad++
		}
		by := strings.Join(first(o.Specs, 2), "; ")
		if o.Err != nil {
			by = o.Err.Error()
		} else if o.Got == Misplaced {
			by = "outside the owning scenarios: " + strings.Join(first(o.Elsewhere, 2), "; ")
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%s\n", o.Kind, o.Injection(), o.Profile, o.Expect, o.Got, mark, by)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n%d injections, %d as expected, %d mismatched\n", len(outcomes), len(outcomes)-bad, bad)
	_, err := io.WriteString(w, b.String())
	return err
}

func first(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string{}, s[:n]...), fmt.Sprintf("and %d more", len(s)-n))
}
