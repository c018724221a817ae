package classify

import "encoding/binary"

// The Android Debug Bridge's transport protocol (AOSP
// packages/modules/adb/protocol.txt): 24-byte little-endian message headers,
// then a payload. Over TCP (adbd on port 5555, "adb connect") it is a remote
// shell in clear unless the device asks for TLS with STLS (Android 11
// wireless debugging), after which both ends speak TLS.
const (
	adbHeaderLen   = 24
	adbMaxPayload  = 1 << 20 // newer adbd allow 1 MiB payloads
	adbMaxMessages = 32      // messages looked at before an STLS
)

// The ADB commands, as their little-endian uint32 values ("CNXN" and so on).
const (
	adbCNXN = 0x4e584e43
	adbAUTH = 0x48545541
	adbOPEN = 0x4e45504f
	adbOKAY = 0x59414b4f
	adbCLSE = 0x45534c43
	adbWRTE = 0x45545257
	adbSYNC = 0x434e5953
	adbSTLS = 0x534c5453
)

// adbCommand reports whether c is an ADB command.
func adbCommand(c uint32) bool {
	switch c {
	case adbCNXN, adbAUTH, adbOPEN, adbOKAY, adbCLSE, adbWRTE, adbSYNC, adbSTLS:
		return true
	}
	return false
}

// adbMessage reads the message at the start of b: its command and its length with
// the payload. short is true when b holds part of a message that is valid so far; ok
// is false when b does not start with one. The header's magic, the command's bitwise
// complement, makes a random match unlikely.
func adbMessage(b []byte) (cmd uint32, n int, short, ok bool) {
	if len(b) < adbHeaderLen {
		for _, c := range [...]uint32{adbCNXN, adbAUTH, adbOPEN, adbOKAY, adbCLSE, adbWRTE, adbSYNC, adbSTLS} {
			var name [4]byte
			binary.LittleEndian.PutUint32(name[:], c)
			if hasPrefix(name[:], string(b[:min(len(b), 4)])) {
				return 0, 0, true, true
			}
		}
		return 0, 0, false, false
	}
	cmd = binary.LittleEndian.Uint32(b)
	length := binary.LittleEndian.Uint32(b[12:])
	if !adbCommand(cmd) || binary.LittleEndian.Uint32(b[20:]) != ^cmd || length > adbMaxPayload {
		return 0, 0, false, false
	}
	n = adbHeaderLen + int(length)
	return cmd, n, len(b) < n, true
}

// adbSide judges the first message of one direction.
func adbSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	_, _, short, ok := adbMessage(b)
	switch {
	case !ok:
		return sideNo
	case short && len(b) < adbHeaderLen:
		return sidePrefix
	}
	return sideStrong // the header, magic included, is complete
}

func detectADB(client, server []byte) result {
	return combine(adbSide(client), adbSide(server))
}

// adbSTLSEnd walks the messages of one direction to the end of its STLS message.
// found is false when the direction has no STLS (yet); clear is true when it sent
// a message that only an established session sends (a stream opened or written), so
// that no STLS will come from it; short is true when b ends inside a message.
func adbSTLSEnd(b []byte) (end int, found, clear, short bool) {
	for i := 0; i < adbMaxMessages && end < len(b); i++ {
		cmd, n, sh, ok := adbMessage(b[end:])
		if !ok {
			return end, false, false, false
		}
		if sh {
			return end, false, false, true
		}
		end += n
		switch cmd {
		case adbSTLS:
			return end, true, false, false
		case adbOPEN, adbWRTE, adbOKAY:
			return end, false, true, false
		}
	}
	return end, false, false, false
}

// adbStartTLS follows ADB into TLS: the device answers CNXN with STLS, the host
// answers with STLS, and the TLS handshake starts after each direction's STLS
// (protocol.txt, "STLS"). A direction that opens streams in clear refuses it.
func adbStartTLS(client, server []byte) (int, int, UpgradeState) {
	c, cFound, cClear, cShort := adbSTLSEnd(client)
	s, sFound, sClear, sShort := adbSTLSEnd(server)
	switch {
	case cFound && sFound:
		return c, s, UpgradeDone
	case cClear || sClear:
		return -1, -1, UpgradeRefused
	case sFound || cShort || sShort:
		if !cFound {
			c = -1
		}
		if !sFound {
			s = -1
		}
		return c, s, UpgradePending
	}
	return -1, -1, UpgradeNone
}
