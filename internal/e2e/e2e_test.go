// Package e2e holds process-level reliability tests: the real waorders
// binary, started and killed as a process, driven over HTTP, and checked
// afterwards by reading its database directly with our drivers.
//
// The tests are:
//   - TestCrashKill9: kill -9 under load, restart, count (SQLite and
//     PostgreSQL); `go test ./internal/e2e -run Crash -args -rounds 10`.
//   - TestTwoInstancesOnePostgres: two instances, one database, the same
//     callbacks to both at once.
//   - TestPostgresRestartUnderLoad: a private PostgreSQL cluster stopped and
//     started under load, waorders left running.
//
// Randomness is only in timing (when to kill), from a seed that is logged
// and can be replayed with -args -seed N; the verdicts do not depend on it.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	// The binary under test is cmd/waorders, a thin main over cli.Run. The
	// tests run it as a process, never call it; the import ties this test
	// binary, and so go test's result cache, to the server's code.
	_ "github.com/waorders/waorders/internal/cli"
	"github.com/waorders/waorders/internal/loadgen"
	"github.com/waorders/waorders/internal/testkit"
)

var (
	flagRounds = flag.Int("rounds", 5, "TestCrashKill9: number of kill -9 rounds per driver")
	flagSeed   = flag.Uint64("seed", 0, "seed of the kill timing and the load (0: from the clock)")
)

// Credentials every server of these tests runs with, so that none generates
// a credentials file.
const (
	testSecret = testkit.CallbackSecret
	testToken  = testkit.APIToken
)

// binPath is the waorders binary TestMain builds.
var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "waorders-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binPath, err = buildBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary builds ./cmd/waorders from the module root into dir, with
// the race detector when the tests run with it (make test), so that a data
// race of the real server under real load fails the test that caused it
// (see checkRaces).
func buildBinary(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find the module root: not inside a module")
	}
	bin := filepath.Join(dir, "waorders")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/waorders")...)
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/waorders: %w\n%s", err, out)
	}
	return bin, nil
}

// testSeed returns the seed of this run and logs how to replay it.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay the timing with -args -seed %d)", seed, seed)
	return seed
}

// randomMoment returns a delay from 100 to 700 ms: when to strike next.
func randomMoment(rng *rand.Rand) time.Duration {
	return 100*time.Millisecond + time.Duration(rng.Int64N(int64(600*time.Millisecond)))
}

// freePort returns a 127.0.0.1 port that was free a moment ago. Servers
// keep their port across restarts (so the URL the load uses stays valid)
// and leave it unbound while down; the port is therefore taken below the
// kernel's ephemeral range when it can be, where no connection or
// "listen on port 0" of another process can land on it meanwhile.
func freePort(t *testing.T) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	const from = 10000
	for range 100 {
		if low <= from+1000 {
			break
		}
		port := from + rand.IntN(low-from)
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			return port
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// childEnv is this process's environment without WAORDERS_* settings, so a
// developer's configuration cannot leak into the servers under test.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WAORDERS_") {
			env = append(env, kv)
		}
	}
	return env
}

// pollUntil calls cond every few milliseconds until it returns true, and
// fails the test with cond's last explanation after timeout.
func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, why)
		}
		<-tick.C
	}
}

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// server is one `waorders serve` run as a real process on a fixed address;
// it can be killed and started again on the same address and database.
type server struct {
	t      *testing.T
	name   string
	addr   string // 127.0.0.1:port
	url    string // http://addr
	args   []string
	dir    string // working directory and logs
	client *http.Client

	proc   *process // the current (or last) process
	starts int
}

// process is one run of the binary.
type process struct {
	cmd    *exec.Cmd
	log    string        // its stderr
	exited chan struct{} // closed when it has exited and its output is read
	err    error         // what Wait returned, once exited is closed
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// startServe starts `waorders serve --addr <a port chosen now> args...` with
// the test credentials and returns once /readyz answers 200. The process is
// killed when the test ends if it still runs.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{
		t:      t,
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		args:   args,
		dir:    t.TempDir(),
		client: &http.Client{Timeout: 5 * time.Second},
	}
	s.url = "http://" + s.addr
	s.name = "serve@" + s.addr
	t.Cleanup(func() {
		if s.proc != nil && s.proc.running() {
			_ = s.proc.cmd.Process.Kill()
			<-s.proc.exited
		}
		s.client.CloseIdleConnections()
		s.checkRaces()
		if t.Failed() {
			t.Logf("%s: last log lines:\n%s", s.name, s.logTail(40))
		}
	})
	s.start()
	return s
}

// start runs the process (again) and waits for its banner, then /readyz.
func (s *server) start() {
	t := s.t
	t.Helper()
	if s.proc != nil && s.proc.running() {
		t.Fatalf("%s: start while the previous process still runs", s.name)
	}
	s.starts++
	args := append([]string{"serve", "--addr", s.addr,
		"--callback-secret", testSecret, "--api-token", testToken}, s.args...)
	cmd := exec.Command(binPath, args...)
	cmd.Dir = s.dir
	cmd.Env = childEnv()
	p := &process{cmd: cmd, log: filepath.Join(s.dir, fmt.Sprintf("serve-%d.log", s.starts)), exited: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close() // the child holds its own copy once started
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", s.name, err)
	}
	s.proc = p
	banner := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.Contains(line, " listening on ") {
				select {
				case banner <- line:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case line := <-banner:
		if !strings.HasPrefix(line, "waorders ") || !strings.HasSuffix(line, " listening on "+s.url) {
			t.Fatalf("%s: banner %q, want \"waorders <version> listening on %s\"", s.name, line, s.url)
		}
	case <-p.exited:
		t.Fatalf("%s: exited before listening: %v\n%s", s.name, p.err, s.logTail(30))
	case <-timer.C:
		t.Fatalf("%s: no banner after 30s\n%s", s.name, s.logTail(30))
	}
	pollUntil(t, 30*time.Second, s.name+" /readyz 200", func() (bool, string) {
		if !p.running() {
			t.Fatalf("%s: exited while starting: %v\n%s", s.name, p.err, s.logTail(30))
		}
		code, _, err := s.get("/readyz")
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusOK, fmt.Sprintf("status %d", code)
	})
}

// checkRaces fails the test if any run of the process reported a data race
// (the race detector writes its reports to stderr and goes on).
func (s *server) checkRaces() {
	for i := 1; i <= s.starts; i++ {
		log := filepath.Join(s.dir, fmt.Sprintf("serve-%d.log", i))
		b, err := os.ReadFile(log)
		if err != nil {
			s.t.Errorf("%s: read %s: %v", s.name, log, err)
			continue
		}
		if at := bytes.Index(b, []byte("WARNING: DATA RACE")); at >= 0 {
			s.t.Errorf("%s: run %d reported a data race:\n%s", s.name, i, b[at:min(len(b), at+8000)])
		}
	}
}

// pid is the id of the current process.
func (s *server) pid() int { return s.proc.cmd.Process.Pid }

// kill9 sends SIGKILL and waits until the process is gone.
func (s *server) kill9() {
	s.t.Helper()
	if err := s.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatalf("%s: kill -9: %v", s.name, err)
	}
	s.waitExit(10 * time.Second)
}

// sigterm asks the process to stop cleanly and returns how it exited: nil
// for status 0.
func (s *server) sigterm() error {
	s.t.Helper()
	if err := s.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("%s: SIGTERM: %v", s.name, err)
	}
	s.waitExit(60 * time.Second)
	return s.proc.err
}

func (s *server) waitExit(timeout time.Duration) {
	s.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-s.proc.exited:
	case <-timer.C:
		s.t.Fatalf("%s: still running %v after the signal", s.name, timeout)
	}
	s.client.CloseIdleConnections()
}

// get sends a GET to path and returns the status and body.
func (s *server) get(path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.url+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// logTail returns the last n lines of the current process's log.
func (s *server) logTail(n int) string {
	if s.proc == nil {
		return "(never started)"
	}
	b, err := os.ReadFile(s.proc.log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// answer is one HTTP answer to a callback.
type answer struct {
	code       int
	retryAfter string
	body       []byte
}

// postCallback sends one Kaleyra callback body to base with the test
// secret.
func postCallback(ctx context.Context, c *http.Client, base string, body []byte) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+loadgen.KaleyraPath, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(loadgen.DefaultSecretHeader, testSecret)
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: b}, nil
}

// load is one loadgen.Run in the background.
type load struct {
	cancel context.CancelFunc
	done   chan struct{}
	acks   bytes.Buffer
	sum    *loadgen.Summary
	err    error
}

// startLoad runs loadgen.Run(cfg) until stop is called; the ack file goes
// to a buffer of the load.
func startLoad(t *testing.T, cfg loadgen.Config) *load {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, done: make(chan struct{})}
	cfg.AckFile = &l.acks
	if err := cfg.Validate(); err != nil {
		cancel()
		t.Fatalf("load config: %v", err)
	}
	go func() {
		defer close(l.done)
		l.sum, l.err = loadgen.Run(ctx, cfg, nil)
	}()
	t.Cleanup(func() {
		cancel()
		<-l.done
	})
	return l
}

// stop ends the load and returns its summary and what it acknowledged.
func (l *load) stop(t *testing.T) (*loadgen.Summary, *ackSet) {
	t.Helper()
	l.cancel()
	<-l.done
	if l.err != nil {
		t.Fatalf("load: %v", l.err)
	}
	acks, err := parseAcks(l.acks.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return l.sum, acks
}

// statusKey is one acknowledged status update.
type statusKey struct{ messageID, status string }

// ackSet is what a load (or a test's own requests) got acknowledged.
type ackSet struct {
	messages []string
	statuses []statusKey
}

// parseAcks reads an ack file: "<id>" per message, "<id> <status>" per
// status update.
func parseAcks(b []byte) (*ackSet, error) {
	a := &ackSet{}
	for line := range strings.SplitSeq(strings.TrimRight(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		id, status, isStatus := strings.Cut(line, " ")
		switch {
		case id == "" || strings.Contains(status, " "):
			return nil, fmt.Errorf("ack file: unexpected line %q", line)
		case isStatus:
			a.statuses = append(a.statuses, statusKey{id, status})
		default:
			a.messages = append(a.messages, id)
		}
	}
	return a, nil
}

// newPGDatabase creates a fresh database e2e_<random> on the shared server
// and returns its URL; the database is dropped when the test ends (after
// the servers using it, which were started later, are stopped).
func newPGDatabase(t *testing.T) string {
	t.Helper()
	base := testkit.PostgresURL(t) // the shared server, not TestPostgresRestartUnderLoad's cluster
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		t.Fatalf("WAORDERS_TEST_POSTGRES_URL must be a postgres:// URL")
	}
	name := "e2e_" + randomHex(6)
	run := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	ident := pgx.Identifier{name}.Sanitize()
	if err := run("CREATE DATABASE " + ident); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := run("DROP DATABASE IF EXISTS " + ident + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
