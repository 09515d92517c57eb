package opstest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/testkit"
)

var binPath string // the waorders binary, built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "waorders-opstest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath, err = buildBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the module's root directory.
func repoRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// buildBinary builds a static waorders as make build does, so the binary
// the tests run is the one the container image holds.
func buildBinary(dir string) (string, error) {
	bin := filepath.Join(dir, "waorders")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/waorders")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/waorders: %w\n%s", err, out)
	}
	return bin, nil
}

// ciInstalls are the tools .ci/run installs (Debian packages caddy,
// nginx-light, prometheus; systemd-analyze comes with systemd). podman is
// not among them: it is large, and a CI runner may not run containers.
var ciInstalls = map[string]bool{"caddy": true, "nginx": true, "promtool": true}

// need returns the path of a tool, or skips the test; under CI a tool
// .ci/run installs must be there.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" && ciInstalls[tool] {
			t.Fatalf("%s is not installed; .ci/run installs it under CI", tool)
		}
		t.Skipf("%s is not installed (apt-get install it to run this test)", tool)
	}
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a running waorders serve.
type proc struct {
	cmd  *exec.Cmd
	url  string // public listener
	log  *testkit.SyncBuffer
	done chan error
}

// startServe runs `waorders serve --addr <free> args...` with env added to
// a minimal environment, and waits until /healthz answers.
func startServe(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	p := &proc{url: "http://" + addr, log: &testkit.SyncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binPath, append([]string{"serve", "--addr", addr, "--log-format", "json"}, args...)...)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })
	waitFor(t, 20*time.Second, "waorders to answer /healthz", func() (bool, string) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("waorders exited: %v\n%s", err, p.log)
		default:
		}
		code, _, err := get(p.url+"/healthz", "")
		return code == 200, fmt.Sprint(code, err)
	})
	return p
}

func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// stop sends SIGTERM and waits for the exit.
func (p *proc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("waorders did not stop within 30s of SIGTERM\n%s", p.log)
	}
}

// running reports whether the process has not exited.
func (p *proc) running() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, s := cond()
		if ok {
			return
		}
		last = s
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
}

var client = &http.Client{Timeout: 10 * time.Second}

// get fetches url with an optional Bearer token.
func get(url, token string) (int, []byte, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(req)
}

// postCallback posts a Kaleyra body with the callback secret header.
func postCallback(url, secret string, body []byte, hdr map[string]string) (int, []byte, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/v1/callbacks/kaleyra", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Callback-Secret", secret)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(req)
}

func do(req *http.Request) (int, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // as a secret manager would: atomically
		t.Fatal(err)
	}
}

// postFrom posts a callback from a chosen local address (127.0.0.0/8 has
// many), with extra headers.
func postFrom(from, url string, body []byte, hdr map[string]string) (int, []byte, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext,
	}}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/callbacks/kaleyra", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Callback-Secret", testkitSecret)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
