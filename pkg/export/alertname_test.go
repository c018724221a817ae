package export

import (
	"testing"

	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// TestAlertNamePerKind checks that every violation kind has an alertname of its own.
func TestAlertNamePerKind(t *testing.T) {
	seen := map[string]string{}
	for _, k := range policy.Kinds {
		n := AlertName(k)
		if other, dup := seen[n]; dup {
			t.Errorf("kinds %s and %s share alertname %s", other, k, n)
		}
		seen[n] = k
	}
	if AlertName(policy.KindNoMTLS) != AlertNoMTLS || AlertName(policy.KindNotTLS13) != AlertNotTLS13 {
		t.Errorf("alertnames %s %s", AlertName(policy.KindNoMTLS), AlertName(policy.KindNotTLS13))
	}
}
