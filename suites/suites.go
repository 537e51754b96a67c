// Package suites holds idpconform's conformance specs and runs them
// in-process: the idpconform binary calls Run, so users need neither the
// ginkgo CLI nor go test. Scenario files register their specs with Register;
// nothing is registered by import side effects.
package suites

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/extensions/globals"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/mockidp"
	fw "github.com/idpconform/idpconform/suites/framework"
)

// Register declares every spec of every scenario on f. Specs register
// eagerly (so registration errors and the catalogue are known at once);
// one root container then holds them all, because Ginkgo shuffles
// top-level groups and a report reads best in a stable order.
func Register(f *fw.Framework) {
	discoverySpecs(f)
	clientCredentialsSpecs(f)
	authCodeSpecs(f)
	refreshSpecs(f)
	introspectionSpecs(f)
	revocationSpecs(f)
	expirySpecs(f)
	securitySpecs(f)
	akoyaSpecs(f)
	akkessSpecs(f)
	nextIdentitySpecs(f)
	ginkgo.Describe(results.RootContainer, f.Build)
}

// Catalogue returns every spec registered for t, without running anything.
func Catalogue(t *target.Target) ([]fw.Entry, error) {
	globals.Reset()
	defer globals.Reset()
	f := fw.New(t, redact.New(), nil)
	Register(f)
	if err := f.RegistrationErrors(); err != nil {
		return nil, err
	}
	return f.Entries(), nil
}

// Options configure one conformance run.
type Options struct {
	Target    *target.Target
	Secrets   *redact.Registry
	Contracts contract.Set

	// LabelFilter is a Ginkgo label filter ("client-credentials && !expiry").
	LabelFilter string
	// Focus and Skip are regular expressions on spec text.
	Focus, Skip []string
	// Verbosity is "succinct", "normal" (default), "verbose" or "very-verbose".
	Verbosity string
	// Timeout bounds the whole run; default one hour.
	Timeout time.Duration
	// NoColor turns off ANSI colour in the terminal output.
	NoColor bool
	// Out receives Ginkgo's progress output, redacted. Default: discard.
	Out io.Writer
	// MockOptions adjusts the embedded mock before it starts.
	MockOptions func(*mockidp.Options)
	// DryRun lists the selected specs without running them.
	DryRun bool
	// Tool names the binary in results.
	Tool results.Tool
	// Debug, when set, receives every HTTP exchange with the IdP, redacted.
	Debug io.Writer
}

// ValidateSelection checks a label filter and focus/skip expressions before
// anything runs (Ginkgo itself would exit the process on a bad one).
func ValidateSelection(labelFilter string, focus, skip []string) error {
	if labelFilter != "" {
		if _, err := types.ParseLabelFilter(labelFilter); err != nil {
			var ge types.GinkgoError
			if errors.As(err, &ge) {
				msg := ginkgoMarkup.ReplaceAllString(ge.Message, "")
				return fmt.Errorf("label filter %q: %s", labelFilter, strings.Join(strings.Fields(msg), " "))
			}
			return fmt.Errorf("label filter %q: %w", labelFilter, err)
		}
	}
	for _, e := range append(append([]string{}, focus...), skip...) {
		if _, err := regexp.Compile(e); err != nil {
			return fmt.Errorf("focus/skip expression %q: %w", e, err)
		}
	}
	return nil
}

// ginkgoMarkup is Ginkgo's colour markup ({{red}}, {{/}}) in error texts.
var ginkgoMarkup = regexp.MustCompile(`\{\{[a-z/-]*\}\}`)

// testingT satisfies ginkgo.GinkgoTestingT outside go test.
type testingT struct{ failed bool }

func (t *testingT) Fail() { t.failed = true }

// Run runs the selected specs against o.Target and returns the results. An
// error means the run could not be made (bad selection, registration
// errors); failing specs are not an error, they are in the results.
//
// Ginkgo keeps its suite in package globals, so Run resets them first and
// must not be called concurrently.
func Run(t ginkgo.GinkgoTestingT, o Options) (*results.Run, error) {
	if err := ValidateSelection(o.LabelFilter, o.Focus, o.Skip); err != nil {
		return nil, err
	}
	if o.Secrets == nil {
		o.Secrets = redact.New()
	}
	if t == nil {
		t = &testingT{}
	}
	o.Secrets.Add(o.Target.Secrets()...)

	globals.Reset()
	f := fw.New(o.Target, o.Secrets, o.Contracts)
	f.MockOptions = o.MockOptions
	f.Debug = o.Debug
	Register(f)
	if err := f.RegistrationErrors(); err != nil {
		return nil, fmt.Errorf("spec registration: %w", err)
	}

	var report types.Report
	ginkgo.BeforeSuite(func(ctx ginkgo.SpecContext) {
		gomega.Expect(f.Setup(ctx)).To(gomega.Succeed(), "suite setup")
	})
	ginkgo.AfterSuite(func() {
		gomega.Expect(f.Teardown()).To(gomega.Succeed(), "suite teardown")
	})
	ginkgo.ReportAfterSuite("idpconform results", func(r ginkgo.Report) { report = r })

	sc, rc := configs(o)
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	// Ginkgo prints failures with the actual values Gomega quotes, which can
	// include tokens: everything it prints goes through the redactor.
	prevOut, prevErr := formatter.ColorableStdOut, formatter.ColorableStdErr
	formatter.ColorableStdOut = o.Secrets.Writer(out)
	formatter.ColorableStdErr = o.Secrets.Writer(out)
	defer func() { formatter.ColorableStdOut, formatter.ColorableStdErr = prevOut, prevErr }()

	gomega.RegisterFailHandler(f.FailHandler)
	start := time.Now()
	ginkgo.RunSpecs(t, "idpconform conformance: "+o.Target.Name, sc, rc)

	run := &results.Run{
		SchemaVersion: results.SchemaVersion,
		Kind:          "conformance",
		Tool:          o.Tool,
		Target:        results.Target{Name: o.Target.Name, Issuer: f.Issuer, File: o.Target.File},
		StartedAt:     start,
		EndedAt:       time.Now(),
		LabelFilter:   o.LabelFilter,
		Focus:         o.Focus,
	}
	if o.Target.Mock != nil {
		run.Target.MockProfile = o.Target.Mock.Profile
	}
	run.Specs, run.SuiteFailure = results.FromGinkgo(report, func(loc, text string) (string, string) {
		r, _ := f.Lookup(loc, text)
		return r.Ref, string(r.Severity)
	})
	if o.DryRun {
		run.DryRun = true
		for i := range run.Specs {
			if run.Specs[i].State == results.Passed {
				run.Specs[i].State = results.Selected
			}
		}
	}
	run.Summarize()
	return run, nil
}

func configs(o Options) (types.SuiteConfig, types.ReporterConfig) {
	sc := types.NewDefaultSuiteConfig()
	sc.LabelFilter = o.LabelFilter
	sc.FocusStrings = o.Focus
	sc.SkipStrings = o.Skip
	sc.DryRun = o.DryRun
	sc.Timeout = o.Timeout
	if sc.Timeout <= 0 {
		sc.Timeout = time.Hour
	}
	// Specs run in the order written: flows against a live IdP read better
	// that way, and their independence is not what a conformance run tests.
	sc.RandomizeAllSpecs = false
	sc.PollProgressAfter = 30 * time.Second
	sc.PollProgressInterval = 30 * time.Second

	rc := types.NewDefaultReporterConfig()
	rc.NoColor = o.NoColor
	switch o.Verbosity {
	case "succinct":
		rc.Succinct = true
	case "verbose":
		rc.Verbose = true
	case "very-verbose":
		rc.VeryVerbose = true
	}
	return sc, rc
}
