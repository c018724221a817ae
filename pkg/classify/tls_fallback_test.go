package classify

import (
	"crypto/tls"
	"net"
	"os/exec"
	"slices"
	"testing"
	"time"
)

func TestVersionEvidence(t *testing.T) {
	tests := []struct {
		name    string
		ch      ClientHello
		sh      *ServerHello
		offered []Version
		listed  bool
		scsv    bool
		lacks13 bool
	}{
		{"listed, grease left out", ClientHello{LegacyVersion: 0x0303, SupportedVersions: []uint16{0x1a1a, 0x0304, 0x0303}},
			&ServerHello{LegacyVersion: 0x0303, SupportedVersion: 0x0304}, []Version{VersionTLS13, VersionTLS12}, true, false, false},
		{"tls 1.3 offered, 1.2 chosen", ClientHello{LegacyVersion: 0x0303, SupportedVersions: []uint16{0x0304, 0x0303}},
			&ServerHello{LegacyVersion: 0x0303}, []Version{VersionTLS13, VersionTLS12}, true, false, true},
		{"no supported_versions", ClientHello{LegacyVersion: 0x0303}, &ServerHello{LegacyVersion: 0x0303},
			[]Version{VersionTLS12}, false, false, false},
		{"fallback retry", ClientHello{LegacyVersion: 0x0302, CipherSuites: []uint16{0xc013, cipherSuiteFallbackSCSV}}, nil,
			[]Version{VersionTLS11}, false, true, false},
		{"no server hello", ClientHello{LegacyVersion: 0x0303, SupportedVersions: []uint16{0x0304}}, nil,
			[]Version{VersionTLS13}, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Verdict
			versionEvidence(&v, &tt.ch, tt.sh)
			if !slices.Equal(v.OfferedVersions, tt.offered) || v.OfferedVersionsListed != tt.listed ||
				v.FallbackSCSV != tt.scsv || v.ServerLacksTLS13 != tt.lacks13 {
				t.Errorf("offered %v listed %v scsv %v lacks 1.3 %v; want %v %v %v %v", v.OfferedVersions,
					v.OfferedVersionsListed, v.FallbackSCSV, v.ServerLacksTLS13, tt.offered, tt.listed, tt.scsv, tt.lacks13)
			}
		})
	}
}

// TestFallbackEvidenceRealPeers classifies real handshakes: a Go client offering TLS
// 1.2 and 1.3 to a Go server that stops at 1.2, and OpenSSL's s_client retrying at
// TLS 1.2 with TLS_FALLBACK_SCSV, which a Go server able to speak 1.3 refuses
// (RFC 7507 §3).
func TestFallbackEvidenceRealPeers(t *testing.T) {
	p := newTestPKI(t)
	t.Run("go server without tls 1.3", func(t *testing.T) {
		client, server := goHandshakeConfig(t, &tls.Config{Certificates: []tls.Certificate{p.server}, MaxVersion: tls.VersionTLS12},
			&tls.Config{ServerName: "api.internal", RootCAs: p.pool})
		var c Classifier
		v, _ := c.Classify(&Input{Proto: 6, Client: client, Server: server, Final: true})
		if v.Version != VersionTLS12 || !v.ServerLacksTLS13 || !v.OfferedVersionsListed || !slices.Contains(v.OfferedVersions, VersionTLS13) {
			t.Errorf("version %v lacks 1.3 %v offered %v (listed %v)", v.Version, v.ServerLacksTLS13, v.OfferedVersions, v.OfferedVersionsListed)
		}
	})
	t.Run("openssl fallback scsv", func(t *testing.T) {
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Skip("openssl not installed (.ci/run installs it)")
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		got := make(chan [2][]byte, 1)
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				got <- [2][]byte{}
				return
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			rc := &recordingConn{Conn: conn}
			s := tls.Server(rc, &tls.Config{Certificates: []tls.Certificate{p.server}})
			s.Handshake() // refused: inappropriate_fallback
			s.Close()
			got <- [2][]byte{rc.read(), rc.written()}
		}()
		out, _ := exec.Command("openssl", "s_client", "-connect", ln.Addr().String(), "-tls1_2", "-fallback_scsv").CombinedOutput()
		b := <-got
		var c Classifier
		v, _ := c.Classify(&Input{Proto: 6, Client: b[0], Server: b[1], Final: true})
		if !v.FallbackSCSV || v.Class != ClassTLS {
			t.Errorf("class %v fallback_scsv %v (client %d bytes, server %d)\n%s", v.Class, v.FallbackSCSV, len(b[0]), len(b[1]), out)
		}
		if !c.hs.AlertSeen || c.hs.Alert != 86 {
			t.Errorf("alert %v %d, want inappropriate_fallback (86)", c.hs.AlertSeen, c.hs.Alert)
		}
	})
}
