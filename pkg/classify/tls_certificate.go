package classify

import (
	"encoding/asn1"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CertInfo is what the first (leaf) certificate of a chain sent in clear tells. It
// owns its strings and slice.
type CertInfo struct {
	// Subject and Issuer are the distinguished names in RFC 2253 form
	// (pkix.Name.String), for example "CN=example.com,O=Example,C=US".
	Subject, Issuer string
	// NotBefore and NotAfter bound the validity period.
	NotBefore, NotAfter time.Time
	// DNSNames are the dNSName entries of the subjectAltName extension.
	DNSNames []string
}

// Errors of certificate parsing.
var (
	errCertMsg      = newParseError("certificate message", ErrTruncated)
	errCertMsgEmpty = newParseError("certificate message: empty certificate", ErrMalformed)
	errCertTrailing = newParseError("certificate message", ErrTrailingData)
	errCertDER      = newParseError("certificate", ErrMalformed)
)

// oidSubjectAltName is id-ce-subjectAltName (RFC 5280 §4.2.1.6).
var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// Certificate message layout limits.
const (
	// generalNameDNS is the context-specific tag of GeneralName.dNSName
	// (RFC 5280 §4.2.1.6).
	generalNameDNS = 2
	// certificateExtensionsTag is the [3] EXPLICIT tag of TBSCertificate.extensions.
	certificateExtensionsTag = 3
)

// leafCertificate returns the first certificate of a TLS 1.2-style Certificate
// message body (RFC 5246 §7.4.2: ASN.1Cert certificate_list<0..2^24-1>, each
// ASN.1Cert<1..2^24-1>), nil when the list is empty. The result aliases body.
func leafCertificate(body cryptobyte.String) ([]byte, error) {
	var list cryptobyte.String
	if !body.ReadUint24LengthPrefixed(&list) {
		return nil, errCertMsg
	}
	if !body.Empty() {
		return nil, errCertTrailing
	}
	var leaf []byte
	for first := true; !list.Empty(); first = false {
		var cert cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&cert) {
			return nil, errCertMsg
		}
		if cert.Empty() {
			return nil, errCertMsgEmpty
		}
		if first {
			leaf = cert
		}
	}
	return leaf, nil
}

// parse fills c from a DER certificate (RFC 5280 §4.1). It reads only what CertInfo
// holds and is more lenient than crypto/x509 (negative serial numbers, unusual
// signature algorithms and key types are fine). On error c keeps the fields read
// before the fault. It allocates.
func (c *CertInfo) parse(der []byte) error {
	*c = CertInfo{}
	s := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return errCertDER
	}
	// version [0] EXPLICIT DEFAULT v1, serialNumber, signature AlgorithmIdentifier.
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.SkipASN1(cbasn1.INTEGER) || !tbs.SkipASN1(cbasn1.SEQUENCE) {
		return errCertDER
	}
	// Fields are filled as they are read: a certificate that is broken further on
	// still tells its names and validity.
	var issuer, validity, subject cryptobyte.String
	if !tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !tbs.ReadASN1(&validity, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) {
		return errCertDER
	}
	var err error
	if c.Issuer, err = nameString(issuer); err != nil {
		return err
	}
	if c.Subject, err = nameString(subject); err != nil {
		return err
	}
	if !readCertTime(&validity, &c.NotBefore) || !readCertTime(&validity, &c.NotAfter) || !validity.Empty() {
		return errCertDER
	}
	// subjectPublicKeyInfo.
	if !tbs.SkipASN1(cbasn1.SEQUENCE) {
		return errCertDER
	}
	// issuerUniqueID [1], subjectUniqueID [2], extensions [3] EXPLICIT.
	if !tbs.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific()) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific()) {
		return errCertDER
	}
	var extsWrapper cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&extsWrapper, &present, cbasn1.Tag(certificateExtensionsTag).Constructed().ContextSpecific()) {
		return errCertDER
	}
	if present {
		return c.parseExtensions(extsWrapper)
	}
	return nil
}

// parseExtensions looks for subjectAltName in the Extensions sequence.
func (c *CertInfo) parseExtensions(wrapper cryptobyte.String) error {
	var exts cryptobyte.String
	if !wrapper.ReadASN1(&exts, cbasn1.SEQUENCE) {
		return errCertDER
	}
	for !exts.Empty() {
		var ext cryptobyte.String
		var oid asn1.ObjectIdentifier
		var value []byte
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
			!ext.SkipOptionalASN1(cbasn1.BOOLEAN) || !ext.ReadASN1Bytes(&value, cbasn1.OCTET_STRING) {
			return errCertDER
		}
		if !oid.Equal(oidSubjectAltName) {
			continue
		}
		v := cryptobyte.String(value)
		var names cryptobyte.String
		if !v.ReadASN1(&names, cbasn1.SEQUENCE) {
			return errCertDER
		}
		for !names.Empty() {
			var name cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1(&name, &tag) {
				return errCertDER
			}
			if tag == cbasn1.Tag(generalNameDNS).ContextSpecific() {
				c.DNSNames = append(c.DNSNames, string(name))
			}
		}
	}
	return nil
}

// readCertTime reads a UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5).
func readCertTime(s *cryptobyte.String, out *time.Time) bool {
	if s.PeekASN1Tag(cbasn1.UTCTime) {
		return s.ReadASN1UTCTime(out)
	}
	return s.ReadASN1GeneralizedTime(out)
}
