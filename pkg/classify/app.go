package classify

// App is an application protocol recognised in clear text. It names what a
// plaintext flow speaks, or what the plaintext phase of a flow spoke before
// an in-band upgrade to TLS (see FindStartTLS). The zero value, AppNone,
// means that no protocol was recognised.
type App uint8

// The application protocols that DetectStream, DetectDatagram and
// FindStartTLS know. Their String values are the `app_protocol` vocabulary
// of DESIGN.md and are stable.
const (
	// AppNone means that no protocol was recognised.
	AppNone App = iota
	// AppHTTP is HTTP/1.x (RFC 9112), including a request to upgrade to h2c.
	AppHTTP
	// AppH2C is HTTP/2 over cleartext TCP with prior knowledge (RFC 9113 §3.3).
	AppH2C
	// AppPostgreSQL is the PostgreSQL frontend/backend protocol 3.x.
	AppPostgreSQL
	// AppMySQL is the MySQL / MariaDB client/server protocol 10.
	AppMySQL
	// AppRedis is Redis RESP2/RESP3 and inline commands.
	AppRedis
	// AppSMTP is SMTP (RFC 5321) and LMTP (RFC 2033).
	AppSMTP
	// AppIMAP is IMAP4 (RFC 3501, RFC 9051).
	AppIMAP
	// AppPOP3 is POP3 (RFC 1939).
	AppPOP3
	// AppFTP is the FTP control connection (RFC 959).
	AppFTP
	// AppLDAP is LDAPv3 (RFC 4511).
	AppLDAP
	// AppDNS is DNS over UDP or TCP (RFC 1035).
	AppDNS
	// AppSSH is the SSH identification exchange (RFC 4253 §4.2); the rest of
	// an SSH connection is encrypted.
	AppSSH
	// AppXMPP is XMPP client or server streams (RFC 6120).
	AppXMPP
	// AppIRC is the IRC client protocol (RFC 2812, IRCv3).
	AppIRC
	// AppKafka is the Apache Kafka wire protocol.
	AppKafka
	// AppRDP is the Remote Desktop Protocol's X.224 connection sequence
	// (MS-RDPBCGR); FindStartTLS follows it into TLS.
	AppRDP
	// AppSOCKS is a SOCKS4/4a/5 proxy handshake (RFC 1928); the classifier
	// follows it into the tunnelled connection.
	AppSOCKS
	// AppTelnet is Telnet (RFC 854): option negotiation, then a terminal
	// session in clear text, passwords included.
	AppTelnet
	// AppADB is the Android Debug Bridge over TCP (adbd, port 5555): a remote
	// shell, in clear unless both ends switch to TLS with STLS.
	AppADB
	// AppSyslog is syslog (RFC 5424, RFC 3164) over UDP, or over TCP with
	// RFC 6587 framing.
	AppSyslog
	// AppSNMP is SNMP v1, v2c and v3 (RFC 3416, RFC 3412); SNMPv3 with
	// privacy is encrypted.
	AppSNMP
	// AppNTP is NTP v3/v4 (RFC 5905); with NTS (RFC 8915) it is encrypted.
	AppNTP
	// AppNetFlow is flow export: NetFlow v5, v9 (RFC 3954) and IPFIX (RFC 7011).
	AppNetFlow
	// AppStatsd is the statsd metrics protocol and its DogStatsD extensions.
	AppStatsd
	// AppRADIUS is RADIUS authentication and accounting (RFC 2865, RFC 2866).
	AppRADIUS
	// AppKerberos is a Kerberos KDC exchange (RFC 4120): names in clear,
	// secrets encrypted, so the flow is encrypted.
	AppKerberos
	// AppTFTP is the Trivial File Transfer Protocol (RFC 1350).
	AppTFTP
	// AppSIP is the Session Initiation Protocol (RFC 3261).
	AppSIP
	// AppMemcached is memcached's text, meta and binary protocols, over TCP
	// and UDP.
	AppMemcached
	// AppMQTT is MQTT 3.1, 3.1.1 and 5.0.
	AppMQTT
	// AppNATS is the NATS client protocol; with tls_required in the
	// server's INFO the connection continues in TLS.
	AppNATS
	// AppAMQP is AMQP 0-9-1 and 1.0; AMQP 1.0 can switch to TLS with its
	// TLS protocol header.
	AppAMQP
	// AppSTOMP is STOMP 1.0-1.2.
	AppSTOMP
	// AppNSQ is the NSQ TCP protocol (V2).
	AppNSQ
	// AppGearman is Gearman's binary protocol.
	AppGearman
	// AppMongoDB is the MongoDB wire protocol.
	AppMongoDB
	// AppCassandra is the Cassandra CQL native protocol v3-v5.
	AppCassandra
	// AppZooKeeper is the ZooKeeper client protocol.
	AppZooKeeper
	// AppNetBIOSNS is the NetBIOS name service (RFC 1002), DNS-format
	// messages about NetBIOS names.
	AppNetBIOSNS
	// AppBeanstalk is the beanstalkd work-queue protocol.
	AppBeanstalk
	// AppInfluxDB is InfluxDB's line protocol over UDP.
	AppInfluxDB

	numApps // keep last
)

// appNames holds the String value of each App, indexed by App.
var appNames = [numApps]string{
	AppNone:       "",
	AppHTTP:       "http",
	AppH2C:        "h2c",
	AppPostgreSQL: "postgresql",
	AppMySQL:      "mysql",
	AppRedis:      "redis",
	AppSMTP:       "smtp",
	AppIMAP:       "imap",
	AppPOP3:       "pop3",
	AppFTP:        "ftp",
	AppLDAP:       "ldap",
	AppDNS:        "dns",
	AppSSH:        "ssh",
	AppXMPP:       "xmpp",
	AppIRC:        "irc",
	AppKafka:      "kafka",
	AppRDP:        "rdp",
	AppSOCKS:      "socks",
	AppTelnet:     "telnet",
	AppADB:        "adb",
	AppSyslog:     "syslog",
	AppSNMP:       "snmp",
	AppNTP:        "ntp",
	AppNetFlow:    "netflow",
	AppStatsd:     "statsd",
	AppRADIUS:     "radius",
	AppKerberos:   "kerberos",
	AppTFTP:       "tftp",
	AppSIP:        "sip",
	AppMemcached:  "memcached",
	AppMQTT:       "mqtt",
	AppNATS:       "nats",
	AppAMQP:       "amqp",
	AppSTOMP:      "stomp",
	AppNSQ:        "nsq",
	AppGearman:    "gearman",
	AppMongoDB:    "mongodb",
	AppCassandra:  "cassandra",
	AppZooKeeper:  "zookeeper",
	AppNetBIOSNS:  "netbios-ns",
	AppBeanstalk:  "beanstalk",
	AppInfluxDB:   "influxdb",
}

// String returns the lower-case protocol name used in reports and metrics
// ("http", "postgresql", ...), or "" for AppNone and for values this
// package does not define.
func (a App) String() string {
	if a < numApps {
		return appNames[a]
	}
	return ""
}

// result is what one recogniser concluded about a pair of directions.
type result uint8

const (
	resNo   result = iota // the bytes are not this protocol
	resMore               // the bytes are a valid prefix; more bytes could decide
	resYes                // positive evidence for this protocol
)

// side is how strongly the bytes of one direction speak for a protocol.
type side uint8

const (
	sideNo     side = iota // contradicts the protocol
	sideEmpty              // no bytes in this direction
	sidePrefix             // a valid but incomplete opening
	sideWeak               // consistent with the protocol, not conclusive alone
	sideStrong             // conclusive alone
)

// combine turns the evidence of both directions into a result: one
// conclusive side, or two consistent ones, prove the protocol unless the
// other side contradicts it.
func combine(c, s side) result {
	switch {
	case c == sideNo || s == sideNo:
		return resNo
	case c == sideStrong || s == sideStrong:
		return resYes
	case c == sideWeak && s == sideWeak:
		return resYes
	default:
		return resMore
	}
}

// DetectStream recognises the protocol of a TCP connection from the first
// bytes of each direction; client is the side that opened the connection.
// Either slice may be empty or short; both are only read, never retained.
//
// It returns AppNone unless the bytes prove a protocol: a recognised
// opening (a request line, a banner, a handshake message) that the other
// direction does not contradict. Ports are not consulted. A direction that
// starts with a TLS record or an SSLv2 hello is never taken for plaintext:
// if the client's does, the result is AppNone.
//
// more is true when the bytes seen so far are a valid prefix of some
// protocol's opening, so that more bytes could decide; it is false once
// app is known, or when no protocol can match any longer.
//
// DetectStream allocates nothing and is safe for concurrent use.
func DetectStream(client, server []byte) (app App, more bool) {
	if startsLikeTLS(client) {
		return AppNone, false
	}
	if startsLikeTLS(server) {
		// A TLS answer is no evidence for a plaintext protocol; what the
		// client sent may still be.
		server = nil
	}
	return detectRegistered(client, server)
}

// DetectDatagram recognises a UDP exchange from the first datagram payload
// of each direction (either may be nil) and the two ports. Only DNS is
// recognised (RFC 1035 §4.1: a sane header and a question that parses, with
// a response matching its query). The ports never suffice on their own:
// they only break ties, letting a lone message whose header and question
// parse but whose other records do not count as DNS when one end uses a
// DNS port (53, 5353 mDNS, 5355 LLMNR).
//
// DetectDatagram allocates nothing and is safe for concurrent use.
func DetectDatagram(client, server []byte, clientPort, serverPort uint16) App {
	dnsPort := isDNSPort(clientPort) || isDNSPort(serverPort)
	q, qok := parseDNS(client)
	r, rok := parseDNS(server)
	switch {
	case len(client) > 0 && !qok, len(server) > 0 && !rok:
		return AppNone
	case qok && rok:
		if !q.response && r.response && q.id == r.id {
			return AppDNS
		}
	case qok:
		if !q.response && (q.strictQuery || dnsPort) {
			return AppDNS
		}
	case rok:
		if r.response && (r.answerParsed || dnsPort) {
			return AppDNS
		}
	}
	return AppNone
}

// isDNSPort reports whether p is a port that DNS-format messages use.
func isDNSPort(p uint16) bool {
	return p == 53 || p == 5353 || p == 5355
}

// minReadable is the least number of bytes ReadableText accepts as text.
const minReadable = 16

// ReadableText reports whether b is printable text of at least 16 bytes:
// printable ASCII, CR, LF, TAB and well-formed UTF-8 (without C0/C1
// control characters). A UTF-8 sequence cut off by the end of b is
// accepted, since captures stop at arbitrary bytes. It is used to call
// unrecognised readable bytes plaintext.
//
// ReadableText allocates nothing and is safe for concurrent use.
func ReadableText(b []byte) bool {
	if len(b) < minReadable {
		return false
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c >= 0x20 && c < 0x7f, c == '\r', c == '\n', c == '\t':
			i++
			continue
		case c < 0xc2 || c > 0xf4:
			return false
		}
		n, ok := utf8SeqLen(b[i:])
		if !ok {
			return false
		}
		if n == 0 { // truncated at the end of b
			return true
		}
		i += n
	}
	return true
}

// utf8SeqLen checks the multi-byte UTF-8 sequence at the start of b
// (b[0] is 0xc2..0xf4). It returns its length, or 0 with ok when b ends
// inside a valid prefix of a sequence. C1 controls (U+0080..U+009F) are
// rejected.
func utf8SeqLen(b []byte) (n int, ok bool) {
	c := b[0]
	lo, hi := byte(0x80), byte(0xbf)
	switch {
	case c < 0xe0:
		n = 2
		if c == 0xc2 {
			lo = 0xa0 // 0xc2 0x80..0x9f are C1 controls
		}
	case c < 0xf0:
		n = 3
		if c == 0xe0 {
			lo = 0xa0 // overlong
		} else if c == 0xed {
			hi = 0x9f // surrogates
		}
	default:
		n = 4
		if c == 0xf0 {
			lo = 0x90 // overlong
		} else if c == 0xf4 {
			hi = 0x8f // above U+10FFFF
		}
	}
	for j := 1; j < n; j++ {
		if j >= len(b) {
			return 0, true
		}
		if b[j] < lo || b[j] > hi {
			return 0, false
		}
		lo, hi = 0x80, 0xbf
	}
	return n, true
}
