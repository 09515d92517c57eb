package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/store"
)

// queryPlan returns SQLite's EXPLAIN QUERY PLAN of query, one step a line.
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var (
			id, parent, unused int
			detail             string
		)
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(steps, "\n")
}

// TestQueryPlans keeps the list and report queries on their indexes: a
// filtered page must not scan the orders table, and the campaign report
// must read only a covering index, without sorting.
func TestQueryPlans(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "plan.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cursor := store.Cursor{Time: time.Unix(1700000000, 0), ID: "wamid.x"}

	lists := []struct {
		name string
		f    store.ListOrdersParams
		want []string
	}{
		{"All", store.ListOrdersParams{}, []string{"USING INDEX orders_ordered"}},
		{"Ref", store.ListOrdersParams{Ref: "x"}, []string{"USING INDEX orders_ref (ref=? AND"}},
		{"Ref1", store.ListOrdersParams{Ref1: "x"}, []string{"USING INDEX orders_ref1 (ref1=? AND"}},
		{"Ref2", store.ListOrdersParams{Ref2: "x"}, []string{"USING INDEX orders_ref2 (ref2=? AND"}},
		{"Status", store.ListOrdersParams{Status: "pending"}, []string{"USING INDEX orders_status (status=? AND"}},
		{"Customer", store.ListOrdersParams{Customer: "9198"}, []string{"USING COVERING INDEX messages_customer (customer_key=?)", "INTEGER PRIMARY KEY"}},
		{"Product", store.ListOrdersParams{Product: "p"}, []string{"USING INDEX orders_ordered", "COVERING INDEX order_items_product (product_retailer_id=? AND order_seq=?)"}},
		{"Ref1Since", store.ListOrdersParams{Ref1: "x", Since: cursor.Time.Add(-time.Hour)}, []string{"USING INDEX orders_ref1 (ref1=? AND ordered_at>? AND"}},
	}
	for _, tt := range lists {
		q := orderFilter(tt.f, cursor)
		plan := queryPlan(t, s.r, `SELECT `+orderColumns+` FROM orders o`+q.Page(51), q.Args()...)
		t.Logf("%s:\n%s", tt.name, plan)
		for _, w := range tt.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan lacks %q:\n%s", tt.name, w, plan)
			}
		}
		if strings.Contains(plan, "SCAN o\n") || strings.HasSuffix(plan, "SCAN o") {
			t.Errorf("%s: plan scans the orders table:\n%s", tt.name, plan)
		}
	}

	// The campaign report reads whole days from the rollup by its key, and
	// the partial days at the window's edges through the ordered_at index.
	plan := queryPlan(t, s.r, `SELECT campaign, day, currency, orders, units, revenue_minor, first_at, last_at
FROM campaign_days WHERE grouping = ? AND day >= ? AND day < ?`, "ref1", 0, 1)
	t.Logf("campaign rollup:\n%s", plan)
	if !strings.Contains(plan, "USING PRIMARY KEY (grouping=? AND day>? AND day<?)") && !strings.Contains(plan, "USING PRIMARY KEY (grouping=?)") {
		t.Errorf("campaign rollup is not read by its key:\n%s", plan)
	}
	plan = queryPlan(t, s.r, `SELECT o.ref1, count(*) FROM orders o WHERE o.ordered_at >= ? AND o.ordered_at < ? GROUP BY 1`, 0, 1)
	t.Logf("campaign edge days:\n%s", plan)
	if !strings.Contains(plan, "USING INDEX orders_ordered (ordered_at>? AND ordered_at<?)") {
		t.Errorf("campaign edge days are not read through the ordered_at index:\n%s", plan)
	}

	// The relay's claim (and its read-only twin) takes due rows from the
	// partial due index and checks each is its order's head through the
	// order's events, then each event's delivery to the sink: never a walk
	// over the sink's deliveries, which grow with every event.
	plan = queryPlan(t, s.r, `SELECT d.id FROM deliveries d WHERE `+dueWhere+` ORDER BY d.next_attempt_at, d.id LIMIT ?`, "wh_x", 1, 10)
	t.Logf("claim:\n%s", plan)
	for _, w := range []string{"USING INDEX deliveries_due (sink=? AND next_attempt_at<?)", "USING COVERING INDEX events_order (order_id=?)",
		"USING INDEX sqlite_autoindex_deliveries_1 (event_id=? AND sink=?"} {
		if !strings.Contains(plan, w) {
			t.Errorf("claim: plan lacks %q:\n%s", w, plan)
		}
	}
	plan = queryPlan(t, s.r, sqlDeliveryStats)
	t.Logf("delivery stats:\n%s", plan)
	if !strings.Contains(plan, "deliveries_due") || !strings.Contains(plan, "deliveries_dead") ||
		slices.Contains(strings.Split(plan, "\n"), "SCAN deliveries") {
		t.Errorf("delivery stats do not stay on the open and dead indexes:\n%s", plan)
	}
}
