#!/usr/bin/env python3
"""Extract the first bytes of each direction of one TCP stream of a capture.

Usage: extract.py CAPTURE STREAM MAXBYTES SOURCE-NOTE [udp] > NAME.hex

It runs `tshark -r CAPTURE -q -z follow,tcp,raw,STREAM` (tshark reassembles the
stream and drops retransmissions), keeps the first MAXBYTES bytes that node 0
(the side that sent the SYN) and node 1 sent, and prints them in the .hex
format the tests read: '#' comment lines, then "client <hex>" and
"server <hex>".

With "udp" it keeps the first datagram of each direction of UDP stream
STREAM instead (`tshark -T fields -e udp.payload`), client being the
sender of the first datagram. A STREAM holding "==" is a display filter
instead of a stream number (tshark starts a new udp.stream for the first
SNMP response of a 5-tuple: "udp.port==40000" keeps the pair together).
"""
import subprocess
import sys


def udp(cap, stream, maxb, note):
    out = subprocess.run(
        ["tshark", "-r", cap, "-Y", stream if "==" in stream else "udp.stream==" + stream, "-T", "fields",
         "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport",
         "-e", "udp.payload"],
        check=True, capture_output=True, text=True).stdout
    first = {}
    for line in out.splitlines():
        src, sport, dst, dport, payload = line.split("\t")
        key = src + ":" + sport
        if key not in first:
            first[key] = (dst + ":" + dport, bytes.fromhex(payload))
    keys = list(first)
    print("# " + note)
    print("# tshark -r %s -Y %s -T fields -e udp.payload (first datagram each way)" % (
        cap, stream if "==" in stream else "udp.stream==" + stream))
    print("# client %s, server %s" % (keys[0], first[keys[0]][0]))
    print("client " + first[keys[0]][1][:maxb].hex())
    print("server " + (first[keys[1]][1][:maxb].hex() if len(keys) > 1 else ""))


def main():
    cap, stream, maxb, note = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if len(sys.argv) > 5 and sys.argv[5] == "udp":
        udp(cap, stream, maxb, note)
        return
    out = subprocess.run(
        ["tshark", "-r", cap, "-q", "-z", "follow,tcp,raw," + stream],
        check=True, capture_output=True, text=True).stdout
    data = {0: bytearray(), 1: bytearray()}
    nodes = {}
    started = False
    for line in out.splitlines():
        if line.startswith("Node 0:") or line.startswith("Node 1:"):
            nodes[int(line[5])] = line.split(":", 1)[1].strip()
            started = True
            continue
        if not started or line.startswith("=") or not line.strip():
            continue
        node = 1 if line.startswith("\t") else 0
        data[node] += bytes.fromhex(line.strip())
    print("# " + note)
    print("# tshark -r %s -q -z follow,tcp,raw,%s (first %d bytes each way)" % (cap, stream, maxb))
    print("# client %s, server %s" % (nodes.get(0), nodes.get(1)))
    print("client " + bytes(data[0][:maxb]).hex())
    print("server " + bytes(data[1][:maxb]).hex())


if __name__ == "__main__":
    main()
