package classify

// Recognisers of message-bus protocols.

// Kafka (https://kafka.apache.org/protocol, "Headers").

const (
	kafkaMaxAPIKey     = 90
	kafkaMaxAPIVersion = 20
	kafkaMaxRequest    = 1 << 20 // a first request is small
)

func detectKafka(client, server []byte) result {
	c := kafkaClientSide(client)
	s := sideEmpty
	if len(server) > 0 {
		s = kafkaServerSide(server, client)
	}
	return combine(c, s)
}

// kafkaClientSide accepts a request header v1/v2: int32 size, int16
// api_key, int16 api_version, int32 correlation_id (non-negative) and a
// nullable string client_id. A printable, non-empty client_id is
// conclusive; a null or empty one only consistent.
func kafkaClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	// Check field by field what has arrived.
	if len(b) >= 2 && (b[0] != 0 || int(b[1]) > kafkaMaxRequest>>16) {
		return sideNo
	}
	if len(b) >= 1 && b[0] != 0 {
		return sideNo
	}
	if len(b) >= 4 && (be32(b) < 10 || be32(b) > kafkaMaxRequest) {
		return sideNo
	}
	if len(b) >= 5 && b[4] != 0 || len(b) >= 6 && b[5] > kafkaMaxAPIKey {
		return sideNo
	}
	if len(b) >= 7 && b[6] != 0 || len(b) >= 8 && b[7] > kafkaMaxAPIVersion {
		return sideNo
	}
	if len(b) >= 9 && b[8]&0x80 != 0 {
		return sideNo
	}
	if len(b) < 14 {
		return sidePrefix
	}
	size := int(be32(b))
	l := be16(b[12:])
	if l == 0xffff || l == 0 {
		if be32(b[4:]) == 0 {
			// Produce v0 without a client ID: the shape of a ZooKeeper
			// ConnectRequest (protocol version 0, lastZxidSeen 0), not a
			// Kafka client's first request.
			return sideNo
		}
		return sideWeak
	}
	if l > 255 || 10+l > size {
		return sideNo
	}
	for i := 14; i < 14+l; i++ {
		if i >= len(b) {
			return sidePrefix
		}
		if !isPrintable(b[i]) {
			return sideNo
		}
	}
	return sideStrong
}

// kafkaServerSide accepts a response header: int32 size and the
// correlation_id of the client's request.
func kafkaServerSide(b, client []byte) side {
	if len(b) < 8 {
		if b[0] != 0 {
			return sideNo
		}
		return sidePrefix
	}
	if n := be32(b); n < 4 || n > 1<<24 {
		return sideNo
	}
	if len(client) >= 12 {
		if be32(b[4:]) != be32(client[8:]) {
			return sideNo
		}
	}
	return sideWeak
}

// MQTT 3.1, 3.1.1 (OASIS mqtt-v3.1.1 §2.2, §3.1, §3.2) and 5.0 (OASIS
// mqtt-v5.0 §3.1, §3.2).

// mqttRemaining reads the Remaining Length varint after the fixed header's
// first byte (§2.2.3): its value and the offset after it. short is true
// when b ends inside it.
func mqttRemaining(b []byte) (n, off int, short, ok bool) {
	mult := 1
	for i := 1; i <= 4; i++ {
		if i >= len(b) {
			return 0, 0, true, true
		}
		n += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			return n, i + 1, false, true
		}
		mult <<= 7
	}
	return 0, 0, false, false
}

// mqttConnect judges a CONNECT packet: type 1 with flags 0, the protocol
// name "MQTT" (level 4 or 5) or "MQIsdp" (level 3), and connect flags with
// the reserved bit clear (§3.1.2.3).
func mqttConnect(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] != 0x10 {
		return sideNo
	}
	n, off, short, ok := mqttRemaining(b)
	switch {
	case !ok:
		return sideNo
	case short:
		return sidePrefix
	case n < 10:
		return sideNo
	}
	v := b[off:]
	for _, p := range [...]struct {
		name   string
		levels string
	}{{"\x00\x04MQTT", "\x04\x05"}, {"\x00\x06MQIsdp", "\x03"}} {
		switch matchLit(v, p.name, false) {
		case 0:
			return sidePrefix
		case 1:
			rest := v[len(p.name):]
			if len(rest) < 2 {
				return sidePrefix
			}
			if !containsByte(p.levels, rest[0]) || rest[1]&0x01 != 0 {
				return sideNo
			}
			return sideStrong
		}
	}
	return sideNo
}

// containsByte reports whether s holds c.
func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// mqttConnAck judges a CONNACK: type 2 with flags 0, a remaining length of
// 2 (3.1.1) or more (5.0 properties), acknowledge flags 0 or 1.
func mqttConnAck(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] != 0x20 {
		return sideNo
	}
	n, off, short, ok := mqttRemaining(b)
	switch {
	case !ok:
		return sideNo
	case short:
		return sidePrefix
	case n < 2:
		return sideNo
	case len(b) < off+1:
		return sidePrefix
	case b[off] > 1:
		return sideNo
	}
	return sideWeak
}

func detectMQTT(client, server []byte) result {
	return combine(mqttConnect(client), mqttConnAck(server))
}

// NATS (docs.nats.io "Client Protocol").

// natsServerInfo judges the server's first line: "INFO {json}". It
// reports whether the JSON says that TLS is required, and where the line
// ends (0 when it has not ended yet).
func natsServerInfo(b []byte) (s side, tls bool, end int) {
	if len(b) == 0 {
		return sideEmpty, false, 0
	}
	switch matchLit(b, "INFO {", false) {
	case -1:
		return sideNo, false, 0
	case 0:
		return sidePrefix, false, 0
	}
	ln, rest, st := nextLine(b, maxNATSInfo)
	if st == lineBad || !isTextLine(ln) {
		return sideNo, false, 0
	}
	if st == lineShort {
		return sidePrefix, false, 0
	}
	// nats-server ends the JSON with "} " before the CRLF.
	j := ln
	for j[len(j)-1] == ' ' {
		j = j[:len(j)-1]
	}
	if j[len(j)-1] != '}' {
		return sideNo, false, 0
	}
	return sideStrong, containsJSONTrue(ln, `"tls_required"`), len(b) - len(rest)
}

// maxNATSInfo is the longest INFO line followed: the server's JSON lists
// its cluster URLs, which can be long.
const maxNATSInfo = 8192

// containsJSONTrue reports whether the JSON text j holds key with the
// value true ("key":true, spaces allowed around the colon).
func containsJSONTrue(j []byte, key string) bool {
	for i := 0; i+len(key) <= len(j); i++ {
		if string(j[i:i+len(key)]) != key {
			continue
		}
		r := j[i+len(key):]
		for len(r) > 0 && (r[0] == ' ' || r[0] == ':') {
			r = r[1:]
		}
		if hasPrefix(r, "true") {
			return true
		}
	}
	return false
}

// natsClientSide judges the client's first line: "CONNECT {json}".
func natsClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch matchLit(b, "CONNECT {", false) {
	case -1:
		return sideNo
	case 0:
		return sidePrefix
	}
	return sideStrong
}

func detectNATS(client, server []byte) result {
	s, _, _ := natsServerInfo(server)
	return combine(natsClientSide(client), s)
}

// natsStartTLS follows a NATS connection whose server requires TLS: after
// the INFO line with tls_required the client's next bytes are a TLS
// handshake, which the server answers in TLS after its INFO.
func natsStartTLS(client, server []byte) (int, int, UpgradeState) {
	s, tls, end := natsServerInfo(server)
	switch {
	case s != sideStrong || !tls:
		return -1, -1, UpgradeNone
	case len(client) == 0:
		return 0, end, UpgradePending
	case LooksLikeTLS(client):
		return 0, end, UpgradeDone
	}
	return -1, -1, UpgradeNone
}

// natsTLS finds a NATS connection that switched to TLS after the server's
// INFO announced tls_required (the client answers the INFO with a
// ClientHello instead of CONNECT): it returns the offset of the server's
// first TLS byte.
func natsTLS(client, server []byte) (serverOff int, ok bool) {
	s, tls, end := natsServerInfo(server)
	if s != sideStrong || !tls || !LooksLikeTLS(client) {
		return 0, false
	}
	return end, true
}

// AMQP 0-9-1 (amqp0-9-1.pdf §4.2.2) and 1.0 (OASIS AMQP 1.0 Part 2
// §2.2; TLS and SASL layers §5.2, §5.3).

// amqpHeader judges a protocol header: "AMQP", then 0 0 9 1 (0-9-1), 1 1 0 9
// (0-9), or a protocol id 0 (AMQP), 2 (TLS) or 3 (SASL) and version 1 0 0.
func amqpHeader(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch matchLit(b, "AMQP", false) {
	case -1:
		return sideNo
	case 0:
		return sidePrefix
	}
	if len(b) < 8 {
		return sidePrefix
	}
	switch v := string(b[4:8]); v {
	case "\x00\x00\x09\x01", "\x01\x01\x00\x09", "\x00\x01\x00\x00", "\x02\x01\x00\x00", "\x03\x01\x00\x00":
		return sideStrong
	}
	return sideNo
}

// amqpServerSide accepts the server's answer: its own protocol header (1.0,
// or 0-9-1 refusing the version) or a Connection.Start method frame
// (type 1, channel 0, class 10, method 10).
func amqpServerSide(b []byte) side {
	if len(b) > 0 && b[0] == 'A' {
		if s := amqpHeader(b); s == sideStrong {
			return sideWeak
		} else {
			return s
		}
	}
	const start = "\x01\x00\x00"
	switch matchLit(b, start, false) {
	case -1:
		return sideNo
	case 0:
		return sidePrefix
	}
	if len(b) < 11 {
		return sidePrefix
	}
	if string(b[7:11]) != "\x00\x0a\x00\x0a" {
		return sideNo
	}
	return sideWeak
}

// AMQP 0-9-1 frame layout (§4.2.3): type, channel, size, payload, and the
// frame-end octet.
const (
	amqpFrameHeader = 7
	amqpFrameEnd    = 0xce
	maxAMQPFrame    = 8192 // longest frame awaited: the classifier sees the first KiB of a flow
	maxAMQPFrames   = 16   // frames walked at most
)

// amqpFrames judges a direction joined after the protocol header: AMQP
// 0-9-1 frames of type method, header, body or heartbeat (1, 2, 3, 8),
// each closed by the frame-end octet 0xce at the offset its size gives.
// Two complete frames are conclusive, one is consistent.
func amqpFrames(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	n := 0
	for len(b) > 0 && n < maxAMQPFrames {
		if t := b[0]; t != 1 && t != 2 && t != 3 && t != 8 {
			break
		}
		if len(b) < amqpFrameHeader {
			return amqpFrameCount(n, true)
		}
		size := be32(b[3:])
		if size > maxAMQPFrame {
			break
		}
		end := amqpFrameHeader + int(size)
		if len(b) <= end {
			return amqpFrameCount(n, true)
		}
		if b[end] != amqpFrameEnd {
			break
		}
		n++
		b = b[end+1:]
	}
	return amqpFrameCount(n, false)
}

// amqpFrameCount turns a number of complete frames into evidence; short
// says that the bytes ended inside the next one.
func amqpFrameCount(n int, short bool) side {
	switch {
	case n >= 2:
		return sideStrong
	case n == 1:
		return sideWeak
	case short:
		return sidePrefix
	}
	return sideNo
}

// amqpClientSide accepts a protocol header, or frames when the connection
// was joined after it.
func amqpClientSide(b []byte) side {
	if len(b) > 0 && b[0] == 'A' {
		return amqpHeader(b)
	}
	return amqpFrames(b)
}

func detectAMQP(client, server []byte) result {
	s := sideEmpty
	if len(server) > 0 {
		s = amqpServerSide(server)
		if s == sideNo {
			s = amqpFrames(server)
		}
	}
	return combine(amqpClientSide(client), s)
}

// amqpStartTLS follows the TLS layer of AMQP 1.0 (§5.2): the client's
// header with protocol id 2, echoed by the server, then TLS in both
// directions after the 8 bytes. A different header from the server
// refuses it.
func amqpStartTLS(client, server []byte) (int, int, UpgradeState) {
	const tlsHeader = "AMQP\x02\x01\x00\x00"
	if len(client) < 8 || string(client[:8]) != tlsHeader {
		return -1, -1, UpgradeNone
	}
	switch {
	case len(server) < 8:
		return 8, min(len(server), 8), UpgradePending
	case string(server[:8]) != tlsHeader:
		return -1, -1, UpgradeRefused
	}
	return 8, 8, UpgradeDone
}

// STOMP 1.0-1.2 (stomp.github.io stomp-specification-1.2 "Frames",
// "Connecting").

// stompFrame judges the first frame: command (CONNECT or STOMP from the
// client, CONNECTED or ERROR from the server) alone on its line, then a
// header line "name:value".
func stompFrame(b []byte, cmds ...string) side {
	if len(b) == 0 {
		return sideEmpty
	}
	ln, rest, st := nextLine(b, maxLine)
	if st == lineBad {
		return sideNo
	}
	known := false
	for _, c := range cmds {
		switch m := matchLit(ln, c, false); {
		case m == 0 && st == lineShort:
			return sidePrefix
		case m == 1 && len(ln) == len(c):
			known = true
		}
	}
	switch {
	case !known:
		return sideNo
	case st == lineShort:
		return sidePrefix
	}
	h, _, st := nextLine(rest, maxLine)
	if st == lineBad || !isTextLine(h) {
		return sideNo
	}
	colon := -1
	for i, c := range h {
		if c == ':' {
			colon = i
			break
		}
	}
	switch {
	case colon > 0:
		return sideStrong
	case st == lineShort:
		return sidePrefix
	case len(h) == 0:
		return sideWeak // a frame without headers
	}
	return sideNo
}

func detectSTOMP(client, server []byte) result {
	return combine(stompFrame(client, "CONNECT", "STOMP"), stompFrame(server, "CONNECTED", "ERROR"))
}

// NSQ (nsq.io "TCP Protocol Spec").

// nsqClientSide accepts the magic "  V2" followed by a command line.
func nsqClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch matchLit(b, "  V2", false) {
	case -1:
		return sideNo
	case 0:
		return sidePrefix
	}
	if len(b) == 4 {
		return sidePrefix
	}
	return commandSide(b[4:], nsqCommands[:])
}

// nsqCommands are the commands a client sends after the magic.
var nsqCommands = [...]command{
	{"IDENTIFY", argNo, sideStrong}, {"SUB", argYes, sideStrong}, {"PUB", argYes, sideStrong},
	{"MPUB", argYes, sideStrong}, {"DPUB", argYes, sideStrong}, {"AUTH", argNo, sideStrong}, {"NOP", argNo, sideStrong},
}

// nsqServerSide accepts a response frame: size, frame type 0-2, data.
func nsqServerSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(b) < 8 {
		if b[0] != 0 {
			return sideNo
		}
		return sidePrefix
	}
	if n, t := be32(b), be32(b[4:]); n < 4 || n > 1<<20 || t > 2 {
		return sideNo
	}
	return sideWeak
}

func detectNSQ(client, server []byte) result {
	return combine(nsqClientSide(client), nsqServerSide(server))
}

// Gearman (gearman.org/protocol "Binary Protocol").

// gearmanPacket judges a binary packet: magic "\0REQ" or "\0RES", a packet
// type 1-42 and a data size.
func gearmanPacket(b []byte, magic string) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch matchLit(b, magic, false) {
	case -1:
		return sideNo
	case 0:
		return sidePrefix
	}
	if len(b) < 12 {
		return sidePrefix
	}
	if t, n := be32(b[4:]), be32(b[8:]); t < 1 || t > 42 || n > 1<<20 {
		return sideNo
	}
	return sideStrong
}

func detectGearman(client, server []byte) result {
	return combine(gearmanPacket(client, "\x00REQ"), gearmanPacket(server, "\x00RES"))
}

// Beanstalk (beanstalkd doc/protocol.txt).

// beanstalkCommands are the producer and worker commands a connection
// opens with; "put" is checked for its numbers by beanstalkPut.
var beanstalkCommands = [...]command{
	{"USE", argYes, sideWeak}, {"WATCH", argYes, sideWeak}, {"RESERVE", argNo, sideWeak},
	{"RESERVE-WITH-TIMEOUT", argYes, sideWeak}, {"STATS-TUBE", argYes, sideWeak},
	{"LIST-TUBES", argNo, sideWeak}, {"STATS", argNo, sideWeak}, {"PEEK-READY", argNo, sideWeak},
}

// beanstalkReplies are the first words of the server's replies.
var beanstalkReplies = [...]command{
	{"INSERTED", argYes, sideWeak}, {"USING", argYes, sideWeak}, {"WATCHING", argYes, sideWeak},
	{"RESERVED", argYes, sideWeak}, {"OK", argYes, sideWeak}, {"FOUND", argYes, sideWeak},
	{"BURIED", argAny, sideWeak}, {"JOB_TOO_BIG", argNo, sideWeak}, {"DRAINING", argNo, sideWeak},
	{"TIMED_OUT", argNo, sideWeak}, {"DEADLINE_SOON", argNo, sideWeak}, {"NOT_FOUND", argNo, sideWeak},
	{"BAD_FORMAT", argNo, sideWeak}, {"UNKNOWN_COMMAND", argNo, sideWeak},
}

// beanstalkClientSide accepts "put <pri> <delay> <ttr> <bytes>" (four
// numbers, conclusive) or another lower-case command.
func beanstalkClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] < 'a' || b[0] > 'z' {
		return sideNo // commands are lower case
	}
	if m := matchLit(b, "put ", false); m == 0 {
		return sidePrefix
	} else if m == 1 {
		ln, _, st := nextLine(b, maxLine)
		if st == lineBad {
			return sideNo
		}
		return wordsAndNumbers(ln[len("put "):], 4, false, st)
	}
	return commandSide(b, beanstalkCommands[:])
}

func detectBeanstalk(client, server []byte) result {
	return combine(beanstalkClientSide(client), commandSide(server, beanstalkReplies[:]))
}
