// Package redact keeps secret values out of everything idpconform writes.
//
// A run registers every secret it learns (client secrets resolved from the
// environment, passwords, and every code and token an IdP issues) with one
// Registry. Output sinks never see raw text: reports, logs and the terminal are
// wrapped by the Registry, which replaces each registered value, and anything
// shaped like a compact JWS, with a marker. Registration is cheap and happens
// where a value is learnt; replacement happens once, where output is written.
package redact

import (
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Marker replaces every secret in output.
const Marker = "[REDACTED]"

// minLen is the shortest value worth registering: shorter values (an empty
// secret, "1") would blank out ordinary words and numbers in reports.
const minLen = 4

// jwsShape matches three base64url segments separated by dots whose first
// segment decodes to a JSON object ("eyJ" is `{"` in base64url). It is defence
// in depth for tokens that reach output without being registered.
var jwsShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)

// Registry holds the secret values of one run. The zero value is not usable;
// call New. A Registry is safe for concurrent use.
type Registry struct {
	mu       sync.RWMutex
	values   map[string]struct{}
	replacer *strings.Replacer // rebuilt lazily after Add
}

// New returns an empty Registry.
func New() *Registry {
	return &Registry{values: map[string]struct{}{}}
}

// Add registers secret values. Values shorter than four bytes are ignored.
// Both the raw value and its form-encoded and JSON-escaped spellings are
// registered, because a secret travels in those shapes through request bodies
// and error messages.
func (r *Registry) Add(values ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		for _, form := range spellings(v) {
			if len(form) < minLen {
				continue
			}
			if _, ok := r.values[form]; !ok {
				r.values[form] = struct{}{}
				r.replacer = nil
			}
		}
	}
}

// Len reports how many distinct spellings are registered.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.values)
}

// Values returns a copy of the registered spellings, longest first. Tests use
// it to scan output for leaks.
func (r *Registry) Values() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.values))
	for v := range r.values {
		out = append(out, v)
	}
	sortLongestFirst(out)
	return out
}

// String returns s with every registered value and every JWS-shaped string
// replaced by Marker.
func (r *Registry) String(s string) string {
	if r == nil {
		return jwsShape.ReplaceAllString(s, Marker)
	}
	s = r.currentReplacer().Replace(s)
	return jwsShape.ReplaceAllString(s, Marker)
}

// Bytes is String for byte slices.
func (r *Registry) Bytes(b []byte) []byte {
	return []byte(r.String(string(b)))
}

func (r *Registry) currentReplacer() *strings.Replacer {
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep != nil {
		return rep
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replacer == nil {
		vals := make([]string, 0, len(r.values))
		for v := range r.values {
			vals = append(vals, v)
		}
		// Longest first, so a secret that contains another is replaced whole.
		sortLongestFirst(vals)
		pairs := make([]string, 0, 2*len(vals))
		for _, v := range vals {
			pairs = append(pairs, v, Marker)
		}
		r.replacer = strings.NewReplacer(pairs...)
	}
	return r.replacer
}

func sortLongestFirst(vals []string) {
	sort.Slice(vals, func(i, j int) bool {
		if len(vals[i]) != len(vals[j]) {
			return len(vals[i]) > len(vals[j])
		}
		return vals[i] < vals[j]
	})
}

// spellings lists the forms a value takes in HTTP bodies, URLs and JSON.
func spellings(v string) []string {
	forms := []string{v}
	if q := queryEscape(v); q != v {
		forms = append(forms, q)
	}
	if j := jsonEscape(v); j != v {
		forms = append(forms, j)
	}
	return forms
}

// Writer returns an io.Writer that redacts whatever is written through it
// before passing it to w. Each Write is redacted on its own, so callers must
// write whole lines or documents (every writer in idpconform does): a secret
// split across two Writes would not be recognised.
func (r *Registry) Writer(w io.Writer) io.Writer {
	return &writer{reg: r, w: w}
}

type writer struct {
	reg *Registry
	w   io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	if _, err := w.w.Write(w.reg.Bytes(p)); err != nil {
		return 0, err
	}
	// Report the caller's length: the redacted text may be shorter or longer.
	return len(p), nil
}
