package conformance

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// SuricataSkip counts the checks of suricata-verify files that were not turned into
// records, by why.
type SuricataSkip map[string]int

// ParseSuricataTest turns the checks of one suricata-verify test.yaml into records.
// A check becomes a record when it filters event_type tls, quic or alert and matches
// a compared tls.* or quic.* field. Its src/dest ip and port, when present, pin the
// connection; otherwise the record is about "some connection of the capture", and
// the harness picks the connection that agrees best.
//
// Checks are skipped when they describe other Suricata versions than the current one
// (a requires: lt-version, at the top or in the filter), when they assert absence
// (count: 0), or when they only use fields tlsaudit has no counterpart for
// (certificates, cipher lists, has-key).
func ParseSuricataTest(src, file string, skip SuricataSkip) ([]Record, error) {
	root, err := parseYAML(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if root.get("requires").get("lt-version").str() != "" {
		skip["test requires an older Suricata (lt-version)"] += len(root.get("checks").List)
		return nil, nil
	}
	var out []Record
	for _, chk := range root.get("checks").List {
		flt := chk.get("filter")
		if flt == nil {
			continue
		}
		match := flt.get("match")
		et := match.get("event_type").str()
		if et != "tls" && et != "quic" && et != "alert" {
			continue
		}
		if flt.get("requires").get("lt-version").str() != "" {
			skip["filter requires an older Suricata (lt-version)"]++
			continue
		}
		if c := flt.get("count").str(); c == "0" {
			skip["count: 0 (absence)"]++
			continue
		}
		r := Record{Source: "suricata", File: file}
		if et == "quic" {
			r.Conn.Transport, r.Hints.QUIC = "udp", true
		} else if et == "tls" {
			r.Conn.Transport = "tcp"
		}
		suricataRecord(&r, match)
		if len(r.Values) == 0 {
			if et != "alert" {
				skip["no compared field"]++
			}
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

var suricataIndexed = regexp.MustCompile(`^(tls\.client_alpns|tls\.server_alpns|quic\.extensions)\[(\d+)\](.*)$`)

// suricataRecord fills r from one match: block.
func suricataRecord(r *Record, match *yamlNode) {
	clientALPN := map[int]string{}
	type ext struct{ name, value string }
	exts := map[int]*ext{}
	for _, k := range match.Keys {
		v := match.Map[k].str()
		switch k {
		case "src_ip":
			r.Conn.A, _ = netip.ParseAddr(v)
		case "dest_ip":
			r.Conn.B, _ = netip.ParseAddr(v)
		case "src_port":
			if n, err := strconv.ParseUint(v, 10, 16); err == nil {
				r.Conn.PortA = uint16(n)
			}
		case "dest_port":
			if n, err := strconv.ParseUint(v, 10, 16); err == nil {
				r.Conn.PortB = uint16(n)
			}
		case "proto":
			switch strings.ToLower(v) {
			case "tcp", "udp":
				r.Conn.Transport = strings.ToLower(v)
			}
		case "tls.version":
			r.set(FieldVersion, CanonicalVersion(v))
		case "tls.sni":
			r.set(FieldSNI, canonicalHost(v))
		case "tls.ja3.hash":
			r.set(FieldJA3, canonicalHash(v))
		case "tls.ja3s.hash":
			r.set(FieldJA3S, canonicalHash(v))
		case "tls.ja4":
			r.set(FieldJA4, v)
			if r.Conn.Transport == "" {
				r.Conn.Transport = "tcp"
			}
		case "quic.ja4":
			r.set(FieldJA4, v)
			r.Conn.Transport, r.Hints.QUIC = "udp", true
		case "tls.from_proto":
			r.set(FieldStartTLS, "true")
		default:
			m := suricataIndexed.FindStringSubmatch(k)
			if m == nil {
				continue
			}
			i, _ := strconv.Atoi(m[2])
			switch {
			case m[1] == "tls.client_alpns" && m[3] == "":
				clientALPN[i] = v
			case m[1] == "tls.server_alpns" && m[3] == "" && i == 0:
				r.set(FieldALPNServer, v)
			case m[1] == "quic.extensions":
				r.Conn.Transport, r.Hints.QUIC = "udp", true
				e := exts[i]
				if e == nil {
					e = &ext{}
					exts[i] = e
				}
				switch m[3] {
				case ".name":
					e.name = v
				case ".values[0]":
					e.value = v
				}
			}
		}
	}
	if s := consecutive(clientALPN); s != "" {
		r.setPrefix(FieldALPN, s)
	}
	idx := make([]int, 0, len(exts))
	for i := range exts {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		e := exts[i]
		switch {
		case e.value == "":
		case e.name == "server_name":
			r.set(FieldSNI, canonicalHost(e.value))
		case e.name == "alpn":
			r.setPrefix(FieldALPN, e.value)
		}
	}
}

// consecutive joins m[0], m[1], … up to the first missing index.
func consecutive(m map[int]string) string {
	var parts []string
	for i := 0; ; i++ {
		v, ok := m[i]
		if !ok {
			break
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, ",")
}
