// Command tlspeer is a small crypto/tls client and server used to record
// test captures (see scripts/record-testdata.sh). It only uses the standard
// library, so the ClientHello it sends is exactly what a stock Go program of
// the building toolchain sends (for Go 1.26: an X25519MLKEM768 hybrid key
// share next to an X25519 one, which makes the ClientHello span two TCP
// segments at MTU 1500).
//
// Server:
//
//	tlspeer -listen 10.77.0.20:8443 -cert srv.pem -key srv.key -alpn http/1.1 -n 1
//
// Client:
//
//	tlspeer -connect 10.77.0.20:8443 -sni pq.internal -alpn h2,http/1.1 -ca ca.pem -send hello
//
// The server reads lines from each connection and answers every line with
// "ok <line>"; the client sends -send as one line, reads the answer, sends
// close_notify and closes. With -starttls smtp the server first speaks a
// minimal SMTP dialogue and upgrades to TLS after STARTTLS (the client side
// of that is expected to be e.g. "openssl s_client -starttls smtp").
//
// With -ipv6-dstopts or -ipv6-hopopts the client's IPv6 socket puts a
// Destination Options or a Hop-by-Hop Options extension header (8 bytes,
// one PadN option) on every segment it sends, as a sticky socket option set
// before connect; setting one needs CAP_NET_RAW.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

type options struct {
	listen     string
	connect    string
	certFile   string
	keyFile    string
	caFile     string
	insecure   bool
	clientAuth bool
	sni        string
	alpn       string
	minVersion string
	maxVersion string
	curves     string
	send       string
	count      int
	starttls   string
	keylog     string
	timeout    time.Duration
	verbose    bool
	dstopts    bool
	hopopts    bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("tlspeer: ")
	var o options
	flag.StringVar(&o.listen, "listen", "", "server mode: address to listen on (host:port)")
	flag.StringVar(&o.connect, "connect", "", "client mode: address to connect to (host:port)")
	flag.StringVar(&o.certFile, "cert", "", "PEM certificate (server certificate, or client certificate in client mode)")
	flag.StringVar(&o.keyFile, "key", "", "PEM private key for -cert")
	flag.StringVar(&o.caFile, "ca", "", "PEM CA bundle used to verify the peer")
	flag.BoolVar(&o.insecure, "insecure", false, "client: do not verify the server certificate")
	flag.BoolVar(&o.clientAuth, "client-auth", false, "server: require and verify a client certificate (needs -ca)")
	flag.StringVar(&o.sni, "sni", "", "client: server name to send (SNI); empty sends none unless -connect has a name")
	flag.StringVar(&o.alpn, "alpn", "", "comma separated ALPN protocols (client: offered, server: supported in preference order)")
	flag.StringVar(&o.minVersion, "min-version", "", "minimum TLS version: 1.0, 1.1, 1.2 or 1.3")
	flag.StringVar(&o.maxVersion, "max-version", "", "maximum TLS version: 1.0, 1.1, 1.2 or 1.3")
	flag.StringVar(&o.curves, "curves", "", "comma separated key exchange groups (X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024, X25519, P256, P384, P521); empty = Go default")
	flag.StringVar(&o.send, "send", "hello", "client: line of application data to send")
	flag.IntVar(&o.count, "n", 1, "server: number of connections to serve before exiting (0 = forever)")
	flag.StringVar(&o.starttls, "starttls", "", "server: plaintext protocol to speak before upgrading to TLS (only \"smtp\")")
	flag.StringVar(&o.keylog, "keylog", "", "append TLS secrets to this file (NSS key log format)")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Second, "per-connection deadline (and, for a server, how long to wait for connections)")
	flag.BoolVar(&o.verbose, "v", false, "print a summary of each handshake to stderr")
	flag.BoolVar(&o.dstopts, "ipv6-dstopts", false, "client: send every segment with an IPv6 Destination Options header (needs CAP_NET_RAW)")
	flag.BoolVar(&o.hopopts, "ipv6-hopopts", false, "client: send every segment with an IPv6 Hop-by-Hop Options header (needs CAP_NET_RAW)")
	flag.Parse()

	if (o.listen == "") == (o.connect == "") {
		fmt.Fprintln(os.Stderr, "tlspeer: exactly one of -listen or -connect is required")
		flag.Usage()
		os.Exit(2)
	}
	if o.starttls != "" && o.starttls != "smtp" {
		log.Fatalf("unsupported -starttls %q (only smtp)", o.starttls)
	}
	cfg, err := buildConfig(&o)
	if err != nil {
		log.Fatal(err)
	}
	if o.listen != "" {
		err = serve(&o, cfg)
	} else {
		err = dial(&o, cfg)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func parseVersion(s string) (uint16, error) {
	switch strings.TrimPrefix(strings.ToLower(s), "tls") {
	case "":
		return 0, nil
	case "1.0", "10":
		return tls.VersionTLS10, nil
	case "1.1", "11":
		return tls.VersionTLS11, nil
	case "1.2", "12":
		return tls.VersionTLS12, nil
	case "1.3", "13":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("unknown TLS version %q", s)
}

func parseCurves(s string) ([]tls.CurveID, error) {
	if s == "" {
		return nil, nil
	}
	var out []tls.CurveID
	for _, name := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "x25519mlkem768":
			out = append(out, tls.X25519MLKEM768)
		case "secp256r1mlkem768":
			out = append(out, tls.SecP256r1MLKEM768)
		case "secp384r1mlkem1024":
			out = append(out, tls.SecP384r1MLKEM1024)
		case "x25519":
			out = append(out, tls.X25519)
		case "p256", "p-256", "secp256r1":
			out = append(out, tls.CurveP256)
		case "p384", "p-384", "secp384r1":
			out = append(out, tls.CurveP384)
		case "p521", "p-521", "secp521r1":
			out = append(out, tls.CurveP521)
		default:
			return nil, fmt.Errorf("unknown group %q", name)
		}
	}
	return out, nil
}

func buildConfig(o *options) (*tls.Config, error) {
	cfg := &tls.Config{}
	var err error
	if cfg.MinVersion, err = parseVersion(o.minVersion); err != nil {
		return nil, err
	}
	if cfg.MaxVersion, err = parseVersion(o.maxVersion); err != nil {
		return nil, err
	}
	if cfg.CurvePreferences, err = parseCurves(o.curves); err != nil {
		return nil, err
	}
	if o.alpn != "" {
		for _, p := range strings.Split(o.alpn, ",") {
			if p = strings.TrimSpace(p); p != "" {
				cfg.NextProtos = append(cfg.NextProtos, p)
			}
		}
	}
	if o.keylog != "" {
		f, err := os.OpenFile(o.keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		cfg.KeyLogWriter = f
	}
	var pool *x509.CertPool
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, err
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificates found", o.caFile)
		}
	}
	if o.certFile != "" || o.keyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}

	if o.listen != "" {
		if len(cfg.Certificates) == 0 {
			cert, err := selfSigned()
			if err != nil {
				return nil, err
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		if o.clientAuth {
			if pool == nil {
				return nil, errors.New("-client-auth needs -ca")
			}
			cfg.ClientCAs = pool
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
		return cfg, nil
	}

	cfg.RootCAs = pool
	cfg.InsecureSkipVerify = o.insecure
	cfg.ServerName = o.sni
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(o.connect); err == nil && net.ParseIP(host) == nil {
			cfg.ServerName = host
		}
	}
	if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
		return nil, errors.New("client needs -sni (or a host name in -connect) unless -insecure is given")
	}
	return cfg, nil
}

// selfSigned makes a throwaway ECDSA P-256 certificate, for servers started
// without -cert.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tlspeer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"tlspeer", "localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func summary(side string, c *tls.Conn) string {
	st := c.ConnectionState()
	return fmt.Sprintf("%s %s->%s version=%q cipher=%s group=%s alpn=%q sni=%q hrr=%v peer_certs=%d",
		side, c.LocalAddr(), c.RemoteAddr(), tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite),
		st.CurveID, st.NegotiatedProtocol, st.ServerName, st.HelloRetryRequest, len(st.PeerCertificates))
}

func serve(o *options, cfg *tls.Config) error {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	if tl, ok := ln.(*net.TCPListener); ok && o.count > 0 {
		// Give up eventually so a failed recording never hangs.
		tl.SetDeadline(time.Now().Add(o.timeout * time.Duration(o.count+2)))
	}
	fmt.Fprintf(os.Stderr, "tlspeer: listening on %s\n", ln.Addr())
	var failed error
	for n := 0; o.count == 0 || n < o.count; n++ {
		raw, err := ln.Accept()
		if err != nil {
			return err
		}
		if err := handle(o, cfg, raw); err != nil {
			log.Printf("connection from %s: %v", raw.RemoteAddr(), err)
			failed = err
		}
	}
	return failed
}

func handle(o *options, cfg *tls.Config, raw net.Conn) error {
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(o.timeout))
	var pre *bufio.Reader
	if o.starttls == "smtp" {
		var err error
		if pre, err = smtpUntilStartTLS(raw); err != nil {
			return err
		}
		if pre.Buffered() > 0 {
			return errors.New("client sent data before the TLS handshake")
		}
	}
	c := tls.Server(raw, cfg)
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return err
	}
	if o.verbose {
		log.Print(summary("server", c))
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			reply := "ok " + line
			if o.starttls == "smtp" {
				reply = "250 ok"
				if strings.EqualFold(line, "QUIT") {
					reply = "221 bye"
				}
			}
			if _, werr := io.WriteString(c, reply+"\r\n"); werr != nil {
				return werr
			}
			if o.starttls == "smtp" && strings.EqualFold(line, "QUIT") {
				return c.CloseWrite()
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// smtpUntilStartTLS speaks just enough SMTP for a client that upgrades with
// STARTTLS right after EHLO.
func smtpUntilStartTLS(c net.Conn) (*bufio.Reader, error) {
	r := bufio.NewReader(c)
	say := func(s string) error {
		_, err := io.WriteString(c, s+"\r\n")
		return err
	}
	if err := say("220 mail.internal ESMTP tlspeer"); err != nil {
		return nil, err
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			err = say("250-mail.internal\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 STARTTLS")
		case strings.HasPrefix(cmd, "HELO"):
			err = say("250 mail.internal")
		case cmd == "STARTTLS":
			return r, say("220 2.0.0 ready to start TLS")
		case cmd == "QUIT":
			say("221 bye")
			return nil, errors.New("client quit before STARTTLS")
		case cmd == "NOOP":
			err = say("250 ok")
		default:
			err = say("502 command not implemented")
		}
		if err != nil {
			return nil, err
		}
	}
}

// padOptions is an 8-byte IPv6 options header (RFC 8200 section 4.3, 4.6) holding
// one PadN option of 4 bytes: next header (the kernel fills it in), length 0 (8
// bytes), PadN (type 1) with 4 zero bytes of data.
var padOptions = string([]byte{0, 0, 1, 4, 0, 0, 0, 0})

// extHeaders sets the extension headers asked for on the socket before it connects;
// the kernel then puts them on every segment the socket sends.
func extHeaders(o *options) func(network, address string, rc syscall.RawConn) error {
	if !o.dstopts && !o.hopopts {
		return nil
	}
	return func(network, _ string, rc syscall.RawConn) error {
		if network != "tcp6" {
			return fmt.Errorf("IPv6 extension headers need an IPv6 connection, not %s", network)
		}
		var serr error
		err := rc.Control(func(fd uintptr) {
			if o.hopopts {
				if e := syscall.SetsockoptString(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_HOPOPTS, padOptions); e != nil {
					serr = errors.Join(serr, fmt.Errorf("IPV6_HOPOPTS: %w", e))
				}
			}
			if o.dstopts {
				if e := syscall.SetsockoptString(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_DSTOPTS, padOptions); e != nil {
					serr = errors.Join(serr, fmt.Errorf("IPV6_DSTOPTS: %w", e))
				}
			}
		})
		return errors.Join(err, serr)
	}
}

func dial(o *options, cfg *tls.Config) error {
	d := net.Dialer{Timeout: o.timeout, Control: extHeaders(o)}
	raw, err := d.Dial("tcp", o.connect)
	if err != nil {
		return err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(o.timeout))
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		return err
	}
	if o.verbose {
		log.Print(summary("client", c))
	}
	if _, err := io.WriteString(c, o.send+"\n"); err != nil {
		return err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading reply: %w", err)
	}
	fmt.Print(reply)
	// close_notify, then wait for the server to close its side.
	if err := c.CloseWrite(); err != nil {
		return err
	}
	io.Copy(io.Discard, c)
	return c.Close()
}
