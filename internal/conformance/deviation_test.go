package conformance

import (
	"testing"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// TestReferenceRule checks that each rule reproduces the reference's value from
// tlsaudit's and nothing else: a difference in any other part is not ruled.
func TestReferenceRule(t *testing.T) {
	tcp := func(v classify.Verdict) *flow.Record { return &flow.Record{Proto: flow.TCP, Verdict: v} }
	udp := func(v classify.Verdict) *flow.Record { return &flow.Record{Proto: flow.UDP, Verdict: v} }
	h1 := classify.Verdict{Class: classify.ClassTLS, ALPN: []string{"http/1.1"}, JA4: "t12i6707h1_2955a3196ffa_c83f907a73d3"}
	quicH3 := classify.Verdict{Class: classify.ClassTLS, ALPN: []string{"h3"}}
	for _, tt := range []struct {
		name, source string
		f            Field
		ref, ours    string
		fr           *flow.Record
		ruled        bool
	}{
		{"nDPI d and ALPN", "ndpi", FieldJA4, "t12d6707ht_2955a3196ffa_c83f907a73d3", "t12i6707h1_2955a3196ffa_c83f907a73d3", tcp(h1), true},
		{"nDPI, another cipher hash", "ndpi", FieldJA4, "t12d6707ht_2955a3196ffb_c83f907a73d3", "t12i6707h1_2955a3196ffa_c83f907a73d3", tcp(h1), false},
		{"nDPI, another extension count", "ndpi", FieldJA4, "t12d6708ht_2955a3196ffa_c83f907a73d3", "t12i6707h1_2955a3196ffa_c83f907a73d3", tcp(h1), false},
		{"nDPI empty extension hash", "ndpi", FieldJA4, "dd1d080000_f3b6e48d6e2b_e3b0c44298fc", "dd1i080000_f3b6e48d6e2b_000000000000", udp(classify.Verdict{Class: classify.ClassTLS}), true},
		{"nDPI h0 for QUIC h3", "ndpi", FieldJA4, "q13d0310h0_55b375c5d22e_cd85d2d88918", "q13d0310h3_55b375c5d22e_cd85d2d88918", udp(quicH3), true},
		{"nDPI DTLS 1.3 legacy digit", "ndpi", FieldJA4, "dd2d270600_991e33d7eb74_10f9deb96590", "dd3i270600_991e33d7eb74_10f9deb96590", udp(classify.Verdict{Class: classify.ClassTLS}), true},
		{"the rule is nDPI's only", "suricata", FieldJA4, "t12d6707ht_2955a3196ffa_c83f907a73d3", "t12i6707h1_2955a3196ffa_c83f907a73d3", tcp(h1), false},
		{"FoxIO 99 for a non-alphanumeric ALPN", "ja4-rust", FieldJA4, "t13d151699_8daaf6152771_e5627efa2ab1", "t13d1516bd_8daaf6152771_e5627efa2ab1", tcp(classify.Verdict{ALPN: []string{"\xba\xad"}}), true},
		{"FoxIO 99 for an alphanumeric ALPN", "ja4-rust", FieldJA4, "t13d151699_8daaf6152771_e5627efa2ab1", "t13d1516h2_8daaf6152771_e5627efa2ab1", tcp(classify.Verdict{ALPN: []string{"h2"}}), false},
		{"Arkime q for OpenVPN over UDP", "arkime", FieldJA4, "q12d030200_f81807f6db74_b9a491fefe05", "t12d030200_f81807f6db74_b9a491fefe05", udp(classify.Verdict{AppOther: "openvpn"}), true},
		{"Arkime q over TCP", "arkime", FieldJA4, "q12d030200_f81807f6db74_b9a491fefe05", "t12d030200_f81807f6db74_b9a491fefe05", tcp(classify.Verdict{AppOther: "openvpn"}), false},
		{"ClientHello version without a ServerHello", "suricata", FieldVersion, "TLS1.0", "", tcp(classify.Verdict{Class: classify.ClassTLS, JA4: "t10i070600_c50f5591e341_c39ab67fec8e"}), true},
		{"another version without a ServerHello", "suricata", FieldVersion, "TLS1.2", "", tcp(classify.Verdict{Class: classify.ClassTLS, JA4: "t10i070600_c50f5591e341_c39ab67fec8e"}), false},
		{"nDPI's ClientHello version", "ndpi", FieldVersion, "TLS1.2", "TLS1.0", tcp(classify.Verdict{Class: classify.ClassTLS, JA4: "t12d290100_cdba58456bdf_e78b541c01a9"}), true},
		{"Suricata's trailing underscore", "suricata", FieldJA4, "t10i070600_c50f5591e341_ce66f3b797c1", "t10i070600_c50f5591e341_c39ab67fec8e",
			tcp(classify.Verdict{JA4Raw: "t10i070600_0004,0005_0005,000a,000b,0017,0023,ff01"}), true},
		{"Suricata's underscore with signature algorithms", "suricata", FieldJA4, "t10i070600_c50f5591e341_ce66f3b797c1", "t10i070600_c50f5591e341_c39ab67fec8e",
			tcp(classify.Verdict{JA4Raw: "t10i070600_0004,0005_0005,000a,000b,0017,0023,ff01_0403"}), false},
		{"tshark's JA3 stub", "tshark", FieldJA3, "88d4e76accc5dbd6e8ba82e094f04049", "af67bec83aa1424953ce62433eade3fe",
			tcp(classify.Verdict{JA3String: "769,4-5-10-9-100-98-3-6-19-18-37,,,"}), true},
		{"tshark's JA3 of a hello with extensions", "tshark", FieldJA3, "88d4e76accc5dbd6e8ba82e094f04049", "af67bec83aa1424953ce62433eade3fe",
			tcp(classify.Verdict{JA3String: "769,4-5-10-9-100-98-3-6-19-18-37,0,,"}), false},
		{"Arkime's legacy version", "arkime", FieldVersion, "TLS1.2", "", tcp(classify.Verdict{Class: classify.ClassTLS, ParseError: "malformed", JA3SString: "771,4865,0-1-2"}), true},
		{"Arkime's legacy version without a parse error", "arkime", FieldVersion, "TLS1.2", "", tcp(classify.Verdict{Class: classify.ClassTLS, JA3SString: "771,4865,0-1-2"}), false},
		{"nDPI's ClientHello legacy version", "ndpi", FieldVersion, "TLS1.2", "TLS1.3", tcp(classify.Verdict{Class: classify.ClassTLS, JA4: "t13d1811h2_f71e3e15ae0d_5c3a8cf9b2bc", JA3String: "771,4865,0,,"}), true},
		{"no flow", "ndpi", FieldJA4, "t12d6707ht_2955a3196ffa_c83f907a73d3", "", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := referenceRule(tt.source, tt.f, tt.ref, tt.ours, tt.fr) != ""; got != tt.ruled {
				t.Errorf("ruled = %v, want %v", got, tt.ruled)
			}
		})
	}
}
