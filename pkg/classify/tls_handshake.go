package classify

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	handshakeTypeClientHello        uint8 = 1
	handshakeTypeServerHello        uint8 = 2
	handshakeTypeHelloRetryRequest  uint8 = 6 // TLS 1.3 drafts before -22
	handshakeTypeCertificate        uint8 = 11
	handshakeTypeCertificateRequest uint8 = 13
	handshakeTypeServerHelloDone    uint8 = 14
	handshakeTypeClientKeyExchange  uint8 = 16
)

// Hello field sizes.
const (
	helloRandomLen  = 32 // RFC 8446 §4.1.2
	maxSessionIDLen = 32 // opaque legacy_session_id<0..32>
	minPSKBinderLen = 32 // opaque PskBinderEntry<32..255> (RFC 8446 §4.2.11)
	// firstDraftWithSessionID is the TLS 1.3 draft that put legacy_session_id_echo
	// back into the ServerHello (draft-ietf-tls-tls13-22 §4.1.3).
	firstDraftWithSessionID = 22
	// serverNameTypeHostName is NameType host_name (RFC 6066 §3).
	serverNameTypeHostName = 0
)

// SSLv2 field sizes (draft-hickman-netscape-ssl-00, RFC 5246 App. E.2).
const (
	sslv2SessionIDLen    = 16
	sslv2MinChallengeLen = 16
	sslv2MaxChallengeLen = 32
)

// Extension types (IANA TLS ExtensionType Values). The pre_shared_key type is
// extensionPSK.
const (
	extensionServerName           uint16 = 0      // RFC 6066 §3
	extensionSupportedGroups      uint16 = 10     // RFC 8422 §5.1.1, RFC 8446 §4.2.7
	extensionECPointFormats       uint16 = 11     // RFC 8422 §5.1.2
	extensionSignatureAlgorithms  uint16 = 13     // RFC 8446 §4.2.3
	extensionHeartbeat            uint16 = 15     // RFC 6520 §2
	extensionALPN                 uint16 = 16     // RFC 7301 §3.1
	extensionExtendedMasterSecret uint16 = 23     // RFC 7627 §5.1
	extensionSessionTicket        uint16 = 35     // RFC 5077 §3.2
	extensionKeyShareDraft        uint16 = 40     // key_share in TLS 1.3 drafts before -23
	extensionPSK                  uint16 = 41     // pre_shared_key, RFC 8446 §4.2.11
	extensionEarlyData            uint16 = 42     // RFC 8446 §4.2.10
	extensionSupportedVersions    uint16 = 43     // RFC 8446 §4.2.1
	extensionPSKKeyExchangeModes  uint16 = 45     // RFC 8446 §4.2.9
	extensionKeyShare             uint16 = 51     // RFC 8446 §4.2.8
	extensionEncryptedClientHello uint16 = 0xfe0d // draft-ietf-tls-esni §5
	extensionRenegotiationInfo    uint16 = 0xff01 // RFC 5746 §3.2
)

// extensionSet detects repeated extension types in one hello without a map: a bitset
// for types below 256, where every standard extension lives, and a small array for
// the rest (GREASE, renegotiation_info, ECH, vendor types).
type extensionSet struct {
	low  [4]uint64
	high [maxHighExtensions]uint16
	n    int
}

// maxHighExtensions is how many distinct extension types ≥ 256 one hello may carry.
// Real clients send at most a handful (two GREASE values, 0xff01, 0xfe0d, ALPS).
const maxHighExtensions = 32

// extensionSet.add results.
const (
	extensionNew = iota
	extensionDuplicate
	extensionSetFull
)

// add records typ and reports whether it is new, a duplicate, or did not fit.
func (s *extensionSet) add(typ uint16) int {
	if typ < 256 {
		word, bit := typ/64, uint64(1)<<(typ%64)
		if s.low[word]&bit != 0 {
			return extensionDuplicate
		}
		s.low[word] |= bit
		return extensionNew
	}
	for _, t := range s.high[:s.n] {
		if t == typ {
			return extensionDuplicate
		}
	}
	if s.n == len(s.high) {
		return extensionSetFull
	}
	s.high[s.n] = typ
	s.n++
	return extensionNew
}

// maxHandshakeBuffer bounds the clear-text handshake bytes reassembled per direction.
const maxHandshakeBuffer = 64 << 10

// alertLevelFatal is AlertLevel fatal (RFC 5246 §7.2).
const alertLevelFatal = 2

// Errors of Handshake scanning.
var (
	errRecordType     = newParseError("record: unknown content type", ErrNotTLS)
	errRecordVersion  = newParseError("record: bad version", ErrNotTLS)
	errRecordLength   = newParseError("record: length over 2^14+2048", ErrMalformed)
	errRecordEmpty    = newParseError("record: empty handshake or alert fragment", ErrMalformed)
	errAlert          = newParseError("alert record", ErrMalformed)
	errHandshakeLimit = newParseError("handshake: over 64 KiB in clear", ErrTruncated)
	errHandshakeLen   = newParseError("handshake: message over 64 KiB", ErrTruncated)
	errSSLv2Record    = newParseError("sslv2 record", ErrNotTLS)
)

// Handshake collects what the clear-text part of a TLS exchange reveals, from the two
// directions of one connection.
//
// Reuse one value per connection and call ScanClient / ScanServer again whenever more
// bytes of a direction arrived: each call re-parses that direction's prefix from byte
// 0 and replaces everything that direction told. Scanning allocates nothing in steady
// state, except that a server certificate is decoded (and allocated) once per distinct
// certificate. Slices in ClientHello and ServerHello alias the Handshake's own
// buffers and stay valid until the next scan of their direction or Reset; ServerCert
// is owned.
//
// How the client direction is read after its ChangeCipherSpec depends on what the
// server direction showed (TLS 1.3 compatibility mode sends a CCS before a second,
// clear ClientHello), so scan the server direction before rescanning the client
// direction when both have new bytes. Without server information, a record after the
// client's CCS is taken for a clear ClientHello only when it parses as one.
//
// A Handshake is not safe for concurrent use.
type Handshake struct {
	// ClientHello is the last complete ClientHello (after a HelloRetryRequest, the
	// second one).
	ClientHello ClientHello
	// ClientHellos counts the ClientHellos parsed.
	ClientHellos int
	// ServerHello is the last ServerHello that is not a HelloRetryRequest.
	ServerHello ServerHello
	// ServerHelloSeen is true once ServerHello is valid.
	ServerHelloSeen bool
	// HRR is true when a HelloRetryRequest was seen, HRRGroup is its selected group.
	HRR      bool
	HRRGroup uint16
	// HRRVersion is the version the HelloRetryRequest selected (its
	// supported_versions): only TLS 1.3 has HelloRetryRequest, so when the second
	// ServerHello is not in the capture this still names the version.
	HRRVersion Version
	// ServerCert describes the server's leaf certificate, valid when ServerCertSeen.
	// Only TLS ≤ 1.2 and SSLv2 send it in clear (TLS 1.3 certificates are encrypted).
	ServerCert     CertInfo
	ServerCertSeen bool
	// ClientCertSent is true when the client sent a non-empty Certificate in clear
	// (TLS ≤ 1.2 mutual TLS).
	ClientCertSent bool
	// ClientCertRequested is true when the server sent a CertificateRequest in clear.
	ClientCertRequested bool
	// ServerHelloDoneSeen is true when the server's clear flight ended with
	// ServerHelloDone (TLS ≤ 1.2): a CertificateRequest would have come before it.
	ServerHelloDoneSeen bool
	// ClientKeyExchangeSeen is true when the client's clear flight reached
	// ClientKeyExchange (TLS ≤ 1.2): a Certificate would have come before it.
	ClientKeyExchangeSeen bool
	// ClientCCS and ServerCCS are true when that direction sent ChangeCipherSpec.
	ClientCCS, ServerCCS bool
	// ClientAppData and ServerAppData are true when that direction sent an
	// application_data (23) record. TLS 1.3 encrypted handshake records count.
	ClientAppData, ServerAppData bool
	// ClientRecords and ServerRecords count the well-formed records per direction.
	ClientRecords, ServerRecords int
	// Alert is the description of the last clear-text alert, valid when AlertSeen.
	// When both directions sent one, it is the one of the direction scanned last.
	Alert     uint8
	AlertSeen bool
	// Heartbeat is true when heartbeat (24) records were seen in either direction.
	Heartbeat bool
	// ClientErr and ServerErr are the first parse error per direction, wrapping one
	// of the sentinel errors; nil if none. A record-layer error stops that
	// direction; a bad handshake message is skipped. Beyond 64 KiB of clear
	// handshake bytes (or a longer message) the direction stops reassembling with an
	// error wrapping ErrTruncated, after reading a server certificate chain's leaf
	// if it fits.
	ClientErr, ServerErr error
	// ClientNeedMore and ServerNeedMore are true when the direction's bytes end inside
	// a record or handshake message: more bytes may complete it.
	ClientNeedMore, ServerNeedMore bool

	client, server direction
	// firstCH holds the first ClientHello message (see FirstClientHello).
	firstCH []byte
	// chScratch and shScratch receive a hello before it is known to be complete
	// and valid, so that a bad second hello does not clobber the first.
	chScratch ClientHello
	shScratch ServerHello
	// certDER and cert cache the last decoded leaf certificate.
	certDER []byte
	cert    CertInfo
	certErr error
}

// direction is the per-direction scanning state.
type direction struct {
	// hs is the reassembled clear-text handshake stream, rebuilt on every scan.
	hs []byte
	// hsOff is where the next unprocessed handshake message starts in hs.
	hsOff int
	// encrypted is set once records of this direction are no longer readable.
	encrypted bool
	// hsStopped is set when handshake reassembly gave up (limit, bad length).
	hsStopped bool
	// sslv2 is set when the direction uses SSLv2 record framing after its hello.
	sslv2 bool
	// alert state of this direction.
	alertSeen, alertFatal bool
	alert                 uint8
	heartbeat             bool
	records               int
	ccs, appData          bool
	// flight holds the lengths of the application_data records after the last
	// clear handshake record, the last one possibly incomplete (see ClientFlight).
	flight   [maxFlightRecords]uint16
	nflight  int
	needMore bool
	err      error
}

// reset prepares d for a rescan, keeping the buffer's capacity.
func (d *direction) reset() {
	*d = direction{hs: d.hs[:0]}
}

// setErr records err if it is the first error of the direction.
func (d *direction) setErr(err error) {
	if d.err == nil {
		d.err = err
	}
}

// FirstClientHello parses the first ClientHello into m when the client sent more
// than one (after a HelloRetryRequest) and reports whether it did; ClientHello is
// then the last one. m's slices alias h until the next scan.
func (h *Handshake) FirstClientHello(m *ClientHello) bool {
	return h.ClientHellos > 1 && m.Unmarshal(h.firstCH) == nil
}

// Reset clears h for a new connection, keeping the capacity of its buffers.
func (h *Handshake) Reset() {
	*h = Handshake{
		ClientHello: h.ClientHello,
		ServerHello: h.ServerHello,
		client:      direction{hs: h.client.hs[:0]},
		server:      direction{hs: h.server.hs[:0]},
		chScratch:   h.chScratch,
		shScratch:   h.shScratch,
		certDER:     h.certDER[:0],
		firstCH:     h.firstCH[:0],
	}
	h.ClientHello.Reset()
	h.ServerHello.Reset()
}

// ScanClient scans the client-to-server bytes of the connection, starting at the first
// TLS byte. stream is only read during the call.
func (h *Handshake) ScanClient(stream []byte) {
	d := &h.client
	d.reset()
	h.ClientHello.Reset()
	h.ClientHellos = 0
	h.ClientCertSent, h.ClientKeyExchangeSeen = false, false
	h.scan(d, stream, true)
	h.ClientCCS, h.ClientAppData = d.ccs, d.appData
	h.ClientRecords, h.ClientErr, h.ClientNeedMore = d.records, d.err, d.needMore
	h.mergeShared(d, &h.server)
}

// ScanServer scans the server-to-client bytes of the connection, starting at the first
// TLS byte. stream is only read during the call.
func (h *Handshake) ScanServer(stream []byte) {
	d := &h.server
	d.reset()
	h.ServerHello.Reset()
	h.ServerHelloSeen, h.HRR, h.HRRGroup, h.HRRVersion = false, false, 0, 0
	h.ServerCert, h.ServerCertSeen = CertInfo{}, false
	h.ClientCertRequested, h.ServerHelloDoneSeen = false, false
	h.scan(d, stream, false)
	h.ServerCCS, h.ServerAppData = d.ccs, d.appData
	h.ServerRecords, h.ServerErr, h.ServerNeedMore = d.records, d.err, d.needMore
	h.mergeShared(d, &h.client)
}

// mergeShared sets the fields both directions contribute to, preferring the direction
// just scanned.
func (h *Handshake) mergeShared(last, other *direction) {
	h.Heartbeat = last.heartbeat || other.heartbeat
	switch {
	case last.alertSeen:
		h.Alert, h.AlertSeen = last.alert, true
	case other.alertSeen:
		h.Alert, h.AlertSeen = other.alert, true
	default:
		h.Alert, h.AlertSeen = 0, false
	}
}

// Complete reports whether nothing more can be learned in clear: a TLS 1.3 (or SSLv2)
// ServerHello that is not a HelloRetryRequest was seen; or, before TLS 1.3, the server
// sent ChangeCipherSpec and the client did too or already sent application data; or
// either side sent a fatal alert.
func (h *Handshake) Complete() bool {
	if h.client.alertFatal || h.server.alertFatal {
		return true
	}
	if h.ServerHelloSeen {
		v := h.ServerHello.Version()
		if v == VersionSSL2 || v.Normalized() == VersionTLS13 {
			return true
		}
	}
	// TLS 1.3 middlebox compatibility sends ChangeCipherSpec both ways around a
	// HelloRetryRequest too: only after a real ServerHello do the CCSs end it.
	return h.ServerHelloSeen && h.ServerCCS && (h.ClientCCS || h.ClientAppData)
}

// Version returns the version negotiated by the ServerHello, 0 if none was seen.
func (h *Handshake) Version() Version {
	if !h.ServerHelloSeen {
		return 0
	}
	return h.ServerHello.Version()
}

// scan walks the records of one direction.
func (h *Handshake) scan(d *direction, stream []byte, client bool) {
	s := cryptobyte.String(stream)
	if isSSLv2Record(stream) {
		if !h.scanSSLv2Hello(d, &s, client) {
			return
		}
	}
	for !s.Empty() {
		if d.sslv2 {
			var record, body []byte
			if !readSSLv2Record(&s, &record, &body) {
				d.needMore = true
				return
			}
			d.records++
			continue
		}
		start := s
		typ, payload, ok := h.readRecord(d, &s)
		if !ok {
			d.partialFlightRecord(start)
			return
		}
		d.records++
		switch typ {
		case recordTypeChangeCipherSpec:
			d.ccs = true
		case recordTypeAlert:
			h.alertRecord(d, payload, client)
		case recordTypeHandshake:
			d.nflight = 0 // only records after the last clear hello count
			h.handshakeRecord(d, payload, client)
		case recordTypeApplicationData:
			d.appData = true
			d.addFlightRecord(len(payload))
		case recordTypeHeartbeat:
			d.heartbeat = true
		}
	}
	if len(d.hs) > d.hsOff && !d.hsStopped && !d.encrypted {
		d.needMore = true
	}
}

// readRecord reads one record header and fragment. It returns false, with needMore or
// err set, when the direction cannot go on.
func (h *Handshake) readRecord(d *direction, s *cryptobyte.String) (uint8, cryptobyte.String, bool) {
	// Check what is there of the header before waiting for the rest.
	peek := *s
	var typ, major, minor uint8
	var length uint16
	if peek.ReadUint8(&typ) && !validRecordType(typ) {
		d.setErr(errRecordType)
		return 0, nil, false
	}
	if peek.ReadUint8(&major) && major != recordMajorVersion {
		d.setErr(errRecordVersion)
		return 0, nil, false
	}
	if peek.ReadUint8(&minor) && minor > recordMaxMinorVersion {
		d.setErr(errRecordVersion)
		return 0, nil, false
	}
	if peek.ReadUint16(&length) && length > recordMaxLength {
		d.setErr(errRecordLength)
		return 0, nil, false
	}
	var version uint16
	var payload cryptobyte.String
	if !s.ReadUint8(&typ) || !s.ReadUint16(&version) || !s.ReadUint16LengthPrefixed(&payload) {
		d.needMore = true
		return 0, nil, false
	}
	return typ, payload, true
}

// alertRecord reads the alerts of a record (RFC 5246 §7.2: level, description).
func (h *Handshake) alertRecord(d *direction, payload cryptobyte.String, client bool) {
	// An encrypted alert is longer than two bytes (it carries a MAC or tag); a
	// two-byte alert is clear even after ChangeCipherSpec.
	if h.encryptedHandshake(d, client) && len(payload) != 2 {
		return
	}
	if payload.Empty() || len(payload)%2 != 0 {
		d.setErr(errAlert)
		return
	}
	for !payload.Empty() {
		var level, desc uint8
		if !payload.ReadUint8(&level) || !payload.ReadUint8(&desc) {
			d.setErr(errAlert)
			return
		}
		d.alertSeen, d.alert = true, desc
		if level == alertLevelFatal {
			d.alertFatal = true
		}
	}
}

// encryptedHandshake reports whether handshake records of d are encrypted by now.
func (h *Handshake) encryptedHandshake(d *direction, client bool) bool {
	if d.encrypted {
		return true
	}
	if !d.ccs {
		return false
	}
	if client {
		// A TLS 1.3 client never sends an encrypted handshake record (they are
		// application_data), so after a TLS 1.3 server its handshake records are
		// clear. Before TLS 1.3, the client's Finished follows its CCS encrypted.
		return !h.serverChoseTLS13()
	}
	// The server's compatibility CCS right after a HelloRetryRequest is followed by
	// the real, clear ServerHello.
	return !(h.HRR && !h.ServerHelloSeen)
}

// serverChoseTLS13 reports whether the server direction showed TLS 1.3: a
// HelloRetryRequest or a TLS 1.3 ServerHello.
func (h *Handshake) serverChoseTLS13() bool {
	return h.HRR || (h.ServerHelloSeen && h.ServerHello.Version().Normalized() == VersionTLS13)
}

// handshakeRecord appends a handshake fragment to the direction's stream and
// processes the messages it completes.
func (h *Handshake) handshakeRecord(d *direction, payload cryptobyte.String, client bool) {
	if d.hsStopped {
		return
	}
	if h.encryptedHandshake(d, client) {
		// A client that offered TLS 1.3 may send a compatibility CCS before a
		// second, clear ClientHello. When the server direction has not told which
		// version it chose, take the record for that ClientHello only if it is one.
		if client && !d.encrypted && !h.ServerHelloSeen && !h.HRR && h.ClientHello.offersTLS13() &&
			d.hsOff == len(d.hs) && h.speculativeClientHello(d, payload) {
			return
		}
		d.encrypted = true
		return
	}
	if payload.Empty() {
		// Zero-length handshake fragments are not allowed (RFC 8446 §5.1).
		d.setErr(errRecordEmpty)
		return
	}
	if len(d.hs)+len(payload) > maxHandshakeBuffer {
		d.setErr(errHandshakeLimit)
		d.hsStopped = true
		return
	}
	d.hs = append(d.hs, payload...)
	h.handshakeMessages(d, client)
}

// speculativeClientHello appends payload and parses it as a ClientHello when it holds
// exactly one whole ClientHello message. It reports whether it did.
func (h *Handshake) speculativeClientHello(d *direction, payload cryptobyte.String) bool {
	peek := payload
	var msgType uint8
	var body cryptobyte.String
	if !peek.ReadUint8(&msgType) || msgType != handshakeTypeClientHello ||
		!peek.ReadUint24LengthPrefixed(&body) || !peek.Empty() ||
		len(d.hs)+len(payload) > maxHandshakeBuffer {
		return false
	}
	start := len(d.hs)
	d.hs = append(d.hs, payload...)
	if h.chScratch.Unmarshal(d.hs[start:]) != nil {
		d.hs = d.hs[:start]
		return false
	}
	d.hsOff = len(d.hs)
	h.ClientHello, h.chScratch = h.chScratch, h.ClientHello
	h.ClientHellos++
	return true
}

// handshakeMessages processes the whole messages waiting in d.hs.
func (h *Handshake) handshakeMessages(d *direction, client bool) {
	for !d.encrypted && !d.hsStopped {
		pending := cryptobyte.String(d.hs[d.hsOff:])
		peek := pending
		var msgType uint8
		var length uint32
		if !peek.ReadUint8(&msgType) || !peek.ReadUint24(&length) {
			return
		}
		if length > maxHandshakeBuffer {
			// A server certificate chain can outgrow the bound; its leaf comes
			// first and may well fit.
			if !client && msgType == handshakeTypeCertificate && !h.oversizedCertificate(d, peek) {
				return // the leaf is not complete yet
			}
			d.setErr(errHandshakeLen)
			d.hsStopped = true
			return
		}
		var msg []byte
		if !pending.ReadBytes(&msg, 4+int(length)) {
			return // the rest comes in a later record
		}
		d.hsOff = len(d.hs) - len(pending)
		if client {
			h.clientMessage(d, msgType, msg)
		} else {
			h.serverMessage(d, msgType, msg)
		}
	}
}

// clientMessage handles one whole handshake message from the client.
func (h *Handshake) clientMessage(d *direction, msgType uint8, msg []byte) {
	switch msgType {
	case handshakeTypeClientHello:
		if err := h.chScratch.Unmarshal(msg); err != nil {
			d.setErr(err)
			return
		}
		d.setErr(h.chScratch.Violation)
		if h.ClientHellos == 0 {
			// Keep the first hello's bytes: a second one (after a HelloRetryRequest)
			// replaces it, and JA3/JA4 identify the client by what it sends unprompted
			// (as the JA4 reference implementation does).
			h.firstCH = append(h.firstCH[:0], msg...)
		}
		h.ClientHello, h.chScratch = h.chScratch, h.ClientHello
		h.ClientHellos++
	case handshakeTypeCertificate:
		leaf, err := leafCertificate(messageBody(msg))
		if err != nil {
			d.setErr(err)
			return
		}
		h.ClientCertSent = leaf != nil
	case handshakeTypeClientKeyExchange:
		h.ClientKeyExchangeSeen = true
	}
}

// serverMessage handles one whole handshake message from the server.
func (h *Handshake) serverMessage(d *direction, msgType uint8, msg []byte) {
	switch msgType {
	case handshakeTypeServerHello:
		if err := h.shScratch.Unmarshal(msg); err != nil {
			d.setErr(err)
			return
		}
		d.setErr(h.shScratch.Violation)
		if h.shScratch.HRR {
			h.HRR, h.HRRGroup, h.HRRVersion = true, h.shScratch.SelectedGroup, h.shScratch.Version()
			return
		}
		h.ServerHello, h.shScratch = h.shScratch, h.ServerHello
		h.ServerHelloSeen = true
		if h.ServerHello.Version().Normalized() == VersionTLS13 {
			// Everything after a TLS 1.3 ServerHello is encrypted.
			d.encrypted = true
		}
	case handshakeTypeHelloRetryRequest:
		// Drafts before -22 had a message of its own; its layout changed from
		// draft to draft, so only its presence is recorded.
		h.HRR = true
	case handshakeTypeCertificate:
		leaf, err := leafCertificate(messageBody(msg))
		if err != nil {
			d.setErr(err)
			return
		}
		if leaf != nil {
			h.serverCertificate(d, leaf)
		}
	case handshakeTypeCertificateRequest:
		h.ClientCertRequested = true
	case handshakeTypeServerHelloDone:
		h.ServerHelloDoneSeen = true
	}
}

// oversizedCertificate reads the leaf of a Certificate message too long to reassemble
// from the start of its body. It reports false when the leaf is not all there yet.
func (h *Handshake) oversizedCertificate(d *direction, body cryptobyte.String) bool {
	var listLen uint32
	var leaf cryptobyte.String
	if !body.ReadUint24(&listLen) || !body.ReadUint24LengthPrefixed(&leaf) {
		return false
	}
	if !leaf.Empty() {
		h.serverCertificate(d, leaf)
	}
	return true
}

// messageBody returns the body of a whole handshake message (after the 4-byte header).
func messageBody(msg []byte) cryptobyte.String {
	s := cryptobyte.String(msg)
	var body cryptobyte.String
	if !s.Skip(1) || !s.ReadUint24LengthPrefixed(&body) {
		return nil
	}
	return body
}

// serverCertificate fills ServerCert from a leaf certificate, decoding it only when it
// differs from the last one decoded.
func (h *Handshake) serverCertificate(d *direction, leaf []byte) {
	if len(h.certDER) == 0 || !bytes.Equal(h.certDER, leaf) {
		h.certDER = append(h.certDER[:0], leaf...)
		h.certErr = h.cert.parse(leaf)
	}
	h.ServerCertSeen = true
	h.ServerCert = h.cert
	if h.certErr != nil {
		d.setErr(h.certErr)
	}
}

// scanSSLv2Hello handles an SSLv2 record at the start of a direction: a CLIENT-HELLO
// from the client, a SERVER-HELLO (or ERROR) from the server. It reports whether the
// scan may go on.
func (h *Handshake) scanSSLv2Hello(d *direction, s *cryptobyte.String, client bool) bool {
	var record, body []byte
	if !readSSLv2Record(s, &record, &body) {
		d.needMore = true
		return false
	}
	var msgType uint8
	peek := cryptobyte.String(body)
	if !peek.ReadUint8(&msgType) {
		d.setErr(errSSLv2Record)
		return false
	}
	d.records++
	// Parse from the direction's own buffer so that the hello does not alias the
	// caller's bytes.
	d.hs = append(d.hs[:0], record...)
	d.hsOff = len(d.hs)
	switch {
	case client && msgType == sslv2MsgClientHello:
		if err := h.chScratch.Unmarshal(d.hs); err != nil {
			d.setErr(err)
			return false
		}
		h.ClientHello, h.chScratch = h.chScratch, h.ClientHello
		h.ClientHellos++
		// The server answers in TLS or in SSLv2; the client's next record tells.
		next := *s
		d.sslv2 = isSSLv2Record(next)
		return true
	case !client && msgType == sslv2MsgServerHello:
		if err := h.shScratch.Unmarshal(d.hs); err != nil {
			d.setErr(err)
			return false
		}
		h.ServerHello, h.shScratch = h.shScratch, h.ServerHello
		h.ServerHelloSeen = true
		if cert := h.ServerHello.sslv2Certificate; len(cert) > 0 {
			h.serverCertificate(d, cert)
		}
		d.sslv2 = true
		return true
	case !client && msgType == sslv2MsgError:
		d.sslv2 = true
		return true
	}
	d.setErr(errSSLv2Record)
	return false
}
