// Command natspeer is the NATS server and client that scripts/record-testdata.sh
// records: nats-server embedded as a library, and a nats.go client that
// publishes one message and receives it back. It is its own module so that
// tlsaudit itself does not depend on NATS.
//
//	natspeer -listen 10.77.0.20:4222 [-cert server.pem -key server.key]
//	natspeer -connect nats://10.77.0.20:4222 [-ca ca.pem]
//
// With -cert the server requires TLS: it sends its INFO line in clear with
// tls_required, and the client answers with a TLS handshake.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

func main() {
	listen := flag.String("listen", "", "serve NATS on host:port")
	cert := flag.String("cert", "", "server certificate (PEM); TLS is then required")
	key := flag.String("key", "", "server key (PEM)")
	connect := flag.String("connect", "", "connect to this NATS URL, publish and receive one message")
	ca := flag.String("ca", "", "CA certificate (PEM) the client trusts")
	sni := flag.String("sni", "", "server name the client sends")
	flag.Parse()
	var err error
	switch {
	case *listen != "":
		err = serve(*listen, *cert, *key)
	case *connect != "":
		err = client(*connect, *ca, *sni)
	default:
		err = fmt.Errorf("-listen or -connect is required")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "natspeer:", err)
		os.Exit(1)
	}
}

func serve(addr, cert, key string) error {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address: %w", err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return fmt.Errorf("listen port: %w", err)
	}
	opts := &server.Options{Host: host, Port: port, NoSigs: true, ServerName: "natspeer"}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return fmt.Errorf("server certificate: %w", err)
		}
		opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		opts.TLS, opts.TLSVerify = true, false
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(5 * time.Second) {
		return fmt.Errorf("nats server not ready")
	}
	fmt.Fprintln(os.Stderr, "natspeer: listening on", addr)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	<-stop
	s.Shutdown()
	return nil
}

func client(url, ca, sni string) error {
	var opts []nats.Option
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return fmt.Errorf("ca: %w", err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		opts = append(opts, nats.Secure(&tls.Config{RootCAs: pool, ServerName: sni, MinVersion: tls.VersionTLS12}))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("audit.greeting")
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if err := nc.Publish("audit.greeting", []byte("hello over nats")); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	return nil
}
