package reports

import (
	"encoding/json"
	"io"

	"github.com/idpconform/idpconform/internal/results"
)

// WriteJSON writes run as indented JSON (schema results.SchemaVersion).
func WriteJSON(w io.Writer, run *results.Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Keep <, > and & readable in failure messages; the file is not HTML.
	enc.SetEscapeHTML(false)
	return enc.Encode(run)
}
