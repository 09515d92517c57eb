package opstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/testkit"
)

// TestContainer builds the image from the Dockerfile with podman (FROM
// scratch, so no registry is needed), checks it runs as a non-root user,
// and starts it and asks /readyz. Where podman cannot run containers (no
// usable cgroups, as in some CI sandboxes) it says so and starts the
// binary the image holds instead, as the image's user with the image's
// settings, and asks /readyz of that.
func TestContainer(t *testing.T) {
	podman := need(t, "podman")
	ctxDir := t.TempDir()
	for _, d := range []string{"bin", "deploy/container/data"} {
		if err := os.MkdirAll(filepath.Join(ctxDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, binPath, filepath.Join(ctxDir, "bin/waorders"), 0o755)
	copyFile(t, filepath.Join(repoRoot(), "Dockerfile"), filepath.Join(ctxDir, "Dockerfile"), 0o644)
	copyFile(t, filepath.Join(repoRoot(), "deploy/container/data/README"), filepath.Join(ctxDir, "deploy/container/data/README"), 0o644)
	tag := fmt.Sprintf("localhost/waorders-opstest:%d", time.Now().UnixNano())
	if out, err := exec.Command(podman, "build", "-q", "-t", tag, ctxDir).CombinedOutput(); err != nil {
		t.Fatalf("podman build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(podman, "rmi", "-f", tag).Run() })
	out, err := exec.Command(podman, "image", "inspect", "--format", "{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Env}}", tag).Output()
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.SplitN(strings.TrimSpace(string(out)), "|", 3)
	if fields[0] != "65532:65532" {
		t.Errorf("image user %q, want 65532:65532 (non-root)", fields[0])
	}
	addr, admin := freeAddr(t), freeAddr(t)
	name := strings.ReplaceAll(strings.TrimPrefix(tag, "localhost/"), ":", "-")
	run := exec.Command(podman, "run", "-d", "--name", name, "--network", "host",
		"-e", "WAORDERS_ADDR="+addr, "-e", "WAORDERS_ADMIN_ADDR="+admin, tag)
	if out, err := run.CombinedOutput(); err == nil {
		t.Cleanup(func() { _ = exec.Command(podman, "rm", "-f", name).Run() })
		waitFor(t, 30*time.Second, "the container to answer /readyz", func() (bool, string) {
			c, b, err := get("http://"+addr+"/readyz", "")
			return c == 200, fmt.Sprint(c, string(b), err)
		})
		t.Logf("container %s answers /readyz", tag)
		return
	} else {
		t.Logf("podman cannot run containers here (%v: %s); starting the binary the image holds instead", err, strings.TrimSpace(string(out)))
	}

	// The image's binary, user, working directory and environment, in a
	// directory that user can reach (t.TempDir's parent is private).
	root, err := os.MkdirTemp("", "waorders-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	data := filepath.Join(root, "data")
	bin := filepath.Join(root, "waorders")
	copyFile(t, binPath, bin, 0o755)
	if err := os.Mkdir(data, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, 65532, 65532); err != nil {
		t.Skipf("cannot give the data directory to the image's user: %v", err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = data
	cmd.Env = []string{"WAORDERS_ADDR=" + addr, "WAORDERS_ADMIN_ADDR=" + admin,
		"WAORDERS_DATABASE_URL=" + filepath.Join(data, "waorders.db"), "WAORDERS_LOG_FORMAT=json"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
	log := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	waitFor(t, 20*time.Second, "the image's binary to answer /readyz", func() (bool, string) {
		c, b, err := get("http://"+addr+"/readyz", "")
		return c == 200, fmt.Sprint(c, string(b), err, log.String())
	})
	if c, _, _ := get("http://"+admin+"/metrics", ""); c != 200 {
		t.Errorf("/metrics on the admin listener: %d", c)
	}
	fi, err := os.Stat(filepath.Join(data, "waorders.db"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %o, want 600", fi.Mode().Perm())
	}
	t.Logf("the image's binary answers /readyz as uid 65532")
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
