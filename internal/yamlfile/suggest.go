package yamlfile

import (
	"reflect"
	"regexp"
	"strings"
)

var unknownField = regexp.MustCompile(`^unknown field "([^"]+)"`)

// suggest adds "did you mean" to an unknown-field message when a known field
// name is close to the misspelt one.
func suggest(msg string, typ reflect.Type) string {
	m := unknownField.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	best, bestDist := "", 3 // more than two edits away is not a typo
	for _, f := range knownFields(typ) {
		if d := editDistance(m[1], f); d < bestDist {
			best, bestDist = f, d
		}
	}
	if best == "" {
		return msg
	}
	return msg + "; did you mean " + `"` + best + `"?`
}

// knownFields lists every YAML key of typ and its nested structs.
func knownFields(typ reflect.Type) []string {
	seen := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" || seen[name] {
				continue
			}
			seen[name] = true
			walk(f.Type)
		}
	}
	walk(typ)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	return out
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
