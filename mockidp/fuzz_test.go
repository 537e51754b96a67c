package mockidp

import "testing"

// FuzzParseFault feeds the fault syntax shared by target files, flags and
// the admin API. An accepted fault prints back in a form that parses to the
// same fault.
func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"latency=20ms..80ms@token", "status-5xx=0.25", "malformed-json@jwks", "token-type=JWT", "clock-skew=-10m", "slow-body=1s", "latency=1h", "x=y=z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fault, err := ParseFault(s)
		if err != nil {
			return
		}
		again, err := ParseFault(fault.String())
		if err != nil {
			t.Fatalf("%q parsed as %q, which does not parse: %v", s, fault.String(), err)
		}
		if again.Name != fault.Name || again.Value != fault.Value || again.p != fault.p {
			t.Errorf("%q -> %+v -> %+v", s, fault, again)
		}
		delay := fault.Name == FaultLatency || fault.Name == FaultSlowBody
		if delay && (fault.p.d > maxInjectedDelay || fault.p.dmax > maxInjectedDelay) {
			t.Errorf("%q: delay over the bound", s)
		}
	})
}

// FuzzParseDrift: the same for drift.
func FuzzParseDrift(f *testing.F) {
	for _, s := range []string{"drop-claim=recipientId", "reorder-claims", "alg=ES256", "rename-claim=a:b", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDrift(s)
		if err != nil {
			return
		}
		if _, err := ParseDrift(d.String()); err != nil {
			t.Fatalf("%q parsed as %q, which does not parse: %v", s, d.String(), err)
		}
	})
}
