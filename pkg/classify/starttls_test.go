package classify

import (
	"bytes"
	"testing"
)

// recordedUpgrades is what FindStartTLS must find in each recorded
// exchange, with the app DetectStream gives it.
var recordedUpgrades = []struct {
	name string
	app  App
	c, s int
	want UpgradeState
}{
	{"starttls-smtp-zeek", AppSMTP, 35, 224, UpgradeDone},
	{"starttls-smtp-arkime", AppSMTP, 38, 235, UpgradeDone},
	{"starttls-smtp-ndpi-v6", AppSMTP, 60, 240, UpgradeDone},
	{"starttls-imap-zeek", AppIMAP, 26, 530, UpgradeDone},
	{"starttls-pop3-zeek", AppPOP3, 6, 138, UpgradeDone},
	{"starttls-pop3-ndpi", AppPOP3, 18, 225, UpgradeDone},
	{"starttls-ftp-zeek", AppFTP, 16, 145, UpgradeDone},
	{"starttls-ftp-ndpi", AppFTP, 10, 104, UpgradeDone},
	{"ftp-pureftpd-curl", AppFTP, 20, 341, UpgradeDone},
	{"starttls-ldap-arkime", AppLDAP, 31, 14, UpgradeDone},
	{"starttls-ldap-zeek", AppLDAP, 31, 14, UpgradeDone},
	{"starttls-xmpp-zeek", AppXMPP, 169, 525, UpgradeDone},
	{"starttls-xmpp-dialback-zeek", AppXMPP, 220, 415, UpgradeDone},
	{"starttls-irc-zeek", AppIRC, 10, 74, UpgradeDone},
	{"starttls-pgsql-suricata", AppPostgreSQL, 8, 1, UpgradeDone},
	{"starttls-pgsql-zeek", AppPostgreSQL, 8, 1, UpgradeDone},
	{"pg-require", AppPostgreSQL, 8, 1, UpgradeDone},
	{"pg-gss-prefer", AppPostgreSQL, 8, 1, UpgradeDone},
	{"starttls-mysql-arkime", AppMySQL, 36, 78, UpgradeDone},
	{"starttls-mysql-rds12", AppMySQL, 36, 78, UpgradeDone},
	{"starttls-mysql-rds13", AppMySQL, 36, 78, UpgradeDone},
	{"mariadb-ssl", AppMySQL, 36, 104, UpgradeDone},
	{"connect-arkime", AppHTTP, 84, 134, UpgradeDone},
	{"connect-ndpi", AppHTTP, 203, 76, UpgradeDone},
	{"starttls-adb-arkime", AppADB, 79, 63, UpgradeDone},

	{"pg-prefer-refused", AppPostgreSQL, -1, -1, UpgradeRefused},
	{"ldap-starttls-refused", AppLDAP, -1, -1, UpgradeRefused},
	{"adb-arkime", AppADB, -1, -1, UpgradeRefused},

	{"pg-disable", AppPostgreSQL, -1, -1, UpgradeNone},
	{"pgsql-arkime-nossl", AppPostgreSQL, -1, -1, UpgradeNone},
	{"mariadb-plain", AppMySQL, -1, -1, UpgradeNone},
	{"mariadb-ssl-attempt", AppMySQL, -1, -1, UpgradeNone},
	{"ldap-search-anon", AppLDAP, -1, -1, UpgradeNone},
	{"ldap-bind-simple", AppLDAP, -1, -1, UpgradeNone},
	{"smtp-ndpi", AppSMTP, -1, -1, UpgradeNone},
	{"imap-ndpi", AppIMAP, -1, -1, UpgradeNone},
	{"pop3-ndpi", AppPOP3, -1, -1, UpgradeNone},
	{"irc-register", AppIRC, -1, -1, UpgradeNone},
	{"http-curl-nginx", AppHTTP, -1, -1, UpgradeNone},
	{"redis-cli-ping", AppRedis, -1, -1, UpgradeNone},
	{"nats-plain", AppNATS, -1, -1, UpgradeNone},
	{"mqtt5-mosquitto", AppMQTT, -1, -1, UpgradeNone},
}

func TestFindStartTLSRecorded(t *testing.T) {
	for _, tc := range recordedUpgrades {
		t.Run(tc.name, func(t *testing.T) {
			e := loadExchange(t, tc.name)
			if app, _ := DetectStream(e.client, e.server); app != tc.app {
				t.Fatalf("DetectStream = %q, want %q", app, tc.app)
			}
			c, s, st := FindStartTLS(tc.app, e.client, e.server)
			if c != tc.c || s != tc.s || st != tc.want {
				t.Fatalf("FindStartTLS = %d, %d, %v; want %d, %d, %v", c, s, st, tc.c, tc.s, tc.want)
			}
			if st != UpgradeDone {
				return
			}
			if !LooksLikeTLS(e.client[c:]) {
				t.Errorf("client bytes at %d are not TLS: %x", c, e.client[c:min(len(e.client), c+8)])
			}
			if !looksLikeTLSRecordHeader(e.client[c:]) {
				t.Errorf("client bytes at %d are not a handshake record", c)
			}
			if !LooksLikeTLS(e.server[s:]) {
				t.Errorf("server bytes at %d are not TLS: %x", s, e.server[s:min(len(e.server), s+8)])
			}
		})
	}
}

// TestFindStartTLSPrefixes cuts each successful upgrade short in both
// directions: the answer may only be an earlier state, never Refused, and
// any offset it gives must be the full exchange's.
func TestFindStartTLSPrefixes(t *testing.T) {
	for _, tc := range recordedUpgrades {
		if tc.want != UpgradeDone {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			e := loadExchange(t, tc.name)
			cuts := func(n int) []int {
				var r []int
				for i := 0; i <= n; i++ {
					if i < 64 || i%7 == 0 || i == n || (i > n-64 && i%3 == 0) {
						r = append(r, i)
					}
				}
				return r
			}
			for _, n := range cuts(min(len(e.client), tc.c+64)) {
				for _, m := range cuts(min(len(e.server), tc.s+64)) {
					c, s, st := FindStartTLS(tc.app, e.client[:n], e.server[:m])
					bad := false
					switch st {
					case UpgradeNone:
						bad = c != -1 || s != -1
					case UpgradePending:
						bad = (c != -1 && c != tc.c) || (s != -1 && s != tc.s)
					case UpgradeDone:
						bad = c != tc.c || s != tc.s
					default:
						bad = true
					}
					if bad {
						t.Fatalf("FindStartTLS(client[:%d], server[:%d]) = %d, %d, %v; full exchange: %d, %d",
							n, m, c, s, st, tc.c, tc.s)
					}
				}
			}
			// With the request and the answer complete but no TLS byte yet,
			// the upgrade is pending with both offsets known.
			c, s, st := FindStartTLS(tc.app, e.client[:tc.c], e.server[:tc.s])
			if c != tc.c || s != tc.s || st != UpgradePending {
				t.Errorf("before the first TLS byte: %d, %d, %v; want %d, %d, pending", c, s, st, tc.c, tc.s)
			}
		})
	}
}

func TestFindStartTLS(t *testing.T) {
	clientHello := "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03"
	serverHello := "\x16\x03\x03\x00\x3a\x02\x00\x00\x36\x03\x03"
	mariadb := loadExchange(t, "mariadb-ssl")
	noSSL := bytes.Clone(mariadb.server)
	noSSL[4+len("\x0a5.5.5-10.11.19-MariaDB-0+deb12u1\x00")+4+8+1+1] &^= byte(mysqlClientSSL >> 8)
	for _, tc := range []struct {
		name           string
		app            App
		client, server string
		c, s           int
		want           UpgradeState
	}{
		// SMTP (RFC 3207 §4).
		{
			name:   "smtp refused 454",
			app:    AppSMTP,
			client: "EHLO x\r\nSTARTTLS\r\n",
			server: "220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available due to temporary reason\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "smtp answer pending",
			app:    AppSMTP,
			client: "EHLO x\r\nSTARTTLS\r\n" + clientHello,
			server: "220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n",
			c:      18, s: -1, want: UpgradePending,
		},
		{
			name:   "smtp answer line cut",
			app:    AppSMTP,
			client: "EHLO x\r\nSTARTTLS\r\n",
			server: "220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n220 2.0.0 Ready",
			c:      18, s: -1, want: UpgradePending,
		},
		{
			name:   "smtp accepted, no TLS yet",
			app:    AppSMTP,
			client: "EHLO x\r\nSTARTTLS\r\n",
			server: "220 mx ESMTP\r\n250 mx\r\n220 go ahead\r\n",
			c:      18, s: 36, want: UpgradePending,
		},
		{
			name:   "smtp done",
			app:    AppSMTP,
			client: "EHLO x\r\nSTARTTLS\r\n" + clientHello,
			server: "220 mx ESMTP\r\n250 mx\r\n220 go ahead\r\n" + serverHello,
			c:      18, s: 36, want: UpgradeDone,
		},
		{
			name:   "smtp plaintext after accept",
			app:    AppSMTP,
			client: "EHLO x\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n",
			server: "220 mx ESMTP\r\n250 mx\r\n220 go ahead\r\n",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "smtp no request",
			app:    AppSMTP,
			client: "EHLO x\r\nMAIL FROM:<a@b>\r\n",
			server: "220 mx ESMTP\r\n250 mx\r\n250 ok\r\n",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "smtp greeting refuses service",
			app:    AppSMTP,
			client: "EHLO x\r\nSTARTTLS\r\n",
			server: "554 no service\r\n250 mx\r\n220 go ahead\r\n",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "smtp reply count mismatch",
			app:    AppSMTP,
			client: "EHLO x\r\nSTARTTLS\r\n",
			server: "220 mx ESMTP\r\n250 mx\r\n250 ok\r\n",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "lmtp",
			app:    AppSMTP,
			client: "LHLO x\r\nSTARTTLS\r\n" + clientHello,
			server: "220 lmtp ready\r\n250-x\r\n250 STARTTLS\r\n220 2.0.0 go\r\n",
			c:      18, s: 51, want: UpgradeDone,
		},

		// IMAP (RFC 9051 §6.2.1).
		{
			name:   "imap refused NO",
			app:    AppIMAP,
			client: "a1 STARTTLS\r\n",
			server: "* OK IMAP4rev2 ready\r\na1 NO not now\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "imap refused BAD",
			app:    AppIMAP,
			client: "a1 CAPABILITY\r\na2 STARTTLS\r\n",
			server: "* OK ready\r\n* CAPABILITY IMAP4rev1\r\na1 OK done\r\na2 BAD unknown command\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "imap pending",
			app:    AppIMAP,
			client: "a1 STARTTLS\r\n",
			server: "* OK ready\r\n",
			c:      13, s: -1, want: UpgradePending,
		},
		{
			name:   "imap other tag only",
			app:    AppIMAP,
			client: "a1 CAPABILITY\r\na2 STARTTLS\r\n",
			server: "* OK ready\r\na1 OK done\r\n",
			c:      28, s: -1, want: UpgradePending,
		},

		// POP3 (RFC 2595 §4).
		{
			name:   "pop3 refused",
			app:    AppPOP3,
			client: "STLS\r\n",
			server: "+OK ready\r\n-ERR TLS not available\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "pop3 CAPA body cut",
			app:    AppPOP3,
			client: "CAPA\r\nSTLS\r\n",
			server: "+OK ready\r\n+OK\r\nSTLS\r\nUSER\r\n",
			c:      12, s: -1, want: UpgradePending,
		},
		{
			name:   "pop3 greeting -ERR",
			app:    AppPOP3,
			client: "STLS\r\n",
			server: "-ERR go away\r\n+OK\r\n",
			c:      -1, s: -1, want: UpgradeNone,
		},

		// FTP (RFC 4217 §4).
		{
			name:   "ftp refused",
			app:    AppFTP,
			client: "AUTH TLS\r\n",
			server: "220 FTP ready\r\n534 TLS not available\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		// An older name of AUTH TLS refused is not the end: curl asks for AUTH
		// SSL first and for AUTH TLS when that is refused, and Pure-FTPd knows
		// only AUTH TLS (ftp-pureftpd-curl is the recorded exchange).
		{
			name:   "ftp AUTH SSL refused, then AUTH TLS",
			app:    AppFTP,
			client: "AUTH SSL\r\nAUTH TLS\r\n" + clientHello,
			server: "220 FTP ready\r\n500 This security scheme is not implemented\r\n234 AUTH TLS OK.\r\n" + serverHello,
			c:      20, s: 78, want: UpgradeDone,
		},
		{
			name:   "ftp AUTH SSL refused, the next command not here yet",
			app:    AppFTP,
			client: "AUTH SSL\r\n",
			server: "220 FTP ready\r\n500 This security scheme is not implemented\r\n",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "ftp AUTH SSL refused, then USER in clear",
			app:    AppFTP,
			client: "AUTH SSL\r\nUSER anonymous\r\n",
			server: "220 FTP ready\r\n500 This security scheme is not implemented\r\n331 Any password\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "ftp AUTH SSL and AUTH TLS refused",
			app:    AppFTP,
			client: "AUTH SSL\r\nAUTH TLS\r\n",
			server: "220 (vsFTPd 3.0.3)\r\n530 Please login with USER and PASS.\r\n530 Please login with USER and PASS.\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "ftp AUTH SSL refused, then AUTH TLS answered later",
			app:    AppFTP,
			client: "AUTH SSL\r\nAUTH TLS\r\n",
			server: "220 FTP ready\r\n500 This security scheme is not implemented\r\n",
			c:      20, s: -1, want: UpgradePending,
		},
		{
			name:   "ftp ADAT wanted is not TLS",
			app:    AppFTP,
			client: "AUTH TLS\r\n",
			server: "220 FTP ready\r\n334 ADAT needed\r\n",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "ftp AUTH SSL after a 120 reply",
			app:    AppFTP,
			client: "AUTH SSL\r\n" + clientHello,
			server: "120 ready in 1 minute\r\n220 FTP ready\r\n234 AUTH SSL OK\r\n" + serverHello,
			c:      10, s: 55, want: UpgradeDone,
		},
		{
			name:   "ftp multi-line banner",
			app:    AppFTP,
			client: "AUTH TLS\r\n" + clientHello,
			server: "220-Welcome\r\n to this\r\n220 server\r\n234 go\r\n" + serverHello,
			c:      10, s: 43, want: UpgradeDone,
		},

		// XMPP (RFC 6120 §5.4.2).
		{
			name:   "xmpp failure",
			app:    AppXMPP,
			client: "<stream:stream to='x'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
			server: "<stream:stream from='x'><failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "xmpp pending",
			app:    AppXMPP,
			client: "<stream:stream to='x'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
			server: "<stream:stream from='x'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>",
			c:      73, s: -1, want: UpgradePending,
		},
		{
			name:   "xmpp long form with white space",
			app:    AppXMPP,
			client: "<stream:stream to='x'><starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"></starttls>\n" + clientHello,
			server: "<stream:stream from='x'><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed>" + serverHello,
			c:      84, s: 83, want: UpgradeDone,
		},
		{
			name:   "xmpp SASL failure is not a TLS refusal",
			app:    AppXMPP,
			client: "<stream:stream to='x'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
			server: "<stream:stream from='x'><failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
			c:      73, s: -1, want: UpgradePending,
		},

		// IRC (IRCv3 tls extension).
		{
			name:   "irc refused 691",
			app:    AppIRC,
			client: "STARTTLS\r\n",
			server: ":irc.example.net NOTICE * :*** Looking up\r\n:irc.example.net 691 * :STARTTLS failed\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "irc unknown command",
			app:    AppIRC,
			client: "STARTTLS\r\n",
			server: ":irc.example.net 421 * STARTTLS :Unknown command\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "irc pending",
			app:    AppIRC,
			client: "CAP LS 302\r\nSTARTTLS\r\n",
			server: ":irc.example.net CAP * LS :tls\r\n",
			c:      22, s: -1, want: UpgradePending,
		},

		// PostgreSQL.
		{
			name:   "pg SSLRequest unanswered",
			app:    AppPostgreSQL,
			client: pgSSLRequestBytes,
			c:      8, s: -1, want: UpgradePending,
		},
		{
			name:   "pg SSLRequest answered with an error",
			app:    AppPostgreSQL,
			client: pgSSLRequestBytes,
			server: "EFATAL: unsupported frontend protocol\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "pg GSSENCRequest answered G",
			app:    AppPostgreSQL,
			client: pgGSSENCRequestBytes + "\x60\x82\x02\x00",
			server: "G",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "pg GSSENCRequest N then SSLRequest S",
			app:    AppPostgreSQL,
			client: pgGSSENCRequestBytes + pgSSLRequestBytes + clientHello,
			server: "NS" + serverHello,
			c:      16, s: 2, want: UpgradeDone,
		},
		{
			name:   "pg GSSENCRequest N then StartupMessage",
			app:    AppPostgreSQL,
			client: pgGSSENCRequestBytes + "\x00\x00\x00\x11\x00\x03\x00\x00user\x00x\x00\x00",
			server: "NR\x00\x00\x00\x08\x00\x00\x00\x00",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "pg S then plaintext",
			app:    AppPostgreSQL,
			client: pgSSLRequestBytes + "\x00\x00\x00\x11\x00\x03\x00\x00user\x00x\x00\x00",
			server: "S",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "pg SSLRequest cut",
			app:    AppPostgreSQL,
			client: pgSSLRequestBytes[:5],
			c:      -1, s: -1, want: UpgradeNone,
		},

		// MySQL.
		{
			name:   "mysql greeting without CLIENT_SSL",
			app:    AppMySQL,
			client: string(mariadb.client),
			server: string(noSSL),
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "mysql SSL request without TLS yet",
			app:    AppMySQL,
			client: string(mariadb.client[:36]),
			server: string(mariadb.server[:104]),
			c:      36, s: 104, want: UpgradePending,
		},

		// LDAP (RFC 4511 §4.14).
		{
			name:   "ldap StartTLS unanswered",
			app:    AppLDAP,
			client: "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + ldapStartTLSOID,
			c:      31, s: -1, want: UpgradePending,
		},
		{
			name:   "ldap other extended operation",
			app:    AppLDAP,
			client: "\x30\x1e\x02\x01\x01\x77\x19\x80\x171.3.6.1.4.1.4203.1.11.3",
			server: "\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00",
			c:      -1, s: -1, want: UpgradeNone,
		},

		// HTTP CONNECT tunnels (RFC 9110 §9.3.6).
		{
			name:   "connect after 407",
			app:    AppHTTP,
			client: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nCONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nProxy-Authorization: Basic eDp5\r\n\r\n" + clientHello,
			server: "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n\r\nnope!HTTP/1.1 200 Connection established\r\n\r\n" + serverHello,
			c:      111, s: 109, want: UpgradeDone,
		},
		{
			name:   "connect 407, no retry yet",
			app:    AppHTTP,
			client: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
			server: "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
			c:      -1, s: -1, want: UpgradePending,
		},
		{
			name:   "connect forbidden",
			app:    AppHTTP,
			client: "CONNECT a:443 HTTP/1.1\r\n\r\n",
			server: "HTTP/1.1 403 Forbidden\r\n\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},
		{
			name:   "connect response pending",
			app:    AppHTTP,
			client: "CONNECT a:443 HTTP/1.1\r\n\r\n" + clientHello,
			server: "HTTP/1.1 200 OK\r\nVia: x\r\n",
			c:      26, s: -1, want: UpgradePending,
		},
		{
			name:   "connect tunnel carries plaintext",
			app:    AppHTTP,
			client: "CONNECT a:80 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
			server: "HTTP/1.1 200 OK\r\n\r\n",
			c:      -1, s: -1, want: UpgradeNone,
		},
		{
			name:   "connect 407 chunked body",
			app:    AppHTTP,
			client: "CONNECT a:443 HTTP/1.1\r\n\r\n",
			server: "HTTP/1.1 407 No\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			c:      -1, s: -1, want: UpgradeRefused,
		},

		// Protocols without an upgrade.
		{name: "http GET", app: AppHTTP, client: "GET / HTTP/1.1\r\n\r\n", server: "HTTP/1.1 200 OK\r\n\r\n", c: -1, s: -1, want: UpgradeNone},
		{name: "unknown app", app: App(99), client: "STARTTLS\r\n", c: -1, s: -1, want: UpgradeNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s, st := FindStartTLS(tc.app, []byte(tc.client), []byte(tc.server))
			if c != tc.c || s != tc.s || st != tc.want {
				t.Errorf("FindStartTLS = %d, %d, %v; want %d, %d, %v", c, s, st, tc.c, tc.s, tc.want)
			}
		})
	}
}

func TestUpgradeStateString(t *testing.T) {
	for st, want := range map[UpgradeState]string{
		UpgradeNone: "none", UpgradePending: "pending", UpgradeRefused: "refused",
		UpgradeDone: "done", UpgradeState(9): "invalid",
	} {
		if got := st.String(); got != want {
			t.Errorf("UpgradeState(%d).String() = %q, want %q", st, got, want)
		}
	}
}

func TestLooksLikeTLSRecordHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"ClientHello record", "\x16\x03\x01\x02\x00", true},
		{"largest record", "\x16\x03\x03\x48\x00", true},
		{"too long", "\x16\x03\x03\x48\x01", false},
		{"empty record", "\x16\x03\x01\x00\x00", false},
		{"alert", "\x15\x03\x03\x00\x02", false},
		{"major 2", "\x16\x02\x00\x00\x10", false},
		{"short", "\x16\x03\x01\x02", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := looksLikeTLSRecordHeader([]byte(tc.in)); got != tc.want {
				t.Errorf("looksLikeTLSRecordHeader(%x) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestFindStartTLSAllocs(t *testing.T) {
	for _, tc := range recordedUpgrades {
		e := loadExchange(t, tc.name)
		if n := testing.AllocsPerRun(50, func() { FindStartTLS(tc.app, e.client, e.server) }); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tc.name, n)
		}
	}
}

func BenchmarkFindStartTLS(b *testing.B) {
	for _, tc := range recordedUpgrades {
		switch tc.name {
		case "starttls-smtp-zeek", "starttls-imap-zeek", "starttls-pop3-ndpi", "starttls-ldap-zeek",
			"starttls-xmpp-zeek", "pg-require", "mariadb-ssl", "ftp-pureftpd-curl":
		default:
			continue
		}
		e := loadExchange(b, tc.name)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				FindStartTLS(tc.app, e.client, e.server)
			}
		})
	}
}

// FuzzFindStartTLS checks that FindStartTLS never panics, that its offsets
// stay within the input (-1 aside), that only Done and Pending carry
// offsets, and that Done has TLS bytes at one offset at least.
func FuzzFindStartTLS(f *testing.F) {
	for _, tc := range recordedUpgrades {
		e := loadExchange(f, tc.name)
		f.Add(uint8(tc.app), e.client, e.server)
		if tc.want == UpgradeDone {
			f.Add(uint8(tc.app), e.client[:tc.c], e.server[:tc.s])
		}
	}
	// Upgrades that DetectStream does not name from both directions (the client
	// starts with TLS) or that no recording covers.
	nats := loadExchange(f, "starttls-nats")
	f.Add(uint8(AppNATS), nats.client, nats.server)
	f.Add(uint8(AppNATS), []byte(nil), nats.server)
	f.Add(uint8(AppAMQP), []byte("AMQP\x02\x01\x00\x00\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"), []byte("AMQP\x02\x01\x00\x00\x16\x03\x03\x00\x05"))
	f.Fuzz(func(t *testing.T, app uint8, client, server []byte) {
		a := App(app % uint8(numApps+1))
		c, s, st := FindStartTLS(a, client, server)
		if c < -1 || c > len(client) || s < -1 || s > len(server) {
			t.Fatalf("offsets %d, %d out of bounds (%d, %d)", c, s, len(client), len(server))
		}
		switch st {
		case UpgradeDone:
			if c < 0 || s < 0 {
				t.Fatalf("done with offsets %d, %d", c, s)
			}
			if !LooksLikeTLS(client[c:]) && !LooksLikeTLS(server[s:]) {
				t.Fatalf("done without TLS bytes at %d, %d", c, s)
			}
		case UpgradePending:
		case UpgradeNone, UpgradeRefused:
			if c != -1 || s != -1 {
				t.Fatalf("%v with offsets %d, %d", st, c, s)
			}
		default:
			t.Fatalf("state %d", st)
		}
	})
}
