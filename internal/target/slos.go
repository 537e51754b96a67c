package target

import "github.com/idpconform/idpconform/internal/slo"

// Objectives parses the target's SLOs. Load has validated them, so an error
// comes only from a Target built in code.
func (t *Target) Objectives() ([]slo.Objective, error) {
	return slo.ParseAll(t.SLOs)
}
