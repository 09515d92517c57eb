package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/store/storetest"
)

// TestIdentityMigration: a database at schema 3 (customers keyed by wa_id,
// statuses by (message, status)) is migrated by Open; its customers, orders
// and statuses keep working under their wa_id, and a later message that
// brings a BSUID joins the old customer.
func TestIdentityMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL,
    applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for v, name := range []string{"0001_init", "0002_campaign_days", "0003_raw_spans"} {
		b, err := os.ReadFile(filepath.Join("migrations", name+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, v+1, name[5:]); err != nil {
			t.Fatal(err)
		}
	}
	at := storetest.Base.UnixMicro()
	for _, q := range []string{
		`INSERT INTO callbacks VALUES ('cb1', 'kaleyra', 1, x'7b7d', NULL)`,
		`INSERT INTO messages (seq, id, callback_id, type, customer_wa_id, customer_name, phone_number_id,
    display_phone_number, waba_id, ref, ref1, ref2, reply_to, trace_id, context_message_id, summary, sent_at,
    received_at, raw, warnings) VALUES (1, 'wamid.old', 'cb1', 'order', '919900000001', 'Old Name', 'p', 'd', 'w',
    '', '', '', '', '', '', 'order', ?1, ?1, '{}', NULL)`,
		`INSERT INTO orders (seq, id, status, version, catalog_id, text, customer_wa_id, customer_name, phone_number_id,
    display_phone_number, waba_id, ref, ref1, ref2, reply_to, context_message_id, trace_id, search, ordered_at,
    received_at, units, currency, total_minor) VALUES (1, 'wamid.old', 'pending', 1, 'c', '', '919900000001',
    'Old Name', 'p', 'd', 'w', '', '', '', '', '', '', 'old name', ?1, ?1, 1, 'INR', 1000)`,
		`INSERT INTO statuses (message_id, status, rank, recipient_id, callback_id, ts, received_at, raw)
    VALUES ('wamid.out', 'read', 3, '919900000001', 'cb1', ?1, ?1, '{"id":"wamid.out"}')`,
	} {
		if _, err := db.Exec(q, at); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := openTest(t, path, sqlite.Options{})
	c, err := s.GetCustomer(t.Context(), "919900000001")
	if err != nil || c.ID != "919900000001" || c.OrderCount != 1 || c.Name != "Old Name" {
		t.Fatalf("old customer after migration = %+v, %v", c, err)
	}
	page, err := s.ListOrders(t.Context(), store.ListOrdersParams{Customer: "919900000001"})
	if err != nil || len(page.Orders) != 1 {
		t.Fatalf("orders of the old customer = %+v, %v", page, err)
	}
	sts, err := s.ListStatuses(t.Context(), "wamid.out")
	if err != nil || len(sts) != 1 || sts[0].Participant != "" || string(sts[0].Raw) != `{"id":"wamid.out"}` {
		t.Fatalf("old status after migration = %+v, %v", sts, err)
	}
	// The old one-to-one dedup holds: the same status again is a duplicate.
	res, err := s.WriteInbound(t.Context(), []*store.Inbound{storetest.NewStatusInbound(
		storetest.NewStatus("wamid.out", "read", storetest.RankRead, storetest.Base))})
	if err != nil || res[0].Statuses[0] != store.Duplicate {
		t.Errorf("old status again = %v, %v; want a duplicate", res, err)
	}
	// The customer now shows a BSUID: one customer, found by either.
	m := storetest.NewTextMessage("wamid.new", storetest.Base.Add(1), "hi")
	m.Customer = waorders.Customer{WaID: "919900000001", UserID: "IN.77", Name: "New Name"}
	if _, err := s.WriteInbound(t.Context(), []*store.Inbound{storetest.NewMessageInbound(m)}); err != nil {
		t.Fatal(err)
	}
	c, err = s.GetCustomer(t.Context(), "IN.77")
	if err != nil || c.OrderCount != 1 || c.MessageCount != 2 || c.WaID != "919900000001" {
		t.Errorf("customer by BSUID = %+v, %v; want the old order and both messages", c, err)
	}
}
