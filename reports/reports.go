// Package reports renders a results.Run for machines (JUnit XML, JSON) and
// people (a terminal summary). Every writer is a pure function of the run and
// an io.Writer; Write is the one place reports reach the disk, and it passes
// the run and every byte through the run's redactor.
package reports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
)

// File names written into the report directory.
const (
	JSONFile  = "results.json"
	JUnitFile = "junit.xml"
)

// Write renders run into dir (created if needed) as JSON and JUnit, redacted
// with reg, and returns the paths written.
func Write(dir string, run *results.Run, reg *redact.Registry) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report dir %s: %w", dir, err)
	}
	red := run.Redacted(reg)
	writers := []struct {
		name  string
		write func(io.Writer, *results.Run) error
	}{
		{JSONFile, WriteJSON},
		{JUnitFile, WriteJUnit},
	}
	var paths []string
	for _, w := range writers {
		var buf bytes.Buffer
		if err := w.write(&buf, red); err != nil {
			return paths, fmt.Errorf("render %s: %w", w.name, err)
		}
		p := filepath.Join(dir, w.name)
		// Whole document in one Write, so the redacting writer sees every
		// secret whole.
		if err := writeFile(p, reg.Bytes(buf.Bytes())); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// writeFile writes via a temporary file and rename, so an interrupted run
// never leaves half a report where CI expects a whole one.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
