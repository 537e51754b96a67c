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
	"io"
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
// are linear in len(data).
func Check(data []byte) []Problem {
	var out []Problem
	if !utf8.Valid(data) {
		out = append(out, Problem{Path: "$", Msg: fmt.Sprintf("not UTF-8: invalid byte sequence at offset %d (RFC 8259 §8.1)", invalidAt(data))})
	}
	c := checker{dec: json.NewDecoder(bytes.NewReader(data))}
	c.dec.UseNumber()
	if err := c.value("$"); err != nil && !errors.Is(err, errEnough) {
		out = append(out, Problem{Path: "$", Msg: "not valid JSON: " + err.Error()})
		return out
	}
	return append(out, c.problems...)
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

var errEnough = errors.New("enough problems")

type checker struct {
	dec      *json.Decoder
	problems []Problem
}

// value reads one JSON value at path.
func (c *checker) value(path string) error {
	tok, err := c.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	switch tok {
	case json.Delim('{'):
		return c.object(path)
	case json.Delim('['):
		for i := 0; c.dec.More(); i++ {
			if err := c.value(path + "[" + strconv.Itoa(i) + "]"); err != nil {
				return err
			}
		}
		_, err := c.dec.Token()
		return err
	}
	return nil
}

func (c *checker) object(path string) error {
	seen := map[string]bool{}
	for c.dec.More() {
		tok, err := c.dec.Token()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("expected a member name at %s", path)
		}
		member := memberPath(path, name)
		if seen[name] {
			c.problems = append(c.problems, Problem{Path: member, Msg: dupPrefix + strconv.Quote(name) + " (a parser may keep either value)"})
			if len(c.problems) >= MaxProblems {
				return errEnough
			}
		}
		seen[name] = true
		if err := c.value(member); err != nil {
			return err
		}
	}
	_, err := c.dec.Token()
	return err
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
