package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/store/postgres"
	"github.com/waorders/waorders/internal/testkit"
)

// TestClaimPlanStaysOffTheBacklog: with a backlog of open deliveries, and
// statistics from a quiet hour or none at all, the claim's head check
// probes the partial head index by (sink, order_key, id), never walks the
// sink's open or earlier deliveries (per candidate: quadratic in the
// backlog, which is what a down endpoint or a burst leaves).
func TestClaimPlanStaysOffTheBacklog(t *testing.T) {
	t.Parallel()
	for _, noStats := range []bool{false, true} {
		t.Run(map[bool]string{false: "StatsFromAQuietHour", true: "NoStats"}[noStats], func(t *testing.T) {
			t.Parallel()
			claimPlan(t, noStats)
		})
	}
}

func claimPlan(t *testing.T, noStats bool) {
	url := testkit.PostgresURL(t)
	schema := newSchema(t, url)
	openStore(t, postgres.Options{Schema: schema}) // migrates
	// Statistics (or none) from a quiet hour: every delivery delivered...
	exec(t, url, schema, `INSERT INTO events (id, type, order_id, occurred_at, payload)
SELECT 'evt_' || lpad(i::text, 8, '0'), 'order.created', 'wamid.' || i, now(), '{}'::bytea FROM generate_series(1, 20000) i`)
	exec(t, url, schema, `INSERT INTO deliveries (event_id, sink, order_key, state, next_attempt_at, created_at, updated_at, delivered_at)
SELECT id, 'wh_x', order_id, 'delivered', now(), now(), now(), now() FROM events ORDER BY id`)
	if !noStats {
		exec(t, url, schema, `ANALYZE events; ANALYZE deliveries`)
	}
	// ...then a burst's backlog, before autovacuum analyzes again.
	exec(t, url, schema, `INSERT INTO events (id, type, order_id, occurred_at, payload)
SELECT 'evt_b' || lpad(i::text, 8, '0'), 'order.created', 'wamid.b' || (i % 3000), now(), '{}'::bytea FROM generate_series(1, 6000) i`)
	exec(t, url, schema, `INSERT INTO deliveries (event_id, sink, order_key, state, next_attempt_at, created_at, updated_at)
SELECT id, 'wh_x', order_id, 'pending', now(), now(), now() FROM events WHERE id LIKE 'evt_b%' ORDER BY id`)

	q := strings.NewReplacer("$1", "'wh_x'", "$2", "now()").Replace(
		`EXPLAIN SELECT d.id FROM deliveries d WHERE ` + postgres.DueWhere + ` ORDER BY d.next_attempt_at, d.id LIMIT 32`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := connect(ctx, url, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	t.Logf("claim:\n%s", plan)
	if !strings.Contains(plan, "Index Only Scan using deliveries_head_idx on deliveries p") ||
		!strings.Contains(plan, "(order_key = d.order_key)") || strings.Contains(plan, "Seq Scan on deliveries") {
		t.Errorf("the head check does not probe the head index by order:\n%s", plan)
	}
}
