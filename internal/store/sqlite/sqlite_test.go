package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders"

	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/store/storetest"
)

func openTest(t *testing.T, path string, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, filepath.Join(t.TempDir(), "waorders.db"), sqlite.Options{})
	})
}

func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "waorders.db")
	s := openTest(t, path, sqlite.Options{})
	if s.Path() != path {
		t.Errorf("Path() = %s, want %s", s.Path(), path)
	}
	// A separate connection sees what persists in the file; the writer's
	// per-connection settings are checked through the store's own handle.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	got, err := s.WriterPragmas(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000", "query_only": "0"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("writer %s = %q, want %q", k, got[k], v)
		}
	}
	got, err = s.ReaderPragmas(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got["query_only"] != "1" || got["foreign_keys"] != "1" {
		t.Errorf("reader pragmas = %v, want query_only 1 and foreign_keys 1", got)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waorders.db")
	s := openTest(t, path, sqlite.Options{})
	for i := range 3 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate %d: %v", i, err)
		}
	}
	cur, latest, err := s.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if cur != latest || latest < 1 || latest != sqlite.LatestVersion() {
		t.Errorf("SchemaVersion = %d, %d; want both %d", cur, latest, sqlite.LatestVersion())
	}
	// Reopening an up-to-date database with NoMigrate works.
	s2 := openTest(t, path, sqlite.Options{NoMigrate: true})
	if err := s2.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestNoMigrateRefusesOldSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waorders.db")
	_, err := sqlite.Open(t.Context(), path, sqlite.Options{NoMigrate: true})
	if err == nil || !strings.Contains(err.Error(), "waorders migrate") {
		t.Fatalf("Open(NoMigrate) of an empty database = %v, want an error saying to run waorders migrate", err)
	}
	// Migrating explicitly then opening with NoMigrate works.
	s := openTest(t, path, sqlite.Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openTest(t, path, sqlite.Options{NoMigrate: true})
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waorders.db")
	s := openTest(t, path, sqlite.Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), path, sqlite.Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema = %v, want an error saying it is newer", err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file::memory:?cache=shared"} {
		if s, err := sqlite.Open(t.Context(), p, sqlite.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", p)
		}
	}
}

func TestPathWithSpecialCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "we?ird #dir%", "wa orders.db")
	s := openTest(t, path, sqlite.Options{})
	if _, err := s.WriteInbound(t.Context(), storetest.NewOrderInbounds(storetest.NewOrder("wamid.x", storetest.Base))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOrder(t.Context(), "wamid.x"); err != nil {
		t.Fatal(err)
	}
}

// TestBackgroundCheckpoint checks that committed pages reach the database
// file while the store is open, far below the writer's own checkpoint
// threshold: the background checkpointer copies them.
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waorders.db")
	s := openTest(t, path, sqlite.Options{})
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var orders []*waorders.Order
	for i := range 300 {
		orders = append(orders, storetest.NewOrder(fmt.Sprintf("wamid.ckpt%03d", i), storetest.Base))
	}
	if _, err := s.WriteInbound(t.Context(), storetest.NewOrderInbounds(orders...)); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > before.Size() {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("database file still %d bytes after 10s: no checkpoint copied the committed pages", st.Size())
		case <-tick.C:
		}
	}
}

// TestRawStoredAsSpan: a record whose raw JSON is a slice of the body of
// the callback row written with it stores where the slice is, not a copy;
// any other keeps its raw text.
func TestRawStoredAsSpan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waorders.db")
	s := openTest(t, path, sqlite.Options{})
	inBody := storetest.NewOrderInbound(storetest.NewOrder("wamid.span", storetest.Base))
	notInBody := storetest.NewMessageInbound(storetest.NewTextMessage("wamid.text", storetest.Base, "hi"))
	// A second Inbound under an existing callback id (a quarantine retry):
	// its raw is in its own body, not in the stored one.
	retry := storetest.NewOrderInbound(storetest.NewOrder("wamid.retry", storetest.Base))
	retry.Callback.ID = inBody.Callback.ID
	retry.Messages[0].Message.CallbackID = inBody.Callback.ID
	if _, err := s.WriteInbound(t.Context(), []*store.Inbound{inBody, notInBody, retry}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range []struct {
		id   string
		span bool
	}{{"wamid.span", true}, {"wamid.text", false}, {"wamid.retry", false}} {
		var raw sql.NullString
		var off, n sql.NullInt64
		if err := db.QueryRow(`SELECT raw, raw_offset, raw_length FROM messages WHERE id = ?`, tt.id).Scan(&raw, &off, &n); err != nil {
			t.Fatal(err)
		}
		if got := !raw.Valid && off.Valid && n.Valid; got != tt.span {
			t.Errorf("%s: raw set %v, offset %v, length %v; want a span: %v", tt.id, raw.Valid, off, n, tt.span)
		}
	}
}

// TestStoredCreationEntry: orders written before the creation entry was
// derived keep the one they stored.
func TestStoredCreationEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waorders.db")
	s := openTest(t, path, sqlite.Options{})
	storetest.CheckStoredCreationEntry(t, s, func(id string, at time.Time) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`INSERT INTO order_history (order_seq, version, at, actor, from_status, to_status, note)
SELECT seq, 1, ?, ?, '', 'pending', '' FROM messages WHERE id = ?`, at.UnixMicro(), store.CreationActor, id); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCampaignRollupMigration: migrations 0002 and 0007 build the campaign
// rollup from the orders already stored (0007: without canceled orders).
func TestCampaignRollupMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waorders.db")
	s := openTest(t, path, sqlite.Options{})
	storetest.CheckRollupRebuild(t, s, func() {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`DROP TABLE campaign_days; DELETE FROM schema_migrations WHERE version IN (2, 7)`); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
