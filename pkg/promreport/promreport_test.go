package promreport

import (
	"math"
	"testing"

	"github.com/prometheus/common/model"
)

func TestSeriesNames(t *testing.T) {
	for _, tc := range []struct {
		name           string
		labels         model.Metric
		client, server string
		port           uint16
		internal       bool
	}{
		{"named", model.Metric{"src_namespace": "shop", "src_workload": "web", "dst_namespace": "shop", "dst_workload": "api", "dst_port": "443"},
			"shop/web", "shop/api", 443, true},
		{"unnamed internal", model.Metric{"src_workload": "unknown", "dst_namespace": "data", "dst_workload": "db", "dst_port": "5432"},
			"unknown", "data/db", 5432, true},
		{"external server", model.Metric{"src_namespace": "shop", "src_workload": "web", "dst_workload": "external", "dst_port": "443"},
			"shop/web", "external", 443, false},
		{"folded by the series cap", model.Metric{"src_workload": "other", "dst_workload": "other", "dst_port": ""},
			"other", "other", 0, true},
		{"port out of range", model.Metric{"src_workload": "a", "dst_workload": "b", "dst_port": "70000"}, "a", "b", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s, p := ends(tc.labels)
			if c != tc.client || s != tc.server || p != tc.port || internalEnds(tc.labels) != tc.internal {
				t.Errorf("ends %q %q %d internal %v; want %q %q %d %v", c, s, p, internalEnds(tc.labels), tc.client, tc.server, tc.port, tc.internal)
			}
		})
	}
}

func TestWhole(t *testing.T) {
	for in, want := range map[float64]uint64{0: 0, 2.9999: 3, 3.4: 3, -1: 0, math.NaN(): 0, 27795.0001: 27795} {
		if got := whole(model.SampleValue(in)); got != want {
			t.Errorf("whole(%v) = %d, want %d", in, got, want)
		}
	}
}
