package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRunProbeFlags: bounds of the agent's probe that make no sense are refused
// before anything starts (exit 2, naming the flags); --check-config checks them too.
func TestRunProbeFlags(t *testing.T) {
	good := []string{"--check-config", "--config", "../../deploy/config/tlsaudit.example.yaml"}
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"--probe-interval", "1m", "--probe-max-targets", "16", "--probe-timeout", "2s", "--probe-concurrency", "1", "--probe-rate", "0.5"}, exitOK},
		{[]string{"--probe-interval", "-1s"}, exitError},
		{[]string{"--probe-max-targets", "0"}, exitError},
		{[]string{"--probe-timeout", "0s"}, exitError},
		{[]string{"--probe-concurrency", "0"}, exitError},
		{[]string{"--probe-rate", "-1"}, exitError},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append(append([]string{"run"}, good...), tt.args...), &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut.String())
			}
			if tt.code == exitError && !strings.Contains(errOut.String(), "--probe-") {
				t.Errorf("stderr %q names no --probe- flag", errOut.String())
			}
		})
	}
}
