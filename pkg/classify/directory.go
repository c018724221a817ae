package classify

// Recognisers of directory protocols: LDAP, with the BER reader it needs.

// BER (X.690 §8.1) as LDAP uses it: definite lengths only (RFC 4511 §5.1).

// berStatus tells how berNext found the next element.
type berStatus uint8

const (
	berOK    berStatus = iota // a complete element
	berShort                  // b ends inside the element (content is clipped)
	berBad                    // not a valid element
)

// berNext reads the element at the start of b: its one-byte tag, its
// content (clipped to b when b ends early) and the bytes after it.
func berNext(b []byte) (tag byte, content, rest []byte, st berStatus) {
	if len(b) < 2 {
		return 0, nil, nil, berShort
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, berBad // multi-byte tags: not in LDAP
	}
	n, h := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return 0, nil, nil, berBad // indefinite or absurd
		}
		if len(b) < 2+k {
			return tag, nil, nil, berShort
		}
		n = 0
		for i := 0; i < k; i++ {
			n = n<<8 | int(b[2+i])
		}
		if n < 0x80 && k == 1 || n > 1<<24 {
			return 0, nil, nil, berBad // not minimal, or too big
		}
		h += k
	}
	if len(b)-h < n {
		return tag, b[h:], nil, berShort
	}
	return tag, b[h : h+n], b[h+n:], berOK
}

// ldapField reads the next element of b, which must carry tag want. s is
// sideStrong when the element is complete, sidePrefix when b ends inside it
// and partial says the enclosing message was cut short, else sideNo.
func ldapField(b []byte, want byte, partial bool) (content, rest []byte, s side) {
	if len(b) > 0 && b[0] != want {
		return nil, nil, sideNo
	}
	_, content, rest, st := berNext(b)
	switch {
	case st == berOK:
		return content, rest, sideStrong
	case st == berShort && partial:
		return nil, nil, sidePrefix
	}
	return nil, nil, sideNo
}

// ldapInt reads a non-negative INTEGER or ENUMERATED (tag want) of 1 to 4
// content bytes.
func ldapInt(b []byte, want byte, partial bool) (v int, rest []byte, s side) {
	c, rest, s := ldapField(b, want, partial)
	if s != sideStrong {
		return 0, nil, s
	}
	if len(c) == 0 || len(c) > 4 || c[0]&0x80 != 0 {
		return 0, nil, sideNo
	}
	for _, x := range c {
		v = v<<8 | int(x)
	}
	return v, rest, sideStrong
}

// ldapMessage reads the envelope of an LDAPMessage (RFC 4511 §4.1.1):
// SEQUENCE { messageID INTEGER, protocolOp, controls [0] OPTIONAL }. It
// returns the message ID, the protocolOp tag and its content (clipped when
// b ends early, which partial reports) and the bytes after the message. s
// is sideStrong when the envelope is valid so far.
func ldapMessage(b []byte) (id int, op byte, opContent, rest []byte, partial bool, s side) {
	if len(b) == 0 {
		return 0, 0, nil, nil, false, sideEmpty
	}
	if b[0] != 0x30 {
		return 0, 0, nil, nil, false, sideNo
	}
	_, body, rest, st := berNext(b)
	if st == berBad {
		return 0, 0, nil, nil, false, sideNo
	}
	partial = st == berShort
	if partial && len(body) == 0 {
		return 0, 0, nil, nil, true, sidePrefix
	}
	id, after, s := ldapInt(body, 0x02, partial)
	if s != sideStrong {
		return 0, 0, nil, nil, partial, s
	}
	if len(after) == 0 {
		return 0, 0, nil, nil, partial, partialSide(partial)
	}
	op = after[0]
	_, opContent, after2, st := berNext(after)
	switch {
	case st == berBad, st == berShort && !partial:
		return 0, 0, nil, nil, partial, sideNo
	case st == berOK && len(after2) > 0 && after2[0] != 0xa0:
		return 0, 0, nil, nil, partial, sideNo // only controls may follow
	}
	return id, op, opContent, rest, partial, sideStrong
}

func detectLDAP(client, server []byte) result {
	return combine(ldapClientSide(client), ldapServerSide(server))
}

// ldapClientSide accepts a first request: bindRequest, searchRequest or
// extendedReq, with its leading fields checked.
func ldapClientSide(b []byte) side {
	id, op, c, _, partial, s := ldapMessage(b)
	if s != sideStrong {
		return s
	}
	if id == 0 {
		return sideNo // message ID 0 is reserved for notices
	}
	switch op {
	case 0x60: // bindRequest [APPLICATION 0] (§4.2)
		v, r, s := ldapInt(c, 0x02, partial)
		if s != sideStrong {
			return s
		}
		if v < 1 || v > 3 {
			return sideNo
		}
		if _, r, s = ldapField(r, 0x04, partial); s != sideStrong { // name
			return s
		}
		if len(r) == 0 {
			return partialSide(partial)
		}
		if r[0] != 0x80 && r[0] != 0xa3 { // simple [0] or sasl [3]
			return sideNo
		}
		return sideStrong
	case 0x63: // searchRequest [APPLICATION 3] (§4.5.1)
		_, r, s := ldapField(c, 0x04, partial) // baseObject
		if s != sideStrong {
			return s
		}
		for _, limit := range [...]int{2, 3} { // scope, derefAliases
			var v int
			if v, r, s = ldapInt(r, 0x0a, partial); s != sideStrong {
				return s
			}
			if v > limit {
				return sideNo
			}
		}
		for i := 0; i < 2; i++ { // sizeLimit, timeLimit
			if _, r, s = ldapInt(r, 0x02, partial); s != sideStrong {
				return s
			}
		}
		tc, _, s := ldapField(r, 0x01, partial) // typesOnly BOOLEAN
		if s != sideStrong {
			return s
		}
		if len(tc) != 1 {
			return sideNo
		}
		return sideStrong
	case 0x77: // extendedReq [APPLICATION 23] (§4.12)
		oid, _, s := ldapField(c, 0x80, partial) // requestName [0]
		if s != sideStrong {
			return s
		}
		if !isOID(oid) {
			return sideNo
		}
		return sideStrong
	}
	return sideNo
}

// ldapServerSide accepts a first response: bindResponse, searchResEntry,
// searchResDone or extendedResp (also an unsolicited notice of
// disconnection), with the LDAPResult fields checked.
func ldapServerSide(b []byte) side {
	_, op, c, _, partial, s := ldapMessage(b)
	if s != sideStrong {
		return s
	}
	switch op {
	case 0x61, 0x65, 0x78: // LDAPResult: resultCode, matchedDN, diagnosticMessage
		_, r, s := ldapInt(c, 0x0a, partial)
		if s != sideStrong {
			return s
		}
		for i := 0; i < 2; i++ {
			if _, r, s = ldapField(r, 0x04, partial); s != sideStrong {
				return s
			}
		}
		return sideStrong
	case 0x64: // searchResEntry: objectName, attributes SEQUENCE
		_, r, s := ldapField(c, 0x04, partial)
		if s != sideStrong {
			return s
		}
		if len(r) == 0 {
			return partialSide(partial)
		}
		if r[0] != 0x30 {
			return sideNo
		}
		return sideStrong
	}
	return sideNo
}

// partialSide is sidePrefix when the message was cut short, else sideNo.
func partialSide(partial bool) side {
	if partial {
		return sidePrefix
	}
	return sideNo
}

// isOID reports whether b is a dotted-decimal object identifier.
func isOID(b []byte) bool {
	if len(b) < 3 || len(b) > 128 {
		return false
	}
	dots := 0
	for i, c := range b {
		switch {
		case isDigit(c):
		case c == '.' && i > 0 && i < len(b)-1 && b[i-1] != '.':
			dots++
		default:
			return false
		}
	}
	return dots > 0
}
