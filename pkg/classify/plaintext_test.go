package classify

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exchange is the first bytes of both directions of one recorded
// connection, read from testdata/plaintext/<name>.hex (see the README
// there).
type exchange struct {
	client, server []byte
}

// loadExchange reads testdata/plaintext/<name>.hex.
func loadExchange(tb testing.TB, name string) exchange {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "plaintext", name+".hex"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var e exchange
	var seen int
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dir, data, _ := strings.Cut(sc.Text(), " ")
		var dst *[]byte
		switch dir {
		case "client":
			dst = &e.client
		case "server":
			dst = &e.server
		default:
			continue
		}
		b, err := hex.DecodeString(data)
		if err != nil {
			tb.Fatalf("%s: %s: %v", name, dir, err)
		}
		*dst = b
		seen++
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if seen != 2 {
		tb.Fatalf("%s: want a client and a server line, got %d lines", name, seen)
	}
	return e
}

// allExchanges lists the names of every recorded exchange.
func allExchanges(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "plaintext", "*.hex"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no testdata: %v", err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".hex")
	}
	return names
}

// recordedApps is what DetectStream must say about each recorded exchange:
// with both directions, with the client's bytes alone and with the
// server's alone. The datagram exchange dns-udp-dig is tested by
// TestDetectDatagram.
var recordedApps = map[string]struct{ both, client, server App }{
	// Recorded on 127.0.0.1 from real clients and servers.
	"dns-tcp-dig":            {AppDNS, AppDNS, AppDNS},
	"h2c-prior-knowledge":    {AppH2C, AppH2C, AppNone},
	"h2c-upgrade":            {AppHTTP, AppHTTP, AppNone},
	"http-curl-nginx":        {AppHTTP, AppHTTP, AppHTTP},
	"http-curl-nginx-post":   {AppHTTP, AppHTTP, AppHTTP},
	"irc-nick-user":          {AppIRC, AppIRC, AppIRC},
	"irc-register":           {AppIRC, AppIRC, AppIRC},
	"kafka-kcat-apiversions": {AppKafka, AppKafka, AppNone},
	"ldap-bind-simple":       {AppLDAP, AppLDAP, AppLDAP},
	"ldap-search-anon":       {AppLDAP, AppLDAP, AppLDAP},
	"ldap-starttls-refused":  {AppLDAP, AppLDAP, AppLDAP},
	"mariadb-plain":          {AppMySQL, AppMySQL, AppMySQL},
	"mariadb-ssl":            {AppMySQL, AppMySQL, AppMySQL},
	"mariadb-ssl-attempt":    {AppMySQL, AppMySQL, AppMySQL},
	"pg-disable":             {AppPostgreSQL, AppPostgreSQL, AppNone},
	"pg-gss-prefer":          {AppPostgreSQL, AppPostgreSQL, AppNone},
	"pg-prefer-refused":      {AppPostgreSQL, AppPostgreSQL, AppNone},
	"pg-require":             {AppPostgreSQL, AppPostgreSQL, AppNone},
	"redis-cli-ping":         {AppRedis, AppRedis, AppNone},
	"redis-cli-set":          {AppRedis, AppRedis, AppNone},
	"redis-inline-ping":      {AppRedis, AppNone, AppNone},
	"redis-noauth":           {AppRedis, AppRedis, AppRedis},
	"ssh-openssh":            {AppSSH, AppSSH, AppSSH},

	// Recorded in network namespaces (testdata/pcaps, scripts/testdata/protocols.sh
	// and starttls.sh).
	"syslog-tcp-octet-logger": {AppSyslog, AppSyslog, AppNone},
	"syslog-tcp-lf-logger":    {AppSyslog, AppSyslog, AppNone},
	"memcached-text-set":      {AppMemcached, AppMemcached, AppNone},
	"memcached-text-get":      {AppMemcached, AppNone, AppNone},
	"memcached-binary-stat":   {AppMemcached, AppNone, AppNone},
	"mqtt311-mosquitto":       {AppMQTT, AppMQTT, AppNone},
	"mqtt5-mosquitto":         {AppMQTT, AppMQTT, AppNone},
	"mqtt31-mosquitto":        {AppMQTT, AppMQTT, AppNone},
	"nats-plain":              {AppNATS, AppNATS, AppNATS},
	"starttls-nats":           {AppNone, AppNone, AppNATS},
	"amqp-rabbitmq":           {AppAMQP, AppAMQP, AppNone},
	"amqp10-proton":           {AppAMQP, AppAMQP, AppNone},
	"stomp-stomppy":           {AppSTOMP, AppSTOMP, AppSTOMP},
	"gearman-gearmand":        {AppGearman, AppGearman, AppGearman},
	"zookeeper-zkcli":         {AppZooKeeper, AppZooKeeper, AppNone},
	"ftp-pureftpd-curl":       {AppFTP, AppFTP, AppFTP},

	// From nDPI's test suite (ntop/nDPI@3b1286ab, LGPL-3.0): servers with no
	// Debian 12 package (Cassandra, MongoDB), and look-alikes that must not match.
	"cassandra-ndpi":            {AppCassandra, AppNone, AppNone},
	"mongodb-ndpi":              {AppMongoDB, AppMongoDB, AppNone},
	"mongo-false-positive-ndpi": {AppNone, AppNone, AppNone},
	"amqp-midstream-ndpi":       {AppAMQP, AppAMQP, AppNone},
	"rsh-not-syslog-ndpi":       {AppNone, AppNone, AppNone},

	// From the peer corpus.
	"http-arkime":                 {AppHTTP, AppHTTP, AppHTTP},
	"connect-arkime":              {AppHTTP, AppHTTP, AppHTTP},
	"connect-ndpi":                {AppHTTP, AppHTTP, AppHTTP},
	"http-port22-zeek":            {AppHTTP, AppHTTP, AppHTTP},
	"imap-ndpi":                   {AppIMAP, AppIMAP, AppIMAP},
	"pgsql-arkime-nossl":          {AppPostgreSQL, AppPostgreSQL, AppNone},
	"pgsql-suricata-stream1":      {AppPostgreSQL, AppPostgreSQL, AppPostgreSQL},
	"pgsql-zeek-ssl-disable":      {AppPostgreSQL, AppPostgreSQL, AppNone},
	"pop3-ndpi":                   {AppPOP3, AppNone, AppPOP3},
	"smtp-ndpi":                   {AppSMTP, AppSMTP, AppSMTP},
	"ssh-ndpi":                    {AppSSH, AppSSH, AppSSH},
	"sshv1-ja4":                   {AppSSH, AppSSH, AppSSH},
	"sslh-ssh-zeek":               {AppSSH, AppSSH, AppSSH},
	"sslh-tls-zeek":               {AppNone, AppNone, AppNone},
	"adb-arkime":                  {AppADB, AppADB, AppADB},
	"starttls-adb-arkime":         {AppADB, AppADB, AppADB},
	"telnet-ndpi":                 {AppTelnet, AppTelnet, AppTelnet},
	"tls-to-http-server-zeek":     {AppNone, AppNone, AppNone},
	"tls-to-http-server-zeek2":    {AppNone, AppNone, AppHTTP},
	"starttls-ftp-ndpi":           {AppFTP, AppFTP, AppNone},
	"starttls-ftp-zeek":           {AppFTP, AppFTP, AppFTP},
	"starttls-imap-zeek":          {AppIMAP, AppIMAP, AppIMAP},
	"starttls-irc-zeek":           {AppIRC, AppNone, AppIRC},
	"starttls-ldap-arkime":        {AppLDAP, AppLDAP, AppLDAP},
	"starttls-ldap-zeek":          {AppLDAP, AppLDAP, AppLDAP},
	"starttls-mysql-arkime":       {AppMySQL, AppMySQL, AppMySQL},
	"starttls-mysql-rds12":        {AppMySQL, AppMySQL, AppMySQL},
	"starttls-mysql-rds13":        {AppMySQL, AppMySQL, AppMySQL},
	"starttls-pgsql-suricata":     {AppPostgreSQL, AppPostgreSQL, AppNone},
	"starttls-pgsql-zeek":         {AppPostgreSQL, AppPostgreSQL, AppNone},
	"starttls-pop3-ndpi":          {AppPOP3, AppNone, AppNone},
	"starttls-pop3-zeek":          {AppPOP3, AppPOP3, AppPOP3},
	"starttls-smtp-arkime":        {AppSMTP, AppSMTP, AppSMTP},
	"starttls-smtp-ndpi-v6":       {AppSMTP, AppSMTP, AppSMTP},
	"starttls-smtp-zeek":          {AppSMTP, AppSMTP, AppSMTP},
	"starttls-xmpp-dialback-zeek": {AppXMPP, AppXMPP, AppXMPP},
	"starttls-xmpp-zeek":          {AppXMPP, AppXMPP, AppXMPP},
}

func TestDetectStreamRecorded(t *testing.T) {
	for _, name := range allExchanges(t) {
		if _, udp := recordedDatagrams[name]; udp || name == "dns-udp-dig" {
			continue
		}
		want, ok := recordedApps[name]
		if !ok {
			t.Errorf("%s: no expectation in recordedApps", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := loadExchange(t, name)
			for _, c := range []struct {
				dir            string
				client, server []byte
				want           App
			}{
				{"both", e.client, e.server, want.both},
				{"client", e.client, nil, want.client},
				{"server", nil, e.server, want.server},
			} {
				app, more := DetectStream(c.client, c.server)
				if app != c.want {
					t.Errorf("%s: DetectStream = %q, want %q", c.dir, app, c.want)
				}
				if app != AppNone && more {
					t.Errorf("%s: more = true with a recognised app", c.dir)
				}
			}
		})
	}
}

// TestDetectStreamPrefixes cuts every recorded exchange short: a prefix
// must give the full exchange's answer or AppNone with more, never another
// protocol, nor give up while the full bytes decide.
func TestDetectStreamPrefixes(t *testing.T) {
	for _, name := range allExchanges(t) {
		want, ok := recordedApps[name]
		if !ok || want.both == AppNone {
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := loadExchange(t, name)
			check := func(c, s []byte, ok App) {
				t.Helper()
				app, more := DetectStream(c, s)
				switch {
				case app == ok:
				case app == AppNone && more:
				default:
					t.Fatalf("DetectStream(client[:%d], server[:%d]) = %q, %v; want %q or more",
						len(c), len(s), app, more, ok)
				}
			}
			for n := 0; n <= len(e.client) && n <= 300; n++ {
				check(e.client[:n], e.server, want.both)
				check(e.client[:n], nil, want.client)
			}
			for n := 0; n <= len(e.server) && n <= 300; n++ {
				check(e.client, e.server[:n], want.both)
				check(nil, e.server[:n], want.server)
			}
			for n := 0; n <= 300; n++ {
				check(e.client[:min(n, len(e.client))], e.server[:min(n, len(e.server))], want.both)
			}
		})
	}
}

func TestDetectStream(t *testing.T) {
	tlsClientHello := []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
	for _, tc := range []struct {
		name           string
		client, server string
		want           App
		more           bool
	}{
		// Empty and short.
		{name: "nothing yet", want: AppNone, more: true},
		{name: "one zero byte", client: "\x00", want: AppNone, more: true},

		// TLS is never plaintext, whatever follows.
		{name: "TLS ClientHello", client: string(tlsClientHello), server: "HTTP/1.1 400 Bad Request\r\n", want: AppNone},
		{name: "TLS two bytes", client: "\x16\x03", want: AppNone},
		{name: "TLS alert record", client: "\x15\x03\x03\x00\x02\x02\x28", want: AppNone},
		{name: "TLS app data", client: "\x17\x03\x03\x00\x20", want: AppNone},
		{name: "SSLv2 hello", client: "\x80\x2e\x01\x00\x02\x00\x15", want: AppNone},
		{name: "TLS server answer ignored", client: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", server: "\x15\x03\x01\x00\x02\x02\x46", want: AppHTTP},

		// HTTP (RFC 9112 §3) and h2c (RFC 9113 §3.4).
		{name: "HTTP GET", client: "GET / HTTP/1.1\r\n", want: AppHTTP},
		{name: "HTTP/1.0", client: "HEAD /x HTTP/1.0\r\n", want: AppHTTP},
		{name: "HTTP GET prefix", client: "GE", want: AppNone, more: true},
		{name: "HTTP target prefix", client: "GET /index.ht", want: AppNone, more: true},
		{name: "HTTP version prefix", client: "GET / HTTP/", want: AppNone, more: true},
		{name: "HTTP unknown method", client: "GETX / HTTP/1.1\r\n", want: AppNone, more: true},
		{name: "HTTP unknown method answered", client: "RPC_IN_DATA /rpc/rpcproxy.dll HTTP/1.1\r\n", server: "HTTP/1.1 200 Success\r\n", want: AppHTTP},
		{name: "HTTP unknown method, SMTP answer", client: "GETX / HTTP/1.1\r\n", server: "220 mx ESMTP\r\n", want: AppNone},
		{name: "SIP is not HTTP", client: "OPTIONS sip:probe@edge.test SIP/2.0\r\n", server: "SIP/2.0 200 OK\r\n", want: AppSIP},
		{name: "RTSP is not HTTP", client: "DESCRIBE rtsp://cam/1 RTSP/1.0\r\n", server: "RTSP/1.0 200 OK\r\n", want: AppNone},
		{name: "HTTP lower-case method", client: "post / HTTP/1.1\r\n", want: AppNone},
		// "GET key" is also a Redis inline command: only a reply decides.
		{name: "HTTP no version is Redis GET", client: "GET /\r\n", want: AppNone, more: true},
		{name: "Redis GET answered", client: "GET /\r\n", server: "$-1\r\n", want: AppRedis},
		{name: "HTTP no version", client: "POST /\r\n", want: AppNone},
		{name: "HTTP two spaces", client: "POST  / HTTP/1.1\r\n", want: AppNone},
		{name: "HTTP/2.0 request line", client: "POST / HTTP/2.0\r\n", want: AppNone},
		{name: "HTTP version junk", client: "POST / HTTP/1.1x\r\n", want: AppNone},
		{name: "HTTP control char in target", client: "GET /\x01 HTTP/1.1\r\n", want: AppNone},
		{name: "HTTP response only", server: "HTTP/1.1 404 Not Found\r\n", want: AppHTTP},
		{name: "HTTP response bad status", server: "HTTP/1.1 999 Nope\r\n", want: AppNone},
		{name: "HTTP response prefix", server: "HTTP/1.1 20", want: AppNone, more: true},
		{name: "HTTP vs SSH server", client: "GET / HTTP/1.0\r\n\r\n", server: "SSH-2.0-OpenSSH_9.2\r\nInvalid SSH identification string.\r\n", want: AppNone},
		{name: "h2c preface", client: h2Preface, want: AppH2C},
		{name: "h2c preface prefix", client: "PRI * HTTP/2.0\r\n", want: AppNone, more: true},
		{name: "h2c bad server", client: h2Preface, server: "HTTP/1.1 400 Bad Request\r\n", want: AppNone},

		// PostgreSQL.
		{name: "pg SSLRequest", client: pgSSLRequestBytes, want: AppPostgreSQL},
		{name: "pg GSSENCRequest", client: pgGSSENCRequestBytes, server: "G", want: AppPostgreSQL},
		{name: "pg CancelRequest", client: "\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x30\x39\x12\x34\x56\x78", want: AppPostgreSQL},
		{name: "pg SSLRequest wrong length", client: "\x00\x00\x00\x09\x04\xd2\x16\x2f\x00", want: AppNone},
		{name: "pg startup without user", client: "\x00\x00\x00\x14\x00\x03\x00\x00database\x00x\x00\x00", want: AppNone},
		{name: "pg startup bad terminator", client: "\x00\x00\x00\x11\x00\x03\x00\x00user\x00x\x00\x00\x00", want: AppNone},
		{name: "pg startup protocol 2", client: "\x00\x00\x00\x11\x00\x02\x00\x00user\x00x\x00\x00", want: AppNone},
		{name: "pg startup cut short", client: "\x00\x00\x00\x52\x00\x03\x00\x00user\x00pos", want: AppNone, more: true},
		{name: "pg fatal error alone", server: "E\x00\x00\x00\x60SFATAL\x00VFATAL\x00C28000\x00", want: AppPostgreSQL},
		{name: "pg auth request alone", server: "R\x00\x00\x00\x08\x00\x00\x00\x00", want: AppNone, more: true},
		{name: "pg SSLRequest answered with text", client: pgSSLRequestBytes, server: "hello\r\n", want: AppNone},

		// MySQL.
		{name: "mysql greeting prefix", server: "\x4a\x00\x00\x00\x0a5.7.", want: AppNone, more: true},
		{name: "mysql greeting protocol 9", server: "\x4a\x00\x00\x00\x095.7.16\x00", want: AppNone},
		{name: "mysql greeting bad seq", server: "\x4a\x00\x00\x01\x0a5.7.16\x00", want: AppNone},

		// Redis.
		{name: "redis RESP command", client: "*1\r\n$4\r\nPING\r\n", want: AppRedis},
		{name: "redis RESP prefix", client: "*2\r\n$3\r\nGE", want: AppNone, more: true},
		{name: "redis RESP digit command", client: "*1\r\n$4\r\n1234\r\n", want: AppNone},
		{name: "redis RESP zero elements", client: "*0\r\n", want: AppNone},
		{name: "redis inline alone", client: "PING\r\n", want: AppNone, more: true},
		{name: "redis inline with reply", client: "PING\r\n", server: "+PONG\r\n", want: AppRedis},
		{name: "redis inline LF only", client: "PING\r\n", server: "+PONG\n", want: AppNone},
		{name: "redis protected mode", server: "-DENIED Redis is running in protected mode\r\n", want: AppRedis},
		{name: "redis unknown inline", client: "HELLOWORLD\r\n", server: "+OK\r\n", want: AppNone},

		// SMTP and FTP share the 220 greeting.
		{name: "220 alone", server: "220 host ready\r\n", want: AppNone, more: true},
		{name: "220 ESMTP banner", server: "220 mx.example.com ESMTP Postfix\r\n", want: AppSMTP},
		{name: "220 FTP banner", server: "220 ProFTPD Server (Debian)\r\n", want: AppFTP},
		{name: "220 + EHLO", client: "EHLO client.example\r\n", server: "220 host ready\r\n", want: AppSMTP},
		{name: "220 + LHLO", client: "LHLO client.example\r\n", server: "220 host LMTP ready\r\n", want: AppSMTP},
		{name: "220 + USER", client: "USER anonymous\r\n", server: "220 host ready\r\n", want: AppFTP},
		{name: "220 + FEAT", client: "FEAT\r\n", server: "220 host ready\r\n", want: AppFTP},
		{name: "220 multi-line FTP", server: "220-Welcome\r\n220-to the\r\n220 FileZilla FTP server\r\n", want: AppFTP},
		{name: "220 names both", server: "220 SMTP and FTP gateway\r\n", want: AppNone, more: true},
		{name: "220 FTP banner + EHLO", client: "EHLO x\r\n", server: "220 vsFTPd 3.0\r\n", want: AppNone},
		{name: "220 + unknown command", client: "HELLO\r\n", server: "220 host ready\r\n", want: AppNone},
		{name: "221 not a greeting", server: "221 bye\r\n", want: AppNone},
		{name: "220x not a reply", server: "220x hi\r\n", want: AppNone},
		{name: "EHLO alone", client: "EHLO x\r\n", want: AppSMTP},
		{name: "EHLO without domain", client: "EHLO\r\n", want: AppNone},
		{name: "AUTH TLS alone", client: "AUTH TLS\r\n", want: AppFTP},
		{name: "USER alone", client: "USER bob\r\n", want: AppNone, more: true},

		// IMAP, POP3.
		{name: "IMAP greeting", server: "* OK IMAP4rev1 Service Ready\r\n", want: AppIMAP},
		{name: "IMAP greeting no name", server: "* OK ready\r\n", want: AppNone, more: true},
		{name: "IMAP greeting + tagged", client: "a001 LOGIN bob secret\r\n", server: "* OK ready\r\n", want: AppIMAP},
		{name: "IMAP bad tag", client: "a(1 CAPABILITY\r\n", want: AppNone},
		{name: "IMAP untagged from client", client: "* CAPABILITY\r\n", want: AppNone},
		{name: "IMAP SELECT after PREAUTH", client: "A001 SELECT \"INBOX\"\r\n", server: "* PREAUTH IMAP4rev1 ready\r\n", want: AppIMAP},
		{name: "IMAP SELECT alone", client: "A001 SELECT \"INBOX\"\r\n", want: AppNone, more: true},
		{name: "POP3 greeting", server: "+OK POP3 server ready\r\n", want: AppPOP3},
		{name: "POP3 plain greeting + USER", client: "USER bob\r\n", server: "+OK Dovecot ready.\r\n", want: AppPOP3},
		{name: "POP3 plain greeting alone", server: "+OK Dovecot ready.\r\n", want: AppNone, more: true},
		{name: "POP3 CAPA alone", client: "CAPA\r\n", want: AppPOP3},
		{name: "POP3 CAPA with argument", client: "CAPA x\r\n", want: AppNone},

		// SSH (RFC 4253 §4.2).
		{name: "SSH client", client: "SSH-2.0-OpenSSH_9.2\r\n", want: AppSSH},
		{name: "SSH 1.99 server", server: "SSH-1.99-Cisco-1.25\r\n", want: AppSSH},
		{name: "SSH server lines first", server: "Welcome\r\nSSH-2.0-x\r\n", want: AppSSH},
		{name: "SSH prefix", client: "SSH-2.", want: AppNone, more: true},
		{name: "SSH bad version", client: "SSH-3.0-x\r\n", want: AppNone},
		{name: "SSH empty software", client: "SSH-2.0-\r\n", want: AppNone},
		{name: "SSH client lines first", client: "Welcome\r\nSSH-2.0-x\r\n", want: AppNone},

		// XMPP, IRC.
		{name: "XMPP stream", client: "<stream:stream to='example.com' xmlns='jabber:client'>", want: AppXMPP},
		{name: "XMPP declaration only", client: "<?xml version='1.0'?>", want: AppNone, more: true},
		{name: "XML not XMPP", client: "<?xml version='1.0'?><soap:Envelope>", want: AppNone},
		{name: "XMPP name prefix", client: "<stream:streamx xmlns='jabber:client'>", want: AppNone},
		{name: "IRC PASS then NICK", client: "PASS secret\r\nNICK bob\r\n", want: AppIRC},
		{name: "IRC PASS alone", client: "PASS secret\r\n", want: AppNone, more: true},
		{name: "IRC USER four params", client: "USER bob 0 * :Bob\r\n", want: AppIRC},
		{name: "IRC notice", server: ":irc.example.net NOTICE * :*** Looking up your hostname...\r\n", want: AppIRC},
		{name: "IRC old notice", server: "NOTICE AUTH :*** Processing connection\r\n", want: AppIRC},
		{name: "IRC numeric", server: ":irc.example.net 001 bob :Welcome\r\n", want: AppIRC},
		{name: "IRC bad numeric", server: ":irc.example.net 01 bob\r\n", want: AppNone},

		// LDAP (RFC 4511), strictly.
		{name: "LDAP StartTLS request", client: "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + ldapStartTLSOID, want: AppLDAP},
		{name: "LDAP bad OID", client: "\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466..0037", want: AppNone},
		{name: "LDAP msgid 0", client: "\x30\x1d\x02\x01\x00\x77\x18\x80\x16" + ldapStartTLSOID, want: AppNone},
		{name: "LDAP op overruns", client: "\x30\x1d\x02\x01\x01\x77\x19\x80\x16" + ldapStartTLSOID, want: AppNone},
		{name: "LDAP unknown op", client: "\x30\x05\x02\x01\x01\x42\x00", want: AppNone},
		{name: "LDAP indefinite length", client: "\x30\x80\x02\x01\x01", want: AppNone},
		{name: "LDAP bind prefix", client: "\x30\x0c\x02\x01\x01\x60\x07\x02", want: AppNone, more: true},
		{name: "LDAP bind version 4", client: "\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x04\x04\x00\x80\x00", want: AppNone},
		{name: "LDAP bind", client: "\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00", want: AppLDAP},

		// DNS over TCP.
		{name: "DNS TCP query prefix", client: "\x00\x21\x12\x34\x01\x00\x00\x01", want: AppNone, more: true},
		{name: "DNS TCP response from client", client: "\x00\x21\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01", want: AppNone},
		{name: "DNS TCP query", client: "\x00\x21\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01", want: AppDNS},
		{name: "DNS TCP length too short", client: "\x00\x10\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01", want: AppNone},

		// Kafka, strictly.
		{name: "Kafka metadata request", client: "\x00\x00\x00\x19\x00\x03\x00\x09\x00\x00\x00\x01\x00\x07rdkafka\x00\x00\x00\x00", want: AppKafka},
		{name: "Kafka api key too big", client: "\x00\x00\x00\x19\x00\xff\x00\x09\x00\x00\x00\x01\x00\x07rdkafka", want: AppNone},
		{name: "Kafka binary client id", client: "\x00\x00\x00\x19\x00\x03\x00\x09\x00\x00\x00\x01\x00\x07rd\x00afka", want: AppNone},
		{name: "Kafka null client id", client: "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\xff\xff", want: AppNone, more: true},
		{name: "Kafka wrong correlation", client: "\x00\x00\x00\x19\x00\x03\x00\x09\x00\x00\x00\x01\x00\x07rdkafka", server: "\x00\x00\x00\x10\x00\x00\x00\x02", want: AppNone},
		{name: "Kafka answered", client: "\x00\x00\x00\x19\x00\x03\x00\x09\x00\x00\x00\x01\x00\x07rdkafka", server: "\x00\x00\x00\x10\x00\x00\x00\x01", want: AppKafka},

		// Plain text that proves nothing.
		{name: "free text", client: "Good morning, how are you?\r\n", want: AppNone},
		{name: "text with an IMAP word", client: "the id is 5\r\n", want: AppNone, more: true},
		{name: "text with an IMAP word, greeting", client: "the id is 5\r\n", server: "* OK ready\r\n", want: AppIMAP},
		{name: "lower-case EHLO", client: "ehlo x\r\n", want: AppNone, more: true},
		{name: "lower-case EHLO after 220", client: "ehlo x\r\n", server: "220 ready\r\n", want: AppSMTP},
		{name: "h2 frame prefix", client: h2Preface, server: "\x00\x00", want: AppH2C},
		{name: "HTTP, 3 odd server bytes", client: "GET / HTTP/1.1\r\n", server: "abc", want: AppNone},
		{name: "free text starting like HELLO", client: "hello there, how are you?\r\n", want: AppNone, more: true},
		{name: "IRC empty server line", client: "NICK bob\r\n", server: "\r\n", want: AppNone},
		{name: "binary", client: "\x8f\x01\x7e\x33\x00\xff\xfe\x10", server: "\x01\x02\x03", want: AppNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, more := DetectStream([]byte(tc.client), []byte(tc.server))
			if app != tc.want || more != tc.more {
				t.Errorf("DetectStream = %q, %v; want %q, %v", app, more, tc.want, tc.more)
			}
		})
	}
}

// TestDetectStreamRandom checks that random bytes are not taken for a
// protocol. The generator is fixed, so the test is deterministic.
func TestDetectStreamRandom(t *testing.T) {
	var x uint64 = 0x9e3779b97f4a7c15
	next := func() byte {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return byte(x >> 24)
	}
	buf := make([]byte, 512)
	srv := make([]byte, 512)
	for i := 0; i < 20000; i++ {
		for j := range buf {
			buf[j] = next()
			srv[j] = next()
		}
		if app, _ := DetectStream(buf, srv); app != AppNone {
			t.Fatalf("random bytes recognised as %q: client %x server %x", app, buf[:32], srv[:32])
		}
		if app, _ := DetectStream(buf, nil); app != AppNone {
			t.Fatalf("random client bytes recognised as %q: %x", app, buf[:32])
		}
		if app := DetectDatagram(buf[:64], nil, 53, 53); app != AppNone {
			t.Fatalf("random datagram recognised as %q: %x", app, buf[:64])
		}
	}
}

func TestDetectDatagram(t *testing.T) {
	dig := loadExchange(t, "dns-udp-dig")
	query := dig.client
	response := dig.server
	otherID := bytes.Clone(response)
	otherID[0] ^= 0xff
	trailing := append(bytes.Clone(response[:len(response)-2]), 0xff) // last RR cut
	rootNS := []byte("\xab\xcd\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01")
	qdZero := bytes.Clone(query)
	qdZero[5] = 0
	pointerQ := []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01")
	badClass := []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x09")
	zBit := bytes.Clone(query)
	zBit[3] |= 0x40
	withAnswer := []byte("\x12\x34\x01\x00\x00\x01\x00\x01\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01")
	longLabel := append([]byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x40"), bytes.Repeat([]byte("a"), 64)...)
	for _, tc := range []struct {
		name           string
		client, server []byte
		cport, sport   uint16
		want           App
	}{
		{"dig query and response", query, response, 40000, 53, AppDNS},
		{"dig on an odd port", query, response, 40000, 55353, AppDNS},
		{"query only", query, nil, 40000, 9999, AppDNS},
		{"response only", nil, response, 40000, 9999, AppDNS},
		{"response cut, DNS port", nil, trailing, 40000, 53, AppDNS},
		{"response cut, other port", nil, trailing, 40000, 9999, AppNone},
		{"mismatched ID", query, otherID, 40000, 53, AppNone},
		{"query answered by a query", query, query, 40000, 53, AppNone},
		{"response as the first datagram", response, nil, 40000, 53, AppNone},
		{"root NS priming query", rootNS, nil, 40000, 53, AppDNS},
		{"QDCOUNT 0", qdZero, nil, 40000, 53, AppNone},
		{"pointer in question", pointerQ, nil, 40000, 53, AppNone},
		{"bad class", badClass, nil, 40000, 53, AppNone},
		{"Z bit set", zBit, nil, 40000, 53, AppNone},
		{"query with answers", withAnswer, nil, 40000, 53, AppNone},
		{"query with a broken EDNS record, DNS port", query[:len(query)-3], nil, 40000, 53, AppDNS},
		{"query with a broken EDNS record, other port", query[:len(query)-3], nil, 40000, 9999, AppNone},
		{"label too long", longLabel, nil, 40000, 53, AppNone},
		{"header only", query[:12], nil, 40000, 53, AppNone},
		{"port alone", []byte("hello"), nil, 40000, 53, AppNone},
		{"nothing", nil, nil, 40000, 53, AppNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DetectDatagram(tc.client, tc.server, tc.cport, tc.sport); got != tc.want {
				t.Errorf("DetectDatagram = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadableText(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"ascii line", "GET / HTTP/1.1\r\nHost: example\r\n", true},
		{"too short", "hello world", false},
		{"exactly 16", "0123456789abcdef", true},
		{"tabs and newlines", "a\tb\nc\r\nd\te\nf\r\ng\th", true},
		{"utf-8", "Grüße aus Köln, schönen Tag!", true},
		{"utf-8 cut at the end", "Grüße aus Köln, sch\xc3", true},
		{"nul", "hello\x00world, how are you", false},
		{"escape", "hello\x1b[0mworld, how are you", false},
		{"del", "hello\x7fworld, how are you", false},
		{"c1 control", "hello\xc2\x85world, how are you", false},
		{"lone continuation", "hello\x80world, how are you", false},
		{"overlong", "hello\xc0\xafworld, how are you", false},
		{"surrogate", "hello\xed\xa0\x80world, how are you", false},
		{"above U+10FFFF", "hello\xf4\x90\x80\x80world, how are you", false},
		{"cut sequence mid-text", "hello\xe2\x82world, how are you", false},
		{"tls", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03abcdefghijk", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReadableText([]byte(tc.in)); got != tc.want {
				t.Errorf("ReadableText(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestAppString(t *testing.T) {
	want := map[App]string{
		AppNone: "", AppHTTP: "http", AppH2C: "h2c", AppPostgreSQL: "postgresql",
		AppMySQL: "mysql", AppRedis: "redis", AppSMTP: "smtp", AppIMAP: "imap",
		AppPOP3: "pop3", AppFTP: "ftp", AppLDAP: "ldap", AppDNS: "dns", AppSSH: "ssh",
		AppXMPP: "xmpp", AppIRC: "irc", AppKafka: "kafka", AppTelnet: "telnet", App(200): "",
	}
	for a, s := range want {
		t.Run(s, func(t *testing.T) {
			if got := a.String(); got != s {
				t.Errorf("App(%d).String() = %q, want %q", a, got, s)
			}
		})
	}
}

func TestDetectAllocs(t *testing.T) {
	for _, name := range []string{"starttls-smtp-zeek", "pg-disable", "ldap-search-anon", "kafka-kcat-apiversions", "telnet-ndpi"} {
		e := loadExchange(t, name)
		t.Run(name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, func() {
				DetectStream(e.client, e.server)
				DetectDatagram(e.client, e.server, 1, 2)
				ReadableText(e.client)
			}); n != 0 {
				t.Errorf("%v allocations per run, want 0", n)
			}
		})
	}
}

func BenchmarkDetectStream(b *testing.B) {
	benchExchanges(b, []string{"http-curl-nginx", "starttls-smtp-zeek", "pg-require", "starttls-ldap-zeek", "telnet-ndpi", "sslh-tls-zeek", "mqtt5-mosquitto", "nats-plain"},
		func(client, server []byte) { DetectStream(client, server) })
}

func BenchmarkDetectDatagram(b *testing.B) {
	e := loadExchange(b, "dns-udp-dig")
	b.ReportAllocs()
	for b.Loop() {
		DetectDatagram(e.client, e.server, 40000, 53)
	}
}

// FuzzDetectApp checks that the recognisers never panic, that a
// recognised app ends the search (more is false) and has a name, and that
// a client starting with a TLS record is never taken for plaintext.
func FuzzDetectApp(f *testing.F) {
	for _, name := range allExchanges(f) {
		e := loadExchange(f, name)
		f.Add(e.client, e.server)
		f.Add(e.client[:min(len(e.client), 40)], e.server[:min(len(e.server), 40)])
	}
	f.Fuzz(func(t *testing.T, client, server []byte) {
		app, more := DetectStream(client, server)
		if app >= numApps {
			t.Fatalf("DetectStream = %d, not an App", app)
		}
		if app != AppNone && (more || app.String() == "") {
			t.Fatalf("DetectStream = %q, %v", app, more)
		}
		if app != AppNone && LooksLikeTLS(client) {
			t.Fatalf("TLS client bytes recognised as %q", app)
		}
		if d := DetectDatagram(client, server, 53, 53); d != AppNone && d != AppDNS {
			t.Fatalf("DetectDatagram = %q", d)
		}
		ReadableText(client)
	})
}

func TestTelnetSide(t *testing.T) {
	for _, c := range []struct {
		name string
		b    string
		want side
	}{
		{"empty", "", sideEmpty},
		{"text", "login: ", sideNo},
		{"two negotiations", "\xff\xfd\x03\xff\xfb\x18", sideStrong},
		{"one negotiation then text", "\xff\xfd\x01login: ", sideWeak},
		{"one negotiation alone", "\xff\xfb\x01", sideWeak},
		{"cut inside the second", "\xff\xfd\x03\xff", sidePrefix},
		{"cut inside the first", "\xff\xfd", sidePrefix},
		{"subnegotiation with escaped 0xff", "\xff\xfa\x18\x00x\xff\xffy\xff\xf0\xff\xf1", sideStrong},
		{"subnegotiation unterminated", "\xff\xfa\x18\x00xterm", sidePrefix},
		{"subnegotiation with a stray IAC", "\xff\xfa\x18\x00\xff\x01\xff\xf0", sideNo},
		{"escaped data byte first", "\xff\xff\x00", sideNo},
		{"SE without SB", "\xff\xf0\xff\xf0", sideNo},
		{"binary after 0xff", "\xff\x10\x20\x30", sideNo},
	} {
		if got := telnetSide([]byte(c.b)); got != c.want {
			t.Errorf("%s: telnetSide(%q) = %d, want %d", c.name, c.b, got, c.want)
		}
	}
	long := append([]byte("\xff\xfa\x18"), make([]byte, maxTelnetSBLen)...)
	if got := telnetSide(long); got != sideNo {
		t.Errorf("endless subnegotiation: %d, want sideNo", got)
	}
}

func TestADBMessage(t *testing.T) {
	cnxn := "CNXN\x01\x00\x00\x01\x00\x00\x04\x00\x07\x00\x00\x002\x02\x00\x00\xbc\xb1\xa7\xb1host::\x00"
	for _, c := range []struct {
		name string
		b    string
		want side
	}{
		{"empty", "", sideEmpty},
		{"connect message", cnxn, sideStrong},
		{"header without its payload", cnxn[:24], sideStrong},
		{"a command's first letters", "CNX", sidePrefix},
		{"an unknown command", "HELO", sideNo},
		{"bad magic", cnxn[:20] + "\x00\x00\x00\x00", sideNo},
		{"payload too long", cnxn[:12] + "\x00\x00\x20\x00" + cnxn[16:24], sideNo},
	} {
		if got := adbSide([]byte(c.b)); got != c.want {
			t.Errorf("%s: adbSide = %d, want %d", c.name, got, c.want)
		}
	}
}
