package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/loadgen"
	"github.com/waorders/waorders/internal/simulate"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/postgres"
	"github.com/waorders/waorders/internal/store/sqlite"
)

// TestCrashKill9 drives a real server with the load generator, kills it with
// SIGKILL at random moments and restarts it on the same port and database,
// -rounds times; then it stops the load and the server and checks, reading
// the database directly, that everything acknowledged is stored, exactly
// once. The kill moments come from the logged seed; the verdict does not.
func TestCrashKill9(t *testing.T) {
	seed := testSeed(t)
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "waorders.db")
		runCrash(t, "sqlite", seed, []string{"--database-url", path}, func(ctx context.Context) (store.Store, error) {
			return sqlite.Open(ctx, path, sqlite.Options{NoMigrate: true})
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		url := newPGDatabase(t)
		runCrash(t, "postgres", seed, []string{"--database-url", url, "--migrate"}, func(ctx context.Context) (store.Store, error) {
			return postgres.Open(ctx, url, postgres.Options{NoMigrate: true})
		})
	})
}

// crashCounts is the outcome of one driver's crash test.
type crashCounts struct {
	driver          string
	seed            uint64
	rounds          int
	sent            int64 // requests started
	acknowledged    int64 // 2xx answers
	transportErrors int64 // no answer: the kills and restarts
	serverErrors    int64 // 5xx answers
	ackedMessages   int   // distinct message ids acknowledged (all orders)
	ackedStatuses   int   // distinct status updates acknowledged
	stored          storedCounts
}

// The load of the crash test: orders and statuses only, so that every
// acknowledged message id must have an order.
var crashMix = map[simulate.Kind]float64{simulate.KindOrder: 70, simulate.KindStatus: 30}

func runCrash(t *testing.T, driver string, seed uint64, args []string, open func(context.Context) (store.Store, error)) {
	rounds := *flagRounds
	if rounds < 1 {
		t.Fatalf("-rounds %d: want at least 1", rounds)
	}
	rate := 1500.0 // requests per second, kept while the server is down too
	if testing.Short() {
		rate = 400
	}
	rng := rand.New(rand.NewPCG(seed, 0xc4a54))
	moment := func() time.Duration { return randomMoment(rng) }

	srv := startServe(t, args...)
	ld := startLoad(t, loadgen.Config{
		URL:            srv.url,
		Auth:           loadgen.Auth{Secret: testSecret},
		Concurrency:    16,
		DuplicateShare: 0.1,
		Mix:            crashMix,
		Rate:           rate,
		Seed:           seed,
		Timeout:        10 * time.Second,
	})
	for round := 1; round <= rounds; round++ {
		d := moment()
		waitWhileLoading(t, ld, d)
		pid := srv.pid()
		srv.kill9()
		start := time.Now()
		srv.start()
		t.Logf("round %d: pid %d killed after %v under load; restarted as pid %d, ready in %v",
			round, pid, d, srv.pid(), time.Since(start).Round(time.Millisecond))
	}
	waitWhileLoading(t, ld, moment())
	sum, acks := ld.stop(t)
	if err := srv.sigterm(); err != nil {
		t.Errorf("serve after SIGTERM: %v, want exit status 0", err)
	}

	st, err := open(context.Background())
	if err != nil {
		t.Fatalf("open the database after the test: %v", err)
	}
	defer st.Close()
	c := crashCounts{
		driver: driver, seed: seed, rounds: rounds,
		sent: sum.Sent, acknowledged: sum.Acknowledged,
		transportErrors: sum.TransportErrors, serverErrors: sum.ServerErrors,
		ackedMessages: len(acks.messages), ackedStatuses: len(acks.statuses),
	}
	c.stored = checkStored(t, st, acks)
	reportCrash(t, c, sum)

	if c.ackedMessages == 0 || c.ackedStatuses == 0 {
		t.Errorf("acknowledged %d messages and %d statuses: the load did not reach the server, so nothing was proved",
			c.ackedMessages, c.ackedStatuses)
	}
	if c.stored.Orders < c.ackedMessages {
		t.Errorf("%d orders stored, fewer than the %d acknowledged", c.stored.Orders, c.ackedMessages)
	}
	if sum.Rejected > 0 {
		t.Errorf("%d callbacks rejected (4xx) although none was malformed: %v", sum.Rejected, sum.StatusCodes)
	}
}

// waitWhileLoading lets the load run against the server for d: the random
// moment of the next kill. It fails if the load ended by itself.
func waitWhileLoading(t *testing.T, ld *load, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ld.done:
		t.Fatalf("the load stopped by itself: %v", ld.err)
	}
}

// The counts table: one header and one row per driver, each line prefixed
// so that bench/reliability.sh can collect them from go test's output.
const (
	tablePrefix = "CRASH "
	tableFormat = "%-9s %6s %8s %8s %9s %5s %10s %10s %10s %8s %7s %10s  %s\n"
)

func reportCrash(t *testing.T, c crashCounts, sum *loadgen.Summary) {
	t.Helper()
	t.Logf("%s: rounds %d, sent %d, acknowledged %d, transport errors during kills %d, 5xx %d, "+
		"acknowledged ids: %d messages (orders) + %d statuses; stored %d messages, %d orders; missing %d, duplicates %d",
		c.driver, c.rounds, c.sent, c.acknowledged, c.transportErrors, c.serverErrors,
		c.ackedMessages, c.ackedStatuses, c.stored.Messages, c.stored.Orders, c.stored.Missing, c.stored.Duplicates)
	t.Logf("%s: status codes %v, duplicates sent %d, p50 %v, p99 %v, errors %v",
		c.driver, sum.StatusCodes, sum.Duplicates, sum.Latency.P50, sum.Latency.P99, sum.Errors)
	if !testing.Verbose() {
		return
	}
	var b strings.Builder
	b.WriteString(tablePrefix + fmt.Sprintf(tableFormat, "driver", "rounds", "sent", "acked", "transport", "5xx",
		"acked_msgs", "acked_stat", "stored_msg", "orders", "missing", "duplicates", "seed"))
	b.WriteString(tablePrefix + fmt.Sprintf(tableFormat, c.driver, fmt.Sprint(c.rounds), fmt.Sprint(c.sent),
		fmt.Sprint(c.acknowledged), fmt.Sprint(c.transportErrors), fmt.Sprint(c.serverErrors),
		fmt.Sprint(c.ackedMessages), fmt.Sprint(c.ackedStatuses), fmt.Sprint(c.stored.Messages),
		fmt.Sprint(c.stored.Orders), fmt.Sprint(c.stored.Missing), fmt.Sprint(c.stored.Duplicates), fmt.Sprint(c.seed)))
	fmt.Print(b.String())
}
