package classify

import (
	"golang.org/x/crypto/cryptobyte"
)

// ServerHello is a parsed ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3), a
// HelloRetryRequest (a ServerHello with the special random), or an SSLv2 SERVER-HELLO.
//
// Slice and []byte fields alias the bytes given to Unmarshal or reuse the struct's own
// capacity: they are valid only until the next Unmarshal or Reset.
type ServerHello struct {
	// LegacyVersion is server_version (legacy_version in TLS 1.3); 0x0002 for SSLv2.
	LegacyVersion uint16
	// Random is the 32-byte random (the connection id for SSLv2).
	Random []byte
	// SessionID is legacy_session_id_echo (absent in TLS 1.3 drafts before -22).
	SessionID []byte
	// CipherSuite is the selected cipher suite (0 for SSLv2).
	CipherSuite uint16
	// Compression is the selected compression method.
	Compression uint8
	// Extensions lists the extension types in wire order.
	Extensions []uint16
	// SupportedVersion is the version selected in supported_versions, 0 if absent.
	SupportedVersion uint16
	// SelectedGroup is the key_share group, or a HelloRetryRequest's selected_group.
	SelectedGroup uint16
	// ALPN is the selected application protocol, nil if none.
	ALPN []byte
	// HRR is true when Random is the HelloRetryRequest magic (RFC 8446 §4.1.3).
	HRR bool
	// ExtendedMasterSecret is true when extended_master_secret was accepted
	// (RFC 7627).
	ExtendedMasterSecret bool

	// Violation is the first rule the hello breaks once its fixed fields have parsed
	// (see ClientHello.Violation); the hello is kept.
	Violation error

	// sslv2Certificate is the certificate of an SSLv2 SERVER-HELLO.
	sslv2Certificate []byte
	// versionUnreadable is true when supported_versions is present but does not hold
	// one version, or the extensions could not all be read: no version was
	// negotiated by the rules (RFC 8446 §4.2.1), and the legacy_version next to it is
	// not the answer either.
	versionUnreadable bool
}

// helloRetryRequestRandom is SHA-256("HelloRetryRequest"), the Random of a
// HelloRetryRequest (RFC 8446 §4.1.3).
var helloRetryRequestRandom = [helloRandomLen]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// Errors of ServerHello.Unmarshal.
var (
	errSHHeader        = newParseError("server hello header", ErrTruncated)
	errSHType          = newParseError("server hello: wrong handshake type", ErrMalformed)
	errSHTrailing      = newParseError("server hello", ErrTrailingData)
	errSHFields        = newParseError("server hello", ErrTruncated)
	errSHSessionIDLen  = newParseError("server hello session id longer than 32", ErrMalformed)
	errSHExtensions    = newParseError("server hello extensions", ErrTruncated)
	errSHExtension     = newParseError("server hello extension", ErrTruncated)
	errSHDuplicate     = newParseError("server hello extension", ErrDuplicateExtension)
	errSHTooManyExt    = newParseError("server hello: too many unrecognised extension types", ErrMalformed)
	errSHExtTrailing   = newParseError("server hello extension", ErrTrailingData)
	errSHVersions      = newParseError("server hello supported_versions", ErrMalformed)
	errSHKeyShare      = newParseError("server hello key_share", ErrMalformed)
	errSHALPN          = newParseError("server hello application_layer_protocol_negotiation", ErrMalformed)
	errSHEMS           = newParseError("server hello extended_master_secret not empty", ErrMalformed)
	errSHPreSharedKey  = newParseError("server hello pre_shared_key", ErrMalformed)
	errSHSSLv2Header   = newParseError("sslv2 server hello header", ErrTruncated)
	errSHSSLv2Type     = newParseError("sslv2 server hello: wrong message type", ErrMalformed)
	errSHSSLv2Fields   = newParseError("sslv2 server hello", ErrTruncated)
	errSHSSLv2Trailing = newParseError("sslv2 server hello", ErrTrailingData)
)

// Reset clears m, keeping the capacity of its slices for the next Unmarshal.
func (m *ServerHello) Reset() {
	*m = ServerHello{Extensions: m.Extensions[:0]}
}

// Unmarshal parses msg, a whole handshake message including its 4-byte header
// (msg_type 2, uint24 length), or an SSLv2 SERVER-HELLO record (2-byte header with the
// high bit set). It resets m first. On error m is left reset and the error wraps one
// of the package's sentinels. m aliases msg afterwards (see ServerHello).
//
// TLS 1.3 drafts before -22 (and BoringSSL's draft-18 experiments) sent a ServerHello
// without legacy_session_id_echo and compression_method; that layout is recognised by
// its version.
func (m *ServerHello) Unmarshal(msg []byte) error {
	m.Reset()
	var err error
	if isSSLv2Record(msg) {
		err = m.unmarshalSSLv2(msg)
	} else {
		err = m.unmarshal(msg)
	}
	if err != nil {
		m.Reset()
	}
	return err
}

func (m *ServerHello) unmarshal(msg []byte) error {
	s := cryptobyte.String(msg)
	var msgType uint8
	var body cryptobyte.String
	if !s.ReadUint8(&msgType) || !s.ReadUint24LengthPrefixed(&body) {
		return errSHHeader
	}
	if msgType != handshakeTypeServerHello {
		return errSHType
	}
	if !s.Empty() {
		return errSHTrailing
	}
	if !body.ReadUint16(&m.LegacyVersion) || !body.ReadBytes(&m.Random, helloRandomLen) {
		return errSHFields
	}
	m.HRR = string(m.Random) == string(helloRetryRequestRandom[:])
	if shortDraftServerHello(Version(m.LegacyVersion)) {
		// Drafts ≤ 21: version, random, cipher_suite, extensions<0..2^16-1>.
		if !body.ReadUint16(&m.CipherSuite) {
			return errSHFields
		}
	} else {
		var sessionID cryptobyte.String
		if !body.ReadUint8LengthPrefixed(&sessionID) || !body.ReadUint16(&m.CipherSuite) ||
			!body.ReadUint8(&m.Compression) {
			return errSHFields
		}
		if len(sessionID) > maxSessionIDLen {
			return errSHSessionIDLen
		}
		m.SessionID = sessionID
	}
	if body.Empty() {
		return nil
	}
	// From here on a broken length is a Violation, not a reason to drop the hello
	// (see ClientHello). Extensions that cannot all be read may have held
	// supported_versions: the version is then unknown.
	var exts cryptobyte.String
	if !body.ReadUint16LengthPrefixed(&exts) {
		m.violate(errSHExtensions)
		m.versionUnreadable = true
		return nil
	}
	if !body.Empty() {
		m.violate(errSHTrailing)
	}
	var seen extensionSet
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		unread := len(exts)
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			m.violate(errSHExtension)
			if unread >= minSupportedVersionsExt {
				// The rest could have held supported_versions.
				m.SupportedVersion, m.versionUnreadable = 0, true
			}
			return nil
		}
		switch seen.add(typ) {
		case extensionDuplicate:
			m.Extensions = append(m.Extensions, typ)
			m.violate(errSHDuplicate)
			continue
		case extensionSetFull:
			return errSHTooManyExt
		}
		m.Extensions = append(m.Extensions, typ)
		if err := m.parseExtension(typ, data); err != nil {
			m.violate(err)
			if typ == extensionSupportedVersions {
				m.SupportedVersion, m.versionUnreadable = 0, true
			}
		}
	}
	return nil
}

// violate records err as the hello's Violation unless it has one already.
func (m *ServerHello) violate(err error) {
	if m.Violation == nil {
		m.Violation = err
	}
}

// minSupportedVersionsExt is the length of a ServerHello's supported_versions
// extension: type, length and one version. Unreadable bytes fewer than that cannot
// have held it.
const minSupportedVersionsExt = 6

// shortDraftServerHello reports whether v is a TLS 1.3 pre-standard version whose
// ServerHello lacks legacy_session_id_echo and legacy_compression_method: drafts
// before -22 (including the earliest, which sent 0x0304) and BoringSSL's draft-18
// record-type experiment.
func shortDraftServerHello(v Version) bool {
	// The first drafts put 0x0304 itself in the version field, which the final
	// ServerHello never does (its legacy_version is 0x0303).
	if v == VersionTLS13 || v == versionTLS13RecordTypeExperiment {
		return true
	}
	n := v.draftNumber()
	return v&0xff00 == versionTLS13DraftBase && n < firstDraftWithSessionID
}

// parseExtension decodes one ServerHello extension's data.
func (m *ServerHello) parseExtension(typ uint16, data cryptobyte.String) error {
	switch typ {
	case extensionSupportedVersions:
		// RFC 8446 §4.2.1: ProtocolVersion selected_version.
		if !data.ReadUint16(&m.SupportedVersion) {
			return errSHVersions
		}
	case extensionKeyShare, extensionKeyShareDraft:
		// RFC 8446 §4.2.8: KeyShareEntry server_share, or a HelloRetryRequest's
		// NamedGroup selected_group.
		if !data.ReadUint16(&m.SelectedGroup) {
			return errSHKeyShare
		}
		if !m.HRR {
			var key cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&key) || key.Empty() {
				return errSHKeyShare
			}
		}
	case extensionALPN:
		// RFC 7301 §3.1: the server's protocol_name_list holds exactly one name.
		var list, proto cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || !list.ReadUint8LengthPrefixed(&proto) ||
			proto.Empty() || !list.Empty() {
			return errSHALPN
		}
		m.ALPN = proto
	case extensionExtendedMasterSecret:
		// RFC 7627 §5.2: extension_data is empty.
		if !data.Empty() {
			return errSHEMS
		}
		m.ExtendedMasterSecret = true
	case extensionPSK:
		// RFC 8446 §4.2.11: uint16 selected_identity.
		var identity uint16
		if !data.ReadUint16(&identity) {
			return errSHPreSharedKey
		}
	default:
		// Recorded only: renegotiation_info, ec_point_formats, session_ticket,
		// server_name (empty, RFC 6066 §3), status_request, GREASE, unknown.
		data = nil
	}
	if !data.Empty() {
		return errSHExtTrailing
	}
	return nil
}

// unmarshalSSLv2 parses an SSLv2 SERVER-HELLO record (draft-hickman-netscape-ssl-00
// §2.6): msg_type 4, session_id_hit, certificate_type, server_version, the lengths of
// the certificate, cipher specs and connection id, then those three fields.
func (m *ServerHello) unmarshalSSLv2(record []byte) error {
	s := cryptobyte.String(record)
	var header uint16
	var bodyBytes []byte
	if !s.ReadUint16(&header) || !s.ReadBytes(&bodyBytes, int(header&sslv2LengthMask)) {
		return errSHSSLv2Header
	}
	if !s.Empty() {
		return errSHSSLv2Trailing
	}
	body := cryptobyte.String(bodyBytes)
	var msgType, sessionIDHit, certType uint8
	var version, certLen, specsLen, connIDLen uint16
	if !body.ReadUint8(&msgType) {
		return errSHSSLv2Fields
	}
	if msgType != sslv2MsgServerHello {
		return errSHSSLv2Type
	}
	var specs []byte
	if !body.ReadUint8(&sessionIDHit) || !body.ReadUint8(&certType) || !body.ReadUint16(&version) ||
		!body.ReadUint16(&certLen) || !body.ReadUint16(&specsLen) || !body.ReadUint16(&connIDLen) ||
		!body.ReadBytes(&m.sslv2Certificate, int(certLen)) || !body.ReadBytes(&specs, int(specsLen)) ||
		!body.ReadBytes(&m.Random, int(connIDLen)) {
		return errSHSSLv2Fields
	}
	if !body.Empty() {
		return errSHSSLv2Trailing
	}
	m.LegacyVersion = uint16(VersionSSL2)
	return nil
}

// Version returns the negotiated version: the supported_versions selection when
// present (TLS 1.3), else LegacyVersion; 0 when supported_versions is present but
// unreadable.
func (m *ServerHello) Version() Version {
	if m.versionUnreadable {
		return 0
	}
	if m.SupportedVersion != 0 {
		return Version(m.SupportedVersion)
	}
	return Version(m.LegacyVersion)
}
