package classify

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fingerprintReference is one row of testdata/tls/references.tsv: a fingerprint that
// an independent tool computed for a recorded connection.
type fingerprintReference struct {
	name, hello, field, reference, source, expected, note string
}

func loadFingerprintReferences(t *testing.T) []fingerprintReference {
	t.Helper()
	f, err := os.Open(filepath.Join(tlsTestdataDir, "references.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var refs []fingerprintReference
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 7 {
			t.Fatalf("references.tsv: %d columns in %q", len(c), line)
		}
		refs = append(refs, fingerprintReference{c[0], c[1], c[2], c[3], c[4], c[5], c[6]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return refs
}

// firstClientHello scans growing record-aligned prefixes of the client stream and
// returns the first ClientHello.
func firstClientHello(t *testing.T, client []byte) ClientHello {
	t.Helper()
	var h Handshake
	for _, end := range recordBoundaries(client) {
		h.ScanClient(client[:end])
		if h.ClientHellos > 0 {
			m := h.ClientHello
			return m
		}
	}
	t.Fatal("no ClientHello")
	return ClientHello{}
}

// TestFingerprintReferences checks JA3, JA3S, JA4 and JA4_r of the recorded
// connections against the values tshark, the FoxIO reference implementations,
// Arkime and Suricata computed for the same bytes.
func TestFingerprintReferences(t *testing.T) {
	refs := loadFingerprintReferences(t)
	agree := map[string]int{}
	total := map[string]int{}
	hellos := map[string]bool{}
	for _, r := range refs {
		t.Run(r.name+"/"+r.hello+"/"+r.field, func(t *testing.T) {
			client, server := tlsStreams(t, r.name)
			var h Handshake
			scanBoth(&h, client, server)
			ch := h.ClientHello
			if r.hello == "first" {
				ch = firstClientHello(t, client)
			}
			var got string
			switch r.field {
			case "ja3":
				got = ch.JA3()
			case "ja3s":
				got = h.ServerHello.JA3S()
			case "ja4":
				got = ch.JA4('t')
			case "ja4_r":
				got = ch.JA4Raw('t')
			default:
				t.Fatalf("unknown field %q", r.field)
			}
			want := r.reference
			if r.expected != "" {
				want = r.expected
				t.Logf("reference %s differs on purpose: %s", r.reference, r.note)
			}
			total[r.field]++
			if r.field == "ja3" || r.field == "ja4" {
				hellos[r.name+r.hello] = true
			}
			if got != want {
				t.Errorf("%s = %s\nwant %s (%s)", r.field, got, want, r.source)
				return
			}
			if r.expected == "" {
				agree[r.field]++
			}
		})
	}
	t.Logf("agreement with references: ja3 %d/%d, ja3s %d/%d, ja4 %d/%d, ja4_r %d/%d over %d ClientHellos",
		agree["ja3"], total["ja3"], agree["ja3s"], total["ja3s"], agree["ja4"], total["ja4"], agree["ja4_r"], total["ja4_r"], len(hellos))
}

func TestJA3Strings(t *testing.T) {
	var m ClientHello
	if err := m.Unmarshal(buildClientHello(validCH())); err != nil {
		t.Fatal(err)
	}
	// GREASE left out of ciphers, extensions and groups; point formats as sent.
	want := "771,4865-4866-49195,0-10-11-13-16-23-35-42-43-45-51-65281-65037-4660-41,4588-29,0"
	if got := m.JA3String(); got != want {
		t.Errorf("JA3String = %q\nwant %q", got, want)
	}
	if got := m.JA3(); len(got) != 32 || strings.ToLower(got) != got {
		t.Errorf("JA3 = %q", got)
	}
	var empty ClientHello
	if got := empty.JA3String(); got != "0,,,," {
		t.Errorf("empty JA3String = %q", got)
	}
	// The digest of the salesforce/ja3 README example.
	if got := md5Hex("769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"); got != "ada70206e40642a3e4461f35503241d5" {
		t.Errorf("md5 = %s", got)
	}
}
