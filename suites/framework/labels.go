package framework

import (
	"fmt"
	"slices"
	"strings"

	"github.com/idpconform/idpconform/internal/results"
)

// Label selects a scenario with Ginkgo's label filter. The set is frozen
// here: a spec naming any other label is a registration error, so a typo can
// never create a scenario that no filter selects.
type Label string

const (
	LabelDiscovery         Label = "discovery"
	LabelClientCredentials Label = "client-credentials"
	LabelAuthCode          Label = "authcode"
	LabelRefresh           Label = "refresh"
	LabelIntrospection     Label = "introspection"
	LabelRevocation        Label = "revocation"
	LabelExpiry            Label = "expiry"
	LabelSecurity          Label = "security"
	LabelAkoya             Label = "akoya"
	LabelAkkess            Label = "akkess"
	LabelNextIdentity      Label = "nextidentity"
)

// Labels is the frozen label registry.
var Labels = []Label{
	LabelDiscovery, LabelClientCredentials, LabelAuthCode, LabelRefresh, LabelIntrospection,
	LabelRevocation, LabelExpiry, LabelSecurity, LabelAkoya, LabelAkkess, LabelNextIdentity,
}

// Scenarios are the labels that name a protocol scenario. Every spec has one
// label of its own (Requirement.Label): a scenario, or a vendor label for a
// vendor's own flow (the Akkess token exchange); vendor labels may be added
// beside a scenario (Requirement.Vendors).
var Scenarios = []Label{
	LabelDiscovery, LabelClientCredentials, LabelAuthCode, LabelRefresh, LabelIntrospection,
	LabelRevocation, LabelExpiry, LabelSecurity,
}

func checkLabel(l Label) error {
	if !slices.Contains(Labels, l) {
		return fmt.Errorf("unknown label %q; registered labels: %s", l, joinLabels(Labels))
	}
	return nil
}

func joinLabels(ls []Label) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}

// Severity grades a requirement, as the OpenID conformance suite does.
type Severity string

const (
	// MUST: a failure fails the run.
	MUST Severity = "MUST"
	// SHOULD: a failure is reported as a warning; the spec passes.
	SHOULD Severity = "SHOULD"
	// INFO: only reported.
	INFO Severity = "INFO"
)

// Report entry names, shared with the results model that reads them.
const (
	EntryWarning  = results.EntryWarning
	EntryEvidence = results.EntryEvidence
	EntryInfo     = results.EntryInfo
	EntryToken    = results.EntryToken
)
