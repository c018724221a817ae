// Command quicrec runs a quic-go client against a quic-go server on 127.0.0.1 so
// that the exchange can be captured.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"io"
	"log"
	"math/big"
	"time"

	"github.com/quic-go/quic-go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:24443", "")
	v2 := flag.Bool("v2", false, "QUIC version 2 only")
	flag.Parse()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "quic.example.test"},
		DNSNames: []string{"quic.example.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	conf := &quic.Config{}
	if *v2 {
		conf.Versions = []quic.Version{quic.Version2}
	}
	ln, err := quic.ListenAddr(*addr, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"tlsaudit-test"}}, conf)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		c, err := ln.Accept(context.Background())
		if err != nil {
			return
		}
		s, err := c.AcceptStream(context.Background())
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := quic.DialAddr(ctx, *addr, &tls.Config{ServerName: "quic.example.test", NextProtos: []string{"tlsaudit-test"}, InsecureSkipVerify: true}, conf)
	if err != nil {
		log.Fatal(err)
	}
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		log.Fatal(err)
	}
	s.Write([]byte("hello"))
	s.Close()
	b, _ := io.ReadAll(s)
	log.Printf("echo %q, version %v", b, c.ConnectionState().Version)
	c.CloseWithError(0, "")
	time.Sleep(200 * time.Millisecond)
}
