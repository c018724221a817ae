package report

import (
	"encoding/json"
	"io"
	"testing"
)

// BenchmarkStreamFlow writes one TLS flow per iteration, as the json and ndjson
// formats stream it, next to encoding/json's reflection encoder (with the indent the
// whole-document encoder used) for the same flow, for a ratio in the same run.
func BenchmarkStreamFlow(b *testing.B) {
	a := auditWithFlows(b)
	f := &a.Flows[1] // TLS, with ALPN, a certificate and hostile text to escape
	for _, format := range []string{"json", "ndjson"} {
		b.Run(format, func(b *testing.B) {
			s, err := NewStream(io.Discard, format)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Flow(f)
			}
			if err := s.Close(a); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.Run("encoding-json-indent", func(b *testing.B) {
		enc := json.NewEncoder(io.Discard)
		enc.SetIndent("    ", "  ")
		b.ReportAllocs()
		for b.Loop() {
			if err := enc.Encode(f); err != nil {
				b.Fatal(err)
			}
		}
	})
}
