// Package yamlfile decodes idpconform's YAML files (targets, contracts) the
// same strict way: unknown fields, duplicate keys and wrong types are errors
// naming the file, line and column, with the offending line shown, and all
// problems of a file are reported together.
package yamlfile

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// File is a parsed YAML document, kept to map field paths to positions.
type File struct {
	Name string
	Src  []byte
	ast  *ast.File
}

// Parse parses src as exactly one YAML document. transform, when not nil,
// rewrites the document's scalars before decoding (environment references)
// and returns the problems it found.
func Parse(name string, src []byte) (f *File, err error) {
	defer Recover(name, src, &err)
	return parse(name, src)
}

func parse(name string, src []byte) (*File, error) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, fromYAMLError(name, src, err, nil)
	}
	// goccy parses a directive ("%YAML 1.2") before "---" as a document of
	// its own; it belongs to the document that follows, so it is dropped
	// rather than counted.
	docs := f.Docs[:0:0]
	for _, d := range f.Docs {
		if _, directive := d.Body.(*ast.DirectiveNode); !directive {
			docs = append(docs, d)
		}
	}
	f.Docs = docs
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, &Error{File: name, Problems: []Problem{{Line: 1, Col: 1, Msg: "expected one YAML document holding a mapping, found none or several"}}}
	}
	return &File{Name: name, Src: src, ast: f}, nil
}

// Body returns the root node of the document.
func (f *File) Body() ast.Node { return f.ast.Docs[0].Body }

// Decode decodes the document into v strictly: unknown fields and duplicate
// keys are errors, with a "did you mean" for a misspelt field of v's type.
func (f *File) Decode(v any) (err error) {
	defer Recover(f.Name, f.Src, &err)
	if err := yaml.NodeToValue(f.Body(), v, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return fromYAMLError(f.Name, f.Src, err, reflect.TypeOf(v))
	}
	return nil
}

// Recover turns a panic of the YAML library into an *Error of the file:
// goccy/go-yaml v1.19.2 dereferences nil when a tagged scalar ("!!str x")
// stands where a list belongs (found by FuzzParse), and a user's file must
// get an error, never a crash. Every entry point that runs goccy code on a
// file (parsing, decoding, walking or querying its AST) defers it first:
//
//	defer yamlfile.Recover(name, src, &err)
//
// The problem is placed at the first explicit tag, the likeliest cause.
func Recover(name string, src []byte, err *error) {
	r := recover()
	if r == nil {
		return
	}
	// A runtime error's text quotes no data; another panic value might
	// quote the file, which can hold a literal secret.
	cause := "a panic in the YAML library"
	if re, ok := r.(runtime.Error); ok {
		cause = re.Error()
	}
	line, col, what := firstTag(src)
	*err = &Error{File: name, Src: src, Problems: []Problem{{Line: line, Col: col,
		Msg: fmt.Sprintf("the YAML decoder could not read this file (%s)%s", cause, what)}}}
}

// firstTag finds the first explicit YAML tag ("!!str", "!custom") in the
// document: idpconform's files need none, and a tag on a value of the wrong
// kind is what makes the decoder fail. It parses src again, so it runs
// under its own recover: a file the parser itself cannot take is placed at
// its start.
func firstTag(src []byte) (line, col int, what string) {
	line, col = 1, 1
	defer func() {
		if recover() != nil {
			line, col, what = 1, 1, ""
		}
	}()
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return line, col, what
	}
	found := false
	for _, d := range f.Docs {
		ast.Walk(tagVisitor(func(n *ast.TagNode) {
			if found || n.Start == nil {
				return
			}
			found = true
			line, col = n.Start.Position.Line, n.Start.Position.Column
			what = fmt.Sprintf(": the tag %s stands on a value of a kind this field does not take; remove the tag", n.Start.Value)
		}), d)
	}
	return line, col, what
}

type tagVisitor func(*ast.TagNode)

func (v tagVisitor) Visit(n ast.Node) ast.Visitor {
	if t, ok := n.(*ast.TagNode); ok {
		v(t)
	}
	return v
}

// Errorf makes a Problem at the YAML path (e.g. "$.clients[0].auth_method").
func Errorf(path, format string, args ...any) Problem {
	return Problem{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Locate fills in the line and column of each problem from its path,
// walking up to the nearest existing parent when the field is absent.
func (f *File) Locate(ps []Problem) []Problem {
	out := make([]Problem, len(ps))
	for i, p := range ps {
		if p.Line == 0 {
			p.Line, p.Col = f.position(p.Path)
		}
		out[i] = p
	}
	return out
}

// Err returns an *Error holding ps, located, or nil when ps is empty.
func (f *File) Err(ps []Problem) (err error) {
	if len(ps) == 0 {
		return nil
	}
	// Locating runs goccy's path queries on the user's AST.
	defer Recover(f.Name, f.Src, &err)
	return &Error{File: f.Name, Src: f.Src, Problems: f.Locate(ps)}
}

func (f *File) position(path string) (int, int) {
	for p := path; p != ""; p = parentPath(p) {
		yp, err := yaml.PathString(p)
		if err != nil {
			continue
		}
		n, err := yp.FilterFile(f.ast)
		if err != nil || n == nil || n.GetToken() == nil {
			continue
		}
		pos := n.GetToken().Position
		return pos.Line, pos.Column
	}
	return 1, 1
}

func parentPath(p string) string {
	if p == "$" || p == "" {
		return ""
	}
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return "$"
}

// Error is a YAML file that cannot be used. It lists every problem found,
// each with its position, so a user fixes them in one pass.
type Error struct {
	File     string
	Src      []byte
	Problems []Problem
}

// Problem is one thing wrong in a file.
type Problem struct {
	Path string // YAML path, "$.clients[0].auth_method"
	Line int
	Col  int
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("\n")
		}
		if p.Line > 0 {
			fmt.Fprintf(&b, "%s:%d:%d: ", e.File, p.Line, p.Col)
		} else {
			// A problem with no position (a target built in code) names
			// the file alone rather than a line 0 that does not exist.
			fmt.Fprintf(&b, "%s: ", e.File)
		}
		if field := FieldName(p.Path); field != "" {
			fmt.Fprintf(&b, "%s: ", field)
		}
		b.WriteString(p.Msg)
		if ex := excerpt(e.Src, p.Line, p.Col); ex != "" {
			b.WriteString("\n")
			b.WriteString(ex)
		}
	}
	return b.String()
}

// FieldName turns "$.clients[0].auth_method" into "clients[0].auth_method".
func FieldName(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
}

// excerpt shows the offending line with a caret under the column. A line may
// hold a literal secret, so the value after a secret-like key is masked.
func excerpt(src []byte, line, col int) string {
	if len(src) == 0 || line < 1 {
		return ""
	}
	lines := strings.Split(string(src), "\n")
	if line > len(lines) {
		return ""
	}
	text := maskSecretValue(lines[line-1])
	caret := strings.Repeat(" ", max(col-1, 0)) + "^"
	return fmt.Sprintf("  %4d | %s\n       | %s", line, text, caret)
}

var secretKey = regexp.MustCompile(`^(\s*-?\s*[A-Za-z_]*(?:secret|password|token)[A-Za-z_]*\s*:\s*)(\S.*)$`)

func maskSecretValue(line string) string {
	m := secretKey.FindStringSubmatch(line)
	if m == nil || strings.HasPrefix(m[2], "${") {
		return line
	}
	return m[1] + "[REDACTED]"
}

// fromYAMLError turns a goccy syntax or decode error into an *Error.
func fromYAMLError(name string, src []byte, err error, typ reflect.Type) error {
	var ne *NodeError
	if errors.As(err, &ne) && ne.Node != nil && ne.Node.GetToken() != nil {
		pos := ne.Node.GetToken().Position
		return &Error{File: name, Src: src, Problems: []Problem{{Path: ne.Node.GetPath(), Line: pos.Line, Col: pos.Column, Msg: ne.Msg}}}
	}
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		pos := ye.GetToken().Position
		msg := ye.GetMessage()
		if typ != nil {
			msg = suggest(msg, typ)
		}
		return &Error{File: name, Src: src, Problems: []Problem{{Line: pos.Line, Col: pos.Column, Msg: msg}}}
	}
	return &Error{File: name, Src: src, Problems: []Problem{{Line: 1, Col: 1, Msg: err.Error()}}}
}

// NodeError is an error about one node, returned by custom unmarshalers so
// that the problem is reported at the node's position.
type NodeError struct {
	Node ast.Node
	Msg  string
}

func (e *NodeError) Error() string { return e.Msg }

// NodeErrorf returns a *NodeError for n.
func NodeErrorf(n ast.Node, format string, args ...any) error {
	return &NodeError{Node: n, Msg: fmt.Sprintf(format, args...)}
}

// ScalarString returns the (already resolved) value of a scalar node as a
// string, or a *NodeError when n is a mapping or sequence.
func ScalarString(n ast.Node) (string, error) {
	switch s := n.(type) {
	case *ast.StringNode:
		return s.Value, nil
	case *ast.NullNode:
		return "", nil
	case ast.ScalarNode:
		return fmt.Sprint(s.GetValue()), nil
	default:
		return "", NodeErrorf(n, "expected a string, got a %s", strings.ToLower(n.Type().String()))
	}
}
