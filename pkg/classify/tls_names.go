package classify

import (
	"sort"
	"strconv"
)

// Version is a TLS, SSL or DTLS protocol version as it appears on the wire: 0x0300
// SSL 3.0 through 0x0304 TLS 1.3, 0x7fNN for TLS 1.3 draft NN, a few experimental TLS
// 1.3 code points, 0x0002 for SSL 2.0, and 0xfeff, 0xfefd, 0xfefc for DTLS 1.0, 1.2
// and 1.3 (DTLS counts down: the one's complement of its TLS twin). The zero Version
// means none.
type Version uint16

// Protocol versions (RFC 6101, RFC 2246, RFC 4346, RFC 5246, RFC 8446).
const (
	VersionSSL2  Version = 0x0002
	VersionSSL3  Version = 0x0300
	VersionTLS10 Version = 0x0301
	VersionTLS11 Version = 0x0302
	VersionTLS12 Version = 0x0303
	VersionTLS13 Version = 0x0304
)

// DTLS versions (RFC 4347, RFC 6347, RFC 9147). There is no DTLS 1.1: DTLS 1.2
// follows DTLS 1.0, and each matches the TLS version one above its own number
// (DTLS 1.0 is TLS 1.1 over datagrams, DTLS 1.2 is TLS 1.2, DTLS 1.3 is TLS 1.3).
const (
	VersionDTLS10 Version = 0xfeff
	VersionDTLS12 Version = 0xfefd
	VersionDTLS13 Version = 0xfefc
)

// versionDTLS10OpenSSL is DTLS1_BAD_VER, the pre-standard DTLS 1.0 that OpenSSL
// spoke before RFC 4347 was final (still used by Cisco AnyConnect).
const versionDTLS10OpenSSL Version = 0x0100

// TLS 1.3 pre-standard code points.
const (
	// versionTLS13DraftBase | NN is draft-ietf-tls-tls13-NN.
	versionTLS13DraftBase = 0x7f00
	// versionTLS13FacebookBase | NN is Facebook's Fizz build of draft NN
	// (0xfb17, 0xfb1a seen in the wild).
	versionTLS13FacebookBase = 0xfb00
	// versionTLS13GoogleExperiment* are BoringSSL's 2017 middlebox-compatibility
	// experiments (draft 18 variants).
	versionTLS13GoogleExperimentFirst = 0x7e01
	versionTLS13GoogleExperimentLast  = 0x7e03
	// versionTLS13RecordTypeExperiment is BoringSSL's draft-18 record-type
	// experiment.
	versionTLS13RecordTypeExperiment = 0x7a12
)

// isTLS13Draft reports whether v is a TLS 1.3 draft or experimental code point
// (not the final 0x0304).
func (v Version) isTLS13Draft() bool {
	switch {
	case v&0xff00 == versionTLS13DraftBase, v&0xff00 == versionTLS13FacebookBase:
		return true
	case v >= versionTLS13GoogleExperimentFirst && v <= versionTLS13GoogleExperimentLast:
		return true
	}
	return v == versionTLS13RecordTypeExperiment
}

// draftNumber returns NN for a draft or Facebook code point, or -1.
func (v Version) draftNumber() int {
	if v&0xff00 == versionTLS13DraftBase || v&0xff00 == versionTLS13FacebookBase {
		return int(v & 0xff)
	}
	return -1
}

// String returns "SSL2", "SSL3", "TLS1.0" … "TLS1.3", "DTLS1.0", "DTLS1.2", "DTLS1.3",
// the empty string for 0, and "0x%04x" for anything unknown. TLS 1.3 drafts and
// experiments are "TLS1.3", and OpenSSL's pre-standard DTLS 1.0 (0x0100) is
// "DTLS1.0"; Detail tells them apart.
func (v Version) String() string {
	switch v {
	case 0:
		return ""
	case VersionSSL2:
		return "SSL2"
	case VersionSSL3:
		return "SSL3"
	case VersionTLS10:
		return "TLS1.0"
	case VersionTLS11:
		return "TLS1.1"
	case VersionTLS12:
		return "TLS1.2"
	case VersionTLS13:
		return "TLS1.3"
	case VersionDTLS10, versionDTLS10OpenSSL:
		return "DTLS1.0"
	case VersionDTLS12:
		return "DTLS1.2"
	case VersionDTLS13:
		return "DTLS1.3"
	}
	if v.isTLS13Draft() {
		return "TLS1.3"
	}
	return hex4(uint16(v))
}

// Detail is like String but spells out TLS 1.3 pre-standard code points:
// "TLS1.3-draft23" (0x7f17), "TLS1.3-fb-draft26" (Facebook, 0xfb1a),
// "TLS1.3-exp-0x7e01" (other experiments), and OpenSSL's pre-standard DTLS 1.0:
// "DTLS1.0-0x0100".
func (v Version) Detail() string {
	if v == versionDTLS10OpenSSL {
		return "DTLS1.0-0x0100"
	}
	if !v.isTLS13Draft() {
		return v.String()
	}
	n := v.draftNumber()
	switch {
	case n >= 0 && v&0xff00 == versionTLS13DraftBase:
		return "TLS1.3-draft" + strconv.Itoa(n)
	case n >= 0:
		return "TLS1.3-fb-draft" + strconv.Itoa(n)
	}
	return "TLS1.3-exp-" + hex4(uint16(v))
}

// Normalized maps a version to the TLS version whose security it has, so that
// versions can be ranked by comparing the results: TLS 1.3 drafts and experiments to
// VersionTLS13; DTLS 1.3 to TLS 1.3, DTLS 1.2 to TLS 1.2, and DTLS 1.0 (also
// OpenSSL's pre-standard 0x0100) to TLS 1.1, the TLS version it was derived from
// (RFC 4347 §1, RFC 6347 §1, RFC 9147 §1). Any other version is returned unchanged.
func (v Version) Normalized() Version {
	switch v {
	case VersionDTLS10, versionDTLS10OpenSSL:
		return VersionTLS11
	case VersionDTLS12:
		return VersionTLS12
	case VersionDTLS13:
		return VersionTLS13
	}
	if v.isTLS13Draft() {
		return VersionTLS13
	}
	return v
}

// IsDTLS reports whether v is a DTLS version (including OpenSSL's pre-standard
// 0x0100).
func (v Version) IsDTLS() bool {
	switch v {
	case VersionDTLS10, VersionDTLS12, VersionDTLS13, versionDTLS10OpenSSL:
		return true
	}
	return false
}

// IsGREASE reports whether v is one of the sixteen GREASE values of RFC 8701 §2
// (0x0a0a, 0x1a1a, … 0xfafa), which clients put in cipher suite, extension, group,
// version and other lists to keep servers tolerant.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// hex4 formats v as "0x" and four lowercase hex digits.
func hex4(v uint16) string {
	const digits = "0123456789abcdef"
	b := [6]byte{'0', 'x', digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]}
	return string(b[:])
}

// namedValue pairs a registry code point with its name.
type namedValue struct {
	id   uint16
	name string
}

// lookupName binary-searches table, which is sorted by id.
func lookupName(table []namedValue, id uint16) (string, bool) {
	i := sort.Search(len(table), func(i int) bool { return table[i].id >= id })
	if i < len(table) && table[i].id == id {
		return table[i].name, true
	}
	return "", false
}

// CipherSuiteName returns the IANA name of a cipher suite, such as
// "TLS_AES_128_GCM_SHA256" or "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", or "0x%04x"
// for a value the registry does not assign (GREASE included).
func CipherSuiteName(id uint16) string {
	if name, ok := lookupName(cipherSuiteNames[:], id); ok {
		return name
	}
	return hex4(id)
}

// GroupName returns the IANA name of a supported group (named curve, finite field
// group or KEM): "x25519", "secp256r1", "ffdhe2048", "X25519MLKEM768", … or "0x%04x"
// for an unknown value (GREASE included).
func GroupName(id uint16) string {
	if name, ok := lookupName(groupNames[:], id); ok {
		return name
	}
	return hex4(id)
}

// Post-quantum and hybrid key exchange groups.
const (
	groupMLKEM512                 = 0x0200 // draft-ietf-tls-mlkem
	groupMLKEM768                 = 0x0201
	groupMLKEM1024                = 0x0202
	groupSecP256r1MLKEM768        = 0x11eb // draft-ietf-tls-ecdhe-mlkem
	groupX25519MLKEM768           = 0x11ec
	groupSecP384r1MLKEM1024       = 0x11ed
	groupX25519Kyber768Draft00    = 0x6399 // draft-tls-westerbaan-xyber768d00
	groupSecP256r1Kyber768Draft00 = 0x639a
	groupX25519Kyber512Draft00Old = 0xfe30 // Cloudflare's 2022 experiment
	groupX25519Kyber768Draft00Old = 0xfe31
)

// isPQGroup reports whether a key exchange group includes a post-quantum KEM, on its
// own or in a hybrid.
func isPQGroup(g uint16) bool {
	switch g {
	case groupMLKEM512, groupMLKEM768, groupMLKEM1024,
		groupSecP256r1MLKEM768, groupX25519MLKEM768, groupSecP384r1MLKEM1024,
		groupX25519Kyber768Draft00, groupSecP256r1Kyber768Draft00,
		groupX25519Kyber512Draft00Old, groupX25519Kyber768Draft00Old:
		return true
	}
	return false
}

// groupNames is the IANA TLS Supported Groups registry (RFC 8422, RFC 8446 §4.2.7,
// RFC 7919, RFC 8734, RFC 9189, RFC 8998, draft-ietf-tls-mlkem,
// draft-ietf-tls-ecdhe-mlkem), plus the Kyber draft code points browsers shipped.
// Sorted by id.
var groupNames = [...]namedValue{
	{1, "sect163k1"}, {2, "sect163r1"}, {3, "sect163r2"}, {4, "sect193r1"},
	{5, "sect193r2"}, {6, "sect233k1"}, {7, "sect233r1"}, {8, "sect239k1"},
	{9, "sect283k1"}, {10, "sect283r1"}, {11, "sect409k1"}, {12, "sect409r1"},
	{13, "sect571k1"}, {14, "sect571r1"}, {15, "secp160k1"}, {16, "secp160r1"},
	{17, "secp160r2"}, {18, "secp192k1"}, {19, "secp192r1"}, {20, "secp224k1"},
	{21, "secp224r1"}, {22, "secp256k1"}, {23, "secp256r1"}, {24, "secp384r1"},
	{25, "secp521r1"}, {26, "brainpoolP256r1"}, {27, "brainpoolP384r1"},
	{28, "brainpoolP512r1"}, {29, "x25519"}, {30, "x448"},
	{31, "brainpoolP256r1tls13"}, {32, "brainpoolP384r1tls13"},
	{33, "brainpoolP512r1tls13"}, {34, "GC256A"}, {35, "GC256B"}, {36, "GC256C"},
	{37, "GC256D"}, {38, "GC512A"}, {39, "GC512B"}, {40, "GC512C"},
	{41, "curveSM2"},
	{256, "ffdhe2048"}, {257, "ffdhe3072"}, {258, "ffdhe4096"}, {259, "ffdhe6144"},
	{260, "ffdhe8192"},
	{groupMLKEM512, "MLKEM512"}, {groupMLKEM768, "MLKEM768"}, {groupMLKEM1024, "MLKEM1024"},
	{groupSecP256r1MLKEM768, "SecP256r1MLKEM768"}, {groupX25519MLKEM768, "X25519MLKEM768"},
	{groupSecP384r1MLKEM1024, "SecP384r1MLKEM1024"},
	{groupX25519Kyber768Draft00, "X25519Kyber768Draft00"},
	{groupSecP256r1Kyber768Draft00, "SecP256r1Kyber768Draft00"},
	{groupX25519Kyber512Draft00Old, "X25519Kyber512Draft00"},
	{groupX25519Kyber768Draft00Old, "X25519Kyber768Draft00Old"},
	{0xff01, "arbitrary_explicit_prime_curves"}, {0xff02, "arbitrary_explicit_char2_curves"},
}

// cipherSuiteNames is the IANA TLS Cipher Suites registry: every assigned value
// (352 entries, reserved and unassigned ranges and GREASE left out), sorted by id.
//
// Generated once from the registry's CSV export (tls-parameters-4.csv, 2024 edition:
// RFC 5246 … RFC 9189, TLS_AEGIS from draft-irtf-cfrg-aegis-aead) and checked
// against Wireshark's table and crypto/tls; edit by hand when IANA assigns more.
var cipherSuiteNames = [...]namedValue{
	{0x0000, "TLS_NULL_WITH_NULL_NULL"},
	{0x0001, "TLS_RSA_WITH_NULL_MD5"},
	{0x0002, "TLS_RSA_WITH_NULL_SHA"},
	{0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"},
	{0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
	{0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
	{0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"},
	{0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA"},
	{0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"},
	{0x0009, "TLS_RSA_WITH_DES_CBC_SHA"},
	{0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
	{0x000b, "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA"},
	{0x000c, "TLS_DH_DSS_WITH_DES_CBC_SHA"},
	{0x000d, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA"},
	{0x000e, "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA"},
	{0x000f, "TLS_DH_RSA_WITH_DES_CBC_SHA"},
	{0x0010, "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA"},
	{0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA"},
	{0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA"},
	{0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA"},
	{0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"},
	{0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA"},
	{0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"},
	{0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5"},
	{0x0018, "TLS_DH_anon_WITH_RC4_128_MD5"},
	{0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA"},
	{0x001a, "TLS_DH_anon_WITH_DES_CBC_SHA"},
	{0x001b, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA"},
	{0x001e, "TLS_KRB5_WITH_DES_CBC_SHA"},
	{0x001f, "TLS_KRB5_WITH_3DES_EDE_CBC_SHA"},
	{0x0020, "TLS_KRB5_WITH_RC4_128_SHA"},
	{0x0021, "TLS_KRB5_WITH_IDEA_CBC_SHA"},
	{0x0022, "TLS_KRB5_WITH_DES_CBC_MD5"},
	{0x0023, "TLS_KRB5_WITH_3DES_EDE_CBC_MD5"},
	{0x0024, "TLS_KRB5_WITH_RC4_128_MD5"},
	{0x0025, "TLS_KRB5_WITH_IDEA_CBC_MD5"},
	{0x0026, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA"},
	{0x0027, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA"},
	{0x0028, "TLS_KRB5_EXPORT_WITH_RC4_40_SHA"},
	{0x0029, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5"},
	{0x002a, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5"},
	{0x002b, "TLS_KRB5_EXPORT_WITH_RC4_40_MD5"},
	{0x002c, "TLS_PSK_WITH_NULL_SHA"},
	{0x002d, "TLS_DHE_PSK_WITH_NULL_SHA"},
	{0x002e, "TLS_RSA_PSK_WITH_NULL_SHA"},
	{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
	{0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA"},
	{0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA"},
	{0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"},
	{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
	{0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA"},
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
	{0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA"},
	{0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA"},
	{0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"},
	{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
	{0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA"},
	{0x003b, "TLS_RSA_WITH_NULL_SHA256"},
	{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
	{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
	{0x003e, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256"},
	{0x003f, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256"},
	{0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256"},
	{0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"},
	{0x0042, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA"},
	{0x0043, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA"},
	{0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA"},
	{0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA"},
	{0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA"},
	{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
	{0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256"},
	{0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256"},
	{0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256"},
	{0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
	{0x006c, "TLS_DH_anon_WITH_AES_128_CBC_SHA256"},
	{0x006d, "TLS_DH_anon_WITH_AES_256_CBC_SHA256"},
	{0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA"},
	{0x0085, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA"},
	{0x0086, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA"},
	{0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA"},
	{0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA"},
	{0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA"},
	{0x008a, "TLS_PSK_WITH_RC4_128_SHA"},
	{0x008b, "TLS_PSK_WITH_3DES_EDE_CBC_SHA"},
	{0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA"},
	{0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA"},
	{0x008e, "TLS_DHE_PSK_WITH_RC4_128_SHA"},
	{0x008f, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA"},
	{0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA"},
	{0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA"},
	{0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA"},
	{0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA"},
	{0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA"},
	{0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA"},
	{0x0096, "TLS_RSA_WITH_SEED_CBC_SHA"},
	{0x0097, "TLS_DH_DSS_WITH_SEED_CBC_SHA"},
	{0x0098, "TLS_DH_RSA_WITH_SEED_CBC_SHA"},
	{0x0099, "TLS_DHE_DSS_WITH_SEED_CBC_SHA"},
	{0x009a, "TLS_DHE_RSA_WITH_SEED_CBC_SHA"},
	{0x009b, "TLS_DH_anon_WITH_SEED_CBC_SHA"},
	{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
	{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
	{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
	{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
	{0x00a0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256"},
	{0x00a1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384"},
	{0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"},
	{0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384"},
	{0x00a4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256"},
	{0x00a5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384"},
	{0x00a6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256"},
	{0x00a7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384"},
	{0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256"},
	{0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384"},
	{0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"},
	{0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384"},
	{0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256"},
	{0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384"},
	{0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256"},
	{0x00af, "TLS_PSK_WITH_AES_256_CBC_SHA384"},
	{0x00b0, "TLS_PSK_WITH_NULL_SHA256"},
	{0x00b1, "TLS_PSK_WITH_NULL_SHA384"},
	{0x00b2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256"},
	{0x00b3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384"},
	{0x00b4, "TLS_DHE_PSK_WITH_NULL_SHA256"},
	{0x00b5, "TLS_DHE_PSK_WITH_NULL_SHA384"},
	{0x00b6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256"},
	{0x00b7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384"},
	{0x00b8, "TLS_RSA_PSK_WITH_NULL_SHA256"},
	{0x00b9, "TLS_RSA_PSK_WITH_NULL_SHA384"},
	{0x00ba, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
	{0x00bb, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256"},
	{0x00bc, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
	{0x00bd, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256"},
	{0x00be, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
	{0x00bf, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256"},
	{0x00c0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256"},
	{0x00c1, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256"},
	{0x00c2, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256"},
	{0x00c3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256"},
	{0x00c4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256"},
	{0x00c5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256"},
	{0x00c6, "TLS_SM4_GCM_SM3"},
	{0x00c7, "TLS_SM4_CCM_SM3"},
	{0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
	{0x1301, "TLS_AES_128_GCM_SHA256"},
	{0x1302, "TLS_AES_256_GCM_SHA384"},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
	{0x1304, "TLS_AES_128_CCM_SHA256"},
	{0x1305, "TLS_AES_128_CCM_8_SHA256"},
	{0x1306, "TLS_AEGIS_256_SHA384"},
	{0x1307, "TLS_AEGIS_128L_SHA256"},
	{0x5600, "TLS_FALLBACK_SCSV"},
	{0xc001, "TLS_ECDH_ECDSA_WITH_NULL_SHA"},
	{0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA"},
	{0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA"},
	{0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA"},
	{0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA"},
	{0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA"},
	{0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"},
	{0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"},
	{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
	{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
	{0xc00b, "TLS_ECDH_RSA_WITH_NULL_SHA"},
	{0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA"},
	{0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA"},
	{0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA"},
	{0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA"},
	{0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA"},
	{0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"},
	{0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
	{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
	{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
	{0xc015, "TLS_ECDH_anon_WITH_NULL_SHA"},
	{0xc016, "TLS_ECDH_anon_WITH_RC4_128_SHA"},
	{0xc017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA"},
	{0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA"},
	{0xc019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA"},
	{0xc01a, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA"},
	{0xc01b, "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA"},
	{0xc01c, "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA"},
	{0xc01d, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA"},
	{0xc01e, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA"},
	{0xc01f, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA"},
	{0xc020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA"},
	{0xc021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA"},
	{0xc022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA"},
	{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
	{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
	{0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256"},
	{0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384"},
	{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
	{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
	{0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256"},
	{0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384"},
	{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
	{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
	{0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"},
	{0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384"},
	{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
	{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
	{0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256"},
	{0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384"},
	{0xc033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA"},
	{0xc034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA"},
	{0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA"},
	{0xc036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA"},
	{0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"},
	{0xc038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384"},
	{0xc039, "TLS_ECDHE_PSK_WITH_NULL_SHA"},
	{0xc03a, "TLS_ECDHE_PSK_WITH_NULL_SHA256"},
	{0xc03b, "TLS_ECDHE_PSK_WITH_NULL_SHA384"},
	{0xc03c, "TLS_RSA_WITH_ARIA_128_CBC_SHA256"},
	{0xc03d, "TLS_RSA_WITH_ARIA_256_CBC_SHA384"},
	{0xc03e, "TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256"},
	{0xc03f, "TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384"},
	{0xc040, "TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256"},
	{0xc041, "TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384"},
	{0xc042, "TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256"},
	{0xc043, "TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384"},
	{0xc044, "TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256"},
	{0xc045, "TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384"},
	{0xc046, "TLS_DH_anon_WITH_ARIA_128_CBC_SHA256"},
	{0xc047, "TLS_DH_anon_WITH_ARIA_256_CBC_SHA384"},
	{0xc048, "TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256"},
	{0xc049, "TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384"},
	{0xc04a, "TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256"},
	{0xc04b, "TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384"},
	{0xc04c, "TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256"},
	{0xc04d, "TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384"},
	{0xc04e, "TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256"},
	{0xc04f, "TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384"},
	{0xc050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256"},
	{0xc051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384"},
	{0xc052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256"},
	{0xc053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384"},
	{0xc054, "TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256"},
	{0xc055, "TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384"},
	{0xc056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256"},
	{0xc057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384"},
	{0xc058, "TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256"},
	{0xc059, "TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384"},
	{0xc05a, "TLS_DH_anon_WITH_ARIA_128_GCM_SHA256"},
	{0xc05b, "TLS_DH_anon_WITH_ARIA_256_GCM_SHA384"},
	{0xc05c, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256"},
	{0xc05d, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384"},
	{0xc05e, "TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256"},
	{0xc05f, "TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384"},
	{0xc060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256"},
	{0xc061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384"},
	{0xc062, "TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256"},
	{0xc063, "TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384"},
	{0xc064, "TLS_PSK_WITH_ARIA_128_CBC_SHA256"},
	{0xc065, "TLS_PSK_WITH_ARIA_256_CBC_SHA384"},
	{0xc066, "TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256"},
	{0xc067, "TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384"},
	{0xc068, "TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256"},
	{0xc069, "TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384"},
	{0xc06a, "TLS_PSK_WITH_ARIA_128_GCM_SHA256"},
	{0xc06b, "TLS_PSK_WITH_ARIA_256_GCM_SHA384"},
	{0xc06c, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256"},
	{0xc06d, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384"},
	{0xc06e, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256"},
	{0xc06f, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384"},
	{0xc070, "TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256"},
	{0xc071, "TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384"},
	{0xc072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256"},
	{0xc073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384"},
	{0xc074, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256"},
	{0xc075, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384"},
	{0xc076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
	{0xc077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384"},
	{0xc078, "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
	{0xc079, "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384"},
	{0xc07a, "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc07b, "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc07c, "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc07d, "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc07e, "TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc07f, "TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc080, "TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc081, "TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc082, "TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc083, "TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc084, "TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc085, "TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc086, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc087, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc088, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc089, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc08a, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc08b, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc08c, "TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc08d, "TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc08e, "TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc08f, "TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc090, "TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc091, "TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc092, "TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256"},
	{0xc093, "TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384"},
	{0xc094, "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256"},
	{0xc095, "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384"},
	{0xc096, "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256"},
	{0xc097, "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384"},
	{0xc098, "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256"},
	{0xc099, "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384"},
	{0xc09a, "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256"},
	{0xc09b, "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384"},
	{0xc09c, "TLS_RSA_WITH_AES_128_CCM"},
	{0xc09d, "TLS_RSA_WITH_AES_256_CCM"},
	{0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM"},
	{0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM"},
	{0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8"},
	{0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8"},
	{0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8"},
	{0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8"},
	{0xc0a4, "TLS_PSK_WITH_AES_128_CCM"},
	{0xc0a5, "TLS_PSK_WITH_AES_256_CCM"},
	{0xc0a6, "TLS_DHE_PSK_WITH_AES_128_CCM"},
	{0xc0a7, "TLS_DHE_PSK_WITH_AES_256_CCM"},
	{0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8"},
	{0xc0a9, "TLS_PSK_WITH_AES_256_CCM_8"},
	{0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8"},
	{0xc0ab, "TLS_PSK_DHE_WITH_AES_256_CCM_8"},
	{0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"},
	{0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"},
	{0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"},
	{0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"},
	{0xc0b0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256"},
	{0xc0b1, "TLS_ECCPWD_WITH_AES_256_GCM_SHA384"},
	{0xc0b2, "TLS_ECCPWD_WITH_AES_128_CCM_SHA256"},
	{0xc0b3, "TLS_ECCPWD_WITH_AES_256_CCM_SHA384"},
	{0xc0b4, "TLS_SHA256_SHA256"},
	{0xc0b5, "TLS_SHA384_SHA384"},
	{0xc100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC"},
	{0xc101, "TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC"},
	{0xc102, "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT"},
	{0xc103, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L"},
	{0xc104, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_L"},
	{0xc105, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S"},
	{0xc106, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S"},
	{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"},
	{0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"},
	{0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256"},
	{0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256"},
	{0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"},
	{0xd002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384"},
	{0xd003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256"},
	{0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256"},
}
