package classify

// Recognisers of database and datastore protocols.

// PostgreSQL (protocol 3, "Message Formats" of the PostgreSQL manual).

// PostgreSQL request codes in the version field of the first message.
const (
	pgCancelRequest = 80877102
	pgSSLRequest    = 80877103
	pgGSSENCRequest = 80877104
	pgProtocol30    = 3 << 16 // 196608
	pgProtocol32    = 3<<16 | 2
	pgMaxStartup    = 10000 // libpq and the server cap the startup packet
)

func detectPostgreSQL(client, server []byte) result {
	return combine(pgClientSide(client), pgServerSide(server, 0))
}

// pgClientSide accepts the first frontend message: SSLRequest,
// GSSENCRequest, CancelRequest, or a StartupMessage of protocol 3.0-3.2
// whose NUL-terminated parameter pairs include "user".
func pgClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(b) < 8 {
		// Every first message is shorter than 64 KiB and its code starts
		// with 0x00 0x03 or 0x04 0xd2.
		if b[0] != 0 || (len(b) > 1 && b[1] != 0) {
			return sideNo
		}
		if len(b) > 4 && b[4] != 0 && b[4] != 0x04 {
			return sideNo
		}
		return sidePrefix
	}
	n := be32(b)
	switch code := be32(b[4:]); {
	case code == pgSSLRequest || code == pgGSSENCRequest:
		if n == 8 {
			return sideStrong
		}
		return sideNo
	case code == pgCancelRequest:
		// 16 bytes; protocol 3.2 allows secret keys up to 256 bytes.
		if n >= 16 && n <= 12+256 {
			return sideStrong
		}
		return sideNo
	case code >= pgProtocol30 && code <= pgProtocol32:
		if n < 8+5+1 || n > pgMaxStartup {
			return sideNo
		}
	default:
		return sideNo
	}
	end := int(n)
	complete := len(b) >= end
	if !complete {
		end = len(b)
	}
	params := b[8:end]
	user := false
	for key := true; ; key = !key {
		if len(params) == 0 {
			if complete {
				return sideNo // the terminating NUL is missing
			}
			return sidePrefix
		}
		if key && params[0] == 0 {
			// The terminator: it must be the last byte of the message.
			if !complete || len(params) != 1 || !user {
				if !complete && len(params) == 1 {
					return sidePrefix
				}
				return sideNo
			}
			return sideStrong
		}
		i := 0
		for i < len(params) && params[i] != 0 {
			c := params[i]
			if key && !(isAlpha(c) || isDigit(c) || c == '_' || c == '.' || c == '-') {
				return sideNo
			}
			if !key && c < 0x20 && c != '\t' {
				return sideNo
			}
			i++
		}
		if i == len(params) {
			if complete {
				return sideNo
			}
			return sidePrefix
		}
		if key && string(params[:i]) == "user" {
			user = true
		}
		params = params[i+1:]
	}
}

// pgServerSide accepts the first backend bytes: the one-byte answer to
// SSLRequest or GSSENCRequest ('S', 'N', 'G'), an authentication request
// ('R') or an ErrorResponse ('E'). An ErrorResponse whose first field is a
// severity is conclusive alone; depth stops the recursion after an 'N'.
func pgServerSide(b []byte, depth int) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch b[0] {
	case 'S', 'G':
		// TLS or GSSAPI follows; nothing more to check in clear text.
		return sideWeak
	case 'N':
		if depth > 0 {
			return sideNo
		}
		if len(b) == 1 {
			return sideWeak
		}
		return pgServerSide(b[1:], depth+1)
	case 'R', 'E':
	default:
		return sideNo
	}
	if len(b) < 5 {
		return sidePrefix
	}
	n := be32(b[1:])
	if b[0] == 'R' {
		if n < 8 || n > 2048 {
			return sideNo
		}
		if len(b) < 9 {
			return sidePrefix
		}
		// AuthenticationOk (0) up to SASLFinal (12); 1, 4 and 6 are gone.
		switch be32(b[5:]) {
		case 0, 2, 3, 5, 7, 8, 9, 10, 11, 12:
			return sideWeak
		}
		return sideNo
	}
	if n < 5 || n > 8192 {
		return sideNo
	}
	// ErrorResponse: fields of a type byte and a C string; the first one is
	// S (localised severity) or, from 9.6, usually S as well.
	f := b[5:]
	if len(f) == 0 {
		return sidePrefix
	}
	if f[0] != 'S' && f[0] != 'V' {
		return sideNo
	}
	for _, sev := range [...]string{"ERROR\x00", "FATAL\x00", "PANIC\x00"} {
		switch matchLit(f[1:], sev, false) {
		case 1:
			return sideStrong
		case 0:
			return sidePrefix
		}
	}
	// A localised severity: printable text up to the NUL.
	for i := 1; i < len(f) && i < 64; i++ {
		if f[i] == 0 {
			return sideWeak
		}
		if f[i] < 0x20 {
			return sideNo
		}
	}
	if len(f) < 64 {
		return sidePrefix
	}
	return sideNo
}

// MySQL / MariaDB (client/server protocol, "Connection Phase").

// MySQL capability flags.
const (
	mysqlClientProtocol41 = 0x0200
	mysqlClientSSL        = 0x0800
)

func detectMySQL(client, server []byte) result {
	return combine(mysqlClientSide(client), mysqlServerSide(server))
}

// mysqlGreeting parses the server's Protocol::HandshakeV10 packet. st is
// sideStrong for a full valid greeting; end is the offset after the packet
// and caps the lower capability flags.
func mysqlGreeting(b []byte) (st side, end int, caps int) {
	if len(b) == 0 {
		return sideEmpty, 0, 0
	}
	if len(b) < 4 {
		if len(b) > 2 && b[2] != 0 {
			return sideNo, 0, 0
		}
		return sidePrefix, 0, 0
	}
	n := le24(b)
	if b[3] != 0 || n < 1+2+4+8+1+2 || n > 1024 {
		return sideNo, 0, 0
	}
	end = 4 + n
	p := b[4:]
	if len(p) > n {
		p = p[:n]
	}
	if len(p) == 0 {
		return sidePrefix, 0, 0
	}
	if p[0] != 10 {
		return sideNo, 0, 0
	}
	// server_version: a NUL-terminated printable string that starts with
	// a digit ("8.0.36", "5.5.5-10.11.6-MariaDB").
	i := 1
	for ; i < len(p) && p[i] != 0; i++ {
		if !isPrintable(p[i]) || (i == 1 && !isDigit(p[i])) || i > 64 {
			return sideNo, 0, 0
		}
	}
	if i >= len(p) {
		return sidePrefix, 0, 0
	}
	if i == 1 {
		return sideNo, 0, 0
	}
	// thread id (4), auth-plugin-data-part-1 (8), filler 0x00,
	// capability_flags_1 (2).
	f := i + 1 + 4 + 8
	if f+3 > len(p) {
		if len(p) == n {
			return sideNo, 0, 0
		}
		if f < len(p) && p[f] != 0 {
			return sideNo, 0, 0
		}
		return sidePrefix, 0, 0
	}
	if p[f] != 0 {
		return sideNo, 0, 0
	}
	return sideStrong, end, le16(p[f+1:])
}

// mysqlServerSide accepts a HandshakeV10 greeting.
func mysqlServerSide(b []byte) side {
	st, _, _ := mysqlGreeting(b)
	return st
}

// mysqlClientSide accepts the client's first packet, a HandshakeResponse41
// or SSLRequest: sequence 1, CLIENT_PROTOCOL_41 and a zero filler. The
// filler is 23 bytes; MariaDB puts its extended capabilities in the last 4,
// so only the first 19 must be zero.
func mysqlClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(b) >= 4 && (le24(b) < 32 || le24(b) > 1<<16 || b[3] != 1) {
		return sideNo
	}
	if len(b) >= 6 && le16(b[4:])&mysqlClientProtocol41 == 0 {
		return sideNo
	}
	// payload: capability flags (4), max packet size (4), character set
	// (1), filler (23 bytes).
	for i := 4 + 9; i < 4+28; i++ {
		if i >= len(b) {
			return sidePrefix
		}
		if b[i] != 0 {
			return sideNo
		}
	}
	return sideStrong
}

// Redis (RESP, https://redis.io/docs/latest/develop/reference/protocol-spec/).

// redisInline are the inline commands accepted, each only with a reply in
// RESP; they prove nothing alone.
var redisInline = [...]command{
	{"PING", argAny, sideWeak},
	{"INFO", argAny, sideWeak},
	{"HELLO", argAny, sideWeak},
	{"ECHO", argYes, sideWeak},
	{"SELECT", argYes, sideWeak},
	{"DBSIZE", argNo, sideWeak},
	{"MONITOR", argNo, sideWeak},
	{"KEYS", argYes, sideWeak},
	{"SCAN", argYes, sideWeak},
	{"CLIENT", argYes, sideWeak},
	{"CONFIG", argYes, sideWeak},
	{"CLUSTER", argYes, sideWeak},
	{"COMMAND", argAny, sideWeak},
	{"ROLE", argNo, sideWeak},
	{"FLUSHALL", argAny, sideWeak},
	{"SUBSCRIBE", argYes, sideWeak},
	{"PSUBSCRIBE", argYes, sideWeak},
	{"GET", argYes, sideWeak},
	{"SET", argYes, sideWeak},
	{"DEL", argYes, sideWeak},
}

func detectRedis(client, server []byte) result {
	return combine(redisClientSide(client), redisServerSide(server))
}

// respInt reads "<digits>\r\n" at the start of b, at most maxDigits digits.
// It returns the value, the bytes after it, and sidePrefix/sideNo/sideWeak.
func respInt(b []byte, maxDigits int) (v int, rest []byte, st side) {
	i := 0
	for ; i < len(b) && isDigit(b[i]); i++ {
		if i >= maxDigits {
			return 0, nil, sideNo
		}
		v = v*10 + int(b[i]-'0')
	}
	switch {
	case i == len(b):
		return 0, nil, sidePrefix
	case i == 0 || b[i] != '\r':
		return 0, nil, sideNo
	case i+1 == len(b):
		return 0, nil, sidePrefix
	case b[i+1] != '\n':
		return 0, nil, sideNo
	}
	return v, b[i+2:], sideWeak
}

// redisClientSide accepts a RESP array of bulk strings whose first element
// is a command name ("*1\r\n$4\r\nPING\r\n"), which proves Redis alone, or
// a known inline command.
func redisClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] != '*' {
		return commandSide(b, redisInline[:])
	}
	n, rest, st := respInt(b[1:], 7)
	if st != sideWeak {
		return st
	}
	if n == 0 {
		return sideNo
	}
	if len(rest) == 0 {
		return sidePrefix
	}
	if rest[0] != '$' {
		return sideNo
	}
	l, rest, st := respInt(rest[1:], 2)
	if st != sideWeak {
		return st
	}
	if l == 0 || l > 32 {
		return sideNo
	}
	for i := 0; i < l+2; i++ {
		if i >= len(rest) {
			return sidePrefix
		}
		c := rest[i]
		switch {
		case i == l && c != '\r', i == l+1 && c != '\n':
			return sideNo
		case i == 0 && !isAlpha(c):
			return sideNo
		case i > 0 && i < l && !isAlpha(c) && !isDigit(c) && c != '.' && c != '_' && c != '-' && c != '|':
			return sideNo
		}
	}
	return sideStrong
}

// redisServerSide accepts a first RESP reply line. Errors that only Redis
// sends unasked ("-DENIED Redis is running in protected mode", "-NOAUTH")
// prove Redis alone.
func redisServerSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch b[0] {
	case '+', '-', ':', '$', '*', '_', '%', '#', ',', '(', '=', '~', '>', '|', '!':
	default:
		return sideNo
	}
	for _, s := range [...]string{"-DENIED Redis ", "-NOAUTH ", "-WRONGPASS "} {
		if hasPrefix(b, s) {
			return sideStrong
		}
	}
	ln, _, st := nextLine(b, maxLine)
	if st == lineBad || !isTextLine(ln) {
		return sideNo
	}
	if st == lineShort {
		return sidePrefix
	}
	// RESP lines end in CRLF.
	if len(b) <= len(ln)+1 || b[len(ln)] != '\r' {
		return sideNo
	}
	body := ln[1:]
	switch b[0] {
	case ':', '$', '*', '%', '~', '>', '|', '(':
		if len(body) > 0 && body[0] == '-' {
			body = body[1:]
		}
		if len(body) == 0 || len(body) > 20 {
			return sideNo
		}
		for _, c := range body {
			if !isDigit(c) {
				return sideNo
			}
		}
	case '+', '-':
		// "+OK", "+PONG", "-ERR unknown command": a status word first.
		if len(body) == 0 || !isAlpha(body[0]) {
			return sideNo
		}
		// POP3 says "+OK " followed by a text; Redis's "+OK" stands alone.
		if hasPrefix(body, "OK ") {
			return sideNo
		}
	case '_':
		if len(body) != 0 {
			return sideNo
		}
	}
	return sideWeak
}

// memcached (protocol.txt of memcached: text protocol, meta commands, the
// UDP frame header; protocol_binary.h for the binary protocol).

// memcachedStorage are the storage commands "cmd key flags exptime bytes
// [noreply]" (cas adds a cas unique), conclusive alone.
var memcachedStorage = [...]string{"set", "add", "replace", "append", "prepend", "cas"}

// memcachedCommands are the other text commands; alone they are only
// consistent, the reply must agree.
var memcachedCommands = [...]command{
	{"GETS", argYes, sideWeak}, {"GET", argYes, sideWeak}, {"GATS", argYes, sideWeak},
	{"GAT", argYes, sideWeak}, {"DELETE", argYes, sideWeak}, {"INCR", argYes, sideWeak},
	{"DECR", argYes, sideWeak}, {"TOUCH", argYes, sideWeak}, {"STATS", argAny, sideWeak},
	{"VERSION", argNo, sideWeak}, {"FLUSH_ALL", argAny, sideWeak}, {"VERBOSITY", argYes, sideWeak},
	{"MG", argYes, sideWeak}, {"MS", argYes, sideWeak}, {"MD", argYes, sideWeak},
	{"MA", argYes, sideWeak}, {"MN", argNo, sideWeak}, {"ME", argYes, sideWeak},
}

// memcachedClientSide judges the first text command. Commands are lower
// case (protocol.txt, "Commands"): an upper-case line is not memcached.
func memcachedClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] < 'a' || b[0] > 'z' {
		return sideNo
	}
	ln, _, st := nextLine(b, maxLine)
	if st == lineBad || !isTextLine(ln) {
		return sideNo
	}
	for _, c := range memcachedStorage {
		if m := matchLit(ln, c+" ", false); m == 0 {
			return partialLine(st)
		} else if m == 1 {
			return memcachedStorageLine(ln[len(c)+1:], c == "cas", st)
		}
	}
	return commandSide(b, memcachedCommands[:])
}

// memcachedStorageLine checks "key flags exptime bytes [cas] [noreply]":
// a key of up to 250 printable characters and decimal numbers.
func memcachedStorageLine(args []byte, cas bool, st lineStatus) side {
	want := 4
	if cas {
		want = 5
	}
	return wordsAndNumbers(args, want, true, st)
}

// wordsAndNumbers checks want space-separated fields: a key first when
// key is set (up to 250 bytes, then an optional "noreply" after the
// fields), decimal numbers otherwise. A line cut short is a prefix.
func wordsAndNumbers(args []byte, want int, key bool, st lineStatus) side {
	fields := 0
	for len(args) > 0 {
		end := len(args)
		for i, c := range args {
			if c == ' ' {
				end = i
				break
			}
		}
		f := args[:end]
		switch {
		case key && fields == 0 && (len(f) == 0 || len(f) > 250):
			return sideNo
		case (!key || fields > 0) && fields < want && !isStatsdNumber(f):
			return sideNo
		case fields == want && (!key || string(f) != "noreply"), fields > want:
			return sideNo
		}
		fields++
		if end == len(args) {
			break
		}
		args = args[end+1:]
	}
	if fields < want {
		return partialLine(st)
	}
	return completeLine(st)
}

// memcachedReplies are the first words of text replies.
var memcachedReplies = [...]command{
	{"VALUE", argYes, sideStrong}, {"END", argNo, sideStrong}, {"STORED", argNo, sideStrong},
	{"NOT_STORED", argNo, sideStrong}, {"EXISTS", argNo, sideStrong}, {"NOT_FOUND", argNo, sideStrong},
	{"DELETED", argNo, sideStrong}, {"TOUCHED", argNo, sideStrong}, {"STAT", argYes, sideStrong},
	{"VERSION", argYes, sideStrong}, {"CLIENT_ERROR", argAny, sideWeak}, {"SERVER_ERROR", argAny, sideWeak},
	{"HD", argAny, sideWeak}, {"VA", argYes, sideWeak}, {"EN", argNo, sideWeak}, {"NF", argAny, sideWeak},
	{"NS", argAny, sideWeak}, {"EX", argAny, sideWeak}, {"MN", argNo, sideWeak},
}

// memcachedServerSide judges the first reply; it is only consistent with
// memcached (its words are common), the command decides.
func memcachedServerSide(b []byte) side {
	if s := commandSide(b, memcachedReplies[:]); s == sideStrong {
		return sideWeak
	} else {
		return s
	}
}

// memcachedBinary judges a binary-protocol header (24 bytes): the magic
// (0x80 request, 0x81 response), data type 0, and a total body that holds
// the key and extras.
func memcachedBinary(b []byte, magic byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] != magic {
		return sideNo
	}
	if len(b) < 24 {
		return sidePrefix
	}
	keyLen, extras, dataType, body := be16(b[2:]), int(b[4]), b[5], be32(b[8:])
	if dataType != 0 || extras > 20 || uint32(keyLen+extras) > body || body > 1<<20 {
		return sideNo
	}
	return sideWeak
}

// detectMemcached recognises memcached over TCP: a text command and reply
// (a storage command is conclusive alone), or a binary request answered
// by a response with the same opcode and opaque.
func detectMemcached(client, server []byte) result {
	if len(client) > 0 && client[0] == 0x80 || len(client) == 0 && len(server) > 0 && server[0] == 0x81 {
		r := combine(memcachedBinary(client, 0x80), memcachedBinary(server, 0x81))
		if r == resYes && (len(client) < 24 || len(server) < 24 || client[1] != server[1] || be32(client[12:]) != be32(server[12:])) {
			return resNo
		}
		return r
	}
	return combine(memcachedClientSide(client), memcachedServerSide(server))
}

// memcachedUDPHeader is the frame header of memcached over UDP: request
// ID, sequence number, total datagrams, reserved 0 (protocol.txt, "UDP
// protocol").
const memcachedUDPHeader = 8

// memcachedFrame checks the frame header of a datagram and returns what
// follows it. A request is a single datagram: sequence 0 of 1.
func memcachedFrame(b []byte, request bool) (id int, text []byte, ok bool) {
	if len(b) <= memcachedUDPHeader || b[6] != 0 || b[7] != 0 {
		return 0, nil, false
	}
	seq, total := be16(b[2:]), be16(b[4:])
	if total == 0 || seq >= total || (request && total != 1) {
		return 0, nil, false
	}
	return be16(b), b[memcachedUDPHeader:], true
}

// detectMemcachedDatagram recognises memcached over UDP: a framed text
// command, and a framed reply with the same request ID.
func detectMemcachedDatagram(client, server []byte) (result, Class) {
	c, s := sideEmpty, sideEmpty
	cid, ct, cok := memcachedFrame(client, true)
	if len(client) > 0 {
		c = sideNo
		if cok {
			c = memcachedClientSide(ct)
		}
	}
	if len(server) > 0 {
		sid, st, sok := memcachedFrame(server, false)
		s = sideNo
		if sok && (!cok || sid == cid) {
			s = memcachedServerSide(st)
		}
	}
	if c == sidePrefix || s == sidePrefix {
		return resNo, ClassUnknown // a datagram is whole
	}
	return combine(c, s), ClassPlaintext
}

// MongoDB wire protocol (MongoDB manual, "MongoDB Wire Protocol": standard
// message header, OP_MSG, OP_QUERY, OP_REPLY, OP_COMPRESSED).

// MongoDB opcodes.
const (
	mongoOpReply      = 1
	mongoOpQuery      = 2004
	mongoOpCompressed = 2012
	mongoOpMsg        = 2013
)

// mongoHeader reads the 16-byte header: messageLength, requestID,
// responseTo and opCode, all little-endian.
func mongoHeader(b []byte) (length, reqID, respTo, op uint32) {
	return le32(b), le32(b[4:]), le32(b[8:]), le32(b[12:])
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// mongoClientSide judges the first request: OP_MSG with flagBits that
// define only bits 0, 1 and 16 and a body section (kind 0) whose BSON
// document fits the message, or OP_QUERY on a "<db>.$cmd" collection, or
// OP_COMPRESSED; responseTo is 0.
func mongoClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	// A first request (hello, a command) is far below 1 MiB: the length's
	// two high bytes are small, and responseTo is zero.
	if len(b) > 2 && b[2] >= 0x10 || len(b) > 3 && b[3] != 0 {
		return sideNo
	}
	for i := 8; i < min(len(b), 12); i++ {
		if b[i] != 0 {
			return sideNo
		}
	}
	if len(b) < 16 {
		return sidePrefix
	}
	n, _, respTo, op := mongoHeader(b)
	if n < 21 || respTo != 0 {
		return sideNo
	}
	body := b[16:min(len(b), int(n))]
	switch op {
	case mongoOpMsg:
		if len(body) < 9 {
			return sidePrefix
		}
		flags, kind, doc := le32(body), body[4], le32(body[5:])
		if flags&^0x10003 != 0 || kind != 0 || doc < 5 || 16+5+doc > n {
			return sideNo
		}
		return sideStrong
	case mongoOpQuery:
		if len(body) < 4 {
			return sidePrefix
		}
		name := body[4:]
		for i, c := range name {
			if c == 0 {
				if i > 5 && string(name[i-5:i]) == ".$cmd" {
					return sideStrong
				}
				return sideNo
			}
			if !isPrintable(c) || i > 255 {
				return sideNo
			}
		}
		return sidePrefix
	case mongoOpCompressed:
		return sideWeak
	}
	return sideNo
}

// mongoServerSide accepts a reply (OP_REPLY, OP_MSG or OP_COMPRESSED)
// whose responseTo is the request's requestID; without the request it
// proves nothing.
func mongoServerSide(b, client []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(client) == 0 || len(b) > 2 && b[2] >= 0x10 || len(b) > 3 && b[3] != 0 {
		// The server only answers, and the answer to a first request is
		// below 1 MiB too.
		return sideNo
	}
	if len(b) < 16 {
		return sidePrefix
	}
	n, _, respTo, op := mongoHeader(b)
	if n < 16 || len(client) < 16 || respTo != le32(client[4:]) {
		return sideNo
	}
	if op != mongoOpReply && op != mongoOpMsg && op != mongoOpCompressed {
		return sideNo
	}
	return sideWeak
}

func detectMongoDB(client, server []byte) result {
	return combine(mongoClientSide(client), mongoServerSide(server, client))
}

// Cassandra CQL native protocol v3-v5 (native_protocol_v4.spec §2, §4.1.1,
// §4.1.8, §4.2.1).

// CQL opcodes of the connection's opening.
const (
	cqlError        = 0x00
	cqlStartup      = 0x01
	cqlReady        = 0x02
	cqlAuthenticate = 0x03
	cqlOptions      = 0x05
	cqlSupported    = 0x06
	cqlHeader       = 9
	cqlMaxFrame     = 256 << 20
)

// cqlFrame reads a frame header: version (the direction bit 0x80 for
// responses), flags, stream, opcode and body length.
func cqlFrame(b []byte, response bool) (stream int, op byte, body []byte, s side) {
	if len(b) == 0 {
		return 0, 0, nil, sideEmpty
	}
	v := b[0]
	if (v&0x80 != 0) != response || v&0x7f < 3 || v&0x7f > 5 {
		return 0, 0, nil, sideNo
	}
	if len(b) < cqlHeader {
		return 0, 0, nil, sidePrefix
	}
	if b[1]&0xe0 != 0 {
		return 0, 0, nil, sideNo // flags beyond those defined (§2.2)
	}
	n := be32(b[5:])
	if n > cqlMaxFrame {
		return 0, 0, nil, sideNo
	}
	body = b[cqlHeader:]
	if uint32(len(body)) > n {
		body = body[:n]
	}
	return be16(b[2:]), b[4], body, sideStrong
}

// cqlClientSide accepts OPTIONS (an empty body) or STARTUP whose string map
// holds the key CQL_VERSION.
func cqlClientSide(b []byte) side {
	_, op, body, s := cqlFrame(b, false)
	if s != sideStrong {
		return s
	}
	switch op {
	case cqlOptions:
		if be32(b[5:]) != 0 {
			return sideNo
		}
		return sideWeak
	case cqlStartup:
		if containsFold(body, "CQL_VERSION") {
			return sideStrong
		}
		if uint32(len(body)) < be32(b[5:]) {
			return sidePrefix
		}
	}
	return sideNo
}

// cqlServerSide accepts READY, AUTHENTICATE, SUPPORTED or ERROR on the
// client's stream.
func cqlServerSide(b, client []byte) side {
	stream, op, _, s := cqlFrame(b, true)
	if s != sideStrong {
		return s
	}
	if len(client) >= cqlHeader && be16(client[2:]) != stream {
		return sideNo
	}
	switch op {
	case cqlReady, cqlAuthenticate, cqlSupported, cqlError:
		return sideWeak
	}
	return sideNo
}

func detectCassandra(client, server []byte) result {
	return combine(cqlClientSide(client), cqlServerSide(server, client))
}

// ZooKeeper client protocol (ZooKeeper's jute definitions
// zookeeper.jute: ConnectRequest, ConnectResponse).

// ZooKeeper ConnectRequest and ConnectResponse sizes: with the trailing
// readOnly flag or without it (older clients).
const (
	zkConnectRequest  = 44 // protocolVersion, lastZxidSeen, timeOut, sessionId, passwd (4+16)
	zkConnectResponse = 36 // protocolVersion, timeOut, sessionId, passwd (4+16)
	zkPasswdLen       = 16
)

// zkSide judges a length-prefixed ConnectRequest (or ConnectResponse):
// protocol version 0, a 16-byte password and the optional readOnly byte.
func zkSide(b []byte, size, passwdAt int) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(b) < 8 {
		if b[0] != 0 || len(b) > 1 && b[1] != 0 || len(b) > 2 && b[2] != 0 {
			return sideNo
		}
		return sidePrefix
	}
	n := int(be32(b))
	if (n != size && n != size+1) || be32(b[4:]) != 0 {
		return sideNo
	}
	if len(b) < 4+passwdAt+4 {
		return sidePrefix
	}
	if be32(b[4+passwdAt:]) != zkPasswdLen {
		return sideNo
	}
	if n == size+1 && len(b) > 4+size && b[4+size] > 1 {
		return sideNo
	}
	return sideStrong
}

func detectZooKeeper(client, server []byte) result {
	// passwd follows protocolVersion, lastZxidSeen, timeOut and sessionId
	// (4+8+4+8 bytes) in the request, protocolVersion, timeOut and
	// sessionId (4+4+8) in the response.
	c := zkSide(client, zkConnectRequest, 24)
	s := zkSide(server, zkConnectResponse, 16)
	if s == sideStrong {
		s = sideWeak
	}
	return combine(c, s)
}
