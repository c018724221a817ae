package conformance

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// arkimeSession is the part of an Arkime session document the harness reads.
type arkimeSession struct {
	Body struct {
		Protocol    []string `json:"protocol"`
		IPProtocol  int      `json:"ipProtocol"`
		Source      arkimeEP `json:"source"`
		Destination arkimeEP `json:"destination"`
		TLS         *struct {
			Version []string `json:"version"`
			JA3     []string `json:"ja3"`
			JA3S    []string `json:"ja3s"`
			JA4     []string `json:"ja4"`
		} `json:"tls"`
		HTTP *struct {
			Host []string `json:"host"`
		} `json:"http"`
		QUIC *arkimeQUIC `json:"quic"`
	} `json:"body"`
}

type arkimeQUIC struct {
	Host    []string `json:"host"`
	Version []string `json:"version"`
}

type arkimeEP struct {
	IP   string `json:"ip"`
	Port uint16 `json:"port"`
}

// arkimeUpgrade are Arkime protocol tags of clear-text protocols that upgrade to TLS
// in band; with "tls" beside them the session is STARTTLS.
var arkimeUpgrade = map[string]bool{
	"smtp": true, "imap": true, "pop3": true, "ftp": true, "ldap": true, "xmpp": true,
	"irc": true, "postgresql": true, "mysql": true,
}

// arkimePlaintext are Arkime protocol tags of clear-text protocols in tlsaudit's
// vocabulary.
var arkimePlaintext = map[string]bool{
	"http": true, "dns": true, "smtp": true, "imap": true, "pop3": true, "ftp": true,
	"irc": true, "postgresql": true, "mysql": true, "redis": true, "ldap": true,
}

// ParseArkimeTest reads an Arkime .test document into one record per TCP or UDP
// session. The SNI is http.host when the session is TLS or QUIC and carries no
// clear-text HTTP (Arkime stores the SNI there); Google QUIC's quic.host likewise.
func ParseArkimeTest(data []byte, file string) ([]Record, error) {
	var doc struct {
		Sessions []arkimeSession `json:"sessions3"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []Record
	for _, s := range doc.Sessions {
		b := &s.Body
		r := Record{Source: "arkime", File: file}
		switch b.IPProtocol {
		case 6:
			r.Conn.Transport = "tcp"
		case 17:
			r.Conn.Transport = "udp"
		default:
			continue
		}
		r.Conn.A, _ = netip.ParseAddr(b.Source.IP)
		r.Conn.B, _ = netip.ParseAddr(b.Destination.IP)
		r.Conn.PortA, r.Conn.PortB = b.Source.Port, b.Destination.Port
		protos := map[string]bool{}
		for _, p := range b.Protocol {
			protos[p] = true
		}
		quicVersion := ""
		if b.QUIC != nil && len(b.QUIC.Version) > 0 {
			quicVersion = CanonicalQUICVersion(b.QUIC.Version[0])
		}
		tlsish := protos["tls"] || protos["dtls"] || protos["quic"] || b.TLS != nil
		if protos["quic"] {
			r.Hints.QUIC, r.Hints.QUICVersion = true, quicVersion
			if b.QUIC != nil {
				for _, v := range b.QUIC.Version {
					r.set(FieldQUICVersion, CanonicalQUICVersion(v))
				}
			}
		}
		if protos["dtls"] {
			r.Hints.DTLS = true
		}
		if b.TLS != nil {
			for _, v := range b.TLS.Version {
				r.set(FieldVersion, CanonicalVersion(v))
			}
			for _, v := range b.TLS.JA3 {
				r.set(FieldJA3, canonicalHash(v))
			}
			for _, v := range b.TLS.JA3S {
				r.set(FieldJA3S, canonicalHash(v))
			}
			for _, v := range b.TLS.JA4 {
				r.set(FieldJA4, v)
			}
		}
		if tlsish && !protos["http"] && b.HTTP != nil {
			for _, h := range b.HTTP.Host {
				r.set(FieldSNI, canonicalHost(h))
			}
		}
		if protos["quic"] && b.QUIC != nil {
			for _, h := range b.QUIC.Host {
				r.set(FieldSNI, canonicalHost(h))
			}
		}
		switch {
		case protos["quic"] && isGoogleQUIC(quicVersion):
			r.set(FieldClass, "encrypted")
		case protos["tls"] || protos["dtls"] || protos["quic"]:
			r.set(FieldClass, "tls")
			// STARTTLS when a clear-text protocol that upgrades is tagged too; direct
			// TLS when nothing but tcp and tls (and Arkime's own rule tags) is; any
			// other company (http for CONNECT, socks, adb, …) leaves it unstated.
			upgrade, other := false, false
			for p := range protos {
				switch {
				case arkimeUpgrade[p]:
					upgrade = true
				case p == "tcp" || p == "tls" || strings.HasSuffix(p, "test"):
				default:
					other = true
				}
			}
			switch {
			case protos["quic"] || protos["dtls"]:
			case upgrade:
				r.set(FieldStartTLS, "true")
			case !other:
				r.set(FieldStartTLS, "false")
			}
		case protos["ssh"]:
			r.set(FieldClass, "ssh")
		default:
			known, other := 0, 0
			for p := range protos {
				switch {
				case p == "tcp" || p == "udp" || strings.HasSuffix(p, "test"):
				case arkimePlaintext[p]:
					known++
				default:
					other++
				}
			}
			if known > 0 && other == 0 {
				r.set(FieldClass, "plaintext")
			}
		}
		if len(r.Values) > 0 {
			out = append(out, r)
		}
	}
	return out, nil
}
