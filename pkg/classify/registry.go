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
	{AppDNS, "dns", "RFC 1035 §4.1, §4.2.2; RFC 7766", "a header and a single question that parse; over UDP a response matching its query, the ports (53, 5353, 5355) only breaking ties", verdictClear, detectDNSStream, nil},
	{AppKafka, "bus", "kafka.apache.org/protocol, \"Headers\"", "a request header (size, api_key, api_version, correlation_id, printable client_id) and a response echoing the correlation_id", verdictTLSBefore + " (the SSL listener is TLS from the first byte; SASL_PLAINTEXT is clear)", detectKafka, nil},
	{AppXMPP, "chat", "RFC 6120 §4.2", "an XML `<stream:stream>` opening in the jabber namespaces", verdictStartTLS + " (`<starttls/>`, `<proceed/>`)", detectXMPP, nil},
	{AppSMTP, "mail", "RFC 5321 §4.1, §4.2; RFC 2033", "a `220` banner naming SMTP/LMTP and EHLO/HELO/LHLO", verdictStartTLS + " (STARTTLS, RFC 3207)", detectSMTP, nil},
	{AppFTP, "files", "RFC 959 §4.2, §5.3; RFC 4217", "a `220` banner and FTP commands (USER, AUTH, FEAT, …)", verdictStartTLS + " (AUTH TLS, RFC 4217 §4)", detectFTP, nil},
	{AppIMAP, "mail", "RFC 3501 §6, §7.1; RFC 9051", "a `* OK`/`* PREAUTH` greeting and tagged commands", verdictStartTLS + " (STARTTLS)", detectIMAP, nil},
	{AppPOP3, "mail", "RFC 1939 §4, §9; RFC 2449", "a `+OK` greeting and POP3 commands", verdictStartTLS + " (STLS, RFC 2595 §4)", detectPOP3, nil},
	{AppIRC, "chat", "RFC 2812 §3.1; IRCv3 capability negotiation", "NICK/USER/CAP/PASS and a server prefix or numeric reply", verdictStartTLS + " (STARTTLS, numeric 670)", detectIRC, nil},
	{AppSOCKS, "tunnel", "RFC 1928; SOCKS4/4a", "a SOCKS greeting and its reply; the tunnelled connection is then classified itself", "what the tunnelled connection is, `via: socks`", detectSOCKS, nil},
	{AppTelnet, "remote", "RFC 854, RFC 855", "two Telnet option negotiations (IAC DO/DONT/WILL/WONT/SB)", verdictClear, detectTelnet, nil},
	{AppRedis, "db", "redis.io RESP2/RESP3 specification", "a RESP array of bulk strings with a known command, or an inline command; a RESP reply", verdictClear, detectRedis, nil},
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
