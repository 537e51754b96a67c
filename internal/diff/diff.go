// Package diff compares two baselines of an IdP (the one clients use today
// and the one they migrate to) and classifies every difference:
//
//   - breaking: a client relying on the old side's contract breaks (a
//     mandatory claim dropped, a type changed, a new forbidden claim, an
//     unstable sub, a signing algorithm or error code changed, a key dropped
//     while its tokens live, a failed latency gate);
//   - warning: tolerated by the contract, but a client may notice (an
//     optional claim dropped, a shorter token lifetime);
//   - non-breaking: a change clients must tolerate (seed 000: new claims,
//     reordered claims, another length or format of opaque strings; aud as
//     a string or an array holding the client);
//   - info: worth knowing, nothing to tolerate (another kid, an error
//     description reworded).
//
// Each difference names the rule or document behind its class. The old
// side's contract says what clients rely on; the new side's contract adds
// what the new IdP promises.
package diff

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/results"
)

// Options set the policy of a comparison.
type Options struct {
	// FailOn is the least class that fails: breaking (default), warning,
	// non-breaking, info, or none.
	FailOn string
	// Accept lists patterns (path.Match syntax) of difference IDs that do
	// not fail whatever their class.
	Accept []string
	// Gates are latency gates relative to the old side.
	Gates []Gate
	// Defaults are the contracts, by contract kind, that govern a claim
	// when neither side's target names a contract for its kind (the CLI
	// passes the bundled standard ones: oidc-core-id-token,
	// rfc9068-access-token, rfc7662-introspection, rfc6749-token-response).
	Defaults map[string]*contract.Contract
	// OldFile and NewFile name where each side came from; OldLive and
	// NewLive say it was captured for this diff (a target file) rather than
	// read (a baseline file).
	OldFile, NewFile string
	OldLive, NewLive bool
}

// FailNone never fails a run.
const FailNone = "none"

// ParseFailOn checks a --fail-on value.
func ParseFailOn(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return results.ClassBreaking, nil
	}
	if s == FailNone || slices.Contains(results.DiffClasses, s) {
		return s, nil
	}
	return "", fmt.Errorf("--fail-on %q: expected one of %s or %s", s, strings.Join(results.DiffClasses, ", "), FailNone)
}

// CheckAccept checks --accept patterns.
func CheckAccept(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("--accept %q: %w", p, err)
		}
	}
	return nil
}

// Compare classifies every difference from old to new.
func Compare(old, new *baseline.Baseline, o Options) (*results.Diff, error) {
	failOn, err := ParseFailOn(o.FailOn)
	if err != nil {
		return nil, err
	}
	if err := CheckAccept(o.Accept); err != nil {
		return nil, err
	}
	c := &comparer{old: old, new: new, defaults: o.Defaults}
	c.flows()
	c.shapes()
	c.probes()
	c.metadata()
	c.keys()
	c.continuity()
	c.latency(o.Gates)

	d := &results.Diff{
		Old: side(old, o.OldFile, o.OldLive), New: side(new, o.NewFile, o.NewLive),
		FailOn: failOn, Accept: o.Accept, Differences: c.out, Continuity: c.cont, Latency: c.lat, Gates: c.gates,
	}
	if d.Differences == nil {
		d.Differences = []results.Difference{}
	}
	for i := range d.Differences {
		x := &d.Differences[i]
		for _, p := range o.Accept {
			if ok, _ := path.Match(p, x.ID); ok {
				x.Accepted = true
			}
		}
		x.Fails = !x.Accepted && fails(x.Class, failOn)
		d.Failed = d.Failed || x.Fails
	}
	sort.SliceStable(d.Differences, func(i, j int) bool {
		a, b := d.Differences[i], d.Differences[j]
		if ra, rb := rank(a.Class), rank(b.Class); ra != rb {
			return ra < rb
		}
		if a.Category != b.Category {
			return categoryRank(a.Category) < categoryRank(b.Category)
		}
		return a.ID < b.ID
	})
	d.Count()
	return d, nil
}

func side(b *baseline.Baseline, file string, live bool) results.DiffSide {
	s := results.DiffSide{Name: b.Target.Name, Source: "baseline", File: file, CapturedAt: b.CapturedAt, Tool: b.Tool,
		MockProfile: b.Target.MockProfile, MockDrift: b.Target.MockDrift, SubKeyID: b.SubKey.ID, SubKeySource: b.SubKey.Source}
	if live {
		s.Source = "target"
	}
	return s
}

func rank(class string) int {
	if i := slices.Index(results.DiffClasses, class); i >= 0 {
		return i
	}
	return len(results.DiffClasses)
}

// fails reports whether class is at least as severe as failOn.
func fails(class, failOn string) bool {
	if failOn == FailNone {
		return false
	}
	return rank(class) <= rank(failOn)
}

// Categories, in the order reports list them.
const (
	CatFlow       = "flow"
	CatClaim      = "claim"
	CatContract   = "contract"
	CatSigning    = "signing"
	CatKeys       = "keys"
	CatLifetime   = "lifetime"
	CatError      = "error"
	CatMetadata   = "metadata"
	CatContinuity = "continuity"
	CatLatency    = "latency"
)

// Categories lists every category.
var Categories = []string{CatFlow, CatClaim, CatContract, CatSigning, CatKeys, CatLifetime, CatError, CatMetadata, CatContinuity, CatLatency}

func categoryRank(c string) int {
	if i := slices.Index(Categories, c); i >= 0 {
		return i
	}
	return len(Categories)
}

// comparer collects the differences of one comparison.
type comparer struct {
	old, new *baseline.Baseline
	defaults map[string]*contract.Contract
	out      []results.Difference
	cont     results.Continuity
	lat      []results.DiffLatency
	gates    []results.DiffGate
}

// add records a difference under the ID category/key.../item. Two
// differences of one ID would make --accept ambiguous: the more severe one
// stays and takes the other's reason.
func (c *comparer) add(d results.Difference, key ...string) {
	parts := append([]string{d.Category}, key...)
	if d.Item != "" {
		parts = append(parts, d.Item)
	}
	// IDs are typed on command lines: no white space.
	d.ID = strings.Join(strings.Fields(strings.Join(parts, "/")), "_")
	for i := range c.out {
		if c.out[i].ID != d.ID {
			continue
		}
		if rank(d.Class) < rank(c.out[i].Class) {
			d.Reason += "; also: " + c.out[i].Reason
			c.out[i] = d
		} else {
			c.out[i].Reason += "; also: " + d.Reason
		}
		return
	}
	c.out = append(c.out, d)
}

// has reports whether a difference at least as severe as class is filed
// for the subject's item.
func (c *comparer) has(subject, item, class string) bool {
	for _, d := range c.out {
		if d.Subject == subject && d.Item == item && rank(d.Class) <= rank(class) {
			return true
		}
	}
	return false
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
