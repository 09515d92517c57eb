package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/postgres"
	"github.com/waorders/waorders/internal/store/storetest"
	"github.com/waorders/waorders/internal/testkit"
)

// newSchema returns the name of a fresh schema that is dropped, with all
// it holds, when the test ends. The schema itself is created by Migrate.
func newSchema(tb testing.TB, url string) string {
	tb.Helper()
	name := schemaName()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// schemaName returns a new, random schema name.
func schemaName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "waorders_test_" + hex.EncodeToString(b)
}

// openStore opens a migrated store on a schema of its own, closed when the
// test ends. Unless opts.Schema names one, a test gets an emptied schema
// from the pool (pooledSchema); a benchmark gets a new one, so that its
// figures do not depend on what ran before.
func openStore(tb testing.TB, opts postgres.Options) *postgres.Store {
	tb.Helper()
	url := testkit.PostgresURL(tb)
	if opts.Schema == "" {
		if _, bench := tb.(*testing.B); bench {
			opts.Schema = newSchema(tb, url)
		} else {
			opts.Schema = pooledSchema(tb, url)
		}
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = 4
	}
	s, err := postgres.Open(context.Background(), url, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	testkit.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, postgres.Options{}) })
}

// TestConcurrentOpenMigratesOnce opens one fresh schema from several
// goroutines at once: the advisory lock must serialise them so that each
// migration is applied exactly once and every Open succeeds.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	const n = 4
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			stores[i], errs[i] = postgres.Open(t.Context(), url, postgres.Options{Schema: schema, MaxConns: 2})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	cur, latest, err := stores[0].SchemaVersion(t.Context())
	if err != nil || cur != latest || latest != postgres.LatestVersion() {
		t.Fatalf("SchemaVersion = %d, %d, %v; want %d, %d, nil", cur, latest, err, postgres.LatestVersion(), postgres.LatestVersion())
	}
	var rows, distinct int
	err = queryRow(t, url, schema, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`, &rows, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if rows != postgres.LatestVersion() || distinct != rows {
		t.Errorf("schema_migrations has %d rows (%d versions), want %d", rows, distinct, postgres.LatestVersion())
	}
	// Every instance writes to the same tables.
	for i, s := range stores {
		o := storetest.NewOrder(fmt.Sprintf("wamid.instance%d", i), storetest.Base)
		if _, err := s.WriteInbound(t.Context(), storetest.NewOrderInbounds(o)); err != nil {
			t.Errorf("instance %d: WriteInbound: %v", i, err)
		}
	}
	page, err := stores[0].ListOrders(t.Context(), store.ListOrdersParams{})
	if err != nil || len(page.Orders) != n {
		t.Errorf("ListOrders = %d orders, %v; want %d", len(page.Orders), err, n)
	}
}

// connect opens a new connection with search_path = schema.
func connect(ctx context.Context, url, schema string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["search_path"] = schema
	return pgx.ConnectConfig(ctx, cfg)
}

// queryRow runs one query on a new connection with search_path = schema.
func queryRow(tb testing.TB, url, schema, sql string, dest ...any) error {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := connect(ctx, url, schema)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

func exec(tb testing.TB, url, schema, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := connect(ctx, url, schema)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// TestNoMigrateRefusesOutdatedSchema: with NoMigrate, Open refuses a
// schema that was never migrated or is behind, saying what to run, and
// accepts it once migrated.
func TestNoMigrateRefusesOutdatedSchema(t *testing.T) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	exec(t, url, "public", `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize())

	wantRefusal := func(what string) {
		t.Helper()
		s, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema, NoMigrate: true})
		if err == nil {
			s.Close()
			t.Fatalf("%s: Open with NoMigrate succeeded, want a refusal", what)
		}
		if !strings.Contains(err.Error(), "waorders migrate") {
			t.Errorf("%s: refusal %q does not say to run `waorders migrate`", what, err)
		}
	}
	wantRefusal("empty schema")

	s := openStore(t, postgres.Options{Schema: schema})
	s.Close()
	s2, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema, NoMigrate: true})
	if err != nil {
		t.Fatalf("Open with NoMigrate on a migrated schema: %v", err)
	}
	s2.Close()

	exec(t, url, schema, fmt.Sprintf(`DELETE FROM schema_migrations WHERE version = %d`, postgres.LatestVersion()))
	wantRefusal("schema one version behind")
}

// TestMigrateIsIdempotent runs Migrate again on a migrated schema.
func TestMigrateIsIdempotent(t *testing.T) {
	s := openStore(t, postgres.Options{})
	for i := range 2 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate %d: %v", i, err)
		}
	}
	cur, latest, err := s.SchemaVersion(t.Context())
	if err != nil || cur != latest {
		t.Fatalf("SchemaVersion = %d, %d, %v; want equal versions", cur, latest, err)
	}
}

// TestUnreachableServerIsUnavailable: a server that does not answer is an
// error quickly, with CodeUnavailable (the service answers 503).
func TestUnreachableServerIsUnavailable(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable",
		postgres.Options{ConnectTimeout: 2 * time.Second})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if code := waorders.ErrorCode(err); code != waorders.CodeUnavailable {
		t.Errorf("error code %q (%v), want %q", code, err, waorders.CodeUnavailable)
	}
}

// TestRecoversFromLostConnections kills every connection of a store's pool
// on the server side, as a server restart does: WriteInbound retries on
// a new connection (its writes are idempotent), so no call fails, and
// other calls fail, if at all, with CodeUnavailable.
func TestRecoversFromLostConnections(t *testing.T) {
	url := testkit.PostgresURL(t)
	app := "waorders_test_kill_" + strings.ReplaceAll(t.Name(), "/", "_")
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	// Two connections at most: three attempts always reach a new one.
	s, err := postgres.Open(t.Context(), url+sep+"application_name="+app, postgres.Options{Schema: newSchema(t, url), MaxConns: 2})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	write := func(i int) error {
		o := storetest.NewOrder(fmt.Sprintf("wamid.kill%d", i), storetest.Base.Add(time.Duration(i)*time.Second))
		_, err := s.WriteInbound(t.Context(), storetest.NewOrderInbounds(o))
		return err
	}
	if err := write(0); err != nil {
		t.Fatalf("first write: %v", err)
	}
	kill := func() {
		exec(t, url, "public", `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '`+app+`'`)
	}
	for i := 1; i <= 5; i++ {
		kill()
		if err := write(i); err != nil {
			t.Fatalf("write %d after the connections were killed: %v", i, err)
		}
	}
	kill()
	if err := s.Ping(t.Context()); err != nil && waorders.ErrorCode(err) != waorders.CodeUnavailable {
		t.Errorf("Ping on a killed connection: %v (code %q), want success or %q", err, waorders.ErrorCode(err), waorders.CodeUnavailable)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("second Ping: %v", err)
	}
	page, err := s.ListOrders(t.Context(), store.ListOrdersParams{})
	if err != nil || len(page.Orders) != 6 {
		t.Errorf("ListOrders = %d orders, %v; want 6", len(page.Orders), err)
	}
}

// TestQueryTimeoutIsUnavailable: a call that cannot finish within
// QueryTimeout (here it waits for a row another session holds locked)
// gives up with CodeUnavailable instead of hanging.
func TestQueryTimeoutIsUnavailable(t *testing.T) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	s := openStore(t, postgres.Options{Schema: schema, QueryTimeout: 300 * time.Millisecond})
	if _, err := s.WriteInbound(t.Context(), storetest.NewOrderInbounds(storetest.NewOrder("wamid.locked", storetest.Base))); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `SELECT 1 FROM orders WHERE id = 'wamid.locked' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}

	_, err = s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: "wamid.locked", To: waorders.OrderProcessing, Actor: "test"})
	if code := waorders.ErrorCode(err); code != waorders.CodeUnavailable {
		t.Fatalf("UpdateOrderStatus on a locked order: %v (code %q), want %q", err, code, waorders.CodeUnavailable)
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: "wamid.locked", To: waorders.OrderProcessing, Actor: "test"}); err != nil {
		t.Errorf("UpdateOrderStatus once the lock is released: %v", err)
	}
}

// TestUnstorableTextIsCleaned: PostgreSQL text refuses NUL and invalid
// UTF-8; such a value must neither fail the batch nor be lost: the typed
// columns get U+FFFD, the raw bytes are kept exactly.
func TestUnstorableTextIsCleaned(t *testing.T) {
	s := openStore(t, postgres.Options{})
	o := storetest.NewOrder("wamid.nul", storetest.Base)
	o.Text = "two\x00shirts"
	o.Customer.Name = "Sam\xff"
	d := storetest.NewOrderInbound(o)
	d.Messages[0].Message.Raw = []byte(`{"id":"wamid.nul","text":"two\u0000shirts","x":1.6e3}`)
	good := storetest.NewOrderInbound(storetest.NewOrder("wamid.good", storetest.Base))
	res, err := s.WriteInbound(t.Context(), []*store.Inbound{d, good})
	if err != nil {
		t.Fatalf("WriteInbound: %v", err)
	}
	if res[0].Messages[0] != store.Stored || res[1].Messages[0] != store.Stored {
		t.Fatalf("outcomes %v, %v; want stored, stored", res[0].Messages, res[1].Messages)
	}
	got, err := s.GetOrder(t.Context(), "wamid.nul")
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "two\uFFFDshirts" || got.Customer.Name != "Sam\uFFFD" {
		t.Errorf("text %q, name %q; want NUL and invalid UTF-8 replaced by U+FFFD", got.Text, got.Customer.Name)
	}
	m, err := s.GetMessage(t.Context(), "wamid.nul")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Raw, d.Messages[0].Message.Raw) {
		t.Errorf("raw %s, want it byte for byte: %s", m.Raw, d.Messages[0].Message.Raw)
	}
	page, err := s.ListOrders(t.Context(), store.ListOrdersParams{Q: "TWO\uFFFDSHIRTS"})
	if err != nil || len(page.Orders) != 1 {
		t.Errorf("free-text search found %d orders (%v), want 1", len(page.Orders), err)
	}
}

// TestTimeOutOfRangeWritesNothing: a time PostgreSQL cannot hold is
// CodeInvalid before anything is written.
func TestTimeOutOfRangeWritesNothing(t *testing.T) {
	s := openStore(t, postgres.Options{})
	bad := storetest.NewOrder("wamid.future", time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC))
	good := storetest.NewOrder("wamid.fine", storetest.Base)
	_, err := s.WriteInbound(t.Context(), storetest.NewOrderInbounds(good, bad))
	if code := waorders.ErrorCode(err); code != waorders.CodeInvalid {
		t.Fatalf("error %v (code %q), want %q", err, code, waorders.CodeInvalid)
	}
	if _, err := s.GetOrder(t.Context(), "wamid.fine"); waorders.ErrorCode(err) != waorders.CodeNotFound {
		t.Errorf("GetOrder of the good order of a refused call: %v, want not found", err)
	}
}

// TestOverlappingBatchesFromManyWriters: several instances write batches
// that share most of their ids, in different orders, at the same time.
// Each id must be stored exactly once overall and no call may fail (a
// deadlock would be retried inside WriteInbound).
func TestOverlappingBatchesFromManyWriters(t *testing.T) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	const writers, batches, size = 4, 10, 32
	stores := make([]*postgres.Store, writers)
	for i := range stores {
		stores[i] = openStore(t, postgres.Options{Schema: schema})
	}
	var mu sync.Mutex
	stored := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				orders := make([]*waorders.Order, size)
				for k := range size {
					id := b*size/2 + k // consecutive batches overlap by half
					if w%2 == 1 {
						id = b*size/2 + size - 1 - k // and odd writers go backwards
					}
					orders[k] = storetest.NewOrder(fmt.Sprintf("wamid.o%04d", id), storetest.Base.Add(time.Duration(id)*time.Second))
				}
				res, err := stores[w].WriteInbound(t.Context(), storetest.NewOrderInbounds(orders...))
				if err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
				mu.Lock()
				for k, r := range res {
					if r.Messages[0] == store.Stored {
						stored[orders[k].ID]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := (batches-1)*size/2 + size
	if len(stored) != want {
		t.Errorf("%d distinct ids stored, want %d", len(stored), want)
	}
	for id, n := range stored {
		if n != 1 {
			t.Errorf("%s stored %d times, want once", id, n)
		}
	}
	// Each order has two lines, written with it or not at all.
	var orders, items int
	if err := queryRow(t, url, schema, `SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items)`, &orders, &items); err != nil {
		t.Fatal(err)
	}
	if orders != want || items != 2*want {
		t.Errorf("%d orders and %d order lines, want %d and %d", orders, items, want, 2*want)
	}
}

// TestFailedStatementKeepsNothing: the statements of one WriteInbound
// run as one transaction, so when a late one fails (here the quarantine
// insert, made to fail by a trigger), nothing of the call is kept.
func TestFailedStatementKeepsNothing(t *testing.T) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	s := openStore(t, postgres.Options{Schema: schema})
	exec(t, url, schema, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'refused by test'; END $$`)
	exec(t, url, schema, `CREATE TRIGGER refuse BEFORE INSERT ON quarantine FOR EACH ROW EXECUTE FUNCTION refuse()`)

	d := storetest.NewOrderInbound(storetest.NewOrder("wamid.atomic", storetest.Base))
	d.Statuses = []store.StatusWrite{storetest.NewStatus("wamid.out", "sent", storetest.RankSent, storetest.Base)}
	d.Quarantine = []*waorders.QuarantineEntry{storetest.NewQuarantineEntry(waorders.QuarantineMessage, "wamid.bad", storetest.Base)}
	if _, err := s.WriteInbound(t.Context(), []*store.Inbound{d}); err == nil {
		t.Fatal("WriteInbound succeeded although the quarantine insert fails")
	}
	var n int
	if err := queryRow(t, url, schema, `SELECT (SELECT count(*) FROM callbacks) + (SELECT count(*) FROM messages)
		+ (SELECT count(*) FROM orders) + (SELECT count(*) FROM order_items) + (SELECT count(*) FROM order_history)
		+ (SELECT count(*) FROM statuses) + (SELECT count(*) FROM message_states)`, &n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows kept from a failed call, want none", n)
	}

	exec(t, url, schema, `DROP TRIGGER refuse ON quarantine`)
	res, err := s.WriteInbound(t.Context(), []*store.Inbound{d})
	if err != nil {
		t.Fatalf("WriteInbound once the trigger is gone: %v", err)
	}
	if res[0].Messages[0] != store.Stored || res[0].Statuses[0] != store.Stored || res[0].Quarantine[0].Outcome != store.Stored {
		t.Errorf("outcomes after the failed attempt = %+v, want everything stored", res[0])
	}
}

// TestClosedStoreIsUnavailable: a call after Close fails with
// CodeUnavailable, never as an internal error.
func TestClosedStoreIsUnavailable(t *testing.T) {
	s := openStore(t, postgres.Options{})
	s.Close()
	err := s.Ping(t.Context())
	if code := waorders.ErrorCode(err); code != waorders.CodeUnavailable {
		t.Errorf("Ping after Close: %v (code %q), want %q", err, code, waorders.CodeUnavailable)
	}
}

// TestRawStoredAsSpan: a record whose raw JSON is a slice of its
// callback's stored body keeps where the slice is, not a copy; any other
// keeps its raw bytes.
func TestRawStoredAsSpan(t *testing.T) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	s := openStore(t, postgres.Options{Schema: schema})
	inBody := storetest.NewOrderInbound(storetest.NewOrder("wamid.span", storetest.Base))
	notInBody := storetest.NewMessageInbound(storetest.NewTextMessage("wamid.text", storetest.Base, "hi"))
	// A second Inbound under an existing callback id (a quarantine retry)
	// whose raw is in its own body, not in the stored one.
	retry := storetest.NewOrderInbound(storetest.NewOrder("wamid.retry", storetest.Base))
	retry.Callback.ID = inBody.Callback.ID
	retry.Messages[0].Message.CallbackID = inBody.Callback.ID
	if _, err := s.WriteInbound(t.Context(), []*store.Inbound{inBody, notInBody}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteInbound(t.Context(), []*store.Inbound{retry}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id   string
		span bool
	}{{"wamid.span", true}, {"wamid.text", false}, {"wamid.retry", false}} {
		var span bool
		if err := queryRow(t, url, schema, `SELECT raw IS NULL AND raw_offset IS NOT NULL AND raw_length IS NOT NULL
			FROM messages WHERE id = '`+tt.id+`'`, &span); err != nil {
			t.Fatal(err)
		}
		if span != tt.span {
			t.Errorf("%s: stored as a span %v, want %v", tt.id, span, tt.span)
		}
	}
}

// TestStoredCreationEntry: orders written before the creation entry was
// derived keep the one they stored.
func TestStoredCreationEntry(t *testing.T) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	s := openStore(t, postgres.Options{Schema: schema})
	storetest.CheckStoredCreationEntry(t, s, func(id string, at time.Time) {
		exec(t, url, schema, fmt.Sprintf(`INSERT INTO order_history (order_id, version, at, actor, from_status, to_status, note)
VALUES ('%s', 1, '%s', '%s', '', 'pending', '')`, id, at.Format(time.RFC3339Nano), store.CreationActor))
	})
}

// TestCampaignRollupMigration: migration 0002 builds the campaign rollup
// from the orders already stored.
func TestCampaignRollupMigration(t *testing.T) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	s := openStore(t, postgres.Options{Schema: schema})
	storetest.CheckRollupRebuild(t, s, func() {
		// PostgreSQL migrates from the highest version applied: forget the later ones too.
		exec(t, url, schema, `DROP TABLE campaign_days; DELETE FROM schema_migrations WHERE version >= 2`)
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
