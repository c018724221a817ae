package conformance

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"path"
	"strconv"
	"strings"
)

// ZeekBlock is one run's log inside a Zeek log file: a btest baseline may concatenate
// several runs, each with its own #fields header. A .cut file (zeek-cut output) is a
// single block whose header is its first line.
type ZeekBlock struct {
	Path   string // the #path header: ssl, conn, quic, …; "" for .cut files
	File   string // the capture a "#file" header names, if any
	Fields []string
	Rows   [][]string
}

// ParseZeekLog splits a Zeek TSV log or .cut file into blocks.
func ParseZeekLog(r io.Reader) ([]ZeekBlock, error) {
	var blocks []ZeekBlock
	var cur *ZeekBlock
	pathHdr, fileHdr := "", ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "#path"):
			pathHdr = strings.TrimSpace(strings.TrimPrefix(line, "#path"))
		case strings.HasPrefix(line, "#file"):
			fileHdr = strings.TrimSpace(strings.TrimPrefix(line, "#file"))
		case strings.HasPrefix(line, "#fields"):
			blocks = append(blocks, ZeekBlock{Path: pathHdr, File: fileHdr, Fields: strings.Split(line, "\t")[1:]})
			cur = &blocks[len(blocks)-1]
			fileHdr = ""
		case strings.HasPrefix(line, "#"):
			// btest banner, #separator, #types, #open, #close.
		case cur == nil:
			// A .cut file: the first line names the columns.
			blocks = append(blocks, ZeekBlock{Fields: strings.Split(line, "\t")})
			cur = &blocks[len(blocks)-1]
		default:
			cols := strings.Split(line, "\t")
			if len(cols) != len(cur.Fields) {
				return nil, fmt.Errorf("line %d: %d columns, header has %d", n, len(cols), len(cur.Fields))
			}
			cur.Rows = append(cur.Rows, cols)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return blocks, nil
}

// zeekKind tells which log a block is: "ssl", "conn" or "quic" from its #path, else
// from the file name (tls-12.ssl.log, conn.log.cut, ssl-twimg.log, …); "" for logs
// that state none of the compared fields.
func zeekKind(b *ZeekBlock, file string) string {
	switch b.Path {
	case "ssl", "conn", "quic":
		return b.Path
	case "":
	default:
		return ""
	}
	for _, tok := range strings.FieldsFunc(path.Base(file), func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		switch {
		case tok == "ssl" || tok == "ssl1":
			return "ssl"
		case tok == "conn":
			return "conn"
		case tok == "quic":
			return "quic"
		}
	}
	return ""
}

// zeekUpgradeServices are Zeek service names of clear-text protocols that switch to
// TLS in band; "<one of these>,ssl" is a STARTTLS connection.
var zeekUpgradeServices = map[string]bool{
	"ftp": true, "smtp": true, "imap": true, "pop3": true, "ldap_tcp": true, "ldap": true,
	"xmpp": true, "irc": true, "postgresql": true, "mysql": true, "rdp": true,
}

// zeekPlaintextServices are Zeek service names of clear-text protocols in tlsaudit's
// vocabulary; a connection with only these is plaintext.
var zeekPlaintextServices = map[string]bool{
	"http": true, "dns": true, "ftp": true, "smtp": true, "imap": true, "pop3": true,
	"irc": true, "xmpp": true, "ldap_tcp": true, "ldap_udp": true, "postgresql": true,
	"mysql": true, "redis": true, "ftp-data": false,
}

// ZeekRecords turns one block into records for source src (zeek, ja3 or ja4-zeek).
// Capture is left empty: the caller attributes blocks to captures.
func ZeekRecords(b *ZeekBlock, src, file string) []Record {
	kind := zeekKind(b, file)
	if kind == "" {
		return nil
	}
	col := make(map[string]int, len(b.Fields))
	for i, f := range b.Fields {
		col[f] = i
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok {
			if v := row[i]; v != "-" && v != "(empty)" {
				return v
			}
		}
		return ""
	}
	var out []Record
	for _, row := range b.Rows {
		r := Record{Source: src, File: file}
		r.Conn = zeekConn(get(row, "id.orig_h"), get(row, "id.orig_p"), get(row, "id.resp_h"), get(row, "id.resp_p"))
		switch kind {
		case "ssl":
			v := CanonicalVersion(get(row, "version"))
			r.set(FieldVersion, v)
			r.set(FieldSNI, canonicalHost(get(row, "server_name")))
			r.set(FieldALPNServer, get(row, "next_protocol"))
			r.set(FieldALPN, canonicalALPN(get(row, "orig_alpn"), ","))
			r.set(FieldJA3, canonicalHash(get(row, "ja3")))
			ja4 := get(row, "ja4")
			r.set(FieldJA4, ja4)
			if strings.HasPrefix(v, "DTLS") || strings.HasPrefix(ja4, "d") {
				r.Conn.Transport, r.Hints.DTLS = "udp", true
			}
			if strings.HasPrefix(ja4, "q") {
				r.Conn.Transport, r.Hints.QUIC = "udp", true
			}
		case "quic":
			r.Conn.Transport, r.Hints.QUIC = "udp", true
			qv := CanonicalQUICVersion(get(row, "version"))
			r.Hints.QUICVersion = qv
			r.set(FieldQUICVersion, qv)
			r.set(FieldSNI, canonicalHost(get(row, "server_name")))
			// Zeek logs the first protocol of the client's ALPN list.
			r.setPrefix(FieldALPN, get(row, "client_protocol"))
		case "conn":
			switch p := get(row, "proto"); p {
			case "tcp", "udp":
				r.Conn.Transport = p
			case "":
			default:
				continue // icmp and others: no flow in tlsaudit's sense
			}
			class, starttls, quic := zeekService(get(row, "service"))
			r.set(FieldClass, class)
			r.set(FieldStartTLS, starttls)
			r.Hints.QUIC = quic
		}
		if len(r.Values) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// zeekService maps a conn.log service set to a class, a starttls value and whether
// it is QUIC. Services outside tlsaudit's vocabulary state nothing.
func zeekService(s string) (class, starttls string, quic bool) {
	if s == "" {
		return "", "", false
	}
	svcs := strings.Split(s, ",")
	tls, ssh, upgrade, plain, other := false, false, false, true, false
	for _, x := range svcs {
		switch x {
		case "ssl", "dtls":
			tls = true
		case "quic":
			tls, quic = true, true
		case "ssh":
			ssh = true
		}
		if zeekUpgradeServices[x] {
			upgrade = true
		}
		if !zeekPlaintextServices[x] {
			plain = false
		}
		switch {
		case x == "ssl" || x == "dtls" || x == "quic" || zeekUpgradeServices[x]:
		default:
			other = true
		}
	}
	switch {
	case tls:
		// Direct TLS, or an in-band upgrade; beside anything else (http, socks, …)
		// whether that counts as STARTTLS is left unstated.
		switch {
		case upgrade:
			starttls = "true"
		case !other:
			starttls = "false"
		}
		return "tls", starttls, quic
	case ssh:
		return "ssh", "", false
	case plain:
		return "plaintext", "", false
	}
	return "", "", false
}

// zeekConn builds a Conn from id.* columns; missing columns leave parts open.
func zeekConn(oh, op, rh, rp string) Conn {
	var c Conn
	c.A, _ = netip.ParseAddr(oh)
	c.B, _ = netip.ParseAddr(rh)
	if n, err := strconv.ParseUint(op, 10, 16); err == nil {
		c.PortA = uint16(n)
	}
	if n, err := strconv.ParseUint(rp, 10, 16); err == nil {
		c.PortB = uint16(n)
	}
	return c
}
