package framework

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/results"
)

// tokenMembers are the response members whose JWT values are decoded for the
// report, with the target's contract for each kind.
var tokenMembers = []string{"access_token", "id_token", "refresh_token"}

// attachTokens decodes, for the report, the first JWT of each kind that the
// spec's exchanges returned, and checks its claims against the contract the
// target names for that kind. It only decodes (the specs verify), and it
// records claims and header, never the token.
func (f *Framework) attachTokens(exs []oauth.Exchange) {
	seen := map[string]bool{}
	for _, ex := range exs {
		var body map[string]any
		if json.Unmarshal([]byte(ex.ResponseBody), &body) != nil {
			continue
		}
		for _, kind := range tokenMembers {
			raw, _ := body[kind].(string)
			if raw == "" || seen[kind] {
				continue
			}
			// An opaque value, or not a compact JWS, is not shown.
			if f.attachToken(kind, ex.Name, raw, f.contractFor(kind)) {
				seen[kind] = true
			}
		}
	}
}

// AttachToken records, for the report, a JWT that did not come as a member
// of a JSON token response (the Akkess t1 token is an application/jwt
// body), with the contract it is checked against (nil for none). kind
// names it in the report; source is the exchange that returned it.
func (s *Spec) AttachToken(kind, source, raw string, ct *contract.Contract) {
	s.attachToken(kind, source, raw, ct)
}

// attachToken decodes raw and adds it as a token report entry, reporting
// whether raw was a JWT.
func (f *Framework) attachToken(kind, source, raw string, ct *contract.Contract) bool {
	header, claims, ok := decodeJWT(raw)
	if !ok {
		return false
	}
	tok := results.Token{Kind: kind, Source: source, Header: header, Claims: claims}
	if ct != nil {
		tok.Contract = contractCopy(ct)
		for _, fd := range ct.Check(claims) {
			tok.Findings = append(tok.Findings, results.Finding{Claim: fd.Claim, Level: string(fd.Level), Message: fd.Message})
		}
	}
	b, err := json.Marshal(tok)
	if err != nil {
		return true
	}
	ginkgo.AddReportEntry(EntryToken, f.Secrets.String(string(b)), ginkgo.ReportEntryVisibilityNever)
	return true
}

// contractFor returns the contract the target names for a token kind.
func (f *Framework) contractFor(kind string) *contract.Contract {
	var name string
	switch kind {
	case "access_token":
		name = f.Target.Contracts.AccessToken
	case "id_token":
		name = f.Target.Contracts.IDToken
	}
	if name == "" || f.Contracts == nil {
		return nil
	}
	ct, err := f.Contracts.Get(name)
	if err != nil {
		return nil
	}
	return ct
}

func contractCopy(ct *contract.Contract) *results.Contract {
	out := &results.Contract{Name: ct.Name, Source: ct.Source, Claims: map[string]results.ClaimRule{}}
	for name, r := range ct.Claims {
		presence := r.Presence
		if presence == "" {
			presence = contract.Optional
		}
		out.Claims[name] = results.ClaimRule{Type: string(r.Type), Presence: string(presence), Strict: r.Strict, MinLength: r.MinLength, MinEntropy: r.MinEntropy, Description: r.Description}
	}
	return out
}

// decodeJWT splits a compact JWS and decodes its header and payload as JSON
// objects, numbers kept exact. It verifies nothing.
func decodeJWT(raw string) (header, claims map[string]any, ok bool) {
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 {
		return nil, nil, false
	}
	header, ok = decodeSegment(parts[0])
	if !ok {
		return nil, nil, false
	}
	claims, ok = decodeSegment(parts[1])
	return header, claims, ok
}

func decodeSegment(seg string) (map[string]any, bool) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return nil, false
	}
	return m, true
}
