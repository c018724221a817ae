package classify

// cipherSuiteFallbackSCSV is TLS_FALLBACK_SCSV (RFC 7507 §6): a client that retries a
// failed handshake with a lower version puts it in its cipher suites.
const cipherSuiteFallbackSCSV uint16 = 0x5600

// versionEvidence fills what the hellos say about version fallback: the versions the
// client offered, TLS_FALLBACK_SCSV, and a server that answered a TLS 1.3 offer with
// an older version. ch or sh may be nil when that hello was not seen.
func versionEvidence(v *Verdict, ch *ClientHello, sh *ServerHello) {
	if ch != nil {
		v.OfferedVersions, v.OfferedVersionsListed = offeredVersions(ch)
		for _, s := range ch.CipherSuites {
			if s == cipherSuiteFallbackSCSV {
				v.FallbackSCSV = true
			}
		}
	}
	if ch != nil && sh != nil {
		if chosen := sh.Version(); chosen != 0 && ch.offersTLS13() && chosen.Normalized() != VersionTLS13 {
			v.ServerLacksTLS13 = true
		}
	}
}

// offeredVersions returns the versions of the client's supported_versions extension
// in its order, GREASE left out, and true; without the extension (before TLS 1.3),
// only the hello's version, the highest the client offers, and false.
func offeredVersions(ch *ClientHello) ([]Version, bool) {
	var out []Version
	for _, s := range ch.SupportedVersions {
		if !IsGREASE(s) {
			out = append(out, Version(s))
		}
	}
	if len(out) > 0 {
		return out, true
	}
	if ch.LegacyVersion == 0 {
		return nil, false
	}
	return []Version{Version(ch.LegacyVersion)}, false
}
