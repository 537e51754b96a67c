package results

// Redactor replaces secrets in text. *redact.Registry implements it.
type Redactor interface {
	String(s string) string
}

// Redacted returns a copy of r with every free-text field passed through
// red. Writers call it before encoding, because an encoder's escaping (XML
// entities, JSON escapes) could otherwise spell a secret in a form a byte
// filter does not recognise.
func (r *Run) Redacted(red Redactor) *Run {
	cp := *r
	cp.Target.Issuer = red.String(r.Target.Issuer)
	cp.SuiteFailure = red.String(r.SuiteFailure)
	cp.Focus = redactAll(red, r.Focus)
	cp.Notes = redactAll(red, r.Notes)
	cp.Specs = make([]Spec, len(r.Specs))
	for i, s := range r.Specs {
		s.Name = red.String(s.Name)
		s.Failure = red.String(s.Failure)
		s.SkipReason = red.String(s.SkipReason)
		s.Expected = red.String(s.Expected)
		s.Warnings = redactAll(red, s.Warnings)
		s.Info = redactAll(red, s.Info)
		s.Output = red.String(s.Output)
		if len(s.Evidence) > 0 {
			s.Evidence = []byte(red.String(string(s.Evidence)))
		}
		cp.Specs[i] = s
	}
	return &cp
}

func redactAll(red Redactor, in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = red.String(s)
	}
	return out
}
