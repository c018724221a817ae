package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// Options bound a probe run. Zero fields take the defaults named.
type Options struct {
	// Timeout bounds all the handshakes of one target together (default 10s).
	Timeout time.Duration
	// Concurrency is how many targets are probed at once (default 8).
	Concurrency int
	// Rate limits the handshakes started per second over the whole run; 0 means no
	// limit.
	Rate float64
	// Dial opens each connection (default: a net.Dialer's DialContext); a caller
	// that must recognise its own probes among the flows it watches wraps it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Result is what one target showed.
type Result struct {
	Target string `json:"target"`
	// Error says why the target could not be probed: unreachable, or no version
	// accepted (for instance, not a TLS server). Versions still lists each attempt.
	Error    string          `json:"error,omitempty"`
	Versions []VersionResult `json:"versions"`
	// ClientCert is what the server does about client certificates at the highest
	// version it accepted: "not_requested", "optional" (asked for, the handshake
	// went on without one), "required" (refused without one), or "unknown".
	ClientCert string       `json:"client_cert"`
	Leaf       *Certificate `json:"leaf_certificate,omitempty"`
	// FallbackSCSV is the server's answer to a ClientHello at the second best version
	// it accepted, carrying TLS_FALLBACK_SCSV (RFC 7507): "rejected" (the
	// inappropriate_fallback alert, or no ServerHello where the same hello without
	// the signal gets one), "accepted" (a ServerHello at that version),
	// "not_applicable" (fewer than two versions accepted) or "unknown" (anything
	// else; FallbackAnswer says what).
	FallbackSCSV string `json:"fallback_scsv"`
	// FallbackVersion is the version that ClientHello offered, when one was sent.
	FallbackVersion string `json:"fallback_scsv_version,omitempty"`
	// FallbackAnswer is what the server sent back: "alert inappropriate_fallback",
	// "ServerHello TLS1.2", "alert handshake_failure", "connection closed without an
	// answer", "timeout: no answer", or the error; when that is neither the alert nor
	// a ServerHello, followed by "; without the signal: " and the answer to the same
	// hello without TLS_FALLBACK_SCSV.
	FallbackAnswer string `json:"fallback_scsv_answer,omitempty"`
}

// VersionResult is one handshake attempt at a single version.
type VersionResult struct {
	Version  string `json:"version"`
	Accepted bool   `json:"accepted"`
	Cipher   string `json:"cipher,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Certificate is the leaf certificate the server presented.
type Certificate struct {
	Subject     string    `json:"subject"`
	DNSNames    []string  `json:"dns_names"`
	IPAddresses []string  `json:"ip_addresses"`
	NotAfter    time.Time `json:"not_after"`
	Expired     bool      `json:"expired"`
}

// Client-certificate answers of Result.ClientCert.
const (
	ClientCertNotRequested = "not_requested"
	ClientCertOptional     = "optional"
	ClientCertRequired     = "required"
	ClientCertUnknown      = "unknown"
)

// versions are probed newest first; the first accepted one answers ClientCert. SSL 3.0
// is offered by a hand-built ClientHello, the others by crypto/tls.
var versions = []uint16{tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10, versionSSL30}

// allSuites offers every suite crypto/tls implements, insecure ones included: a
// server that accepts only those is what a probe is for.
var allSuites = func() []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	return ids
}()

// Run probes every target ("host:port", or with "smtp://", "imap://", "pop3://",
// "ftp://", "ldap://", "mysql://" or "postgres://" before it to upgrade with STARTTLS
// first) and returns their results in the order given.
func Run(ctx context.Context, targets []string, opt Options) []Result {
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	if opt.Dial == nil {
		opt.Dial = (&net.Dialer{}).DialContext
	}
	p := &prober{opt: opt}
	if opt.Rate > 0 {
		p.tick = time.NewTicker(time.Duration(float64(time.Second) / opt.Rate))
		defer p.tick.Stop()
	}
	results := make([]Result, len(targets))
	sem := make(chan struct{}, opt.Concurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = p.target(ctx, t)
		}()
	}
	wg.Wait()
	return results
}

type prober struct {
	opt  Options
	tick *time.Ticker
}

// wait holds a handshake back for the rate limit; it reports false when ctx ended.
func (p *prober) wait(ctx context.Context) bool {
	if p.tick == nil {
		return ctx.Err() == nil
	}
	select {
	case <-p.tick.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *prober) target(ctx context.Context, target string) Result {
	r := Result{Target: target, Versions: []VersionResult{}, ClientCert: ClientCertUnknown, FallbackSCSV: FallbackUnknown}
	proto, addr, err := parseTarget(target)
	if err != nil {
		r.Error = fmt.Sprintf("bad target: %v", err)
		return r
	}
	host, _, _ := net.SplitHostPort(addr)
	ep := endpoint{dial: p.opt.Dial, addr: addr, host: host, proto: proto}
	ctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	defer cancel()
	var firstErr error
	var accepted []acceptedVersion
	for _, v := range versions {
		if !p.wait(ctx) {
			r.Error = "timeout before every version was tried"
			break
		}
		vr, h, err := tryVersion(ctx, ep, v)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				r.Error = err.Error() // "dial tcp ADDR: connect: connection refused"
				return r              // unreachable: the other versions would say the same
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		r.Versions = append(r.Versions, vr)
		if !vr.Accepted {
			continue
		}
		if len(accepted) == 0 {
			r.Leaf, r.ClientCert = h.leaf, h.clientCert
		}
		accepted = append(accepted, acceptedVersion{v, h.cipher})
	}
	switch {
	case r.Error != "": // cut short: the fallback check stays unknown
	case len(accepted) < 2:
		r.FallbackSCSV = FallbackNotApplicable // nothing lower to fall back to
		if len(accepted) == 0 {
			r.Error = fmt.Sprintf("no TLS version accepted: %v", firstErr)
		}
	case !p.wait(ctx):
		r.FallbackAnswer = "timeout before the fallback check"
	default:
		p.checkFallback(ctx, ep, accepted, &r)
	}
	return r
}

// tryVersion offers one version: through crypto/tls, or for SSL 3.0 through a
// hand-built ClientHello. The row is filled in either way; err is the reason it was
// not accepted, and h is set when it was.
func tryVersion(ctx context.Context, ep endpoint, v uint16) (VersionResult, *shook, error) {
	if v == versionSSL30 {
		vr, a, err := probeSSL3(ctx, ep)
		if vr.Accepted {
			return vr, &shook{cipher: a.cipher, clientCert: ClientCertUnknown}, nil
		}
		return vr, nil, err
	}
	vr := VersionResult{Version: versionName(v)}
	h, err := handshake(ctx, ep, v)
	if err != nil {
		vr.Error = err.Error()
		return vr, nil, err
	}
	vr.Accepted = true
	if h.cipher != 0 {
		vr.Cipher = tls.CipherSuiteName(h.cipher)
	}
	return vr, h, nil
}

// shook is what one accepted handshake showed.
type shook struct {
	cipher     uint16
	leaf       *Certificate
	clientCert string
}

// refusalWait is how long a TLS 1.3 client waits, after its handshake completed,
// for the server to refuse a missing certificate: in TLS 1.3 the server judges the
// client's certificate after the client already considers the handshake done.
const refusalWait = 500 * time.Millisecond

// handshake connects, upgrades with proto when it names one, and shakes hands at
// exactly one version, offering no client certificate but noting whether one was
// asked for.
func handshake(ctx context.Context, ep endpoint, version uint16) (*shook, error) {
	raw, err := ep.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	requested := false
	cfg := &tls.Config{
		MinVersion: version, MaxVersion: version, CipherSuites: allSuites,
		InsecureSkipVerify: true, // the probe reports the certificate; it does not trust it
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			requested = true
			return &tls.Certificate{}, nil
		},
	}
	cfg.ServerName = serverName(ep.host)
	c := tls.Client(raw, cfg)
	err = c.HandshakeContext(ctx)
	if err != nil && !(requested && refusedForCertificate(err)) {
		return nil, err
	}
	// A server that refused the handshake for want of a client certificate still
	// accepted the version: it got as far as asking for one.
	st := c.ConnectionState()
	h := &shook{cipher: st.CipherSuite, clientCert: ClientCertNotRequested}
	if len(st.PeerCertificates) > 0 {
		h.leaf = leafOf(st.PeerCertificates[0])
	}
	if err != nil {
		h.clientCert = ClientCertRequired
		return h, nil
	}
	if requested {
		h.clientCert = ClientCertOptional
		if version == tls.VersionTLS13 {
			// The refusal of a missing certificate comes as the first record.
			raw.SetReadDeadline(time.Now().Add(refusalWait))
			if _, err := c.Read(make([]byte, 1)); err != nil && refusedForCertificate(err) {
				h.clientCert = ClientCertRequired
			}
		}
	}
	return h, nil
}

// endpoint is where a probe's connections go and how they reach TLS: the address,
// the host name for SNI, the STARTTLS protocol ("" for none) and the function that
// opens each connection (Options.Dial).
type endpoint struct {
	dial              func(ctx context.Context, network, addr string) (net.Conn, error)
	addr, host, proto string
}

// connect connects with ctx's deadline on the connection and, when proto names a
// protocol, upgrades with it up to where TLS begins. Every handshake of a probe,
// crypto/tls's and the hand-built ones, starts here.
func (ep endpoint) connect(ctx context.Context) (net.Conn, error) {
	raw, err := ep.dial(ctx, "tcp", ep.addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	if err := startTLS(raw, ep.proto); err != nil {
		raw.Close()
		return nil, fmt.Errorf("%s: %w", ep.proto, err)
	}
	return raw, nil
}

// serverName is the SNI a probe sends for host: the name, or none for an address
// (RFC 6066 §3 allows no literal IP address).
func serverName(host string) string {
	if net.ParseIP(host) != nil {
		return ""
	}
	return host
}

// refusedForCertificate reports whether err, once the server asked for a client
// certificate and got none, is its refusal: the alert certificate_required (RFC 8446
// §4.4.2.4), or the bad_certificate or handshake_failure that TLS 1.2 servers send;
// or the connection closed without an alert, as OpenLDAP's slapd with GnuTLS does
// (TLSVerifyClient demand). crypto/tls reports a received alert as a *net.OpError
// "remote error" wrapping an unexported alert type, so the alert is known by its text.
func refusedForCertificate(err error) bool {
	if isClosed(err) {
		return true
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return false
	}
	switch op.Err.Error() {
	case "tls: certificate required", "tls: bad certificate", "tls: handshake failure":
		return true
	}
	return false
}

// isClosed reports whether err is the server closing or resetting the connection.
func isClosed(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) }

func leafOf(c *x509.Certificate) *Certificate {
	l := &Certificate{Subject: c.Subject.String(), DNSNames: c.DNSNames, NotAfter: c.NotAfter.UTC(),
		Expired: time.Now().After(c.NotAfter), IPAddresses: []string{}}
	if l.DNSNames == nil {
		l.DNSNames = []string{}
	}
	for _, ip := range c.IPAddresses {
		l.IPAddresses = append(l.IPAddresses, ip.String())
	}
	return l
}
