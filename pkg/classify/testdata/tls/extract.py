#!/usr/bin/env python3
"""Regenerate the <name>.client.hex / <name>.server.hex files of this folder from
packet captures.

    extract.py corpus [PEER_CORPUS_DIR]   streams of the public reference corpus (SOURCES)
    extract.py pcap NAME FILE [STREAM]    one TCP stream of a local capture

Each file holds the first bytes of one direction of one TCP connection, from the
first TLS byte (ClientHello / ServerHello record, or an SSLv2 hello), cut at a
record boundary after about 12 KiB, as hex (64 bytes a line). TCP reassembly is
tshark's (follow,tcp,raw). Needs tshark.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LIMIT = 12 * 1024

# name: (capture relative to the corpus root, tcp.stream)
SOURCES = {
    'chrome-grease': ('ja4/pcap/tls-handshake.pcapng', 0),
    'chrome-hrr': ('ja4/pcap/tls-handshake.pcapng', 38),
    'chrome-non-ascii-alpn': ('ja4/pcap/tls-non-ascii-alpn.pcapng', 0),
    'chrome-curveball': ('ja4/pcap/badcurveball.pcap', 0),
    'firefox-tls13': ('ja4/pcap/tls12.pcap', 0),
    'safari-macos': ('ja4/pcap/macos_tcp_flags.pcap', 0),
    'client-tls12-no-alpn': ('ja4/pcap/latest.pcapng', 3),
    'client-alpn-h2-ipv6': ('ja4/pcap/tls-alpn-h2.pcap', 0),
    'client-tls10-github': ('ja4/pcap/https3-301-get.pcap', 0),
    'openssl-ssl3': ('arkime/tests/pcap/openssl-ssl3.pcap', 0),
    'openssl-tls1': ('arkime/tests/pcap/openssl-tls1.pcap', 0),
    'openssl-tls1_1': ('arkime/tests/pcap/openssl-tls1_1.pcap', 0),
    'draft18-arkime': ('arkime/tests/pcap/tls13.pcap', 0),
    'curl-tls13': ('arkime/tests/pcap/curl-enabled-tls13.pcap', 0),
    'split-client-hello': ('arkime/tests/pcap/tls-split-client-hello.pcap', 0),
    'suricata-ja4-tls12': ('suricata-verify/tests/ja4-tls/input.pcap', 0),
    'suricata-tls10-c2': ('suricata-verify/tests/bug-5713-01/TLSv1-Extracted-MaliciousC2.pcap', 0),
    'sslv2-upgrade': ('suricata-verify/tests/sslv2-tls-upgrade-01/ssl-v2-s1.pcap', 0),
    'sslv2-pure': ('zeek/testing/btest/Traces/tls/ssl-v2.pcap', 0),
    'chrome-kyber': ('zeek/testing/btest/Traces/tls/chrome-1250-tls-x25519-kyber.pcap', 0),
    'chrome-ech': ('zeek/testing/btest/Traces/tls/tls13-ech.pcap', 1),
    'chrome-draft23': ('zeek/testing/btest/Traces/tls/tls13draft23-chrome67.0.3368.0-canary.pcap', 0),
    'zeek-hrr': ('zeek/testing/btest/Traces/tls/hrr.pcap', 0),
    'draft14-nss': ('suricata-verify/tests/tls/tls13-draft14/tls13_draft14.pcap', 0),
}


def follow(cap, stream):
    out = subprocess.run(['tshark', '-r', cap, '-q', '-z', 'follow,tcp,raw,%d' % stream],
                         capture_output=True, text=True, check=True).stdout
    a, b = [], []
    body = out.split('Node 1:', 1)[1].split('\n', 1)[1]
    for line in body.split('\n'):
        if line.startswith('===='):
            break
        if line.startswith('\t'):
            b.append(line.strip())
        elif line.strip():
            a.append(line.strip())
    return bytes.fromhex(''.join(a)), bytes.fromhex(''.join(b))


def tls_start(data, hello_type):
    """Offset of the first hello record (TLS or SSLv2), or -1."""
    if len(data) > 3 and data[0] & 0x80 and data[2] in (1, 4):
        return 0
    for m in re.finditer(rb'\x16\x03[\x00-\x04]..' + bytes([hello_type]), data, re.S):
        return m.start()
    return -1


def cut(data):
    """Whole records from the start of data, stopping after LIMIT bytes."""
    i = 0
    while i < len(data) and i < LIMIT:
        if data[i] & 0x80:          # SSLv2, 2-byte header
            n = 2 + ((data[i] & 0x7f) << 8 | data[i + 1]) if i + 1 < len(data) else 0
        elif data[i] < 0x40 and not 20 <= data[i] <= 24:   # SSLv2, 3-byte header
            n = 3 + ((data[i] & 0x3f) << 8 | data[i + 1]) if i + 1 < len(data) else 0
        else:
            n = 5 + int.from_bytes(data[i + 3:i + 5], 'big') if i + 5 <= len(data) else 0
        if n == 0 or i + n > len(data):
            break
        i += n
    return data[:max(i, 0)]


def write(name, client, server):
    for suffix, data in (('client', client), ('server', server)):
        h = data.hex()
        with open(os.path.join(HERE, '%s.%s.hex' % (name, suffix)), 'w') as f:
            f.write(''.join(h[i:i + 128] + '\n' for i in range(0, len(h), 128)))


def extract(name, cap, stream):
    a, b = follow(cap, stream)
    if tls_start(a, 1) < 0 <= tls_start(b, 1):
        a, b = b, a
    ca, sb = tls_start(a, 1), tls_start(b, 2)
    client = cut(a[ca:]) if ca >= 0 else b''
    server = cut(b[sb:]) if sb >= 0 else b''
    write(name, client, server)
    print('%s: %d client bytes, %d server bytes' % (name, len(client), len(server)))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == 'corpus':
        root = sys.argv[2] if len(sys.argv) > 2 else '/work/shared/peer-corpus'
        for name, (cap, stream) in sorted(SOURCES.items()):
            extract(name, os.path.join(root, cap), stream)
    elif len(sys.argv) >= 4 and sys.argv[1] == 'pcap':
        extract(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        sys.exit(__doc__)


main()
