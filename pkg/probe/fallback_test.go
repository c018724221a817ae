package probe

import (
	"context"
	"crypto/tls"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/internal/tlstest"
)

// startOpenSSL runs openssl s_server with args on a free loopback port until the test
// ends and returns its address.
func startOpenSSL(t *testing.T, certFile, keyFile string, args ...string) string {
	t.Helper()
	addr := "127.0.0.1:" + freePort(t)
	cmd := exec.Command("openssl", append([]string{"s_server", "-accept", addr, "-cert", certFile, "-key", keyFile, "-quiet"}, args...)...)
	cmd.Stdin = strings.NewReader("") // s_server keeps serving when stdin ends
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListen(t, addr)
	return addr
}

// TestProbeFallbackSCSV probes real servers for RFC 7507: OpenSSL's s_server and Go's
// crypto/tls both implement it, so with two versions or more they must answer the
// fallback hello with inappropriate_fallback; with one version there is nothing to
// fall back to. "accepted" is seen through tlstest.IgnoreFallbackSCSV, a proxy that
// strips the signal before a Go server reads it: a stand-in, since no server installed
// here ignores it. Every server also gets the SSL 3.0 hello: Debian 12's OpenSSL is built
// without SSL 3.0 and Go has none, so each must refuse it.
func TestProbeFallbackSCSV(t *testing.T) {
	certFile, keyFile := opensslCert(t, t.TempDir(), "api.internal")
	tests := []struct {
		name     string
		addr     string
		versions []string
		fallback string
		offered  string
	}{
		{"openssl TLS 1.3 and 1.2", startOpenSSL(t, certFile, keyFile),
			[]string{"TLS1.3", "TLS1.2"}, FallbackRejected, "TLS1.2"},
		{"openssl TLS 1.2 and 1.1", startOpenSSL(t, certFile, keyFile, "-no_tls1_3", "-min_protocol", "TLSv1.1", "-cipher", "DEFAULT@SECLEVEL=0"),
			[]string{"TLS1.2", "TLS1.1"}, FallbackRejected, "TLS1.1"},
		{"openssl TLS 1.3 only", startOpenSSL(t, certFile, keyFile, "-tls1_3"),
			[]string{"TLS1.3"}, FallbackNotApplicable, ""},
		{"go TLS 1.3 and 1.2", tlstest.Serve(t, &tls.Config{}),
			[]string{"TLS1.3", "TLS1.2"}, FallbackRejected, "TLS1.2"},
		{"go TLS 1.2 to 1.0", tlstest.Serve(t, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12}),
			[]string{"TLS1.2", "TLS1.1", "TLS1.0"}, FallbackRejected, "TLS1.1"},
		{"go TLS 1.2 only", tlstest.Serve(t, &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}),
			[]string{"TLS1.2"}, FallbackNotApplicable, ""},
		{"go TLS 1.3 and 1.2 ignoring the signal", tlstest.IgnoreFallbackSCSV(t, tlstest.Serve(t, &tls.Config{})),
			[]string{"TLS1.3", "TLS1.2"}, FallbackAccepted, "TLS1.2"},
	}
	var targets []string
	for _, tt := range tests {
		targets = append(targets, tt.addr)
	}
	results := Run(context.Background(), targets, Options{Timeout: 15 * time.Second, Concurrency: 2})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := results[i]
			if got := accepted(r); !slices.Equal(got, tt.versions) || r.Error != "" {
				t.Fatalf("accepted %v error %q, want %v (%+v)", got, r.Error, tt.versions, r.Versions)
			}
			if r.FallbackSCSV != tt.fallback || r.FallbackVersion != tt.offered {
				t.Errorf("fallback %s at %q (%s), want %s at %q", r.FallbackSCSV, r.FallbackVersion, r.FallbackAnswer, tt.fallback, tt.offered)
			}
			wantAnswer := map[string]string{FallbackRejected: alertAnswer, FallbackAccepted: "ServerHello " + tt.offered}[tt.fallback]
			if r.FallbackAnswer != wantAnswer {
				t.Errorf("fallback answer %q, want %q", r.FallbackAnswer, wantAnswer)
			}
			ssl3 := r.Versions[len(r.Versions)-1]
			if ssl3.Version != "SSL3" || ssl3.Accepted || ssl3.Error == "" {
				t.Errorf("SSL 3.0 row %+v, want refused with a reason", ssl3)
			}
		})
	}
}

// TestFallbackUnknownAnswers: whatever is neither inappropriate_fallback nor a
// ServerHello at the offered version is "unknown" when the control hello without the
// signal gets no ServerHello either, with both answers stated; a server silent past
// the deadline leaves no time for the control. Real servers do not answer these ways
// to a well-formed hello, so scripted listeners play them, answering both hellos
// alike; the recorded answers are a real OpenSSL's and Go's.
func TestFallbackUnknownAnswers(t *testing.T) {
	reply := func(answer []byte) func(net.Conn) {
		return func(c net.Conn) {
			c.Read(make([]byte, 4096))
			c.Write(answer)
		}
	}
	tests := []struct {
		name   string
		answer func(net.Conn)
		want   string
	}{
		{"another alert", reply(readAnswerFile(t, "openssl-ssl3-handshake-failure.hex")), "alert handshake_failure"},
		{"a ServerHello at another version", reply(readAnswerFile(t, "go-serverhello-tls11.hex")), "ServerHello TLS1.1"},
		{"closed", reply(nil), "connection closed without an answer"},
		{"silent", func(c net.Conn) { c.Read(make([]byte, 4096)); time.Sleep(2 * time.Second) }, "timeout: no answer"},
		{"not TLS", reply([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")), "unexpected answer: answer is not a TLS record"},
	}
	accepted := []acceptedVersion{{tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256}, {tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			var r Result
			(&prober{}).checkFallback(ctx, endpoint{dial: (&net.Dialer{}).DialContext, addr: serveRaw(t, tt.answer), host: "127.0.0.1"}, accepted, &r)
			want := tt.want
			if tt.name != "silent" {
				want += "; without the signal: " + tt.want
			}
			if r.FallbackSCSV != FallbackUnknown || r.FallbackAnswer != want || r.FallbackVersion != "TLS1.2" {
				t.Errorf("fallback %s at %s (%s), want unknown at TLS1.2 (%s)", r.FallbackSCSV, r.FallbackVersion, r.FallbackAnswer, want)
			}
		})
	}
}

// alertAnswer is the answer of a server that rejects the fallback hello as RFC 7507
// says; closedAnswer that of one that closes the connection without the alert and
// answers the same hello without the signal (Dovecot, slapd).
const (
	alertAnswer  = "alert inappropriate_fallback"
	closedAnswer = "connection closed without an answer; without the signal: ServerHello TLS1.2"
)

// wantFallbackRejected checks that r's server rejected the fallback hello at offered,
// answering it so.
func wantFallbackRejected(t *testing.T, r Result, offered, answer string) {
	t.Helper()
	if r.FallbackSCSV != FallbackRejected || r.FallbackVersion != offered || r.FallbackAnswer != answer {
		t.Errorf("%s: fallback %s at %q (%s), want rejected at %s (%s)", r.Target, r.FallbackSCSV, r.FallbackVersion, r.FallbackAnswer, offered, answer)
	}
}
