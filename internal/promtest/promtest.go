// Package promtest runs the real Prometheus and Alertmanager binaries (Debian's
// prometheus and prometheus-alertmanager packages) for tests, on loopback, and asks
// them questions over their HTTP APIs. Each process is killed when its test ends;
// its log is printed when the test failed.
package promtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NeedBinary returns the first of names found in PATH, or skips the test.
func NeedBinary(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skipf("%s not installed: apt-get install prometheus prometheus-alertmanager (.ci/run does)", strings.Join(names, " or "))
	return ""
}

// FreePort returns a loopback "host:port" that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Server is a real Prometheus or Alertmanager process started by a test.
type Server struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs bin with args, logging to dir/name.log.
func Start(t testing.TB, dir, name, bin string, args ...string) *Server {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	s := &Server{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		f.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.Kill(t)
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s log (tail):\n%s", name, b)
		}
	})
	return s
}

// Kill stops the process at once (SIGKILL) and waits for it, at most 10s.
func (s *Server) Kill(t testing.TB) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Errorf("%s (pid %d) did not exit after SIGKILL", s.name, s.cmd.Process.Pid)
	}
}

// StartPrometheus runs Prometheus with the configuration text config on a free
// loopback port and waits until it is ready; it returns its base URL.
func StartPrometheus(t testing.TB, dir, config string) string {
	t.Helper()
	bin := NeedBinary(t, "prometheus")
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := FreePort(t)
	Start(t, dir, "prometheus", bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+addr)
	u := "http://" + addr
	WaitReady(t, u)
	return u
}

// WaitReady waits until base/-/ready answers 200 (Prometheus and Alertmanager).
func WaitReady(t testing.TB, base string) {
	t.Helper()
	Eventually(t, 60*time.Second, base+"/-/ready", func() string {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.Status
		}
		return ""
	})
}

// Eventually polls cond every 200ms until it returns "" or timeout passes; the last
// message says what was missing.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < timeout {
		if last = cond(); last == "" {
			t.Logf("%s after %v", what, time.Since(start).Round(100*time.Millisecond))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, last)
}

// GetJSON decodes the JSON answer of a GET; a status other than 200 is an error.
func GetJSON(u string, v any) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", u, resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

// Sample is one element of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query evaluates the PromQL expression q now through Prometheus's HTTP API; the
// answer must be an instant vector.
func Query(base, q string) ([]Sample, error) {
	var r struct {
		Data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := GetJSON(base+"/api/v1/query?query="+url.QueryEscape(q), &r); err != nil {
		return nil, err
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("%s: result type %q, want vector", q, r.Data.ResultType)
	}
	out := make([]Sample, 0, len(r.Data.Result))
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: value %v: %w", q, s.Value[1], err)
		}
		out = append(out, Sample{Labels: s.Metric, Value: v})
	}
	return out, nil
}
