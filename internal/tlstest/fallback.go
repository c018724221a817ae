package tlstest

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// IgnoreFallbackSCSV listens on a loopback port in front of the TLS server at backend
// and removes TLS_FALLBACK_SCSV from each connection's first ClientHello before
// passing it on, so the server answers as one that ignores the signal (RFC 7507)
// would. No server the tests run ignores it (OpenSSL and Go implement it, and GnuTLS
// checks it unconditionally too), so this rewriting proxy is a stand-in, and the
// answer still comes from the real server. A handshake through it cannot finish with the SCSV offered (the
// transcripts differ), but a fallback check reads only the ServerHello.
func IgnoreFallbackSCSV(t testing.TB, backend string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accept(t, ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		b, err := net.Dial("tcp", backend)
		if err != nil {
			return
		}
		defer b.Close()
		var hdr [5]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		b.Write(withoutFallbackSCSV(hdr[:], body))
		go func() { io.Copy(b, c); b.Close() }() // the client's close ends the server's side
		io.Copy(c, b)
	})
	return ln.Addr().String()
}

// withoutFallbackSCSV re-encodes the ClientHello record hdr+body without 0x5600;
// anything that is not a ClientHello is passed on as it is.
func withoutFallbackSCSV(hdr, body []byte) []byte {
	s := cryptobyte.String(body)
	var typ uint8
	var msg, sid, suites cryptobyte.String
	var version uint16
	var random []byte
	if !s.ReadUint8(&typ) || !s.ReadUint24LengthPrefixed(&msg) || !msg.ReadUint16(&version) ||
		!msg.ReadBytes(&random, 32) || !msg.ReadUint8LengthPrefixed(&sid) || !msg.ReadUint16LengthPrefixed(&suites) {
		return append(hdr, body...)
	}
	var b cryptobyte.Builder
	b.AddBytes(hdr[:3])
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(typ)
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(version)
			b.AddBytes(random)
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sid) })
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				var s uint16
				for suites.ReadUint16(&s) {
					if s != tls.TLS_FALLBACK_SCSV {
						b.AddUint16(s)
					}
				}
			})
			b.AddBytes(msg) // compression methods and extensions as they were
		})
	})
	return b.BytesOrPanic()
}
