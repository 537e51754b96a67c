package results

import "encoding/json"

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
	cp.Target = Target{
		Name:        red.String(r.Target.Name),
		Issuer:      red.String(r.Target.Issuer),
		MockProfile: red.String(r.Target.MockProfile),
		File:        red.String(r.Target.File),
	}
	cp.SuiteFailure = red.String(r.SuiteFailure)
	cp.LabelFilter = red.String(r.LabelFilter)
	cp.Focus = redactAll(red, r.Focus)
	cp.Notes = redactAll(red, r.Notes)
	if r.Diff != nil {
		cp.Diff = r.Diff.redacted(red)
	}
	cp.Specs = make([]Spec, len(r.Specs))
	for i, s := range r.Specs {
		s.Name = red.String(s.Name)
		s.Failure = red.String(s.Failure)
		s.Location = red.String(s.Location)
		s.SkipReason = red.String(s.SkipReason)
		s.Expected = red.String(s.Expected)
		s.Warnings = redactAll(red, s.Warnings)
		s.Info = redactAll(red, s.Info)
		s.Output = red.String(s.Output)
		if s.Evidence != nil {
			ev := make([]Exchange, len(s.Evidence))
			for j, ex := range s.Evidence {
				ev[j] = ex.redacted(red)
			}
			s.Evidence = ev
		}
		if s.Tokens != nil {
			toks := make([]Token, len(s.Tokens))
			for j, t := range s.Tokens {
				toks[j] = t.redacted(red)
			}
			s.Tokens = toks
		}
		cp.Specs[i] = s
	}
	cp.Load = r.Load.Redacted(red)
	return &cp
}

func (ex Exchange) redacted(red Redactor) Exchange {
	ex.Name = red.String(ex.Name)
	ex.URL = red.String(ex.URL)
	ex.RequestHeader = redactHeader(red, ex.RequestHeader)
	ex.RequestBody = red.String(ex.RequestBody)
	ex.ResponseHeader = redactHeader(red, ex.ResponseHeader)
	ex.ResponseBody = red.String(ex.ResponseBody)
	ex.Error = red.String(ex.Error)
	return ex
}

func (t Token) redacted(red Redactor) Token {
	t.Kind = red.String(t.Kind)
	t.Source = red.String(t.Source)
	t.Header = redactObject(red, t.Header)
	t.Claims = redactObject(red, t.Claims)
	if t.Findings != nil {
		fs := make([]Finding, len(t.Findings))
		for i, f := range t.Findings {
			fs[i] = Finding{Claim: red.String(f.Claim), Level: f.Level, Message: red.String(f.Message)}
		}
		t.Findings = fs
	}
	// Contract rules come from the contract file, not from the IdP.
	return t
}

func redactHeader(red Redactor, h map[string][]string) map[string][]string {
	if h == nil {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		out[red.String(k)] = redactAll(red, vs)
	}
	return out
}

func redactObject(red Redactor, m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[red.String(k)] = redactValue(red, v)
	}
	return out
}

// redactValue walks a decoded JSON value; only strings can hold a secret
// (json.Number is a string type, but a number).
func redactValue(red Redactor, v any) any {
	switch x := v.(type) {
	case string:
		return red.String(x)
	case json.Number:
		return x
	case map[string]any:
		return redactObject(red, x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(red, e)
		}
		return out
	default:
		return v
	}
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
