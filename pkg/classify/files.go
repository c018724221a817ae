package classify

// Recognisers of file-transfer protocols.

// FTP (RFC 959, RFC 2228, RFC 2389, RFC 4217).

var ftpCommands = [...]command{
	{"AUTH TLS", argAny, sideStrong},
	{"AUTH SSL", argNo, sideStrong},
	{"FEAT", argNo, sideStrong},
	{"SYST", argNo, sideStrong},
	{"OPTS", argYes, sideStrong},
	{"HOST", argYes, sideStrong},
	{"USER", argYes, sideWeak},
}

func detectFTP(client, server []byte) result {
	s := sideEmpty
	if len(server) > 0 {
		r := replySide(server, "220")
		s = r.st
		switch {
		case r.st == sideNo:
		case (r.hasSMTP || r.hasLMTP) && !r.hasFTP:
			s = sideNo
		case r.hasFTP && !r.hasSMTP:
			s = sideStrong
		}
	}
	return combine(commandSide(client, ftpCommands[:]), s)
}
