package report

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
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

// BenchmarkBuilderAddStreamed turns one finished TLS flow record into a report flow,
// aggregates it into its pair and streams it as json: the report's cost per flow.
func BenchmarkBuilderAddStreamed(b *testing.B) {
	s, err := NewStream(io.Discard, "json")
	if err != nil {
		b.Fatal(err)
	}
	bld := NewBuilder(policy.Default(), nil)
	bld.StreamTo(s)
	r := rec("10.0.0.1:40001", "10.0.0.3:443", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS13, SNI: "api.internal",
		ALPN: []string{"h2"}, Cipher: 0x1301, Group: 0x001d, JA3: "22558766122974704364c9c75c5cce0a", JA4: "t13d1516h2_8daaf6152771_02713d6af862"})
	b.ReportAllocs()
	for b.Loop() {
		bld.Add(r)
	}
}
