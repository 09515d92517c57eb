package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// GetCustomer resolves the customer set of id, then summarises it: the
// identifiers its messages and changes carried (newest first), its orders
// and its last marketing preference, in one repeatable-read snapshot.
func (s *Store) GetCustomer(ctx context.Context, id string) (*waorders.CustomerSummary, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	id = clean(id)
	var c *waorders.CustomerSummary
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var links []store.CustomerRow
		values := []string{id}
		rows, _ := tx.Query(ctx, `SELECT a_value, a_kind, b_value, b_kind, seen_at FROM customer_links
			WHERE a_value IN `+customerSetN(1), id)
		var a, b store.CustomerRow
		var at time.Time
		if _, err := pgx.ForEachRow(rows, []any{&a.ID.Value, &a.ID.Kind, &b.ID.Value, &b.ID.Kind, &at}, func() error {
			a.SeenAt, b.SeenAt = at.UnixMicro(), at.UnixMicro()
			links = append(links, a, b)
			values = append(values, a.ID.Value, b.ID.Value)
			return nil
		}); err != nil {
			return err
		}
		var sightings []store.CustomerSighting
		var messages int64
		for qi, q := range []string{
			`SELECT wa_id, customer_user_id, customer_parent_user_id, customer_username, customer_name, sent_at
			FROM messages WHERE customer_key = ANY($1) ORDER BY sent_at DESC, id DESC`,
			`SELECT customer_wa_id, customer_user_id, customer_parent_user_id, customer_username, customer_name, at
			FROM changes WHERE customer_key = ANY($1) ORDER BY at DESC, id DESC`,
		} {
			rows, _ := tx.Query(ctx, q, values)
			var sg store.CustomerSighting
			cu := &sg.Customer
			if _, err := pgx.ForEachRow(rows, []any{&cu.WaID, &cu.UserID, &cu.ParentUserID, &cu.Username, &cu.Name, &sg.At}, func() error {
				sightings = append(sightings, sg)
				return nil
			}); err != nil {
				return err
			}
			if qi == 0 {
				messages = int64(len(sightings))
			}
		}
		var ok bool
		if c, ok = store.BuildCustomer(id, links, sightings); !ok {
			return waorders.Errorf(waorders.CodeNotFound, "customer %q not found", id)
		}
		c.MessageCount = messages
		var pref string
		err := tx.QueryRow(ctx, `SELECT event FROM changes WHERE kind = 'user_preferences' AND customer_key = ANY($1)
			ORDER BY at DESC, id DESC LIMIT 1`, values).Scan(&pref)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		c.MarketingPreference = store.MarketingPreference(pref)

		const setOrders = `o.id IN (SELECT m.id FROM messages m WHERE m.customer_key = ANY($1))`
		var first, last *time.Time
		if err := tx.QueryRow(ctx, `SELECT count(*), min(o.ordered_at), max(o.ordered_at) FROM orders o WHERE `+setOrders,
			values).Scan(&c.OrderCount, &first, &last); err != nil {
			return err
		}
		if first != nil {
			c.FirstOrderAt, c.LastOrderAt = first.UTC(), last.UTC()
		}
		c.Spend = []money.Amount{}
		var amt money.Amount
		// Spend counts what revenue counts: not canceled nor needs_review
		// orders, less refunds.
		const counted = ` AND o.status NOT IN ('canceled', 'needs_review')`
		rows, _ = tx.Query(ctx, `SELECT currency, sum(amount)::bigint FROM (
			SELECT t.currency, t.amount_minor AS amount FROM orders o JOIN order_totals t ON t.order_id = o.id
			WHERE `+setOrders+counted+`
			UNION ALL
			SELECT r.currency, -r.amount_minor FROM orders o JOIN order_refunds r ON r.order_id = o.id
			WHERE `+setOrders+counted+`) s GROUP BY currency ORDER BY currency`, values)
		_, err = pgx.ForEachRow(rows, []any{&amt.Currency, &amt.Minor}, func() error {
			c.Spend = append(c.Spend, amt)
			return nil
		})
		return err
	})
	if err != nil {
		if waorders.ErrorCode(err) == waorders.CodeNotFound {
			return nil, err
		}
		return nil, fmt.Errorf("get customer: %w", interpretError(err))
	}
	return c, nil
}

// customerSetN is customerSet with its parameter as $n.
func customerSetN(n int) string {
	return fmt.Sprintf(`(WITH RECURSIVE cset(v) AS (SELECT $%d::text
	UNION SELECT CASE WHEN l.a_value = cset.v THEN l.b_value ELSE l.a_value END
	FROM cset JOIN customer_links l ON l.a_value = cset.v OR l.b_value = cset.v)
SELECT v FROM cset)`, n)
}
