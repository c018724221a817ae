package classify

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// nameString renders a DER Name (RFC 5280 §4.1.2.4) as crypto/x509's pkix.Name.String
// does (RFC 2253 order and escaping). The names every certificate carries are
// rendered by nameStringFast with one allocation; any other is left to pkix, which
// decodes through encoding/asn1's reflection (some twenty allocations a name).
func nameString(der []byte) (string, error) {
	if s, ok := nameStringFast(der); ok {
		return s, nil
	}
	var rdns pkix.RDNSequence
	rest, err := asn1.Unmarshal(der, &rdns)
	if err != nil || len(rest) != 0 {
		return "", errCertDER
	}
	var name pkix.Name
	name.FillFromRDNSequence(&rdns)
	return name.String(), nil
}

// nameAttrs are the attributes pkix.Name keeps in fields, in the order
// pkix.Name.ToRDNSequence writes them back: the last of the rendered string is
// first here. single marks the fields that keep one value (the last one read).
var nameAttrs = [...]struct {
	oid    byte // the last arc of 2.5.4.x
	label  string
	single bool
}{
	{6, "C", false}, {8, "ST", false}, {7, "L", false}, {9, "STREET", false}, {17, "POSTALCODE", false},
	{10, "O", false}, {11, "OU", false}, {3, "CN", true}, {5, "SERIALNUMBER", true},
}

// maxNameValues bounds the attribute values nameStringFast takes; a Name with more
// goes to pkix.
const maxNameValues = 32

// nameStringFast renders Names whose every attribute is one of nameAttrs with a
// PrintableString, UTF8String or IA5String value that encoding/asn1 takes as it is.
// It reports false for any other Name, which nameString hands to pkix; on the Names
// it takes it gives pkix's string (FuzzNameString holds it to that).
func nameStringFast(der []byte) (string, bool) {
	type attr struct {
		kind  int // index in nameAttrs
		value []byte
	}
	var attrs [maxNameValues]attr
	n := 0
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return "", false
	}
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) {
			return "", false
		}
		for !set.Empty() {
			var atv, oid, value cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
				!atv.ReadAnyASN1(&value, &tag) || !atv.Empty() || n == maxNameValues {
				return "", false
			}
			if len(oid) != 3 || oid[0] != 0x55 || oid[1] != 0x04 || !nameValueTaken(tag, value) {
				return "", false // not 2.5.4.x, or a value pkix would read otherwise
			}
			kind := -1
			for i, a := range nameAttrs {
				if a.oid == oid[2] {
					kind = i
				}
			}
			if kind < 0 {
				return "", false
			}
			attrs[n] = attr{kind, value}
			n++
		}
	}
	// pkix keeps the last value of a single-valued field; an empty one is not written.
	var last [len(nameAttrs)]int
	for i := range attrs[:n] {
		last[attrs[i].kind] = i + 1
	}
	size := 0
	for i := range attrs[:n] {
		size += len(nameAttrs[attrs[i].kind].label) + 3 + 2*len(attrs[i].value)
	}
	var b strings.Builder // one allocation: String does not copy
	b.Grow(size)
	first := true
	for k := len(nameAttrs) - 1; k >= 0; k-- {
		a := nameAttrs[k]
		if a.single {
			if last[k] == 0 || len(attrs[last[k]-1].value) == 0 {
				continue
			}
		}
		rdnStart := true
		for i := range attrs[:n] {
			if attrs[i].kind != k || (a.single && i != last[k]-1) {
				continue
			}
			switch {
			case rdnStart && !first:
				b.WriteByte(',')
			case !rdnStart:
				b.WriteByte('+')
			}
			rdnStart, first = false, false
			b.WriteString(a.label)
			b.WriteByte('=')
			writeEscapedRDNValue(&b, attrs[i].value)
		}
	}
	return b.String(), true
}

// nameValueTaken reports whether encoding/asn1 decodes value, of tag, into an
// interface as the same string: a UTF8String that is valid UTF-8, or a
// PrintableString or IA5String of characters it takes without question.
func nameValueTaken(tag cbasn1.Tag, value []byte) bool {
	switch tag {
	case cbasn1.UTF8String:
		return utf8.Valid(value)
	case cbasn1.PrintableString, cbasn1.Tag(22): // 22: IA5String
		for _, c := range value {
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			case c == ' ', c == '\'', c == '(', c == ')', c == '+', c == ',', c == '-', c == '.', c == '/', c == ':', c == '=', c == '?':
			default:
				return false
			}
		}
		return true
	}
	return false
}

// writeEscapedRDNValue writes v with RFC 2253's escapes as pkix applies them: a
// backslash before , + " \ < > ;, before a space at either end and a # at the start.
func writeEscapedRDNValue(b *strings.Builder, v []byte) {
	for k, c := range v {
		escape := false
		switch c {
		case ',', '+', '"', '\\', '<', '>', ';':
			escape = true
		case ' ':
			escape = k == 0 || k == len(v)-1
		case '#':
			escape = k == 0
		}
		if escape {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
}
