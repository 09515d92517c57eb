package opstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/simulate"
	"github.com/waorders/waorders/internal/testkit"
)

// TestFullDisk runs waorders with its SQLite file on a 2 MiB tmpfs and posts
// orders until the filesystem is full: every callback must be answered 200
// or 503 (never 500), /readyz must say not ready once a commit failed, and
// after the filesystem grows every acknowledged order must be readable and
// the service ready again. It needs root (mount); elsewhere it skips.
func TestFullDisk(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux to mount a small tmpfs")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "small")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	// Registered after the server's cleanup, so it runs after the server stops.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	p := startServe(t, nil, "--database-url", filepath.Join(mnt, "w.db"),
		"--callback-secret", testkit.CallbackSecret, "--api-token", testkit.APIToken)

	gen := simulate.New(7, simulate.Options{Mix: map[simulate.Kind]float64{simulate.KindOrder: 1}})
	var acked []string
	full := 0
	for i := 0; i < 20000 && full < 20; i++ {
		cb := gen.Next()
		code, body, err := postCallback(p.url, testkit.CallbackSecret, cb.Body, nil)
		switch {
		case err != nil:
			t.Fatal(err)
		case code == 200:
			acked = append(acked, cb.MessageIDs...)
		case code == 503:
			full++
			if full == 1 {
				t.Logf("first 503 after %d acknowledged orders", len(acked))
				if c, b, _ := get(p.url+"/readyz", ""); c != 503 {
					t.Errorf("/readyz after a commit failed on a full disk: %d %s", c, b)
				}
			}
		default:
			t.Fatalf("callback on a full disk: %d %s", code, body)
		}
	}
	if full == 0 {
		t.Fatal("the filesystem never filled up")
	}
	if out, err := exec.Command("mount", "-o", "remount,size=64m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("grow the tmpfs: %v %s", err, out)
	}
	waitFor(t, 30*time.Second, "a callback to be stored after the disk grew", func() (bool, string) {
		cb := gen.Next()
		code, b, _ := postCallback(p.url, testkit.CallbackSecret, cb.Body, nil)
		if code == 200 {
			acked = append(acked, cb.MessageIDs...)
		}
		return code == 200, string(b)
	})
	if c, b, _ := get(p.url+"/readyz", ""); c != 200 {
		t.Errorf("/readyz after the disk grew: %d %s", c, b)
	}
	lost := 0
	for _, id := range acked {
		if c, _, _ := get(p.url+"/v1/messages/"+id, testkit.APIToken); c != 200 {
			lost++
		}
	}
	t.Logf("full disk: %d messages acknowledged, %d callbacks answered 503, %d acknowledged messages missing", len(acked), full, lost)
	if lost > 0 {
		t.Errorf("%d acknowledged messages are missing", lost)
	}
}
