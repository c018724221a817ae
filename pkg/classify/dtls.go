package classify

import (
	"sync"

	"golang.org/x/crypto/cryptobyte"
)

// DTLS record and handshake framing (RFC 6347 §4.1, §4.2.2; RFC 9147 §4, §5.2).
const (
	// recordTypeTLS12CID is a DTLS 1.2 record with a connection ID (RFC 9146 §4):
	// its header grows by the negotiated connection ID, whose length only the
	// peers know.
	recordTypeTLS12CID uint8 = 25
	// recordTypeACK is DTLS 1.3's ACK (RFC 9147 §7).
	recordTypeACK uint8 = 26
	// The first byte of a DTLS 1.3 ciphertext record is 001CSLEE (RFC 9147 §4):
	// connection ID present, 16-bit sequence number, length present, epoch bits.
	dtlsUnifiedMask  = 0xe0
	dtlsUnifiedFixed = 0x20
	dtlsUnifiedCID   = 0x10
	dtlsUnifiedSeq16 = 0x08
	dtlsUnifiedLen   = 0x04
	// dtlsFirstByteMin and dtlsFirstByteMax bound the first byte of any DTLS
	// record (RFC 7983 §7): datagrams outside it are STUN, RTP, ZRTP or TURN on
	// a shared WebRTC 5-tuple.
	dtlsFirstByteMin = 20
	dtlsFirstByteMax = 63
	// dtlsMaxMessageSeq bounds the message_seq values reassembled per direction:
	// the hellos, HelloVerifyRequest, certificate and ServerHelloDone come first.
	dtlsMaxMessageSeq = 8
)

// handshakeTypeHelloVerifyRequest is DTLS's handshake message type beyond TLS's
// (RFC 6347 §4.3.2).
const handshakeTypeHelloVerifyRequest uint8 = 3

// Errors of DTLS parsing.
var (
	errDTLSRecordHeader  = newParseError("dtls record header", ErrTruncated)
	errDTLSRecordVersion = newParseError("dtls record: bad version", ErrNotTLS)
	errDTLSRecordType    = newParseError("dtls record: unknown content type", ErrNotTLS)
	errDTLSRecordLength  = newParseError("dtls record: length beyond the datagram", ErrTruncated)
	errDTLSFragment      = newParseError("dtls handshake fragment", ErrTruncated)
	errDTLSOverrun       = newParseError("dtls handshake fragment beyond its message", ErrMalformed)
	errDTLSHVR           = newParseError("dtls hello verify request", ErrMalformed)
	errDTLSNoHello       = newParseError("dtls: no hello", ErrTruncated)
)

// dtlsRecordVersion reports whether v is a DTLS record version: 1.0, 1.2 (which
// DTLS 1.3 plaintext records carry too), 1.3, or OpenSSL's pre-standard 0x0100.
func dtlsRecordVersion(v uint16) bool {
	return Version(v).IsDTLS()
}

// DTLSHandshake is what the clear-text part of a DTLS exchange shows.
//
// Slice and []byte fields alias the parser's own buffers; a DTLSHandshake returned by
// ParseDTLS owns them.
type DTLSHandshake struct {
	// ClientHello is the last complete ClientHello: after a HelloVerifyRequest
	// (or a DTLS 1.3 HelloRetryRequest) the second one, which carries the cookie.
	// It is valid when ClientHellos > 0.
	ClientHello  ClientHello
	ClientHellos int
	// ServerHello is the ServerHello, valid when ServerHelloSeen.
	ServerHello     ServerHello
	ServerHelloSeen bool
	// HelloVerifyRequest is true when the server asked for a cookie (RFC 6347
	// §4.2.1).
	HelloVerifyRequest bool
	// HRR is true when the server sent a HelloRetryRequest, HRRGroup is its group.
	HRR      bool
	HRRGroup uint16
	// ServerCertSeen is true when the server sent a Certificate in clear (DTLS ≤ 1.2).
	ServerCertSeen bool
	// ServerHelloDone is true when the server finished its clear flight.
	ServerHelloDone bool
	// ClientCCS and ServerCCS are true when that side sent ChangeCipherSpec.
	ClientCCS, ServerCCS bool
	// ClientEncrypted and ServerEncrypted are true when that side sent protected
	// records: of a non-zero epoch, DTLS 1.3 ciphertext, or with a connection ID.
	ClientEncrypted, ServerEncrypted bool
	// Alert is the description of the last clear alert, valid when AlertSeen;
	// AlertFatal is true when a clear alert was fatal.
	Alert      uint8
	AlertSeen  bool
	AlertFatal bool
	// Swapped is true when the ClientHello came from the direction given as the
	// server's: on a WebRTC 5-tuple either peer may be the DTLS client.
	Swapped bool
	// ClientErr and ServerErr are the first parse error per side, wrapping one of
	// the package's sentinels.
	ClientErr, ServerErr error

	serverLeaf []byte // the server's leaf certificate, aliasing the parser's buffer
	firstCH    []byte // the first ClientHello message, aliasing the parser's buffer
}

// ServerCertificate decodes the server's leaf certificate, when ServerCertSeen. It
// allocates.
func (h *DTLSHandshake) ServerCertificate() (*CertInfo, error) {
	if !h.ServerCertSeen || len(h.serverLeaf) == 0 {
		return nil, errCertMsg
	}
	ci := new(CertInfo)
	if err := ci.parse(h.serverLeaf); err != nil {
		return nil, err
	}
	return ci, nil
}

// dtlsDir is the scanning state of one direction.
type dtlsDir struct {
	msgs      [dtlsMaxMessageSeq]dtlsMessage
	ch        ClientHello
	chScratch ClientHello
	sh        ServerHello
	shScratch ServerHello
	dtlsDirState
}

// dtlsDirState is what one scan of a direction found.
type dtlsDirState struct {
	chSeq     int // message_seq of ch, -1 for none
	chCount   int
	firstCH   []byte // the first ClientHello message, for fingerprints
	shSeen    bool
	hvr       bool
	hrr       bool
	hrrGroup  uint16
	leaf      []byte
	shd       bool
	ccs       bool
	encrypted bool
	alert     uint8
	alertSeen bool
	fatal     bool
	err       error
}

// dtlsMessage reassembles one handshake message from its fragments. The buffer holds
// the message in TLS framing: the 4-byte header (type, uint24 length), then the body.
type dtlsMessage struct {
	buf  spanBuffer
	used bool
	done bool
}

// reset prepares d for a new scan, keeping its buffers.
func (d *dtlsDir) reset() {
	for i := range d.msgs {
		d.msgs[i].used, d.msgs[i].done = false, false
	}
	d.ch.Reset()
	d.sh.Reset()
	d.dtlsDirState = dtlsDirState{chSeq: -1}
}

func (d *dtlsDir) setErr(err error) {
	if d.err == nil {
		d.err = err
	}
}

// datagram reads the records of one datagram (RFC 6347 §4.1.1: records do not span
// datagrams, and one datagram may hold several).
func (d *dtlsDir) datagram(b []byte) {
	if len(b) == 0 || b[0] < dtlsFirstByteMin || b[0] > dtlsFirstByteMax {
		return // not DTLS (RFC 7983 demultiplexing)
	}
	s := cryptobyte.String(b)
	for !s.Empty() {
		if s[0]&dtlsUnifiedMask == dtlsUnifiedFixed {
			if !d.unifiedRecord(&s) {
				return
			}
			continue
		}
		var typ uint8
		var version, epoch uint16
		var seq uint64
		if !s.ReadUint8(&typ) || !s.ReadUint16(&version) || !s.ReadUint16(&epoch) || !s.ReadUint48(&seq) {
			d.setErr(errDTLSRecordHeader)
			return
		}
		if !dtlsRecordVersion(version) {
			d.setErr(errDTLSRecordVersion)
			return
		}
		if typ == recordTypeTLS12CID {
			d.encrypted = true
			return // the connection ID hides where the length is
		}
		var frag cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&frag) {
			d.setErr(errDTLSRecordLength)
			return
		}
		if len(frag) > recordMaxLength {
			d.setErr(errRecordLength)
			return
		}
		if epoch != 0 {
			d.encrypted = true
			continue
		}
		switch typ {
		case recordTypeChangeCipherSpec:
			d.ccs = true
		case recordTypeAlert:
			d.alertRecord(frag)
		case recordTypeHandshake:
			d.handshakeRecord(frag)
		case recordTypeApplicationData, recordTypeHeartbeat, recordTypeACK:
		default:
			d.setErr(errDTLSRecordType)
			return
		}
	}
}

// unifiedRecord skips a DTLS 1.3 ciphertext record (RFC 9147 §4). It reports false
// when the record runs to the end of the datagram or cannot be delimited (its
// connection ID length is known only to the peers).
func (d *dtlsDir) unifiedRecord(s *cryptobyte.String) bool {
	d.encrypted = true
	var first uint8
	if !s.ReadUint8(&first) || first&dtlsUnifiedCID != 0 || first&dtlsUnifiedLen == 0 {
		return false
	}
	seqLen := 1
	if first&dtlsUnifiedSeq16 != 0 {
		seqLen = 2
	}
	var body cryptobyte.String
	if !s.Skip(seqLen) || !s.ReadUint16LengthPrefixed(&body) {
		d.setErr(errDTLSRecordLength)
		return false
	}
	return true
}

// alertRecord reads a clear alert (RFC 5246 §7.2: level, description).
func (d *dtlsDir) alertRecord(frag cryptobyte.String) {
	var level, desc uint8
	if !frag.ReadUint8(&level) || !frag.ReadUint8(&desc) || !frag.Empty() {
		d.setErr(errAlert)
		return
	}
	d.alertSeen, d.alert = true, desc
	d.fatal = d.fatal || level == alertLevelFatal
}

// handshakeRecord reads the handshake fragments of a record: msg_type, uint24
// length, message_seq, uint24 fragment_offset, uint24 fragment_length, fragment
// (RFC 6347 §4.2.2), and processes the messages they complete.
func (d *dtlsDir) handshakeRecord(frag cryptobyte.String) {
	for !frag.Empty() {
		var typ uint8
		var length, off, n uint32
		var seq uint16
		var data []byte
		if !frag.ReadUint8(&typ) || !frag.ReadUint24(&length) || !frag.ReadUint16(&seq) ||
			!frag.ReadUint24(&off) || !frag.ReadUint24(&n) || !frag.ReadBytes(&data, int(n)) {
			d.setErr(errDTLSFragment)
			return
		}
		if off > length || n > length-off {
			d.setErr(errDTLSOverrun)
			return
		}
		if length > maxHandshakeBuffer {
			d.setErr(errHandshakeLen)
			continue
		}
		if int(seq) >= len(d.msgs) {
			continue // past the messages that matter
		}
		m := &d.msgs[seq]
		if !m.used {
			m.used, m.done = true, false
			m.buf.reset(4 + int(length))
		}
		// Every fragment repeats type and length: the header must agree.
		header := [4]byte{typ, byte(length >> 16), byte(length >> 8), byte(length)}
		if err := m.buf.add(0, header[:]); err != nil {
			d.setErr(err)
			continue
		}
		if err := m.buf.add(4+int(off), data); err != nil {
			d.setErr(err)
			continue
		}
		if msg := m.buf.contiguous(); !m.done && len(msg) == 4+int(length) {
			m.done = true
			d.message(int(seq), typ, msg)
		}
	}
}

// message handles one reassembled handshake message in TLS framing. msg aliases the
// message's buffer, which stays put until the next scan.
func (d *dtlsDir) message(seq int, typ uint8, msg []byte) {
	switch typ {
	case handshakeTypeClientHello:
		if seq < d.chSeq {
			return // a late retransmission of the first hello
		}
		if err := d.chScratch.UnmarshalDTLS(msg); err != nil {
			d.setErr(err)
			return
		}
		d.setErr(d.chScratch.Violation)
		d.ch, d.chScratch = d.chScratch, d.ch
		d.chSeq = seq
		if d.chCount == 0 {
			d.firstCH = msg
		}
		d.chCount++
	case handshakeTypeServerHello:
		if err := d.shScratch.Unmarshal(msg); err != nil {
			d.setErr(err)
			return
		}
		d.setErr(d.shScratch.Violation)
		if d.shScratch.HRR {
			d.hrr, d.hrrGroup = true, d.shScratch.SelectedGroup
			return
		}
		d.sh, d.shScratch = d.shScratch, d.sh
		d.shSeen = true
	case handshakeTypeHelloVerifyRequest:
		// RFC 6347 §4.2.1: ProtocolVersion server_version; opaque cookie<0..2^8-1>.
		body := messageBody(msg)
		var version uint16
		var cookie cryptobyte.String
		if !body.ReadUint16(&version) || !body.ReadUint8LengthPrefixed(&cookie) || !body.Empty() {
			d.setErr(errDTLSHVR)
			return
		}
		d.hvr = true
	case handshakeTypeCertificate:
		leaf, err := leafCertificate(messageBody(msg))
		if err != nil {
			d.setErr(err)
			return
		}
		d.leaf = leaf
	case handshakeTypeServerHelloDone:
		d.shd = true
	}
}

// dtlsScanner reads both directions of a DTLS flow. It keeps its buffers from one
// scan to the next.
type dtlsScanner struct {
	dirs  [2]dtlsDir
	hs    DTLSHandshake
	first ClientHello // the first of two ClientHellos, for fingerprints
}

// dtlsScanners hold scanners between classifications (see quicScanners).
var dtlsScanners = sync.Pool{New: func() any { return new(dtlsScanner) }}

// scan reads the first datagrams of each direction (framed as NextDatagram reads
// them) and fills x.hs. The side that sent a ClientHello is the client.
func (x *dtlsScanner) scan(a, b []byte) {
	for i, stream := range [2][]byte{a, b} {
		d := &x.dirs[i]
		d.reset()
		for dg, rest, ok := NextDatagram(stream); ok; dg, rest, ok = NextDatagram(rest) {
			d.datagram(dg)
		}
	}
	c, s := &x.dirs[0], &x.dirs[1]
	swapped := c.chCount == 0 && s.chCount > 0
	if swapped {
		c, s = s, c
	}
	h := &x.hs
	ch, sh := h.ClientHello, h.ServerHello
	*h = DTLSHandshake{
		ClientHello: ch, ClientHellos: c.chCount, ServerHello: sh, ServerHelloSeen: s.shSeen,
		HelloVerifyRequest: s.hvr, HRR: s.hrr, HRRGroup: s.hrrGroup,
		ServerCertSeen: s.leaf != nil, ServerHelloDone: s.shd, ClientCCS: c.ccs, ServerCCS: s.ccs,
		ClientEncrypted: c.encrypted, ServerEncrypted: s.encrypted,
		AlertFatal: c.fatal || s.fatal, Swapped: swapped, ClientErr: c.err, ServerErr: s.err,
		serverLeaf: s.leaf, firstCH: c.firstCH,
	}
	// The hellos are swapped in, not copied: their slices stay in their
	// direction's buffers.
	h.ClientHello, c.ch = c.ch, h.ClientHello
	h.ServerHello, s.sh = s.sh, h.ServerHello
	switch {
	case s.alertSeen:
		h.Alert, h.AlertSeen = s.alert, true
	case c.alertSeen:
		h.Alert, h.AlertSeen = c.alert, true
	}
}

// complete reports whether the server's clear flight is over: a DTLS 1.3
// ServerHello (everything after it is encrypted), or before 1.3 a ServerHello
// followed by its certificate, ServerHelloDone, ChangeCipherSpec or protected
// records; or a fatal alert.
func (h *DTLSHandshake) complete() bool {
	if h.AlertFatal {
		return true
	}
	if !h.ServerHelloSeen {
		return false
	}
	return h.ServerHello.Version() == VersionDTLS13 || h.ServerCertSeen || h.ServerHelloDone ||
		h.ServerCCS || h.ServerEncrypted
}

// ParseDTLS reads the clear-text handshake of a DTLS exchange from the first
// datagrams of each direction, each behind its 2-byte big-endian length (see
// NextDatagram); a and b are only read, and either may be the client's. It returns
// an error, and no DTLSHandshake, when neither a ClientHello nor a ServerHello could
// be read; the error wraps one of the package's sentinels. The result owns its
// memory.
func ParseDTLS(a, b []byte) (*DTLSHandshake, error) {
	x := new(dtlsScanner)
	x.scan(a, b)
	if x.hs.ClientHellos == 0 && !x.hs.ServerHelloSeen {
		if x.hs.ClientErr != nil {
			return nil, x.hs.ClientErr
		}
		if x.hs.ServerErr != nil {
			return nil, x.hs.ServerErr
		}
		return nil, errDTLSNoHello
	}
	return &x.hs, nil
}

// dtlsCandidate reports whether one of the datagrams in stream opens with a clear
// DTLS handshake record: content type 22, a DTLS version, epoch 0, and a
// ClientHello, ServerHello or HelloVerifyRequest fragment.
func dtlsCandidate(stream []byte) bool {
	for dg, rest, ok := NextDatagram(stream); ok; dg, rest, ok = NextDatagram(rest) {
		s := cryptobyte.String(dg)
		var typ, msgType uint8
		var version, epoch uint16
		var frag cryptobyte.String
		if !s.ReadUint8(&typ) || typ != recordTypeHandshake || !s.ReadUint16(&version) ||
			!dtlsRecordVersion(version) || !s.ReadUint16(&epoch) || epoch != 0 || !s.Skip(6) ||
			!s.ReadUint16LengthPrefixed(&frag) || !frag.ReadUint8(&msgType) {
			continue
		}
		switch msgType {
		case handshakeTypeClientHello, handshakeTypeServerHello, handshakeTypeHelloVerifyRequest:
			return true
		}
	}
	return false
}

// classifyDTLS classifies a UDP flow that carries a DTLS handshake. ok is false when
// neither direction opens a DTLS handshake; done is false when more datagrams may
// tell more.
func classifyDTLS(in *Input) (v Verdict, done, ok bool) {
	if !dtlsCandidate(in.Client) && !dtlsCandidate(in.Server) {
		return Verdict{}, false, false
	}
	x := dtlsScanners.Get().(*dtlsScanner)
	defer dtlsScanners.Put(x)
	x.scan(in.Client, in.Server)
	h := &x.hs
	clientMore, serverMore := in.ClientMore, in.ServerMore
	if h.Swapped {
		clientMore, serverMore = serverMore, clientMore
	}
	// After a HelloVerifyRequest or a HelloRetryRequest the client's second hello
	// is the one that counts.
	secondHello := (h.HelloVerifyRequest || h.HRR) && h.ClientHellos < 2 && !h.ServerHelloSeen
	if !in.Final && !h.AlertFatal &&
		((!h.complete() && serverMore) || (secondHello && clientMore)) {
		return Verdict{}, false, true
	}
	v = Verdict{Class: ClassTLS, AppOther: "dtls"}
	if h.ClientHellos == 0 && !h.ServerHelloSeen {
		if h.ClientErr != nil || h.ServerErr != nil {
			v.Class, v.Reason = ClassUnknown, ReasonTLSMalformed
		}
		v.ParseError = errorReason(h.ClientErr, h.ServerErr)
		return v, true, true
	}
	var ch *ClientHello
	var sh *ServerHello
	if h.ClientHellos > 0 {
		ch = &h.ClientHello
	}
	if h.ServerHelloSeen {
		sh = &h.ServerHello
	}
	helloVerdict(&v, ch, sh, 'd', in.RawFingerprints)
	if h.ClientHellos > 1 && x.first.UnmarshalDTLS(h.firstCH) == nil {
		// As for TLS: JA3 and JA4 identify the client by the hello it sends
		// unprompted, not the one a HelloVerifyRequest or HelloRetryRequest asked for.
		fingerprints(&v, &x.first, 'd', in.RawFingerprints)
	}
	if sh != nil && !v.Resumed && v.Version.Normalized() != VersionTLS13 && ch != nil {
		// Ticket resumption: the server went from its hello straight to
		// ChangeCipherSpec, without a certificate (RFC 5077 §3.1).
		v.Resumed = h.ServerCCS && !h.ServerCertSeen && ch.SessionTicket
	}
	v.HRR = h.HRR
	if sh == nil && h.HRR {
		v.Version, v.Group = VersionDTLS13, h.HRRGroup
	}
	if h.ServerCertSeen {
		if ci, err := h.ServerCertificate(); err == nil {
			v.ServerCert = ci
		}
	}
	v.ParseError = errorReason(h.ClientErr, h.ServerErr)
	return v, true, true
}
