package diff_test

import (
	"testing"

	"github.com/idpconform/idpconform/internal/baseline/baselinetest"
	"github.com/idpconform/idpconform/internal/diff"
)

// BenchmarkCompare classifies the Akoya migration (two real captures of the
// mock, ~50 differences): the cost of a diff once both sides are known.
func BenchmarkCompare(b *testing.B) {
	h := baselinetest.Hasher(b)
	old, _, _ := baselinetest.Capture(b, baselinetest.Target(b, "mock-akoya-legacy"), h, -1)
	new, _, _ := baselinetest.Capture(b, baselinetest.Target(b, "mock-akoya"), h, -1)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := diff.Compare(old, new, diff.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCapture captures the Akoya mock in-process with no extra latency
// samples: client credentials, two users' logins, refreshes, second logins,
// userinfo, introspection, revocation and eleven probes.
func BenchmarkCapture(b *testing.B) {
	h := baselinetest.Hasher(b)
	tg := baselinetest.Target(b, "mock-akoya")
	for b.Loop() {
		baselinetest.Capture(b, tg, h, -1)
	}
}
