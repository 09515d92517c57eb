package postgres_test

import (
	"testing"

	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/postgres"
	"github.com/waorders/waorders/internal/store/storetest"
	"github.com/waorders/waorders/internal/testkit"
)

// TestIdentityMigration: rows written before migration 0004 (no customer
// key, statuses keyed by (message, status)) keep working under their wa_id
// once it has run; 0004 runs again harmlessly.
func TestIdentityMigration(t *testing.T) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	s := openStore(t, postgres.Options{Schema: schema})
	mustWriteOne := func(d *store.Inbound) {
		if _, err := s.WriteInbound(t.Context(), []*store.Inbound{d}); err != nil {
			t.Fatal(err)
		}
	}
	mustWriteOne(storetest.NewOrderInbound(storetest.NewOrder("wamid.old", storetest.Base)))
	mustWriteOne(storetest.NewStatusInbound(storetest.NewStatus("wamid.out", "read", storetest.RankRead, storetest.Base)))
	// As before 0004: no customer key, no recipient key.
	exec(t, url, schema, `UPDATE messages SET customer_key = ''; UPDATE statuses SET recipient_key = '';
		DELETE FROM schema_migrations WHERE version >= 4`) // PostgreSQL migrates from the highest version applied
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetCustomer(t.Context(), storetest.DefaultCustomer)
	if err != nil || c.OrderCount != 1 || c.ID != storetest.DefaultCustomer {
		t.Fatalf("old customer after migration = %+v, %v", c, err)
	}
	page, err := s.FindStatuses(t.Context(), store.FindStatusesParams{Recipient: storetest.DefaultCustomer})
	if err != nil || len(page.Statuses) != 1 {
		t.Fatalf("old status by recipient = %+v, %v", page, err)
	}
	res, err := s.WriteInbound(t.Context(), []*store.Inbound{storetest.NewStatusInbound(
		storetest.NewStatus("wamid.out", "read", storetest.RankRead, storetest.Base))})
	if err != nil || res[0].Statuses[0] != store.Duplicate {
		t.Errorf("old status again = %v, %v; want a duplicate", res, err)
	}
}
