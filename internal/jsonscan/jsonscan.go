// Package jsonscan reads the top-level members of a JSON object in one pass,
// without reflection and without building the values it does not need.
//
// It exists for the load generator's result loop, which judges every token
// response of an attack on the same two cores as the IdP it measures:
// encoding/json scans a body twice (validation, then decoding) and reflects
// on the target struct, and at 1000 responses a second that was most of the
// collector's cost. Members is a validating scanner (RFC 8259 grammar, the
// same nesting limit as encoding/json), so what it accepts json.Valid accepts
// and the other way round; strings are decoded only when asked for.
package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Kind is a JSON value's type.
type Kind byte

const (
	Object Kind = iota + 1
	Array
	String
	Number
	Bool
	Null
)

func (k Kind) String() string {
	switch k {
	case Object:
		return "object"
	case Array:
		return "array"
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "boolean"
	case Null:
		return "null"
	}
	return "unknown"
}

// Value is one member's value as it stands in the text.
type Value struct {
	Kind Kind
	// Raw is the value's bytes, quotes included for a string. It aliases
	// the scanned text.
	Raw []byte
	// plain is set by the scan for a string of printable ASCII without
	// escapes, whose bytes are its value.
	plain bool
}

// Str decodes a string value. ok is false for any other kind. A string of
// ASCII without escapes (every token is one) costs one copy; any other
// goes through encoding/json, so escapes and invalid UTF-8 (replaced by
// U+FFFD) decode exactly as json.Unmarshal decodes them.
func (v Value) Str() (s string, ok bool) {
	if v.Kind != String {
		return "", false
	}
	if v.plain {
		return string(v.Raw[1 : len(v.Raw)-1]), true
	}
	if json.Unmarshal(v.Raw, &s) != nil {
		return "", false // unreachable for a scanned string
	}
	return s, true
}

// IsTrue and IsFalse say whether a value is the literal true or false.
func (v Value) IsTrue() bool  { return v.Kind == Bool && v.Raw[0] == 't' }
func (v Value) IsFalse() bool { return v.Kind == Bool && v.Raw[0] == 'f' }

// ErrNotObject is returned for a valid JSON text that is not an object.
var ErrNotObject = errors.New("not a JSON object")

// SyntaxError says where a text stops being JSON.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("not valid JSON: %s at offset %d", e.Msg, e.Offset)
}

// MaxDepth is the deepest nesting accepted, encoding/json's own limit, so
// a hostile body cannot make the scan recurse without bound.
const MaxDepth = 10000

// Members validates data as one JSON text and, if it is an object, calls
// visit for each top-level member in document order, with the member's
// name decoded (escapes resolved) and its value. Duplicate names are all
// visited; the caller decides which counts. visit's arguments alias data
// (name only when it has no escapes) and must not be kept.
//
// It returns a *SyntaxError for a text that is not JSON, ErrNotObject for
// a JSON text that is not an object (visit is not called), or nil. A
// syntax error after some members were visited still fails the whole
// text: callers must discard what they gathered.
func Members(data []byte, visit func(name []byte, v Value)) error {
	s := scanner{data: data}
	s.ws()
	if s.peek() != '{' {
		if _, err := s.value(0); err != nil {
			return err
		}
		if err := s.end(); err != nil {
			return err
		}
		return ErrNotObject
	}
	if _, err := s.container(1, visit); err != nil {
		return err
	}
	return s.end()
}

type scanner struct {
	data []byte
	i    int
	// plain says whether the last string scanned was printable ASCII
	// without escapes: its bytes are its value, and decoding it is a copy.
	plain bool
}

func (s *scanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *scanner) fail(msg string) error { return &SyntaxError{Offset: s.i, Msg: msg} }

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end accepts trailing whitespace only.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.data) {
		return s.fail("data after the top-level value")
	}
	return nil
}

// value scans one value at nesting depth (the number of containers open
// around it) and returns its kind.
func (s *scanner) value(depth int) (Kind, error) {
	s.ws()
	switch c := s.peek(); {
	case c == '{' || c == '[':
		if depth >= MaxDepth {
			return 0, s.fail("nested too deep")
		}
		return s.container(depth+1, nil)
	case c == '"':
		return String, s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return Number, s.number()
	case c == 't':
		return Bool, s.literal("true")
	case c == 'f':
		return Bool, s.literal("false")
	case c == 'n':
		return Null, s.literal("null")
	case s.i >= len(s.data):
		return 0, s.fail("unexpected end")
	default:
		return 0, s.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

// container scans an object or array at nesting depth, iteratively within
// its own level and recursively for nested containers. For the top-level
// object, visit is called per member with its decoded name and value;
// below it, visit is nil and names are only checked.
func (s *scanner) container(depth int, visit func([]byte, Value)) (Kind, error) {
	open := s.data[s.i]
	s.i++
	kind, closer := Array, byte(']')
	if open == '{' {
		kind, closer = Object, '}'
	}
	s.ws()
	if s.peek() == closer {
		s.i++
		return kind, nil
	}
	var name, decoded []byte
	for {
		if kind == Object {
			s.ws()
			if s.peek() != '"' {
				return 0, s.fail("expected a member name")
			}
			start := s.i
			if err := s.str(); err != nil {
				return 0, err
			}
			if visit != nil {
				name = s.data[start+1 : s.i-1]
				if !s.plain {
					var u string
					if err := json.Unmarshal(s.data[start:s.i], &u); err != nil {
						return 0, &SyntaxError{Offset: start, Msg: "bad member name"}
					}
					decoded = append(decoded[:0], u...)
					name = decoded
				}
			}
			s.ws()
			if s.peek() != ':' {
				return 0, s.fail("expected ':' after a member name")
			}
			s.i++
			s.ws()
		}
		vstart := s.i
		k, err := s.value(depth)
		if err != nil {
			return 0, err
		}
		if visit != nil {
			visit(name, Value{Kind: k, Raw: s.data[vstart:s.i], plain: k == String && s.plain})
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case closer:
			s.i++
			return kind, nil
		default:
			return 0, s.fail(fmt.Sprintf("expected ',' or '%c'", closer))
		}
	}
}

// str scans a string from its opening quote past its closing one. Bytes
// of 0x80 and above are not checked for UTF-8 here, as json.Valid does
// not check them either.
func (s *scanner) str() error {
	d := s.data
	i := s.i + 1 // past the opening quote
	s.plain = true
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.i = i + 1
			return nil
		case c >= 0x80:
			s.plain = false // UTF-8, or not: encoding/json decides
			i++
		case c < 0x20:
			s.i = i
			return s.fail("control character in a string")
		case c == '\\':
			s.plain = false
			i++
			if i >= len(d) {
				break
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for range 4 {
					if i >= len(d) || !isHex(d[i]) {
						s.i = i
						return s.fail("bad \\u escape")
					}
					i++
				}
			default:
				s.i = i
				return s.fail("bad escape")
			}
		default:
			i++
		}
	}
	s.i = len(d)
	return s.fail("unterminated string")
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return s.fail("bad number")
	}
	if s.peek() == '.' {
		s.i++
		if !isDigit(s.peek()) {
			return s.fail("bad number")
		}
		s.digits()
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !isDigit(s.peek()) {
			return s.fail("bad number")
		}
		s.digits()
	}
	return nil
}

func (s *scanner) digits() {
	for isDigit(s.peek()) {
		s.i++
	}
}

func (s *scanner) literal(want string) error {
	if len(s.data)-s.i < len(want) || string(s.data[s.i:s.i+len(want)]) != want {
		return s.fail("bad literal")
	}
	s.i += len(want)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
