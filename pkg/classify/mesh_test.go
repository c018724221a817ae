package classify

import (
	"crypto/tls"
	"testing"
)

func TestMeshOf(t *testing.T) {
	tests := []struct {
		name string
		sni  string
		alpn []string
		want string
	}{
		{"istio alpn", "reviews.default.svc.cluster.local", []string{"istio-peer-exchange", "istio"}, MeshIstio},
		{"istio http alpn", "", []string{"istio-http/1.1", "istio", "http/1.1"}, MeshIstio},
		{"istio sni", "outbound_.9080_._.reviews.default.svc.cluster.local", []string{"h2"}, MeshIstio},
		{"istio sni with subset", "outbound_.9080_.v2_.reviews.default.svc.cluster.local", nil, MeshIstio},
		{"not istio: port not a number", "outbound_.http_._.reviews.default.svc.cluster.local", nil, ""},
		{"not istio: no host", "outbound_.9080_.", nil, ""},
		{"linkerd identity", "web.emojivoto.serviceaccount.identity.linkerd.cluster.local", []string{"h2"}, MeshLinkerd},
		{"linkerd transport", "", []string{"transport.l5d.io/v1"}, MeshLinkerd},
		{"consul", "db.default.dc1.internal.f0d2cb2c-b7e8-4a47-9d64-33eb4fe22e5e.consul", nil, MeshConsul},
		{"consul v1", "db.default.default.dc1.internal-v1.f0d2cb2c.consul", nil, MeshConsul},
		{"plain service", "api.internal", []string{"h2", "http/1.1"}, ""},
		{"consul without internal", "api.service.consul", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := ClientHello{ServerName: []byte(tt.sni)}
			for _, p := range tt.alpn {
				ch.ALPN = append(ch.ALPN, []byte(p))
			}
			if got := meshOf(&ch); got != tt.want {
				t.Errorf("mesh %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMeshCountsAsMutual runs Go crypto/tls peers that offer Istio's ALPN.
// Where the sizes prove the client certificate they decide; where they cannot (a
// resumed session keeps the first handshake's identity) the mesh marker makes the
// flow mutual.
func TestMeshCountsAsMutual(t *testing.T) {
	p := newTestPKI(t)
	srv := &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool,
		NextProtos: []string{"istio-peer-exchange", "istio"}}
	cli := &tls.Config{ServerName: "api.internal", RootCAs: p.pool, Certificates: []tls.Certificate{p.clients["ecdsa-p256"]},
		NextProtos: []string{"istio-peer-exchange", "istio"}, ClientSessionCache: tls.NewLRUClientSessionCache(1)}
	for _, tt := range []struct {
		name     string
		evidence string
	}{{"full handshake", EvidenceTLS13FlightSize}, {"resumed", EvidenceMesh}} {
		t.Run(tt.name, func(t *testing.T) {
			client, server := goHandshakeConfig(t, srv, cli)
			var c Classifier
			v, _ := c.Classify(&Input{Proto: 6, Client: client, Server: server, Final: true})
			if v.Mesh != MeshIstio || v.ClientCert != AnswerYes || v.ClientAuthEvidence != tt.evidence {
				t.Errorf("mesh %q client cert %v evidence %q resumed %v; want istio, yes, %q", v.Mesh, v.ClientCert,
					v.ClientAuthEvidence, v.Resumed, tt.evidence)
			}
		})
	}
}
