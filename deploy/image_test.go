package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStaticBinary builds the binary the way the Dockerfile does (no container
// engine runs here) and checks that it needs no libc: ldd finds no dynamic
// executable, and, as root, it runs chrooted in a folder that holds nothing else.
func TestStaticBinary(t *testing.T) {
	dockerfile := string(mustRead(t, "../Dockerfile"))
	for _, want := range []string{"RUN bash scripts/build-static.sh /out/tlsaudit", "FROM gcr.io/distroless/static", "USER 65532"} {
		if !strings.Contains(dockerfile, want) {
			t.Fatalf("the Dockerfile no longer has %q: this test builds what it builds", want)
		}
	}
	root := t.TempDir()
	bin := filepath.Join(root, "tlsaudit")
	if out, err := exec.Command("bash", "../scripts/build-static.sh", bin).CombinedOutput(); err != nil {
		t.Fatalf("build-static: %v\n%s", err, out)
	}
	out, _ := exec.Command("ldd", bin).CombinedOutput()
	if !strings.Contains(string(out), "not a dynamic executable") {
		t.Errorf("ldd %s: %s", bin, out)
	}
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	cmd := exec.Command("/tlsaudit", "version")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) == 0 {
		t.Errorf("tlsaudit version in an empty root: %v: %s", err, out)
	}
}
