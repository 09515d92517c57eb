package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/cli"
	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/testkit"
)

// Credentials of the servers started with explicit ones: testkit's, and
// the extra ones a few tests need (a second callback secret for rotation,
// Basic credentials), each long enough for the authenticator.
const (
	e2eSecret     = testkit.CallbackSecret
	e2eSecretNext = "e2e-callback-secret-next-98765"
	e2eToken      = testkit.APIToken
	e2eBasic      = "kaleyra:e2e-basic-password-012345"
	e2eMetaSecret = testkit.MetaAppSecret
)

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// envFunc returns a getenv over a fixed map, so the test process's own
// environment never leaks in.
func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// serveRun is one `waorders serve` running in a goroutine through cli.Run.
type serveRun struct {
	t      *testing.T
	dir    string
	db     string
	stdout *testkit.SyncBuffer
	stderr *testkit.SyncBuffer
	cancel context.CancelFunc
	done   chan error
	url    string
	client *http.Client

	stopOnce sync.Once
	err      error
}

var listeningRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// startServe runs serve on 127.0.0.1:0 with its database in dir, and returns
// once /readyz answers 200. It is stopped in t.Cleanup if the test does not.
func startServe(t *testing.T, dir string, env map[string]string, args ...string) *serveRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &serveRun{
		t: t, dir: dir, db: filepath.Join(dir, "db.sqlite"),
		stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{},
		cancel: cancel, done: make(chan error, 1),
		client: &http.Client{Timeout: 30 * time.Second},
	}
	full := append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", r.db}, args...)
	go func() {
		r.done <- cli.Run(ctx, full, envFunc(env), strings.NewReader(""), r.stdout, r.stderr)
	}()
	t.Cleanup(func() { r.stop() })
	waitFor(t, "the banner", func() bool {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("serve ended before listening: %v\nstderr:\n%s", err, r.stderr)
		default:
		}
		m := listeningRE.FindStringSubmatch(r.stdout.String())
		if m != nil {
			r.url = m[1]
		}
		return m != nil
	})
	waitFor(t, "/readyz", func() bool {
		resp, err := r.client.Get(r.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return r
}

// stop cancels the server's context and returns what Run returned.
func (r *serveRun) stop() error {
	r.t.Helper()
	r.stopOnce.Do(func() {
		r.client.CloseIdleConnections()
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(60 * time.Second):
			r.err = errors.New("serve did not stop")
			r.t.Errorf("serve did not stop after its context was cancelled")
		}
	})
	return r.err
}

// post sends a callback body to path with header pairs, and returns the
// status and body of the answer.
func (r *serveRun) post(path string, body []byte, hdr ...string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.url+path, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return r.do(req)
}

// get sends a GET with the API token tok.
func (r *serveRun) get(path, tok string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.url+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return r.do(req)
}

func (r *serveRun) do(req *http.Request) (int, []byte) {
	r.t.Helper()
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// noLeak fails if a secret appears in the server's output.
func (r *serveRun) noLeak(secrets ...string) {
	r.t.Helper()
	out, errOut := r.stdout.String(), r.stderr.String()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(out, s) {
			r.t.Errorf("stdout contains the secret %q:\n%s", s, out)
		}
		if strings.Contains(errOut, s) {
			r.t.Errorf("stderr contains the secret %q:\n%s", s, errOut)
		}
	}
}

// orderBody is a Kaleyra callback with one order message of one line.
func orderBody(id string, quantity int) []byte {
	return testkit.Kaleyra(testkit.Order(id).Name("Buyer").Item("sku", quantity, "100", "INR")).Bytes()
}

func seedBody(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "callback", "testdata", "kaleyra_seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const seedID = "wamid.HBgMOTE5NzQwNzc2NTA1FQIAEhggNUYXXXXXXXXXXzNjE2MjI0U3REVENTU3RUY3NEMxODYA"

// results decodes a 200 callback answer into its messages' results.
func (r *serveRun) results(status int, body []byte) []string {
	t := r.t
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("callback: %d %s, want 200", status, body)
	}
	var a struct {
		Messages []struct {
			Result string `json:"result"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("callback answer %s: %v", body, err)
	}
	var out []string
	for _, m := range a.Messages {
		out = append(out, m.Result)
	}
	return out
}

// readEnvFile reads KEY=value lines.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vals[k] = v
		}
	}
	return vals
}

func TestServeZeroConfig(t *testing.T) {
	dir := t.TempDir()
	r := startServe(t, dir, nil)
	credPath := filepath.Join(dir, "credentials.env")
	fi, err := os.Stat(credPath)
	if err != nil {
		t.Fatalf("no generated credentials: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials.env mode %v, want 0600", fi.Mode().Perm())
	}
	creds := readEnvFile(t, credPath)
	secret, token := creds["WAORDERS_CALLBACK_SECRET"], creds["WAORDERS_API_TOKEN"]
	if len(secret) < 32 || len(token) < 32 || secret == token {
		t.Fatalf("generated credentials %d and %d bytes, want two different ≥ 32-byte values", len(secret), len(token))
	}
	out := r.stdout.String()
	for _, want := range []string{r.url + "/v1/callbacks/kaleyra", r.url + "/v1/callbacks/meta", "header X-Callback-Secret", credPath} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}

	if got := r.results(r.post("/v1/callbacks/kaleyra", seedBody(t), "X-Callback-Secret", secret)); len(got) != 1 || got[0] != "stored" {
		t.Errorf("seed with the generated secret: %v, want stored", got)
	}
	if status, body := r.post("/v1/callbacks/kaleyra", orderBody("wamid.ZERO2", 1), "X-Callback-Secret", "wrong-secret-0123456789abcdef"); status != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d %s, want 401", status, body)
	}
	if status, body := r.post("/v1/callbacks/kaleyra", orderBody("wamid.ZERO3", 1)); status != http.StatusUnauthorized {
		t.Errorf("no secret: %d %s, want 401", status, body)
	}
	if status, body := r.get("/v1/orders/"+seedID, token); status != http.StatusOK {
		t.Errorf("GET order with the generated token: %d %s", status, body)
	}
	if status, _ := r.get("/v1/orders/"+seedID, ""); status != http.StatusUnauthorized {
		t.Errorf("GET order without token: %d, want 401", status)
	}
	// The CLI's client commands find the generated token by themselves.
	var stdout, stderr bytes.Buffer
	if err := cli.Run(context.Background(), []string{"quarantine", "list", "--server", r.url, "--data-dir", dir}, envFunc(nil), nil, &stdout, &stderr); err != nil {
		t.Errorf("quarantine list with --data-dir: %v\n%s", err, stderr.String())
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run returned %v\nstderr:\n%s", err, r.stderr)
	}
	r.noLeak(secret, token)
	if stdout.Len() > 0 && strings.Contains(stdout.String(), token) {
		t.Errorf("quarantine list printed the token")
	}

	// A restart keeps the credentials and the data.
	before, _ := os.ReadFile(credPath)
	r2 := startServe(t, dir, nil)
	after, _ := os.ReadFile(credPath)
	if !bytes.Equal(before, after) {
		t.Errorf("credentials.env changed on restart")
	}
	if got := r2.results(r2.post("/v1/callbacks/kaleyra", seedBody(t), "X-Callback-Secret", secret)); len(got) != 1 || got[0] != "duplicate" {
		t.Errorf("seed after restart: %v, want duplicate", got)
	}
	if err := r2.stop(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	r2.noLeak(secret, token)
}

func TestServeSecretsFromEnvAndFiles(t *testing.T) {
	dir := t.TempDir()
	secretDir := t.TempDir()
	writeSecret := func(name, value string) string {
		p := filepath.Join(secretDir, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := map[string]string{
		"WAORDERS_CALLBACK_SECRET":      e2eSecret + "," + e2eSecretNext,
		"WAORDERS_API_TOKEN_FILE":       writeSecret("token", e2eToken),
		"WAORDERS_BASIC_AUTH_FILE":      writeSecret("basic", e2eBasic),
		"WAORDERS_META_APP_SECRET_FILE": writeSecret("meta", e2eMetaSecret),
		"WAORDERS_LOG_LEVEL":            "debug",
	}
	r := startServe(t, dir, env)
	if _, err := os.Stat(filepath.Join(dir, "credentials.env")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("credentials.env generated although credentials were configured (%v)", err)
	}
	for i, s := range []string{e2eSecret, e2eSecretNext} {
		got := r.results(r.post("/v1/callbacks/kaleyra", orderBody(fmt.Sprintf("wamid.ENV%d", i), 1), "X-Callback-Secret", s))
		if len(got) != 1 || got[0] != "stored" {
			t.Errorf("secret %d: %v", i, got)
		}
	}
	user, pass, _ := strings.Cut(e2eBasic, ":")
	req, _ := http.NewRequest(http.MethodPost, r.url+"/v1/callbacks/kaleyra", bytes.NewReader(orderBody("wamid.ENVBASIC", 1)))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(user, pass)
	if got := r.results(r.do(req)); len(got) != 1 || got[0] != "stored" {
		t.Errorf("basic from file: %v", got)
	}
	meta, err := os.ReadFile(filepath.Join("..", "..", "callback", "testdata", "i8_meta_order.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.results(r.post("/v1/callbacks/meta", meta, callback.SignatureHeader, testkit.SignMeta(meta))); len(got) != 1 || got[0] != "stored" {
		t.Errorf("meta signed with the secret from file: %v", got)
	}
	if status, body := r.get("/v1/orders/wamid.ENV0", e2eToken); status != http.StatusOK {
		t.Errorf("API token from file: %d %s", status, body)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run returned %v\nstderr:\n%s", err, r.stderr)
	}
	r.noLeak(e2eSecret, e2eSecretNext, e2eToken, pass, e2eMetaSecret)
	if !strings.Contains(r.stderr.String(), "level=DEBUG") {
		t.Errorf("WAORDERS_LOG_LEVEL=debug was not applied:\n%s", r.stderr)
	}
}

func TestServePrecedence(t *testing.T) {
	dir := t.TempDir()
	const (
		fileToken  = "file-api-token-0123456789abcd"
		envToken   = "env-api-token-0123456789abcde"
		flagToken  = "flag-api-token-0123456789abc"
		fileSecret = "file-callback-secret-01234567"
	)
	cfgPath := filepath.Join(t.TempDir(), "waorders.conf")
	cfgText := "# settings\n" +
		"api-token = " + fileToken + "\n" +
		"callback_secret = \"" + fileSecret + "\"\n" +
		"callback-secret-header: X-From-File\n" +
		"batch-max = 64   # a comment\n"
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"WAORDERS_API_TOKEN":              envToken,
		"WAORDERS_CALLBACK_SECRET_HEADER": "X-From-Env",
	}
	r := startServe(t, dir, env, "--config", cfgPath, "--api-token", flagToken)

	// api-token: the flag beats the environment and the file.
	for tok, want := range map[string]int{flagToken: 200, envToken: 401, fileToken: 401} {
		if status, body := r.get("/v1/messages", tok); status != want {
			t.Errorf("API token %s: %d %s, want %d", tok[:8], status, body, want)
		}
	}
	// callback-secret-header: the environment beats the file; the secret
	// comes from the file, where nothing else sets it.
	if got := r.results(r.post("/v1/callbacks/kaleyra", orderBody("wamid.PREC1", 1), "X-From-Env", fileSecret)); len(got) != 1 || got[0] != "stored" {
		t.Errorf("secret in the environment's header: %v", got)
	}
	if status, _ := r.post("/v1/callbacks/kaleyra", orderBody("wamid.PREC2", 1), "X-From-File", fileSecret); status != http.StatusUnauthorized {
		t.Errorf("secret in the file's header: %d, want 401", status)
	}
	if !strings.Contains(r.stdout.String(), "header X-From-Env") {
		t.Errorf("banner does not show the header from the environment:\n%s", r.stdout)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	r.noLeak(fileToken, envToken, flagToken, fileSecret)
}

func TestServeHelp(t *testing.T) {
	t.Parallel() // touches no global state: no serve runs
	for _, arg := range []string{"--help", "-h"} {
		var stdout, stderr bytes.Buffer
		if err := cli.Run(context.Background(), []string{"serve", arg}, envFunc(nil), nil, &stdout, &stderr); err != nil {
			t.Fatalf("serve %s: %v", arg, err)
		}
		var c config.Serve
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.Flags(fs)
		n := 0
		fs.VisitAll(func(f *flag.Flag) {
			n++
			if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(f.Name) + `\b`).MatchString(stdout.String()) {
				t.Errorf("serve %s does not explain --%s", arg, f.Name)
			}
		})
		if n < 20 {
			t.Errorf("only %d flags registered", n)
		}
		for _, want := range []string{"Usage: waorders serve", "WAORDERS_", "Precedence"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("serve %s lacks %q", arg, want)
			}
		}
		if stderr.Len() > 0 {
			t.Errorf("serve %s wrote to stderr: %s", arg, stderr.String())
		}
	}
}

func TestServeInvalidSettings(t *testing.T) {
	cfgDir := t.TempDir()
	unknownKey := filepath.Join(cfgDir, "unknown.conf")
	if err := os.WriteFile(unknownKey, []byte("colour = blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"MaxBody", []string{"--max-body", "10"}, nil, "--max-body"},
		{"LogLevel", []string{"--log-level", "loud"}, nil, "--log-level"},
		{"LogFormat", []string{"--log-format", "xml"}, nil, "--log-format"},
		{"BatchMax", []string{"--batch-max", "0"}, nil, "--batch-max"},
		{"BatchWait", []string{"--batch-wait", "5s"}, nil, "--batch-wait"},
		{"AllowCIDRs", []string{"--allow-cidrs", "10.0.0.0/33"}, nil, "--allow-cidrs"},
		{"TrustedProxies", []string{"--trusted-proxies", "proxy"}, nil, "--trusted-proxies"},
		{"BasicAuth", []string{"--basic-auth", "no-colon"}, nil, "--basic-auth"},
		{"TokenClients", []string{"--token-clients", "no-colon"}, nil, "--token-clients"},
		{"Duration", []string{"--read-timeout", "soon"}, nil, "-read-timeout"},
		{"UnknownFlag", []string{"--colour", "blue"}, nil, "-colour"},
		{"EnvValue", nil, map[string]string{"WAORDERS_BATCH_MAX": "many"}, "batch-max (from WAORDERS_BATCH_MAX)"},
		{"Positional", []string{"extra"}, nil, `unexpected argument "extra"`},
		{"DebugAddr", []string{"--debug-addr", "6060"}, nil, "--debug-addr"},
		{"MissingConfigFile", []string{"--config", filepath.Join(cfgDir, "missing.conf")}, nil, "config file"},
		{"UnknownConfigKey", []string{"--config", unknownKey}, nil, `unknown setting "colour"`},
		// These two name the setting, not the flag (see the report).
		{"DatabaseURL", []string{"--database-url", "mysql://db/x"}, nil, "database URL"},
		{"ShortSecret", []string{"--callback-secret", "short"}, nil, "callback secret #1 is 5 bytes"},
	}
	// Nothing may be written anywhere for invalid settings, not even in the
	// working directory (where data/ is by default).
	cwd := t.TempDir()
	t.Chdir(cwd)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", filepath.Join(dir, "db.sqlite")}, tt.args...)
			// A server that starts by mistake is stopped by the deadline and
			// then fails the test for returning nil.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			err := cli.Run(ctx, args, envFunc(tt.env), nil, &stdout, &stderr)
			if err == nil {
				t.Fatalf("serve %v: no error", tt.args)
			}
			if !errors.Is(err, cli.ErrUsage) {
				t.Errorf("error %v is not ErrUsage", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(stdout.String(), "listening on") {
				t.Errorf("the server started:\n%s", stdout.String())
			}
			for _, d := range []string{dir, cwd} {
				if entries, _ := os.ReadDir(d); len(entries) > 0 {
					t.Errorf("invalid settings wrote %s/%s", d, entries[0].Name())
				}
			}
		})
	}
}

var profilerRE = regexp.MustCompile(`profiler: +(http://127\.0\.0\.1:\d+)/debug/pprof/`)

// TestServeDebugAddr: --debug-addr serves the profiler on its own listener
// only, without the command line (flags may carry secrets).
func TestServeDebugAddr(t *testing.T) {
	r := startServe(t, t.TempDir(), nil, "--callback-secret", e2eSecret, "--api-token", e2eToken,
		"--debug-addr", "127.0.0.1:0", "--shutdown-timeout", "20s")
	m := profilerRE.FindStringSubmatch(r.stdout.String())
	if m == nil {
		t.Fatalf("the banner names no profiler URL:\n%s", r.stdout)
	}
	dbg := m[1]
	for _, tt := range []struct {
		url  string
		want int
	}{
		{dbg + "/debug/pprof/", http.StatusOK},
		{dbg + "/debug/pprof/goroutine?debug=1", http.StatusOK},
		{dbg + "/debug/pprof/cmdline", http.StatusNotFound},
		{r.url + "/debug/pprof/", http.StatusNotFound},
	} {
		resp, err := r.client.Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s = %d, want %d", tt.url, resp.StatusCode, tt.want)
		}
		if bytes.Contains(body, []byte(e2eSecret)) {
			t.Errorf("GET %s shows the callback secret", tt.url)
		}
	}
	// A CPU profile being taken must not hold up the shutdown: it would
	// spend the time in-flight callbacks have to finish (here 20 s).
	profile := make(chan error, 1)
	go func() {
		resp, err := r.client.Get(dbg + "/debug/pprof/profile?seconds=60")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		profile <- err
	}()
	waitFor(t, "the profile to run", func() bool {
		resp, err := r.client.Get(dbg + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return bytes.Contains(b, []byte("net/http/pprof.Profile"))
	})
	start := time.Now()
	if err := r.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("stop took %s with a profile running; it waited for the profile", d)
	}
	<-profile
	if _, err := r.client.Get(dbg + "/debug/pprof/"); err == nil {
		t.Error("the profiler still answers after shutdown")
	}
}

// gcPercent reads the garbage collector's current target.
func gcPercent(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("/gc/gogc:percent is not available")
	}
	return s[0].Value.Uint64()
}

// TestServeGCPercent: serve runs the collector at DefaultGCPercent unless
// GOGC is set, and restores the previous target when it stops.
func TestServeGCPercent(t *testing.T) {
	before := gcPercent(t)
	r := startServe(t, t.TempDir(), nil, "--callback-secret", e2eSecret, "--api-token", e2eToken)
	if got := gcPercent(t); got != cli.DefaultGCPercent {
		t.Errorf("GOGC unset: collector target %d, want %d", got, cli.DefaultGCPercent)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if got := gcPercent(t); got != before {
		t.Errorf("after stop: collector target %d, want the previous %d", got, before)
	}
	r = startServe(t, t.TempDir(), map[string]string{"GOGC": "150"}, "--callback-secret", e2eSecret, "--api-token", e2eToken)
	if got := gcPercent(t); got != before {
		t.Errorf("GOGC set: serve changed the collector target to %d (was %d)", got, before)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestServeInsecureNoAuth(t *testing.T) {
	dir := t.TempDir()
	r := startServe(t, dir, nil, "--insecure-no-auth")
	if !strings.Contains(r.stderr.String(), "WARNING: --insecure-no-auth") {
		t.Errorf("no warning on stderr:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout.String(), "callback auth:  NONE") {
		t.Errorf("banner does not say callbacks are unauthenticated:\n%s", r.stdout)
	}
	if got := r.results(r.post("/v1/callbacks/kaleyra", orderBody("wamid.OPEN", 1))); len(got) != 1 || got[0] != "stored" {
		t.Errorf("unauthenticated callback: %v", got)
	}
	creds := readEnvFile(t, filepath.Join(dir, "credentials.env"))
	if creds["WAORDERS_API_TOKEN"] == "" || creds["WAORDERS_CALLBACK_SECRET"] != "" {
		t.Errorf("credentials.env %v, want an API token only", creds)
	}
	if status, _ := r.get("/v1/orders/wamid.OPEN", ""); status != http.StatusUnauthorized {
		t.Errorf("the API is open too: %d", status)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	r.noLeak(creds["WAORDERS_API_TOKEN"])

	// An allow-list still applies without credentials.
	r = startServe(t, t.TempDir(), nil, "--insecure-no-auth", "--allow-cidrs", "10.0.0.0/8")
	if status, body := r.post("/v1/callbacks/kaleyra", orderBody("wamid.OPEN2", 1)); status != http.StatusUnauthorized {
		t.Errorf("callback from outside the allow-list: %d %s, want 401", status, body)
	}
	if !strings.Contains(r.stdout.String(), "ip allow-list") {
		t.Errorf("banner does not show the allow-list:\n%s", r.stdout)
	}
}

// TestServeGracefulShutdown cancels the context while callbacks are being
// posted and while one request is provably in flight (its body half sent):
// Run must return nil, and every callback answered 200 must be on disk.
func TestServeGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	r := startServe(t, dir, nil, "--callback-secret", e2eSecret, "--api-token", e2eToken, "--batch-wait", "2ms")

	// The request in flight: headers and half the body.
	const slowID = "wamid.INFLIGHT"
	slowBody := orderBody(slowID, 1)
	conn, err := net.Dial("tcp", strings.TrimPrefix(r.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST /v1/callbacks/kaleyra HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
		"X-Callback-Secret: " + e2eSecret + "\r\nContent-Length: " + strconv.Itoa(len(slowBody)) + "\r\n\r\n"
	half := len(slowBody) / 2
	if _, err := io.WriteString(conn, head+string(slowBody[:half])); err != nil {
		t.Fatal(err)
	}

	// Load: posters send unique orders until the server goes away.
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("wamid.LOAD%d_%d", w, i)
				req, _ := http.NewRequest(http.MethodPost, r.url+"/v1/callbacks/kaleyra", bytes.NewReader(orderBody(id, 1)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Callback-Secret", e2eSecret)
				resp, err := client.Do(req)
				if err != nil {
					return // the server is shutting down
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && strings.Contains(string(b), `"result":"stored"`) {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				} else if resp.StatusCode != http.StatusOK {
					return
				}
			}
		})
	}
	waitFor(t, "some acknowledged callbacks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 50
	})

	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	// Once the listener is closed the shutdown has begun; then the slow
	// request finishes its body and must still be stored and answered.
	waitFor(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", strings.TrimPrefix(r.url, "http://"))
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	if _, err := conn.Write(slowBody[half:]); err != nil {
		t.Fatalf("finish the in-flight body: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"result":"stored"`) {
		t.Errorf("in-flight request: %d %s, want 200 stored", resp.StatusCode, b)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run returned %v\nstderr:\n%s", err, r.stderr)
	}
	wg.Wait()

	st, err := sqlite.Open(context.Background(), r.db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	missing := 0
	for _, id := range append(acked, slowID) {
		if _, err := st.GetOrder(context.Background(), id); err != nil {
			missing++
			t.Errorf("acknowledged order %s is not stored: %v", id, err)
		}
	}
	t.Logf("%d callbacks acknowledged before the shutdown, %d missing", len(acked)+1, missing)
	if !strings.Contains(r.stderr.String(), "stopped cleanly") {
		t.Errorf("no clean stop in the log:\n%s", r.stderr)
	}
}

func TestQuarantineCommands(t *testing.T) {
	dir := t.TempDir()
	r := startServe(t, dir, nil, "--callback-secret", e2eSecret, "--api-token", e2eToken)
	status, body := r.post("/v1/callbacks/kaleyra", []byte(`{"meta_object": nope}`), "X-Callback-Secret", e2eSecret)
	if status != http.StatusBadRequest {
		t.Fatalf("invalid JSON: %d %s", status, body)
	}
	var rejected struct {
		Error struct {
			QuarantineID int64 `json:"quarantine_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &rejected); err != nil || rejected.Error.QuarantineID <= 0 {
		t.Fatalf("no quarantine id in %s", body)
	}
	bodyID := strconv.FormatInt(rejected.Error.QuarantineID, 10)
	// An order without lines is quarantined (one with a bad line needs review).
	noItems := testkit.Kaleyra(testkit.Order("wamid.NOITEMS").Name("Buyer").RawItems()).Bytes()
	if got := r.results(r.post("/v1/callbacks/kaleyra", noItems, "X-Callback-Secret", e2eSecret)); len(got) != 1 || got[0] != "quarantined" {
		t.Fatalf("no items: %v, want quarantined", got)
	}

	env := envFunc(map[string]string{"WAORDERS_API_TOKEN": e2eToken, "WAORDERS_SERVER": r.url})
	run := func(args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		err := cli.Run(context.Background(), args, env, nil, &stdout, &stderr)
		return stdout.String(), stderr.String(), err
	}

	out, errOut, err := run("quarantine", "list")
	if err != nil {
		t.Fatalf("quarantine list: %v\n%s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("quarantine list:\n%s\nwant a header and two entries", out)
	}
	if f := strings.Fields(lines[1]); !slicesContain(f, "no_items") || !slicesContain(f, "wamid.NOITEMS") {
		t.Errorf("newest entry %q, want the order without items", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != bodyID || !slicesContain(f, "invalid_json") {
		t.Errorf("oldest entry %q, want %s invalid_json", lines[2], bodyID)
	}

	out, _, err = run("quarantine", "list", "--json", "--unresolved")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Entries []struct {
			ID       int64  `json:"id"`
			Reason   string `json:"reason"`
			Attempts int    `json:"attempts"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Entries) != 2 {
		t.Fatalf("quarantine list --json: %v\n%s", err, out)
	}

	out, errOut, err = run("quarantine", "retry", bodyID)
	if err != nil {
		t.Fatalf("quarantine retry: %v\n%s", err, errOut)
	}
	if want := bodyID + ": still unusable; kept in quarantine"; strings.TrimSpace(out) != want {
		t.Errorf("retry printed %q, want %q", out, want)
	}
	out, _, _ = run("quarantine", "list", "--json")
	_ = json.Unmarshal([]byte(out), &page)
	for _, e := range page.Entries {
		if strconv.FormatInt(e.ID, 10) == bodyID && e.Attempts != 1 {
			t.Errorf("entry %s has %d attempts after one retry", bodyID, e.Attempts)
		}
	}

	if _, _, err := run("quarantine", "retry", "999999"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("retry of a missing entry: %v, want a 404 error", err)
	}
	for _, args := range [][]string{{"quarantine"}, {"quarantine", "purge"}, {"quarantine", "retry"}} {
		if _, _, err := run(args...); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%v: %v, want ErrUsage", args, err)
		}
	}
	var stdout, stderr bytes.Buffer
	err = cli.Run(context.Background(), []string{"quarantine", "list", "--server", r.url, "--api-token", "wrong-token-0123456789"}, envFunc(nil), nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v, want a 401 error", err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestVersionAndUsage(t *testing.T) {
	t.Parallel() // touches no global state: no serve runs
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var stdout, stderr bytes.Buffer
		if err := cli.Run(context.Background(), args, envFunc(nil), nil, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(stdout.String()), "waorders "); !ok || v == "" {
			t.Errorf("%v printed %q, want \"waorders <version>\"", args, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if err := cli.Run(context.Background(), []string{"help"}, envFunc(nil), nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"serve", "quarantine", "migrate", "version"} {
		if !strings.Contains(stdout.String(), "  "+c+" ") {
			t.Errorf("help does not list %s:\n%s", c, stdout.String())
		}
	}
	for _, args := range [][]string{{"frobnicate"}, {}} {
		var stdout, stderr bytes.Buffer
		err := cli.Run(context.Background(), args, envFunc(nil), nil, &stdout, &stderr)
		if !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%v: %v, want ErrUsage", args, err)
		}
		if !strings.Contains(stderr.String(), "Usage:") {
			t.Errorf("%v: no usage on stderr", args)
		}
	}
}

var profilerLogRE = regexp.MustCompile(`profiler listening.*url=(http://127\.0\.0\.1:\d+/debug/pprof/)`)

// TestServeStartFailureStopsWhatStarted: when the API's port is taken,
// serve says so, and what had started before it (here the profiler) is
// stopped again before Run returns.
func TestServeStartFailureStopsWhatStarted(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err = cli.Run(context.Background(), []string{"serve", "--addr", busy.Addr().String(), "--database-url", filepath.Join(dir, "db.sqlite"),
		"--callback-secret", e2eSecret, "--api-token", e2eToken, "--debug-addr", "127.0.0.1:0"}, envFunc(nil), nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "is another waorders running?") {
		t.Fatalf("serve on a taken port: %v, want the port hint", err)
	}
	if strings.Contains(stdout.String(), "listening on") {
		t.Errorf("the banner was printed:\n%s", stdout.String())
	}
	m := profilerLogRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("the profiler did not start first:\n%s", stderr.String())
	}
	client := &http.Client{Timeout: 5 * time.Second}
	if resp, err := client.Get(m[1]); err == nil {
		resp.Body.Close()
		t.Errorf("the profiler still answers after the failed start")
	}
}
