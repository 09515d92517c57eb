package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// sqlCustomerLinks lists the links of the customer set of its parameter,
// each end with its kind and the time the link was stored.
const sqlCustomerLinks = `WITH RECURSIVE cset(v) AS (SELECT ?
    UNION SELECT CASE WHEN l.a_value = cset.v THEN l.b_value ELSE l.a_value END
    FROM cset JOIN customer_links l ON l.a_value = cset.v OR l.b_value = cset.v)
SELECT a_value, a_kind, b_value, b_kind, seen_at FROM customer_links WHERE a_value IN (SELECT v FROM cset)`

// inSet is an IN list of the values of a JSON array parameter.
const inSet = ` IN (SELECT value FROM json_each(?))`

// GetCustomer resolves the customer set of id, then summarises it: the
// identifiers its messages carried (newest first), its orders, and its
// last marketing preference. A set with no record is CodeNotFound.
func (s *Store) GetCustomer(ctx context.Context, id string) (*waorders.CustomerSummary, error) {
	var c *waorders.CustomerSummary
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var links []store.CustomerRow
		values := []string{id}
		rows, err := tx.QueryContext(ctx, sqlCustomerLinks, id)
		if err != nil {
			return interpretError(err)
		}
		for rows.Next() {
			var a, b store.CustomerRow
			var at int64
			if err := rows.Scan(&a.ID.Value, &a.ID.Kind, &b.ID.Value, &b.ID.Kind, &at); err != nil {
				rows.Close()
				return interpretError(err)
			}
			a.SeenAt, b.SeenAt = at, at
			links = append(links, a, b)
			values = append(values, a.ID.Value, b.ID.Value)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return interpretError(err)
		}
		set, _ := json.Marshal(values)

		var sightings []store.CustomerSighting
		var messages int64
		for qi, q := range []string{
			`SELECT customer_wa_id, customer_user_id, customer_parent_user_id, customer_username, customer_name, sent_at
FROM messages WHERE customer_key` + inSet + ` ORDER BY sent_at DESC, id DESC`,
			`SELECT customer_wa_id, customer_user_id, customer_parent_user_id, customer_username, customer_name, at
FROM changes WHERE customer_key` + inSet + ` ORDER BY at DESC, id DESC`,
		} {
			rows, err := tx.QueryContext(ctx, q, string(set))
			if err != nil {
				return interpretError(err)
			}
			for rows.Next() {
				var sg store.CustomerSighting
				var at int64
				cu := &sg.Customer
				if err := rows.Scan(&cu.WaID, &cu.UserID, &cu.ParentUserID, &cu.Username, &cu.Name, &at); err != nil {
					rows.Close()
					return interpretError(err)
				}
				sg.At = fromMicros(at)
				sightings = append(sightings, sg)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return interpretError(err)
			}
			if qi == 0 {
				messages = int64(len(sightings))
			}
		}
		var ok bool
		if c, ok = store.BuildCustomer(id, links, sightings); !ok {
			return waorders.Errorf(waorders.CodeNotFound, "customer %s not found", id)
		}
		c.MessageCount = messages

		var pref string
		err = tx.QueryRowContext(ctx, `SELECT event FROM changes WHERE kind = 'user_preferences' AND customer_key`+inSet+`
ORDER BY at DESC, id DESC LIMIT 1`, string(set)).Scan(&pref)
		if err != nil && err != sql.ErrNoRows {
			return interpretError(err)
		}
		c.MarketingPreference = store.MarketingPreference(pref)

		const setOrders = "o.seq IN (SELECT m.seq FROM messages m WHERE m.customer_key" + inSet + ")"
		var first, last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), min(o.ordered_at), max(o.ordered_at)
FROM orders o WHERE `+setOrders, string(set)).Scan(&c.OrderCount, &first, &last); err != nil {
			return interpretError(err)
		}
		c.FirstOrderAt, c.LastOrderAt = nullMicros(first), nullMicros(last)
		// An order's first total is in its row, further currencies in order_totals.
		// Spend counts what revenue counts: not canceled nor needs_review
		// orders, less refunds.
		const counted = " AND o.status NOT IN ('canceled', 'needs_review')"
		rows, err = tx.QueryContext(ctx, `SELECT currency, sum(amount) FROM (
    SELECT o.currency AS currency, o.total_minor AS amount FROM orders o WHERE `+setOrders+counted+` AND o.currency <> ''
    UNION ALL
    SELECT t.currency, t.amount_minor FROM order_totals t JOIN orders o ON o.seq = t.order_seq WHERE `+setOrders+counted+`
    UNION ALL
    SELECT r.currency, -r.amount_minor FROM order_refunds r JOIN orders o ON o.seq = r.order_seq WHERE `+setOrders+counted+`
) GROUP BY currency ORDER BY currency`, string(set), string(set), string(set))
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		c.Spend = []money.Amount{}
		for rows.Next() {
			var a money.Amount
			if err := rows.Scan(&a.Currency, &a.Minor); err != nil {
				return interpretError(err)
			}
			c.Spend = append(c.Spend, a)
		}
		return interpretError(rows.Err())
	})
	if err != nil {
		return nil, fmt.Errorf("get customer: %w", err)
	}
	return c, nil
}
