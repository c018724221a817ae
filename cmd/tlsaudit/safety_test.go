package main

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsaudit/tlsaudit/internal/conformance"
)

// tlsFlowKey names a flow by transport and its two ends, in either order.
func tlsFlowKey(transport, a, b string) string {
	if a > b {
		a, b = b, a
	}
	return transport + " " + a + " " + b
}

// tsharkTLSFlows reads a corpus capture's tshark reference (<pcap>.tshark.tsv) and
// returns the flows in which a server answered with a TLS or DTLS ServerHello
// (handshake type 2): flows that speak TLS whatever came before. Addresses of
// tunnelled packets are the innermost ones.
func tsharkTLSFlows(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	col := map[string]int{}
	flows := map[string]bool{}
	for n := 0; sc.Scan(); n++ {
		row := strings.Split(sc.Text(), "\t")
		if n == 0 {
			for i, name := range row {
				col[name] = i
			}
			continue
		}
		get := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(row) {
				return ""
			}
			v := row[i]
			return v[strings.LastIndexByte(v, ',')+1:] // the innermost of a tunnel's values
		}
		if !strings.Contains(","+get("tls.handshake.type")+","+get("dtls.handshake.type")+",", ",2,") {
			continue
		}
		src, dst := get("ip.src"), get("ip.dst")
		if src == "" {
			src, dst = get("ipv6.src"), get("ipv6.dst")
		}
		transport, sp, dp := "tcp", get("tcp.srcport"), get("tcp.dstport")
		if sp == "" {
			transport, sp, dp = "udp", get("udp.srcport"), get("udp.dstport")
		}
		a, aerr := addrPort(src, sp)
		b, berr := addrPort(dst, dp)
		if aerr != nil || berr != nil {
			continue
		}
		flows[tlsFlowKey(transport, a, b)] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return flows
}

// addrPort spells an address and port as the report does ("10.0.0.1:443",
// "[fd00::1]:443").
func addrPort(addr, port string) (string, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return "", err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", err
	}
	return netip.AddrPortFrom(a, uint16(p)).String(), nil
}

// TestNoTLSFlowIsPlaintext is the safety net of the clear-text recognisers: no flow
// that carries a TLS handshake is ever reported plaintext, in any capture of the
// repository (truth: expected.tsv, from tshark at recording time) or of the
// reference corpus (truth: each capture's tshark reference, a ServerHello in the
// flow). A plaintext verdict there would be a false alarm on an encrypted flow.
func TestNoTLSFlowIsPlaintext(t *testing.T) {
	t.Run("repository", func(t *testing.T) {
		tls := map[string]map[string]bool{}
		for _, e := range readExpected(t) {
			if e.class == "tls" {
				if tls[e.file] == nil {
					tls[e.file] = map[string]bool{}
				}
				tls[e.file][tlsFlowKey(e.transport, e.client, e.server)] = true
			}
		}
		checkNoPlaintextTLS(t, pcapDir, tls, 20)
	})
	t.Run("peer-corpus", func(t *testing.T) {
		dir, err := conformance.CorpusDir()
		if err != nil {
			t.Skip(err)
		}
		tls := map[string]map[string]bool{}
		err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".tshark.tsv") || strings.HasSuffix(path, ".decode-as.tsv") {
				return err
			}
			rel, err := filepath.Rel(dir, strings.TrimSuffix(path, ".tshark.tsv"))
			if err != nil {
				return err
			}
			tls[rel] = tsharkTLSFlows(t, path)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkNoPlaintextTLS(t, dir, tls, 300)
	})
}

// checkNoPlaintextTLS analyzes every capture named in tls (paths relative to dir)
// and fails on a listed TLS flow reported plaintext. At least minFlows of the
// listed flows must be found in the reports, so that a change in how flows are
// named cannot make the test pass by matching nothing.
func checkNoPlaintextTLS(t *testing.T, dir string, tls map[string]map[string]bool, minFlows int) {
	t.Helper()
	matched, listed := 0, 0
	for file, flows := range tls {
		listed += len(flows)
		if len(flows) == 0 {
			continue
		}
		a, code, stderr := analyzeJSON(t, filepath.Join(dir, file))
		if code == exitError && len(a.Flows) == 0 {
			t.Errorf("%s: exit %d: %s", file, code, stderr)
			continue
		}
		for _, f := range a.Flows {
			if !flows[tlsFlowKey(f.Transport, f.Client, f.Server)] {
				continue
			}
			matched++
			if f.Class == "plaintext" {
				t.Errorf("%s: TLS flow %s %s -> %s reported plaintext (app_protocol %q)", file, f.Transport, f.Client, f.Server, f.AppProtocol)
			}
		}
	}
	t.Logf("%d captures, %d TLS flows listed, %d found in the reports", len(tls), listed, matched)
	if matched < minFlows {
		t.Errorf("only %d TLS flows matched, want at least %d", matched, minFlows)
	}
}
