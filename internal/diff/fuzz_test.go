package diff_test

import (
	"bytes"
	"testing"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/diff"
)

// FuzzCompare: any two baselines the decoder accepts compare without a
// panic, and every difference has an ID, a class, a reason and a rule.
func FuzzCompare(f *testing.F) {
	minimal := `{"format":"idpconform-baseline","version":1,"tool":"t","captured_at":"2026-01-01T00:00:00Z","target":{"name":"t","capabilities":[],"clients":[{"name":"c","grants":["client_credentials"],"auth_method":"client_secret_basic"}],"signing_algs":[],"clock_skew_s":5},"sub_key":{"id":"k","source":"provided"},"flows":[],"shapes":[],"probes":[],"keys":{"keys":[],"reverified":0,"reverify_failed":0},"latency":[],"users":[]}`
	rich := `{"format":"idpconform-baseline","version":1,"tool":"t","captured_at":"2026-01-01T00:00:00Z","target":{"name":"t","capabilities":["introspection"],"clients":[],"signing_algs":[],"clock_skew_s":5},"sub_key":{"id":"k","source":"provided"},` +
		`"contracts":{"id_token":{"name":"c","kind":"id_token","claims":{"sub":{"type":"string","presence":"mandatory","min_length":4}}}},` +
		`"flows":[{"name":"authorization_code","client":"c","status":"ok"}],` +
		`"shapes":[{"kind":"id_token","flow":"authorization_code","client":"c","format":"jwt","samples":2,"header":{"algs":["RS256"],"typs":["JWT"],"kids":1},"claims":{"sub":{"types":["string"],"present":2,"length":{"min":3,"max":9},"entropy_bits":10}},"order":["sub"],"lifetime_s":{"min":60,"max":60},"expires_in_s":{"min":60,"max":60},"findings":[{"claim":"sub","level":"violation","rule":"presence","message":"m","count":1}]}],` +
		`"probes":[{"id":"p","expect":"e","status":400,"error":"invalid_grant"}],"metadata":{"fields":{"issuer":"string"},"values":{"grant_types_supported":["x"]},"flags":{"f":true}},` +
		`"keys":{"keys":[{"kid":"a","kty":"RSA"}],"reverified":2,"reverify_failed":1},"latency":[{"operation":"token","samples":1,"p50_ms":1,"p90_ms":1,"p95_ms":1,"p99_ms":1,"max_ms":1}],` +
		`"users":[{"ref":"users[0]","label_hash":"l","sub_hash":"s","accounts_hash":"a"}]}`
	for _, seed := range []string{minimal, rich} {
		if _, err := baseline.Decode(bytes.NewReader([]byte(seed))); err != nil {
			f.Fatalf("a seed is refused, the fuzzing would start from nothing: %v", err)
		}
	}
	f.Add([]byte(minimal), []byte(rich))
	f.Add([]byte(rich), []byte(minimal))
	f.Add([]byte(rich), []byte(rich))
	gates, err := diff.ParseGates([]string{"p99<=1.2x", "token:max<=2x+1ms"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		old, err := baseline.Decode(bytes.NewReader(a))
		if err != nil {
			return
		}
		new, err := baseline.Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		d, err := diff.Compare(old, new, diff.Options{Gates: gates, Accept: []string{"claim/*"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range d.Differences {
			if x.ID == "" || x.Class == "" || x.Reason == "" || x.Rule == "" {
				t.Errorf("incomplete difference %+v", x)
			}
		}
	})
}
