package redact

import (
	"fmt"
	"log/slog"
)

// Secret holds a value that must never be printed. Every formatting path
// (fmt verbs, JSON, text marshalling, slog and Gomega's failure messages)
// prints Marker; Reveal returns the value for the one place that needs it,
// the HTTP request.
type Secret struct{ v string }

// NewSecret wraps v.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) String() string   { return Marker }
func (s Secret) GoString() string { return Marker }

// Format prints Marker for every verb, including %#v and %q.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Marker)) }

func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Marker + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(Marker), nil }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(Marker) }

// GomegaString keeps the value out of Gomega failure messages.
func (s Secret) GomegaString() string { return Marker }
