package target

import (
	"errors"
	"strings"
	"testing"

	"github.com/idpconform/idpconform/internal/yamlfile"
)

func TestSLOsSection(t *testing.T) {
	src := good + "slos:\n  - p99<=200ms\n  - success>=99.9%\n  - throughput>=500/s\n"
	tg, err := Parse("demo.yaml", []byte(src), env(map[string]string{"CC_SECRET": "x"}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	objs, err := tg.Objectives()
	if err != nil || len(objs) != 3 || objs[0].Text != "p99<=200ms" || objs[2].Limit != 500 {
		t.Errorf("Objectives: %+v, %v", objs, err)
	}
}

// Every bad SLO is reported, each at its own line and column.
func TestSLOsSectionBad(t *testing.T) {
	src := good + "slos:\n  - p99<=200ms\n  - p99>=200ms\n  - success>=99.9\n"
	_, err := Parse("demo.yaml", []byte(src), env(map[string]string{"CC_SECRET": "x"}))
	var ce *yamlfile.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want a *yamlfile.Error, got %v", err)
	}
	for _, want := range []string{"demo.yaml:12:5: slos[1]:", "upper bound", "demo.yaml:13:5: slos[2]:", "percentage"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
	if strings.Contains(err.Error(), "slos[0]") {
		t.Errorf("good SLO reported:\n%s", err)
	}
}
