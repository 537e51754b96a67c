package framework

import (
	"context"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/extensions/globals"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/target"
)

func TestRegistrationErrors(t *testing.T) {
	globals.Reset()
	defer globals.Reset()
	f := New(&target.Target{Name: "t"}, redact.New(), nil)
	body := func(context.Context, *Spec) {}
	f.It("good spec", Requirement{Label: LabelDiscovery, Ref: "RFC 8414 §2", Severity: MUST}, body)
	if err := f.RegistrationErrors(); err != nil {
		t.Fatalf("good spec refused: %v", err)
	}
	f.It("vendor own label", Requirement{Label: LabelAkoya, Ref: "x", Severity: MUST}, body)
	if err := f.RegistrationErrors(); err != nil {
		t.Fatalf("a vendor's own spec refused: %v", err)
	}
	f.It("typo label", Requirement{Label: "discovry", Ref: "x", Severity: MUST}, body)
	f.It("scenario as vendor", Requirement{Label: LabelRefresh, Vendors: []Label{LabelExpiry}, Ref: "x", Severity: MUST}, body)
	f.It("no ref", Requirement{Label: LabelDiscovery, Severity: MUST}, body)
	f.It("bad severity", Requirement{Label: LabelDiscovery, Ref: "x", Severity: "MAY"}, body)
	f.It("tagged [Conformance]", Requirement{Label: LabelDiscovery, Ref: "x", Severity: MUST}, body)
	f.It("bad vendor", Requirement{Label: LabelDiscovery, Vendors: []Label{"okta"}, Ref: "x", Severity: MUST}, body)
	err := f.RegistrationErrors()
	if err == nil {
		t.Fatal("bad specs accepted")
	}
	for _, want := range []string{`unknown label "discovry"`, "Vendors holds vendor labels other than", "no requirement reference",
		`severity "MAY"`, "not [tags] in the text", `unknown label "okta"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	if _, ok := f.Lookup("nowhere", "good spec"); ok {
		t.Error("lookup by wrong location succeeded")
	}
}
