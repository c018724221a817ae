package classify

// The registry: every clear-text protocol the classifier recognises, in one
// table. DetectStream and the datagram path walk it in order, and
// docs/protocols.md is generated from it (TestProtocolsDoc), so the table is
// also the documentation of what each recogniser needs to see.

// recogniser is one protocol of the registry.
type recogniser struct {
	app    App
	family string // the file that holds the recogniser: "mail" is mail.go
	// spec names the specification, and its sections, that the checks follow.
	spec string
	// evidence says what must be seen for a positive verdict.
	evidence string
	// verdict says the class the flow gets, and when it upgrades to TLS.
	verdict string
	// stream judges the first bytes of both directions of a TCP connection.
	stream func(client, server []byte) result
	// datagram judges the first datagram of each direction of a UDP exchange
	// (either may be nil) and says which class a positive result gets.
	datagram func(client, server []byte) (result, Class)
}

// Verdict texts shared by many rows of the registry.
const (
	verdictClear     = "plaintext"
	verdictStartTLS  = "plaintext; `tls` with `starttls: true` after its upgrade"
	verdictTLSBefore = "plaintext; a direction that starts with TLS is never taken for it"
)

// registry lists the recognisers in priority order: when two protocols both
// have positive evidence the first one wins. The more specific recognisers
// (fixed magic bytes) come before the line-based ones.
var registry = [...]recogniser{
	{AppSSH, "remote", "RFC 4253 §4.2", "an `SSH-2.0-`/`SSH-1.99-`/`SSH-1.5-` identification line from either side (the server's after up to 8 other lines)", "`ssh`", detectSSH, nil},
	{AppRDP, "tunnel", "MS-RDPBCGR §2.2.1.1, §2.2.1.2", "TPKT + X.224 Connection Request/Confirm with an RDP negotiation structure", "`tls` with `starttls: true` when TLS/CredSSP is selected; standard RDP security stays `unknown`", detectRDP, nil},
	{AppADB, "adb", "Android `protocol.txt` (adb)", "a 24-byte message with a known command and its magic (`CNXN`, `AUTH`, `STLS`, …)", verdictStartTLS + " (STLS)", detectADB, nil},
	{AppH2C, "web", "RFC 9113 §3.3, §3.4", "the client preface `PRI * HTTP/2.0`, or a server SETTINGS/GOAWAY frame on stream 0", verdictClear, detectH2C, nil},
	{AppHTTP, "web", "RFC 9112 §3, §4", "a request line with a known method, or a status line `HTTP/1.x ddd`", verdictClear + "; CONNECT tunnels carrying TLS are `tls` with `starttls: true`", detectHTTP, nil},
	{AppPostgreSQL, "db", "PostgreSQL manual, \"Message Formats\"", "SSLRequest, GSSENCRequest, CancelRequest or a StartupMessage with `user`; the backend's answers", verdictStartTLS + " (SSLRequest answered `S`)", detectPostgreSQL, nil},
	{AppMySQL, "db", "MySQL client/server protocol, \"Connection Phase\"", "the server greeting (protocol 10, version string) and the client's handshake response", verdictStartTLS + " (SSL request after CLIENT_SSL)", detectMySQL, nil},
	{AppLDAP, "directory", "RFC 4511 §4.1.1, §4.2, §4.5.1, §4.12", "a BER LDAPMessage: bindRequest, searchRequest or extendedReq, and an LDAPResult", verdictStartTLS + " (StartTLS extended operation)", detectLDAP, nil},
	{AppNetBIOSNS, "dns", "RFC 1002 §4.2; RFC 1001 §14.1", "a DNS-format message that DNS's checks accept whose question is a 32-letter encoded NetBIOS name (A-P) of type NB or NBSTAT", verdictClear, nil, detectNetBIOSNS},
	{AppDNS, "dns", "RFC 1035 §4.1, §4.2.2; RFC 7766; mDNS RFC 6762; LLMNR RFC 4795", "a header and a single question that parse; over UDP a response matching its query, the ports (53, 5353, 5355) only breaking ties", verdictClear, detectDNSStream, detectDNSDatagram},
	{AppZooKeeper, "db", "ZooKeeper `zookeeper.jute` (ConnectRequest, ConnectResponse)", "a length-prefixed ConnectRequest of 44/45 bytes with protocol version 0 and a 16-byte password; the ConnectResponse", verdictTLSBefore + " (the secure client port is TLS from the first byte)", detectZooKeeper, nil},
	{AppMongoDB, "db", "MongoDB manual, \"MongoDB Wire Protocol\"", "a first request (OP_MSG with a body section, OP_QUERY on `<db>.$cmd`, OP_COMPRESSED) with responseTo 0; a reply whose responseTo is its requestID", verdictTLSBefore, detectMongoDB, nil},
	{AppCassandra, "db", "CQL native_protocol_v4.spec §2, §4.1.1, §4.1.8, §4.2", "a request frame of version 3-5: STARTUP naming CQL_VERSION, or OPTIONS; READY/AUTHENTICATE/SUPPORTED/ERROR on the same stream", verdictTLSBefore + " (client encryption is TLS from the first byte)", detectCassandra, nil},
	{AppMQTT, "bus", "MQTT 3.1.1 §2.2, §3.1, §3.2; MQTT 5.0 §3.1, §3.2", "a CONNECT packet with protocol name `MQTT` (level 4, 5) or `MQIsdp` (level 3); a CONNACK", verdictTLSBefore + " (port 8883 is TLS from the first byte)", detectMQTT, nil},
	{AppAMQP, "bus", "AMQP 0-9-1 §4.2.2; OASIS AMQP 1.0 part 2 §2.2, part 5 §5.2", "the protocol header `AMQP` with version 0-9-1, 0-9 or 1.0 (protocol id 0, 2 or 3); the server's header or Connection.Start", verdictStartTLS + " (AMQP 1.0 TLS header, protocol id 2, echoed by the server)", detectAMQP, nil},
	{AppNATS, "bus", "docs.nats.io \"Client Protocol\" (INFO, CONNECT)", "the server's `INFO {…}` line, the client's `CONNECT {…}`", verdictClear + "; `tls` with `starttls: true` when the INFO says `tls_required` and the client answers with TLS", detectNATS, nil},
	{AppSTOMP, "bus", "STOMP 1.2 \"Frames\", \"Connecting\"", "CONNECT or STOMP alone on a line, then a `name:value` header; CONNECTED or ERROR", verdictClear, detectSTOMP, nil},
	{AppNSQ, "bus", "nsq.io \"TCP Protocol Spec\"", "the magic `  V2` and a command (IDENTIFY, SUB, PUB, …); response frames", verdictClear, detectNSQ, nil},
	{AppGearman, "bus", "gearman.org/protocol \"Binary Protocol\"", "`\\0REQ` and `\\0RES` packets with a known type", verdictClear, detectGearman, nil},
	{AppKafka, "bus", "kafka.apache.org/protocol, \"Headers\"", "a request header (size, api_key, api_version, correlation_id, printable client_id) and a response echoing the correlation_id", verdictTLSBefore + " (the SSL listener is TLS from the first byte; SASL_PLAINTEXT is clear)", detectKafka, nil},
	{AppXMPP, "chat", "RFC 6120 §4.2", "an XML `<stream:stream>` opening in the jabber namespaces", verdictStartTLS + " (`<starttls/>`, `<proceed/>`)", detectXMPP, nil},
	{AppSMTP, "mail", "RFC 5321 §4.1, §4.2; RFC 2033", "a `220` banner naming SMTP/LMTP and EHLO/HELO/LHLO", verdictStartTLS + " (STARTTLS, RFC 3207)", detectSMTP, nil},
	{AppFTP, "files", "RFC 959 §4.2, §5.3; RFC 4217", "a `220` banner and FTP commands (USER, AUTH, FEAT, …)", verdictStartTLS + " (AUTH TLS, RFC 4217 §4)", detectFTP, nil},
	{AppIMAP, "mail", "RFC 3501 §6, §7.1; RFC 9051", "a `* OK`/`* PREAUTH` greeting and tagged commands", verdictStartTLS + " (STARTTLS)", detectIMAP, nil},
	{AppPOP3, "mail", "RFC 1939 §4, §9; RFC 2449", "a `+OK` greeting and POP3 commands", verdictStartTLS + " (STLS, RFC 2595 §4)", detectPOP3, nil},
	{AppIRC, "chat", "RFC 2812 §3.1; IRCv3 capability negotiation", "NICK/USER/CAP/PASS and a server prefix or numeric reply", verdictStartTLS + " (STARTTLS, numeric 670)", detectIRC, nil},
	{AppSOCKS, "tunnel", "RFC 1928; SOCKS4/4a", "a SOCKS greeting and its reply; the tunnelled connection is then classified itself", "what the tunnelled connection is, `via: socks`", detectSOCKS, nil},
	{AppTelnet, "remote", "RFC 854, RFC 855", "two Telnet option negotiations (IAC DO/DONT/WILL/WONT/SB)", verdictClear, detectTelnet, nil},
	{AppSIP, "voice", "RFC 3261 §7.1, §7.2", "a Request-Line with a known method and a sip:/sips:/tel: URI, or a Status-Line `SIP/2.0 ddd`", verdictClear, detectSIPStream, detectSIPDatagram},
	{AppKerberos, "auth", "RFC 4120 §5.4.1, §5.4.2, §5.9.1, §7.2.2", "AS-REQ/TGS-REQ and AS-REP/TGS-REP/KRB-ERROR with pvno 5 and the msg-type of their application tag", "`encrypted`: principal names and realms cross in clear, tickets, authenticators and keys are encrypted", detectKerberosStream, detectKerberosDatagram},
	{AppSyslog, "logging", "RFC 5424 §6; RFC 3164 §4.1; RFC 6587 §3.4", "a PRI `<0-191>` and an RFC 5424 (`1 ` and a timestamp) or RFC 3164 (`Mmm dd hh:mm:ss`) header, octet-counted or LF-framed over TCP; nothing back from the receiver", verdictClear, detectSyslogStream, detectSyslogDatagram},
	{AppMemcached, "db", "memcached `protocol.txt`; `protocol_binary.h`", "a storage command (`set key flags exptime bytes`), or another command answered by a memcached reply; binary request/response with the same opcode and opaque; over UDP the 8-byte frame header", verdictClear, detectMemcached, detectMemcachedDatagram},
	{AppBeanstalk, "bus", "beanstalkd `doc/protocol.txt`", "`put <pri> <delay> <ttr> <bytes>`, or another lower-case command answered by a beanstalkd reply (INSERTED, USING, WATCHING, RESERVED, …)", verdictClear, detectBeanstalk, nil},
	{AppRedis, "db", "redis.io RESP2/RESP3 specification", "a RESP array of bulk strings with a known command, or an inline command; a RESP reply", verdictClear, detectRedis, nil},
	{AppSNMP, "mgmt", "RFC 1157 §4; RFC 3416 §3; RFC 3412 §6", "a BER message filling the datagram: version 0/1 with a community string and a PDU (0xa0-0xa8), or version 3 with msgGlobalData and security parameters", "`plaintext` (v1, v2c: the community crosses in clear and is never stored; v3 noAuthNoPriv/authNoPriv); `encrypted` for SNMPv3 authPriv", nil, detectSNMP},
	{AppNTP, "mgmt", "RFC 5905 §7.3, §8; RFC 7822; RFC 8915 §5.6", "a 48-byte header of version 3/4, mode 1-5, stratum ≤ 16, then a MAC or extension fields exactly; a response whose origin timestamp is the request's transmit timestamp (a lone packet is not enough)", "`plaintext`; `encrypted` with an NTS Authenticator and Encrypted Extension Fields", nil, detectNTP},
	{AppNetFlow, "mgmt", "Cisco NetFlow v5 format; RFC 3954 §5; RFC 7011 §3", "an export datagram of version 5 (24 + 48 × count bytes), 9 or 10 (IPFIX, length field equal to the datagram) whose FlowSets/Sets fill it exactly; nothing back", verdictClear, nil, detectNetFlow},
	{AppRADIUS, "auth", "RFC 2865 §3, §5; RFC 2866 §3; RFC 5176 §2.3", "a request (Access-, Accounting-, Status-Server, CoA/Disconnect) whose attributes fill its Length exactly, and a reply with its identifier", "`plaintext`: attributes cross in clear; the MD5 hiding of User-Password is not encryption", nil, detectRADIUS},
	{AppTFTP, "files", "RFC 1350 §4, §5; RFC 2347 §2", "RRQ/WRQ with a filename and mode netascii/octet/mail; a transfer's DATA block 1 acknowledged by ACK 1, or an OACK", verdictClear, nil, detectTFTP},
	{AppInfluxDB, "logging", "InfluxDB line protocol reference", "datagrams whose every line is `measurement[,tag=v…] field=value[,…] [timestamp]` with typed field values; nothing back", verdictClear, nil, detectInflux},
	{AppStatsd, "logging", "statsd `docs/metric_types.md`; DogStatsD datagram format", "datagrams whose every line is `name:value|type` (c, g, ms, h, s, d) with optional `|@rate`, `|#tags`, or a DogStatsD event/service check; nothing back", verdictClear, nil, detectStatsd},
}

// detectRegistered walks the stream recognisers of the registry; see
// DetectStream.
func detectRegistered(client, server []byte) (app App, more bool) {
	for i := range registry {
		r := &registry[i]
		if r.stream == nil {
			continue
		}
		switch r.stream(client, server) {
		case resYes:
			return r.app, false
		case resMore:
			more = true
		}
	}
	return AppNone, more
}

// detectDatagramRegistered walks the datagram recognisers of the registry
// over the first datagram of each direction: the first protocol with
// positive evidence, and the class its recogniser gives the exchange. more
// is true when a recogniser needs the other direction to decide.
func detectDatagramRegistered(client, server []byte) (app App, cls Class, more bool) {
	for i := range registry {
		r := &registry[i]
		if r.datagram == nil {
			continue
		}
		switch res, c := r.datagram(client, server); res {
		case resYes:
			return r.app, c, false
		case resMore:
			more = true
		}
	}
	return AppNone, ClassUnknown, more
}

// encryptedApp reports whether a protocol recognised over TCP protects its
// content itself (its registry verdict is not plaintext).
func encryptedApp(app App) bool {
	return app == AppKerberos
}
