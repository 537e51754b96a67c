package suites_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
	"github.com/idpconform/idpconform/reports"
)

// akkessToken runs the Akkess specs against the mock of mock-akkess.yaml
// (with drift added) and returns the t1 token the run recorded, if any,
// and the run's HTML report.
func akkessToken(t *testing.T, drift ...string) (*results.Token, string) {
	t.Helper()
	src, err := os.ReadFile("../fixtures/targets/mock-akkess.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.Parse("mock-akkess.yaml", src, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	tg.Mock.Drift = append(tg.Mock.Drift, drift...)
	r, out, reg := run(t, tg, "akkess")
	var tok *results.Token
	for _, sp := range r.Specs {
		for i, tk := range sp.Tokens {
			if tk.Kind == "akkess_t1" && tok == nil {
				tok = &sp.Tokens[i]
			}
		}
	}
	var page bytes.Buffer
	if err := reports.WriteHTML(&page, r.Redacted(reg)); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return tok, page.String()
}

// The Akkess t1 token (an application/jwt body, not a JSON member) is in
// the report with the contract the target names for it, checked; with the
// mock dropping tid, the same token carries the contract's violation.
func TestAkkessTokenInReport(t *testing.T) {
	tok, page := akkessToken(t)
	if tok == nil {
		t.Fatal("no akkess_t1 token recorded")
	}
	if tok.Source != "akkess token" || tok.Header["cty"] != "t1" || tok.Claims["tid"] == nil {
		t.Errorf("token: source %q header %v claims %v", tok.Source, tok.Header, tok.Claims)
	}
	if tok.Contract == nil || tok.Contract.Name != "akkess-t1" || tok.Contract.Claims["tid"].Presence != "mandatory" {
		t.Fatalf("contract: %+v", tok.Contract)
	}
	for _, f := range tok.Findings {
		if f.Level == "violation" {
			t.Errorf("the mock's t1 token violates its contract: %+v", f)
		}
	}
	if !strings.Contains(page, `id="token-akkess_t1"`) || !strings.Contains(page, "akkess-t1") {
		t.Error("the HTML report's Tokens and contracts section lacks the t1 token")
	}

	tok, _ = akkessToken(t, "drop-claim=tid")
	if tok == nil {
		t.Fatal("drop-claim=tid: no akkess_t1 token recorded (it must be shown before it is judged)")
	}
	violated := false
	for _, f := range tok.Findings {
		violated = violated || f.Level == "violation" && f.Claim == "tid"
	}
	if !violated {
		t.Errorf("drop-claim=tid: no violation of tid in %+v", tok.Findings)
	}
}
