package classify

import (
	"bytes"
	"testing"
)

// datagramWant is what the datagram recognisers must say about a recorded UDP
// exchange: the app and class with both directions, and the app from the client's
// datagram alone (AppNone where one direction is not enough).
type datagramWant struct {
	app    App
	class  Class
	client App
}

// recordedDatagrams are the UDP exchanges of testdata/plaintext, recorded from
// real software (testdata/pcaps, scripts/testdata/protocols.sh).
var recordedDatagrams = map[string]datagramWant{
	"syslog-udp-5424-logger":     {AppSyslog, ClassPlaintext, AppSyslog},
	"syslog-udp-3164-logger":     {AppSyslog, ClassPlaintext, AppSyslog},
	"snmp-v2c-net-snmp":          {AppSNMP, ClassPlaintext, AppSNMP},
	"snmp-v1-net-snmp":           {AppSNMP, ClassPlaintext, AppSNMP},
	"snmp-v3-discovery-net-snmp": {AppSNMP, ClassUnknown, AppSNMP}, // the next message decides
	"snmpv3-authpriv-net-snmp":   {AppSNMP, ClassEncrypted, AppSNMP},
	"ntp-chrony":                 {AppNTP, ClassPlaintext, AppNone}, // a lone request is not enough
	"ntp-nts-chrony":             {AppNTP, ClassEncrypted, AppNone},
	"tftp-rrq-hpa":               {AppTFTP, ClassPlaintext, AppTFTP},
	"tftp-data-hpa":              {AppTFTP, ClassPlaintext, AppNone},
	"radius-freeradius":          {AppRADIUS, ClassPlaintext, AppRADIUS},
	"sip-options-sipsak":         {AppSIP, ClassPlaintext, AppSIP},
	"netflow-v5-softflowd":       {AppNetFlow, ClassPlaintext, AppNetFlow},
	"netflow-v9-softflowd":       {AppNetFlow, ClassPlaintext, AppNetFlow},
	"ipfix-softflowd":            {AppNetFlow, ClassPlaintext, AppNetFlow},
	"memcached-udp":              {AppMemcached, ClassPlaintext, AppNone},
	"statsd-python":              {AppStatsd, ClassPlaintext, AppStatsd},
	"kerberos-mit":               {AppKerberos, ClassEncrypted, AppKerberos},
	"netbios-ns-nmblookup":       {AppNetBIOSNS, ClassPlaintext, AppNetBIOSNS},
	// From nDPI's test suite: a datagram nDPI once took for RADIUS.
	"radius-false-positive-ndpi": {AppNone, ClassUnknown, AppNone},
}

func TestDetectDatagramRecorded(t *testing.T) {
	for name, want := range recordedDatagrams {
		t.Run(name, func(t *testing.T) {
			e := loadExchange(t, name)
			app, class, _ := detectDatagramRegistered(e.client, e.server)
			if app != want.app || class != want.class {
				t.Errorf("both directions: %q %s, want %q %s", app, class, want.app, want.class)
			}
			if app, _, _ := detectDatagramRegistered(e.client, nil); app != want.client {
				t.Errorf("client alone: %q, want %q", app, want.client)
			}
			// DNS first, as the classifier tries it: only NetBIOS-NS is DNS-format.
			wantDNS := AppNone
			if want.app == AppNetBIOSNS {
				wantDNS = AppDNS
			}
			if d := DetectDatagram(e.client, e.server, 40000, 53); d != wantDNS {
				t.Errorf("DetectDatagram = %q, want %q", d, wantDNS)
			}
		})
	}
}

// TestClassifySNMPv3 follows an SNMPv3 exchange past its engine discovery: the
// class comes from the request after it.
func TestClassifySNMPv3(t *testing.T) {
	disc := loadExchange(t, "snmp-v3-discovery-net-snmp")
	priv := loadExchange(t, "snmpv3-authpriv-net-snmp")
	v2c := loadExchange(t, "snmp-v2c-net-snmp")
	for _, tc := range []struct {
		name           string
		client, server [][]byte
		final          bool
		want           Class
		done           bool
	}{
		{"discovery then authPriv", [][]byte{disc.client, priv.client}, [][]byte{disc.server, priv.server}, false, ClassEncrypted, true},
		{"discovery then v2c-style clear message", [][]byte{disc.client, v2c.client}, [][]byte{disc.server}, false, ClassPlaintext, true},
		{"discovery alone, more to come", [][]byte{disc.client}, [][]byte{disc.server}, false, ClassUnknown, false},
		{"discovery alone, final", [][]byte{disc.client}, [][]byte{disc.server}, true, ClassUnknown, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Proto: 17, Client: framedAll(tc.client...), Server: framedAll(tc.server...), ClientMore: true, ServerMore: true, Final: tc.final}
			var c Classifier
			v, done := c.Classify(&in)
			if done != tc.done || (done && (v.Class != tc.want || v.App != AppSNMP)) {
				t.Errorf("Classify = %s %q done %v, want %s snmp done %v", v.Class, v.App, done, tc.want, tc.done)
			}
		})
	}
}

// TestNetBIOSNameAskedOfDNS: a NetBIOS-encoded name sent to a DNS port is dns
// (nDPI's netbios_wildcard_dns_query.pcap), to port 137 netbios-ns.
func TestNetBIOSNameAskedOfDNS(t *testing.T) {
	q := loadExchange(t, "netbios-ns-nmblookup").client
	for _, tc := range []struct {
		port uint16
		want App
	}{{53, AppDNS}, {137, AppNetBIOSNS}} {
		in := Input{Proto: 17, Client: framedAll(q), ClientPort: 41335, ServerPort: tc.port, Final: true}
		var c Classifier
		if v, _ := c.Classify(&in); v.Class != ClassPlaintext || v.App != tc.want {
			t.Errorf("to port %d: %s %q, want plaintext %q", tc.port, v.Class, v.App, tc.want)
		}
	}
}

// framedAll puts each non-empty datagram behind its 2-byte length, as the flow
// table does.
func framedAll(ds ...[]byte) []byte {
	var b []byte
	for _, d := range ds {
		if len(d) > 0 {
			b = append(b, framed(d)...)
		}
	}
	return b
}

// mutate returns a copy of b with b[i] set to v.
func mutate(b []byte, i int, v byte) []byte {
	c := bytes.Clone(b)
	c[i] = v
	return c
}

// TestDatagramRecognisersReject feeds each datagram recogniser inputs that break
// one rule of its specification; none may be recognised.
func TestDatagramRecognisersReject(t *testing.T) {
	x := func(name string) exchange { return loadExchange(t, name) }
	syslog, snmp, ntp := x("syslog-udp-5424-logger"), x("snmp-v2c-net-snmp"), x("ntp-chrony")
	tftp, radius, sip := x("tftp-rrq-hpa"), x("radius-freeradius"), x("sip-options-sipsak")
	nf5, ipfix, mc := x("netflow-v5-softflowd"), x("ipfix-softflowd"), x("memcached-udp")
	priv := x("snmpv3-authpriv-net-snmp")
	for _, tc := range []struct {
		name           string
		client, server []byte
	}{
		{"syslog PRI above 191 (RFC 5424 §6.2.1)", []byte("<192>1 2026-12-07T14:00:00Z host app - - - text"), nil},
		{"syslog PRI with a leading zero", []byte("<013>1 2026-12-07T14:00:00Z host app - - - text"), nil},
		{"syslog PRI without a header", []byte("<13>hello there, general text"), nil},
		{"syslog 3164 with a bad month", []byte("<13>Foo  7 14:00:00 host app: text"), nil},
		{"syslog answered", syslog.client, []byte("ok")},
		{"syslog with control bytes", append(bytes.Clone(syslog.client[:40]), 0x01, 0x02), nil},
		{"SNMP version 2 (none such)", mutate(snmp.client, 4, 2), nil},
		{"SNMP trailing byte", append(bytes.Clone(snmp.client), 0), nil},
		{"SNMP PDU tag 0xa9", mutate(snmp.client, bytes.IndexByte(snmp.client, 0xa0), 0xa9), nil},
		{"SNMPv3 privacy without authentication (RFC 3412 §6.4)", mutate(priv.client, bytes.Index(priv.client, []byte{0x04, 0x01, 0x07})+2, 0x06), nil},
		{"NTP version 5", mutate(ntp.client, 0, 0x2b), nil},
		{"NTP mode 6 (control)", mutate(ntp.client, 0, 0x26), nil},
		{"NTP stratum 17", mutate(ntp.server, 1, 17), nil},
		{"NTP server answering a client in mode 3", ntp.client, ntp.client},
		{"NTP extension field shorter than 16 (RFC 7822 §3)", append(bytes.Clone(ntp.client), 0x01, 0x04, 0x00, 0x08, 0, 0, 0, 0), nil},
		{"TFTP unknown mode", []byte("\x00\x01edge-7.cfg\x00binary\x00"), nil},
		{"TFTP filename not terminated", []byte("\x00\x01edge-7.cfg"), nil},
		{"TFTP data answered by the wrong ACK", []byte("\x00\x03\x00\x01data"), []byte("\x00\x04\x00\x02")},
		{"TFTP request answered with data from port 69", tftp.client, []byte("\x00\x03\x00\x01data")},
		{"RADIUS length beyond the datagram", mutate(radius.client, 3, 0xff), nil},
		{"RADIUS attribute length 1", mutate(radius.client, 21, 1), nil},
		{"RADIUS reply to another identifier", radius.client, mutate(radius.server, 1, radius.server[1]+1)},
		{"RADIUS request answered by a request", radius.client, radius.client},
		{"SIP unknown method", []byte("FETCH sip:ops@10.77.0.50 SIP/2.0\r\n"), nil},
		{"SIP without a sip: URI", []byte("OPTIONS http://x SIP/2.0\r\n"), nil},
		{"SIP status 700", []byte("SIP/2.0 700 Nope\r\n"), nil},
		{"SIP/2.1 request", bytes.Replace(sip.client, []byte("SIP/2.0\r\n"), []byte("SIP/2.1\r\n"), 1), nil},
		{"NetFlow v5 count not matching the length", mutate(nf5.client, 3, nf5.client[3]+1), nil},
		{"NetFlow v5 answered", nf5.client, []byte{0}},
		{"IPFIX length not the datagram's", mutate(ipfix.client, 3, ipfix.client[3]+4), nil},
		{"IPFIX set ID 4 (reserved)", mutate(ipfix.client, 17, 4), nil},
		{"memcached UDP reserved bytes set", mutate(mc.client, 7, 1), nil},
		{"memcached UDP request of two datagrams", mutate(mc.client, 5, 2), nil},
		{"memcached UDP reply to another request", mc.client, mutate(mc.server, 1, 9)},
		{"InfluxDB field without a value type", []byte("cpu,host=web-1 usage_idle=high 1465839830100400200\n"), nil},
		{"InfluxDB line without fields", []byte("cpu,host=web-1\n"), nil},
		{"InfluxDB non-numeric timestamp", []byte("cpu usage_idle=1 yesterday\n"), nil},
		{"statsd unknown type", []byte("api.requests:1|x\n"), nil},
		{"statsd value not a number", []byte("api.requests:abc|c\n"), nil},
		{"statsd answered", []byte("api.requests:1|c"), []byte("ok")},
		{"Kerberos pvno 4", []byte("\x6a\x0e\x30\x0c\xa1\x03\x02\x01\x04\xa2\x03\x02\x01\x0a\xa3\x00"), nil},
		{"Kerberos msg-type not the tag's", []byte("\x6a\x0e\x30\x0c\xa1\x03\x02\x01\x05\xa2\x03\x02\x01\x0c\xa3\x00"), nil},
		{"DTLS ClientHello", []byte("\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x40\x01\x00\x00\x34"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if app, class, _ := detectDatagramRegistered(tc.client, tc.server); app != AppNone {
				t.Errorf("recognised as %q (%s)", app, class)
			}
		})
	}
}

// TestDatagramRecognisersAccept holds inputs from the specifications that no
// recording here covers.
func TestDatagramRecognisersAccept(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client, server []byte
		app            App
		class          Class
	}{
		{"statsd counter, gauge delta, timer with rate and tags", []byte("api.requests:1|c\nqueue.depth:-3|g\nlatency:12.5|ms|@0.1|#env:prod\n"), nil, AppStatsd, ClassPlaintext},
		{"DogStatsD event", []byte("_e{5,4}:title|text|#env:prod"), nil, AppStatsd, ClassPlaintext},
		{"InfluxDB line protocol", []byte("cpu,host=web-1,region=eu usage_idle=92.5,usage_user=3i 1465839830100400200\nmem,host=web-1 used_percent=41.2,note=\"ok, fine\"\n"), nil, AppInfluxDB, ClassPlaintext},
		{"Kerberos AS-REQ (RFC 4120 §5.4.1)", []byte("\x6a\x0e\x30\x0c\xa1\x03\x02\x01\x05\xa2\x03\x02\x01\x0a\xa3\x00"), nil, AppKerberos, ClassEncrypted},
		{"Kerberos KRB-ERROR answer", []byte("\x6c\x0e\x30\x0c\xa1\x03\x02\x01\x05\xa2\x03\x02\x01\x0c\xa3\x00"), []byte("\x7e\x0e\x30\x0c\xa0\x03\x02\x01\x05\xa1\x03\x02\x01\x1e\xa2\x00"), AppKerberos, ClassEncrypted},
		{"syslog RFC 3164 with a space-padded day", []byte("<38>Dec  7 14:00:01 edge sshd[42]: Accepted publickey"), nil, AppSyslog, ClassPlaintext},
		{"syslog RFC 5424 NILVALUE timestamp", []byte("<165>1 - host app - - - text"), nil, AppSyslog, ClassPlaintext},
		{"NTS-protected NTP request (RFC 8915 §5.6)", ntsRequest(), nil, AppNone, ClassUnknown},
		{"mDNS query stays DNS (RFC 6762)", []byte("\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07printer\x05local\x00\x00\x01\x80\x01"), nil, AppDNS, ClassPlaintext},
		{"NetBIOS NBSTAT query (RFC 1002 §4.2.17)", []byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\x00\x21\x00\x01"), nil, AppNetBIOSNS, ClassPlaintext},
		{"a 32-letter label beyond A-P is DNS, not NetBIOS", []byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAZ\x00\x00\x21\x00\x01"), nil, AppDNS, ClassPlaintext},
		{"TFTP OACK (RFC 2347)", []byte("\x00\x06blksize\x001428\x00"), []byte("\x00\x04\x00\x00"), AppTFTP, ClassPlaintext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, class, _ := detectDatagramRegistered(tc.client, tc.server)
			if app != tc.app || (app != AppNone && class != tc.class) {
				t.Errorf("%q %s, want %q %s", app, class, tc.app, tc.class)
			}
		})
	}
	// An NTS request answered by an NTS response is encrypted.
	req := ntsRequest()
	resp := bytes.Clone(req)
	resp[0] = 0x24 // version 4, mode 4
	copy(resp[24:32], req[40:48])
	if app, class, _ := detectDatagramRegistered(req, resp); app != AppNTP || class != ClassEncrypted {
		t.Errorf("NTS exchange: %q %s, want ntp encrypted", app, class)
	}
}

// ntsRequest builds an NTPv4 client request with the extension fields of RFC 8915
// §5: Unique Identifier, NTS Cookie, and the NTS Authenticator and Encrypted
// Extension Fields.
func ntsRequest() []byte {
	b := make([]byte, ntpHeaderLen)
	b[0] = 0x23 // version 4, mode 3
	b[2] = 6
	copy(b[40:], "\x01\x02\x03\x04\x05\x06\x07\x08")
	ext := func(typ uint16, n int) {
		e := make([]byte, n)
		e[0], e[1], e[2], e[3] = byte(typ>>8), byte(typ), byte(n>>8), byte(n)
		b = append(b, e...)
	}
	ext(0x0104, 36)
	ext(0x0204, 104)
	ext(ntsAuthenticator, 40)
	return b
}

// TestStreamRecognisersReject feeds the new TCP recognisers openings that break
// one rule of their specification.
func TestStreamRecognisersReject(t *testing.T) {
	x := func(name string) exchange { return loadExchange(t, name) }
	mqtt, nats, set := x("mqtt311-mosquitto"), x("nats-plain"), x("memcached-text-set")
	octet := x("syslog-tcp-octet-logger")
	for _, tc := range []struct {
		name           string
		client, server []byte
	}{
		{"MQTT protocol level 6", mutate(mqtt.client, 8, 6), nil},
		{"MQTT reserved connect flag (3.1.1 §3.1.2.3)", mutate(mqtt.client, 9, mqtt.client[9]|1), nil},
		{"MQTT remaining length of five bytes", []byte("\x10\xff\xff\xff\xff\x7f"), nil},
		{"MQTT CONNACK flags 2", mqtt.client, []byte("\x20\x02\x02\x00")},
		{"NATS INFO without JSON", []byte("CONNECT {}\r\n"), []byte("INFO server\r\n")},
		{"NATS INFO JSON not closed", nil, []byte("INFO {\"server_id\":\"x\"\r\n")},
		{"NATS answered by HTTP", nats.client, []byte("HTTP/1.1 400 Bad Request\r\n")},
		{"AMQP version 0-8", []byte("AMQP\x01\x01\x08\x00"), nil},
		{"AMQP answered by something else", []byte("AMQP\x00\x00\x09\x01"), []byte("HTTP/1.1 400 Bad Request\r\n")},
		{"AMQP frame without its frame-end octet", []byte("\x01\x00\x01\x00\x00\x00\x04\x00\x14\x00\x28\x00\x01\x00\x01\x00\x00\x00\x04\x00\x14\x00\x28\xce"), nil},
		{"STOMP command with arguments", []byte("CONNECT host\naccept-version:1.2\n\n\x00"), nil},
		{"STOMP header without a colon", []byte("CONNECT\nhost\n\n\x00"), nil},
		{"NSQ without the magic", []byte("IDENTIFY\n"), nil},
		{"Gearman packet type 99", []byte("\x00REQ\x00\x00\x00\x63\x00\x00\x00\x00"), nil},
		{"MongoDB OP_MSG with a responseTo", []byte("\x30\x00\x00\x00\x01\x00\x00\x00\x07\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00"), nil},
		{"MongoDB OP_QUERY off a command collection", []byte("\x30\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xd4\x07\x00\x00\x00\x00\x00\x00admin.users\x00"), nil},
		{"CQL version 2", []byte("\x02\x00\x00\x01\x05\x00\x00\x00\x00"), []byte("\x82\x00\x00\x01\x06\x00\x00\x00\x00")},
		{"CQL reply on another stream", []byte("\x04\x00\x00\x01\x05\x00\x00\x00\x00"), []byte("\x84\x00\x00\x02\x06\x00\x00\x00\x00")},
		{"ZooKeeper protocol version 1", []byte("\x00\x00\x00\x2c\x00\x00\x00\x01"), nil},
		{"beanstalk put with three numbers", []byte("put 1024 0 60\r\n"), nil},
		{"beanstalk put in upper case", []byte("PUT 1024 0 60 11\r\n"), nil},
		{"memcached set with a non-numeric length", []byte("set k 0 0 five\r\n"), nil},
		{"memcached set in upper case", bytes.ToUpper(set.client), nil},
		{"syslog over TCP answered", octet.client, []byte("ok\n")},
		{"syslog octet count with a leading zero", append([]byte("087 "), octet.client[4:]...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if app, _ := DetectStream(tc.client, tc.server); app != AppNone {
				t.Errorf("recognised as %q", app)
			}
		})
	}
}

// TestStreamRecognisersAccept holds openings from the specifications that no
// recording here covers.
func TestStreamRecognisersAccept(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client, server string
		want           App
	}{
		{"AMQP 0-9-1 and Connection.Start", "AMQP\x00\x00\x09\x01", "\x01\x00\x00\x00\x00\x01\xf4\x00\x0a\x00\x0a\x00\x09", AppAMQP},
		{"AMQP 1.0 SASL header", "AMQP\x03\x01\x00\x00", "", AppAMQP},
		{"AMQP 0-9-1 frames joined midstream (§4.2.3)", "\x01\x00\x01\x00\x00\x00\x04\x00\x14\x00\x28\xce\x08\x00\x00\x00\x00\x00\x00\xce", "", AppAMQP},
		{"STOMP 1.2 CONNECT and CONNECTED", "CONNECT\naccept-version:1.2\nhost:broker\n\n\x00", "CONNECTED\nversion:1.2\n\n\x00", AppSTOMP},
		{"NSQ IDENTIFY", "  V2IDENTIFY\n\x00\x00\x00\x02{}", "\x00\x00\x00\x06\x00\x00\x00\x00OK", AppNSQ},
		{"Gearman SUBMIT_JOB", "\x00REQ\x00\x00\x00\x07\x00\x00\x00\x05f\x00\x00hi", "\x00RES\x00\x00\x00\x08\x00\x00\x00\x04H:1\x00", AppGearman},
		{"MongoDB OP_MSG hello", "\x30\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x1b\x00\x00\x00", "", AppMongoDB},
		{"MongoDB OP_QUERY isMaster and OP_REPLY", "\x3a\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\xd4\x07\x00\x00\x00\x00\x00\x00admin.$cmd\x00", "\x40\x00\x00\x00\x09\x00\x00\x00\x05\x00\x00\x00\x01\x00\x00\x00", AppMongoDB},
		{"CQL v4 STARTUP", "\x04\x00\x00\x01\x01\x00\x00\x00\x16\x00\x01\x00\x0bCQL_VERSION\x00\x053.0.0", "\x84\x00\x00\x01\x02\x00\x00\x00\x00", AppCassandra},
		{"CQL v5 OPTIONS and SUPPORTED", "\x05\x00\x00\x00\x05\x00\x00\x00\x00", "\x85\x00\x00\x00\x06\x00\x00\x00\x02\x00\x00", AppCassandra},
		{"ZooKeeper ConnectRequest with readOnly", "\x00\x00\x00\x2d\x00\x00\x00\x00" + "\x00\x00\x00\x00\x00\x00\x00\x00" + "\x00\x00\x75\x30" + "\x00\x00\x00\x00\x00\x00\x00\x00" + "\x00\x00\x00\x10" + "0123456789abcdef" + "\x00", "", AppZooKeeper},
		{"SIP REGISTER over TCP", "REGISTER sip:example.test SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1\r\n", "SIP/2.0 401 Unauthorized\r\n", AppSIP},
		// SASL_PLAINTEXT: SaslHandshake (api_key 17) in clear; an SSL listener is TLS from the first byte.
		{"Kafka SaslHandshake", "\x00\x00\x00\x17\x00\x11\x00\x01\x00\x00\x00\x01\x00\x06client\x00\x05PLAIN", "", AppKafka},
		{"Redis Sentinel query", "*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$8\r\nmymaster\r\n", "*2\r\n$9\r\n10.0.0.5\r\n$4\r\n6379\r\n", AppRedis},
		{"beanstalk put and INSERTED", "put 1024 0 60 11\r\nhello world\r\n", "INSERTED 7\r\n", AppBeanstalk},
		{"beanstalk use and USING", "use invoices\r\n", "USING invoices\r\n", AppBeanstalk},
		{"Kerberos TGS-REQ over TCP (RFC 4120 §7.2.2)", "\x00\x00\x00\x10\x6c\x0e\x30\x0c\xa1\x03\x02\x01\x05\xa2\x03\x02\x01\x0c\xa3\x00", "", AppKerberos},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if app, _ := DetectStream([]byte(tc.client), []byte(tc.server)); app != tc.want {
				t.Errorf("DetectStream = %q, want %q", app, tc.want)
			}
		})
	}
}

// TestNATSStartTLS follows the recorded NATS connection whose server required
// TLS: its INFO line in clear, then TLS 1.3 from the client's first byte.
func TestNATSStartTLS(t *testing.T) {
	e := loadExchange(t, "starttls-nats")
	info := bytes.Index(e.server, []byte("\r\n")) + 2
	if c, s, st := FindStartTLS(AppNATS, e.client, e.server); c != 0 || s != info || st != UpgradeDone {
		t.Errorf("FindStartTLS = %d, %d, %s; want 0, %d, done", c, s, st, info)
	}
	if _, _, st := FindStartTLS(AppNATS, nil, e.server); st != UpgradePending {
		t.Errorf("before the client's hello: %s, want pending", st)
	}
	in := Input{Proto: 6, Client: e.client, Server: e.server, Final: true}
	var c Classifier
	v, _ := c.Classify(&in)
	if v.Class != ClassTLS || v.App != AppNATS || !v.StartTLS || v.SNI != "nats.internal" || v.Version.Normalized() != VersionTLS13 {
		t.Errorf("Classify = %s %q starttls %v sni %q %v, want tls nats starttls nats.internal TLS1.3", v.Class, v.App, v.StartTLS, v.SNI, v.Version)
	}
	// The INFO alone, with tls_required: wait for the client.
	in = Input{Proto: 6, Server: e.server[:info], ClientMore: true, ServerMore: true}
	if _, done := c.Classify(&in); done {
		t.Error("INFO with tls_required alone was decided")
	}
	plain := loadExchange(t, "nats-plain")
	if _, _, st := FindStartTLS(AppNATS, plain.client, plain.server); st != UpgradeNone {
		t.Errorf("clear NATS: %s, want none", st)
	}
}

// TestAMQPStartTLS follows AMQP 1.0's TLS layer (OASIS AMQP 1.0 §5.2).
func TestAMQPStartTLS(t *testing.T) {
	const hdr = "AMQP\x02\x01\x00\x00"
	hello := "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"
	for _, tc := range []struct {
		name           string
		client, server string
		want           UpgradeState
	}{
		{"header echoed, TLS follows", hdr + hello, hdr + "\x16\x03\x03\x00\x05", UpgradeDone},
		{"no answer yet", hdr, "", UpgradePending},
		{"server offers SASL instead", hdr + hello, "AMQP\x03\x01\x00\x00", UpgradeRefused},
		{"plain AMQP", "AMQP\x00\x01\x00\x00", "AMQP\x00\x01\x00\x00", UpgradeNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, st := FindStartTLS(AppAMQP, []byte(tc.client), []byte(tc.server)); st != tc.want {
				t.Errorf("FindStartTLS = %s, want %s", st, tc.want)
			}
		})
	}
}

// TestNewRecognisersAllocate nothing: they run for every new flow.
func TestNewRecognisersAllocate(t *testing.T) {
	for name := range recordedDatagrams {
		e := loadExchange(t, name)
		if n := testing.AllocsPerRun(50, func() { detectDatagramRegistered(e.client, e.server) }); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
	for _, name := range []string{"mqtt5-mosquitto", "nats-plain", "memcached-binary-stat", "syslog-tcp-octet-logger"} {
		e := loadExchange(t, name)
		if n := testing.AllocsPerRun(50, func() { DetectStream(e.client, e.server) }); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}

func BenchmarkDetectDatagramRegistered(b *testing.B) {
	benchExchanges(b, []string{"snmp-v2c-net-snmp", "ntp-chrony", "netflow-v9-softflowd", "memcached-udp"},
		func(client, server []byte) { detectDatagramRegistered(client, server) })
}

// benchExchanges runs fn over each named exchange as a sub-benchmark.
func benchExchanges(b *testing.B, names []string, fn func(client, server []byte)) {
	for _, name := range names {
		e := loadExchange(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fn(e.client, e.server)
			}
		})
	}
}

// FuzzDetectDatagram checks the datagram recognisers: no panic, a recognised
// app is named and gets a class that is plaintext or encrypted (unknown only for
// an SNMPv3 engine discovery), and a DTLS record is never taken for clear text.
func FuzzDetectDatagram(f *testing.F) {
	for name := range recordedDatagrams {
		e := loadExchange(f, name)
		f.Add(e.client, e.server)
		f.Add(e.client, []byte(nil))
	}
	// Protocols without a recording: spec examples.
	f.Add([]byte("cpu,host=web-1 usage_idle=92.5,note=\"a b\" 1465839830100400200\n"), []byte(nil))
	f.Add([]byte("api.requests:1|c|@0.5|#env:prod\n"), []byte(nil))
	f.Add(ntsRequest(), []byte(nil))
	f.Fuzz(func(t *testing.T, client, server []byte) {
		app, class, _ := detectDatagramRegistered(client, server)
		if app == AppNone {
			return
		}
		if app >= numApps || app.String() == "" {
			t.Fatalf("app %d has no name", app)
		}
		switch {
		case class == ClassPlaintext, class == ClassEncrypted:
		case class == ClassUnknown && app == AppSNMP:
		default:
			t.Fatalf("%q with class %s", app, class)
		}
		if class == ClassPlaintext && len(client) >= 3 && client[0] >= 20 && client[0] <= 25 && client[1] == 0xfe {
			t.Fatalf("a DTLS record recognised as %q", app)
		}
	})
}
