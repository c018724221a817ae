package probe

// startTLSSchemes maps the app_protocol of a STARTTLS flow (the passive verdict's
// name) to the target scheme that upgrades it the same way.
var startTLSSchemes = map[string]string{
	"smtp":       StartTLSSMTP,
	"imap":       StartTLSIMAP,
	"pop3":       StartTLSPOP3,
	"ftp":        StartTLSFTP,
	"ldap":       StartTLSLDAP,
	"mysql":      StartTLSMySQL,
	"postgresql": StartTLSPostgres,
}

// TargetFor names the probe target of a TLS server seen passively at addr
// ("host:port"): addr itself when the server spoke TLS from the first byte; when it
// upgraded by STARTTLS, addr behind the scheme that upgrades appProtocol the same
// way, or "" when the probe cannot upgrade that protocol.
func TargetFor(addr string, startTLS bool, appProtocol string) string {
	if !startTLS {
		return addr
	}
	if scheme, ok := startTLSSchemes[appProtocol]; ok {
		return scheme + "://" + addr
	}
	return ""
}
