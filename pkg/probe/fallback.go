package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"slices"
	"time"
)

// Answers of Result.FallbackSCSV, the server's reply to a ClientHello below its best
// version that carries TLS_FALLBACK_SCSV (RFC 7507).
const (
	// FallbackRejected: the server answered with the inappropriate_fallback alert, as
	// RFC 7507 §3 requires, or refused otherwise (closed the connection, say) where
	// the same hello without the signal got a ServerHello; a downgrade by a man in the
	// middle fails.
	FallbackRejected = "rejected"
	// FallbackAccepted: the server answered with a ServerHello at the lower version; it
	// ignores the signal, and a client that retries at a lower version can be
	// downgraded.
	FallbackAccepted = "accepted"
	// FallbackNotApplicable: the server accepts fewer than two versions, so there is
	// no lower version to fall back to.
	FallbackNotApplicable = "not_applicable"
	// FallbackUnknown: another alert, a close or a timeout that the same hello without
	// the signal got too (or no time was left to try it), or the versions were not all
	// tried; Result.FallbackAnswer says which.
	FallbackUnknown = "unknown"
)

// rawHello dials and upgrades like handshake does, sends a hand-built ClientHello
// at version with suites, and reads the server's first record.
func rawHello(ctx context.Context, ep endpoint, version uint16, suites []uint16) (*serverAnswer, error) {
	hello, err := clientHello(version, suites, serverName(ep.host))
	if err != nil {
		return nil, err
	}
	c, err := ep.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if _, err := c.Write(hello); err != nil {
		return nil, err
	}
	return readServerAnswer(c)
}

// probeSSL3 offers SSL 3.0 alone: a ServerHello at 0x0300 is acceptance. Anything else
// is a refusal, and the row's error says what came instead.
func probeSSL3(ctx context.Context, ep endpoint) (VersionResult, *serverAnswer, error) {
	vr := VersionResult{Version: versionName(versionSSL30)}
	a, err := rawHello(ctx, ep, versionSSL30, append(slices.Clip(ssl3Suites), emptyRenegotiationInfoSCSV))
	switch {
	case err != nil:
		vr.Error = answerError(err)
		return vr, nil, err
	case a.isAlert || a.version != versionSSL30:
		vr.Error = "server answered " + a.String()
		return vr, a, errors.New(vr.Error)
	}
	vr.Accepted, vr.Cipher = true, tls.CipherSuiteName(a.cipher)
	return vr, a, nil
}

// checkFallback offers the second best version the server accepted, with the suite
// it chose there first, and TLS_FALLBACK_SCSV, and sets r's fallback fields from the
// answer. accepted are the versions the server accepted, best first, with the suite
// it chose at each: two at least.
//
// Some servers refuse the hello without saying why: Dovecot and slapd close the
// connection, their TLS library's alert never sent. When the answer is neither the
// alert nor a ServerHello, the same hello is sent again without the signal (a control);
// a ServerHello to that one shows that the signal alone made the server refuse, which
// is a rejection. Otherwise the answer stays unknown, both answers stated.
func (p *prober) checkFallback(ctx context.Context, ep endpoint, accepted []acceptedVersion, r *Result) {
	lower := accepted[1]
	r.FallbackVersion = versionName(lower.id)
	suites := ssl3Suites
	if lower.id >= tls.VersionTLS10 {
		suites = allSuites
	}
	offer := []uint16{lower.cipher}
	for _, s := range suites {
		if s != lower.cipher && !tls13Suite(s) {
			offer = append(offer, s)
		}
	}
	answer := func(suites []uint16) (string, bool, bool) {
		a, err := rawHello(ctx, ep, lower.id, suites)
		if err != nil {
			return answerError(err), false, false
		}
		return a.String(), a.isAlert && a.alert == alertInappropriateFallback, !a.isAlert && a.version == lower.id
	}
	said, alert, hello := answer(append(slices.Clip(offer), tls.TLS_FALLBACK_SCSV))
	r.FallbackAnswer = said
	switch {
	case alert:
		r.FallbackSCSV = FallbackRejected
		return
	case hello:
		r.FallbackSCSV = FallbackAccepted
		return
	}
	r.FallbackSCSV = FallbackUnknown
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) || !p.wait(ctx) {
		return // no time left for the control (ctx.Err may lag the connection's deadline)
	}
	control, _, hello := answer(offer)
	r.FallbackAnswer += "; without the signal: " + control
	if hello {
		r.FallbackSCSV = FallbackRejected
	}
}

// acceptedVersion is a version a server accepted and the suite it chose there.
type acceptedVersion struct{ id, cipher uint16 }

// tls13Suite reports whether s is a TLS 1.3 suite (RFC 8446 §B.4: 0x13XX), which a
// hello below TLS 1.3 does not offer.
func tls13Suite(s uint16) bool { return s>>8 == 0x13 }

// answerError says why no answer was read, in the words a report shows: the server
// closed the connection, nothing came before the timeout, or the error itself.
func answerError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout: no answer"
	case errors.Is(err, errNotTLS), errors.Is(err, errUnexpectedRecord), errors.Is(err, errNotServerHello):
		return "unexpected answer: " + err.Error()
	case isClosed(err):
		return "connection closed without an answer"
	}
	return err.Error()
}
