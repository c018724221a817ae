package conformance

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// summary writes a record as one comparable line: connection, hints, then the
// stated fields in report order.
func summary(r Record) string {
	var b strings.Builder
	b.WriteString(r.Conn.String())
	if r.Hints.QUIC {
		b.WriteString(" [quic")
		if r.Hints.QUICVersion != "" {
			b.WriteString(" " + r.Hints.QUICVersion)
		}
		b.WriteString("]")
	}
	if r.Hints.DTLS {
		b.WriteString(" [dtls]")
	}
	for _, f := range r.stated() {
		fmt.Fprintf(&b, " %s=%s", f, r.Values[f])
	}
	return b.String()
}

func summaries(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = summary(r)
	}
	return out
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func checkRecords(t *testing.T, got []Record, want []string) {
	t.Helper()
	g := summaries(got)
	if len(g) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("records:\n got  %q\n want %q", g, want)
	}
}

func TestParseZeekLog(t *testing.T) {
	tests := []struct {
		file   string
		blocks int
		files  []string // #file headers, per block
		want   []string // records of all blocks, in order
	}{
		{
			// A multi-run baseline (scripts.base.protocols.ssl.keyexchange): one
			// header block per run.
			file: "zeek-ssl-multi.log", blocks: 4, files: []string{"", "", "", ""},
			want: []string{
				"tcp/udp 192.168.18.50:62277 ↔ 162.219.2.166:443 version=TLS1.2",
				"tcp/udp 192.150.187.164:58868 ↔ 194.127.84.106:443 version=TLS1.0",
				"tcp/udp 192.150.187.164:58869 ↔ 194.127.84.106:443 version=TLS1.0",
				"tcp/udp 192.150.187.164:58870 ↔ 194.127.84.106:443 version=TLS1.0",
				"udp 192.168.6.86:63721 ↔ 104.236.167.107:4433 [dtls] version=DTLS1.0",
				"udp 192.168.17.58:60934 ↔ 165.227.57.17:4400 [dtls] version=DTLS1.2",
			},
		},
		{
			// ssl-log-ext: the client's ALPN list, and a #file header.
			file: "zeek-ssl-ext.log", blocks: 1, files: []string{"tls13-ech.pcap"},
			want: []string{
				"tcp/udp 192.168.20.65:51066 ↔ 162.159.138.85:443 version=TLS1.3 sni=cloudflare-ech.com alpn=h2,http/1.1",
				"tcp/udp 192.168.20.65:51071 ↔ 162.159.138.85:443 version=TLS1.3 sni=cloudflare-ech.com alpn=h2,http/1.1",
			},
		},
		{
			// quic.log: the version, and the first protocol of the client's ALPN.
			file: "zeek-quic.log", blocks: 1, files: []string{""},
			want: []string{"udp 82.239.54.117:53727 ↔ 110.213.53.115:443 [quic 1] sni=api.cirrus-ci.com alpn=h3,… quic_version=1"},
		},
		{
			// A .cut file without id columns: about some connection.
			file: "zeek-ssl.log.cut", blocks: 1, files: []string{""},
			want: []string{"any tcp/udp connection version=TLS1.3 sni=www.google.de"},
		},
		{
			// conn.log services: STARTTLS, direct TLS, QUIC, plaintext, SSH; icmp,
			// "-" and smb state nothing; socks,ssl leaves starttls open.
			file: "zeek-conn.log", blocks: 1, files: []string{""},
			want: []string{
				"tcp 127.0.0.1:40284 ↔ 127.0.0.1:21 class=tls starttls=true",
				"tcp 10.0.0.1:50000 ↔ 10.0.0.2:443 class=tls starttls=false",
				"udp [2001:db8::1]:50001 ↔ [2001:db8::2]:443 [quic] class=tls starttls=false",
				"tcp 10.0.0.1:50002 ↔ 10.0.0.2:22 class=plaintext",
				"udp 10.0.0.1:50003 ↔ 10.0.0.2:53 class=plaintext",
				"tcp 10.0.0.1:50005 ↔ 10.0.0.2:1080 class=tls",
				"tcp 10.0.0.1:50006 ↔ 10.0.0.2:22 class=ssh",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			blocks, err := ParseZeekLog(bytes.NewReader(readTestdata(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			if len(blocks) != tt.blocks {
				t.Fatalf("%d blocks, want %d", len(blocks), tt.blocks)
			}
			var got []Record
			var files []string
			for i := range blocks {
				files = append(files, blocks[i].File)
				got = append(got, ZeekRecords(&blocks[i], "zeek", tt.file)...)
			}
			if !reflect.DeepEqual(files, tt.files) {
				t.Errorf("#file headers %q, want %q", files, tt.files)
			}
			checkRecords(t, got, tt.want)
		})
	}
}

func TestParseZeekLogBad(t *testing.T) {
	tests := []struct{ name, in string }{
		{"row wider than header", "#fields\ta\tb\n1\t2\t3\n"},
		{"row narrower than header", "#fields\ta\tb\tc\n1\t2\n"},
		{"cut row narrower than header", "ts\tuid\tversion\nX\tC\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseZeekLog(strings.NewReader(tt.in)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestZeekKind(t *testing.T) {
	tests := []struct {
		path, file, want string
	}{
		{"ssl", "x/ssl-all.log", "ssl"},
		{"x509", "x/x509.log", ""},
		{"", "x/tls-12.ssl.log", "ssl"},
		{"", "x/conn.log.cut", "conn"},
		{"", "x/quic.log.one-discarded-packet", "quic"},
		{"", "x/ssl1_2.log", "ssl"},
		{"", "x/postgresql.cut", ""},
		{"", "x/analyzer_debug.log.cut", ""},
	}
	for _, tt := range tests {
		b := &ZeekBlock{Path: tt.path}
		if got := zeekKind(b, tt.file); got != tt.want {
			t.Errorf("zeekKind(%q, %q) = %q, want %q", tt.path, tt.file, got, tt.want)
		}
	}
}

func TestParseSuricataTest(t *testing.T) {
	tests := []struct {
		file string
		want []string
		skip SuricataSkip
	}{
		{
			file: "suricata-test.yaml",
			want: []string{
				"any tcp connection version=TLS1.3-draft28 sni=localhost ja3=d00857e0c8e7a7f35e446508c6233460",
				"any tcp connection version=TLS1.2 starttls=true",
				"any tcp connection alpn=h2,http/1.1,… alpn_server=h2",
				"any udp connection [quic] sni=msquic.net alpn=h3-29,…",
				"any udp connection [quic] ja4=q13d0310h3_55b375c5d22e_cd85d2d88918",
				"tcp 192.168.50.11:60358 ↔ 192.168.50.12:5432 version=TLS1.0 starttls=true",
			},
			skip: SuricataSkip{
				"filter requires an older Suricata (lt-version)": 1,
				"count: 0 (absence)":                             1,
				"no compared field":                              1,
			},
		},
		{
			file: "suricata-old.yaml",
			skip: SuricataSkip{"test requires an older Suricata (lt-version)": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			skip := SuricataSkip{}
			got, err := ParseSuricataTest(string(readTestdata(t, tt.file)), tt.file, skip)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, got, tt.want)
			if !reflect.DeepEqual(skip, tt.skip) {
				t.Errorf("skipped %v, want %v", skip, tt.skip)
			}
		})
	}
	if _, err := ParseSuricataTest(string(readTestdata(t, "suricata-bad.yaml")), "bad", SuricataSkip{}); err == nil {
		t.Error("suricata-bad.yaml: no error")
	}
}

func TestParseYAML(t *testing.T) {
	tests := []struct {
		name, in string
		path     []string // keys (or list indexes as "0", "1") to a scalar
		want     string
	}{
		{"nested", "a:\n  b:\n    c: 'x''y'\n", []string{"a", "b", "c"}, "x'y"},
		{"list of maps", "l:\n  - k: 1\n    m: 2\n  - k: 3\n", []string{"l", "1", "k"}, "3"},
		{"list at key indent", "l:\n- k: v\n", []string{"l", "0", "k"}, "v"},
		{"comment", "a: \"b # c\" # d\n", []string{"a"}, "b # c"},
		{"continued scalar", "a: one\n  two\nb: 3\n", []string{"a"}, "one two"},
		{"dotted key", "m:\n  tls.client_alpns[0]: h2\n", []string{"m", "tls.client_alpns[0]"}, "h2"},
		{"scalar list", "f:\n  - HAVE_JA3\n", []string{"f", "0"}, "HAVE_JA3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parseYAML(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.path {
				switch {
				case n.kind == 'l':
					var i int
					fmt.Sscan(p, &i)
					if i >= len(n.List) {
						t.Fatalf("index %d out of range", i)
					}
					n = n.List[i]
				default:
					n = n.get(p)
				}
				if n == nil {
					t.Fatalf("no %q", p)
				}
			}
			if n.str() != tt.want {
				t.Errorf("got %q, want %q", n.str(), tt.want)
			}
		})
	}
	for _, bad := range []string{"a:\n  b: 1\n c: 2\n", "just words\n", "a:\n  - x\n   y: 1\n"} {
		if _, err := parseYAML(bad); err == nil {
			t.Errorf("parseYAML(%q): no error", bad)
		}
	}
}

func TestParseArkimeTest(t *testing.T) {
	got, err := ParseArkimeTest(readTestdata(t, "arkime-sessions.json"), "arkime-sessions.json")
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, []string{
		"tcp 10.9.1.1:49301 ↔ 10.9.1.2:443 class=tls version=TLS1.2 ja3=fde4273625b2ac63bd01d9c500dac91b ja3s=5397c414a9ebeaff1bf18b70ca22eaa0 ja4=t12i010000_ba72b8082249_000000000000 starttls=false",
		// Google QUIC: its own crypto, no TLS.
		"udp 10.9.4.1:52001 ↔ 10.9.4.2:443 [quic Q043] class=encrypted sni=zerolen.example quic_version=Q043",
		// An Arkime rule tag (tlsrulestest) does not hide direct TLS; the SNI is http.host.
		"tcp 10.2.6.100:55006 ↔ 10.2.6.1:443 class=tls version=TLS1.2 sni=secure.example.com ja3=b05942cf9db38edab716bba670db271f ja3s=e8c07683aecf9b16e8e33f10a5161e4e ja4=t13d030200_55b375c5d22e_b9a491fefe05 starttls=false",
		"udp 10.20.17.100:49900 ↔ 10.20.17.1:443 [dtls] class=tls ja4=dd2d020400_c1929292aa6b_c91bed236abd",
		"udp 10.99.99.10:10000 ↔ 10.99.99.20:443 [quic] class=tls sni=config.edge.skype.com ja3=b2bc2d5e347cf1b325aff36e38929a37 ja4=q13d0311h3_55b375c5d22e_653d80c3fe9d",
		"tcp 10.0.0.1:57406 ↔ 173.194.68.26:25 class=tls version=TLS1.0 ja3=fab507fe132c544e8a0eb7c394affeae ja3s=6b96cf9c27b0223177b0e9f135fe4899 ja4=t10i290100_cdba58456bdf_e78b541c01a9 starttls=true",
		// HTTP CONNECT then TLS: http.host is not an SNI, starttls is left open.
		"tcp 10.11.12.13:54723 ↔ 10.9.8.7:8080 class=tls version=TLS1.2 ja3=b288289af2999820648eb3ca4d8304c5 ja3s=b7bd51222a09f3ad66a340710ae9c01a ja4=t12i860500_e18388e7f3a3_a1e935682795",
		"tcp 10.180.156.141:61450 ↔ 10.180.156.249:80 class=plaintext",
	})
	if _, err := ParseArkimeTest([]byte(`{"sessions3": [`), "bad"); err == nil {
		t.Error("truncated JSON: no error")
	}
}

func TestParseNDPI(t *testing.T) {
	got, err := ParseNDPI(bytes.NewReader(readTestdata(t, "ndpi.out")), "ndpi.out")
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, []string{
		// "(WEAK)" after the JA3S is dropped.
		"tcp 10.238.26.36:62092 ↔ 10.220.50.76:21 class=tls version=TLS1.2 ja3=398076b7fcad56308a762b3c79fe1f44 ja3s=5cd6efb8d804faf03e1462073b729151 ja4=t12d410100_d572b635dddf_5f8d9ea464d3",
		"udp 187.227.136.152:55356 ↔ 211.247.147.90:443 [quic T051] class=tls version=TLS1.3 sni=www.google.com alpn=h3-T051 ja3=92e76078d514999cd950474995dab2b5 ja4=q13d0308h3_55b375c5d22e_e7bc1e4f333e quic_version=T051",
		"udp 127.0.0.1:40983 ↔ 127.0.0.1:11111 [dtls] class=tls version=DTLS1.3 ja3=320d2222212f652e923c3458b463c5b4 ja3s=ecfd4f82776364c3015565f97e8c3897 ja4=dd2d270600_991e33d7eb74_10f9deb96590",
		// One direction only ("->"): nDPI's [TLSv1.2] is the ClientHello's, not taken.
		"tcp 192.168.1.12:49886 ↔ 104.27.129.77:443 class=tls alpn=h2,http/1.1 ja3=957015a0b1e2500d8777219893a09495 ja4=t13d1813h2_29a2cd9e9f10_0d6ff543c596",
		"udp [2a00:d40:1:3:7aac:c0ff:fea7:d4c]:45931 ↔ [2a00:1450:4001:803::1017]:443 [quic Q025] class=encrypted sni=www.google.it quic_version=Q025",
		"tcp 62.43.36.99:37682 ↔ 21.65.95.132:465 class=tls version=TLS1.2 ja3=f17ca639ecdcaa65b4521c49e3515ef9 ja4=t12d860600_e18388e7f3a3_4446390ac224",
		"tcp 192.168.1.185:58290 ↔ 8.8.8.8:853 class=tls version=TLS1.2 ja3=4fa5e77b91a47e7cdcf5a5e6d25f8449 ja3s=2b341b88c742e940cfb485ce7d93dde7 ja4=t12d250900_7415a186c913_cdf51c020b42",
		// Hostname/SNI of an HTTP flow is the Host header: not an SNI.
		"tcp 192.168.0.4:54337 ↔ 192.254.189.169:80 class=plaintext",
	})
}

func TestParseJA4(t *testing.T) {
	got, err := ParseJA4Snapshot(string(readTestdata(t, "ja4.snap")), "ja4.snap")
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, []string{
		"tcp 10.11.12.13:54723 ↔ 10.9.8.7:8080 ja4=t12i860500_e18388e7f3a3_a1e935682795",
		"udp [2001:db8:1::1]:50280 ↔ [2606:4700:10::6816:826]:443 [quic] sni=cloudflare-quic.com ja4=q13d0310h3_55b375c5d22e_cd85d2d88918",
		"tcp 172.27.7.31:54525 ↔ 68.67.160.117:443 sni=*.quoted.example ja4=t13d1516h2_8daaf6152771_e5627efa2ab1",
	})
	got, err = ParseJA4Snapshot(string(readTestdata(t, "ja4-empty.snap")), "ja4-empty.snap")
	if err != nil || len(got) != 0 {
		t.Errorf("empty snapshot: %v, %v", got, err)
	}
	got, err = ParseJA4Python(readTestdata(t, "ja4-python.json"), "ja4-python.json")
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, []string{
		// Two handshakes on one stream: JA4.1 and JA4.2 are both acceptable.
		"tcp 192.168.1.168:50159 ↔ 13.107.237.40:443 sni=mem.gfx.ms ja4=t13d1516h2_8daaf6152771_e5627efa2ab1 | t13d1515h2_8daaf6152771_f37e75b10bcc",
		"tcp 192.168.1.168:50122 ↔ 192.241.241.147:443 sni=lp-push-server-452.lastpass.com ja4=t13d1516h1_8daaf6152771_e5627efa2ab1",
		"tcp 192.168.1.168:50157 ↔ 23.218.218.147:443 sni=statics-marketingsites-eus-ms-com.akamaized.net ja4=t13d1516h2_8daaf6152771_e5627efa2ab1",
	})
	if _, err := ParseJA4Python([]byte(`{"not": "a list"}`), "bad"); err == nil {
		t.Error("JSON object instead of list: no error")
	}
}

func TestParseTshark(t *testing.T) {
	got, err := ParseTshark(bytes.NewReader(readTestdata(t, "tshark.tsv")), "tshark.tsv")
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, []string{
		// hrr.pcap: the HelloRetryRequest is the only ServerHello row.
		"tcp 10.192.48.168:63564 ↔ 64.233.185.139:443 version=TLS1.3 ja3=0f14b679807628ec7f9c02cada3ee941 ja3s=15af977ce25de452b96affa2addb1036",
		// GTP-U: outer and inner addresses comma-joined; the inner ones count.
		"tcp 192.168.147.177:58496 ↔ 151.121.193.160:443 version=TLS1.2 sni=192.69.136.179 ja3=50221ef5bde0fcee8864bbcea5211d51 ja3s=7c02dbae662670040c7af9bd15fb7e2f",
		"udp 127.0.0.1:49320 ↔ 127.0.0.1:443 [quic 2] version=TLS1.3 sni=localhost alpn=quic-echo-example ja3=3e9680842aa1ac1f48edc74e779ebc97 ja3s=f4febc55ea12b31ae17cfb7e614afda8 quic_version=2",
		"udp 192.168.17.58:60934 ↔ 165.227.57.17:4400 [dtls] version=DTLS1.2 ja3=3c3d129780d0066cd8936a6291a8d44f ja3s=953c1507994f72697446de4eff6e300b",
	})
	if _, err := ParseTshark(strings.NewReader("frame.number\tip.src\n1\t10.0.0.1\n"), "bad"); err == nil {
		t.Error("header without tls.handshake.type: no error")
	}
}

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest(bytes.NewReader(readTestdata(t, "manifest.tsv")))
	if err != nil {
		t.Fatal(err)
	}
	wantCaps := []string{
		"zeek/testing/btest/Traces/mysql/tls-12-amazon-rds.pcap",
		"zeek/testing/btest/Traces/tls/certificate-with-sct.pcap",
		"zeek/testing/btest/Traces/tls/dhe.pcap",
		"zeek/testing/btest/Traces/tls/dtls1_0.pcap",
	}
	if !reflect.DeepEqual(m.Captures, wantCaps) {
		t.Errorf("captures %q, want %q", m.Captures, wantCaps)
	}
	ext := "zeek/testing/btest/Baseline/scripts.policy.protocols.ssl.ssl-log-ext/ssl-all.log"
	if got := m.Truth[ext]; len(got) != 2 {
		t.Errorf("%s covers %q, want 2 captures", ext, got)
	}
	wantOrder := []string{"dhe.pcap", "ecdhe.pcap", "ssl.v3.pcap", "tls1_1.pcap", "dtls1_0.pcap", "dtls1_2.pcap",
		"tls13_wolfssl.pcap", "tls13draft23-chrome67.0.3368.0-canary.pcap", "tls13-ech.pcap"}
	if got := m.TraceOrder[ext]; !reflect.DeepEqual(got, wantOrder) {
		t.Errorf("trace order %q, want %q", got, wantOrder)
	}
	if _, ok := m.Truth["-"]; ok {
		t.Error(`"-" taken as a reference file`)
	}
	if _, err := ParseManifest(strings.NewReader("wrong\theader\n")); err == nil {
		t.Error("bad header: no error")
	}
	if _, err := ParseManifest(strings.NewReader("source\tpcap\ttruth_file\twhat_it_covers\nzeek\tx.pcap\n")); err == nil {
		t.Error("short row: no error")
	}
}
