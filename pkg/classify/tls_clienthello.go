package classify

import (
	"golang.org/x/crypto/cryptobyte"
)

// ClientHello is a parsed ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2), an
// SSLv2-compatible CLIENT-HELLO (RFC 5246 App. E.2), or a DTLS ClientHello (RFC 6347
// §4.2.1, RFC 9147 §5.3), which adds a cookie after the session ID.
//
// Slice and []byte fields alias the bytes given to Unmarshal or reuse the struct's own
// capacity: they are valid only until the next Unmarshal or Reset. Copy what must
// outlive that (bytes.Clone, strings.Clone).
type ClientHello struct {
	// SSLv2 is true when the hello came in an SSLv2-compatible record.
	SSLv2 bool
	// DTLS is true when the hello was parsed as a DTLS ClientHello (UnmarshalDTLS).
	DTLS bool
	// LegacyVersion is client_version (legacy_version in TLS 1.3).
	LegacyVersion uint16
	// Random is the 32-byte random, or the SSLv2 challenge.
	Random []byte
	// SessionID is legacy_session_id.
	SessionID []byte
	// Cookie is the DTLS cookie (RFC 6347 §4.2.1; legacy_cookie in DTLS 1.3): empty
	// in a first hello, the HelloVerifyRequest's cookie in the second. Always nil
	// for TLS.
	Cookie []byte
	// CipherSuites in wire order, GREASE kept. For SSLv2 only the cipher specs whose
	// first byte is 0 (TLS suites) are kept, as 16-bit values.
	CipherSuites []uint16
	// CompressionMethods in wire order (nil for SSLv2).
	CompressionMethods []byte
	// Extensions lists the extension types in wire order, GREASE and unknown types
	// included.
	Extensions []uint16
	// ServerName is the SNI host_name (RFC 6066 §3), empty if absent.
	ServerName []byte
	// ALPN lists the offered protocols in wire order (RFC 7301).
	ALPN [][]byte
	// SupportedVersions is the supported_versions list (RFC 8446 §4.2.1), GREASE kept.
	SupportedVersions []uint16
	// SupportedGroups is the supported_groups list (RFC 8446 §4.2.7, RFC 7919),
	// GREASE kept.
	SupportedGroups []uint16
	// ECPointFormats is the ec_point_formats list (RFC 8422 §5.1.2).
	ECPointFormats []byte
	// KeyShareGroups are the groups of the key_share entries (RFC 8446 §4.2.8).
	KeyShareGroups []uint16
	// SignatureAlgorithms is the signature_algorithms list (RFC 8446 §4.2.3).
	SignatureAlgorithms []uint16
	// ECH is true when encrypted_client_hello (0xfe0d) is present.
	ECH bool
	// PSK is true when pre_shared_key is present: a resumption attempt.
	PSK bool
	// SessionTicket is true when the session_ticket extension (RFC 5077) is present
	// and not empty: a ticket resumption attempt.
	SessionTicket bool
	// EarlyData is true when early_data is present (RFC 8446 §4.2.10).
	EarlyData bool
	// Violation is the first rule the hello breaks once its fixed fields have parsed:
	// an empty list where the RFC wants one entry at least (compression methods,
	// groups, ALPN, …), a duplicate extension, a non-empty flag extension, an
	// extensions block that breaks off or is followed by stray bytes. Such a hello is
	// kept (Unmarshal returns nil): its version, random, session ID and cipher suites
	// add up, and fingerprints describe what was sent, not what a server would
	// accept. The fields read before the violation are kept; a duplicate's data is
	// not read, and nothing after a block that breaks off.
	Violation error
}

// Errors of ClientHello.Unmarshal.
var (
	errCHHeader          = newParseError("client hello header", ErrTruncated)
	errCHType            = newParseError("client hello: wrong handshake type", ErrMalformed)
	errCHTrailing        = newParseError("client hello", ErrTrailingData)
	errCHVersion         = newParseError("client hello version", ErrTruncated)
	errCHRandom          = newParseError("client hello random", ErrTruncated)
	errCHSessionID       = newParseError("client hello session id", ErrTruncated)
	errCHSessionIDLen    = newParseError("client hello session id longer than 32", ErrMalformed)
	errCHCookie          = newParseError("dtls client hello cookie", ErrTruncated)
	errCHCipherSuites    = newParseError("client hello cipher suites", ErrTruncated)
	errCHCipherSuitesLen = newParseError("client hello cipher suites: empty or odd length", ErrMalformed)
	errCHCompression     = newParseError("client hello compression methods", ErrTruncated)
	errCHCompressionLen  = newParseError("client hello compression methods: empty", ErrMalformed)
	errCHExtensions      = newParseError("client hello extensions", ErrTruncated)
	errCHExtension       = newParseError("client hello extension", ErrTruncated)
	errCHDuplicate       = newParseError("client hello extension", ErrDuplicateExtension)
	errCHTooManyExt      = newParseError("client hello: too many unrecognised extension types", ErrMalformed)
	errCHExtTrailing     = newParseError("client hello extension", ErrTrailingData)

	errCHServerName    = newParseError("client hello server_name", ErrMalformed)
	errCHGroups        = newParseError("client hello supported_groups", ErrMalformed)
	errCHPointFormats  = newParseError("client hello ec_point_formats", ErrMalformed)
	errCHSigAlgs       = newParseError("client hello signature_algorithms", ErrMalformed)
	errCHALPN          = newParseError("client hello application_layer_protocol_negotiation", ErrMalformed)
	errCHEMS           = newParseError("client hello extended_master_secret not empty", ErrMalformed)
	errCHPreSharedKey  = newParseError("client hello pre_shared_key", ErrMalformed)
	errCHEarlyData     = newParseError("client hello early_data not empty", ErrMalformed)
	errCHVersions      = newParseError("client hello supported_versions", ErrMalformed)
	errCHPSKModes      = newParseError("client hello psk_key_exchange_modes", ErrMalformed)
	errCHKeyShare      = newParseError("client hello key_share", ErrMalformed)
	errCHRenegotiation = newParseError("client hello renegotiation_info", ErrMalformed)
	errCHSSLv2Header   = newParseError("sslv2 client hello header", ErrTruncated)
	errCHSSLv2Type     = newParseError("sslv2 client hello: wrong message type", ErrMalformed)
	errCHSSLv2Fields   = newParseError("sslv2 client hello", ErrTruncated)
	errCHSSLv2Lengths  = newParseError("sslv2 client hello lengths", ErrMalformed)
	errCHSSLv2Trailing = newParseError("sslv2 client hello", ErrTrailingData)
)

// Reset clears m, keeping the capacity of its slices for the next Unmarshal.
func (m *ClientHello) Reset() {
	*m = ClientHello{
		CipherSuites:        m.CipherSuites[:0],
		Extensions:          m.Extensions[:0],
		ALPN:                clearALPN(m.ALPN),
		SupportedVersions:   m.SupportedVersions[:0],
		SupportedGroups:     m.SupportedGroups[:0],
		KeyShareGroups:      m.KeyShareGroups[:0],
		SignatureAlgorithms: m.SignatureAlgorithms[:0],
	}
}

// clearALPN empties a list of aliased protocol names, dropping the references so the
// old input can be collected.
func clearALPN(l [][]byte) [][]byte {
	clear(l)
	return l[:0]
}

// Unmarshal parses msg, a whole handshake message including its 4-byte header
// (msg_type 1, uint24 length), or an SSLv2-compatible CLIENT-HELLO record (2-byte
// header with the high bit set, RFC 5246 App. E.2). It resets m first. On error m is
// left reset and the error wraps one of the package's sentinels. m aliases msg
// afterwards (see ClientHello).
func (m *ClientHello) Unmarshal(msg []byte) error {
	m.Reset()
	var err error
	if isSSLv2Record(msg) {
		err = m.unmarshalSSLv2(msg)
	} else {
		err = m.unmarshal(msg, false)
	}
	if err != nil {
		m.Reset()
	}
	return err
}

// UnmarshalDTLS parses msg, a whole DTLS ClientHello in the TLS handshake framing
// (msg_type 1, uint24 length, body): the fragments reassembled and the DTLS-only
// header fields (message_seq, fragment_offset, fragment_length; RFC 6347 §4.2.2)
// dropped. The body differs from TLS by the cookie<0..2^8-1> after the session ID.
// It resets m first and sets DTLS; otherwise it behaves as Unmarshal.
func (m *ClientHello) UnmarshalDTLS(msg []byte) error {
	m.Reset()
	if err := m.unmarshal(msg, true); err != nil {
		m.Reset()
		return err
	}
	m.DTLS = true
	return nil
}

// isSSLv2Record reports whether b starts with a 2-byte SSLv2 record header.
func isSSLv2Record(b []byte) bool {
	s := cryptobyte.String(b)
	var b0 uint8
	return s.ReadUint8(&b0) && b0&sslv2HeaderLongBit != 0
}

func (m *ClientHello) unmarshal(msg []byte, dtls bool) error {
	s := cryptobyte.String(msg)
	var msgType uint8
	var body cryptobyte.String
	if !s.ReadUint8(&msgType) || !s.ReadUint24LengthPrefixed(&body) {
		return errCHHeader
	}
	if msgType != handshakeTypeClientHello {
		return errCHType
	}
	if !s.Empty() {
		return errCHTrailing
	}
	if !body.ReadUint16(&m.LegacyVersion) {
		return errCHVersion
	}
	if !body.ReadBytes(&m.Random, helloRandomLen) {
		return errCHRandom
	}
	var sessionID cryptobyte.String
	if !body.ReadUint8LengthPrefixed(&sessionID) {
		return errCHSessionID
	}
	if len(sessionID) > maxSessionIDLen {
		return errCHSessionIDLen
	}
	m.SessionID = sessionID
	if dtls {
		// RFC 6347 §4.2.1: opaque cookie<0..2^8-1>.
		var cookie cryptobyte.String
		if !body.ReadUint8LengthPrefixed(&cookie) {
			return errCHCookie
		}
		m.Cookie = cookie
	}
	// cipher_suites<2..2^16-2> (RFC 8446 §4.1.2).
	var suites cryptobyte.String
	if !body.ReadUint16LengthPrefixed(&suites) {
		return errCHCipherSuites
	}
	if suites.Empty() || len(suites)%2 != 0 {
		return errCHCipherSuitesLen
	}
	for !suites.Empty() {
		var suite uint16
		if !suites.ReadUint16(&suite) {
			return errCHCipherSuites
		}
		m.CipherSuites = append(m.CipherSuites, suite)
	}
	// legacy_compression_methods<1..2^8-1>.
	var compression cryptobyte.String
	if !body.ReadUint8LengthPrefixed(&compression) {
		return errCHCompression
	}
	if compression.Empty() {
		m.violate(errCHCompressionLen) // the list must hold "null" at least
	}
	m.CompressionMethods = compression
	// Extensions are optional before TLS 1.3 (RFC 5246 §7.4.1.2).
	if body.Empty() {
		return nil
	}
	// From here on a broken length is a Violation, not a reason to drop the hello:
	// the fixed fields before the extensions parsed, and the extensions that
	// parsed are what the client sent.
	var exts cryptobyte.String
	if !body.ReadUint16LengthPrefixed(&exts) {
		m.violate(errCHExtensions)
		return nil
	}
	if !body.Empty() {
		m.violate(errCHTrailing)
	}
	var seen extensionSet
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			m.violate(errCHExtension)
			return nil
		}
		switch seen.add(typ) {
		case extensionDuplicate:
			m.Extensions = append(m.Extensions, typ)
			m.violate(errCHDuplicate)
			continue
		case extensionSetFull:
			return errCHTooManyExt
		}
		m.Extensions = append(m.Extensions, typ)
		if err := m.parseExtension(typ, data); err != nil {
			m.violate(err)
		}
	}
	return nil
}

// violate records err as the hello's Violation unless it has one already.
func (m *ClientHello) violate(err error) {
	if m.Violation == nil {
		m.Violation = err
	}
}

// parseExtension decodes one ClientHello extension's data. Extensions without a field
// in ClientHello are only recorded (their type is in Extensions already).
func (m *ClientHello) parseExtension(typ uint16, data cryptobyte.String) error {
	switch typ {
	case extensionServerName:
		// RFC 6066 §3: ServerNameList server_name_list<1..2^16-1>, each entry a
		// NameType and, for host_name (0), HostName<1..2^16-1>. Only one name per
		// type is allowed.
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || list.Empty() {
			return errCHServerName
		}
		var hostSeen bool
		for !list.Empty() {
			var nameType uint8
			var name cryptobyte.String
			if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
				return errCHServerName
			}
			if nameType != serverNameTypeHostName {
				continue
			}
			if hostSeen || name.Empty() {
				return errCHServerName
			}
			hostSeen = true
			m.ServerName = name
		}
	case extensionSupportedGroups:
		// RFC 8446 §4.2.7 / RFC 8422 §5.1.1: NamedGroup named_group_list<2..2^16-1>.
		var err error
		if m.SupportedGroups, err = readUint16List(&data, m.SupportedGroups, errCHGroups); err != nil {
			return err
		}
	case extensionECPointFormats:
		// RFC 8422 §5.1.2: ECPointFormat ec_point_format_list<1..2^8-1>.
		var formats cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&formats) || formats.Empty() {
			return errCHPointFormats
		}
		m.ECPointFormats = formats
	case extensionSignatureAlgorithms:
		// RFC 8446 §4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>.
		var err error
		if m.SignatureAlgorithms, err = readUint16List(&data, m.SignatureAlgorithms, errCHSigAlgs); err != nil {
			return err
		}
	case extensionALPN:
		// RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, each
		// ProtocolName<1..2^8-1>.
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || list.Empty() {
			return errCHALPN
		}
		for !list.Empty() {
			var proto cryptobyte.String
			if !list.ReadUint8LengthPrefixed(&proto) || proto.Empty() {
				return errCHALPN
			}
			m.ALPN = append(m.ALPN, proto)
		}
	case extensionExtendedMasterSecret:
		// RFC 7627 §5.1: extension_data is empty.
		if !data.Empty() {
			return errCHEMS
		}
	case extensionSessionTicket:
		// RFC 5077 §3.2: an empty ticket asks for one, a non-empty one resumes.
		m.SessionTicket = !data.Empty()
		data = nil
	case extensionPSK:
		// RFC 8446 §4.2.11: OfferedPsks { PskIdentity identities<7..2^16-1>;
		// PskBinderEntry binders<33..2^16-1> }.
		if err := checkOfferedPSKs(&data); err != nil {
			return err
		}
		m.PSK = true
	case extensionEarlyData:
		// RFC 8446 §4.2.10: empty in a ClientHello.
		if !data.Empty() {
			return errCHEarlyData
		}
		m.EarlyData = true
	case extensionSupportedVersions:
		// RFC 8446 §4.2.1: ProtocolVersion versions<2..254>.
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) || list.Empty() || len(list)%2 != 0 {
			return errCHVersions
		}
		for !list.Empty() {
			var v uint16
			if !list.ReadUint16(&v) {
				return errCHVersions
			}
			m.SupportedVersions = append(m.SupportedVersions, v)
		}
	case extensionPSKKeyExchangeModes:
		// RFC 8446 §4.2.9: PskKeyExchangeMode ke_modes<1..255>.
		var modes cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&modes) || modes.Empty() {
			return errCHPSKModes
		}
	case extensionKeyShare, extensionKeyShareDraft:
		// RFC 8446 §4.2.8: KeyShareEntry client_shares<0..2^16-1>, each a NamedGroup
		// and key_exchange<1..2^16-1>. Drafts before -23 used code point 40 with the
		// same layout.
		var shares cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&shares) {
			return errCHKeyShare
		}
		for !shares.Empty() {
			var group uint16
			var key cryptobyte.String
			if !shares.ReadUint16(&group) || !shares.ReadUint16LengthPrefixed(&key) || key.Empty() {
				return errCHKeyShare
			}
			m.KeyShareGroups = append(m.KeyShareGroups, group)
		}
	case extensionRenegotiationInfo:
		// RFC 5746 §3.2: opaque renegotiated_connection<0..255>.
		var info cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&info) {
			return errCHRenegotiation
		}
	case extensionEncryptedClientHello:
		// draft-ietf-tls-esni §5: the payload is opaque here.
		m.ECH = true
		data = nil
	default:
		// Recorded only: padding (RFC 7685), status_request (RFC 6066 §8),
		// GREASE (RFC 8701) and anything unknown.
		data = nil
	}
	if !data.Empty() {
		return errCHExtTrailing
	}
	return nil
}

// readUint16List reads a non-empty uint16-length-prefixed list of 16-bit values from
// data, appending them to dst.
func readUint16List(data *cryptobyte.String, dst []uint16, errBad error) ([]uint16, error) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || list.Empty() || len(list)%2 != 0 {
		return dst, errBad
	}
	for !list.Empty() {
		var v uint16
		if !list.ReadUint16(&v) {
			return dst, errBad
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// checkOfferedPSKs validates the OfferedPsks structure (RFC 8446 §4.2.11): a
// non-empty list of identities (opaque identity<1..2^16-1>, uint32 age) and a
// non-empty list of binders (opaque PskBinderEntry<32..255>).
func checkOfferedPSKs(data *cryptobyte.String) error {
	var identities, binders cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&identities) || identities.Empty() ||
		!data.ReadUint16LengthPrefixed(&binders) || binders.Empty() {
		return errCHPreSharedKey
	}
	for !identities.Empty() {
		var identity cryptobyte.String
		var age uint32
		if !identities.ReadUint16LengthPrefixed(&identity) || identity.Empty() || !identities.ReadUint32(&age) {
			return errCHPreSharedKey
		}
	}
	for !binders.Empty() {
		var binder cryptobyte.String
		if !binders.ReadUint8LengthPrefixed(&binder) || len(binder) < minPSKBinderLen {
			return errCHPreSharedKey
		}
	}
	return nil
}

// unmarshalSSLv2 parses an SSLv2-compatible CLIENT-HELLO record (RFC 5246 App. E.2,
// RFC 6101 App. E): a 2-byte record header, then msg_type 1, version, the lengths of
// the cipher specs, session id and challenge, and the three fields themselves.
func (m *ClientHello) unmarshalSSLv2(record []byte) error {
	s := cryptobyte.String(record)
	var header uint16
	if !s.ReadUint16(&header) {
		return errCHSSLv2Header
	}
	var bodyBytes []byte
	if !s.ReadBytes(&bodyBytes, int(header&sslv2LengthMask)) {
		return errCHSSLv2Header
	}
	body := cryptobyte.String(bodyBytes)
	if !s.Empty() {
		return errCHSSLv2Trailing
	}
	var msgType uint8
	var specsLen, sessionIDLen, challengeLen uint16
	if !body.ReadUint8(&msgType) {
		return errCHSSLv2Fields
	}
	if msgType != sslv2MsgClientHello {
		return errCHSSLv2Type
	}
	if !body.ReadUint16(&m.LegacyVersion) || !body.ReadUint16(&specsLen) ||
		!body.ReadUint16(&sessionIDLen) || !body.ReadUint16(&challengeLen) {
		return errCHSSLv2Fields
	}
	// cipher specs are 3 bytes each; the session id is 0 or 16 bytes; the
	// challenge 16 to 32 bytes.
	if specsLen == 0 || specsLen%3 != 0 || (sessionIDLen != 0 && sessionIDLen != sslv2SessionIDLen) ||
		challengeLen < sslv2MinChallengeLen || challengeLen > sslv2MaxChallengeLen {
		return errCHSSLv2Lengths
	}
	var specBytes []byte
	if !body.ReadBytes(&specBytes, int(specsLen)) ||
		!body.ReadBytes(&m.SessionID, int(sessionIDLen)) ||
		!body.ReadBytes(&m.Random, int(challengeLen)) {
		return errCHSSLv2Fields
	}
	if !body.Empty() {
		return errCHSSLv2Trailing
	}
	specs := cryptobyte.String(specBytes)
	for !specs.Empty() {
		var kind uint8
		var suite uint16
		if !specs.ReadUint8(&kind) || !specs.ReadUint16(&suite) {
			return errCHSSLv2Fields
		}
		if kind == 0 {
			m.CipherSuites = append(m.CipherSuites, suite)
		}
	}
	m.SSLv2 = true
	return nil
}

// MaxVersion returns the highest non-GREASE value of supported_versions, or
// LegacyVersion when the extension is absent or holds only GREASE. For a DTLS hello
// the highest is the newest DTLS version, which is the lowest number (0xfefc DTLS 1.3
// is above 0xfefd DTLS 1.2); values that are no DTLS version are ignored there.
func (m *ClientHello) MaxVersion() Version {
	if m.DTLS {
		return m.maxDTLSVersion()
	}
	var best uint16
	for _, v := range m.SupportedVersions {
		if !IsGREASE(v) && v > best {
			best = v
		}
	}
	if best == 0 {
		return Version(m.LegacyVersion)
	}
	return Version(best)
}

// maxDTLSVersion is MaxVersion for a DTLS hello.
func (m *ClientHello) maxDTLSVersion() Version {
	var best Version
	for _, v := range m.SupportedVersions {
		if v := Version(v); v.IsDTLS() && (best == 0 || v.Normalized() > best.Normalized()) {
			best = v
		}
	}
	if best == 0 {
		return Version(m.LegacyVersion)
	}
	return best
}

// HasPQKeyShare reports whether the key_share extension offers a post-quantum or
// hybrid group: X25519MLKEM768 (0x11ec), SecP256r1MLKEM768 (0x11eb),
// SecP384r1MLKEM1024 (0x11ed), pure ML-KEM (0x0200-0x0202), or the Kyber drafts
// (0x6399, 0x639a, 0xfe30, 0xfe31).
func (m *ClientHello) HasPQKeyShare() bool {
	for _, g := range m.KeyShareGroups {
		if isPQGroup(g) {
			return true
		}
	}
	return false
}

// offersTLS13 reports whether the hello offers TLS 1.3 or one of its drafts.
func (m *ClientHello) offersTLS13() bool {
	for _, v := range m.SupportedVersions {
		if Version(v).Normalized() == VersionTLS13 {
			return true
		}
	}
	return false
}
