package target

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/idpconform/idpconform/internal/yamlfile"
)

// resolveEnv replaces ${NAME} and ${NAME:-default} in every string scalar
// value of the document (never in keys). Resolution happens on parsed
// scalars, so a variable's value cannot inject YAML structure.
func resolveEnv(root ast.Node, lookup LookupFunc) []yamlfile.Problem {
	var problems []yamlfile.Problem
	ast.Walk(&envVisitor{lookup: lookup, problems: &problems}, root)
	return problems
}

type envVisitor struct {
	lookup   LookupFunc
	problems *[]yamlfile.Problem
}

func (v *envVisitor) Visit(n ast.Node) ast.Visitor {
	switch n := n.(type) {
	case *ast.MappingValueNode:
		// Skip the key; visit only the value.
		if s, ok := n.Value.(*ast.StringNode); ok {
			v.resolve(s)
			return nil
		}
		ast.Walk(v, n.Value)
		return nil
	case *ast.StringNode:
		v.resolve(n)
	}
	return v
}

func (v *envVisitor) resolve(s *ast.StringNode) {
	out, err := Expand(s.Value, v.lookup)
	if err != nil {
		pos := s.GetToken().Position
		*v.problems = append(*v.problems, yamlfile.Problem{Path: s.GetPath(), Line: pos.Line, Col: pos.Column, Msg: err.Error()})
		return
	}
	s.Value = out
}

// Expand resolves environment references in s:
//
//	${NAME}            the variable's value; an error when unset
//	${NAME:-default}   the value, or default when unset or empty
//	$$                 a literal $
//
// Any other $ is literal, so a secret such as "pa$word" survives unchanged.
// Errors name the variable, never its value.
func Expand(s string, lookup LookupFunc) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ at character %d: expected ${NAME} or ${NAME:-default}", i+1)
			}
			expr := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(expr, ":-")
			if !validEnvName(name) {
				return "", fmt.Errorf("invalid variable name %q in ${...}: use letters, digits and _", name)
			}
			val, ok := lookup(name)
			switch {
			case ok && (val != "" || !hasDef):
				b.WriteString(val)
			case hasDef:
				b.WriteString(def)
			default:
				return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} for a default)", name, name)
			}
			i += 2 + end + 1
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), nil
}

func validEnvName(n string) bool {
	if n == "" {
		return false
	}
	for i, r := range n {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
