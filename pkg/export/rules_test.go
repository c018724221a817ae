package export_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tlsaudit/tlsaudit/pkg/export"
)

const rulesDir = "../../deploy/prometheus"

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := yaml.Unmarshal(mustRead(t, path), &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// TestAlertRulesPromtool runs the real promtool over the rule file, the
// PrometheusRule's rules and the unit tests in deploy/prometheus/tests.
func TestAlertRulesPromtool(t *testing.T) {
	promtool := needBinary(t, "promtool")
	spec := readYAML(t, filepath.Join(rulesDir, "tlsaudit-prometheusrule.yaml"))["spec"]
	b, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	fromCRD := filepath.Join(t.TempDir(), "prometheusrule-spec.yaml")
	if err := os.WriteFile(fromCRD, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := filepath.Glob(filepath.Join(rulesDir, "tests", "*.yaml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rule unit tests in %s/tests: %v", rulesDir, err)
	}
	for _, args := range [][]string{
		{"check", "rules", filepath.Join(rulesDir, "tlsaudit-rules.yaml")},
		{"check", "rules", fromCRD},
		append([]string{"test", "rules"}, tests...),
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		} else {
			t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
		}
	}
}

// TestAlertRulesBothWaysEqual keeps the PrometheusRule and the plain rule file the
// same, and every rule tested.
func TestAlertRulesBothWaysEqual(t *testing.T) {
	plain := readYAML(t, filepath.Join(rulesDir, "tlsaudit-rules.yaml"))
	crd := readYAML(t, filepath.Join(rulesDir, "tlsaudit-prometheusrule.yaml"))
	if crd["apiVersion"] != "monitoring.coreos.com/v1" || crd["kind"] != "PrometheusRule" {
		t.Errorf("apiVersion %v kind %v", crd["apiVersion"], crd["kind"])
	}
	spec, _ := crd["spec"].(map[string]any)
	if !reflect.DeepEqual(plain["groups"], spec["groups"]) {
		t.Error("tlsaudit-prometheusrule.yaml spec.groups differs from tlsaudit-rules.yaml groups")
	}
	var names []string
	for _, g := range plain["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			names = append(names, r.(map[string]any)["alert"].(string))
		}
	}
	want := []string{export.AlertPlaintext, export.AlertLegacyTLS, export.AlertNotTLS13, export.AlertNoMTLS, "TLSAuditCaptureDrops", "TLSAuditNoPackets", "TLSAuditTargetDown", "TLSAuditAbsent", "TLSAuditServerAcceptsLegacyTLS", "TLSAuditServerAcceptsTLSFallback"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("alerts %v, want %v", names, want)
	}
	tests, _ := filepath.Glob(filepath.Join(rulesDir, "tests", "*.yaml"))
	var all strings.Builder
	for _, f := range tests {
		all.Write(mustRead(t, f))
	}
	for _, n := range names {
		if !strings.Contains(all.String(), "alertname: "+n+"\n") {
			t.Errorf("no promtool unit test for %s", n)
		}
	}
}

// TestAlertRulesUseExportedMetrics checks that every tlsaudit_ metric a rule reads is
// one the exporter writes (the golden scrapes of flows and of a probe round).
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	rules := string(mustRead(t, filepath.Join(rulesDir, "tlsaudit-rules.yaml")))
	scrape := string(mustRead(t, "testdata/demo-mix.prom")) + string(mustRead(t, "testdata/probe.prom"))
	for _, m := range regexp.MustCompile(`tlsaudit_[a-z_]+`).FindAllString(rules, -1) {
		if !strings.Contains(scrape, "# TYPE "+m+" ") {
			t.Errorf("rule reads %s, which the exporter does not write", m)
		}
	}
}
