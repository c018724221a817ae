package agent

import (
	"net"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// logVerdict writes one structured line per decided flow; internal flows carry their
// policy violation, if any, and the exemption that excused one.
func (a *Agent) logVerdict(log zerolog.Logger, r *flow.Record, own ownership) {
	cfg := a.cfg.Load()
	pol := cfg.Policy
	names := a.kube.names(cfg)
	v := &r.Verdict
	internal := pol.IsInternal(r.Client.Addr()) && pol.IsInternal(r.Server.Addr())
	ev := log.Info().Str("event", "verdict").
		Str("transport", r.Transport()).
		Str("client", r.Client.String()).
		Str("server", r.Server.String()).
		Str("iface", ifaceName(r.Ifindex)).
		Str("class", v.Class.String()).
		Str("tls_version", v.Version.String()).
		Str("app_protocol", appProtocol(v.App.String(), v.AppOther)).
		Bool("starttls", v.StartTLS).
		Str("sni", v.SNI).
		Bool("internal", internal).
		Bool("midstream", r.Midstream)
	if v.Reason != "" {
		ev = ev.Str("reason", v.Reason)
	}
	if v.Class == classify.ClassTLS {
		// Client authentication, mesh and fallback evidence, as analyze writes them
		// (client_cert: true, false or unknown).
		ev = ev.Str("client_cert", v.ClientCert.String()).
			Str("client_auth_evidence", v.ClientAuthEvidence).
			Bool("server_lacks_tls13", v.ServerLacksTLS13).
			Bool("fallback_scsv", v.FallbackSCSV)
		if v.Mesh != "" {
			ev = ev.Str("mesh", v.Mesh)
		}
	}
	if a.kube != nil {
		ev = ev.Bool("counted", own.counted).Str("counted_by", own.why)
	}
	if own.backend.IsValid() {
		ev = ev.Str("dnat_backend", own.backend.String())
	}
	ends := policy.Ends{Client: r.Client.Addr(), Server: r.Server.Addr(), ServerPort: r.Server.Port()}
	if id, ok := names.Resolve(r.Client, r.FirstSeen); ok {
		ends.ClientNamespace = id.Namespace
		ev = logEnd(ev, "client", id)
	}
	if id, ok := names.Resolve(r.Server, r.FirstSeen); ok {
		ends.ServerNamespace = id.Namespace
		ev = logEnd(ev, "server", id)
	}
	if internal {
		kind, exempt := pol.Judge(ends, v, time.Now())
		if kind != "" {
			ev = ev.Str("violation", kind)
		}
		if exempt != nil {
			ev = ev.Str("exempt", exempt.Reason)
		}
	}
	ev.Msg("flow classified")
}

func appProtocol(app, other string) string {
	if app != "" {
		return app
	}
	return other
}

// ifaceName names an interface index for logs ("" when unknown or gone).
func ifaceName(idx int) string {
	if idx == 0 {
		return ""
	}
	ifc, err := net.InterfaceByIndex(idx)
	if err != nil {
		return ""
	}
	return ifc.Name
}
