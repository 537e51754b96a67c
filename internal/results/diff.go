package results

import "time"

// KindDiff is the Run.Kind of a migration diff: Diff is filled, and each
// category of differences is also a spec, so JUnit and the summaries count
// what fails.
const KindDiff Kind = "diff"

// Diff is the comparison of two IdPs (or of one IdP with a baseline of
// itself): every difference classified breaking, warning, non-breaking or
// info, with the reason and the rule or document behind the class.
type Diff struct {
	Old DiffSide `json:"old"`
	New DiffSide `json:"new"`
	// FailOn is the least class that fails the run ("breaking" by default,
	// "none" never fails).
	FailOn string `json:"fail_on"`
	// Accept are the patterns of difference IDs the team accepted: shown,
	// never failing.
	Accept []string `json:"accept,omitempty"`
	// Differences are sorted by class (breaking first), then category.
	Differences []Difference `json:"differences"`
	Continuity  Continuity   `json:"continuity"`
	// Latency compares each operation measured on both sides.
	Latency []DiffLatency `json:"latency,omitempty"`
	// Gates are the latency gates relative to the old side.
	Gates  []DiffGate `json:"gates,omitempty"`
	Counts DiffCounts `json:"counts"`
	// Failed is set when a difference fails the policy.
	Failed bool `json:"failed"`
}

// Difference classes, most severe first.
const (
	ClassBreaking    = "breaking"
	ClassWarning     = "warning"
	ClassNonBreaking = "non-breaking"
	ClassInfo        = "info"
)

// DiffClasses lists the classes, most severe first.
var DiffClasses = []string{ClassBreaking, ClassWarning, ClassNonBreaking, ClassInfo}

// DiffSide describes one side of a diff.
type DiffSide struct {
	// Name is the target's name.
	Name string `json:"name"`
	// Source is "target" (captured live for this diff) or "baseline" (read
	// from a baseline file).
	Source string `json:"source"`
	// File is the target or baseline file given.
	File        string    `json:"file,omitempty"`
	CapturedAt  time.Time `json:"captured_at"`
	Tool        string    `json:"tool,omitempty"`
	MockProfile string    `json:"mock_profile,omitempty"`
	MockDrift   []string  `json:"mock_drift,omitempty"`
	// SubKeyID identifies the key of the side's keyed sub hashes.
	SubKeyID     string `json:"sub_key_id"`
	SubKeySource string `json:"sub_key_source"`
}

// Difference is one change between the sides.
type Difference struct {
	// ID is stable across runs ("claim/id_token.authorization_code.code/email"),
	// for --accept.
	ID    string `json:"id"`
	Class string `json:"class"`
	// Category groups differences: flow, claim, contract, signing, keys,
	// lifetime, error, metadata, continuity, latency.
	Category string `json:"category"`
	// Subject is what changed: "id_token from authorization_code (client
	// code)", "discovery metadata", "probe token.invalid_code".
	Subject string `json:"subject"`
	// Item is the claim, field, header or operation that changed.
	Item string `json:"item,omitempty"`
	// Change says what happened ("dropped", "string → string_array").
	Change string `json:"change"`
	// Old and New describe each side, never with a claim value.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Reason says why the change has its class; Rule names the rule or
	// document ("seed 000: new claims are non-breaking").
	Reason string `json:"reason"`
	Rule   string `json:"rule"`
	// Accepted is set when an --accept pattern matched.
	Accepted bool `json:"accepted,omitempty"`
	// Fails is set when the difference fails the run under FailOn.
	Fails bool `json:"fails,omitempty"`
}

// Continuity is the sub continuity check across the sides.
type Continuity struct {
	// Checked is set when the keyed hashes of both sides could be compared.
	Checked bool `json:"checked"`
	// Reason says why it could not be, or what was found.
	Reason string `json:"reason"`
	// Users counts the test users found on both sides; Same those whose sub
	// is unchanged, Changed those whose sub changed.
	Users   int `json:"users"`
	Same    int `json:"same"`
	Changed int `json:"changed"`
}

// DiffLatency compares one operation's latency, milliseconds.
type DiffLatency struct {
	Operation  string  `json:"operation"`
	OldSamples int     `json:"old_samples"`
	NewSamples int     `json:"new_samples"`
	OldP50     float64 `json:"old_p50_ms"`
	NewP50     float64 `json:"new_p50_ms"`
	OldP99     float64 `json:"old_p99_ms"`
	NewP99     float64 `json:"new_p99_ms"`
	// Ratio is new p99 over old p99 (0 when old p99 is 0).
	Ratio float64 `json:"ratio"`
}

// DiffGate is one latency gate judged on one operation.
type DiffGate struct {
	// Gate is the gate as written ("p99<=1.2x+5ms").
	Gate      string  `json:"gate"`
	Operation string  `json:"operation"`
	Old       float64 `json:"old_ms"`
	New       float64 `json:"new_ms"`
	// Limit is what New had to stay under: factor x Old + slack.
	Limit  float64 `json:"limit_ms"`
	Passed bool    `json:"passed"`
}

// DiffCounts tallies differences per class; Accepted counts those accepted.
type DiffCounts struct {
	Breaking    int `json:"breaking"`
	Warning     int `json:"warning"`
	NonBreaking int `json:"non_breaking"`
	Info        int `json:"info"`
	Accepted    int `json:"accepted"`
}

// Count tallies d.Differences into d.Counts.
func (d *Diff) Count() {
	var c DiffCounts
	for _, x := range d.Differences {
		switch x.Class {
		case ClassBreaking:
			c.Breaking++
		case ClassWarning:
			c.Warning++
		case ClassNonBreaking:
			c.NonBreaking++
		case ClassInfo:
			c.Info++
		}
		if x.Accepted {
			c.Accepted++
		}
	}
	d.Counts = c
}

func (d *Diff) redacted(red Redactor) *Diff {
	cp := *d
	// Every string passes, the enumerations too: cheaper than a list of
	// exemptions to keep true.
	cp.FailOn = red.String(d.FailOn)
	side := func(s DiffSide) DiffSide {
		s.Name, s.File, s.Tool, s.MockProfile = red.String(s.Name), red.String(s.File), red.String(s.Tool), red.String(s.MockProfile)
		s.Source, s.SubKeyID, s.SubKeySource = red.String(s.Source), red.String(s.SubKeyID), red.String(s.SubKeySource)
		s.MockDrift = redactAll(red, s.MockDrift)
		return s
	}
	cp.Old, cp.New = side(d.Old), side(d.New)
	cp.Accept = redactAll(red, d.Accept)
	cp.Differences = make([]Difference, len(d.Differences))
	for i, x := range d.Differences {
		x.ID, x.Class, x.Category = red.String(x.ID), red.String(x.Class), red.String(x.Category)
		x.Subject, x.Item, x.Change = red.String(x.Subject), red.String(x.Item), red.String(x.Change)
		x.Old, x.New, x.Reason, x.Rule = red.String(x.Old), red.String(x.New), red.String(x.Reason), red.String(x.Rule)
		cp.Differences[i] = x
	}
	cp.Continuity.Reason = red.String(d.Continuity.Reason)
	if d.Latency != nil {
		cp.Latency = make([]DiffLatency, len(d.Latency))
		for i, l := range d.Latency {
			l.Operation = red.String(l.Operation)
			cp.Latency[i] = l
		}
	}
	if d.Gates != nil {
		cp.Gates = make([]DiffGate, len(d.Gates))
		for i, g := range d.Gates {
			g.Gate, g.Operation = red.String(g.Gate), red.String(g.Operation)
			cp.Gates[i] = g
		}
	}
	return &cp
}
