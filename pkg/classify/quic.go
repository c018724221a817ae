package classify

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"sync"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/hkdf"
)

// QUIC versions whose Initial packets can be decrypted: the keys derive from the
// client's Destination Connection ID and a salt fixed per version (RFC 9001 §5.2,
// RFC 9369 §3.3.1). All of them carry a TLS 1.3 handshake in CRYPTO frames.
const (
	quicVersionNegotiation uint32 = 0x00000000
	quicVersion1           uint32 = 0x00000001
	quicVersion2           uint32 = 0x6b3343cf // RFC 9369 §3.1
	// quicDraftBase | NN is draft-ietf-quic-transport-NN.
	quicDraftBase uint32 = 0xff000000
	// quicMvfstDraft27 and quicMvfstExperimental are Facebook mvfst's builds of
	// draft 27 (Wireshark's packet-quic.c gives both the draft-23 salt).
	quicMvfstDraft27      uint32 = 0xfaceb002
	quicMvfstExperimental uint32 = 0xfaceb00e
	// quicGoogleT050 and quicGoogleT051 are Google QUIC with TLS ("T050", "T051"):
	// IETF packet protection with salts of their own.
	quicGoogleT050 uint32 = 0x54303530
	quicGoogleT051 uint32 = 0x54303531
)

// QUIC packet layout (RFC 9000 §17.2, RFC 9001 §5.4).
const (
	quicLongHeader = 0x80
	quicFixedBit   = 0x40
	quicMaxCIDLen  = 20 // RFC 9000 §17.2: at most 20 bytes in version 1
	// quicMinInitialLen is the least size of a datagram carrying a client Initial
	// (RFC 9000 §14.1).
	quicMinInitialLen = 1200
	// quicSampleOffset and quicSampleLen place the header protection sample: it
	// starts 4 bytes after the start of the Packet Number field (RFC 9001 §5.4.2).
	quicSampleOffset = 4
	quicSampleLen    = 16
	// quicMaxCrypto bounds the CRYPTO stream reassembled per direction.
	quicMaxCrypto = maxHandshakeBuffer
	// quicMaxAttempts bounds the connection attempts (a first Initial, then after a
	// Retry or a Version Negotiation) told apart in one flow.
	quicMaxAttempts = 4
	// quicKeyCacheLen is how many derived key sets a scanner keeps: enough for
	// the handshakes of the flows that are being classified at the same time, so
	// that keys are derived once per flow, not once per datagram.
	quicKeyCacheLen = 32
)

// Bounds on the work one scan does, whatever the datagrams hold. The packets,
// frames and connection IDs in a datagram are the sender's to choose, and the
// Initial keys are public, so without them a single 64 KiB datagram of tiny
// Initials, each naming a new connection ID, costs thousands of key derivations.
// A scan that hits one stops reading that packet, datagram or direction and
// records an error that quicLimit reports, counted as the ParseError
// "quic_limit". A flow whose ClientHello was read keeps its TLS verdict; one
// without is unknown, not TLS on the strength of its packet headers.
const (
	// quicMaxPackets bounds the long-header packets read in one datagram.
	// Senders coalesce packets in order of encryption level (Initial, 0-RTT,
	// Handshake, then a 1-RTT one that runs to the end; RFC 9000 §12.2), one
	// per level in practice: the flows of the reference corpus put four in a
	// datagram at the most.
	quicMaxPackets = 16
	// quicMaxFrames bounds the frames other than PADDING read in one Initial
	// packet. Chromium scatters its ClientHello over up to 11 CRYPTO frames and
	// adds up to 10 PING frames (quiche's QuicChaosProtector); with an ACK that
	// is 22.
	quicMaxFrames = 64
	// quicMaxKeyTrials bounds the client Initials that no attempt's keys open
	// and that are then tried with keys derived from their own Destination
	// Connection ID, each a key derivation: one per connection attempt, and as
	// many again for Initials that fail.
	quicMaxKeyTrials = 2 * quicMaxAttempts
	// quicMaxClientHellos is how many ClientHellos a client sends in one
	// connection attempt: a second only after a HelloRetryRequest, and there is
	// at most one of those (RFC 8446 §4.1.4).
	quicMaxClientHellos = 2
)

// Long header packet types, as QUIC v1 numbers them (RFC 9000 §17.2); v2 uses other
// bits (RFC 9369 §3.2) and is mapped to these.
const (
	quicTypeInitial   = 0
	quicTypeZeroRTT   = 1
	quicTypeHandshake = 2
	quicTypeRetry     = 3
	// quicTypeVersionNegotiation stands for a packet of version 0 (RFC 9000 §17.2.1).
	quicTypeVersionNegotiation = 4
)

// Frame types allowed in Initial packets (RFC 9000 §12.4, §19).
const (
	quicFramePadding          = 0x00
	quicFramePing             = 0x01
	quicFrameACK              = 0x02
	quicFrameACKECN           = 0x03
	quicFrameCrypto           = 0x06
	quicFrameConnectionClose  = 0x1c
	quicFrameApplicationClose = 0x1d
)

// Initial salts. v1: RFC 9001 §5.2; v2: RFC 9369 §3.3.1; drafts and Google's:
// draft-ietf-quic-tls-23 and -29 §5.2 and Wireshark's packet-quic.c. Each was checked
// by decrypting captures of that version (testdata/quic/README.md).
var (
	quicSaltV1 = [20]byte{
		0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
	}
	quicSaltV2 = [20]byte{
		0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
		0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
	}
	quicSaltDraft29 = [20]byte{
		0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
		0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99,
	}
	quicSaltDraft23 = [20]byte{
		0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
		0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02,
	}
	quicSaltT050 = [20]byte{
		0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
		0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10,
	}
	quicSaltT051 = [20]byte{
		0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
		0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d,
	}
)

// quicVersionParams is what Initial protection needs to know about a version.
type quicVersionParams struct {
	salt *[20]byte
	// v2 selects RFC 9369's packet type bits and "quicv2 " key labels.
	v2 bool
	// google selects Google QUIC's frame encoding (T050, T051).
	google bool
}

// quicParams returns the Initial protection of version v; ok is false for versions
// whose Initial keys are not known.
func quicParams(v uint32) (p quicVersionParams, ok bool) {
	switch {
	case v == quicVersion1:
		return quicVersionParams{salt: &quicSaltV1}, true
	case v == quicVersion2:
		return quicVersionParams{salt: &quicSaltV2, v2: true}, true
	case v == quicDraftBase|33, v == quicDraftBase|34:
		// The final salt came with draft 33.
		return quicVersionParams{salt: &quicSaltV1}, true
	case v >= quicDraftBase|29 && v <= quicDraftBase|32:
		return quicVersionParams{salt: &quicSaltDraft29}, true
	case v >= quicDraftBase|23 && v <= quicDraftBase|28, v == quicMvfstDraft27, v == quicMvfstExperimental:
		return quicVersionParams{salt: &quicSaltDraft23}, true
	case v == quicGoogleT050:
		return quicVersionParams{salt: &quicSaltT050, google: true}, true
	case v == quicGoogleT051:
		return quicVersionParams{salt: &quicSaltT051, google: true}, true
	}
	return quicVersionParams{}, false
}

// quicReservedVersion reports whether v is one of the versions reserved to exercise
// version negotiation, 0x?a?a?a?a (RFC 9000 §15).
func quicReservedVersion(v uint32) bool {
	return v&0x0f0f0f0f == 0x0a0a0a0a
}

// Errors of QUIC Initial parsing.
var (
	errQUICHeader       = newParseError("quic long header", ErrTruncated)
	errQUICCIDLen       = newParseError("quic connection id longer than 20 bytes", ErrMalformed)
	errQUICToken        = newParseError("quic initial token", ErrTruncated)
	errQUICLength       = newParseError("quic packet length beyond the datagram", ErrTruncated)
	errQUICSample       = newParseError("quic packet too short for header protection", ErrTruncated)
	errQUICDecrypt      = newParseError("quic initial: packet authentication failed", ErrMalformed)
	errQUICFrame        = newParseError("quic frame", ErrTruncated)
	errQUICFrameType    = newParseError("quic initial: frame type not allowed in initial packets", ErrMalformed)
	errQUICMessage      = newParseError("quic initial: unexpected handshake message", ErrMalformed)
	errQUICIncomplete   = newParseError("quic initial: client hello incomplete", ErrTruncated)
	errQUICNoInitial    = newParseError("quic: no client initial packet", ErrNotTLS)
	errQUICVersion      = newParseError("quic: version without known initial keys", ErrNotTLS)
	errQUICTooManyConns = newParseError("quic: too many connection attempts", ErrMalformed)
	// The bounds on a scan's work (see quicMaxPackets).
	errQUICTooManyPackets = newParseError("quic: too many packets in one datagram", ErrMalformed)
	errQUICTooManyFrames  = newParseError("quic initial: too many frames in one packet", ErrMalformed)
	errQUICTooManyKeys    = newParseError("quic: too many initials that no keys open", ErrMalformed)
)

// quicLimit reports whether err is a bound on the work of a scan, not a fault of
// the packets read: the CRYPTO stream's size and holes (quicMaxCrypto, maxSpans)
// and the bounds above.
func quicLimit(err error) bool {
	switch err {
	case errQUICTooManyPackets, errQUICTooManyFrames, errQUICTooManyKeys, errQUICTooManyConns,
		errSpanLimit, errSpanHoles:
		return true
	}
	return false
}

// quicKeys protect the Initial packets of one direction (RFC 9001 §5.2).
type quicKeys struct {
	aead cipher.AEAD
	iv   [12]byte
	hp   cipher.Block
}

// deriveQUICKeys derives the client's (server false) or the server's Initial keys
// from the client's Destination Connection ID. It allocates.
func deriveQUICKeys(p quicVersionParams, dcid []byte, server bool) (quicKeys, error) {
	var k quicKeys
	initial := hkdf.Extract(sha256.New, dcid, p.salt[:])
	label := "client in"
	if server {
		label = "server in"
	}
	secret, err := hkdfExpandLabel(initial, label, sha256.Size)
	if err != nil {
		return k, err
	}
	keyLabel, ivLabel, hpLabel := "quic key", "quic iv", "quic hp"
	if p.v2 {
		keyLabel, ivLabel, hpLabel = "quicv2 key", "quicv2 iv", "quicv2 hp"
	}
	key, err := hkdfExpandLabel(secret, keyLabel, 16)
	if err != nil {
		return k, err
	}
	iv, err := hkdfExpandLabel(secret, ivLabel, len(k.iv))
	if err != nil {
		return k, err
	}
	hp, err := hkdfExpandLabel(secret, hpLabel, 16)
	if err != nil {
		return k, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return k, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return k, err
	}
	if k.hp, err = aes.NewCipher(hp); err != nil {
		return k, err
	}
	copy(k.iv[:], iv)
	return k, nil
}

// hkdfExpandLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1), as
// QUIC uses it (RFC 9001 §5.1).
func hkdfExpandLabel(secret []byte, label string, length int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint16(uint16(length))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddBytes([]byte("tls13 "))
		b.AddBytes([]byte(label))
	})
	b.AddUint8(0) // empty context
	info, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	out := make([]byte, length)
	if _, err := io.ReadFull(hkdf.Expand(sha256.New, secret, info), out); err != nil {
		return nil, err
	}
	return out, nil
}

// readQUICVarint reads a variable-length integer (RFC 9000 §16).
func readQUICVarint(s *cryptobyte.String, out *uint64) bool {
	var b0 uint8
	if !s.ReadUint8(&b0) {
		return false
	}
	v := uint64(b0 & 0x3f)
	for range (1 << (b0 >> 6)) - 1 {
		var b uint8
		if !s.ReadUint8(&b) {
			return false
		}
		v = v<<8 | uint64(b)
	}
	*out = v
	return true
}

// quicHeader is a parsed long header.
type quicHeader struct {
	version uint32
	typ     int // quicType*, v2 mapped to v1 numbering
	dcid    []byte
	// pnOffset is where the (protected) Packet Number starts, len the packet's
	// length up to the end of its payload.
	pnOffset int
	len      int
	known    bool // the version's Initial protection is known
	params   quicVersionParams
}

// parseQUICLongHeader parses the long-header packet at the start of b (RFC 9000
// §17.2). For a Version Negotiation or Retry packet, and for a version without known
// keys, the packet runs to the end of the datagram. Short-header packets are not
// handled: the caller checks the first byte.
func parseQUICLongHeader(b []byte, h *quicHeader) error {
	s := cryptobyte.String(b)
	var first uint8
	var dcid, scid cryptobyte.String
	if !s.ReadUint8(&first) || !s.ReadUint32(&h.version) || !s.ReadUint8LengthPrefixed(&dcid) ||
		!s.ReadUint8LengthPrefixed(&scid) {
		return errQUICHeader
	}
	h.dcid, h.len = dcid, len(b)
	if h.version == quicVersionNegotiation {
		h.typ, h.known = quicTypeVersionNegotiation, false
		return nil
	}
	h.params, h.known = quicParams(h.version)
	if !h.known {
		return nil
	}
	if len(dcid) > quicMaxCIDLen || len(scid) > quicMaxCIDLen {
		return errQUICCIDLen
	}
	h.typ = int(first>>4) & 0x03
	if h.params.v2 {
		h.typ = (h.typ + 3) & 0x03 // v2: Retry 0, Initial 1, 0-RTT 2, Handshake 3
	}
	if h.typ == quicTypeRetry {
		return nil
	}
	if h.typ == quicTypeInitial {
		var tokenLen uint64
		if !readQUICVarint(&s, &tokenLen) || tokenLen > uint64(len(s)) || !s.Skip(int(tokenLen)) {
			return errQUICToken
		}
	}
	var length uint64
	if !readQUICVarint(&s, &length) {
		return errQUICHeader
	}
	if length > uint64(len(s)) {
		return errQUICLength
	}
	h.pnOffset = len(b) - len(s)
	h.len = h.pnOffset + int(length)
	return nil
}

// QUICHandshake is what the Initial packets of a QUIC connection carry in the clear
// once their Initial protection, which anyone can remove, is removed: the TLS 1.3
// ClientHello and ServerHello (RFC 9001 §4, §5.2).
//
// Slice and []byte fields alias the parser's own buffers; a QUICHandshake returned by
// ParseQUIC owns them.
type QUICHandshake struct {
	// Version is the QUIC version of the client's Initial packets that carried the
	// ClientHello.
	Version uint32
	// ClientHello is the last complete ClientHello (after a HelloRetryRequest, the
	// second), valid when ClientHellos > 0.
	ClientHello  ClientHello
	ClientHellos int
	// ServerHello is the server's ServerHello, valid when ServerHelloSeen.
	ServerHello     ServerHello
	ServerHelloSeen bool
	// HRR is true when the server sent a HelloRetryRequest, HRRGroup is its group.
	HRR      bool
	HRRGroup uint16
	// Retry and VersionNegotiation are true when the server answered with that
	// packet.
	Retry, VersionNegotiation bool
	// ClientInitials and ServerInitials count the Initial packets decrypted.
	ClientInitials, ServerInitials int
	// ClientPastInitial is true when the client sent Handshake or 1-RTT packets:
	// it is past its Initial flight, and so is the server.
	ClientPastInitial bool
	// ClientNeedMore is true when the client's CRYPTO stream ends inside a
	// handshake message or before a hole: more packets may complete it.
	ClientNeedMore bool
	// ClientErr and ServerErr are the first error met per direction, wrapping one
	// of the package's sentinels; when a bound on the work cut the direction
	// short, they are that bound's error instead.
	ClientErr, ServerErr error
}

// quicScanner decrypts the Initial packets of both directions of a flow. It keeps
// its buffers, and the keys derived, from one scan to the next.
type quicScanner struct {
	hs QUICHandshake

	pkt            []byte // one packet, copied to be decrypted in place
	mask           [aes.BlockSize]byte
	nonce          [12]byte // mask and nonce live here: handed to interfaces, they would escape
	client, server spanBuffer
	chScratch      ClientHello
	shScratch      ServerHello
	firstCH        []byte      // the first ClientHello message of the stream, copied
	first          ClientHello // firstCH parsed, for fingerprints

	// attempts are the client's Initial connection IDs and versions whose keys
	// decrypted a client Initial; cur and serverCur index the ones the client and
	// server streams belong to.
	attempts           [quicMaxAttempts]quicAttempt
	nAttempts          int
	cur, serverCur     int
	clientPN, serverPN int64 // largest packet numbers decrypted, -1 for none
	lastPN             int64 // the packet number of the packet open decrypted last
	unknownVersion     bool  // a long header of a version without known keys
	keyTrials          int   // client Initials tried with their own connection ID's keys
	keys               [quicKeyCacheLen]quicKeyEntry
	nextKey            int
}

// quicAttempt is one connection attempt of the client.
type quicAttempt struct {
	version uint32
	dcid    [quicMaxCIDLen]byte
	dcidLen int
}

func (a *quicAttempt) is(version uint32, dcid []byte) bool {
	return a.version == version && string(a.dcid[:a.dcidLen]) == string(dcid)
}

// quicKeyEntry caches the keys of one direction of one attempt.
type quicKeyEntry struct {
	quicAttempt
	server bool
	keys   quicKeys
	ok     bool
}

// quicScanners hold scanners between classifications: a flow is classified once,
// but its Initial packets are decrypted again every time a datagram arrives, and
// the keys and buffers are worth keeping.
var quicScanners = sync.Pool{New: func() any { return new(quicScanner) }}

// reset prepares q for a new scan, keeping its buffers and key cache.
func (q *quicScanner) reset() {
	ch, sh := q.hs.ClientHello, q.hs.ServerHello
	ch.Reset()
	sh.Reset()
	q.hs = QUICHandshake{ClientHello: ch, ServerHello: sh}
	q.client.reset(quicMaxCrypto)
	q.server.reset(quicMaxCrypto)
	q.nAttempts, q.cur, q.serverCur = 0, -1, -1
	q.clientPN, q.serverPN = -1, -1
	q.unknownVersion = false
	q.keyTrials = 0
}

// scan decrypts the Initial packets in the first datagrams of each direction
// (framed as NextDatagram reads them) and parses the hellos they carry.
func (q *quicScanner) scan(client, server []byte) {
	q.reset()
	for d, rest, ok := NextDatagram(client); ok; d, rest, ok = NextDatagram(rest) {
		q.datagram(d, false)
	}
	q.clientMessages()
	for d, rest, ok := NextDatagram(server); ok; d, rest, ok = NextDatagram(rest) {
		q.datagram(d, true)
	}
	q.serverMessages()
	if q.hs.ClientInitials == 0 && q.hs.ClientErr == nil {
		if q.unknownVersion {
			q.hs.ClientErr = errQUICVersion
		} else {
			q.hs.ClientErr = errQUICNoInitial
		}
	}
}

// setErr keeps the first error of a direction, unless a bound's error comes
// after: that the direction was not read to its end matters more.
func (q *quicScanner) setErr(server bool, err error) {
	p := &q.hs.ClientErr
	if server {
		p = &q.hs.ServerErr
	}
	if *p == nil || (quicLimit(err) && !quicLimit(*p)) {
		*p = err
	}
}

// datagram walks the packets coalesced in one datagram (RFC 9000 §12.2), at most
// quicMaxPackets of them.
func (q *quicScanner) datagram(d []byte, server bool) {
	for n := 0; len(d) > 0; n++ {
		if d[0]&quicLongHeader == 0 {
			// A short-header (1-RTT) packet runs to the end of the datagram; one
			// with the fixed bit clear is not QUIC v1 at all (padding after the
			// last packet, say).
			if !server && d[0]&quicFixedBit != 0 && q.hs.ClientInitials > 0 {
				q.hs.ClientPastInitial = true
			}
			return
		}
		if n == quicMaxPackets {
			q.setErr(server, errQUICTooManyPackets)
			return
		}
		var h quicHeader
		if err := parseQUICLongHeader(d, &h); err != nil {
			q.setErr(server, err)
			return
		}
		switch {
		case h.typ == quicTypeVersionNegotiation:
			q.hs.VersionNegotiation = q.hs.VersionNegotiation || server
			return
		case !h.known:
			q.unknownVersion = q.unknownVersion || !server
			return
		case h.typ == quicTypeRetry:
			q.hs.Retry = q.hs.Retry || server
			return
		case h.typ == quicTypeInitial:
			if server {
				q.serverInitial(d[:h.len], &h)
			} else {
				q.clientInitial(d[:h.len], &h)
			}
		case h.typ == quicTypeHandshake && !server && q.hs.ClientInitials > 0:
			q.hs.ClientPastInitial = true
		}
		d = d[h.len:]
	}
}

// clientInitial decrypts a client Initial. Its keys come from its own Destination
// Connection ID in a first Initial (or the first after a Retry or a Version
// Negotiation), and from the attempt's original one once the client has switched to
// the connection ID the server chose (RFC 9000 §7.2, RFC 9001 §5.2).
func (q *quicScanner) clientInitial(pkt []byte, h *quicHeader) {
	var payload []byte
	var err error
	attempt := -1
	for i := q.nAttempts - 1; i >= 0 && attempt < 0; i-- {
		a := &q.attempts[i]
		if a.version != h.version {
			continue
		}
		largest := int64(-1)
		if i == q.cur {
			largest = q.clientPN
		}
		if payload, err = q.open(pkt, h, a.version, a.dcid[:a.dcidLen], false, largest); err == nil {
			attempt = i
		}
	}
	if attempt < 0 {
		// A new attempt, or a packet nothing opens: its own connection ID's keys
		// are derived, which only quicMaxKeyTrials packets of a scan get.
		if q.keyTrials == quicMaxKeyTrials {
			q.setErr(false, errQUICTooManyKeys)
			return
		}
		q.keyTrials++
		if payload, err = q.open(pkt, h, h.version, h.dcid, false, -1); err != nil {
			q.setErr(false, err)
			return
		}
		if q.nAttempts == len(q.attempts) {
			q.setErr(false, errQUICTooManyConns)
			return
		}
		attempt = q.nAttempts
		a := &q.attempts[attempt]
		a.version, a.dcidLen = h.version, copy(a.dcid[:], h.dcid)
		q.nAttempts++
	}
	if attempt != q.cur {
		// A new attempt starts its CRYPTO stream again at offset 0.
		q.cur, q.clientPN = attempt, -1
		q.client.reset(quicMaxCrypto)
		q.hs.Version = h.version
	}
	q.clientPN = max(q.clientPN, q.lastPN)
	q.hs.ClientInitials++
	if err := quicFrames(payload, &q.client, h.params.google); err != nil {
		q.setErr(false, err)
	}
}

// serverInitial decrypts a server Initial with the keys of the client's attempts,
// the latest first.
func (q *quicScanner) serverInitial(pkt []byte, h *quicHeader) {
	var payload []byte
	err := error(errQUICDecrypt)
	attempt := -1
	for i := q.nAttempts - 1; i >= 0; i-- {
		a := &q.attempts[i]
		if a.version != h.version {
			continue
		}
		largest := int64(-1)
		if i == q.serverCur {
			largest = q.serverPN
		}
		if payload, err = q.open(pkt, h, a.version, a.dcid[:a.dcidLen], true, largest); err == nil {
			attempt = i
			break
		}
	}
	if attempt < 0 {
		q.setErr(true, err)
		return
	}
	if attempt != q.serverCur {
		q.serverCur, q.serverPN = attempt, -1
		q.server.reset(quicMaxCrypto)
	}
	q.serverPN = max(q.serverPN, q.lastPN)
	q.hs.ServerInitials++
	if err := quicFrames(payload, &q.server, h.params.google); err != nil {
		q.setErr(true, err)
	}
}

// keysFor returns the keys of one direction of an attempt, from the cache or
// derived (and cached).
func (q *quicScanner) keysFor(version uint32, dcid []byte, server bool) (*quicKeys, error) {
	for i := range q.keys {
		e := &q.keys[i]
		if e.ok && e.server == server && e.is(version, dcid) {
			return &e.keys, nil
		}
	}
	p, ok := quicParams(version)
	if !ok {
		return nil, errQUICVersion
	}
	keys, err := deriveQUICKeys(p, dcid, server)
	if err != nil {
		return nil, err
	}
	e := &q.keys[q.nextKey]
	q.nextKey = (q.nextKey + 1) % len(q.keys)
	*e = quicKeyEntry{server: server, keys: keys, ok: true}
	e.version, e.dcidLen = version, copy(e.dcid[:], dcid)
	return &e.keys, nil
}

// open removes the header protection and the packet protection of the Initial
// packet pkt (RFC 9001 §5.3, §5.4) on a copy, and returns the plaintext payload,
// which aliases q.pkt. largest is the largest packet number decrypted in that
// direction so far, -1 for none; the packet number is left in q.lastPN.
func (q *quicScanner) open(pkt []byte, h *quicHeader, version uint32, dcid []byte, server bool, largest int64) ([]byte, error) {
	// The length check comes first: a packet too short to open costs no keys.
	if h.len < h.pnOffset+quicSampleOffset+quicSampleLen {
		return nil, errQUICSample
	}
	keys, err := q.keysFor(version, dcid, server)
	if err != nil {
		return nil, err
	}
	q.pkt = append(q.pkt[:0], pkt...)
	p := q.pkt
	mask := q.mask[:]
	sample := p[h.pnOffset+quicSampleOffset : h.pnOffset+quicSampleOffset+quicSampleLen]
	keys.hp.Encrypt(mask, sample)
	p[0] ^= mask[0] & 0x0f // long header: the low 4 bits are protected
	pnLen := int(p[0]&0x03) + 1
	var truncated uint64
	for i := range pnLen {
		p[h.pnOffset+i] ^= mask[1+i]
		truncated = truncated<<8 | uint64(p[h.pnOffset+i])
	}
	pn := decodePacketNumber(largest, truncated, pnLen*8)
	nonce := q.nonce[:]
	copy(nonce, keys.iv[:])
	var pnBytes [8]byte
	binary.BigEndian.PutUint64(pnBytes[:], uint64(pn))
	for i := range pnBytes {
		nonce[len(nonce)-8+i] ^= pnBytes[i]
	}
	hdrLen := h.pnOffset + pnLen
	if len(p) < hdrLen+keys.aead.Overhead() {
		return nil, errQUICSample
	}
	plain, err := keys.aead.Open(p[hdrLen:hdrLen], nonce, p[hdrLen:], p[:hdrLen])
	if err != nil {
		return nil, errQUICDecrypt
	}
	q.lastPN = pn
	return plain, nil
}

// decodePacketNumber expands a truncated packet number of nbits bits next to the
// largest one received (RFC 9000 §17.1, Appendix A.3).
func decodePacketNumber(largest int64, truncated uint64, nbits int) int64 {
	expected := largest + 1
	win := int64(1) << nbits
	hwin, mask := win/2, win-1
	candidate := (expected &^ mask) | int64(truncated)
	switch {
	case candidate <= expected-hwin && candidate < (1<<62)-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}

// quicFrames reads the frames of a decrypted Initial payload and adds the CRYPTO
// data to buf. Only the frames an Initial may carry are understood (RFC 9000
// §12.4); any other stops the packet with an error, and so does a frame past the
// quicMaxFrames that are not PADDING. google selects Google QUIC's frame encoding.
func quicFrames(payload []byte, buf *spanBuffer, google bool) error {
	if google {
		return googleQUICFrames(payload, buf)
	}
	s := cryptobyte.String(payload)
	for frames := 0; !s.Empty(); {
		var typ uint64
		if !readQUICVarint(&s, &typ) {
			return errQUICFrame
		}
		if typ != quicFramePadding {
			if frames == quicMaxFrames {
				return errQUICTooManyFrames
			}
			frames++
		}
		switch typ {
		case quicFramePadding, quicFramePing:
		case quicFrameACK, quicFrameACKECN:
			// Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range,
			// then Count (Gap, ACK Range Length) pairs, and with ECN three counts
			// (RFC 9000 §19.3).
			var largest, delay, count, first uint64
			if !readQUICVarint(&s, &largest) || !readQUICVarint(&s, &delay) ||
				!readQUICVarint(&s, &count) || !readQUICVarint(&s, &first) || count > uint64(len(s)) {
				return errQUICFrame
			}
			n := 2 * count
			if typ == quicFrameACKECN {
				n += 3
			}
			for range n {
				var v uint64
				if !readQUICVarint(&s, &v) {
					return errQUICFrame
				}
			}
		case quicFrameCrypto:
			// Offset, Length, Crypto Data (RFC 9000 §19.6).
			var off, length uint64
			var data []byte
			if !readQUICVarint(&s, &off) || !readQUICVarint(&s, &length) || length > uint64(len(s)) ||
				!s.ReadBytes(&data, int(length)) {
				return errQUICFrame
			}
			if off > quicMaxCrypto {
				return errSpanLimit
			}
			if err := buf.add(int(off), data); err != nil {
				return err
			}
		case quicFrameConnectionClose, quicFrameApplicationClose:
			// Error Code, [Frame Type,] Reason Phrase Length, Reason Phrase
			// (RFC 9000 §19.19).
			var code, frameType, reasonLen uint64
			if !readQUICVarint(&s, &code) ||
				(typ == quicFrameConnectionClose && !readQUICVarint(&s, &frameType)) ||
				!readQUICVarint(&s, &reasonLen) || reasonLen > uint64(len(s)) || !s.Skip(int(reasonLen)) {
				return errQUICFrame
			}
		default:
			return errQUICFrameType
		}
	}
	return nil
}

// Google QUIC frame types (T050, T051), as Chromium's QuicFramer writes them for
// versions with TLS: one byte, with ACK and STREAM marked by their high bits.
const (
	gquicFramePadding         = 0x00
	gquicFrameConnectionClose = 0x02
	gquicFramePing            = 0x07
	gquicFrameCrypto          = 0x08
	gquicFrameACKMask         = 0xc0
	gquicFrameACK             = 0x40 // 01NULLMM
	gquicACKMoreBlocks        = 0x20
)

// googleQUICFrames is quicFrames for Google QUIC's encoding: PADDING fills the
// rest of the packet; CRYPTO has a varint offset and length as in RFC 9000; ACK
// packs its field sizes into the type byte.
func googleQUICFrames(payload []byte, buf *spanBuffer) error {
	s := cryptobyte.String(payload)
	for frames := 0; !s.Empty(); frames++ {
		var typ uint8
		if !s.ReadUint8(&typ) {
			return errQUICFrame
		}
		if frames == quicMaxFrames && typ != gquicFramePadding {
			return errQUICTooManyFrames
		}
		switch {
		case typ == gquicFramePadding:
			return nil
		case typ == gquicFramePing:
		case typ == gquicFrameCrypto:
			var off, length uint64
			var data []byte
			if !readQUICVarint(&s, &off) || !readQUICVarint(&s, &length) || length > uint64(len(s)) ||
				!s.ReadBytes(&data, int(length)) {
				return errQUICFrame
			}
			if off > quicMaxCrypto {
				return errSpanLimit
			}
			if err := buf.add(int(off), data); err != nil {
				return err
			}
		case typ == gquicFrameConnectionClose:
			// Error code (4 bytes), reason phrase with a 2-byte length.
			var reason cryptobyte.String
			if !s.Skip(4) || !s.ReadUint16LengthPrefixed(&reason) {
				return errQUICFrame
			}
		case typ&gquicFrameACKMask == gquicFrameACK:
			if !skipGoogleACK(&s, typ) {
				return errQUICFrame
			}
		default:
			return errQUICFrameType
		}
	}
	return nil
}

// skipGoogleACK skips the body of a Google QUIC ACK frame: largest acked (LL),
// delta time (2 bytes), [block count (1 byte)], first block length (MM), per block a
// gap (1 byte) and a length (MM), a timestamp count (1 byte), the first timestamp
// (1 + 4 bytes) and the others (1 + 2 bytes). LL and MM code 1, 2, 4 or 6 bytes.
func skipGoogleACK(s *cryptobyte.String, typ uint8) bool {
	sizes := [4]int{1, 2, 4, 6}
	largest, block := sizes[typ>>2&0x03], sizes[typ&0x03]
	var blocks, stamps uint8
	if !s.Skip(largest + 2) {
		return false
	}
	if typ&gquicACKMoreBlocks != 0 && !s.ReadUint8(&blocks) {
		return false
	}
	if !s.Skip(block+int(blocks)*(1+block)) || !s.ReadUint8(&stamps) {
		return false
	}
	if stamps > 0 {
		return s.Skip(5 + int(stamps-1)*3)
	}
	return true
}

// clientMessages parses the ClientHellos of the client's CRYPTO stream: one, or
// two around a HelloRetryRequest (RFC 9001 §4.1.3: nothing else is sent in
// Initial packets by the client). A third is an unexpected message.
func (q *quicScanner) clientMessages() {
	stream := q.client.contiguous()
	s := cryptobyte.String(stream)
	for !s.Empty() {
		if q.hs.ClientHellos == quicMaxClientHellos {
			q.setErr(false, errQUICMessage)
			return
		}
		msg, ok, err := nextHandshakeMessage(&s, handshakeTypeClientHello)
		if err != nil {
			q.setErr(false, err)
			return
		}
		if !ok {
			break
		}
		if err := q.chScratch.Unmarshal(msg); err != nil {
			q.setErr(false, err)
			return
		}
		q.setErr(false, q.chScratch.Violation)
		if q.hs.ClientHellos == 0 {
			q.firstCH = append(q.firstCH[:0], msg...)
		}
		q.hs.ClientHello, q.chScratch = q.chScratch, q.hs.ClientHello
		q.hs.ClientHellos++
	}
	q.hs.ClientNeedMore = !s.Empty() || q.client.n > 1 || (q.hs.ClientInitials > 0 && len(stream) == 0)
}

// serverMessages parses the server's CRYPTO stream: a ServerHello, or a
// HelloRetryRequest and then the ServerHello. A second HelloRetryRequest is an
// unexpected message (RFC 8446 §4.1.4).
func (q *quicScanner) serverMessages() {
	s := cryptobyte.String(q.server.contiguous())
	for !s.Empty() && !q.hs.ServerHelloSeen {
		msg, ok, err := nextHandshakeMessage(&s, handshakeTypeServerHello)
		if err != nil {
			q.setErr(true, err)
			return
		}
		if !ok {
			return
		}
		if err := q.shScratch.Unmarshal(msg); err != nil {
			q.setErr(true, err)
			return
		}
		q.setErr(true, q.shScratch.Violation)
		if q.shScratch.HRR {
			if q.hs.HRR {
				q.setErr(true, errQUICMessage)
				return
			}
			q.hs.HRR, q.hs.HRRGroup = true, q.shScratch.SelectedGroup
			continue
		}
		q.hs.ServerHello, q.shScratch = q.shScratch, q.hs.ServerHello
		q.hs.ServerHelloSeen = true
	}
}

// nextHandshakeMessage reads one whole handshake message of type want from s. ok is
// false, with s untouched, when the message is not complete yet.
func nextHandshakeMessage(s *cryptobyte.String, want uint8) (msg []byte, ok bool, err error) {
	peek := *s
	var typ uint8
	var length uint32
	if !peek.ReadUint8(&typ) {
		return nil, false, nil
	}
	if typ != want {
		return nil, false, errQUICMessage
	}
	if !peek.ReadUint24(&length) {
		return nil, false, nil
	}
	if length > quicMaxCrypto {
		return nil, false, errHandshakeLen
	}
	if !s.ReadBytes(&msg, 4+int(length)) {
		return nil, false, nil
	}
	return msg, true, nil
}

// ParseQUIC decrypts the Initial packets among the first datagrams of a QUIC
// connection and parses the TLS hellos they carry. client and server are the
// datagrams of each direction, each behind its 2-byte big-endian length (see
// NextDatagram); they are only read. It returns an error, and no QUICHandshake,
// when no ClientHello could be read; the error wraps one of the package's sentinels.
// Its work is bounded, per datagram and per call: packets, frames and key
// derivations past the bounds are not read, and the direction's error says so.
// The result owns its memory. ParseQUIC allocates; a Classifier reuses its buffers.
func ParseQUIC(client, server []byte) (*QUICHandshake, error) {
	q := new(quicScanner)
	q.scan(client, server)
	if q.hs.ClientHellos == 0 {
		err := q.hs.ClientErr
		if err == nil {
			err = errQUICIncomplete
		}
		return nil, err
	}
	return &q.hs, nil
}

// classifyQUIC classifies a UDP flow whose client opens with a QUIC long-header
// packet. ok is false when the flow does not look like QUIC; done is false when more
// datagrams may tell more.
func classifyQUIC(in *Input) (v Verdict, done, ok bool) {
	first, _, _ := NextDatagram(in.Client)
	if !quicCandidate(first) {
		return Verdict{}, false, false
	}
	q := quicScanners.Get().(*quicScanner)
	defer quicScanners.Put(q)
	q.scan(in.Client, in.Server)
	h := &q.hs
	noMore := in.Final || (!in.ClientMore && !in.ServerMore)
	switch {
	case h.ClientHellos > 0:
		if !h.ServerHelloSeen && !noMore && in.ServerMore && !h.ClientPastInitial {
			return Verdict{}, false, true
		}
		// The version is the one the ClientHello travelled in: after Version
		// Negotiation that is not the client's first.
		v := Verdict{Class: ClassTLS, Version: VersionTLS13, AppOther: "quic", QUICVersion: h.Version}
		var sh *ServerHello
		if h.ServerHelloSeen {
			sh = &h.ServerHello
		}
		helloVerdict(&v, &h.ClientHello, sh, 'q', in.RawFingerprints)
		if h.ClientHellos > 1 && q.first.Unmarshal(q.firstCH) == nil {
			// As for TLS and DTLS: JA3 and JA4 are the hello the client sent
			// unprompted, not the one a HelloRetryRequest asked for.
			fingerprints(&v, &q.first, 'q', in.RawFingerprints)
		}
		if v.Version == 0 {
			v.Version = VersionTLS13
		}
		v.HRR = h.HRR
		if sh == nil && h.HRR {
			v.Group = h.HRRGroup
		}
		if sh == nil && len(in.Server) > 0 {
			v.ParseError = quicReason(h.ServerErr)
		}
		if quicLimit(h.ClientErr) || quicLimit(h.ServerErr) {
			// The hellos were read, but not all that the datagrams held.
			v.ParseError = reasonQUICLimit
		}
		return v, true, true
	case quicLimit(h.ClientErr):
		// No ClientHello, and the client's datagrams were not all read: too much
		// to read is no evidence of TLS.
		return Verdict{Class: ClassUnknown, AppOther: "quic", Reason: ReasonTLSMalformed, ParseError: reasonQUICLimit}, true, true
	case h.ClientInitials > 0:
		// Decrypted, but the ClientHello is not all there (or did not parse).
		if h.ClientNeedMore && h.ClientErr == nil && in.ClientMore && !in.Final {
			return Verdict{}, false, true
		}
		err := h.ClientErr
		if err == nil {
			err = errQUICIncomplete
		}
		return quicFallback(err), true, true
	}
	// Nothing decrypted: a client Initial of a version that carries TLS still
	// proves TLS. Anything else is not known to be QUIC yet (a client that opened
	// with a reserved version to provoke Version Negotiation, RFC 9000 §6.3, tries
	// again with a real one in a later datagram).
	if quicInitial(first) {
		return quicFallback(h.ClientErr), true, true
	}
	return Verdict{}, false, false
}

// quicFallback is the verdict on a QUIC Initial that could not be read: QUIC v1, v2
// and their drafts carry their handshake in TLS 1.3 and nothing else (RFC 9001 §4,
// RFC 9369 §3), so a client Initial is positive evidence of TLS 1.3.
func quicFallback(err error) Verdict {
	return Verdict{Class: ClassTLS, Version: VersionTLS13, AppOther: "quic", ParseError: quicReason(err)}
}

// reasonQUICLimit is the ParseError of a QUIC flow whose scan hit a bound on its
// work (quicLimit).
const reasonQUICLimit = "quic_limit"

// quicReason maps a QUIC parse error to a ParseError label.
func quicReason(err error) string {
	if quicLimit(err) {
		return reasonQUICLimit
	}
	switch err {
	case nil:
		return ""
	case errQUICDecrypt:
		return "quic_decrypt"
	case errQUICVersion:
		return "quic_version"
	case errQUICIncomplete, errQUICNoInitial:
		return "quic_incomplete"
	case errQUICFrame, errQUICFrameType, errQUICMessage:
		return "quic_frame"
	case errSpanConflict:
		return "quic_crypto"
	case errQUICHeader, errQUICCIDLen, errQUICToken, errQUICLength, errQUICSample:
		return "quic_header"
	}
	return ParseErrorReason(err)
}

// quicCandidate reports whether a client's first datagram opens like QUIC: a long
// header with the fixed bit, of a version whose Initial packets can be read or of a
// version reserved to provoke Version Negotiation.
func quicCandidate(b []byte) bool {
	s := cryptobyte.String(b)
	var first uint8
	var version uint32
	if !s.ReadUint8(&first) || first&(quicLongHeader|quicFixedBit) != quicLongHeader|quicFixedBit ||
		!s.ReadUint32(&version) {
		return false
	}
	if _, ok := quicParams(version); ok {
		return true
	}
	return quicReservedVersion(version) && len(b) >= quicMinInitialLen
}

// quicInitial reports whether b is a client Initial packet of a QUIC version that
// carries TLS: a long header of that version, of the Initial type, with connection
// IDs that fit, in a datagram of at least 1200 bytes. It is the cheap check that
// stands when the Initial cannot be decrypted.
func quicInitial(b []byte) bool {
	if len(b) < quicMinInitialLen || b[0]&(quicLongHeader|quicFixedBit) != quicLongHeader|quicFixedBit {
		return false
	}
	var h quicHeader
	err := parseQUICLongHeader(b, &h)
	return (err == nil || err == errQUICLength) && h.known && h.typ == quicTypeInitial
}

// googleQUIC reports whether b is the first packet of a Google QUIC client whose
// handshake is QUIC Crypto, not TLS: a version "Q0nn" either in the public header of
// gQUIC ≤ 43 (public flags with the version bit, an 8-byte connection ID) or in an
// IETF-style long header (Q046, Q050).
func googleQUIC(b []byte) bool {
	s := cryptobyte.String(b)
	var flags uint8
	if !s.ReadUint8(&flags) {
		return false
	}
	var version []byte
	switch {
	case flags&quicLongHeader != 0:
		if flags&quicFixedBit == 0 || !s.ReadBytes(&version, 4) {
			return false
		}
	default:
		// Public flags (gQUIC ≤ 43): 0x01 version present, 0x08 8-byte connection
		// ID; 0x80 is unused and must be 0.
		const publicFlagVersion, publicFlagCID = 0x01, 0x08
		if flags&publicFlagVersion == 0 || flags&publicFlagCID == 0 || !s.Skip(8) || !s.ReadBytes(&version, 4) {
			return false
		}
	}
	return version[0] == 'Q' && isDigit(version[1]) && isDigit(version[2]) && isDigit(version[3])
}

// Google QUIC Crypto handshake messages (QUIC Crypto design document, "Handshake
// message format"): a tag, a little-endian uint16 entry count and two bytes of
// padding, then per entry a tag and the little-endian uint32 end offset of its value,
// then the values back to back.
var (
	gquicTagCHLO = []byte("CHLO")
	gquicTagSNI  = []byte("SNI\x00")
)

// gquicMaxCHLOEntries bounds the entries of a CHLO worth reading.
const gquicMaxCHLOEntries = 128

// googleQUICSNI returns the SNI tag of the client hello (CHLO) in a Google QUIC
// packet whose handshake is QUIC Crypto; before Q050 the CHLO goes unencrypted. The
// result aliases b; it is nil when there is none, or when the message does not fit
// in the packet.
func googleQUICSNI(b []byte) []byte {
	i := bytes.Index(b, gquicTagCHLO)
	if i < 0 {
		return nil
	}
	sni, _ := chloSNI(b[i:])
	return sni
}

// chloSNI reads the QUIC Crypto handshake message at the start of msg, a CHLO, and
// returns the value of its SNI tag (nil when absent). ok is false unless msg holds the
// whole entry index and every end offset in it is in order and within msg.
func chloSNI(msg []byte) (sni []byte, ok bool) {
	s := cryptobyte.String(msg)
	var tag, header []byte
	if !s.ReadBytes(&tag, 4) || !bytes.Equal(tag, gquicTagCHLO) || !s.ReadBytes(&header, 4) {
		return nil, false
	}
	count := binary.LittleEndian.Uint16(header)
	if count == 0 || count > gquicMaxCHLOEntries {
		return nil, false
	}
	var index []byte
	if !s.ReadBytes(&index, int(count)*8) {
		return nil, false
	}
	values := []byte(s)
	start := uint32(0)
	for e := cryptobyte.String(index); !e.Empty(); {
		var tag, offset []byte
		if !e.ReadBytes(&tag, 4) || !e.ReadBytes(&offset, 4) {
			return nil, false
		}
		end := binary.LittleEndian.Uint32(offset)
		if end < start || end > uint32(len(values)) {
			return nil, false
		}
		if bytes.Equal(tag, gquicTagSNI) {
			sni = values[start:end]
		}
		start = end
	}
	return sni, true
}

// Facebook's Zero protocol (the TCP transport of QUIC Crypto used by Facebook's
// mobile apps): a one-byte flag 0x31, a version "QTV" and a digit, a little-endian
// uint32 length, then a QUIC Crypto CHLO naming the server in its SNI tag. The
// handshake is 0-RTT: what follows is encrypted.
const fbZeroHeaderLen = 9

// fbZero recognises a Zero protocol client hello at the start of b and returns its
// SNI. more is true when b is a valid beginning too short to tell.
func fbZero(b []byte) (sni []byte, ok, more bool) {
	const magic = "\x31QTV"
	switch m := matchLit(b, magic, false); {
	case m < 0, len(b) == 0, len(b) > len(magic) && !isDigit(b[len(magic)]):
		return nil, false, false
	case m == 0 || len(b) < fbZeroHeaderLen+len(gquicTagCHLO):
		return nil, false, true
	}
	if !bytes.Equal(b[fbZeroHeaderLen:fbZeroHeaderLen+len(gquicTagCHLO)], gquicTagCHLO) {
		return nil, false, false
	}
	sni, ok = chloSNI(b[fbZeroHeaderLen:])
	return sni, ok, !ok
}
