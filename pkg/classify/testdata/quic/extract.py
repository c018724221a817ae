#!/usr/bin/env python3
"""Regenerate the <name>.hex files of testdata/quic and testdata/dtls from the
public reference corpus (see README.md).

    extract.py [PEER_CORPUS_DIR]                 every file from the corpus (SOURCES)
    extract.py pcap NAME FILE quic|dtls [STREAM]   one UDP flow of a local capture

Each file holds the first datagrams of one UDP flow in capture order, one line
each: "client <hex>" or "server <hex>", where the client is the side that sent the
first datagram. At most 8 datagrams per direction are kept, as tlsaudit's flow
table does, and fewer when the SOURCES entry says so. Needs tshark.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PER_DIRECTION = 8

# name: (directory, capture relative to the corpus root, udp.stream, datagrams kept
# per direction, note)
SOURCES = {
    # QUIC v1
    'chrome-cloudflare-v1': ('quic', 'ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng', 0, 2,
                             'Chrome, QUIC v1, cloudflare-quic.com'),
    'chromium-fragmented-v1': ('quic', 'zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-google-de-fragmented.pcap', 0, 2,
                               'Chromium 115: ClientHello scattered over many CRYPTO frames'),
    'quic-go-multi-initial': ('quic', 'zeek/testing/btest/Traces/quic/quic-multiple-initial-fragmented-crypto.pcap', 0, 8,
                              'ClientHello over several Initial datagrams, 0-RTT in between'),
    'ch-two-packets': ('quic', 'ndpi/tests/cfgs/default/pcap/quic_frags_ch_in_multiple_packets.pcapng', 0, 2,
                       'ClientHello over two Initial packets'),
    'different-dcid': ('quic', 'ndpi/tests/cfgs/default/pcap/quic_frags_different_dcid.pcapng', 0, 2,
                       'second client Initial sent to the server-chosen connection ID'),
    'retry': ('quic', 'suricata-verify/tests/quic-retry/input.pcap', 0, 4,
              'server answers with Retry, client starts again with a new connection ID'),
    'forcing-vn': ('quic', 'ndpi/tests/cfgs/default/pcap/quic-forcing-vn-with-data.pcapng', 0, 3,
                   'client opens with reserved version 0xbabababa, Version Negotiation, then v1'),
    'zero-rtt-first': ('quic', 'ndpi/tests/cfgs/default/pcap/quic_0RTT.pcap', 1, 3,
                       'two 0-RTT packets arrive before the Initial'),
    'doq': ('quic', 'ndpi/tests/cfgs/default/pcap/doq.pcapng', 0, 1,
            'DNS over QUIC, draft 32'),
    # QUIC v2, drafts, vendor versions
    'v2-suricata': ('quic', 'suricata-verify/tests/quic-v2/input.pcap', 0, 2, 'QUIC v2 (RFC 9369)'),
    'v2-echo': ('quic', 'zeek/testing/btest/Traces/quic/quicv2-echo-443.pcap', 0, 2, 'QUIC v2 with SNI'),
    'draft23': ('quic', 'ndpi/tests/cfgs/default/pcap/quic-23.pcap', 0, 2, 'draft 23 (aioquic)'),
    'draft27': ('quic', 'ndpi/tests/cfgs/default/pcap/quic-27.pcap', 0, 2, 'draft 27 (Chrome)'),
    'draft29': ('quic', 'ndpi/tests/cfgs/default/pcap/quic-29.pcap', 0, 4,
                'draft 29: Retry, then HelloRetryRequest, then the ServerHello'),
    'draft34': ('quic', 'ndpi/tests/cfgs/default/pcap/quic-34.pcap', 0, 2, 'draft 34 (v1 salt)'),
    'mvfst-draft27': ('quic', 'ndpi/tests/cfgs/default/pcap/quic-mvfst-27.pcapng', 0, 2, 'Facebook mvfst 0xfaceb002'),
    'mvfst-exp': ('quic', 'ndpi/tests/cfgs/default/pcap/quic-mvfst-exp.pcap', 0, 2, 'Facebook mvfst 0xfaceb00e'),
    'google-t050': ('quic', 'ndpi/tests/cfgs/default/pcap/quic_t50.pcap', 0, 2, 'Google QUIC T050 (TLS)'),
    'google-t051': ('quic', 'ndpi/tests/cfgs/default/pcap/quic_t51.pcap', 0, 2, 'Google QUIC T051 (TLS)'),
    # Google QUIC with QUIC Crypto: not TLS
    'gquic-q043': ('quic', 'arkime/tests/pcap/quic43.pcap', 0, 1, 'Google QUIC Q043, QUIC Crypto'),
    'gquic-q046': ('quic', 'suricata-verify/tests/quic-cyu/input.pcap', 0, 1, 'Google QUIC Q046, QUIC Crypto'),
    # DTLS
    'dtls10-zeek': ('dtls', 'zeek/testing/btest/Traces/tls/dtls1_0.pcap', 0, 4, 'DTLS 1.0 with certificate'),
    'dtls12-zeek': ('dtls', 'zeek/testing/btest/Traces/tls/dtls1_2.pcap', 0, 8,
                    'DTLS 1.2, HelloVerifyRequest, certificate over several records'),
    'dtls12-cert-fragments': ('dtls', 'ndpi/tests/cfgs/default/pcap/dtls_certificate_fragments.pcap', 0, 4,
                              'DTLS 1.0 answer to a 1.2 offer, HelloVerifyRequest, fragmented certificate'),
    'dtls12-cookie-session-id': ('dtls', 'ndpi/tests/cfgs/default/pcap/dtls_session_id_and_coockie_both.pcap', 0, 4,
                                 'ClientHello with both session ID and cookie'),
    'dtls13-hrr': ('dtls', 'ndpi/tests/cfgs/default/pcap/dtls.pcap', 3, 4,
                   'DTLS 1.3 (wolfSSL), HelloRetryRequest with cookie, encrypted records'),
    'dtls13-wolfssl': ('dtls', 'zeek/testing/btest/Traces/tls/dtls13-wolfssl.pcap', 0, 4, 'DTLS 1.3 (wolfSSL)'),
    'dtls10-openssl-0100': ('dtls', 'arkime/tests/pcap/wireshark-dtls0.pcap', 0, 3,
                            "OpenSSL's pre-standard DTLS 1.0 (version 0x0100)"),
    'dtls12-ipv6': ('dtls', 'arkime/tests/pcap/wireshark-dtls12.pcap', 0, 3, 'DTLS 1.2 over IPv6'),
    'dtls-webrtc-stun': ('dtls', 'zeek/testing/btest/Traces/tls/webrtc-stun.pcap', 0, 8,
                         'WebRTC: STUN, then DTLS on the same 5-tuple'),
}


def datagrams(cap, stream):
    out = subprocess.run(['tshark', '-r', cap, '-Y', 'udp.stream==%d' % stream, '-T', 'fields',
                          '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'udp.srcport', '-e', 'udp.payload'],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split('\t')
        if len(f) < 4 or not f[3]:
            continue
        rows.append(((f[0] or f[1]).split(',')[-1], f[2].split(',')[-1], f[3]))
    return rows


def write(name, folder, path, cap, stream, limit, note):
    rows = datagrams(path, stream)
    client = rows[0][:2]
    counts = {'client': 0, 'server': 0}
    lines = ['# %s udp.stream %d' % (cap, stream), '# ' + note]
    for src, port, payload in rows:
        side = 'client' if (src, port) == client else 'server'
        if counts[side] >= min(limit, PER_DIRECTION):
            continue
        counts[side] += 1
        lines.append('%s %s' % (side, payload))
    out = os.path.join(HERE, '..', folder, name + '.hex')
    with open(out, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def main():
    if len(sys.argv) > 1 and sys.argv[1] == 'pcap':
        name, cap, folder = sys.argv[2:5]
        stream = int(sys.argv[5]) if len(sys.argv) > 5 else 0
        write(name, folder, cap, os.path.basename(cap), stream, PER_DIRECTION,
              'recorded on 127.0.0.1, see README.md')
        return
    corpus = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/peer-corpus'
    for name, (folder, cap, stream, limit, note) in sorted(SOURCES.items()):
        write(name, folder, os.path.join(corpus, cap), cap, stream, limit, note)


if __name__ == '__main__':
    main()
