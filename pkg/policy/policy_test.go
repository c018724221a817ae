package policy

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

func TestClientAllowsLegacy(t *testing.T) {
	const y, n, u = classify.AnswerYes, classify.AnswerNo, classify.AnswerUnknown
	tests := []struct {
		name    string
		offered []classify.Version
		listed  bool
		min     classify.Version
		want    classify.Answer
	}{
		{"curl: 1.3 down to 1.0", []classify.Version{classify.VersionTLS13, classify.VersionTLS12, classify.VersionTLS11, classify.VersionTLS10}, true, classify.VersionTLS12, y},
		{"go: 1.3 and 1.2", []classify.Version{classify.VersionTLS13, classify.VersionTLS12}, true, classify.VersionTLS12, n},
		{"go: 1.3 and 1.2, minimum 1.3", []classify.Version{classify.VersionTLS13, classify.VersionTLS12}, true, classify.VersionTLS13, y},
		{"hello version 1.2 only", []classify.Version{classify.VersionTLS12}, false, classify.VersionTLS12, u},
		{"hello version 1.0", []classify.Version{classify.VersionTLS10}, false, classify.VersionTLS12, y},
		{"no hello", nil, false, classify.VersionTLS12, u},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Default()
			p.MinVersion = tt.min
			v := classify.Verdict{Class: classify.ClassTLS, OfferedVersions: tt.offered, OfferedVersionsListed: tt.listed}
			if got := p.ClientAllowsLegacy(&v); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHostLocalNeverViolates: plaintext between an application and its sidecar over
// loopback, or to its own pod address, is no violation even when loopback is
// configured as internal.
func TestHostLocalNeverViolates(t *testing.T) {
	p, err := Parse([]byte("internal_cidrs: [127.0.0.0/8, 10.0.0.0/8]\n"), "lo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plain := &classify.Verdict{Class: classify.ClassPlaintext}
	a := netip.MustParseAddr
	for _, tt := range []struct {
		name   string
		ends   Ends
		expect string
	}{
		{"app to its outbound sidecar", Ends{Client: a("127.0.0.1"), Server: a("127.0.0.1"), ServerPort: 15001}, ""},
		{"istio inbound leg from 127.0.0.6", Ends{Client: a("127.0.0.6"), Server: a("10.1.0.5"), ServerPort: 8080}, ""},
		{"pod to its own address", Ends{Client: a("10.1.0.5"), Server: a("10.1.0.5"), ServerPort: 8080}, ""},
		{"pod to another pod", Ends{Client: a("10.1.0.5"), Server: a("10.1.0.6"), ServerPort: 8080}, KindPlaintext},
	} {
		if kind, _ := p.Judge(tt.ends, plain, time.Now()); kind != tt.expect {
			t.Errorf("%s: %q, want %q", tt.name, kind, tt.expect)
		}
	}
}
