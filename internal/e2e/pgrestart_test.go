package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/loadgen"
	"github.com/waorders/waorders/internal/simulate"
	"github.com/waorders/waorders/internal/store/postgres"
)

// TestPostgresRestartUnderLoad stops a private PostgreSQL cluster (an
// immediate shutdown: a crash, as far as clients can tell) while waorders
// is under load, and starts it again without touching waorders. While the
// database is down every callback must be answered 503 with Retry-After
// (never 200: nothing can be committed) and /readyz must be 503; once it is
// back the service must recover by itself; and every callback acknowledged
// at any time must be in the database.
func TestPostgresRestartUnderLoad(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0x9e57a47))
	moment := func() time.Duration { return randomMoment(rng) }
	pg := newPrivateCluster(t)
	srv := startServe(t, "--database-url", pg.url, "--migrate")
	ld := startLoad(t, loadgen.Config{
		URL:            srv.url,
		Auth:           loadgen.Auth{Secret: testSecret},
		Concurrency:    16,
		DuplicateShare: 0.1,
		Mix:            crashMix,
		Rate:           500,
		Seed:           seed,
		Timeout:        30 * time.Second,
	})

	// Probes: order callbacks of our own, each sent once, so an answer can
	// be tied to the state of the database when it was sent.
	ctx := context.Background()
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	probes := simulate.New(seed^0x9b0be, simulate.Options{Mix: map[simulate.Kind]float64{simulate.KindOrder: 1}})
	var probeAcks []string
	probe := func() (answer, string, error) {
		cb := probes.Next()
		ans, err := postCallback(ctx, client, srv.url, cb.Body)
		if err == nil && ans.code == http.StatusOK {
			probeAcks = append(probeAcks, cb.MessageIDs...)
		}
		return ans, strings.Join(cb.MessageIDs, ","), err
	}
	wantCode := func(what string, want int, ans answer, err error) (bool, string) {
		if err != nil {
			return false, fmt.Sprintf("%s: %v", what, err)
		}
		return ans.code == want, fmt.Sprintf("%s: status %d: %.200s", what, ans.code, ans.body)
	}

	pollUntil(t, 30*time.Second, "a callback answered 200 before the outage", func() (bool, string) {
		ans, _, err := probe()
		return wantCode("callback", http.StatusOK, ans, err)
	})
	waitWhileLoading(t, ld, moment())

	pid := srv.pid()
	down := time.Now()
	pg.stop()
	t.Logf("PostgreSQL stopped (immediate) under load after %d probes", len(probeAcks))
	pollUntil(t, 30*time.Second, "/readyz 503 while the database is down", func() (bool, string) {
		code, body, err := srv.get("/readyz")
		return wantCode("/readyz", http.StatusServiceUnavailable, answer{code: code, body: body}, err)
	})
	for range 5 {
		ans, id, err := probe()
		switch {
		case err != nil:
			t.Errorf("callback %s while the database is down: %v, want a 503 answer", id, err)
		case ans.code == http.StatusOK:
			t.Errorf("callback %s answered 200 while the database is down: acknowledged without a commit", id)
		case ans.code != http.StatusServiceUnavailable:
			t.Errorf("callback %s while the database is down: status %d (%.200s), want 503", id, ans.code, ans.body)
		case ans.retryAfter == "":
			t.Errorf("callback %s while the database is down: 503 without Retry-After", id)
		}
	}
	refused := time.Since(down)
	waitWhileLoading(t, ld, moment()) // the load keeps hitting the service

	restart := time.Now()
	pg.start()
	up := time.Now()
	pollUntil(t, 60*time.Second, "/readyz 200 after the database is back", func() (bool, string) {
		code, body, err := srv.get("/readyz")
		return wantCode("/readyz", http.StatusOK, answer{code: code, body: body}, err)
	})
	ready := time.Since(up)
	pollUntil(t, 60*time.Second, "a new callback answered 200 after the database is back", func() (bool, string) {
		ans, _, err := probe()
		return wantCode("callback", http.StatusOK, ans, err)
	})
	t.Logf("database down for %v (/readyz 503 and 5 probes answered within %v; pg_ctl start took %v); /readyz 200 again %v after it was back",
		up.Sub(down).Round(time.Millisecond), refused.Round(time.Millisecond), up.Sub(restart).Round(time.Millisecond), ready.Round(time.Millisecond))
	if !srv.proc.running() || srv.pid() != pid {
		t.Fatalf("waorders did not stay up through the outage (pid %d, then %d, running %v)", pid, srv.pid(), srv.proc.running())
	}
	waitWhileLoading(t, ld, moment())

	sum, acks := ld.stop(t)
	t.Logf("load: sent %d, status codes %v, transport errors %d %v", sum.Sent, sum.StatusCodes, sum.TransportErrors, sum.Errors)
	for code, n := range sum.StatusCodes {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("load got %d answers with status %d, want only 200 and 503", n, code)
		}
	}
	if err := srv.sigterm(); err != nil {
		t.Errorf("serve after SIGTERM: %v, want exit status 0", err)
	}
	st, err := postgres.Open(ctx, pg.url, postgres.Options{NoMigrate: true})
	if err != nil {
		t.Fatalf("open the database after the test: %v", err)
	}
	defer st.Close()
	acks.messages = append(acks.messages, probeAcks...)
	c := checkStored(t, st, acks)
	t.Logf("acknowledged %d messages (%d by probes) and %d statuses; stored %d messages, %d orders; missing %d, duplicates %d",
		len(acks.messages), len(probeAcks), len(acks.statuses), c.Messages, c.Orders, c.Missing, c.Duplicates)
}

// pgCluster is a private PostgreSQL cluster in a temporary directory, run
// as the postgres OS user, that a test may stop and start at will.
type pgCluster struct {
	t    *testing.T
	bin  string // directory of initdb and pg_ctl
	base string // owned by postgres: data directory, socket, log
	port int
	url  string
}

// newPrivateCluster creates and starts a cluster. It skips the test (even in
// CI) when it cannot: it needs root, runuser, a postgres OS user and the
// server binaries under /usr/lib/postgresql.
func newPrivateCluster(t *testing.T) *pgCluster {
	t.Helper()
	const why = "TestPostgresRestartUnderLoad runs a private PostgreSQL cluster as the postgres OS user"
	if os.Geteuid() != 0 {
		t.Skipf("%s: that needs root (to switch user with runuser), and this test runs as uid %d", why, os.Geteuid())
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		t.Skipf("%s: runuser is not installed (%v)", why, err)
	}
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		t.Skipf("%s: there is no postgres OS user (%v)", why, err)
	}
	bin := postgresBinDir()
	if bin == "" {
		t.Skipf("%s: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin", why)
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)

	base, err := os.MkdirTemp("", "waorders-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(base, uid, gid); err != nil {
		_ = os.RemoveAll(base)
		t.Fatal(err)
	}
	c := &pgCluster{t: t, bin: bin, base: base}
	t.Cleanup(func() {
		_, _ = c.pgCtl("-D", c.data(), "-m", "immediate", "-w", "stop")
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(base, "postgres.log")); err == nil {
				t.Logf("private PostgreSQL log:\n%s", b)
			}
		}
		_ = os.RemoveAll(base)
	})
	if out, err := c.run("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.port = freePort(t)
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	c.start()
	return c
}

// postgresBinDir returns the bin directory of the newest PostgreSQL under
// /usr/lib/postgresql, or "".
func postgresBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = slices.DeleteFunc(dirs, func(d string) bool {
		_, err1 := os.Stat(filepath.Join(d, "initdb"))
		_, err2 := os.Stat(filepath.Join(d, "pg_ctl"))
		return err1 != nil || err2 != nil
	})
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int {
		switch va, vb := version(a), version(b); {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return 0
	})
	if len(dirs) == 0 {
		return ""
	}
	return dirs[len(dirs)-1]
}

func (c *pgCluster) data() string { return filepath.Join(c.base, "data") }

// run runs one of the cluster's binaries as the postgres OS user.
func (c *pgCluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, name)}, args...)...)
	cmd.Dir = c.base
	return cmd.CombinedOutput()
}

func (c *pgCluster) pgCtl(args ...string) ([]byte, error) { return c.run("pg_ctl", args...) }

// start starts the cluster and waits until it accepts connections.
func (c *pgCluster) start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.port, c.base)
	if out, err := c.pgCtl("-D", c.data(), "-l", filepath.Join(c.base, "postgres.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		c.t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

// stop stops the cluster at once, as a crash would: no checkpoint, clients
// cut off.
func (c *pgCluster) stop() {
	c.t.Helper()
	if out, err := c.pgCtl("-D", c.data(), "-m", "immediate", "-w", "stop"); err != nil {
		c.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}
