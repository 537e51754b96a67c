package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/target"
)

// Requirement is what a spec checks: the rule, where it is written, how much
// it matters, and what the target must support for the spec to apply.
type Requirement struct {
	// Label is the scenario.
	Label Label
	// Vendors are extra vendor labels (akoya, akkess, nextidentity).
	Vendors []Label
	// Ref is where the rule is written: "RFC 6749 §5.1", "OIDC Core
	// §3.1.3.7", or a vendor document.
	Ref string
	// Severity is MUST, SHOULD or INFO.
	Severity Severity
	// Needs lists capabilities the target must declare; otherwise the spec
	// is skipped with the reason.
	Needs []target.Capability
}

// vendorLabels returns the vendor labels of the requirement: its own label
// when that is a vendor, and its Vendors.
func (r Requirement) vendorLabels() []Label {
	var out []Label
	if !slices.Contains(Scenarios, r.Label) {
		out = append(out, r.Label)
	}
	return append(out, r.Vendors...)
}

// Spec is what a spec body gets: the framework and its own recorder and
// client, so that every spec's evidence is its own.
type Spec struct {
	*Framework
	Req      Requirement
	Recorder *oauth.Recorder
	Client   *oauth.Client
}

// It registers one spec. Document the rule in a comment above the call
// (Requirement, Description); the text says what is checked, in words a
// reader of the report understands.
func (f *Framework) It(text string, req Requirement, body func(ctx context.Context, s *Spec)) {
	var labels []string
	if err := checkLabel(req.Label); err != nil {
		f.regError(fmt.Errorf("spec %q: %w", text, err))
	}
	if slices.Contains(req.Vendors, req.Label) || slices.ContainsFunc(req.Vendors, func(v Label) bool { return slices.Contains(Scenarios, v) }) {
		f.regError(fmt.Errorf("spec %q: Vendors holds vendor labels other than the spec's own label", text))
	}
	labels = append(labels, string(req.Label))
	for _, v := range req.Vendors {
		if err := checkLabel(v); err != nil {
			f.regError(fmt.Errorf("spec %q: %w", text, err))
		}
		labels = append(labels, string(v))
	}
	if req.Ref == "" {
		f.regError(fmt.Errorf("spec %q: no requirement reference", text))
	}
	if !slices.Contains([]Severity{MUST, SHOULD, INFO}, req.Severity) {
		f.regError(fmt.Errorf("spec %q: severity %q is not MUST, SHOULD or INFO", text, req.Severity))
	}
	if strings.ContainsAny(text, "[]") {
		f.regError(fmt.Errorf("spec %q: put labels in Requirement, not [tags] in the text", text))
	}
	loc := types.NewCodeLocation(1)
	f.mu.Lock()
	f.catalogue[CatalogueKey(loc.String(), text)] = req
	f.entries = append(f.entries, Entry{Text: text, Requirement: req, labels: labels, location: loc, body: body})
	f.mu.Unlock()
}

// Build declares the registered specs to Ginkgo, one container per
// scenario. It must run inside a Ginkgo container body (Register does this);
// registration itself runs eagerly, so the catalogue and registration
// errors are known before Ginkgo builds its tree.
func (f *Framework) Build() {
	for _, sc := range Labels {
		var specs []Entry
		for _, e := range f.Entries() {
			if e.Label == sc {
				specs = append(specs, e)
			}
		}
		if len(specs) == 0 {
			continue
		}
		ginkgo.Describe(string(sc), func() {
			for _, e := range specs {
				ginkgo.It(e.Text, ginkgo.Label(e.labels...), e.location, func(ctx ginkgo.SpecContext) {
					f.run(ctx, e.Requirement, e.body)
				})
			}
		})
	}
}

// CatalogueKey identifies a spec by where it was registered and its text
// (specs made in a loop share a location, never a text).
func CatalogueKey(location, text string) string { return location + "|" + text }

// Entry is one registered spec.
type Entry struct {
	Text string
	Requirement

	labels   []string
	location types.CodeLocation
	body     func(context.Context, *Spec)
}

// Location is where the spec was registered (file and line of the It call).
func (e Entry) Location() (file string, line int) { return e.location.FileName, e.location.LineNumber }

// Entries returns the registered specs in registration order.
func (f *Framework) Entries() []Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Entry(nil), f.entries...)
}

// Lookup returns the requirement a spec was registered with.
func (f *Framework) Lookup(location, text string) (Requirement, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.catalogue[CatalogueKey(location, text)]
	return r, ok
}

func (f *Framework) run(ctx ginkgo.SpecContext, req Requirement, body func(context.Context, *Spec)) {
	for _, v := range req.vendorLabels() {
		if !f.Target.HasVendor(string(v)) {
			ginkgo.Skip(fmt.Sprintf("a %s rule: target %s does not list %s under vendors", v, f.Target.Name, v))
		}
	}
	for _, c := range req.Needs {
		if !f.Target.Has(c) {
			ginkgo.Skip(fmt.Sprintf("target %s does not declare capability %q", f.Target.Name, c))
		}
	}
	rec := oauth.NewRecorder()
	s := &Spec{Framework: f, Req: req, Recorder: rec, Client: f.OAuth.WithRecorder(rec)}
	ginkgo.DeferCleanup(func() { f.attachEvidence(rec) })

	f.mu.Lock()
	f.current = &req
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.current = nil
		f.mu.Unlock()
	}()

	if req.Severity == MUST {
		body(ctx, s)
		return
	}
	// SHOULD and INFO: the first failed expectation becomes a warning and the
	// spec passes; the run's verdict does not depend on it.
	if err := gomega.InterceptGomegaFailure(func() { body(ctx, s) }); err != nil {
		msg := fmt.Sprintf("%s (%s): %s", req.Ref, req.Severity, err.Error())
		ginkgo.AddReportEntry(EntryWarning, msg, ginkgo.ReportEntryVisibilityAlways)
	}
}

// FailHandler is registered with Gomega for the run: it prefixes every MUST
// failure with the requirement, so the failure line names the rule broken.
func (f *Framework) FailHandler(message string, callerSkip ...int) {
	skip := 1
	if len(callerSkip) > 0 {
		skip += callerSkip[0]
	}
	f.mu.Lock()
	cur := f.current
	f.mu.Unlock()
	if cur != nil {
		message = fmt.Sprintf("%s (%s): %s", cur.Ref, cur.Severity, message)
	}
	ginkgo.Fail(message, skip)
}

// attachEvidence keeps the spec's exchanges: as a report entry (redacted when
// reports are written), with the tokens they returned decoded, and, when the
// spec failed, as readable HTTP on the GinkgoWriter through the redactor.
func (f *Framework) attachEvidence(rec *oauth.Recorder) {
	exs := rec.Exchanges()
	if len(exs) == 0 {
		return
	}
	b, err := json.Marshal(exs)
	if err == nil {
		ginkgo.AddReportEntry(EntryEvidence, f.Secrets.String(string(b)), ginkgo.ReportEntryVisibilityNever)
	}
	f.attachTokens(exs)
	if ginkgo.CurrentSpecReport().Failed() {
		_ = rec.Dump(f.Secrets.Writer(ginkgo.GinkgoWriter))
	}
}

// Info records a fact about the target for the report (INFO level).
func (s *Spec) Info(format string, args ...any) {
	ginkgo.AddReportEntry(EntryInfo, s.Secrets.String(fmt.Sprintf(format, args...)), ginkgo.ReportEntryVisibilityFailureOrVerbose)
}

// Endpoint returns the named endpoint URL or fails the spec saying why it is
// unknown.
func (s *Spec) Endpoint(name string) string {
	var v string
	switch name {
	case "token":
		v = s.Endpoints.Token
	case "jwks":
		v = s.Endpoints.JWKS
	case "authorization":
		v = s.Endpoints.Authorization
	case "introspection":
		v = s.Endpoints.Introspection
	case "revocation":
		v = s.Endpoints.Revocation
	case "userinfo":
		v = s.Endpoints.Userinfo
	case "data":
		v = s.Endpoints.Data
	case "akkess_tokens":
		if s.Target.Akkess != nil {
			v, _ = s.Target.Akkess.URL(s.Issuer)
		}
	}
	if v == "" {
		why := "discovery did not name it and the target sets no endpoints." + name
		if s.DiscoveryErr != nil {
			why = "discovery failed: " + s.DiscoveryErr.Error()
		}
		ginkgo.Fail(fmt.Sprintf("%s (%s): no %s endpoint: %s", s.Req.Ref, s.Req.Severity, name, s.Secrets.String(why)), 1)
	}
	return v
}

// ClientFor returns the target's first client registered for g, or skips the
// spec when the target has none.
func (s *Spec) ClientFor(g target.Grant) target.Client {
	c, ok := s.Target.ClientFor(g)
	if !ok {
		ginkgo.Skip(fmt.Sprintf("target %s declares no client with grant %s", s.Target.Name, g))
	}
	return c
}

// Credentials converts a target client into oauth credentials.
func Credentials(c target.Client) oauth.Credentials {
	cred := oauth.Credentials{ID: c.ID, Secret: c.Secret.Reveal(), Method: oauth.AuthMethod(c.AuthMethod), Certificate: c.Certificate()}
	if k := c.AssertionSigner(); k != nil {
		cred.AssertionKey = &oauth.AssertionKey{Key: k, KeyID: c.KeyID, Alg: c.AssertionAlg}
	}
	return cred
}
