package reports

import (
	"testing"

	"github.com/idpconform/idpconform/internal/results"
)

// A claim rule's floors are shown beside its type; a rule without them is
// its type alone.
func TestRuleTextShowsFloors(t *testing.T) {
	if got := ruleText(results.ClaimRule{Type: "string", MinLength: 16, MinEntropy: 96}); got != "string (min length 16, min entropy ~96 bits)" {
		t.Errorf("with floors: %q", got)
	}
	if got := ruleText(results.ClaimRule{Type: "string"}); got != "string" {
		t.Errorf("without: %q", got)
	}
}
