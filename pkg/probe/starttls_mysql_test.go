package probe

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// mariadbPath is where Debian's mariadb-server package puts the server.
const mariadbPath = "/usr/sbin/mariadbd"

// startMariaDB initialises a data directory in a temporary directory and runs
// MariaDB on 127.0.0.1 with no option files read and the given extra options
// ("CERT" and "KEY" replaced by a generated certificate and key); it returns the
// address.
func startMariaDB(t *testing.T, opts ...string) string {
	t.Helper()
	if _, err := os.Stat(mariadbPath); err != nil || os.Geteuid() != 0 {
		t.Skip("needs mariadb-server (.ci/run installs it) and root")
	}
	dir := t.TempDir()
	cert, key := opensslCert(t, dir, "db.internal")
	data := filepath.Join(dir, "data")
	if out, err := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+data, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	addr := "127.0.0.1:" + freePort(t)
	_, port, _ := strings.Cut(addr, ":")
	args := []string{"--no-defaults", "--datadir=" + data, "--user=root", "--bind-address=127.0.0.1", "--port=" + port,
		"--socket=" + filepath.Join(dir, "mysqld.sock"), "--pid-file=" + filepath.Join(dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(dir, "error.log"), "--skip-log-bin"}
	r := strings.NewReplacer("CERT", cert, "KEY", key)
	for _, o := range opts {
		args = append(args, r.Replace(o))
	}
	runServer(t, exec.Command(mariadbPath, args...), filepath.Join(dir, "error.log"))
	waitListen(t, addr)
	return addr
}

// TestProbeMariaDB: MariaDB with a certificate and tls_version TLSv1.2,TLSv1.3 accepts
// those two after the SSLRequest, and asks for a client certificate without
// requiring one (optional: MariaDB always asks, and enforces REQUIRE X509 per account
// after TLS); without a certificate its greeting lacks CLIENT_SSL, an error on the
// target.
func TestProbeMariaDB(t *testing.T) {
	tlsOn := startMariaDB(t, "--ssl-cert=CERT", "--ssl-key=KEY", "--tls-version=TLSv1.2,TLSv1.3")
	tlsOff := startMariaDB(t)
	r := Run(context.Background(), []string{"mysql://" + tlsOn, "mysql://" + tlsOff, tlsOn}, Options{Timeout: 20 * time.Second, Concurrency: 2})
	if got := accepted(r[0]); !slices.Equal(got, []string{"TLS1.3", "TLS1.2"}) || r[0].Error != "" ||
		r[0].ClientCert != ClientCertOptional || r[0].Leaf == nil || r[0].Leaf.Subject != "CN=db.internal" {
		t.Errorf("TLS on: accepted %v client cert %s error %q leaf %+v (%+v)", got, r[0].ClientCert, r[0].Error, r[0].Leaf, r[0].Versions)
	}
	wantFallbackRejected(t, r[0], "TLS1.2", alertAnswer) // MariaDB, after its SSLRequest
	if len(accepted(r[1])) != 0 || !strings.Contains(r[1].Error, "server does not offer TLS") {
		t.Errorf("TLS off: %+v", r[1])
	}
	if len(accepted(r[2])) != 0 || !strings.Contains(r[2].Error, "no TLS version accepted") {
		t.Errorf("without the upgrade: %+v", r[2])
	}
}

// mariadbGreeting is the start of a MariaDB 10.11 greeting with CLIENT_SSL set.
var mariadbGreeting = append(append([]byte{mysqlProtocolV10}, "5.5.5-10.11.19-MariaDB-0+deb12u1\x00"...),
	0x03, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 0, 0xfe, 0xff, 0x2d, 0x02, 0)

func TestMySQLGreeting(t *testing.T) {
	noSSL := bytes.Clone(mariadbGreeting)
	noSSL[len(noSSL)-4] &^= mysqlClientSSL >> 8 // the upper byte of the lower flags
	tests := []struct {
		name string
		in   []byte
		ssl  bool
		err  string
	}{
		{"CLIENT_SSL", mariadbGreeting, true, ""},
		{"no CLIENT_SSL", noSSL, false, ""},
		{"error packet", append([]byte{0xff, 0x10, 0x04}, "Too many connections"...), false, `error 1040: "Too many connections"`},
		{"short error packet", []byte{0xff, 0x10}, false, "malformed"},
		{"protocol 9", []byte{9, 'v', 0}, false, "protocol 9"},
		{"no NUL after the version", []byte{10, 'v', '5'}, false, "malformed"},
		{"cut before the flags", mariadbGreeting[:len(mariadbGreeting)-6], false, "malformed"},
		{"empty", nil, false, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caps, err := mysqlGreetingCaps(tt.in)
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if err == nil && (caps&mysqlClientSSL != 0) != tt.ssl {
				t.Errorf("caps %#x, want CLIENT_SSL %v", caps, tt.ssl)
			}
		})
	}
}

func TestReadMySQLPacket(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []byte
		err  string
	}{
		{"greeting", append([]byte{byte(len(mariadbGreeting)), 0, 0, 0}, mariadbGreeting...), mariadbGreeting, ""},
		{"too long", []byte{0x01, 0x04, 0, 0}, nil, "message of 1025 bytes"},
		{"largest length", []byte{0xff, 0xff, 0xff, 0}, nil, "message of 16777215 bytes"},
		{"truncated", []byte{5, 0, 0, 0, 10}, nil, "EOF"},
		{"short header", []byte{5, 0}, nil, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readMySQLPacket(bytes.NewReader(tt.in))
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("% x, want % x", got, tt.want)
			}
		})
	}
}

// TestMySQLSSLRequest checks the SSLRequest byte by byte: a 32-byte payload as
// packet 1, CLIENT_PROTOCOL_41, CLIENT_SSL and CLIENT_SECURE_CONNECTION set.
func TestMySQLSSLRequest(t *testing.T) {
	want := append([]byte{32, 0, 0, 1, 0x00, 0x8a, 0, 0, 0, 0, 0, 1, 33}, make([]byte, 23)...)
	if !bytes.Equal(mysqlSSLRequest, want) {
		t.Errorf("% x, want % x", mysqlSSLRequest, want)
	}
}

// FuzzMySQLGreeting reads arbitrary server bytes as the greeting: never a panic,
// never more than mysqlGreetingMax bytes kept, and flags only from a protocol 10
// greeting.
func FuzzMySQLGreeting(f *testing.F) {
	f.Add(append([]byte{byte(len(mariadbGreeting)), 0, 0, 0}, mariadbGreeting...))
	f.Add([]byte{23, 0, 0, 0, 0xff, 0x10, 0x04, 'T', 'o', 'o', ' ', 'm', 'a', 'n', 'y', ' ', 'c', 'o', 'n', 'n', 'e', 'c', 't', 'i', 'o', 'n', 's'})
	f.Fuzz(func(t *testing.T, b []byte) {
		pkt := readFuzzed(t, readMySQLPacket, b, mysqlGreetingMax)
		if pkt == nil {
			return
		}
		if _, err := mysqlGreetingCaps(pkt); err == nil && pkt[0] != mysqlProtocolV10 {
			t.Fatalf("flags from a packet starting %#x", pkt[0])
		}
	})
}
