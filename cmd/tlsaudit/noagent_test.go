package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoAgentBuild builds the command line as make build does (-tags noagent) beside
// a full build named tlsaudit-agent, and checks that it links none of the agent's
// packages nor any of Kubernetes' (a kubectl dump is read without them), that analyze writes what the full program writes, and that `run` hands
// over to tlsaudit-agent, or says why it cannot.
func TestNoAgentBuild(t *testing.T) {
	deps, err := exec.Command("go", "list", "-deps", "-tags", "noagent", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range []string{"k8s.io/", "github.com/tlsaudit/tlsaudit/pkg/agent", "github.com/tlsaudit/tlsaudit/pkg/identity/kubewatch"} {
		if bytes.Contains(deps, []byte(pkg)) {
			t.Errorf("the noagent build links %s", pkg)
		}
	}

	dir := t.TempDir()
	lean, full := filepath.Join(dir, "tlsaudit"), filepath.Join(dir, "tlsaudit-agent")
	for _, b := range [][]string{{lean, "-tags", "noagent"}, {full}} {
		args := append([]string{"build", "-trimpath", "-o", b[0]}, b[1:]...)
		if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}

	capture := filepath.Join(pcapDir, "tls12-openssl.pcap")
	var want bytes.Buffer
	if code := run([]string{"analyze", "--workers", "1", "--format", "json", capture}, &want, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("in-process analyze exit %d", code)
	}
	got, err := exec.Command(lean, "analyze", "--workers", "1", "--format", "json", capture).Output()
	if err != nil {
		t.Fatalf("noagent analyze: %v", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("noagent analyze wrote %d bytes, the full program %d, and they differ", len(got), want.Len())
	}

	// `run` reaches the agent: its --check-config answers for both exit codes.
	good := exec.Command(lean, "run", "--check-config", "--config", filepath.Join(policyTestdata, "good.yaml"))
	good.Env = append(os.Environ(), "PATH=/nonexistent")
	if out, err := good.CombinedOutput(); err != nil || !strings.Contains(string(out), "config ok: 5 internal ranges") {
		t.Errorf("run --check-config through tlsaudit-agent: %v\n%s", err, out)
	}
	bad := exec.Command(lean, "run", "--check-config", "--config", filepath.Join(policyTestdata, "bad", "bad-cidr.yaml"))
	var exitErr *exec.ExitError
	if out, err := bad.CombinedOutput(); !errors.As(err, &exitErr) || exitErr.ExitCode() != exitError || !strings.Contains(string(out), "internal_cidrs[1]") {
		t.Errorf("run --check-config of a bad file through tlsaudit-agent: %v\n%s", err, out)
	}

	// Alone, it says what is missing.
	alone := filepath.Join(t.TempDir(), "tlsaudit")
	if err := os.Link(lean, alone); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(alone, "run", "--check-config", "--config", filepath.Join(policyTestdata, "good.yaml"))
	cmd.Env = append(os.Environ(), "PATH=/nonexistent")
	if out, err := cmd.CombinedOutput(); !errors.As(err, &exitErr) || exitErr.ExitCode() != exitError || !strings.Contains(string(out), "built without the node agent, and tlsaudit-agent is not beside it or on PATH") {
		t.Errorf("run without tlsaudit-agent: %v\n%s", err, out)
	}
}
