package classify

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/protocols.md from the registry")

// protocolsDoc is the path of the generated protocol table.
var protocolsDoc = filepath.Join("..", "..", "docs", "protocols.md")

// protocolsMarkdown renders the registry as docs/protocols.md.
func protocolsMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString("# Protocols recognised in clear text\n\n")
	b.WriteString("Generated from the registry in `pkg/classify/registry.go` by\n")
	b.WriteString("`go test ./pkg/classify -run TestProtocolsDoc -update`; do not edit by hand.\n\n")
	b.WriteString("Rows are in the order the classifier tries them: the first recogniser with\n")
	b.WriteString("positive evidence names the flow. Ports are never evidence. TLS, DTLS, QUIC,\n")
	b.WriteString("OpenVPN, WireGuard and the other encrypted protocols are described in the README.\n")
	b.WriteString("Readable text that no row recognises, in a TCP stream or a UDP datagram, is plaintext\n")
	b.WriteString("without an app_protocol.\n\n")
	b.WriteString("| app_protocol | transport | family | specification | evidence | class |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for i := range registry {
		r := &registry[i]
		var tr []string
		if r.stream != nil {
			tr = append(tr, "tcp")
		}
		if r.datagram != nil {
			tr = append(tr, "udp")
		}
		cells := []string{"`" + r.app.String() + "`", strings.Join(tr, ", "), r.family, r.spec, r.evidence, r.verdict}
		for j, c := range cells {
			cells[j] = strings.ReplaceAll(c, "|", `\|`) // a bar inside a cell ends it
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.Bytes()
}

// TestProtocolsDoc fails when docs/protocols.md differs from what the registry
// generates; -update rewrites it.
func TestProtocolsDoc(t *testing.T) {
	want := protocolsMarkdown()
	if *update {
		if err := os.WriteFile(protocolsDoc, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(protocolsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./pkg/classify -run TestProtocolsDoc -update", protocolsDoc)
	}
}

// TestRegistry checks each row: a named app, at most one row per app, the
// family's file present, a spec, evidence and a verdict to document, and at
// least one transport.
func TestRegistry(t *testing.T) {
	seen := map[App]bool{}
	for i := range registry {
		r := &registry[i]
		name := r.app.String()
		if name == "" || seen[r.app] {
			t.Errorf("row %d: app %q empty or repeated", i, name)
		}
		seen[r.app] = true
		if _, err := os.Stat(r.family + ".go"); err != nil {
			t.Errorf("%s: family %q has no file: %v", name, r.family, err)
		}
		if r.spec == "" || r.evidence == "" || r.verdict == "" {
			t.Errorf("%s: spec, evidence or verdict missing", name)
		}
		if r.stream == nil && r.datagram == nil {
			t.Errorf("%s: no recogniser", name)
		}
	}
}
