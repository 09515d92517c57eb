package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// exportPageSize is how many orders ExportOrders reads per query.
const exportPageSize = 1000

// querier is what reads need of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

const orderColumns = `o.id, o.status, o.version, o.catalog_id, o.text, o.wa_id, o.customer_name,
	o.phone_number_id, o.display_phone_number, o.waba_id, o.ref, o.ref1, o.ref2, o.reply_to,
	o.context_message_id, o.trace_id, o.ordered_at, o.received_at, o.warnings,
	o.customer_user_id, o.customer_parent_user_id, o.customer_username`

func scanOrder(row pgx.Row) (*waorders.Order, error) {
	var o waorders.Order
	var warnings []byte
	err := row.Scan(&o.ID, &o.Status, &o.Version, &o.CatalogID, &o.Text, &o.Customer.WaID, &o.Customer.Name,
		&o.Business.PhoneNumberID, &o.Business.DisplayPhoneNumber, &o.Business.WABAID,
		&o.Campaign.Ref, &o.Campaign.Ref1, &o.Campaign.Ref2, &o.ReplyTo,
		&o.ContextMessageID, &o.TraceID, &o.OrderedAt, &o.ReceivedAt, &warnings,
		&o.Customer.UserID, &o.Customer.ParentUserID, &o.Customer.Username)
	if err != nil {
		return nil, err
	}
	o.OrderedAt, o.ReceivedAt = utc(o.OrderedAt), utc(o.ReceivedAt)
	if o.Warnings, err = parseProblems(warnings); err != nil {
		return nil, err
	}
	return &o, nil
}

// GetOrder returns an order with its items, totals and history.
func (s *Store) GetOrder(ctx context.Context, id string) (*waorders.Order, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	o, err := getOrder(ctx, s.pool, id)
	if err != nil {
		return nil, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

func getOrder(ctx context.Context, q querier, id string) (*waorders.Order, error) {
	o, err := scanOrder(q.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders o WHERE o.id = $1`, clean(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "order %q not found", id)
	}
	if err != nil {
		return nil, interpretError(err)
	}
	if err := loadOrderDetails(ctx, q, []*waorders.Order{o}, true); err != nil {
		return nil, err
	}
	return o, nil
}

// loadOrderDetails fills the items, totals and (withHistory) history of
// orders, in one round trip.
func loadOrderDetails(ctx context.Context, q querier, orders []*waorders.Order, withHistory bool) error {
	if len(orders) == 0 {
		return nil
	}
	byID := make(map[string]*waorders.Order, len(orders))
	ids := make([]string, len(orders))
	for i, o := range orders {
		byID[o.ID], ids[i] = o, o.ID
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT order_id, product_retailer_id, quantity, currency, unit_price_minor, line_total_minor,
			raw_quantity, raw_price, raw_currency, problems
		FROM order_items WHERE order_id = ANY($1) ORDER BY order_id, position`, ids)
	b.Queue(`SELECT order_id, currency, amount_minor
		FROM order_totals WHERE order_id = ANY($1) ORDER BY order_id, position`, ids)
	b.Queue(`SELECT order_id, currency, amount_minor
		FROM order_refunds WHERE order_id = ANY($1) ORDER BY order_id, currency`, ids)
	if withHistory {
		b.Queue(`SELECT order_id, version, at, actor, from_status, to_status, note
		FROM order_history WHERE order_id = ANY($1) ORDER BY order_id, version`, ids)
	}
	br := q.SendBatch(ctx, b)
	defer br.Close()

	var oid string
	var it waorders.Item
	var cur string
	var problems []byte
	rows, _ := br.Query()
	_, err := pgx.ForEachRow(rows, []any{&oid, &it.ProductRetailerID, &it.Quantity, &cur, &it.UnitPrice.Minor, &it.LineTotal.Minor,
		&it.RawQuantity, &it.RawPrice, &it.RawCurrency, &problems}, func() error {
		it.UnitPrice.Currency, it.LineTotal.Currency = cur, cur
		it.Problems = nil
		if problems != nil {
			ps, err := parseProblems(problems)
			if err != nil {
				return err
			}
			it.Problems = ps
		}
		if o := byID[oid]; o != nil {
			o.Items = append(o.Items, it)
		}
		return nil
	})
	if err != nil {
		return interpretError(err)
	}
	var amt money.Amount
	rows, _ = br.Query()
	_, err = pgx.ForEachRow(rows, []any{&oid, &amt.Currency, &amt.Minor}, func() error {
		if o := byID[oid]; o != nil {
			o.Totals = append(o.Totals, amt)
		}
		return nil
	})
	if err != nil {
		return interpretError(err)
	}
	rows, _ = br.Query()
	_, err = pgx.ForEachRow(rows, []any{&oid, &amt.Currency, &amt.Minor}, func() error {
		if o := byID[oid]; o != nil {
			o.Refunded = append(o.Refunded, amt)
		}
		return nil
	})
	if err != nil {
		return interpretError(err)
	}
	if !withHistory {
		return interpretError(br.Close())
	}
	var h waorders.StatusChange
	var from, to string
	var version int64
	first := make(map[string]int64, len(orders)) // version of each order's first stored entry
	rows, _ = br.Query()
	_, err = pgx.ForEachRow(rows, []any{&oid, &version, &h.At, &h.Actor, &from, &to, &h.Note}, func() error {
		h.At, h.From, h.To = h.At.UTC(), waorders.OrderStatus(from), waorders.OrderStatus(to)
		if o := byID[oid]; o != nil {
			if len(o.History) == 0 {
				first[oid] = version
			}
			o.History = append(o.History, h)
		}
		return nil
	})
	if err != nil {
		return interpretError(err)
	}
	for _, o := range orders {
		o.History = store.WithCreation(o, o.History, first[o.ID])
	}
	return interpretError(br.Close())
}

// conds accumulates SQL conditions and their numbered arguments.
type conds struct {
	where []string
	args  []any
}

// add appends cond, in which every "?" stands for the one new argument v.
func (c *conds) add(cond string, v any) {
	c.args = append(c.args, v)
	c.where = append(c.where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(c.args))))
}

func (c *conds) sql() string {
	if len(c.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.where, " AND ")
}

// orderFilter is the query of a page of the orders matching p after cur;
// p must be valid.
func orderFilter(p store.ListOrdersParams, cur store.Cursor) *store.Filter {
	f := p.Filter(dialect, "o", cur)
	if p.Customer != "" {
		// Through the messages' customer index: an order has its message's id.
		f.Add("o.id IN (SELECT m.id FROM messages m WHERE m.customer_key IN "+customerSet+")", p.Customer)
	}
	if p.Product != "" {
		f.Add("EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.product_retailer_id = ?)", p.Product)
	}
	if p.Currency != "" {
		// Every total of an order is a row of order_totals (by its key).
		f.Add("EXISTS (SELECT 1 FROM order_totals t WHERE t.order_id = o.id AND t.currency = ?)", p.Currency)
	}
	if p.Q != "" {
		f.Add("strpos(o.search, ?) > 0", store.SearchQuery(p.Q))
	}
	return f
}

// ListOrders returns orders newest first (by OrderedAt, then id) with
// their items and totals; History is left nil (GetOrder has it). The
// cursor is the (time, id) of the last row: orders that arrive later sort
// before or after it, never into pages already read.
func (s *Store) ListOrders(ctx context.Context, f store.ListOrdersParams) (*store.OrderPage, error) {
	cur, limit, err := f.Page()
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	orders, err := s.orderPage(ctx, f, cur, limit+1)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	page := store.NewOrderPage(orders, limit)
	if err := loadOrderDetails(ctx, s.pool, page.Orders, false); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return page, nil
}

// orderPage reads up to n orders matching f (valid) after cur, without
// details.
func (s *Store) orderPage(ctx context.Context, f store.ListOrdersParams, cur store.Cursor, n int) ([]*waorders.Order, error) {
	q := orderFilter(f, cur)
	rows, err := s.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders o`+q.Page(n), q.Args()...)
	if err != nil {
		return nil, interpretError(err)
	}
	orders, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*waorders.Order, error) { return scanOrder(r) })
	if err != nil {
		return nil, interpretError(err)
	}
	return orders, nil
}

// UpdateOrderStatus moves an order to p.To in a transaction (in autocommit
// mode, one of its own) that locks the order row (SELECT ... FOR UPDATE),
// so concurrent changes serialise: the version check (CodePrecondition)
// comes first, then the lifecycle (CodeConflict); the change is appended
// to the history as the new version.
func (t *tx) UpdateOrderStatus(ctx context.Context, p store.UpdateOrderStatusParams) (*waorders.Order, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	at := p.At
	if at.IsZero() {
		at = t.s.nowUTC()
	}
	if err := checkTime("status change time", at); err != nil {
		return nil, err
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	var o *waorders.Order
	var err error
	if t.pgTx != nil {
		o, err = updateOrderStatus(ctx, t.pgTx, p, at.UTC())
	} else {
		o, err = t.s.updateOrderStatusAlone(ctx, p, at.UTC())
	}
	if err != nil {
		return nil, fmt.Errorf("update order status: %w", err)
	}
	return o, nil
}

// updateOrderStatusAlone runs updateOrderStatus in a transaction of its own.
func (s *Store) updateOrderStatusAlone(ctx context.Context, p store.UpdateOrderStatusParams, at time.Time) (*waorders.Order, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	o, err := updateOrderStatus(ctx, tx, p, at)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, interpretError(err)
	}
	return o, nil
}

// updateOrderStatus changes the order in tx, which it leaves open.
func updateOrderStatus(ctx context.Context, tx pgx.Tx, p store.UpdateOrderStatusParams, at time.Time) (*waorders.Order, error) {
	id := clean(p.ID)
	var from waorders.OrderStatus
	var version int64
	err := tx.QueryRow(ctx, `SELECT status, version FROM orders WHERE id = $1 FOR UPDATE`, id).Scan(&from, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "order %q not found", p.ID)
	}
	if err != nil {
		return nil, interpretError(err)
	}
	if p.IfVersion != nil && *p.IfVersion != version {
		return nil, waorders.Errorf(waorders.CodePrecondition,
			"order %s is at version %d, not %d; get the order again and retry with its current version", p.ID, version, *p.IfVersion)
	}
	if err := from.CheckTransition(p.To); err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE orders SET status = $2, version = $3 WHERE id = $1`, id, string(p.To), version+1)
	queueHistory(b, id, version+1, waorders.StatusChange{At: at, Actor: p.Actor, From: from, To: p.To, Note: p.Note})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, interpretError(err)
	}
	o, err := getOrder(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if from.Counted() && !p.To.Counted() {
		// Canceled: the order leaves the revenue, in this transaction.
		r := store.Rollup{}
		r.AddDelta(o, o.Net(), -1, true)
		if err := applyRollup(ctx, tx, r); err != nil {
			return nil, err
		}
	}
	return o, nil
}
