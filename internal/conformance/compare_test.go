package conformance

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

func TestCanonicalVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SSLv2", "SSL2"}, {"SSLv3", "SSL3"}, {"TLSv10", "TLS1.0"}, {"TLSv11", "TLS1.1"},
		{"TLSv12", "TLS1.2"}, {"TLSv13", "TLS1.3"}, {"TLSv13-draft23", "TLS1.3-draft23"},
		{"DTLSv10", "DTLS1.0"}, {"DTLSv12", "DTLS1.2"}, {"DTLSv13", "DTLS1.3"},
		{"unknown-32257", "TLS1.3-exp-0x7e01"}, {"771", "TLS1.2"},
		{"TLSv1", "TLS1.0"}, {"TLS 1.2", "TLS1.2"}, {"TLS 1.3", "TLS1.3"},
		{"TLS 1.3 draft-28", "TLS1.3-draft28"}, {"TLS 1.3 draft-<16", "TLS1.3"},
		{"TLSv1.1", "TLS1.1"}, {"TLSv1.3-draft-18", "TLS1.3-draft18"},
		{"TLSv1.3 (Fizz)", "TLS1.3"}, {"DTLSv1.2", "DTLS1.2"},
		{"0x0301", "TLS1.0"}, {"0x0304", "TLS1.3"}, {"0x7f17", "TLS1.3-draft23"},
		{"0xfb1a", "TLS1.3-fb-draft26"}, {"0xfefd", "DTLS1.2"}, {"0x0100", "DTLS1.0-0x0100"},
		{"0x002c", "0x002c"},
		{"", ""}, {"-", ""}, {"UNDETERMINED", ""},
		{"TLSv9", "?TLSv9"}, {"SSLv1.2", "?SSLv1.2"}, {"QUIC", "?QUIC"}, {"DTLSv11", "?DTLSv11"},
	}
	for _, tt := range tests {
		if got := CanonicalVersion(tt.in); got != tt.want {
			t.Errorf("CanonicalVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The canonical spelling of a draft is the classifier's own Detail.
	for _, v := range []uint16{0x0300, 0x0303, 0x0304, 0x7f17, 0xfb1a, 0x7e01} {
		if got, want := VersionName(v), classify.Version(v).Detail(); got != want {
			t.Errorf("VersionName(%#04x) = %q, classify says %q", v, got, want)
		}
	}
}

func TestCanonicalQUICVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1", "1"}, {"V-1", "1"}, {"0x00000001", "1"}, {"quicv2", "2"}, {"V-2", "2"},
		{"0x6b3343cf", "2"}, {"Draft-29", "draft-29"}, {"0xff00001d", "draft-29"},
		{"MVFST-27", "mvfst-27"}, {"0xfaceb002", "mvfst-27"}, {"MVFST-EXP", "mvfst-exp"},
		{"0xfaceb00e", "mvfst-exp"}, {"Q043", "Q043"}, {"T051", "T051"}, {"0x54303531", "T051"},
		{"unknown-10010000", "0x10010000"}, {"", ""}, {"-", ""}, {"bogus", "?bogus"},
	}
	for _, tt := range tests {
		if got := CanonicalQUICVersion(tt.in); got != tt.want {
			t.Errorf("CanonicalQUICVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValueMatches(t *testing.T) {
	tests := []struct {
		f    Field
		ref  []string
		ours string
		want bool
	}{
		{FieldVersion, []string{"TLS1.3"}, "TLS1.3-draft23", true},
		{FieldVersion, []string{"TLS1.3-draft23"}, "TLS1.3", true},
		{FieldVersion, []string{"TLS1.3-draft23"}, "TLS1.3-draft22", false},
		{FieldVersion, []string{"TLS1.2"}, "TLS1.3", false},
		{FieldVersion, []string{"TLS1.2"}, "", false},
		{FieldVersion, []string{"DTLS1.2"}, "TLS1.2", false},
		{FieldALPN, []string{"h2" + PrefixMark}, "h2,http/1.1", true},
		{FieldALPN, []string{"h2" + PrefixMark}, "h2", true},
		{FieldALPN, []string{"h2" + PrefixMark}, "h2c", false},
		{FieldALPN, []string{"h2,http/1.1"}, "h2", false},
		{FieldJA4, []string{"a", "b"}, "b", true},
		{FieldJA3, []string{"a"}, "", false},
	}
	for _, tt := range tests {
		if got := (Value{Any: tt.ref}).Matches(tt.f, tt.ours); got != tt.want {
			t.Errorf("%s %q matches %q = %v, want %v", tt.f, tt.ref, tt.ours, got, tt.want)
		}
	}
	conflicts := []struct {
		f    Field
		a, b []string
		want bool
	}{
		{FieldVersion, []string{"TLS1.2"}, []string{"TLS1.0"}, true},
		{FieldVersion, []string{"TLS1.3"}, []string{"TLS1.3-draft18"}, false},
		{FieldALPN, []string{"h2" + PrefixMark}, []string{"h2,http/1.1"}, false},
		{FieldALPN, []string{"h2" + PrefixMark}, []string{"h2,http/1.1" + PrefixMark}, false},
		{FieldALPN, []string{"h3" + PrefixMark}, []string{"h2,http/1.1"}, true},
		{FieldSNI, []string{"a", "b"}, []string{"b"}, false},
	}
	for _, tt := range conflicts {
		if got := valuesConflict(tt.f, Value{Any: tt.a}, Value{Any: tt.b}); got != tt.want {
			t.Errorf("valuesConflict(%s, %q, %q) = %v, want %v", tt.f, tt.a, tt.b, got, tt.want)
		}
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func conn(transport, a, b string) Conn {
	x, y := ap(a), ap(b)
	return Conn{Transport: transport, A: x.Addr(), PortA: x.Port(), B: y.Addr(), PortB: y.Port()}
}

func rec(src, file string, c Conn, kv ...string) Record {
	r := Record{Source: src, File: file, Capture: "c.pcap", Conn: c}
	for i := 0; i+1 < len(kv); i += 2 {
		r.set(Field(kv[i]), kv[i+1])
	}
	return r
}

// TestCompare checks matching and tallying on a made-up capture: exact tuples in
// either direction, "some connection" checks, merged files, a QUIC flow, a flow
// hidden by a tunnel, and two references that contradict each other.
func TestCompare(t *testing.T) {
	tcp := func(c, s string, v classify.Verdict) flow.Record {
		return flow.Record{Proto: flow.TCP, Client: ap(c), Server: ap(s), Verdict: v}
	}
	run := &CaptureRun{
		Path: "c.pcap",
		Flows: []flow.Record{
			tcp("10.0.0.1:1000", "10.0.0.2:443", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS12, SNI: "a.example", JA3: "aaa"}),
			tcp("10.0.0.1:1001", "10.0.0.2:443", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS13, SNI: "b.example", JA3: "bbb"}),
			{Proto: flow.UDP, Client: ap("10.0.0.1:2000"), Server: ap("10.0.0.3:443"),
				Verdict: classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS13, AppOther: "quic"}},
		},
		Tuples: map[string]*TupleInfo{
			connKey("tcp", ap("10.0.0.9:5"), ap("10.0.0.2:443")): {Frames: 3, Why: map[string]int{"tunnel GRE": 3}},
		},
	}
	recs := []Record{
		rec("zeek", "ssl.log", conn("", "10.0.0.2:443", "10.0.0.1:1000"), "version", "TLS1.2", "sni", "a.example"),
		rec("zeek", "ssl-all.log", conn("", "10.0.0.1:1000", "10.0.0.2:443"), "version", "TLS1.2"),
		rec("suricata", "a/test.yaml", Conn{Transport: "tcp"}, "ja3", "bbb"),
		rec("suricata", "b/test.yaml", Conn{Transport: "tcp"}, "ja3", "zzz"),
		rec("tshark", "c.tsv", conn("udp", "10.0.0.1:2000", "10.0.0.3:443"), "sni", "q.example"),
		rec("ndpi", "c.out", conn("tcp", "10.0.0.9:5", "10.0.0.2:443"), "version", "TLS1.2"),
		rec("arkime", "c.test", conn("tcp", "10.0.0.1:1000", "10.0.0.2:443"), "version", "TLS1.3"),
	}
	recs[4].Hints.QUIC = true
	res := &Result{Counts: map[string]map[Field]*Count{}}
	compare(recs, map[string]*CaptureRun{"c.pcap": run}, res)

	wantCounts := []struct {
		src                     string
		f                       Field
		agree, disagree, silent int
	}{
		{"zeek", FieldVersion, 1, 0, 0}, // two files, one connection
		{"zeek", FieldSNI, 1, 0, 0},
		{"zeek", FieldJA3, 0, 0, 1},
		{"suricata", FieldJA3, 1, 1, 0},
		{"tshark", FieldSNI, 0, 1, 0},
		{"ndpi", FieldVersion, 0, 1, 0},
		{"arkime", FieldVersion, 0, 1, 0},
	}
	for _, w := range wantCounts {
		c := res.Counts[w.src][w.f]
		if c == nil || c.Agree != w.agree || c.Disagree != w.disagree || c.NotStated != w.silent {
			t.Errorf("%s %s: %+v, want agree %d disagree %d not stated %d", w.src, w.f, c, w.agree, w.disagree, w.silent)
		}
	}
	wantDis := map[string]string{ // source → category
		"suricata": "ja3: value differs",
		"tshark":   "QUIC: Initial not decrypted (no SNI, ALPN, JA3, JA3S, JA4)",
		"ndpi":     "flow missing: tunnel GRE",
		"arkime":   "version: value differs",
	}
	if len(res.Disagreements) != len(wantDis) {
		t.Errorf("%d disagreements, want %d: %+v", len(res.Disagreements), len(wantDis), res.Disagreements)
	}
	for _, d := range res.Disagreements {
		if want := wantDis[d.Source]; d.Category != want {
			t.Errorf("%s %s: category %q, want %q", d.Source, d.Field, d.Category, want)
		}
		switch d.Source {
		case "suricata":
			if d.Ours != "none of: aaa | bbb" || !strings.Contains(d.Conn, "2 candidates") {
				t.Errorf("suricata: ours %q conn %q", d.Ours, d.Conn)
			}
		case "ndpi":
			if d.Ours != "(no flow)" {
				t.Errorf("ndpi: ours %q, want (no flow)", d.Ours)
			}
		}
	}
	if len(res.Conflicts) != 1 || res.Conflicts[0].Field != FieldVersion ||
		res.Conflicts[0].Values["zeek"] != "TLS1.2" || res.Conflicts[0].Values["arkime"] != "TLS1.3" {
		t.Errorf("conflicts %+v, want zeek TLS1.2 against arkime TLS1.3", res.Conflicts)
	}
}

func TestBaseline(t *testing.T) {
	old := Baseline{"zeek": {FieldVersion: 10, FieldSNI: 5}, "ndpi": {FieldJA3: 3}}
	cur := Baseline{"zeek": {FieldVersion: 9, FieldSNI: 6}, "ndpi": {FieldJA3: 3}, "tshark": {FieldJA3: 1}}
	reg, imp := old.Compare(cur)
	if len(reg) != 1 || !strings.HasPrefix(reg[0], "zeek version: 9 agree, baseline 10") {
		t.Errorf("regressions %q", reg)
	}
	if len(imp) != 2 {
		t.Errorf("improvements %q", imp)
	}
	back, err := ParseBaseline(MarshalBaseline(cur))
	if err != nil {
		t.Fatal(err)
	}
	if r, i := back.Compare(cur); len(r)+len(i) != 0 {
		t.Errorf("round trip changed the baseline: %q %q", r, i)
	}
	if _, err := ParseBaseline([]byte("{")); err == nil {
		t.Error("bad JSON: no error")
	}
}

func TestHandWritten(t *testing.T) {
	doc := "# generated\n\n" + handBegin + "\n\nmine\n\n" + handEnd + "\n\nmore generated\n"
	if got, want := HandWritten([]byte(doc)), handBegin+"\n\nmine\n\n"+handEnd; got != want {
		t.Errorf("HandWritten = %q, want %q", got, want)
	}
	if got := HandWritten(nil); !strings.HasPrefix(got, handBegin) || !strings.HasSuffix(got, handEnd) {
		t.Errorf("fresh block %q lacks the markers", got)
	}
	res := &Result{Counts: map[string]map[Field]*Count{}, Files: map[string]int{}, Skipped: map[string]int{}}
	out := string(Markdown(res, HandWritten([]byte(doc))))
	if !strings.Contains(out, "\nmine\n") {
		t.Error("Markdown dropped the hand-written block")
	}
}

func TestWrapperAndQUICFirstPacket(t *testing.T) {
	client, server := ap("10.0.0.1:4000"), ap("10.0.0.2:1080")
	tests := []struct {
		proto uint8
		first []byte
		want  string
	}{
		{flow.TCP, []byte{0x04, 0x01, 0x01, 0xbb, 1, 2, 3, 4, 0}, "a SOCKS4 CONNECT"},
		{flow.TCP, []byte{0x05, 0x01, 0x00}, "a SOCKS5 handshake"},
		{flow.TCP, []byte{0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0}, "an RDP (TPKT/X.224) negotiation"},
		{flow.TCP, []byte("CNXN\x00\x00\x00\x01"), "an ADB connection"},
		{flow.TCP, []byte("CONNECT example:443 HTTP/1.1"), "an HTTP CONNECT"},
		{flow.UDP, []byte{0x38, 0x43, 0x4c}, "OpenVPN (UDP)"},
		{flow.TCP, []byte{0x16, 0x03, 0x01, 0x02, 0x00}, ""},
	}
	for _, tt := range tests {
		tr := "tcp"
		if tt.proto == flow.UDP {
			tr = "udp"
		}
		run := &CaptureRun{Tuples: map[string]*TupleInfo{
			connKey(tr, client, server): {First: map[string][]byte{client.String(): tt.first}},
		}}
		fr := &flow.Record{Proto: tt.proto, Client: client, Server: server}
		if got := wrapper(run, fr); got != tt.want {
			t.Errorf("wrapper(% x) = %q, want %q", tt.first, got, tt.want)
		}
	}

	quic := []struct {
		first []byte
		want  string
	}{
		{nil, "no client datagram captured"},
		{[]byte{0x40, 1, 2, 3}, "first client datagram has a short header"},
		{[]byte{0xd0, 0, 0, 0, 1}, "first client datagram is 0-RTT, not the Initial"},
		{[]byte{0xc0, 0xba, 0xba, 0xba, 0xba}, "first client Initial has version 0xbabababa (version negotiation)"},
	}
	for _, tt := range quic {
		run := &CaptureRun{Tuples: map[string]*TupleInfo{
			connKey("udp", client, server): {First: map[string][]byte{}},
		}}
		if tt.first != nil {
			run.Tuples[connKey("udp", client, server)].First[client.String()] = tt.first
		}
		fr := &flow.Record{Proto: flow.UDP, Client: client, Server: server}
		if got := quicFirstPacket(run, fr); got != tt.want {
			t.Errorf("quicFirstPacket(% x) = %q, want %q", tt.first, got, tt.want)
		}
	}
}

func TestFamily(t *testing.T) {
	tests := []struct{ category, want string }{
		{"QUIC: ja4 differs", "both have a value and it differs (JA4, JA3S, version: see the decisions below)"},
		{"QUIC: Initial not decrypted (no SNI, ALPN, JA3, JA3S, JA4)", "QUIC: Initial packets not decrypted (no SNI, ALPN, JA3, JA3S, JA4 for QUIC)"},
		{"QUIC drafts: not recognised", "QUIC: flows not recognised (drafts, mvfst, Google QUIC, 0-RTT or short header first, version negotiation)"},
		{"flow missing: tunnel GTP-U", "tunnels not decoded (no flow): GTP-U"},
		{"flow missing: link type PPP", "link types not decoded (no flow): PPP"},
		{"DTLS: not parsed", "DTLS not parsed"},
	}
	for _, tt := range tests {
		if got := family(tt.category); got != tt.want {
			t.Errorf("family(%q) = %q, want %q", tt.category, got, tt.want)
		}
	}
}
