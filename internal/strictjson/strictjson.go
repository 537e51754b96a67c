// Package strictjson finds what encoding/json forgives in a JSON text: bytes
// that are not UTF-8 (json.Unmarshal silently turns them into U+FFFD) and
// member names repeated within one object (json.Unmarshal silently keeps the
// last). A conformance tool must see both: RFC 8259 §8.1 requires UTF-8
// between systems, RFC 6749 §3.2 forbids a response parameter twice, and
// RFC 7515 §4 / RFC 7519 §4 require unique header and claim names, because
// two parsers that resolve a duplicate differently read two different tokens.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is one defect of a JSON text.
type Problem struct {
	// Path locates the defect: "$" is the document, "$.a.b" a member,
	// "$.keys[3]" an array element.
	Path string
	// Msg says what is wrong, naming the member but never its value (values
	// may be secrets).
	Msg string
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// MaxProblems bounds the problems reported for one text: a hostile document
// can repeat a name a million times, and the first few say all there is.
const MaxProblems = 10

// Check returns the defects of data that json.Unmarshal would hide: invalid
// UTF-8 and duplicate member names at any depth. It does not judge syntax:
// a text json.Unmarshal refuses gets at most one Problem ("not valid JSON")
// so that callers can use Check before or after decoding. Time and memory
// are linear in len(data); a clean text costs no allocation beyond the
// per-depth name lists.
func Check(data []byte) []Problem {
	var out []Problem
	if !utf8.Valid(data) {
		out = append(out, Problem{Path: "$", Msg: fmt.Sprintf("not UTF-8: invalid byte sequence at offset %d (RFC 8259 §8.1)", invalidAt(data))})
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if err == nil {
			err = errors.New("invalid")
		}
		return append(out, Problem{Path: "$", Msg: "not valid JSON: " + err.Error()})
	}
	sc := scanner{data: data}
	sc.value()
	return append(out, sc.problems...)
}

// Duplicates returns only the duplicate-name problems of Check, for callers
// that report encoding problems on their own.
func Duplicates(data []byte) []Problem {
	var out []Problem
	for _, p := range Check(data) {
		if strings.HasPrefix(p.Msg, dupPrefix) {
			out = append(out, p)
		}
	}
	return out
}

const dupPrefix = "duplicate member "

// Strings formats problems one per element.
func Strings(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// scanner walks a text json.Valid accepted, recording repeated member
// names. It keeps the path as segments and spells it only for a problem,
// and reuses its per-depth name lists, so a clean text allocates little.
type scanner struct {
	data     []byte
	i        int
	path     []segment
	names    [][][]byte // member names of the open objects, per depth
	problems []Problem
	stop     bool // MaxProblems reached
}

type segment struct {
	name  []byte
	index int // -1 for a member
}

// largeObject is where name lookups switch from a scan to a map.
const largeObject = 32

func (s *scanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *scanner) ws() {
	for {
		switch s.peek() {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value() {
	s.ws()
	switch s.peek() {
	case '{':
		s.object()
	case '[':
		s.i++
		s.ws()
		if s.peek() == ']' {
			s.i++
			return
		}
		for n := 0; !s.stop && s.i < len(s.data); n++ {
			s.path = append(s.path, segment{index: n})
			s.value()
			s.path = s.path[:len(s.path)-1]
			s.ws()
			if s.peek() != ',' {
				s.i++ // ']'
				return
			}
			s.i++
		}
	case '"':
		s.str()
	default:
		for s.i < len(s.data) && !strings.ContainsRune(",]} \t\n\r", rune(s.data[s.i])) {
			s.i++
		}
	}
}

// str skips a string and returns its raw contents (escapes kept).
func (s *scanner) str() []byte {
	s.i++ // opening quote
	start := s.i
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case '\\':
			s.i += 2
			continue
		case '"':
			raw := s.data[start:s.i]
			s.i++
			return raw
		}
		s.i++
	}
	return s.data[start:]
}

func (s *scanner) object() {
	s.i++ // '{'
	depth := len(s.names)
	if depth < cap(s.names) {
		s.names = s.names[:depth+1]
		s.names[depth] = s.names[depth][:0]
	} else {
		s.names = append(s.names, nil)
	}
	defer func() { s.names = s.names[:depth] }()
	var set map[string]struct{}
	s.ws()
	if s.peek() == '}' {
		s.i++
		return
	}
	for !s.stop && s.i < len(s.data) {
		s.ws()
		name := s.str()
		if bytes.IndexByte(name, '\\') >= 0 {
			// Escapes spell one name many ways ("s\u0075b" is "sub").
			var u string
			if json.Unmarshal(append(append([]byte{'"'}, name...), '"'), &u) == nil {
				name = []byte(u)
			}
		}
		seen := false
		if set != nil {
			_, seen = set[string(name)]
			set[string(name)] = struct{}{}
		} else {
			for _, n := range s.names[depth] {
				if bytes.Equal(n, name) {
					seen = true
					break
				}
			}
			s.names[depth] = append(s.names[depth], name)
			if len(s.names[depth]) > largeObject {
				set = make(map[string]struct{}, 2*largeObject)
				for _, n := range s.names[depth] {
					set[string(n)] = struct{}{}
				}
			}
		}
		if seen {
			s.problems = append(s.problems, Problem{Path: s.spell(name), Msg: dupPrefix + strconv.Quote(string(name)) + " (a parser may keep either value)"})
			s.stop = len(s.problems) >= MaxProblems
		}
		s.ws()
		s.i++ // ':'
		s.path = append(s.path, segment{name: name, index: -1})
		s.value()
		s.path = s.path[:len(s.path)-1]
		s.ws()
		if s.peek() != ',' {
			s.i++ // '}'
			return
		}
		s.i++
	}
}

// spell renders the current path with one more member.
func (s *scanner) spell(member []byte) string {
	p := "$"
	for _, seg := range s.path {
		if seg.index >= 0 {
			p += "[" + strconv.Itoa(seg.index) + "]"
		} else {
			p = memberPath(p, string(seg.name))
		}
	}
	return memberPath(p, string(member))
}

// memberPath appends a member name in the dotted form for plain names and
// the bracketed form for anything else.
func memberPath(path, name string) string {
	plain := name != ""
	for _, r := range name {
		if r != '_' && r != '-' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			plain = false
			break
		}
	}
	if plain {
		return path + "." + name
	}
	return path + "[" + strconv.Quote(name) + "]"
}
