package classify

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testDatagram is one datagram of a recorded UDP flow.
type testDatagram struct {
	server bool
	b      []byte
}

// readDatagrams reads testdata/<dir>/<name>.hex: one "client <hex>" or
// "server <hex>" line per datagram, in capture order.
func readDatagrams(t testing.TB, dir, name string) []testDatagram {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", dir, name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []testDatagram
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		side, h, ok := strings.Cut(line, " ")
		if !ok || (side != "client" && side != "server") {
			t.Fatalf("%s: bad line %q", name, line)
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, testDatagram{server: side == "server", b: b})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// framedDirections joins the datagrams of each direction as the flow table keeps
// them, each behind its 2-byte length.
func framedDirections(dgrams []testDatagram) (client, server []byte) {
	for _, d := range dgrams {
		fr := append([]byte{byte(len(d.b) >> 8), byte(len(d.b))}, d.b...)
		if d.server {
			server = append(server, fr...)
		} else {
			client = append(client, fr...)
		}
	}
	return client, server
}

// replay feeds the datagrams to c one at a time, the way the flow table does (at
// most 8 per direction, a classification after each), and returns the first
// verdict that is done, or the final one. n is how many datagrams it took.
func replay(c *Classifier, dgrams []testDatagram) (v Verdict, n int) {
	const perDirection = 8
	var in Input
	in.Proto, in.ClientPort, in.ServerPort = 17, 50000, 443
	counts := [2]int{}
	for i, d := range dgrams {
		dir := 0
		if d.server {
			dir = 1
		}
		if counts[dir] == perDirection {
			continue
		}
		counts[dir]++
		fr := append([]byte{byte(len(d.b) >> 8), byte(len(d.b))}, d.b...)
		if d.server {
			in.Server = append(in.Server, fr...)
		} else {
			in.Client = append(in.Client, fr...)
		}
		in.ClientMore, in.ServerMore = counts[0] < perDirection, counts[1] < perDirection
		if v, done := c.Classify(&in); done {
			return v, i + 1
		}
	}
	in.Final = true
	v, _ = c.Classify(&in)
	return v, len(dgrams)
}

// helloMessages returns the ClientHello and ServerHello handshake messages of a
// recorded TLS 1.3 connection whose hellos fill their first records.
func helloMessages(t testing.TB) (ch, sh []byte) {
	t.Helper()
	cl, sv := readConn(t, "curl-tls13")
	first := func(b []byte) []byte {
		n := int(b[3])<<8 | int(b[4])
		return b[5 : 5+n]
	}
	return first(cl), first(sv)
}

// quicPacket describes a long-header packet for sealQUIC.
type quicPacket struct {
	version uint32
	typ     int    // quicType*, v1 numbering
	dcid    []byte // in the header
	scid    []byte
	token   []byte
	pn      uint32
	frames  []byte
	keyDCID []byte // the client DCID the keys derive from; dcid when nil
	server  bool   // sealed with the server's keys
	pad     int    // total size to pad the plaintext to (PADDING frames)
}

// sealQUIC builds a protected Initial (or other long-header) packet: header, packet
// protection, then header protection (RFC 9001 §5.3, §5.4), with a 4-byte packet
// number.
func sealQUIC(t testing.TB, p quicPacket) []byte {
	t.Helper()
	params, ok := quicParams(p.version)
	if !ok {
		t.Fatalf("no keys for %#x", p.version)
	}
	keyDCID := p.keyDCID
	if keyDCID == nil {
		keyDCID = p.dcid
	}
	keys, err := deriveQUICKeys(params, keyDCID, p.server)
	if err != nil {
		t.Fatal(err)
	}
	plain := append([]byte(nil), p.frames...)
	for len(plain) < p.pad {
		plain = append(plain, 0)
	}
	const pnLen = 4
	typ := p.typ
	if params.v2 {
		typ = (typ + 1) & 0x03
	}
	hdr := []byte{0xc0 | byte(typ)<<4 | pnLen - 1}
	hdr = binary.BigEndian.AppendUint32(hdr, p.version)
	hdr = append(hdr, byte(len(p.dcid)))
	hdr = append(hdr, p.dcid...)
	hdr = append(hdr, byte(len(p.scid)))
	hdr = append(hdr, p.scid...)
	if p.typ == quicTypeInitial {
		hdr = quicvarint(hdr, uint64(len(p.token)))
		hdr = append(hdr, p.token...)
	}
	length := pnLen + len(plain) + keys.aead.Overhead()
	hdr = append(hdr, 0x40|byte(length>>8), byte(length)) // 2-byte varint
	pnOffset := len(hdr)
	hdr = binary.BigEndian.AppendUint32(hdr, p.pn)
	var nonce [12]byte
	copy(nonce[:], keys.iv[:])
	for i := range 8 {
		nonce[4+i] ^= byte(uint64(p.pn) >> (56 - 8*i))
	}
	pkt := keys.aead.Seal(hdr, nonce[:], plain, hdr)
	var mask [16]byte
	keys.hp.Encrypt(mask[:], pkt[pnOffset+4:pnOffset+20])
	pkt[0] ^= mask[0] & 0x0f
	for i := range pnLen {
		pkt[pnOffset+i] ^= mask[1+i]
	}
	return pkt
}

// quicvarint appends v as a QUIC variable-length integer (RFC 9000 §16).
func quicvarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// cryptoFrame encodes a CRYPTO frame.
func cryptoFrame(off uint64, data []byte) []byte {
	b := quicvarint([]byte{quicFrameCrypto}, off)
	b = quicvarint(b, uint64(len(data)))
	return append(b, data...)
}

// frame wraps datagrams in their 2-byte lengths.
func frame(dgrams ...[]byte) []byte {
	var out []byte
	for _, d := range dgrams {
		out = append(out, byte(len(d)>>8), byte(len(d)))
		out = append(out, d...)
	}
	return out
}

var (
	testDCID = []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08} // RFC 9001 App. A
	testSCID = []byte{0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5}
)

// TestQUICInitialKeys checks the key derivation against RFC 9001 Appendix A.1 and
// RFC 9369 Appendix A.1.
func TestQUICInitialKeys(t *testing.T) {
	tests := []struct {
		version        uint32
		server         bool
		key, iv, hpKey string
	}{
		{quicVersion1, false, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{quicVersion1, true, "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
		{quicVersion2, false, "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
		{quicVersion2, true, "82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a"},
	}
	for _, tt := range tests {
		p, _ := quicParams(tt.version)
		k, err := deriveQUICKeys(p, testDCID, tt.server)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(k.iv[:]); got != tt.iv {
			t.Errorf("%#x server=%v: iv %s, want %s", tt.version, tt.server, got, tt.iv)
		}
		// The AEAD and header protection keys are not exposed; check them through
		// what they compute: AES-ECB of zero with the hp key, and a GCM seal.
		var zero, got [16]byte
		k.hp.Encrypt(got[:], zero[:])
		hpKey, _ := hex.DecodeString(tt.hpKey)
		want := aesBlock(t, hpKey, zero[:])
		if got != want {
			t.Errorf("%#x server=%v: hp key differs", tt.version, tt.server)
		}
		key, _ := hex.DecodeString(tt.key)
		if !bytes.Equal(k.aead.Seal(nil, make([]byte, 12), nil, nil), gcmSeal(t, key)) {
			t.Errorf("%#x server=%v: packet key differs", tt.version, tt.server)
		}
	}
}

func aesBlock(t testing.TB, key, in []byte) (out [16]byte) {
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	b.Encrypt(out[:], in)
	return out
}

func gcmSeal(t testing.TB, key []byte) []byte {
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return g.Seal(nil, make([]byte, 12), nil, nil)
}

// TestQUICRFC9001ServerInitial decrypts the server Initial of RFC 9001 Appendix A.3
// with the keys of the client's DCID of Appendix A.
func TestQUICRFC9001ServerInitial(t *testing.T) {
	pkt, _ := hex.DecodeString("cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a" +
		"5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3" +
		"dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84" +
		"022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4" +
		"2158407dd074ee")
	var h quicHeader
	if err := parseQUICLongHeader(pkt, &h); err != nil {
		t.Fatal(err)
	}
	var q quicScanner
	q.reset()
	payload, err := q.open(pkt, &h, quicVersion1, testDCID, true, -1)
	if err != nil {
		t.Fatal(err)
	}
	// ACK of packet 0, then a CRYPTO frame with the ServerHello (RFC 9001 A.3).
	if q.lastPN != 1 || !bytes.HasPrefix(payload, []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x40, 0x5a, 0x02}) {
		t.Fatalf("pn %d payload %x", q.lastPN, payload)
	}
	var buf spanBuffer
	buf.reset(quicMaxCrypto)
	if err := quicFrames(payload, &buf, false); err != nil {
		t.Fatal(err)
	}
	var sh ServerHello
	if err := sh.Unmarshal(buf.contiguous()); err != nil || sh.CipherSuite != 0x1301 || sh.Version() != VersionTLS13 {
		t.Fatalf("server hello %v: %+v", err, sh)
	}
}

func TestDecodePacketNumber(t *testing.T) {
	// RFC 9000 Appendix A.3's example, and the start of a connection.
	if got := decodePacketNumber(0xa82f30ea, 0x9b32, 16); got != 0xa82f9b32 {
		t.Errorf("got %#x", got)
	}
	if got := decodePacketNumber(-1, 0, 8); got != 0 {
		t.Errorf("got %d", got)
	}
	if got := decodePacketNumber(-1, 1, 32); got != 1 {
		t.Errorf("got %d", got)
	}
}

// TestQUICRecorded classifies QUIC flows of the reference corpus (testdata/quic,
// see its README for where each comes from and which tool's output each expected
// value matches).
func TestQUICRecorded(t *testing.T) {
	tests := []struct {
		name    string
		class   Class
		other   string
		sni     string
		alpn    string // first offered protocol
		ja3     string
		ja3s    string
		ja4     string
		cipher  uint16
		hrr     bool
		parse   string
		atCount int // the datagram after which the verdict came
	}{
		{"chrome-cloudflare-v1", ClassTLS, "quic", "cloudflare-quic.com", "h3", "3cbc33c648fe331404456f48a5a27170", "eb1d94daa7e0344597e756a1fb6e7054", "q13d0310h3_55b375c5d22e_cd85d2d88918", 0x1301, false, "", 3},
		{"chromium-fragmented-v1", ClassTLS, "quic", "www.google.de", "h3", "d0b6d21da230b6eb1fa42d221ec5b3e2", "eb1d94daa7e0344597e756a1fb6e7054", "q13d0310h3_55b375c5d22e_cd85d2d88918", 0x1301, false, "", 2},
		{"quic-go-multi-initial", ClassTLS, "quic", "googleads.g.doubleclick.net", "h3", "a737e2cfe3b7e8f28cf5a2afd1427700", "", "q13d0313h3_55b375c5d22e_226f3f127bbe", 0, false, "", 10},
		{"ch-two-packets", ClassTLS, "quic", "", "h3-34", "0299b052ace53a14c3a04aceb5efd247", "f4febc55ea12b31ae17cfb7e614afda8", "q00i0307h4_55b375c5d22e_af0a630e9e67", 0x1301, false, "", 4},
		{"different-dcid", ClassTLS, "quic", "cdnjs.cloudflare.com", "h3", "77f2e7e7117b061992c6529845aa351c", "", "q13d0311h3_55b375c5d22e_5a1f323ef56d", 0, false, "", 3},
		{"retry", ClassTLS, "quic", "www.gravatar.com", "h3", "0b0b4e88770444edb82150180c407471", "f4febc55ea12b31ae17cfb7e614afda8", "q13d0314h3_55b375c5d22e_61e396c58b1f", 0x1301, false, "", 8},
		{"forcing-vn", ClassTLS, "quic", "", "h3", "86871fd0d48de0c82beec154cd3f1744", "eb1d94daa7e0344597e756a1fb6e7054", "q13i0307h3_55b375c5d22e_f0736a66fa6b", 0x1301, false, "", 6},
		{"zero-rtt-first", ClassTLS, "quic", "ssl.gstatic.com", "h3", "06b6b2a2cba0b7deeaaa6a3d8374d627", "2b0648ab686ee45e0e7c35fcfb0eea7e", "q13d0312h3_55b375c5d22e_73e2d9e6cde6", 0x1301, false, "", 4},
		{"doq", ClassTLS, "quic", "", "doq-i00", "c0ce40fbb78cbf86a14e6a38b26d6ede", "f4febc55ea12b31ae17cfb7e614afda8", "q00i0307d0_55b375c5d22e_23ed935430f2", 0x1301, false, "", 2},
		{"v2-suricata", ClassTLS, "quic", "", "h3", "ea0aece5703cb982b232a0684fc35b16", "f4febc55ea12b31ae17cfb7e614afda8", "q13i0311h3_55b375c5d22e_c183556c78e2", 0x1301, false, "", 2},
		{"v2-echo", ClassTLS, "quic", "localhost", "quic-echo-example", "3e9680842aa1ac1f48edc74e779ebc97", "f4febc55ea12b31ae17cfb7e614afda8", "q13d0311qe_55b375c5d22e_df5b9e597968", 0x1301, false, "", 3},
		{"draft23", ClassTLS, "quic", "quic.aiortc.org", "h3-22", "d9e7bdb15af8e499820ca74a68affd78", "15af977ce25de452b96affa2addb1036", "q13d0308h2_55b375c5d22e_23ed935430f2", 0x1302, false, "", 2},
		{"draft27", ClassTLS, "quic", "play.google.com", "h3-27", "1e022f87823477abd6a79c31d70062d7", "eb1d94daa7e0344597e756a1fb6e7054", "q13d0309h7_55b375c5d22e_f68d9329452a", 0x1301, false, "", 2},
		{"draft29", ClassTLS, "quic", "localhost", "h3-29", "b3e43d74f4b790abca2f5fe7dd06e7cf", "475c9302dc42b2751db9edcac3b74891", "q13d0512h9_d55e91d5c3b2_cd318bf3b157", 0x1303, true, "", 6},
		{"draft34", ClassTLS, "quic", "", "h3-34", "0299b052ace53a14c3a04aceb5efd247", "f4febc55ea12b31ae17cfb7e614afda8", "q00i0307h4_55b375c5d22e_af0a630e9e67", 0x1301, false, "", 2},
		{"mvfst-draft27", ClassTLS, "quic", "graph.facebook.com", "h3-fb-05", "61d8a93ff379660087082a82411f19a2", "f4febc55ea12b31ae17cfb7e614afda8", "q00d0108h5_0f2cb44170f4_f4b4187450f5", 0x1301, false, "", 3},
		{"mvfst-exp", ClassTLS, "quic", "video.fmct2-3.fna.fbcdn.net", "h3-fb-05", "61d8a93ff379660087082a82411f19a2", "f4febc55ea12b31ae17cfb7e614afda8", "q00d0108h5_0f2cb44170f4_f4b4187450f5", 0x1301, false, "", 2},
		{"google-t050", ClassTLS, "quic", "fonts.googleapis.com", "h3-T050", "a2fc589336b7c13b674c1bab24655ce7", "d75f9129bb5d05492a65ff78e081bcb2", "q13d0309h0_55b375c5d22e_f68d9329452a", 0x1303, false, "", 2},
		{"google-t051", ClassTLS, "quic", "www.google.com", "h3-T051", "92e76078d514999cd950474995dab2b5", "eb1d94daa7e0344597e756a1fb6e7054", "q13d0308h1_55b375c5d22e_e7bc1e4f333e", 0x1301, false, "", 2},
		{"quicgo-v1", ClassTLS, "quic", "quic.example.test", "tlsaudit-test", "aeb4a42cd7925b343b143434a712dd00", "f4febc55ea12b31ae17cfb7e614afda8", "q13d0313tt_55b375c5d22e_f902b76752af", 0x1301, false, "", 4},
		{"quicgo-v2", ClassTLS, "quic", "quic.example.test", "tlsaudit-test", "aeb4a42cd7925b343b143434a712dd00", "f4febc55ea12b31ae17cfb7e614afda8", "q13d0313tt_55b375c5d22e_f902b76752af", 0x1301, false, "", 3},
		{"gquic-q043", ClassEncrypted, "gquic", "r3---sn-n4v7knl6.googlevideo.com", "", "", "", "", 0, false, "", 1},
		{"gquic-q046", ClassEncrypted, "gquic", "accounts.google.com", "", "", "", "", 0, false, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Classifier
			v, n := replay(&c, readDatagrams(t, "quic", tt.name))
			alpn := ""
			if len(v.ALPN) > 0 {
				alpn = v.ALPN[0]
			}
			if v.Class != tt.class || v.AppOther != tt.other || v.SNI != tt.sni || alpn != tt.alpn ||
				v.JA3 != tt.ja3 || v.JA3S != tt.ja3s || v.JA4 != tt.ja4 || v.Cipher != tt.cipher ||
				v.HRR != tt.hrr || v.ParseError != tt.parse {
				t.Errorf("got %v %q sni %q alpn %q ja3 %s ja3s %s ja4 %s cipher %#04x hrr %v parse %q",
					v.Class, v.AppOther, v.SNI, alpn, v.JA3, v.JA3S, v.JA4, v.Cipher, v.HRR, v.ParseError)
			}
			if tt.class == ClassTLS && v.Version != VersionTLS13 {
				t.Errorf("version %v", v.Version)
			}
			// quic-go offers and gets X25519MLKEM768.
			if strings.HasPrefix(tt.name, "quicgo") && (!v.PQ || v.Group != 0x11ec) {
				t.Errorf("post-quantum %v, group %#04x", v.PQ, v.Group)
			}
			if n != tt.atCount {
				t.Errorf("verdict after datagram %d, want %d", n, tt.atCount)
			}
			// The version is the one the ClientHello came in: forcing-vn opens with a
			// reserved version to provoke Version Negotiation, then speaks version 1.
			if want, ok := map[string]uint32{"forcing-vn": 1, "quicgo-v2": 0x6b3343cf, "draft29": 0xff00001d, "chrome-cloudflare-v1": 1}[tt.name]; ok && v.QUICVersion != want {
				t.Errorf("QUICVersion %#x, want %#x", v.QUICVersion, want)
			}
		})
	}
}

// TestParseQUICRecorded reads the recorded flows with ParseQUIC.
func TestParseQUICRecorded(t *testing.T) {
	for _, name := range []string{"retry", "forcing-vn", "draft29", "v2-echo", "google-t051", "quic-go-multi-initial"} {
		t.Run(name, func(t *testing.T) {
			cl, sv := framedDirections(readDatagrams(t, "quic", name))
			h, err := ParseQUIC(cl, sv)
			if err != nil {
				t.Fatal(err)
			}
			if h.ClientHellos == 0 || h.ClientInitials == 0 {
				t.Errorf("%+v", h)
			}
			switch name {
			case "retry":
				if !h.Retry || !h.ServerHelloSeen {
					t.Errorf("retry %v, server hello %v", h.Retry, h.ServerHelloSeen)
				}
			case "forcing-vn":
				if !h.VersionNegotiation || h.Version != quicVersion1 {
					t.Errorf("version negotiation %v, version %#x", h.VersionNegotiation, h.Version)
				}
			case "draft29":
				if !h.Retry || !h.HRR || h.ClientHellos != 2 || h.Version != quicDraftBase|29 {
					t.Errorf("retry %v hrr %v hellos %d version %#x", h.Retry, h.HRR, h.ClientHellos, h.Version)
				}
			case "v2-echo":
				if h.Version != quicVersion2 {
					t.Errorf("version %#x", h.Version)
				}
			}
		})
	}
}

// TestQUICInvalid feeds hand-made Initial packets that break one rule each.
func TestQUICInvalid(t *testing.T) {
	ch, sh := helloMessages(t)
	dcid := testDCID
	initial := func(frames []byte) []byte {
		return sealQUIC(t, quicPacket{version: quicVersion1, dcid: dcid, scid: testSCID, frames: frames, pad: 1162})
	}
	whole := initial(cryptoFrame(0, ch))
	half := len(ch) / 2
	tests := []struct {
		name   string
		client [][]byte
		server [][]byte
		err    error // nil: a ClientHello is read
	}{
		{"whole", [][]byte{whole}, nil, nil},
		{"split over two packets, reversed", [][]byte{
			initial(cryptoFrame(uint64(half), ch[half:])), initial(cryptoFrame(0, ch[:half]))}, nil, nil},
		{"split over two frames, overlapping with the same bytes", [][]byte{
			initial(append(cryptoFrame(0, ch[:half+10]), cryptoFrame(uint64(half), ch[half:])...))}, nil, nil},
		{"coalesced with a 0-RTT packet", [][]byte{append(whole,
			sealQUIC(t, quicPacket{version: quicVersion1, typ: quicTypeZeroRTT, dcid: dcid, scid: testSCID, frames: []byte{1}, pad: 20})...)}, nil, nil},
		{"truncated header", [][]byte{whole[:7]}, nil, errQUICHeader},
		{"DCID longer than 20 bytes", [][]byte{append(append([]byte{0xc3, 0, 0, 0, 1, 21}, make([]byte, 21)...), make([]byte, 1200)...)}, nil, errQUICCIDLen},
		{"token length beyond the datagram", [][]byte{append([]byte{0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0x7f, 0xff}, make([]byte, 1200)...)}, nil, errQUICToken},
		{"length beyond the datagram", [][]byte{whole[:len(whole)-1]}, nil, errQUICLength},
		{"too short for the sample", [][]byte{{0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 4, 0, 0, 0, 0}}, nil, errQUICSample},
		{"tag mismatch", [][]byte{flipLast(whole)}, nil, errQUICDecrypt},
		{"CRYPTO offset beyond the bound", [][]byte{initial(cryptoFrame(quicMaxCrypto, []byte{1}))}, nil, errSpanLimit},
		{"overlapping CRYPTO frames that differ", [][]byte{
			initial(append(cryptoFrame(0, ch[:half+1]), cryptoFrame(uint64(half), flipFirst(ch[half:]))...))}, nil, errSpanConflict},
		{"STREAM frame in an Initial", [][]byte{initial(append([]byte{0x08, 0}, cryptoFrame(0, ch)...))}, nil, errQUICFrameType},
		{"ACK frame with more ranges than bytes", [][]byte{
			initial(append([]byte{0x02, 0x05, 0x00, 0x7f, 0xff, 0x00}, cryptoFrame(0, ch)...))}, nil, errQUICFrame},
		{"ServerHello in the client's stream", [][]byte{initial(cryptoFrame(0, sh))}, nil, errQUICMessage},
		{"ClientHello incomplete", [][]byte{initial(cryptoFrame(0, ch[:half]))}, nil, errQUICIncomplete},
		{"unknown version", [][]byte{append([]byte{0xc3, 0x1a, 0x2a, 0x3a, 0x4a, 8}, make([]byte, 1200)...)}, nil, errQUICVersion},
		{"no long header", [][]byte{make([]byte, 1200)}, nil, errQUICNoInitial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseQUIC(frame(tt.client...), frame(tt.server...))
			if (h == nil) != (err != nil) {
				t.Fatalf("result %v with error %v", h != nil, err)
			}
			if tt.err == nil {
				if err != nil || string(h.ClientHello.ServerName) != "" && h.ClientHellos != 1 {
					t.Fatalf("error %v", err)
				}
				return
			}
			if h != nil {
				t.Fatalf("a ClientHello was read; want %v", tt.err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v, want %v", err, tt.err)
			}
		})
	}
}

func flipLast(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-1] ^= 1
	return b
}

func flipFirst(b []byte) []byte {
	b = bytes.Clone(b)
	b[0] ^= 1
	return b
}

// TestQUICServerInitial: the server's keys come from the client's DCID, even after
// the client switched to the server's connection ID (RFC 9001 §5.2, RFC 9000 §7.2),
// and a HelloRetryRequest sends a second ClientHello on in the same CRYPTO stream.
func TestQUICServerInitial(t *testing.T) {
	ch, sh := helloMessages(t)
	client := sealQUIC(t, quicPacket{version: quicVersion1, dcid: testDCID, scid: testSCID, frames: cryptoFrame(0, ch), pad: 1162})
	server := sealQUIC(t, quicPacket{version: quicVersion1, dcid: testSCID, scid: []byte{9, 9, 9, 9}, keyDCID: testDCID,
		server: true, frames: append([]byte{0x02, 0, 0, 0, 0}, cryptoFrame(0, sh)...), pad: 200})
	h, err := ParseQUIC(frame(client), frame(server))
	if err != nil {
		t.Fatal(err)
	}
	if !h.ServerHelloSeen || h.ServerHello.Version() != VersionTLS13 || h.ServerInitials != 1 {
		t.Fatalf("server hello %v version %v", h.ServerHelloSeen, h.ServerHello.Version())
	}

	// The verdict waits for the server, then carries both hellos.
	var c Classifier
	in := Input{Proto: 17, Client: frame(client), ClientMore: true, ServerMore: true}
	if _, done := c.Classify(&in); done {
		t.Fatal("decided before the server's Initial")
	}
	in.Server = frame(server)
	v, done := c.Classify(&in)
	if !done || v.Class != ClassTLS || v.AppOther != "quic" || v.Cipher != h.ServerHello.CipherSuite ||
		v.JA4[0] != 'q' || v.JA3S == "" {
		t.Fatalf("done %v verdict %+v", done, v)
	}

	// A second client Initial addressed to the server's connection ID, keyed by
	// the original DCID, carrying the second half of a split hello.
	half := len(ch) / 2
	first := sealQUIC(t, quicPacket{version: quicVersion1, dcid: testDCID, scid: testSCID, frames: cryptoFrame(0, ch[:half]), pad: 1162})
	second := sealQUIC(t, quicPacket{version: quicVersion1, dcid: []byte{9, 9, 9, 9}, keyDCID: testDCID, scid: testSCID, pn: 1,
		frames: cryptoFrame(uint64(half), ch[half:]), pad: 1162})
	if h, err := ParseQUIC(frame(first, second), nil); err != nil || h.ClientInitials != 2 {
		t.Fatalf("split over a connection ID switch: %v", err)
	}
}

// TestQUICFallback: an Initial that cannot be decrypted still proves TLS 1.3.
func TestQUICFallback(t *testing.T) {
	ch, _ := helloMessages(t)
	whole := sealQUIC(t, quicPacket{version: quicVersion1, dcid: testDCID, scid: testSCID, frames: cryptoFrame(0, ch), pad: 1162})
	var c Classifier
	v, done := c.Classify(&Input{Proto: 17, Client: frame(flipLast(whole)), ClientMore: true, ServerMore: true})
	if !done || v.Class != ClassTLS || v.Version != VersionTLS13 || v.AppOther != "quic" || v.SNI != "" ||
		v.ParseError != "quic_decrypt" {
		t.Fatalf("done %v verdict %+v", done, v)
	}
	// A hello still incomplete waits for the client's next datagram, then gives up
	// at the end.
	part := sealQUIC(t, quicPacket{version: quicVersion1, dcid: testDCID, scid: testSCID, frames: cryptoFrame(0, ch[:100]), pad: 1162})
	in := Input{Proto: 17, Client: frame(part), ClientMore: true, ServerMore: true}
	if _, done := c.Classify(&in); done {
		t.Fatal("decided on half a hello")
	}
	in.Final = true
	if v, done := c.Classify(&in); !done || v.Class != ClassTLS || v.ParseError != "quic_incomplete" {
		t.Fatalf("final: %+v", v)
	}
}

// unopenedInitials returns n QUIC v1 client Initials, each naming its own 2-byte
// Destination Connection ID (id, id+1, ...) and long enough to be opened, whose
// authentication fails: each is worth a key derivation to try, and opens with none.
func unopenedInitials(n, id int) []byte {
	const length = quicSampleOffset + quicSampleLen + 4
	var d []byte
	for i := range n {
		d = append(d, 0xc3, 0, 0, 0, 1, 2, byte((id+i)>>8), byte(id+i), 0, 0, length)
		d = append(d, make([]byte, length)...)
	}
	return d
}

// TestQUICBounds: past each bound on a scan's work, what is left is not read and
// the direction's error is the bound's. A flow whose ClientHello was read stays TLS,
// with the bound as its parse error; one without is unknown.
func TestQUICBounds(t *testing.T) {
	ch, _ := helloMessages(t)
	var hello ClientHello
	if err := hello.Unmarshal(ch); err != nil {
		t.Fatal(err)
	}
	sni := string(hello.ServerName)
	initial := func(frames []byte) []byte {
		return sealQUIC(t, quicPacket{version: quicVersion1, dcid: testDCID, scid: testSCID, frames: frames, pad: 1162})
	}
	whole := initial(cryptoFrame(0, ch))
	zeroRTT := sealQUIC(t, quicPacket{version: quicVersion1, typ: quicTypeZeroRTT, dcid: testDCID, scid: testSCID, frames: []byte{quicFramePing}, pad: 20})
	pings := func(n int) []byte { return bytes.Repeat([]byte{quicFramePing}, n) }
	tests := []struct {
		name   string
		client [][]byte
		err    error // the client's error, nil for none
		hello  bool  // a ClientHello is read
	}{
		{"packets in a datagram up to the bound", [][]byte{slices.Concat(whole, bytes.Repeat(zeroRTT, quicMaxPackets-1))}, nil, true},
		{"packets in a datagram past the bound, after the hello", [][]byte{slices.Concat(whole, bytes.Repeat(zeroRTT, quicMaxPackets))}, errQUICTooManyPackets, true},
		{"packets in a datagram past the bound, before the hello", [][]byte{slices.Concat(bytes.Repeat(zeroRTT, quicMaxPackets), whole)}, errQUICTooManyPackets, false},
		{"frames in a packet up to the bound", [][]byte{initial(append(pings(quicMaxFrames-1), cryptoFrame(0, ch)...))}, nil, true},
		{"frames in a packet past the bound", [][]byte{initial(append(pings(quicMaxFrames), cryptoFrame(0, ch)...))}, errQUICTooManyFrames, false},
		{"PADDING frames do not count", [][]byte{initial(append(make([]byte, 2*quicMaxFrames), cryptoFrame(0, ch)...))}, nil, true},
		{"Initials no keys open, up to the bound", [][]byte{unopenedInitials(quicMaxKeyTrials-1, 0), whole}, errQUICDecrypt, true},
		{"Initials no keys open, past the bound over two datagrams", [][]byte{
			unopenedInitials(quicMaxKeyTrials/2, 0), unopenedInitials(quicMaxKeyTrials/2, 100), whole}, errQUICTooManyKeys, false},
		{"a third ClientHello", [][]byte{initial(cryptoFrame(0, bytes.Repeat(ch, 3)))}, errQUICMessage, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := frame(tt.client...)
			h, err := ParseQUIC(client, nil)
			switch {
			case tt.hello && err != nil:
				t.Fatalf("error %v, want a ClientHello", err)
			case tt.hello && !errors.Is(h.ClientErr, tt.err):
				t.Fatalf("client error %v, want %v", h.ClientErr, tt.err)
			case tt.hello && h.ClientHellos > quicMaxClientHellos:
				t.Fatalf("%d ClientHellos", h.ClientHellos)
			case !tt.hello && (h != nil || !errors.Is(err, tt.err)):
				t.Fatalf("result %v, error %v; want %v", h != nil, err, tt.err)
			}
			var c Classifier
			v, done := c.Classify(&Input{Proto: 17, Client: client, ClientMore: true, ServerMore: true, Final: true})
			wantParse := ""
			if quicLimit(tt.err) {
				wantParse = reasonQUICLimit
			}
			switch {
			case !done:
				t.Fatal("not done")
			case tt.hello && (v.Class != ClassTLS || v.SNI != sni || v.ParseError != wantParse):
				t.Errorf("verdict %v sni %q parse %q; want tls, %q, %q", v.Class, v.SNI, v.ParseError, sni, wantParse)
			case !tt.hello && (v.Class != ClassUnknown || v.Reason != ReasonTLSMalformed || v.ParseError != reasonQUICLimit):
				t.Errorf("verdict %v reason %q parse %q; want unknown, %s, %s", v.Class, v.Reason, v.ParseError, ReasonTLSMalformed, reasonQUICLimit)
			}
		})
	}
}

// TestQUICSecondHRR: a server sends one HelloRetryRequest at most (RFC 8446
// §4.1.4); a second ends its stream, and the ServerHello after it is not read.
func TestQUICSecondHRR(t *testing.T) {
	ch, sh := helloMessages(t)
	hrr := bytes.Clone(sh)
	copy(hrr[4+2:], helloRetryRequestRandom[:]) // after the message header and legacy_version
	client := sealQUIC(t, quicPacket{version: quicVersion1, dcid: testDCID, scid: testSCID, frames: cryptoFrame(0, ch), pad: 1162})
	server := sealQUIC(t, quicPacket{version: quicVersion1, dcid: testSCID, keyDCID: testDCID, server: true,
		frames: cryptoFrame(0, slices.Concat(hrr, hrr, sh)), pad: 32})
	h, err := ParseQUIC(frame(client), frame(server))
	if err != nil {
		t.Fatal(err)
	}
	if !h.HRR || h.ServerHelloSeen || h.ServerErr == nil {
		t.Errorf("hrr %v server hello %v error %v", h.HRR, h.ServerHelloSeen, h.ServerErr)
	}
}

// TestQUICFloodBounded: one 64 KiB datagram of client Initials, each naming a
// connection ID of its own and none opening, used to cost one key derivation per
// Initial (1,872 of them) at every classification of the flow. The scan now stops
// at the bounds: it allocates no more than quicMaxKeyTrials derivations do, and
// the flow is unknown at once.
func TestQUICFloodBounded(t *testing.T) {
	flood := frame(unopenedInitials(65535/35, 0))
	p, _ := quicParams(quicVersion1)
	perKey := testing.AllocsPerRun(10, func() {
		if _, err := deriveQUICKeys(p, testDCID, false); err != nil {
			t.Fatal(err)
		}
	})
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := ParseQUIC(flood, nil); !errors.Is(err, errQUICTooManyKeys) {
			t.Fatalf("error %v, want %v", err, errQUICTooManyKeys)
		}
	})
	// Besides the keys: the scanner and the copy of a packet to open.
	if most := quicMaxKeyTrials*perKey + 4; allocs > most {
		t.Errorf("ParseQUIC: %.0f allocations, want at most %.0f (%.0f a key derivation)", allocs, most, perKey)
	}
	var c Classifier
	v, done := c.Classify(&Input{Proto: 17, Client: flood, ClientMore: true, ServerMore: true})
	if !done || v.Class != ClassUnknown || v.ParseError != reasonQUICLimit {
		t.Errorf("done %v verdict %v parse %q", done, v.Class, v.ParseError)
	}
}

// TestGoogleQUIC: QUIC Crypto is not TLS, and its hello names the server.
func TestGoogleQUIC(t *testing.T) {
	chlo := []byte("CHLO\x02\x00\x00\x00PAD\x00\x04\x00\x00\x00SNI\x00\x0f\x00\x00\x00....example.org")
	pkt := append([]byte{0x0d, 1, 2, 3, 4, 5, 6, 7, 8, 'Q', '0', '4', '3', 1}, chlo...)
	if !googleQUIC(pkt) || string(googleQUICSNI(pkt)) != "example.org" {
		t.Errorf("gQUIC %v sni %q", googleQUIC(pkt), googleQUICSNI(pkt))
	}
	for _, bad := range [][]byte{
		[]byte("CHLO\x02\x00\x00\x00PAD\x00\x10\x00\x00\x00SNI\x00\x0f\x00\x00\x00....example.org"), // offset past the end
		[]byte("CHLO\x02\x00\x00\x00PAD\x00\x04\x00\x00\x00SNI\x00\x02\x00\x00\x00...."),            // offsets going back
		[]byte("CHLO\x00\x00\x00\x00"),
	} {
		if sni := googleQUICSNI(append(pkt[:14:14], bad...)); sni != nil {
			t.Errorf("%q: sni %q", bad, sni)
		}
	}
	if googleQUIC([]byte{0x0d, 1, 2, 3, 4, 5, 6, 7, 8, 'T', '0', '5', '1'}) {
		t.Error("T051 taken for QUIC Crypto")
	}
}

// BenchmarkClassifyQUICUndecided is a client Initial waiting for the server: after
// the first call nothing is allocated.
func BenchmarkClassifyQUICUndecided(b *testing.B) {
	dgrams := readDatagrams(b, "quic", "chrome-cloudflare-v1")
	var c Classifier
	in := Input{Proto: 17, Client: frame(dgrams[0].b), ClientMore: true, ServerMore: true}
	c.Classify(&in)
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(&in)
	}
}

// BenchmarkClassifyQUIC is a whole Initial exchange to a verdict.
func BenchmarkClassifyQUIC(b *testing.B) {
	cl, sv := framedDirections(readDatagrams(b, "quic", "chrome-cloudflare-v1"))
	var c Classifier
	in := Input{Proto: 17, Client: cl, Server: sv, ClientMore: true, ServerMore: true}
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(&in)
	}
}

// BenchmarkClassifyQUICFlood is a 64 KiB client datagram of Initials that no keys
// open, each with a connection ID of its own: the bounds keep it to a few key
// derivations, and to none once they are cached.
func BenchmarkClassifyQUICFlood(b *testing.B) {
	in := Input{Proto: 17, Client: frame(unopenedInitials(65535/35, 0)), ClientMore: true, ServerMore: true}
	var c Classifier
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(&in)
	}
}

// FuzzQUICInitial: ParseQUIC never panics and returns an error exactly when it
// returns no result. Half the inputs go in as raw datagrams; the other half become
// the plaintext of properly protected Initial packets, so that the frame parser,
// CRYPTO reassembly and hello parsing are reached.
func FuzzQUICInitial(f *testing.F) {
	// One datagram per direction: small inputs keep the fuzzer's minimisation short.
	for _, name := range []string{"chrome-cloudflare-v1", "v2-echo", "google-t051", "draft23", "retry"} {
		var cl, sv []byte
		for _, d := range readDatagrams(f, "quic", name) {
			if d.server && sv == nil {
				sv = frame(d.b)
			} else if !d.server && cl == nil {
				cl = frame(d.b)
			}
		}
		f.Add(cl, sv, false)
	}
	ch, sh := helloMessages(f)
	f.Add(cryptoFrame(0, ch), append([]byte{0x02, 0, 0, 0, 0}, cryptoFrame(0, sh)...), true)
	f.Add(append(cryptoFrame(100, ch[100:]), cryptoFrame(0, ch[:120])...), []byte{}, true)
	f.Fuzz(func(t *testing.T, a, b []byte, seal bool) {
		client, server := a, b
		if seal {
			// sealQUIC writes the Length field in two bytes.
			if len(a) > 1<<14-64 || len(b) > 1<<14-64 {
				return
			}
			client = frame(sealQUIC(t, quicPacket{version: quicVersion1, dcid: testDCID, scid: testSCID, frames: a, pad: 1162}))
			server = frame(sealQUIC(t, quicPacket{version: quicVersion1, dcid: testSCID, keyDCID: testDCID, server: true, frames: b, pad: 32}))
		}
		h, err := ParseQUIC(client, server)
		if (h == nil) != (err != nil) {
			t.Fatalf("result %v, error %v", h != nil, err)
		}
		if h != nil && h.ClientHellos == 0 {
			t.Fatal("a result without a ClientHello")
		}
		var c Classifier
		in := Input{Proto: 17, Client: client, Server: server, ClientMore: true, ServerMore: true}
		c.Classify(&in)
		in.Final = true
		if _, done := c.Classify(&in); !done {
			t.Fatal("final classification not done")
		}
	})
}

func TestFBZero(t *testing.T) {
	hello := readDatagrams(t, "quic", "fbzero-arkime")[0].b
	sni, ok, more := fbZero(hello)
	if !ok || more || string(sni) != "graph.facebook.com" {
		t.Fatalf("fbZero = %q, %v, %v", sni, ok, more)
	}
	var c Classifier
	v, done := c.Classify(&Input{Proto: 6, Client: hello, ClientMore: true, ServerMore: true})
	if !done || v.Class != ClassEncrypted || v.AppOther != "fbzero" || v.SNI != "graph.facebook.com" {
		t.Errorf("Classify = %+v, %v", v, done)
	}
	for _, n := range []int{1, 4, 12, 40} {
		if _, ok, more := fbZero(hello[:n]); ok || !more {
			t.Errorf("first %d bytes: ok %v more %v, want a prefix", n, ok, more)
		}
	}
	bad := bytes.Clone(hello)
	bad[fbZeroHeaderLen+12] = 0xff // the first entry's end offset, beyond the values
	if _, ok, _ := fbZero(bad); ok {
		t.Error("a CHLO with an entry past its end was taken")
	}
	if _, ok, more := fbZero([]byte("1QTVx")); ok || more {
		t.Error("1QTV without a version digit was taken")
	}
}

// TestQUICFingerprintsFirstHello: with two ClientHellos in the client's CRYPTO stream
// (the second after a HelloRetryRequest), JA3 and JA4 are the first's, as for TLS
// and DTLS; the SNI and the rest are the last's.
func TestQUICFingerprintsFirstHello(t *testing.T) {
	ch1, _ := helloMessages(t)
	cl2, _ := readConn(t, "go126-tls12")
	ch2 := cl2[5 : 5+(int(cl2[3])<<8|int(cl2[4]))]
	p1 := sealQUIC(t, quicPacket{version: quicVersion1, dcid: testDCID, scid: testSCID, frames: cryptoFrame(0, ch1), pad: 1162})
	p2 := sealQUIC(t, quicPacket{version: quicVersion1, dcid: testDCID, scid: testSCID, pn: 1,
		frames: cryptoFrame(uint64(len(ch1)), ch2), pad: 1162})
	var m1, m2 ClientHello
	if m1.Unmarshal(ch1) != nil || m2.Unmarshal(ch2) != nil || m1.JA3() == m2.JA3() {
		t.Fatal("the two hellos must parse and differ")
	}
	h, err := ParseQUIC(frame(p1, p2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.ClientHellos != 2 {
		t.Fatalf("ParseQUIC: %d hellos, want 2", h.ClientHellos)
	}
	var c Classifier
	v, done := c.Classify(&Input{Proto: 17, Client: frame(p1, p2), Final: true})
	if !done || v.JA3 != m1.JA3() || v.JA4 != m1.JA4('q') || v.SNI != string(m2.ServerName) {
		t.Errorf("ja3 %s ja4 %s sni %q; want the first hello's %s %s and the last's SNI %q",
			v.JA3, v.JA4, v.SNI, m1.JA3(), m1.JA4('q'), m2.ServerName)
	}
}
