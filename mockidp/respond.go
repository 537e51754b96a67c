package mockidp

import (
	"encoding/json"
	"net/http"
)

// writeJSON sends v as JSON that no cache may keep (RFC 6749 §5.1 for token
// responses; the mock applies it to every answer that may carry a secret).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if cs, ok := v.(*claimSet); ok {
		// Already compact JSON: skip the encoder's re-validation.
		if b, err := cs.MarshalJSON(); err == nil {
			w.WriteHeader(status)
			_, _ = w.Write(append(b, '\n'))
			return
		}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONCacheable sends public metadata (discovery, JWKS) that clients
// may cache.
func writeJSONCacheable(w http.ResponseWriter, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// headerDropper removes headers just before they are sent: the
// no-cache-control and no-pragma faults.
type headerDropper struct {
	http.ResponseWriter
	drop        []string
	wroteHeader bool
}

func (h *headerDropper) WriteHeader(code int) {
	if !h.wroteHeader {
		h.wroteHeader = true
		for _, k := range h.drop {
			h.Header().Del(k)
		}
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerDropper) Write(p []byte) (int, error) {
	if !h.wroteHeader {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(p)
}
