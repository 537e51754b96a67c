// Package reports renders a results.Run for machines (JSON, JUnit XML) and
// people (one self-contained HTML file, a Markdown summary, the terminal
// summary). Every writer is a pure function of an io.Writer and the run.
// Write and AppendStepSummary are the only places reports reach the disk;
// both pass the run, and then every byte, through the run's redactor.
package reports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/idpconform/idpconform/internal/atomicfile"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
)

// Format is a report format.
type Format string

const (
	FormatJSON     Format = "json"
	FormatJUnit    Format = "junit"
	FormatHTML     Format = "html"
	FormatMarkdown Format = "markdown"
)

// Formats lists every format, in the order Write writes them.
var Formats = []Format{FormatJSON, FormatJUnit, FormatHTML, FormatMarkdown}

// File names written into the report directory.
const (
	JSONFile     = "results.json"
	JUnitFile    = "junit.xml"
	HTMLFile     = "report.html"
	MarkdownFile = "summary.md"
)

// File is the name a format is written under.
func (f Format) File() string {
	switch f {
	case FormatJSON:
		return JSONFile
	case FormatJUnit:
		return JUnitFile
	case FormatHTML:
		return HTMLFile
	case FormatMarkdown:
		return MarkdownFile
	}
	return ""
}

func (f Format) writer() func(io.Writer, *results.Run) error {
	switch f {
	case FormatJSON:
		return WriteJSON
	case FormatJUnit:
		return WriteJUnit
	case FormatHTML:
		return WriteHTML
	case FormatMarkdown:
		return WriteMarkdown
	}
	return nil
}

// ParseFormats reads a comma-separated list of formats ("html,junit"); "all"
// or an empty string means every format. Names are case-insensitive and "md"
// and "xml" are accepted for markdown and junit.
func ParseFormats(s string) ([]Format, error) {
	if strings.TrimSpace(s) == "" {
		return Formats, nil
	}
	var out []Format
	seen := map[Format]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		var f Format
		switch name {
		case "all":
			return Formats, nil
		case "json":
			f = FormatJSON
		case "junit", "xml":
			f = FormatJUnit
		case "html":
			f = FormatHTML
		case "markdown", "md":
			f = FormatMarkdown
		default:
			return nil, fmt.Errorf("report format %q: expected a comma-separated list of json, junit, html, markdown (or all)", name)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// Write renders run into dir (created if needed) in the given formats (all
// of them when none is given), redacted with reg, and returns the paths
// written.
func Write(dir string, run *results.Run, reg *redact.Registry, formats ...Format) ([]string, error) {
	if len(formats) == 0 {
		formats = Formats
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report dir %s: %w", dir, err)
	}
	red := run.Redacted(reg)
	var paths []string
	for _, f := range formats {
		write := f.writer()
		if write == nil {
			return paths, fmt.Errorf("report format %q is not known", f)
		}
		data, err := render(write, red, reg)
		if err != nil {
			return paths, fmt.Errorf("render %s: %w", f.File(), err)
		}
		p := filepath.Join(dir, f.File())
		if err := atomicfile.Write(p, data); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// AppendStepSummary appends the Markdown summary of run to the file at path,
// as GitHub Actions reads $GITHUB_STEP_SUMMARY; the file is created if
// missing. It is redacted like every report.
func AppendStepSummary(path string, run *results.Run, reg *redact.Registry) error {
	data, err := render(WriteMarkdown, run.Redacted(reg), reg)
	if err != nil {
		return fmt.Errorf("render step summary: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("step summary %s: %w", path, err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("step summary %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("step summary %s: %w", path, err)
	}
	return nil
}

// render runs a writer on an already redacted run and redacts its bytes
// once more, whole, so the redactor sees every secret in one piece.
func render(write func(io.Writer, *results.Run) error, red *results.Run, reg *redact.Registry) ([]byte, error) {
	var buf bytes.Buffer
	if err := write(&buf, red); err != nil {
		return nil, err
	}
	return reg.Bytes(buf.Bytes()), nil
}
