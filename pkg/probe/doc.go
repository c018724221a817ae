// Package probe checks chosen TLS servers actively, for what passive capture cannot
// prove: which protocol versions a server accepts (one handshake per version), the
// cipher suite it picks at each, whether it asks for or requires a client certificate,
// and its leaf certificate's names and expiry.
//
// Run probes targets concurrently, bounded by Options.Concurrency, with a timeout per
// target and an optional rate limit on handshakes. A target that cannot be reached or
// does not speak TLS gets an error in its own Result; Run itself does not fail.
//
// TLS 1.0 to 1.3 are probed with Go's crypto/tls client. SSL 3.0, and a ClientHello
// below the server's best version carrying TLS_FALLBACK_SCSV (RFC 7507), are
// hand-built, and only the server's first record is read back, its length bounded
// before anything is allocated (SSL 2.0 is not probed). SMTP, IMAP, POP3, FTP, LDAP,
// MySQL and PostgreSQL targets are upgraded to TLS in their own protocol first; every
// line read before TLS is bounded, so a hostile server cannot make a buffer grow.
package probe
