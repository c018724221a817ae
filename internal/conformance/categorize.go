package conformance

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// categorize names why tlsaudit disagrees with a reference on field f: the gap to work
// on. fr is the flow compared (nil when tlsaudit produced none), vals its values, hints
// what the references say about the connection.
func categorize(f Field, ref Value, fr *flow.Record, vals map[Field]string, hints Hints, run *CaptureRun, u *unit) string {
	if fr == nil {
		return missingFlow(run, u)
	}
	v := &fr.Verdict
	quicSeen := v.AppOther == "quic"
	ourVal := ""
	if vals != nil {
		ourVal = vals[f]
	}
	switch {
	case f == FieldQUICVersion:
		return "QUIC version: not in tlsaudit's verdict"
	case f == FieldALPNServer && ourVal == "" && v.Version.Normalized() == classify.VersionTLS13:
		// TLS 1.3 sends the selected protocol in EncryptedExtensions; a reference
		// that has it decrypted the handshake with keys stored in the capture.
		return "alpn_server: in TLS 1.3 EncryptedExtensions, readable only with the capture's embedded keys"
	case fr.Proto == flow.UDP && (hints.QUIC || quicSeen):
		qv := hints.QUICVersion
		switch {
		case isGoogleQUIC(qv) && (v.AppOther == "gquic" || v.Class == classify.ClassEncrypted):
			return "Google QUIC (Q0xx): recognised, its CHLO fields not reported"
		case isGoogleQUIC(qv):
			return "Google QUIC (Q0xx, no TLS): not recognised"
		case !quicSeen && strings.HasPrefix(qv, "T"):
			return "Google QUIC over TLS (T05x): not recognised"
		case !quicSeen && strings.HasPrefix(qv, "draft-"):
			return "QUIC drafts: not recognised"
		case !quicSeen && strings.HasPrefix(qv, "mvfst"):
			return "QUIC mvfst (Facebook) versions: not recognised"
		case !quicSeen:
			return "QUIC: flow not recognised, " + quicFirstPacket(run, fr)
		case ourVal == "":
			return "QUIC: Initial not decrypted (no SNI, ALPN, JA3, JA3S, JA4)"
		}
		return "QUIC: " + string(f) + " differs"
	case fr.Proto == flow.UDP && hints.DTLS:
		if v.Class.String() != "tls" || ourVal == "" {
			return "DTLS: not parsed"
		}
		return "DTLS: " + string(f) + " differs"
	case v.Class.String() != "tls" && wrapper(run, fr) != "":
		return "TLS behind " + wrapper(run, fr) + ": not followed"
	case fr.Proto == flow.UDP:
		return "UDP flow: " + verdictSummary(fr)
	case v.Reason == "midstream":
		return "joined midstream (no SYN seen): TLS handshake not parsed"
	case v.Class.String() == "unknown":
		return "tlsaudit verdict unknown (" + reasonOr(v.Reason, "no reason") + ")"
	case v.Class.String() != "tls" && f != FieldClass:
		return "tlsaudit says " + verdictSummary(fr) + " where the reference has TLS"
	case f == FieldClass:
		return "class: reference " + ref.String() + ", tlsaudit " + verdictSummary(fr)
	case ourVal == "" && v.ParseError != "":
		return string(f) + ": missing from tlsaudit's TLS verdict (parse error " + v.ParseError + ")"
	case ourVal == "":
		return string(f) + ": missing from tlsaudit's TLS verdict"
	}
	return string(f) + ": value differs"
}

// verdictSummary writes a flow's class with its app protocol or reason.
func verdictSummary(fr *flow.Record) string {
	v := &fr.Verdict
	s := v.Class.String()
	switch {
	case v.App.String() != "":
		s += "/" + v.App.String()
	case v.AppOther != "":
		s += "/" + v.AppOther
	case v.Reason != "":
		s += ": " + v.Reason
	}
	return s
}

func reasonOr(r, def string) string {
	if r == "" {
		return def
	}
	return r
}

// missingFlow explains why tlsaudit has no flow for a unit, from the packet index.
func missingFlow(run *CaptureRun, u *unit) string {
	if run.OpenErr != "" {
		return "flow missing: capture not readable by tlsaudit"
	}
	var why []string
	found := false
	for k, ti := range run.Tuples {
		transport, rest, _ := strings.Cut(k, " ")
		as, bs, _ := strings.Cut(rest, " ")
		a, err1 := netip.ParseAddrPort(as)
		b, err2 := netip.ParseAddrPort(bs)
		if err1 != nil || err2 != nil || !u.conn.matchesEndpoints(transport, a, b) {
			continue
		}
		found = true
		if ti.Decoded > 0 {
			continue
		}
		for w := range ti.Why {
			if !contains(why, w) {
				why = append(why, w)
			}
		}
	}
	sort.Strings(why)
	switch {
	case len(why) > 0:
		return "flow missing: " + strings.Join(why, ", ")
	case found:
		return "flow missing: packets decoded, no flow reported"
	case !u.conn.Full():
		return "flow missing: no connection fits the reference's constraints"
	}
	return "flow missing: connection not in the capture"
}

// wrapper names the protocol the client spoke before TLS on a flow, from the first
// bytes it sent: a proxy handshake, RDP's connection request, ADB, OpenVPN, Trojan.
// It returns "" when the flow starts otherwise.
func wrapper(run *CaptureRun, fr *flow.Record) string {
	ti := run.Tuples[connKey(fr.Transport(), fr.Client, fr.Server)]
	if ti == nil {
		return ""
	}
	b := ti.First[fr.Client.String()]
	switch {
	case len(b) >= 2 && b[0] == 0x04 && b[1] == 0x01:
		return "a SOCKS4 CONNECT"
	case len(b) >= 3 && b[0] == 0x05 && int(b[1])+2 == len(b) && len(b) <= 10:
		return "a SOCKS5 handshake"
	case len(b) >= 4 && b[0] == 0x03 && b[1] == 0x00:
		return "an RDP (TPKT/X.224) negotiation"
	case strings.HasPrefix(string(b), "CNXN"):
		return "an ADB connection"
	case strings.HasPrefix(string(b), "CONNECT "):
		return "an HTTP CONNECT"
	case len(b) >= 3 && fr.Proto == flow.TCP && b[2]>>3 == 7:
		return "OpenVPN (TCP)"
	case len(b) >= 1 && fr.Proto == flow.UDP && b[0]>>3 == 7:
		return "OpenVPN (UDP)"
	case len(b) == 16 && isHex(b):
		return "a Trojan header"
	}
	return ""
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// quicFirstPacket says what the client's first datagram of a QUIC flow was, which
// is all tlsaudit looks at to recognise QUIC.
func quicFirstPacket(run *CaptureRun, fr *flow.Record) string {
	ti := run.Tuples[connKey(fr.Transport(), fr.Client, fr.Server)]
	var b []byte
	if ti != nil {
		b = ti.First[fr.Client.String()]
	}
	switch {
	case len(b) == 0:
		return "no client datagram captured"
	case b[0]&0x80 == 0:
		return "first client datagram has a short header"
	case len(b) < 5:
		return "first client datagram truncated"
	}
	version := uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
	typ := (b[0] >> 4) & 3
	switch version {
	case 1:
		if typ == 1 {
			return "first client datagram is 0-RTT, not the Initial"
		}
	case 0x6b3343cf:
		if typ == 2 {
			return "first client datagram is 0-RTT, not the Initial"
		}
	default:
		return "first client Initial has version " + QUICVersionName(version) + " (version negotiation)"
	}
	return "first client datagram is a QUIC v1/v2 packet tlsaudit rejects (" + verdictSummary(fr) + ")"
}
