package policy

import (
	"testing"

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
