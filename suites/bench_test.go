package suites_test

import (
	"testing"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/suites"
)

// BenchmarkConformanceMock measures a whole conformance run against the
// embedded mock: with the expiry specs (which wait out two-second token
// lifetimes plus the clock skew) and without them. Run with
// go test -run '^$' -bench ConformanceMock -benchtime 3x ./suites/
func BenchmarkConformanceMock(b *testing.B) {
	for _, c := range []struct{ name, filter string }{{"all", ""}, {"without-expiry", "!expiry"}} {
		b.Run(c.name, func(b *testing.B) {
			tg := mockTarget(b, nil)
			cs := contracts(b)
			for b.Loop() {
				r, err := suites.Run(nil, suites.Options{Target: tg, Secrets: redact.New(), Contracts: cs, LabelFilter: c.filter})
				if err != nil {
					b.Fatal(err)
				}
				if !r.Passed() {
					b.Fatalf("run failed: %+v", r.Summary)
				}
				b.ReportMetric(float64(r.Summary.Total-r.Summary.Skipped), "specs/op")
			}
		})
	}
}
