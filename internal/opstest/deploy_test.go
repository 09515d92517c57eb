package opstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/testkit"
)

func deployFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAlertRules: promtool accepts the rules, and every metric they name
// is exported by a running server.
func TestAlertRules(t *testing.T) {
	rules := filepath.Join(repoRoot(), "deploy/prometheus/waorders-alerts.yml")
	if out, err := exec.Command(need(t, "promtool"), "check", "rules", rules).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	srv := startInProcess(t, openSQLite(t), "")
	// Make every labelled series exist: a stored order, a quarantined
	// body, a rejected callback.
	postCallback(srv.URL(), testkit.CallbackSecret, testkit.Kaleyra(testkit.Order("wamid.alerts")).Bytes(), nil)
	postCallback(srv.URL(), testkit.CallbackSecret, []byte(`{"not":"a callback"}`), nil)
	postCallback(srv.URL(), "wrong-secret-0123456789abcdef0123", []byte(`{}`), nil)
	_, body, err := get(srv.URL()+"/metrics", "")
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(name)
			exported[f[0]] = true
			if f[1] == "histogram" {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					exported[f[0]+s] = true
				}
			}
		}
	}
	named := regexp.MustCompile(`\bwaorders_[a-z_]+`).FindAllString(deployFile(t, "deploy/prometheus/waorders-alerts.yml"), -1)
	slices.Sort(named)
	for _, m := range slices.Compact(named) {
		if !exported[m] {
			t.Errorf("the alert rules name %s, which /metrics does not export", m)
		}
	}
}

// TestSystemdUnit: systemd-analyze verify accepts the unit (with the
// binary where ExecStart says it is).
func TestSystemdUnit(t *testing.T) {
	tool := need(t, "systemd-analyze")
	unit := deployFile(t, "deploy/systemd/waorders.service")
	unit = strings.ReplaceAll(unit, "/usr/local/bin/waorders", binPath)
	path := filepath.Join(t.TempDir(), "waorders.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	// Outside a booted systemd (a container) verify also complains about
	// the manager itself; only lines about our unit count.
	var ours []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "waorders.service") {
			ours = append(ours, l)
		}
	}
	if len(ours) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, strings.Join(ours, "\n"))
	}
	t.Logf("systemd-analyze verify: %v (%d lines about the unit)", err, len(ours))
}

// proxyCase runs waorders behind a proxy that listens on proxyAddr and
// checks that the proxy's client-address header reaches the allow-list:
// the proxy is trusted (127.0.0.1), only 127.0.0.2 is allowed, so a
// callback sent from 127.0.0.2 through the proxy passes and one from
// 127.0.0.3 is refused, even with a forged header naming 127.0.0.2.
func proxyCase(t *testing.T, header string, start func(t *testing.T, upstream, listen string)) {
	t.Helper()
	dbDir := t.TempDir()
	p := startServe(t, nil, "--database-url", filepath.Join(dbDir, "w.db"),
		"--callback-secret", testkit.CallbackSecret, "--api-token", testkit.APIToken,
		"--trusted-proxies", "127.0.0.1", "--allow-cidrs", "127.0.0.2", "--client-ip-header", header)
	listen := freeAddr(t)
	start(t, strings.TrimPrefix(p.url, "http://"), listen)
	url := "http://" + listen
	waitFor(t, 15*time.Second, "the proxy to answer /healthz", func() (bool, string) {
		c, b, err := get(url+"/healthz", "")
		return c == 200, fmt.Sprint(c, string(b), err)
	})
	send := func(from, id string, hdr map[string]string) int {
		code, _, err := postFrom(from, url, testkit.Kaleyra(testkit.Order(id)).Bytes(), hdr)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	if c := send("127.0.0.2", "wamid.allowed", nil); c != 200 {
		t.Errorf("from the allowed address through the proxy: %d", c)
	}
	if c := send("127.0.0.3", "wamid.refused", nil); c != 401 {
		t.Errorf("from another address through the proxy: %d, want 401", c)
	}
	forged := map[string]string{"X-Forwarded-For": "127.0.0.2", "X-Real-IP": "127.0.0.2", "Forwarded": "for=127.0.0.2"}
	if c := send("127.0.0.3", "wamid.forged", forged); c != 401 {
		t.Errorf("from another address with forged %s through the proxy: %d, want 401", header, c)
	}
	if c, _, _ := get(url+"/v1/orders", testkit.APIToken); c != 404 {
		t.Errorf("the API through the proxy: %d, want 404 (only callbacks face the internet)", c)
	}
}

func TestCaddy(t *testing.T) {
	caddy := need(t, "caddy")
	proxyCase(t, "X-Forwarded-For", func(t *testing.T, upstream, listen string) {
		conf := deployFile(t, "deploy/caddy/Caddyfile")
		conf = strings.Replace(conf, "callbacks.example.com {", "{\n\tadmin off\n\tauto_https off\n}\n\nhttp://"+listen+" {", 1)
		conf = strings.ReplaceAll(conf, "127.0.0.1:8080", upstream)
		dir := t.TempDir()
		path := filepath.Join(dir, "Caddyfile")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		startTool(t, dir, caddy, "run", "--config", path, "--adapter", "caddyfile")
	})
}

func TestNginx(t *testing.T) {
	nginx := need(t, "nginx")
	for _, header := range []string{"X-Real-IP", "X-Forwarded-For", "Forwarded"} {
		t.Run(header, func(t *testing.T) {
			proxyCase(t, header, func(t *testing.T, upstream, listen string) {
				conf := deployFile(t, "deploy/nginx/waorders.conf")
				conf = strings.Replace(conf, "listen 443 ssl;", "listen "+listen+";", 1)
				conf = regexp.MustCompile(`(?m)^\s*ssl_.*$`).ReplaceAllString(conf, "")
				conf = strings.ReplaceAll(conf, "127.0.0.1:8080", upstream)
				if header == "Forwarded" { // RFC 7239 from nginx: replace whatever the client sent
					conf = strings.Replace(conf, "proxy_set_header X-Real-IP $remote_addr;",
						"proxy_set_header X-Real-IP $remote_addr;\n        proxy_set_header Forwarded \"for=$remote_addr\";", 1)
				}
				dir := t.TempDir()
				main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log stderr;
events {}
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    %[2]s
}
`, dir, conf)
				path := filepath.Join(dir, "nginx.conf")
				if err := os.WriteFile(path, []byte(main), 0o644); err != nil {
					t.Fatal(err)
				}
				startTool(t, dir, nginx, "-c", path, "-p", dir, "-e", "stderr")
			})
		})
	}
}

// startTool runs a proxy until the test ends.
func startTool(t *testing.T, dir, tool string, args ...string) {
	t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	log := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	cmd.WaitDelay = 5 * time.Second // children holding the log pipe
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(tool), log)
		}
	})
}

const testkitSecret = testkit.CallbackSecret
