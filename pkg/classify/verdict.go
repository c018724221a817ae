package classify

import (
	"errors"
	"time"
)

// Class is the top-level verdict on a flow.
type Class uint8

// Classes. A flow is plaintext only on positive evidence; without enough evidence it
// is unknown, and the Verdict's Reason says why.
const (
	ClassUnknown Class = iota
	ClassPlaintext
	ClassTLS
	ClassSSH
	ClassEncrypted // encryption other than TLS and SSH, with positive evidence
)

var classNames = [...]string{"unknown", "plaintext", "tls", "ssh", "encrypted"}

// String returns the class as written in every output.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// Reasons a flow stays unknown. They are label values: a small fixed set.
const (
	ReasonNoPayload       = "no_payload"          // no payload bytes in either direction
	ReasonBinary          = "unrecognised_binary" // bytes seen, no protocol proven
	ReasonTooFewBytes     = "too_few_bytes"       // the bytes seen could still be several things
	ReasonMidstream       = "midstream"           // joined after the opening, nothing proven
	ReasonStartTLSPending = "starttls_unfinished"
	ReasonDatagram        = "unrecognised_datagram"
	ReasonTLSMalformed    = "tls_malformed"         // looked like TLS, the handshake did not parse
	ReasonRDPSecurity     = "rdp_standard_security" // RDP's own RC4 encryption, not TLS: neither clear nor provably strong
	// ReasonBufferRefused: bytes came, but the flow table's buffer budget was spent
	// and none could be kept (set by the flow table, not the classifier).
	ReasonBufferRefused = "buffer_refused"
)

// Input is what the flow table knows about a flow when it asks for a verdict. Client
// and Server are the in-order first bytes of each direction (for UDP, the first
// datagrams, each behind its 2-byte length: see NextDatagram); they are borrowed for
// the call.
type Input struct {
	Proto      uint8 // 6 TCP, 17 UDP
	Client     []byte
	Server     []byte
	ClientPort uint16
	ServerPort uint16
	// ClientMore and ServerMore are false when that direction can bring no more bytes
	// (closed, prefix limit reached, or a hole that will not fill).
	ClientMore bool
	ServerMore bool
	// Midstream is true when the connection's opening was not seen.
	Midstream bool
	// Final asks for a verdict now, with what there is.
	Final bool
	// RawFingerprints asks for the strings behind the fingerprints in the Verdict
	// (JA3String, JA3SString, JA4Raw): what analysts read to see a client's offer, and
	// what lets another tool's hash be checked. Off by default: they cost a few hundred
	// bytes a flow.
	RawFingerprints bool
}

// Verdict is the classification of one flow. Strings are owned (copied out of the
// packet bytes).
type Verdict struct {
	Class   Class
	Version Version // negotiated TLS version, 0 if not seen
	App     App     // plaintext protocol, or the one that upgraded with STARTTLS
	// AppOther names a protocol outside the App set when App is AppNone: "quic",
	// "gquic", "dtls", "wireguard", "openvpn", "fbzero".
	AppOther string
	// QUICVersion is the version of the client Initials that carried the ClientHello,
	// else of the client's first long-header QUIC packet; 0 when not QUIC
	// (QUICVersionName spells it).
	QUICVersion uint32
	StartTLS    bool
	SNI         string
	ALPN        []string // offered by the client
	ALPNServer  string   // selected by the server
	Cipher      uint16
	Group       uint16
	JA3         string
	JA3S        string
	JA4         string
	// JA3String, JA3SString and JA4Raw (FoxIO's JA4_r) are the strings the hashes are
	// made of, set only when Input.RawFingerprints asked for them.
	JA3String  string
	JA3SString string
	JA4Raw     string
	Resumed    bool
	HRR        bool
	// ClientCert says whether the client sent a certificate (mutual TLS), and
	// ClientCertRequested whether the server asked for one; ClientAuthEvidence says
	// how ClientCert is known (EvidenceCertificateMessage, EvidenceTLS13FlightSize),
	// "" when it is not. See Handshake.ClientAuth.
	ClientCert          Answer
	ClientCertRequested Answer
	ClientAuthEvidence  string
	// OfferedVersions are the versions the client offered: its supported_versions
	// when OfferedVersionsListed, else only its hello's version, the highest it
	// accepts (lower ones may be accepted too). FallbackSCSV is true when the hello
	// carried TLS_FALLBACK_SCSV (RFC 7507): a retry after a failed handshake at a
	// higher version. ServerLacksTLS13 is true when the client offered TLS 1.3 and
	// the server chose an older version.
	// Mesh names the service mesh whose proxy sent the ClientHello (MeshIstio,
	// MeshLinkerd, MeshConsul), "" when none is recognised.
	Mesh                  string
	OfferedVersions       []Version
	OfferedVersionsListed bool
	FallbackSCSV          bool
	ServerLacksTLS13      bool
	ECH                   bool
	PQ                    bool // the key exchange offered a post-quantum hybrid
	// Heartbeat is true when heartbeat records (RFC 6520; Heartbleed's vector) crossed
	// in clear before the verdict.
	Heartbeat bool
	// HeartbeatAccepted is true when the server's hello carries the heartbeat
	// extension (RFC 6520 §2): the peers agreed to heartbeats, which a server on an
	// OpenSSL vulnerable to Heartbleed (CVE-2014-0160) needs to leak memory. Heartbeat
	// records themselves usually come after the handshake, when the flow is decided.
	HeartbeatAccepted bool
	ServerCert        *CertInfo
	// Via names a tunnel the verdict was found inside ("socks"); the rest of the
	// verdict is the tunnelled connection's.
	Via string
	// Reason says why a flow is unknown.
	Reason string
	// ParseError names a parse failure met on the way, even when a verdict was reached.
	ParseError string
}

// Classifier turns flow bytes into verdicts. It keeps scratch space between calls so
// that undecided calls allocate nothing; it is not safe for concurrent use.
type Classifier struct {
	hs    Handshake
	first ClientHello // the first of two ClientHellos, for fingerprints
	ovpn  [2][]byte   // each direction's TLS bytes out of OpenVPN control packets
}

// Classify returns the verdict for in and whether it is final. When done is false the
// flow needs more bytes; the returned Verdict is then meaningless. With in.Final set
// done is always true.
func (c *Classifier) Classify(in *Input) (v Verdict, done bool) {
	if in.Proto == 17 {
		return c.datagram(in)
	}
	return c.stream(in)
}

func (c *Classifier) stream(in *Input) (Verdict, bool) {
	cl, sv := in.Client, in.Server
	noMore := in.Final || (!in.ClientMore && !in.ServerMore)
	if len(cl) == 0 && len(sv) == 0 {
		if noMore {
			return Verdict{Reason: ReasonNoPayload}, true
		}
		return Verdict{}, false
	}
	if so, ok := natsTLS(cl, sv); ok {
		return c.tls(in, cl, sv[so:], noMore, AppNATS)
	}
	if LooksLikeTLS(cl) || (len(cl) == 0 && LooksLikeTLS(sv)) {
		if in.Midstream && !startsWithHandshake(cl, sv) && (midstreamTLS(cl) || midstreamTLS(sv)) {
			return Verdict{Class: ClassTLS, Reason: ReasonMidstream}, true // records, no hello to read
		}
		v, done := c.tls(in, cl, sv, noMore, AppNone)
		// Joined midstream, five plausible bytes are not enough: a hello that parsed
		// is (a capture that starts after the SYN but at the ClientHello is common).
		if !in.Midstream || !done || v.Class != ClassTLS || c.hs.ClientHellos > 0 || c.hs.ServerHelloSeen {
			return v, done
		}
	}
	if v, done, ok := c.openVPN(in, noMore); ok {
		return v, done
	}
	if sni, ok, more := fbZero(cl); ok {
		return Verdict{Class: ClassEncrypted, AppOther: "fbzero", SNI: string(sni)}, true
	} else if more && !noMore {
		return Verdict{}, false
	}
	app, more := DetectStream(cl, sv)
	switch {
	case app == AppSSH:
		return Verdict{Class: ClassSSH, App: AppSSH}, true
	case encryptedApp(app):
		return Verdict{Class: ClassEncrypted, App: app}, true
	case app == AppSOCKS:
		return c.socks(in, noMore)
	case app != AppNone:
		return c.plaintextApp(in, app, noMore)
	case in.Midstream && (midstreamTLS(cl) || midstreamTLS(sv)):
		return Verdict{Class: ClassTLS, Reason: ReasonMidstream}, true
	}
	// Readable text in either direction is plaintext even when the protocol is not
	// recognised; wait for enough of it unless the flow is over.
	if ReadableText(cl) || ReadableText(sv) {
		if noMore || len(cl) >= readableDecisionBytes || len(sv) >= readableDecisionBytes {
			return Verdict{Class: ClassPlaintext}, true
		}
		return Verdict{}, false
	}
	if more && !noMore {
		return Verdict{}, false
	}
	if !noMore && len(cl)+len(sv) < binaryDecisionBytes {
		return Verdict{}, false
	}
	if in.Midstream {
		return Verdict{Reason: ReasonMidstream}, true
	}
	if len(cl)+len(sv) < binaryDecisionBytes {
		return Verdict{Reason: ReasonTooFewBytes}, true
	}
	return Verdict{Reason: ReasonBinary}, true
}

// startsWithHandshake reports whether the first TLS record seen is a handshake record,
// which may hold a hello.
func startsWithHandshake(cl, sv []byte) bool {
	b := cl
	if len(b) == 0 {
		b = sv
	}
	return len(b) > 0 && b[0] == recordTypeHandshake
}

// readableDecisionBytes is how much unrecognised readable text decides plaintext
// before a flow ends: enough that it is not a short binary header that happens to be
// printable.
const readableDecisionBytes = 256

// binaryDecisionBytes is how many unrecognised bytes make a flow unknown before it ends.
const binaryDecisionBytes = 512

// upgradeDecisionBytes is how far a client may talk in clear in a protocol that can
// upgrade to TLS before the flow is called plaintext without waiting for its end.
const upgradeDecisionBytes = 1024

// plaintextApp follows a recognised protocol: into TLS when it upgrades, else to a
// plaintext verdict once the upgrade can no longer come.
func (c *Classifier) plaintextApp(in *Input, app App, noMore bool) (Verdict, bool) {
	cl, sv := in.Client, in.Server
	co, so, st := FindStartTLS(app, cl, sv)
	switch st {
	case UpgradeDone:
		return c.tls(in, cl[co:], sv[so:], noMore, app)
	case UpgradePending:
		if noMore {
			return Verdict{App: app, Reason: ReasonStartTLSPending}, true
		}
		return Verdict{}, false
	case UpgradeRefused:
		if app == AppRDP {
			return Verdict{App: app, Reason: ReasonRDPSecurity}, true
		}
		return Verdict{Class: ClassPlaintext, App: app}, true
	}
	if !canUpgrade(app) || noMore || len(cl) >= upgradeDecisionBytes || clearBeyondUpgrade(app, cl) {
		return Verdict{Class: ClassPlaintext, App: app}, true
	}
	return Verdict{}, false
}

// socks follows a SOCKS handshake and classifies the tunnelled connection from the
// first byte after it. A refused or unfinished handshake carried only the handshake,
// itself clear text.
func (c *Classifier) socks(in *Input, noMore bool) (Verdict, bool) {
	co, so, st := socksTunnel(in.Client, in.Server)
	switch st {
	case UpgradeDone:
		inner := *in
		inner.Client, inner.Server, inner.Midstream = in.Client[co:], in.Server[so:], false
		v, done := c.stream(&inner)
		v.Via = "socks"
		return v, done
	case UpgradePending:
		if !noMore {
			return Verdict{}, false
		}
	}
	return Verdict{Class: ClassPlaintext, App: AppSOCKS}, true
}

// canUpgrade reports whether app has an in-band switch to TLS that may still come.
func canUpgrade(app App) bool {
	switch app {
	case AppSMTP, AppIMAP, AppPOP3, AppFTP, AppLDAP, AppXMPP, AppIRC, AppPostgreSQL, AppMySQL, AppRDP, AppADB:
		return true
	}
	return false
}

// clearBeyondUpgrade reports whether the client already went past the point where it
// could have asked for TLS: a PostgreSQL StartupMessage instead of an SSLRequest, a
// MySQL handshake response longer than an SSL request.
func clearBeyondUpgrade(app App, cl []byte) bool {
	switch app {
	case AppPostgreSQL:
		// StartupMessage: int32 length, int32 protocol 3.0 (196608).
		return len(cl) >= 8 && cl[4] == 0 && cl[5] == 3 && cl[6] == 0 && cl[7] == 0
	case AppMySQL:
		// The client's first packet (sequence 1): an SSL request is exactly 32 bytes.
		if len(cl) < 4 {
			return false
		}
		n := int(cl[0]) | int(cl[1])<<8 | int(cl[2])<<16
		return cl[3] == 1 && n > 32
	}
	return false
}

// tls builds a TLS verdict from the two directions starting at their first TLS byte.
func (c *Classifier) tls(in *Input, cl, sv []byte, noMore bool, app App) (Verdict, bool) {
	h := &c.hs
	h.Reset()
	h.ScanClient(cl)
	if LooksLikeTLS(sv) {
		h.ScanServer(sv)
	} else if len(sv) > 0 && app == AppNone {
		// The server answered in something else than TLS (an HTTP error page to a
		// ClientHello, say): what the server said is what crossed the wire.
		if sapp, _ := DetectStream(nil, sv); sapp != AppNone || ReadableText(sv) {
			v := Verdict{Class: ClassPlaintext, App: sapp, ParseError: "server_not_tls"}
			if h.ClientHellos > 0 {
				helloVerdict(&v, &h.ClientHello, nil, 't', in.RawFingerprints) // what the client offered is still evidence
			}
			return v, true
		}
	}
	if !h.Complete() && !noMore {
		return Verdict{}, false
	}
	// A TLS 1.3 client's certificate shows only in the size of its next flight.
	cert, requested, evidence, authDone := h.ClientAuth(noMore || !in.ClientMore)
	if !authDone && !noMore {
		return Verdict{}, false
	}
	v := Verdict{Class: ClassTLS, App: app, StartTLS: app != AppNone}
	if h.ClientHellos == 0 && !h.ServerHelloSeen && !h.ClientAppData && !h.ServerAppData && !h.ClientCCS && !h.ServerCCS {
		// Nothing parsed and no record beyond the hellos: the framing alone is too
		// little to call the flow encrypted.
		if h.ClientErr != nil || h.ServerErr != nil {
			v.Class, v.Reason = ClassUnknown, ReasonTLSMalformed
			v.ParseError = errorReason(h.ClientErr, h.ServerErr)
			return v, true
		}
	}
	v.ParseError = errorReason(h.ClientErr, h.ServerErr)
	var ch *ClientHello
	if h.ClientHellos > 0 {
		ch = &h.ClientHello
	}
	if h.ServerHelloSeen {
		helloVerdict(&v, ch, &h.ServerHello, 't', in.RawFingerprints)
		v.Resumed = resumed(h)
	} else {
		helloVerdict(&v, ch, nil, 't', in.RawFingerprints)
	}
	if h.FirstClientHello(&c.first) {
		fingerprints(&v, &c.first, 't', in.RawFingerprints)
	}
	v.HRR = h.HRR
	v.Heartbeat = h.Heartbeat
	if !h.ServerHelloSeen && h.HRR {
		v.Version, v.Group = h.HRRVersion, h.HRRGroup
	}
	v.ClientCert, v.ClientCertRequested, v.ClientAuthEvidence = cert, requested, evidence
	if v.Mesh != "" && cert == AnswerUnknown && h.ServerHelloSeen {
		// The sizes did not tell (padding, or a flight in one record); the mesh's
		// own marker says both proxies present certificates.
		v.ClientCert, v.ClientCertRequested, v.ClientAuthEvidence = AnswerYes, AnswerYes, EvidenceMesh
	}
	if h.ServerCertSeen {
		ci := h.ServerCert
		v.ServerCert = &ci
	}
	return v, true
}

// resumed reports an abbreviated handshake: in TLS 1.3 the server accepted a PSK; in
// earlier versions it echoed the client's session ID, or went straight from its
// ServerHello to ChangeCipherSpec without a certificate (ticket resumption).
func resumed(h *Handshake) bool {
	sh := &h.ServerHello
	if sh.Version().Normalized() == VersionTLS13 {
		for _, e := range sh.Extensions {
			if e == extensionPreSharedKey {
				return true
			}
		}
		return false
	}
	if h.ClientHellos > 0 && len(sh.SessionID) > 0 && string(sh.SessionID) == string(h.ClientHello.SessionID) {
		return true
	}
	return h.ServerCCS && !h.ServerCertSeen && h.ClientHello.SessionTicket
}

// extensionPreSharedKey is the pre_shared_key extension (RFC 8446 §4.2.11).
const extensionPreSharedKey = 41

func errorReason(errs ...error) string {
	for _, err := range errs {
		if err != nil {
			return ParseErrorReason(err)
		}
	}
	return ""
}

// ParseErrorReason maps a parse error to a short label value.
func ParseErrorReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTruncated):
		return "truncated"
	case errors.Is(err, ErrDuplicateExtension):
		return "duplicate_extension"
	case errors.Is(err, ErrTrailingData):
		return "trailing_data"
	case errors.Is(err, ErrNotTLS):
		return "not_tls"
	}
	return "malformed"
}

// ExpiredAt reports whether the certificate had expired at t.
func (ci *CertInfo) ExpiredAt(t time.Time) bool {
	return !ci.NotAfter.IsZero() && t.After(ci.NotAfter)
}
