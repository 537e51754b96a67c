package selftest

import (
	"context"
	"os"
	"strings"
	"testing"
)

// The mutation matrix runs in `make test`: every fault and drift of the
// mock must get its expected verdict, printed as a table.
func TestMutationMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the mutation matrix takes minutes; run without -short")
	}
	rows := Rows()
	if len(rows) < 50 {
		t.Fatalf("only %d rows: the catalogues shrank?", len(rows))
	}
	outcomes, err := Run(context.Background(), rows, Options{Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := WriteTable(&table, outcomes); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + table.String())
	for _, o := range outcomes {
		if !o.OK() {
			t.Errorf("%s: expected %s, got %s %v %v %v", o.Row, o.Expect, o.Got, o.Specs, o.Elsewhere, o.Err)
		}
	}
	if dir := os.Getenv("IDPCONFORM_ARTIFACT_DIR"); dir != "" {
		_ = os.MkdirAll(dir, 0o755)
		_ = os.WriteFile(dir+"/mutation-matrix.txt", []byte(table.String()), 0o644)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
