package classify

import (
	"encoding/binary"
	"slices"
	"strconv"
)

// NextDatagram splits the first datagram off a UDP direction's bytes, where each
// datagram is kept behind its 2-byte big-endian length. ok is false at the end.
func NextDatagram(b []byte) (dgram, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// datagram classifies a UDP flow from the first datagrams of each direction: DNS,
// then QUIC (its Initial packets decrypted), DTLS, Google QUIC and WireGuard.
func (c *Classifier) datagram(in *Input) (Verdict, bool) {
	cl, _, _ := NextDatagram(in.Client)
	sv, _, _ := NextDatagram(in.Server)
	if app := DetectDatagram(cl, sv, in.ClientPort, in.ServerPort); app != AppNone {
		// A NetBIOS name asked of a DNS server (port 53, 5353, 5355) stays dns:
		// the port only picks between two clear-text names.
		if !isDNSPort(in.ClientPort) && !isDNSPort(in.ServerPort) {
			app = dnsFlavour(cl, sv)
		}
		return Verdict{Class: ClassPlaintext, App: app}, true
	}
	if v, done, ok := classifyQUIC(in); ok {
		if v.QUICVersion == 0 {
			v.QUICVersion = firstQUICVersion(in.Client)
		}
		return v, done
	}
	if v, done, ok := classifyDTLS(in); ok {
		return v, done
	}
	if googleQUIC(cl) {
		// Google QUIC up to Q050 protects its handshake with QUIC Crypto, not TLS:
		// encrypted, but not TLS. Its client hello names the server in clear.
		return Verdict{Class: ClassEncrypted, AppOther: "gquic", SNI: string(googleQUICSNI(cl)), QUICVersion: firstQUICVersion(in.Client)}, true
	}
	if v, done, ok := c.openVPN(in, in.Final || (!in.ClientMore && !in.ServerMore)); ok {
		return v, done
	}
	if wireGuard(cl) || wireGuard(sv) {
		return Verdict{Class: ClassEncrypted, AppOther: "wireguard"}, true
	}
	noMore := in.Final || (!in.ClientMore && !in.ServerMore)
	app, cls, more := detectDatagramRegistered(cl, sv)
	switch {
	case app == AppSNMP && cls == ClassUnknown:
		if cls = snmpLaterClass(in.Client); cls == ClassUnknown {
			if !noMore {
				return Verdict{}, false
			}
			return Verdict{App: app, Reason: ReasonDatagram}, true
		}
		return Verdict{Class: cls, App: app}, true
	case app != AppNone:
		return Verdict{Class: cls, App: app}, true
	case more && !noMore:
		return Verdict{}, false
	case readableDatagram(cl) || readableDatagram(sv):
		return Verdict{Class: ClassPlaintext}, true
	}
	if noMore {
		if len(cl) == 0 && len(sv) == 0 {
			return Verdict{Reason: ReasonNoPayload}, true
		}
		return Verdict{Reason: ReasonDatagram}, true
	}
	return Verdict{}, false
}

// firstQUICVersion returns the version of the first client datagram that carries one:
// an IETF long header (RFC 9000 §17.2), or a Google QUIC public header with the version
// flag and an 8-byte connection ID.
func firstQUICVersion(client []byte) uint32 {
	for d, rest, ok := NextDatagram(client); ok; d, rest, ok = NextDatagram(rest) {
		switch {
		case len(d) >= 5 && d[0]&quicLongHeader != 0:
			return binary.BigEndian.Uint32(d[1:5])
		case len(d) >= 13 && d[0]&0x09 == 0x09 && d[0]&quicLongHeader == 0:
			return binary.BigEndian.Uint32(d[9:13])
		}
	}
	return 0
}

// QUICVersionName spells a QUIC version as reports write it: "1", "2", "draft-29",
// "mvfst-27", Google's "Q043" and "T051", else hexadecimal; "" for 0.
func QUICVersionName(v uint32) string {
	switch {
	case v == 0:
		return ""
	case v == 1:
		return "1"
	case v == quicVersion2:
		return "2"
	case v&0xffffff00 == 0xff000000:
		return "draft-" + strconv.Itoa(int(v&0xff))
	case v == 0xfaceb001:
		return "mvfst-22"
	case v == 0xfaceb002:
		return "mvfst-27"
	case v == 0xfaceb00e:
		return "mvfst-exp"
	}
	b := []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	if (b[0] == 'Q' || b[0] == 'T') && isDigit(b[1]) && isDigit(b[2]) && isDigit(b[3]) {
		return string(b)
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

// fingerprints sets v's JA3 and JA4 from ch, with the strings behind them when raw.
func fingerprints(v *Verdict, ch *ClientHello, transport byte, raw bool) {
	v.JA3 = ch.JA3()
	v.JA4 = ch.JA4(transport)
	if raw {
		v.JA3String = ch.JA3String()
		v.JA4Raw = ch.JA4Raw(transport)
	}
}

// helloVerdict fills the TLS fields of v from the hellos of a datagram handshake,
// the way Classifier.tls does for a TCP one: the client's offer and fingerprints
// (JA4 with the given transport, 'q' or 'd') when ch is not nil, the server's choice
// when sh is not nil. Strings are copied out of the hellos.
func helloVerdict(v *Verdict, ch *ClientHello, sh *ServerHello, transport byte, raw bool) {
	versionEvidence(v, ch, sh)
	if ch != nil {
		v.SNI = string(ch.ServerName)
		if len(ch.ALPN) > 0 {
			v.ALPN = make([]string, len(ch.ALPN))
			for i, p := range ch.ALPN {
				v.ALPN[i] = string(p)
			}
		}
		fingerprints(v, ch, transport, raw)
		v.Mesh = meshOf(ch)
		v.ECH = ch.ECH
		v.PQ = ch.HasPQKeyShare()
	}
	if sh != nil {
		v.Version = sh.Version()
		v.Cipher = sh.CipherSuite
		v.Group = sh.SelectedGroup
		v.ALPNServer = string(sh.ALPN)
		v.JA3S = sh.JA3S()
		if raw {
			v.JA3SString = sh.JA3SString()
		}
		v.HeartbeatAccepted = slices.Contains(sh.Extensions, extensionHeartbeat)
		// As resumed() for TCP: in TLS 1.3 the server accepted a PSK; before, it
		// echoed the client's session ID.
		if v.Version.Normalized() == VersionTLS13 {
			v.Resumed = slices.Contains(sh.Extensions, extensionPreSharedKey)
		} else if ch != nil {
			v.Resumed = len(sh.SessionID) > 0 && string(sh.SessionID) == string(ch.SessionID)
		}
	}
}

// spanBuffer reassembles a byte stream from pieces that arrive at arbitrary offsets,
// possibly overlapping or repeated: QUIC CRYPTO frames (RFC 9000 §19.6) and DTLS
// handshake fragments (RFC 6347 §4.2.2). It keeps the bytes and the filled spans,
// and its buffer is reused after reset.
type spanBuffer struct {
	buf   []byte
	spans [maxSpans]span // sorted, disjoint and not touching
	n     int
	limit int
}

// span is the filled byte range [start, end).
type span struct{ start, end int }

// maxSpans bounds the pieces a spanBuffer keeps apart. Chromium scatters its
// ClientHello over a few dozen CRYPTO frames at most.
const maxSpans = 64

// Errors of spanBuffer.add.
var (
	errSpanLimit    = newParseError("reassembly: data beyond the bound", ErrMalformed)
	errSpanConflict = newParseError("reassembly: overlapping data differs", ErrMalformed)
	errSpanHoles    = newParseError("reassembly: too many holes", ErrMalformed)
)

// reset empties b for a stream of at most limit bytes.
func (b *spanBuffer) reset(limit int) {
	b.buf, b.n, b.limit = b.buf[:0], 0, limit
}

// add copies data to offset off. Data overlapping bytes already there must equal
// them; data past the limit, and more separate pieces than maxSpans, are refused.
func (b *spanBuffer) add(off int, data []byte) error {
	if off < 0 || off > b.limit || len(data) > b.limit-off {
		return errSpanLimit
	}
	if len(data) == 0 {
		return nil
	}
	end := off + len(data)
	// Overlapping data must agree: a retransmission carries the same bytes (RFC 9000
	// §19.6, RFC 6347 §4.2.2).
	for _, sp := range b.spans[:b.n] {
		lo, hi := max(sp.start, off), min(sp.end, end)
		if lo < hi && string(b.buf[lo:hi]) != string(data[lo-off:hi-off]) {
			return errSpanConflict
		}
	}
	// spans[i:j] are the ones [off, end) overlaps or touches.
	i := 0
	for i < b.n && b.spans[i].end < off {
		i++
	}
	j := i
	for j < b.n && b.spans[j].start <= end {
		j++
	}
	if i == j && b.n == maxSpans {
		return errSpanHoles
	}
	if end > len(b.buf) {
		b.buf = slices.Grow(b.buf, end-len(b.buf))[:end]
	}
	copy(b.buf[off:end], data)
	merged := span{off, end}
	if i < j {
		merged.start = min(off, b.spans[i].start)
		merged.end = max(end, b.spans[j-1].end)
	}
	copy(b.spans[i+1:], b.spans[j:b.n])
	b.spans[i] = merged
	b.n += 1 - (j - i)
	return nil
}

// contiguous returns the bytes from offset 0 up to the first hole; it aliases b.
func (b *spanBuffer) contiguous() []byte {
	if b.n == 0 || b.spans[0].start != 0 {
		return nil
	}
	return b.buf[:b.spans[0].end]
}

// WireGuard message sizes (WireGuard whitepaper §5.4).
const (
	wgInitiation    = 1
	wgResponse      = 2
	wgInitiationLen = 148
	wgResponseLen   = 92
)

// wireGuard reports whether b is a WireGuard handshake initiation or response: a type
// byte, three reserved zero bytes, and the message's fixed length.
func wireGuard(b []byte) bool {
	if len(b) < 4 || b[1] != 0 || b[2] != 0 || b[3] != 0 {
		return false
	}
	return (b[0] == wgInitiation && len(b) == wgInitiationLen) || (b[0] == wgResponse && len(b) == wgResponseLen)
}

// TLS record-layer limits used to recognise records joined midstream (RFC 8446 §5.1,
// RFC 5246 §6.2.3: ciphertext may exceed 2^14 by up to 2048 bytes).
const (
	recordHeaderLen    = 5
	maxCiphertextLen   = 1<<14 + 2048
	contentTypeCCS     = 20
	contentTypeAppData = 23
)

// midstreamTLS reports whether b, the first bytes seen of a direction joined after the
// connection's opening, is a chain of TLS records: at least two well-formed record
// headers back to back from the first byte, the last one possibly cut off. One header
// alone is not enough: five bytes are too easily matched by chance.
func midstreamTLS(b []byte) bool {
	n := 0
	for len(b) >= recordHeaderLen {
		typ, major, minor := b[0], b[1], b[2]
		l := int(binary.BigEndian.Uint16(b[3:5]))
		if typ < contentTypeCCS || typ > contentTypeAppData || major != 3 || minor < 1 || minor > 4 || l == 0 || l > maxCiphertextLen {
			return false
		}
		n++
		if len(b) < recordHeaderLen+l {
			break
		}
		b = b[recordHeaderLen+l:]
	}
	return n >= 2
}

// maxDatagramText bounds the bytes of a datagram that readableDatagram scans.
const maxDatagramText = 512

// readableDatagram reports whether a datagram is readable text: its first
// bytes, up to maxDatagramText, pass ReadableText.
func readableDatagram(d []byte) bool {
	return ReadableText(d[:min(len(d), maxDatagramText)])
}
