package conformance

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
)

// ParseTshark reads a <capture>.tshark.tsv file (see the corpus README for the
// command) into one record per connection. Tunnelled packets list outer and inner
// addresses and ports comma-joined: the last one, the innermost, names the
// connection.
//
// Per connection: from ClientHello rows the SNI, JA3 and ALPN list; from ServerHello
// rows the version (supported_versions if present, else the handshake version), JA3S
// and the selected ALPN. Several handshakes on one connection (HelloRetryRequest,
// renegotiation, a reused 4-tuple) give several acceptable values.
func ParseTshark(r io.Reader, file string) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 4<<20)
	var col map[string]int
	conns := map[string]*Record{}
	var order []string
	for n := 1; sc.Scan(); n++ {
		cols := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = make(map[string]int, len(cols))
			for i, c := range cols {
				col[c] = i
			}
			if _, ok := col["tls.handshake.type"]; !ok {
				return nil, fmt.Errorf("%s: not a tshark field export (header %q)", file, sc.Text())
			}
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(cols) {
				return cols[i]
			}
			return ""
		}
		last := func(name string) string {
			l := splitList(get(name))
			if len(l) == 0 {
				return ""
			}
			return l[len(l)-1]
		}
		first := func(name string) string {
			l := splitList(get(name))
			if len(l) == 0 {
				return ""
			}
			return l[0]
		}
		transport := "tcp"
		sp, dp := last("tcp.srcport"), last("tcp.dstport")
		if sp == "" {
			transport, sp, dp = "udp", last("udp.srcport"), last("udp.dstport")
		}
		srcS, dstS := last("ip.src"), last("ip.dst")
		if srcS == "" {
			srcS, dstS = last("ipv6.src"), last("ipv6.dst")
		}
		src, err1 := netip.ParseAddr(srcS)
		dst, err2 := netip.ParseAddr(dstS)
		if err1 != nil || err2 != nil || sp == "" || dp == "" {
			continue
		}
		srcEP := netip.AddrPortFrom(src.Unmap(), parsePort(sp))
		dstEP := netip.AddrPortFrom(dst.Unmap(), parsePort(dp))

		dtls := false
		types := splitList(get("tls.handshake.type"))
		prefix := "tls.handshake."
		if len(types) == 0 {
			types = splitList(get("dtls.handshake.type"))
			prefix, dtls = "dtls.handshake.", true
		}
		isCH, isSH := contains(types, "1"), contains(types, "2")
		if isCH == isSH {
			continue // neither, or both in one frame: nothing attributable
		}
		key := transport + " " + tupleKey(srcEP, dstEP)
		rec := conns[key]
		if rec == nil {
			rec = &Record{Source: "tshark", File: file, Conn: Conn{Transport: transport}}
			conns[key] = rec
			order = append(order, key)
			// The first hello seen names the client.
			client, server := srcEP, dstEP
			if isSH {
				client, server = dstEP, srcEP
			}
			rec.Conn.A, rec.Conn.PortA = client.Addr(), client.Port()
			rec.Conn.B, rec.Conn.PortB = server.Addr(), server.Port()
		}
		if qv := first("quic.version"); qv != "" {
			rec.Hints.QUIC = true
			if rec.Hints.QUICVersion == "" {
				rec.Hints.QUICVersion = CanonicalQUICVersion(qv)
			}
			rec.set(FieldQUICVersion, CanonicalQUICVersion(qv))
		}
		if dtls {
			rec.Hints.DTLS = true
		}
		alpn := get(prefix + "extensions_alpn_str")
		if isCH {
			for _, s := range splitList(get(prefix + "extensions_server_name")) {
				rec.set(FieldSNI, canonicalHost(s))
			}
			for _, s := range splitList(get(prefix + "ja3")) {
				rec.set(FieldJA3, canonicalHash(s))
			}
			rec.set(FieldALPN, canonicalALPN(alpn, ","))
			continue
		}
		v := first(prefix + "extensions.supported_version")
		if v == "" {
			v = first(prefix + "version")
		}
		rec.set(FieldVersion, CanonicalVersion(v))
		for _, s := range splitList(get(prefix + "ja3s")) {
			rec.set(FieldJA3S, canonicalHash(s))
		}
		rec.set(FieldALPNServer, first(prefix+"extensions_alpn_str"))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.Strings(order)
	out := make([]Record, 0, len(order))
	for _, k := range order {
		if r := conns[k]; len(r.Values) > 0 {
			out = append(out, *r)
		}
	}
	return out, nil
}
