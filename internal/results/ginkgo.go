package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// RootContainer is the text of the container that holds every spec; it is
// left out of spec names.
const RootContainer = "idpconform"

// FromGinkgo turns a Ginkgo suite report into specs. Only It nodes are
// specs; a failed suite-level node (BeforeSuite, timeout, interrupt) is
// recorded as SuiteFailure.
//
// lookup gives the requirement and severity a spec was registered with,
// from its location and text.
func FromGinkgo(rep types.Report, lookup func(location, text string) (requirement, severity string)) ([]Spec, string) {
	var specs []Spec
	var suiteFailures []string
	for _, sr := range rep.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			if sr.State.Is(types.SpecStateFailureStates) {
				suiteFailures = append(suiteFailures, sr.LeafNodeType.String()+": "+sr.Failure.Message)
			}
			continue
		}
		s := fromSpec(sr)
		if lookup != nil {
			s.Requirement, s.Severity = lookup(sr.LeafNodeLocation.String(), sr.LeafNodeText)
		}
		specs = append(specs, s)
	}
	if len(rep.SpecialSuiteFailureReasons) > 0 {
		suiteFailures = append(suiteFailures, rep.SpecialSuiteFailureReasons...)
	}
	return specs, strings.Join(suiteFailures, "; ")
}

func fromSpec(sr types.SpecReport) Spec {
	containers := sr.ContainerHierarchyTexts
	if len(containers) > 0 && containers[0] == RootContainer {
		containers = containers[1:]
	}
	name := strings.Join(append(append([]string{}, containers...), sr.LeafNodeText), " ")
	s := Spec{
		Name:     name,
		Labels:   sr.Labels(),
		Output:   sr.CapturedGinkgoWriterOutput,
		Duration: sr.RunTime,
	}
	if len(s.Labels) > 0 {
		s.Scenario = s.Labels[0]
	}
	for _, e := range sr.ReportEntries {
		v := e.StringRepresentation()
		switch e.Name {
		case EntryWarning:
			s.Warnings = append(s.Warnings, v)
		case EntryInfo:
			s.Info = append(s.Info, v)
		case EntryEvidence:
			var ev []Exchange
			if err := json.Unmarshal([]byte(v), &ev); err != nil {
				s.Info = append(s.Info, fmt.Sprintf("evidence could not be read back (%v); it is left out", err))
				continue
			}
			s.Evidence = append(s.Evidence, ev...)
		case EntryToken:
			tok, err := decodeToken(v)
			if err != nil {
				s.Info = append(s.Info, fmt.Sprintf("a decoded token could not be read back (%v); it is left out", err))
				continue
			}
			s.Tokens = append(s.Tokens, tok)
		}
	}
	switch sr.State {
	case types.SpecStatePassed:
		s.State = Passed
	case types.SpecStateSkipped, types.SpecStatePending:
		s.State = Skipped
		s.SkipReason = sr.Failure.Message
		if s.SkipReason == "" {
			s.SkipReason = "not selected by the label filter or focus"
		}
	default:
		s.State = Failed
		s.Failure = sr.Failure.Message
		if sr.Failure.Message == "" {
			s.Failure = sr.State.String()
		}
		s.Location = sr.Failure.Location.String()
	}
	return s
}

// decodeToken reads a Token entry, keeping claim numbers exact.
func decodeToken(v string) (Token, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	dec.UseNumber()
	var t Token
	err := dec.Decode(&t)
	return t, err
}
