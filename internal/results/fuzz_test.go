package results

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// FuzzDecode feeds the results decoder what a results.json given to
// `idpconform report` might hold. A decoded run survives the operations the
// report command applies to it, and encodes to JSON that decodes again.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"sample", "suite-failure"} {
		if b, err := os.ReadFile("../../reports/testdata/golden/" + name + ".results.json"); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"schema_version":"` + SchemaVersion + `","kind":"conformance","specs":[{"name":"x","state":"failed","tokens":[{"claims":{"exp":1e400}}]}]}`))
	f.Add([]byte(`{"schema_version":"` + SchemaVersion + `","kind":"conformance","specs":null,"summary":{"by_label":{"":{}}}}`))
	f.Add([]byte(`{"schema_version":"0","kind":"conformance"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := Decode(bytes.NewReader(data))
		if err != nil {
			if run != nil {
				t.Error("run and error")
			}
			return
		}
		run.Summarize()
		_ = run.Passed()
		red := run.Redacted(maskSecret{})
		out, err := json.Marshal(red)
		if err != nil {
			t.Fatalf("a decoded run does not encode: %v", err)
		}
		if _, err := Decode(bytes.NewReader(out)); err != nil {
			t.Fatalf("a re-encoded run does not decode: %v\n%s", err, out)
		}
	})
}

type maskSecret struct{}

func (maskSecret) String(s string) string { return strings.ReplaceAll(s, "secret", "[REDACTED]") }
