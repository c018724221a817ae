#!/usr/bin/env python3
"""Derive expected.tsv and README.md for testdata/pcaps from the captures.

Called by scripts/record-testdata.sh after recording. For every capture in
the manifest it reads the packets back with tshark and derives, per TCP/UDP
flow, who the client and server are, whether the bytes are TLS, SSH or
plaintext, the negotiated TLS version (ServerHello), the SNI (ClientHello)
and the ALPN the server selected (ServerHello, so only visible up to TLS 1.2).
OpenVPN flows are read through tshark's OpenVPN dissector, which hands the
control channel to its TLS dissector: their class and version come from the
TLS handshake found there.
The manifest says what each capture was meant to contain ("expect" entries
keyed by server port, plus file-level checks); anything that does not match
what tshark sees is an error, so a bad recording is never written out.

Only the Python standard library and tshark/capinfos are used.
"""

import argparse
import collections
import os
import subprocess
import sys
import time

FIELDS = [
    "frame.number",
    "frame.len",
    "frame.protocols",
    "tcp.stream",
    "udp.stream",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "tcp.flags.syn",
    "tcp.flags.ack",
    "tcp.payload",
    "udp.length",
    "tls.handshake.type",
    "tls.handshake.version",
    "tls.handshake.extensions.supported_version",
    "tls.handshake.extensions_server_name",
    "tls.handshake.extensions_alpn_str",
    "tls.handshake.random",
    "tcp.segment.count",
    "vlan.id",
    "openvpn.opcode",
    "snmp.encryptedPDU",
    "ntp.ext.type",
]

# app_protocol -> tshark dissector that must show up in the flow
APP_DISSECTOR = {
    "http": "http",
    "postgresql": "pgsql",
    "redis": "resp",
    "dns": "dns",
    "ssh": "ssh",
    "smtp": "smtp",
    "imap": "imap",
    "pop3": "pop",
    "ftp": "ftp",
    "ldap": "ldap",
    "mysql": "mysql",
    "openvpn": "openvpn",
    "syslog": "syslog",
    "snmp": "snmp",
    "ntp": "ntp",
    "mqtt": "mqtt",
    "memcached": "memcache",
    "tftp": "tftp",
    "radius": "radius",
    "sip": "sip",
    "netflow": "cflow",
    "amqp": "amqp",
    "kerberos": "kerberos",
    "netbios-ns": "nbns",
    "gearman": "gearman",
    # no tshark dissector: the truth comes from construction alone
    "nats": None,
    "zookeeper": None,
    "stomp": None,
    "statsd": None,
}

# STARTTLS protocols whose tshark dissector (4.0) does not hand the connection
# over to TLS after the upgrade (FTP's AUTH TLS and 234): their flows are
# dissected as TLS, whose dissector skips the clear-text segments before the
# ClientHello, and the application protocol is checked in a second pass that
# dissects them as the protocol itself.
UPGRADE_UNFOLLOWED = {"ftp"}

# tunnels whose inner handshake tshark dissects (the "tunnel=" expect attribute)
TUNNELS = {"openvpn"}

# OpenVPN opcodes (openvpn src/openvpn/ssl_pkt.h)
OVPN_HARD_RESET_CLIENT_V2 = 0x07
OVPN_HARD_RESET_SERVER_V2 = 0x08
OVPN_DATA = {0x06, 0x09}  # P_DATA_V1, P_DATA_V2

TLS_VERSIONS = {0x0300: "SSL3", 0x0301: "TLS1.0", 0x0302: "TLS1.1", 0x0303: "TLS1.2", 0x0304: "TLS1.3"}

# RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest
HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"

LINKTYPES = {
    "EN10MB": "Ethernet",
    "LINUX_SLL": "Linux cooked-mode capture v1",
    "LINUX_SLL2": "Linux cooked-mode capture v2",
}

TSV_HEADER = ["file", "transport", "client", "server", "class", "tls_version",
              "app_protocol", "starttls", "sni", "alpn"]


class Fail(Exception):
    pass


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise Fail("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    return p.stdout


class Expect:
    """One "proto/port[@addr]:class=..,ver=..,app=..,starttls=.." entry.

    OpenVPN flows add "tunnel=openvpn" (implied by app=openvpn) so that tshark
    dissects them as OpenVPN, and say how the control channel is protected,
    since tshark cannot tell by itself: "hmac=N" for --tls-auth with an N-byte
    HMAC, "tlscrypt=true" for --tls-crypt, neither for no protection.
    """

    def __init__(self, text):
        key, _, attrs = text.partition(":")
        proto, _, rest = key.partition("/")
        port, _, addr = rest.partition("@")
        self.proto, self.port, self.addr = proto, int(port), addr
        kv = dict(a.split("=", 1) for a in attrs.split(",") if a)
        self.cls = kv.get("class", "")
        self.ver = kv.get("ver", "")
        self.app = kv.get("app", "")
        self.starttls = kv.get("starttls", "false")
        self.tunnel = kv.get("tunnel", "openvpn" if self.app == "openvpn" else "")
        self.hmac = int(kv.get("hmac", "0"))
        self.tlscrypt = kv.get("tlscrypt", "false") == "true"
        if self.app and self.app not in APP_DISSECTOR:
            raise Fail("unknown app %r in %r" % (self.app, text))
        if self.tunnel and self.tunnel not in TUNNELS:
            raise Fail("unknown tunnel %r in %r" % (self.tunnel, text))
        if (self.hmac or self.tlscrypt) and self.tunnel != "openvpn":
            raise Fail("hmac/tlscrypt without tunnel=openvpn in %r" % text)
        if self.hmac and not 20 <= self.hmac <= 64:
            # tshark's openvpn.tls_auth_hmac_size accepts 20 (SHA-1) to 64 (SHA-512)
            raise Fail("hmac=%d in %r: tshark only dissects 20 to 64" % (self.hmac, text))
        if self.hmac and self.tlscrypt:
            raise Fail("both hmac and tlscrypt in %r" % text)

    def matches(self, proto, addr, port):
        return self.proto == proto and self.port == port and (not self.addr or self.addr == addr)

    def decode_as(self):
        """tshark -d arguments so the flow is dissected as what it should be."""
        if self.tunnel:
            return "%s.port==%d,%s" % (self.proto, self.port, self.tunnel)
        if self.cls == "tls" and (self.starttls != "true" or APP_DISSECTOR.get(self.app, "") is None
                                  or self.app in UPGRADE_UNFOLLOWED):
            return "%s.port==%d,tls" % (self.proto, self.port)
        return self.app_decode_as()

    def app_decode_as(self):
        """tshark -d argument that dissects the flow as its application protocol."""
        if self.app and APP_DISSECTOR[self.app]:
            return "%s.port==%d,%s" % (self.proto, self.port, APP_DISSECTOR[self.app])
        return None

    def unfollowed(self):
        """Whether the flow is a STARTTLS upgrade that tshark's dissector does not follow."""
        return self.cls == "tls" and self.starttls == "true" and self.app in UPGRADE_UNFOLLOWED

    def prefs(self):
        """tshark -o preferences the flow needs (they apply to the whole capture)."""
        if self.tunnel != "openvpn":
            return []
        if self.tlscrypt:
            return ["openvpn.tls_crypt:TRUE"]
        # never let tshark guess whether there is an HMAC, nor its length
        p = ["openvpn.tls_auth_detection_override:TRUE", "openvpn.tls_auth:%s" % ("TRUE" if self.hmac else "FALSE")]
        if self.hmac:
            p.append("openvpn.tls_auth_hmac_size:%d" % self.hmac)
        return p


def tshark_args(expects):
    """-d and -o arguments for one capture; Fail when its entries need conflicting preferences."""
    args = []
    for d in sorted({d for d in (e.decode_as() for e in expects) if d}):
        args += ["-d", d]
    prefs = {}
    for e in expects:
        for p in e.prefs():
            k, _, val = p.partition(":")
            if prefs.setdefault(k, val) != val:
                raise Fail("conflicting tshark preference %s: %s and %s" % (k, prefs[k], val))
    for k in sorted(prefs):
        args += ["-o", "%s:%s" % (k, prefs[k])]
    return args


def first(v):
    return v.split("|")[0] if v else ""


def as_bool(v):
    return first(v) in ("1", "True", "true")


def endpoint(addr, port):
    return "[%s]:%s" % (addr, port) if ":" in addr else "%s:%s" % (addr, port)


class Flow:
    def __init__(self, proto, sid):
        self.proto, self.sid = proto, sid
        self.pkts = []

    def add(self, p):
        self.pkts.append(p)


def app_protocols(path, expects):
    """Per tcp stream, the protocols tshark sees when the flows whose STARTTLS
    upgrade it does not follow are dissected as their application protocol."""
    args = []
    for d in sorted({e.app_decode_as() for e in expects if e.unfollowed()}):
        args += ["-d", d]
    if not args:
        return {}
    out = collections.defaultdict(set)
    cmd = ["tshark", "-r", path, "-n", "-T", "fields", "-e", "tcp.stream", "-e", "frame.protocols"] + args
    for line in run(cmd).splitlines():
        sid, _, protos = line.partition("\t")
        if sid:
            out[sid].update(protos.split(":"))
    return out


def read_packets(path, targs, keylog=None):
    cmd = ["tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
           "-E", "aggregator=|", "-E", "quote=n"] + targs
    if keylog:
        cmd += ["-o", "tls.keylog_file:" + keylog]
    for f in FIELDS:
        cmd += ["-e", f]
    pkts = []
    for line in run(cmd).splitlines():
        vals = line.split("\t")
        vals += [""] * (len(FIELDS) - len(vals))
        pkts.append(dict(zip(FIELDS, vals)))
    return pkts


def analyse(path, targs):
    flows = collections.OrderedDict()
    pkts = read_packets(path, targs)
    for p in pkts:
        if p["tcp.stream"] and p["tcp.srcport"]:
            key = ("tcp", first(p["tcp.stream"]))
        elif p["udp.stream"] and p["udp.srcport"]:
            # by address pair, not udp.stream: tshark starts a new udp.stream for
            # the first SNMP response of a 5-tuple
            ends = sorted([src_dst(p)[0] + "/" + first(p["udp.srcport"]), src_dst(p)[1] + "/" + first(p["udp.dstport"])])
            key = ("udp", " ".join(ends))
        else:
            continue  # ARP, ICMPv6 ND, ...
        if key not in flows:
            flows[key] = Flow(*key)
        flows[key].add(p)
    return pkts, list(flows.values())


def src_dst(p):
    src = first(p["ip.src"]) or first(p["ipv6.src"])
    dst = first(p["ip.dst"]) or first(p["ipv6.dst"])
    return src, dst


def ports(p, proto):
    return first(p[proto + ".srcport"]), first(p[proto + ".dstport"])


def is_client_hello(payload):
    return (len(payload) >= 6 and payload[0] == 0x16 and payload[1] == 0x03 and payload[2] <= 0x04
            and payload[5] == 0x01)


def derive(flow):
    """Verdict for one flow, from the packets."""
    proto = flow.proto
    pkts = flow.pkts
    opener = pkts[0]
    if proto == "tcp":
        syns = [p for p in pkts if as_bool(p["tcp.flags.syn"]) and not as_bool(p["tcp.flags.ack"])]
        if not syns:
            raise Fail("tcp stream %s has no SYN, cannot tell the client" % flow.sid)
        opener = syns[0]
    csrc, cdst = src_dst(opener)
    csport, cdport = ports(opener, proto)
    client, server = (csrc, csport), (cdst, cdport)

    # classification from the raw bytes, independent of tshark's dissectors
    data = []  # (direction, bytes)
    for p in pkts:
        s, _ = src_dst(p)
        sp, _ = ports(p, proto)
        d = "c2s" if (s, sp) == client else "s2c"
        if proto == "tcp":
            hexs = first(p["tcp.payload"]).replace(":", "")
            if hexs:
                data.append((d, bytes.fromhex(hexs)))
        else:
            n = int(first(p["udp.length"]) or 8) - 8
            if n > 0:
                data.append((d, b"?" * n))
    protocols = set()
    for p in pkts:
        protocols.update(p["frame.protocols"].split(":"))
    ch_at = next((i for i, (d, b) in enumerate(data) if d == "c2s" and is_client_hello(b)), None)
    if "openvpn" in protocols:
        # The bytes are OpenVPN packets; what they carry is read from tshark's
        # dissection of the control channel below: a ClientHello there makes
        # the flow tls, no TLS handshake message at all (--tls-crypt encrypts
        # the control channel) leaves it unknown.
        cls, starttls = "openvpn", False
    elif ch_at is not None:
        cls, starttls = "tls", ch_at > 0
    elif any(b.startswith(b"SSH-") for _, b in data):
        cls, starttls = "ssh", False
    elif data:
        cls, starttls = "plaintext", False
    else:
        cls, starttls = "unknown", False

    v = dict(proto=proto, client=client, server=server, cls=cls, starttls=starttls, version="",
             sni="", alpn="", hellos=[], server_hellos=[], client_cert=False, protocols=protocols,
             ovpn_opcodes=dict(c2s=[], s2c=[]))
    for p in pkts:
        types = p["tls.handshake.type"].split("|") if p["tls.handshake.type"] else []
        s, _ = src_dst(p)
        sp, _ = ports(p, proto)
        from_client = (s, sp) == client
        if "1" in types and from_client:
            v["hellos"].append(int(first(p["tcp.segment.count"]) or 1))
            if not v["sni"]:
                v["sni"] = first(p["tls.handshake.extensions_server_name"])
        if "2" in types and not from_client:
            sv = first(p["tls.handshake.extensions.supported_version"])
            hv = first(p["tls.handshake.version"])
            ver = int(sv or hv or "0", 16)
            rnd = first(p["tls.handshake.random"]).replace(":", "")
            v["server_hellos"].append(dict(version=ver, hrr=(rnd == HRR_RANDOM),
                                           alpn=first(p["tls.handshake.extensions_alpn_str"])))
        if "11" in types and from_client:
            v["client_cert"] = True
        if p["openvpn.opcode"]:
            v["ovpn_opcodes"]["c2s" if from_client else "s2c"] += [
                int(o, 16) for o in p["openvpn.opcode"].split("|")]
    if cls == "openvpn":
        v["cls"] = cls = "tls" if v["hellos"] else "unknown"
    if cls == "plaintext" and any(p["snmp.encryptedPDU"] for p in pkts):
        # SNMPv3 authPriv: the scoped PDU is ciphertext (RFC 3414 §8)
        v["cls"] = cls = "encrypted"
    if cls == "plaintext" and any(int(t, 0) == 0x0404 for p in pkts for t in p["ntp.ext.type"].split("|") if t):
        # NTS Authenticator and Encrypted Extension Fields (RFC 8915 §5.6)
        v["cls"] = cls = "encrypted"
    if cls == "plaintext" and "kerberos" in protocols:
        # tickets, authenticators and keys are encrypted; only the envelope is clear
        v["cls"] = cls = "encrypted"
    if cls == "tls":
        if not v["hellos"]:
            raise Fail("stream %s: TLS ClientHello in the bytes but tshark did not dissect it" % flow.sid)
        if v["server_hellos"]:
            last = v["server_hellos"][-1]
            v["version"] = TLS_VERSIONS.get(last["version"], "0x%04x" % last["version"])
            v["alpn"] = last["alpn"]
    return v


def decrypted_alpn(path, targs, keylog):
    """ALPN from EncryptedExtensions (TLS 1.3), per tcp stream, using the key log."""
    if not keylog or not os.path.exists(keylog):
        return {}
    cmd = ["tshark", "-r", path, "-n", "-o", "tls.keylog_file:" + keylog, "-Y", "tls.handshake.type == 8",
           "-T", "fields", "-E", "occurrence=f", "-e", "tcp.stream", "-e", "tls.handshake.extensions_alpn_str"]
    cmd += targs
    out = {}
    for line in run(cmd).splitlines():
        sid, _, alpn = line.partition("\t")
        out[sid] = alpn
    return out


def decrypted_client_auth(path, targs, keylog, server_ports):
    """Per tcp stream, whether the client sent a certificate and whether the server
    asked for one, from the handshake messages themselves: in clear up to TLS 1.2,
    decrypted with the key log for TLS 1.3. The answers tlsaudit infers from record
    sizes are checked against these."""
    if not keylog or not os.path.exists(keylog):
        raise Fail("client_auth needs the key log %r" % keylog)
    cmd = ["tshark", "-r", path, "-n", "-o", "tls.keylog_file:" + keylog, "-Y", "tls.handshake.type",
           "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-e", "tcp.stream", "-e", "tcp.dstport",
           "-e", "tls.handshake.type", "-e", "tls.handshake.certificates_length"]
    cmd += targs
    out = {}
    for line in run(cmd).splitlines():
        sid, dport, types, lens = (line.split("\t") + ["", "", "", ""])[:4]
        types = [t for t in types.split("|") if t]
        cert, req = out.get(sid, (False, False))
        to_server = dport in server_ports
        if to_server and "11" in types:
            # certificates_length repeats for every Certificate message in the
            # packet; any non-empty one from the client is a certificate.
            cert = cert or any(int(n) > 0 for n in lens.split("|") if n)
        if not to_server and "13" in types:
            req = True
        out[sid] = (cert, req)
    return out


def capinfo(path):
    out = run(["capinfos", "-t", "-E", path])
    info = {}
    for line in out.splitlines():
        k, _, val = line.partition(":")
        info[k.strip()] = val.strip()
    return info


def check_capture(row, pkts, verdicts, info):
    errs = []
    checks = row["checks"].split()
    if len(verdicts) != int(row["flows"]):
        errs.append("expected %s flows, found %d" % (row["flows"], len(verdicts)))
    for c in checks:
        name, _, arg = c.partition("=")
        hellos = [h for v in verdicts for h in v["hellos"]]
        if name == "clienthello_segments":
            if not hellos or any(h != int(arg) for h in hellos):
                errs.append("ClientHello segment counts %s, want all %s" % (hellos, arg))
        elif name == "clienthello_count":
            if len(hellos) != int(arg):
                errs.append("%d ClientHellos, want %s" % (len(hellos), arg))
        elif name == "hrr":
            if not any(len(v["server_hellos"]) == 2 and v["server_hellos"][0]["hrr"]
                       and not v["server_hellos"][1]["hrr"] for v in verdicts):
                errs.append("no HelloRetryRequest followed by a ServerHello")
        elif name == "oversize":
            if max(int(p["frame.len"]) for p in pkts) <= 1518:
                errs.append("no frame larger than the MTU (offloads did not apply?)")
        elif name == "vlan":
            ids = {p["vlan.id"] for p in pkts if p["tcp.stream"] or p["udp.stream"]}
            if ids != {arg}:
                errs.append("VLAN ids %s, want %s" % (sorted(ids), arg))
        elif name == "linktype":
            if info.get("File encapsulation") != LINKTYPES[arg]:
                errs.append("link type %r, want %s" % (info.get("File encapsulation"), arg))
        elif name == "client_cert":
            if not any(v["client_cert"] for v in verdicts):
                errs.append("no client Certificate message")
        elif name == "ipv6":
            if not all(":" in v["client"][0] for v in verdicts):
                errs.append("not all flows are IPv6")
        elif name == "tunnel_data":
            ops = [v["ovpn_opcodes"] for v in verdicts]
            if not ops or not all(OVPN_DATA & set(o["c2s"]) and OVPN_DATA & set(o["s2c"]) for o in ops):
                errs.append("no OpenVPN data packets in both directions (tunnel not up?)")
        elif name == "client_auth":
            # PORT:CERT:REQ,...: what each server port's flow was set up to do
            want = {}
            for item in arg.split(","):
                port, cert, req = item.split(":")
                want[port] = (cert == "yes", req == "yes")
            for v in verdicts:
                port = str(v["server"][1])
                got = v.get("client_auth")
                if port not in want:
                    errs.append("flow to port %s has no client_auth expectation" % port)
                elif got != want[port]:
                    errs.append("port %s: decrypted handshake shows (cert, requested) %s, set up for %s" % (
                        port, got, want[port]))
        elif name == "pcapng":
            if "pcapng" not in info.get("File type", ""):
                errs.append("file type %r is not pcapng" % info.get("File type"))
        else:
            errs.append("unknown check %r" % c)
    if "linktype" not in {c.partition("=")[0] for c in checks}:
        if info.get("File encapsulation") != LINKTYPES["EN10MB"]:
            errs.append("link type %r, want Ethernet" % info.get("File encapsulation"))
    return errs


def process(row, pcaps):
    path = os.path.join(pcaps, row["file"])
    expects = [Expect(e) for e in row["expect"].split()]
    targs = tshark_args(expects)
    pkts, flows = analyse(path, targs)
    info = capinfo(path)
    apps = app_protocols(path, expects)
    keyalpn = decrypted_alpn(path, targs, row["keylog"])
    auth = {}
    if any(c.startswith("client_auth=") for c in row["checks"].split()):
        auth = decrypted_client_auth(path, targs, row["keylog"], {str(e.port) for e in expects})
    verdicts, errs, out = [], [], []
    for f in flows:
        v = derive(f)
        verdicts.append(v)
        srv_addr, srv_port = v["server"][0], int(v["server"][1])
        exp = [e for e in expects if e.matches(f.proto, srv_addr, srv_port)]
        if len(exp) != 1:
            errs.append("flow %s %s -> %s: %d matching expectations" % (
                f.proto, endpoint(*v["client"]), endpoint(*v["server"]), len(exp)))
            continue
        e = exp[0]
        if e.unfollowed():
            v["protocols"] |= apps.get(f.sid, set())
        what = "%s flow %s -> %s" % (f.proto, endpoint(*v["client"]), endpoint(*v["server"]))
        if v["cls"] != e.cls:
            errs.append("%s: class %s, want %s" % (what, v["cls"], e.cls))
        if e.ver and v["version"] != e.ver:
            errs.append("%s: TLS version %r, want %s" % (what, v["version"], e.ver))
        if str(v["starttls"]).lower() != e.starttls:
            errs.append("%s: starttls %s, want %s" % (what, v["starttls"], e.starttls))
        if e.app and APP_DISSECTOR[e.app] and APP_DISSECTOR[e.app] not in v["protocols"]:
            errs.append("%s: tshark does not see %s (%s) in it: %s" % (
                what, e.app, APP_DISSECTOR[e.app], sorted(v["protocols"])))
        if e.tunnel == "openvpn":
            ops = v["ovpn_opcodes"]
            if ops["c2s"][:1] != [OVPN_HARD_RESET_CLIENT_V2] or ops["s2c"][:1] != [OVPN_HARD_RESET_SERVER_V2]:
                errs.append("%s: does not open with the OpenVPN hard resets (opcodes %s / %s)" % (
                    what, ops["c2s"][:3], ops["s2c"][:3]))
        elif "openvpn" in v["protocols"]:
            errs.append("%s: tshark dissects OpenVPN in it but no tunnel=openvpn is expected" % what)
        v["app"] = e.app
        v["tunnel"] = e.tunnel
        v["decrypted_alpn"] = keyalpn.get(f.sid) if f.proto == "tcp" else None
        if auth:
            v["client_auth"] = auth.get(f.sid, (False, False))
        out.append([row["file"], f.proto, endpoint(*v["client"]), endpoint(*v["server"]), v["cls"],
                    v["version"], e.app, "true" if v["starttls"] else "false", v["sni"], v["alpn"]])
    errs += check_capture(row, pkts, verdicts, info)
    if errs:
        raise Fail("%s:\n  %s" % (row["file"], "\n  ".join(errs)))
    return out, verdicts, info, os.path.getsize(path), len(pkts)


def md_escape(s):
    return s.replace("|", "\\|")


def flow_summary(v):
    srv = endpoint(*v["server"])
    parts = ["%s %s → %s:" % (v["proto"].upper(), v["client"][0] if ":" not in v["client"][0]
                                else "[%s]" % v["client"][0], srv), "**%s**" % v["cls"]]
    if v["version"]:
        parts.append(v["version"])
    if v["app"]:
        parts.append(v["app"])
    elif v.get("tunnel"):
        parts.append("(%s, control channel encrypted)" % v["tunnel"])
    if v["starttls"]:
        parts.append("STARTTLS")
    if v["sni"]:
        parts.append("SNI `%s`" % v["sni"])
    if v["alpn"]:
        parts.append("ALPN `%s`" % v["alpn"])
    elif v.get("decrypted_alpn"):
        parts.append("(ALPN `%s` encrypted)" % v["decrypted_alpn"])
    if len(v["server_hellos"]) > 1 and v["server_hellos"][0]["hrr"]:
        parts.append("HRR")
    return " ".join(parts)


README_HEAD = """\
# Test captures

Small, real packet captures for tlsaudit's tests. Every file was recorded by
`scripts/record-testdata.sh` (run as root; `make testdata` calls it) from real
client and server programs talking to each other inside Linux network
namespaces that the script creates and removes again. No traffic left those
namespaces; the addresses below exist only inside them. The certificates, SSH
keys and passwords in the captures are throwaway values generated for one
recording.

This file and `expected.tsv` are written by the script too
(`scripts/testdata/expected.py`), from what tshark sees in the recorded files,
so they always match the captures (client ports change with every recording).

## How they were recorded

- Topology: namespace `ta-sw` holds a Linux bridge `br0`; every other `ta-*`
  namespace is one host with `eth0` (MAC `02:77:00:00:00:<last octet>`, MTU
  1500) joined to the bridge by a veth pair. Unless a row says otherwise the
  capture is `tcpdump -i br0 -s 0 -U --immediate-mode -w FILE 'host A and host B'`
  inside `ta-sw`, so both directions of each flow are seen once, and ARP between
  the two hosts may appear as well.
- Offloads: "off" means `ethtool -K <veth> tx off tso off gso off gro off` on
  both ends of every veth, so the capture holds wire-sized segments (at most
  1514-byte Ethernet frames) with correct checksums. "on" is the veth default
  (TX checksum, TSO and GSO on, GRO off): segments larger than the MTU, and TCP
  checksums left unfilled.
- Servers use a throwaway CA; the server certificate (RSA 2048, CN
  api.internal) lists every test name and address; the mutual-TLS client
  certificate is CN batch.internal. The OpenVPN server and client use the
  same two certificates (and, for --tls-auth/--tls-crypt, a throwaway static
  key from `openvpn --genkey secret`).
- OpenVPN: `openvpn --server 10.78.0.0 255.255.255.0` in `ta-server`,
  `openvpn --client` in `ta-client`, each with a tun device in its own
  namespace; br0 sees only the outer UDP/TCP packets between the two hosts.
- The last recording took about {seconds} s on a 2-core machine (Debian
  {debian}, kernel {kernel}), plus about {check_seconds} s to read every
  capture back with tshark; installing missing packages comes on top.

| Host (namespace) | Addresses |
| --- | --- |
{hosts}

Software: {software}.

Packages the script installs when missing (apt-get): iproute2, ethtool,
tcpdump, tshark, wireshark-common, openssl, nginx-light, postgresql,
postgresql-client, redis-server, redis-tools, openssh-server, openssh-client,
curl, bind9-dnsutils, dnsmasq-base, tcpreplay, openvpn, iputils-ping,
python3-minimal; for the STARTTLS captures dovecot-core, dovecot-imapd,
dovecot-pop3d, vsftpd, slapd, ldap-utils, mariadb-server, mariadb-client. Go builds
`test/tlspeer`.

## Captures

| File | Format, link type | Size | Produced by | Offloads | Flows (client → server: verdict) | What it shows |
| --- | --- | --- | --- | --- | --- | --- |
"""

README_TAIL = """
## expected.tsv

One row per TCP/UDP flow of every capture (ARP and IPv6 neighbour discovery
are not flows), in capture order, tab-separated, with this header:

`file  transport  client  server  class  tls_version  app_protocol  starttls  sni  alpn`

- `file`: capture file name in this directory.
- `transport`: `tcp` or `udp`.
- `client`, `server`: `ip:port`, IPv6 as `[addr]:port`. The client is the
  sender of the first SYN (TCP) or of the first datagram (UDP).
- `class`: `tls` when the client sent a TLS ClientHello (directly or after a
  STARTTLS exchange, or inside OpenVPN's control channel), `ssh` for an SSH
  banner, `plaintext` for any other payload, `unknown` when the flow carried
  no payload, or is OpenVPN whose control channel is encrypted (--tls-crypt),
  so that no TLS handshake is visible.
- `tls_version`: from the (last) ServerHello: its supported_versions
  extension, else its version field (`SSL3`, `TLS1.0` … `TLS1.3`); empty for
  non-TLS flows.
- `app_protocol`: the application protocol readable in clear on the wire:
  for plaintext flows the protocol itself (`http`, `postgresql`, `redis`,
  `dns`), for STARTTLS flows the protocol that upgraded (`postgresql`,
  `smtp`, `imap`, `pop3`, `ftp`, `ldap`, `mysql`), `ssh` for SSH, `openvpn` for TLS carried in OpenVPN's control
  channel, and empty for TLS from the first byte (only ALPN or the port would
  hint at what is inside) and for OpenVPN with --tls-crypt.
- `starttls`: `true` when plaintext of the application protocol came before
  the ClientHello in the same connection.
- `sni`: the server_name the client sent in its ClientHello, else empty.
- `alpn`: the protocol the server selected, as visible on the wire: the ALPN
  extension of the ServerHello (TLS 1.0-1.2). In TLS 1.3 the server sends its
  choice inside the encrypted EncryptedExtensions, so a passive observer sees
  only the client's offer and the column is empty; the table above still
  names the protocol the server really selected ("ALPN `h2` encrypted"),
  found by decrypting the recording with its TLS key log.

## client-auth.tsv

One row per flow of the captures recorded to test client-certificate
inference, with the header

`file  transport  client  server  client_cert  client_cert_requested`

- `client_cert`: `true` when the client sent a Certificate message with at
  least one certificate, else `false`.
- `client_cert_requested`: `true` when the server sent a CertificateRequest.

Both come from the handshake messages themselves: in clear up to TLS 1.2, and
for TLS 1.3 from the recording decrypted with its key log (the `.keys` files
are not kept), so they are the truth tlsaudit's size arithmetic is tested
against, not its own answer. The recording also fails unless they match what
each server and client were set up to do.

Every row was checked while recording: the verdict derived from the packets
must match what the script meant to record (class, TLS version, STARTTLS,
that tshark dissects the named application protocol, flow counts, and per
file checks such as the two-segment ClientHello, the HelloRetryRequest, the
VLAN tag, the link type and OpenVPN data packets in both directions),
otherwise nothing is written.

Check a capture by hand with e.g.:

    tshark -r go-pq-two-segments.pcap -d tcp.port==8443,tls -Y tls.handshake.type==1 -T fields -e tcp.segment.count
    tshark -r tls10-openssl.pcap -d tcp.port==4433,tls -Y tls.handshake.type==2 -T fields \\
        -e tls.handshake.version -e tls.handshake.extensions.supported_version -e tls.handshake.extensions_alpn_str
    tshark -r demo-mix.pcapng -q -z conv,tcp

tshark 4.0's FTP dissector does not follow AUTH TLS into TLS; dissect the
control connection as TLS, whose dissector skips the clear-text lines before
the ClientHello (expected.py does the same, and checks the FTP part in a
second pass):

    tshark -r ftp-authtls-vsftpd-curl.pcap -d tcp.port==21,tls -d tcp.port==30021,tls \\
        -Y tls.handshake.type==2 -T fields -e tcp.stream -e tls.handshake.extensions.supported_version

tshark only decodes OpenVPN on port 1194 and cannot tell whether --tls-auth
is used or how long its HMAC is, so say so (expected.py does the same):

    tshark -r openvpn-udp-tls-auth.pcap -d udp.port==4443,openvpn \\
        -o openvpn.tls_auth_detection_override:TRUE -o openvpn.tls_auth:TRUE -o openvpn.tls_auth_hmac_size:32 \\
        -Y tls.handshake.type==2 -T fields -e tls.handshake.extensions.supported_version
"""


def human(n):
    return "%.1f KB" % (n / 1024.0) if n >= 1024 else "%d B" % n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--versions", required=True)
    ap.add_argument("--hosts", required=True)
    ap.add_argument("--pcaps", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--merge", help="directory of an existing expected.tsv and README.md: keep their rows "
                    "for captures not in the manifest, and README.md's text around the table")
    a = ap.parse_args()
    started = time.monotonic()

    cols = ["file", "expect", "checks", "flows", "offloads", "software", "description", "keylog"]
    rows = []
    with open(a.manifest) as fh:
        for line in fh:
            vals = line.rstrip("\n").split("\t")
            rows.append(dict(zip(cols, vals + [""] * (len(cols) - len(vals)))))
    versions = {}
    with open(a.versions) as fh:
        for line in fh:
            k, _, val = line.rstrip("\n").partition("\t")
            versions[k] = val

    tsv = ["\t".join(TSV_HEADER)]
    auth_tsv = ["\t".join(["file", "transport", "client", "server", "client_cert", "client_cert_requested"])]
    md_rows = []
    failed = []
    for row in rows:
        try:
            out, verdicts, info, size, npkts = process(row, a.pcaps)
        except Fail as e:
            failed.append(str(e))
            continue
        tsv += ["\t".join(r) for r in out]
        for v in verdicts:
            if "client_auth" in v:
                cert, req = v["client_auth"]
                auth_tsv.append("\t".join([row["file"], v["proto"], endpoint(*v["client"]), endpoint(*v["server"]),
                                           str(cert).lower(), str(req).lower()]))
        fmt = "pcapng" if "pcapng" in info.get("File type", "") else "pcap"
        link = info.get("File encapsulation", "?")
        flows = "<br>".join(md_escape(flow_summary(v)) for v in verdicts)
        md_rows.append("| `%s` | %s, %s | %s, %d packets | %s | %s | %s | %s |" % (
            row["file"], fmt, link, human(size), npkts, md_escape(row["software"]), row["offloads"],
            flows, md_escape(row["description"])))
        print("ok  %-30s %3d packets %2d flows" % (row["file"], npkts, len(verdicts)), file=sys.stderr)
    if failed:
        print("\n".join("FAIL " + f for f in failed), file=sys.stderr)
        sys.exit(1)

    hosts = []
    with open(a.hosts) as fh:
        for line in fh:
            name, ip4, ip6 = (line.rstrip("\n").split("\t") + ["", "", ""])[:3]
            hosts.append("| %s (`ta-%s`) | %s |" % (name, name, ", ".join(x for x in (ip4, ip6) if x)))
    software = ", ".join("%s %s" % (k, versions[k]) for k in
                         ["openssl", "nginx", "curl", "postgresql", "redis", "openssh", "dig", "dnsmasq",
                          "openvpn", "go", "tcpdump", "libpcap", "tshark"] if k in versions)
    head = README_HEAD.format(seconds=versions.get("seconds", "?"),
                              check_seconds=int(time.monotonic() - started + 0.5), debian=versions.get("debian", "?"),
                              kernel=versions.get("kernel", "?"), hosts="\n".join(hosts), software=software)
    tail = README_TAIL
    if a.merge:
        files = {r["file"] for r in rows}
        head, tail, tsv, md_rows = merged(a.merge, files, tsv, md_rows)
        auth_tsv = merged_tsv(os.path.join(a.merge, "client-auth.tsv"), files, auth_tsv)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "expected.tsv"), "w") as fh:
        fh.write("\n".join(tsv) + "\n")
    with open(os.path.join(a.out, "client-auth.tsv"), "w") as fh:
        fh.write("\n".join(auth_tsv) + "\n")
    with open(os.path.join(a.out, "README.md"), "w") as fh:
        fh.write(head + "\n".join(md_rows) + "\n" + tail)


def merged_tsv(path, files, tsv):
    """The rows of the existing TSV file at path, those of files replaced by the new rows of tsv."""
    with open(path) as fh:
        old_tsv = fh.read().rstrip("\n").split("\n")
    keep = [r for r in old_tsv[1:] if r.split("\t", 1)[0] not in files]
    return [old_tsv[0]] + keep + tsv[1:]


def merged(old_dir, files, tsv, md_rows):
    """The existing expected.tsv and README.md of old_dir with the rows of files replaced by the new ones."""
    with open(os.path.join(old_dir, "README.md")) as fh:
        lines = fh.read().split("\n")
    rows = [i for i, l in enumerate(lines) if l.startswith("| `")]
    if not rows:
        raise Fail("%s/README.md has no capture table to merge into" % old_dir)
    first, last = rows[0], rows[-1]
    old_md = [l for l in lines[first:last + 1] if l.split("`", 2)[1] not in files]
    head = "\n".join(lines[:first]) + "\n"
    tail = "\n".join(lines[last + 1:])
    tsv = merged_tsv(os.path.join(old_dir, "expected.tsv"), files, tsv)
    return head, tail.rstrip("\n") + "\n", tsv, old_md + md_rows


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print("FAIL " + str(e), file=sys.stderr)
        sys.exit(1)
