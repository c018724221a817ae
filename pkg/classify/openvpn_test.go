package classify

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestOpenVPNRecorded classifies OpenVPN sessions by the TLS handshake inside their
// control channel, over UDP and TCP (the same 2-byte framing the flow table gives UDP
// datagrams is OpenVPN's own over TCP), with and without tls-auth HMACs.
func TestOpenVPNRecorded(t *testing.T) {
	for _, tt := range []struct {
		name  string
		proto uint8
		hmac  int
	}{
		{"udp-plain-arkime", 17, 0},
		{"udp-hmac-sha1-arkime", 17, 20},
		{"tcp-hmac-sha256-arkime", 6, 32},
		{"tcp-hmac-sha512-arkime", 6, 64},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client, server := framedDirections(readDatagrams(t, "openvpn", tt.name))
			if h, ok := openVPNAuth(client, server); !ok || h != tt.hmac {
				t.Fatalf("openVPNAuth = %d, %v; want %d, true", h, ok, tt.hmac)
			}
			var c Classifier
			v, done := c.Classify(&Input{Proto: tt.proto, ClientPort: 51000, ServerPort: 1194, Client: client, Server: server, Final: true})
			if !done || v.Class != ClassTLS || v.AppOther != "openvpn" || v.Version != VersionTLS12 || v.SNI != "arkime.test" ||
				v.Cipher != 0x002f || v.JA3 != "feb53fe05f3e7852942a6e3cb98e8b45" || v.JA3S != "5397c414a9ebeaff1bf18b70ca22eaa0" ||
				v.ServerCert == nil || v.ParseError != "" {
				t.Errorf("got %v %q %v sni %q cipher %#04x ja3 %s ja3s %s cert %v parse %q",
					v.Class, v.AppOther, v.Version, v.SNI, v.Cipher, v.JA3, v.JA3S, v.ServerCert != nil, v.ParseError)
			}
		})
	}
}

// ovpnTestPacket builds a control packet with an HMAC of hmacLen bytes (filled with
// 0xaa), acknowledging acks (naming peer), with packet ID id and payload.
func ovpnTestPacket(op uint8, session string, hmacLen int, acks []uint32, peer string, id uint32, payload []byte) []byte {
	b := []byte{op << 3}
	b = append(b, session...)
	if hmacLen > 0 {
		b = append(b, bytes.Repeat([]byte{0xaa}, hmacLen)...)
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint32(b, 0x65000000)
	}
	b = append(b, byte(len(acks)))
	for _, a := range acks {
		b = binary.BigEndian.AppendUint32(b, a)
	}
	if len(acks) > 0 {
		b = append(b, peer...)
	}
	if op != ovpnOpAckV1 {
		b = binary.BigEndian.AppendUint32(b, id)
	}
	return append(b, payload...)
}

func TestOpenVPNAuth(t *testing.T) {
	const cs, ss = "client01", "server01"
	for _, h := range ovpnHMACLens {
		c := frame(ovpnTestPacket(ovpnOpHardResetClientV2, cs, h, nil, "", 0, nil))
		s := frame(ovpnTestPacket(ovpnOpHardResetServerV2, ss, h, []uint32{0}, cs, 0, nil))
		if got, ok := openVPNAuth(c, s); !ok || got != h {
			t.Errorf("HMAC %d: openVPNAuth = %d, %v", h, got, ok)
		}
		other := frame(ovpnTestPacket(ovpnOpHardResetServerV2, ss, h, []uint32{0}, "someone", 0, nil))
		if _, ok := openVPNAuth(c, other); ok {
			t.Errorf("HMAC %d: a server reset naming another session was taken", h)
		}
		wrongOp := frame(ovpnTestPacket(ovpnOpControlV1, ss, h, []uint32{0}, cs, 0, nil))
		if _, ok := openVPNAuth(c, wrongOp); ok {
			t.Errorf("HMAC %d: a control packet was taken for the server's reset", h)
		}
	}
	if _, ok := openVPNAuth(nil, nil); ok {
		t.Error("no bytes taken for OpenVPN")
	}
}

// TestOpenVPNTLSOrder puts control packets out of order, duplicated, of another key
// and after a gap: the TLS bytes come out in packet ID order and stop at the gap.
func TestOpenVPNTLSOrder(t *testing.T) {
	const cs, ss = "client01", "server01"
	key1 := ovpnTestPacket(ovpnOpControlV1, cs, 20, nil, "", 3, []byte("other key."))
	key1[0] |= 1 // the key ID is the opcode byte's low 3 bits
	dir := frame(
		ovpnTestPacket(ovpnOpHardResetClientV2, cs, 20, nil, "", 0, nil),
		ovpnTestPacket(ovpnOpControlV1, cs, 20, []uint32{0}, ss, 2, []byte("two.")),
		ovpnTestPacket(ovpnOpControlV1, cs, 20, nil, "", 1, []byte("one.")),
		ovpnTestPacket(ovpnOpAckV1, cs, 20, []uint32{7}, ss, 0, nil),
		ovpnTestPacket(ovpnOpControlV1, cs, 20, nil, "", 1, []byte("one again.")),
		key1,
		ovpnTestPacket(ovpnOpControlV1, cs, 20, nil, "", 5, []byte("after a gap.")),
	)
	if got := string(openVPNTLS(nil, dir, 20)); got != "one.two." {
		t.Errorf("TLS bytes %q, want %q", got, "one.two.")
	}
}

// TestOpenVPNNotTLS: a session whose control bytes are not TLS, or that never got
// past the resets, is OpenVPN but unknown; bytes that merely start with a reset
// opcode are not OpenVPN.
func TestOpenVPNNotTLS(t *testing.T) {
	const cs, ss = "client01", "server01"
	c := frame(ovpnTestPacket(ovpnOpHardResetClientV2, cs, 0, nil, "", 0, nil),
		ovpnTestPacket(ovpnOpControlV1, cs, 0, []uint32{0}, ss, 1, bytes.Repeat([]byte{0x42}, 100)))
	s := frame(ovpnTestPacket(ovpnOpHardResetServerV2, ss, 0, []uint32{0}, cs, 0, nil))
	var cl Classifier
	v, done := cl.Classify(&Input{Proto: 17, Client: c, Server: s, Final: true})
	if !done || v.Class != ClassUnknown || v.AppOther != "openvpn" || v.Reason != ReasonBinary {
		t.Errorf("non-TLS control bytes: %v %q %q", v.Class, v.AppOther, v.Reason)
	}
	v, done = cl.Classify(&Input{Proto: 17, Client: c[:2+14], Server: s, Final: true})
	if !done || v.Class != ClassUnknown || v.AppOther != "openvpn" || v.Reason != ReasonStartTLSPending {
		t.Errorf("resets only: %v %q %q", v.Class, v.AppOther, v.Reason)
	}
	// tls-crypt: the reset's fields after the session ID are encrypted.
	crypt := append([]byte{ovpnOpHardResetServerV2 << 3}, []byte(ss)...)
	crypt = append(crypt, bytes.Repeat([]byte{0x5c}, 60)...)
	if _, ok := openVPNAuth(c, frame(crypt)); ok {
		t.Error("an encrypted server reset was taken")
	}
}

func TestOpenVPNAllocs(t *testing.T) {
	client, server := framedDirections(readDatagrams(t, "openvpn", "udp-hmac-sha1-arkime"))
	var c Classifier
	in := &Input{Proto: 17, Client: client, Server: server, ClientMore: true, ServerMore: true}
	in.Server = server[:len(server)/2] // undecided: the server's flight is cut
	c.Classify(in)
	if n := testing.AllocsPerRun(100, func() { c.Classify(in) }); n != 0 {
		t.Errorf("%v allocations per undecided classification, want 0", n)
	}
}
