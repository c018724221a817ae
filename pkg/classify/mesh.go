package classify

import (
	"bytes"
	"strings"
)

// Service meshes recognised from the public markers their proxies put in the
// ClientHello: the Verdict's Mesh.
const (
	MeshIstio   = "istio"
	MeshLinkerd = "linkerd"
	MeshConsul  = "consul"
)

// EvidenceMesh is the ClientAuthEvidence of a client certificate taken from a mesh's
// markers: the meshes recognised authenticate both proxies with certificates on
// every connection they mark so.
const EvidenceMesh = "mesh"

// meshOf names the service mesh whose proxy sent the hello, or "":
//
//   - Istio: ALPN "istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1",
//     "istio-h2" (what Envoy sidecars offer for ISTIO_MUTUAL), or SNI
//     "outbound_.PORT_.SUBSET_.HOST" (the cluster name Istio sends as SNI);
//   - Linkerd: SNI "NAME.NAMESPACE.serviceaccount.identity.linkerd.TRUST-DOMAIN" (the
//     server proxy's identity) or ALPN "transport.l5d.io/v1" (its transport header);
//   - Consul service mesh: SNI "SERVICE.NAMESPACE[.PARTITION].DATACENTER.internal[-v1].TRUST-DOMAIN.consul".
func meshOf(ch *ClientHello) string {
	for _, p := range ch.ALPN {
		switch {
		case bytes.HasPrefix(p, []byte("istio")):
			return MeshIstio
		case string(p) == "transport.l5d.io/v1":
			return MeshLinkerd
		}
	}
	sni := string(ch.ServerName)
	switch {
	case istioSNI(sni):
		return MeshIstio
	case strings.Contains(sni, ".serviceaccount.identity.linkerd."):
		return MeshLinkerd
	case strings.HasSuffix(sni, ".consul") && (strings.Contains(sni, ".internal.") || strings.Contains(sni, ".internal-v1.")):
		return MeshConsul
	}
	return ""
}

// istioSNI reports whether sni has the form outbound_.PORT_.SUBSET_.HOST, PORT a
// number and SUBSET possibly empty.
func istioSNI(sni string) bool {
	rest, ok := strings.CutPrefix(sni, "outbound_.")
	if !ok {
		return false
	}
	port, rest, ok := strings.Cut(rest, "_.")
	if !ok || port == "" || strings.Trim(port, "0123456789") != "" {
		return false
	}
	_, host, ok := strings.Cut(rest, "_.")
	return ok && host != ""
}
