package redact

import (
	"fmt"
	"strings"
	"testing"
)

// A spec log of ~4 KiB against a registry holding the secrets of a long run.
func benchString(b *testing.B, n int) {
	r := New()
	for i := range n {
		r.Add(fmt.Sprintf("token-%06d-abcdefghijklmnop", i))
	}
	text := strings.Repeat("< 200 OK\n< Content-Type: application/json\n< {\"token_type\":\"Bearer\"} ", 60)
	_ = r.String(text)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = r.String(text)
	}
}

func BenchmarkString10(b *testing.B)    { benchString(b, 10) }
func BenchmarkString1000(b *testing.B)  { benchString(b, 1000) }
func BenchmarkString10000(b *testing.B) { benchString(b, 10000) }
