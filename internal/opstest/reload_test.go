package opstest

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/loadgen"
)

// TestSIGHUPUnderLoad rotates the callback secret and the API token through
// their files and sends SIGHUP many times while callbacks arrive without a
// pause: no request may fail, the new credentials must be in use after a
// reload, a reload from an invalid file must keep the old ones and say why
// in the log, and the process must survive every signal.
func TestSIGHUPUnderLoad(t *testing.T) {
	dir := t.TempDir()
	const (
		secretA = "secret-a-0123456789abcdef0123456789"
		secretB = "secret-b-0123456789abcdef0123456789"
		token1  = "token-1-0123456789abcdef0123456789"
		token2  = "token-2-0123456789abcdef0123456789"
	)
	secretFile, tokenFile := filepath.Join(dir, "callback-secret"), filepath.Join(dir, "api-token")
	writeFile(t, secretFile, secretA+"\n")
	writeFile(t, tokenFile, token1+"\n")
	p := startServe(t, nil, "--database-url", filepath.Join(dir, "w.db"),
		"--callback-secret-file", secretFile, "--api-token-file", tokenFile)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		sum *loadgen.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := loadgen.Run(ctx, loadgen.Config{
			URL: p.url, Auth: loadgen.Auth{Secret: secretA}, Concurrency: 8, Rate: 400,
			Duration: 6 * time.Second, Seed: 13, Timeout: 10 * time.Second,
		}, nil)
		done <- result{s, err}
	}()

	hups := 0
	hup := func() {
		p.signal(t, syscall.SIGHUP)
		hups++
		time.Sleep(150 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	// Rotation, step 1: both secrets and the new token.
	writeFile(t, secretFile, secretA+","+secretB+"\n")
	writeFile(t, tokenFile, token2+"\n")
	hup()
	if code, _, err := get(p.url+"/v1/orders?limit=1", token2); code != 200 {
		t.Errorf("the new API token after SIGHUP: %d %v", code, err)
	}
	if code, _, _ := get(p.url+"/v1/orders?limit=1", token1); code != 401 {
		t.Errorf("the old API token after SIGHUP: %d, want 401", code)
	}
	if code, body, err := postCallback(p.url, secretB, []byte(`{"to":"x"}`), nil); code == 401 || err != nil {
		t.Errorf("the new callback secret after SIGHUP: %d %s %v", code, body, err)
	}
	// A broken file (too short a secret) keeps what is in use.
	writeFile(t, secretFile, "short\n")
	hup()
	if !strings.Contains(p.log.String(), "reload failed: the previous credentials stay in use") {
		t.Error("no log line for the failed reload")
	}
	writeFile(t, secretFile, secretA+","+secretB+"\n")
	for hups < 20 {
		hup()
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	s := r.sum
	t.Logf("SIGHUP under load: %d signals, %d requests sent, %d acknowledged, %d rejected, %d server errors, %d transport errors",
		hups, s.Sent, s.Acknowledged, s.Rejected, s.ServerErrors, s.TransportErrors)
	if s.Sent == 0 || s.Acknowledged != s.Sent || s.Rejected+s.ServerErrors+s.TransportErrors+s.OtherStatus != 0 {
		t.Errorf("requests failed across reloads: %+v", s.StatusCodes)
	}
	if !p.running() {
		t.Fatalf("waorders exited on SIGHUP\n%s", p.log)
	}
	if n := strings.Count(p.log.String(), `"msg":"credentials reloaded"`); n != hups-1 {
		t.Errorf("%d successful reloads logged, want %d", n, hups-1)
	}
	if code, body, _ := get(p.url+"/metrics", ""); code != 200 || !strings.Contains(string(body), `waorders_reloads_total{result="error"} 1`) {
		t.Errorf("reload metric: %d", code)
	}
}
