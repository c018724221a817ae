package classify

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// pkixNameString is nameString's general path alone: what pkix makes of der.
func pkixNameString(der []byte) (string, bool) {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) != 0 {
		return "", false
	}
	var name pkix.Name
	name.FillFromRDNSequence(&rdns)
	return name.String(), true
}

// nameSamples are Names built with pkix of the shapes certificates carry and of
// shapes the fast path must leave alone (other attributes, repeated single-valued
// ones, characters to escape, non-ASCII).
func nameSamples(t testing.TB) [][]byte {
	atv := func(oid asn1.ObjectIdentifier, v any) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: oid, Value: v}
	}
	cn, o, ou, c, serial := asn1.ObjectIdentifier{2, 5, 4, 3}, asn1.ObjectIdentifier{2, 5, 4, 10}, asn1.ObjectIdentifier{2, 5, 4, 11}, asn1.ObjectIdentifier{2, 5, 4, 6}, asn1.ObjectIdentifier{2, 5, 4, 5}
	email := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	st, l, street, postal := asn1.ObjectIdentifier{2, 5, 4, 8}, asn1.ObjectIdentifier{2, 5, 4, 7}, asn1.ObjectIdentifier{2, 5, 4, 9}, asn1.ObjectIdentifier{2, 5, 4, 17}
	seqs := []pkix.RDNSequence{
		{{atv(cn, "api.internal")}},
		// Every attribute pkix keeps in a field, in certificate order (its rendering
		// reorders them).
		{{atv(c, "DE")}, {atv(st, "NRW")}, {atv(l, "Netphen")}, {atv(street, "Untere Industriestr. 20")}, {atv(postal, "57250")},
			{atv(o, "T-Systems International GmbH")}, {atv(ou, "T-Systems Trust Center")}, {atv(cn, "TeleSec ServerPass DE-1")}, {atv(serial, "42")}},
		{{atv(serial, "7")}, {atv(ou, "x")}, {atv(postal, "1")}, {atv(cn, "y")}, {atv(st, "s")}, {atv(street, "z")}, {atv(l, "l")}, {atv(o, "o")}, {atv(c, "c")}},
		{{atv(c, "US")}, {atv(o, "tlsaudit testdata")}, {atv(cn, "tlsaudit throwaway CA")}},
		{{atv(o, "a, b"), atv(o, "c+d")}, {atv(ou, " lead and trail ")}, {atv(cn, "#hash;<x>\"q\"\\")}},
		{{atv(cn, "first")}, {atv(cn, "second")}, {atv(serial, "")}},
		{{atv(cn, "")}, {atv(o, "")}},
		{{atv(cn, "ünïcödé.internal")}},
		{{atv(email, "ops@example.com")}, {atv(cn, "with email")}},
		{},
	}
	var out [][]byte
	for _, s := range seqs {
		der, err := asn1.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, der)
	}
	// Subjects and issuers of the certificates the repository's tests use.
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*", "*.pem"))
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			if c, err := x509.ParseCertificate(block.Bytes); err == nil {
				out = append(out, c.RawSubject, c.RawIssuer)
			}
		}
	}
	return out
}

// TestNameStringFastMatchesPkix: on every sample the fast path either declines or
// gives pkix's string, and it takes the ordinary ones.
func TestNameStringFastMatchesPkix(t *testing.T) {
	took := 0
	for i, der := range nameSamples(t) {
		want, ok := pkixNameString(der)
		got, fast := nameStringFast(der)
		if fast && (!ok || got != want) {
			t.Errorf("sample %d: fast %q, pkix %q (ok %v)", i, got, want, ok)
		}
		if fast {
			took++
		}
		if i < 8 && !fast {
			t.Errorf("sample %d (%q): the fast path declined", i, want)
		}
	}
	t.Logf("fast path took %d samples", took)
}

func TestNameStringAllocs(t *testing.T) {
	der := nameSamples(t)[1]
	if n := testing.AllocsPerRun(100, func() { nameString(der) }); n > 1 {
		t.Errorf("%v allocations a name, want 1", n)
	}
}

func FuzzNameString(f *testing.F) {
	for _, der := range nameSamples(f) {
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		got, fast := nameStringFast(der)
		if !fast {
			return
		}
		if want, ok := pkixNameString(der); !ok || got != want {
			t.Fatalf("fast %q, pkix %q (ok %v)", got, want, ok)
		}
	})
}
