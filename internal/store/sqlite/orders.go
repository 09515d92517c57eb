package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// exportPage is how many orders ExportOrders reads per query.
const exportPage = 1000

const orderColumns = `o.id, o.status, o.version, o.catalog_id, o.text, o.customer_wa_id, o.customer_name,
    o.phone_number_id, o.display_phone_number, o.waba_id, o.ref, o.ref1, o.ref2, o.reply_to,
    o.context_message_id, o.trace_id, o.ordered_at, o.received_at, o.warnings`

func scanOrder(sc interface{ Scan(...any) error }) (*waorders.Order, error) {
	var (
		o                 waorders.Order
		status            string
		ordered, received int64
		warnings          sql.NullString
	)
	if err := sc.Scan(&o.ID, &status, &o.Version, &o.CatalogID, &o.Text, &o.Customer.WaID, &o.Customer.Name,
		&o.Business.PhoneNumberID, &o.Business.DisplayPhoneNumber, &o.Business.WABAID,
		&o.Campaign.Ref, &o.Campaign.Ref1, &o.Campaign.Ref2, &o.ReplyTo, &o.ContextMessageID, &o.TraceID,
		&ordered, &received, &warnings); err != nil {
		return nil, err
	}
	o.Status = waorders.OrderStatus(status)
	o.OrderedAt, o.ReceivedAt = fromMicros(ordered), fromMicros(received)
	var err error
	if o.Warnings, err = decodeProblems(warnings); err != nil {
		return nil, fmt.Errorf("order %s: %w", o.ID, err)
	}
	return &o, nil
}

// GetOrder returns an order with its items, totals and history, or
// CodeNotFound.
func (s *Store) GetOrder(ctx context.Context, id string) (*waorders.Order, error) {
	var o *waorders.Order
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders o WHERE o.id = ?`, id))
		if err != nil {
			return notFound(err, "order %s not found", id)
		}
		byID := map[string]*waorders.Order{o.ID: o}
		ids, _ := json.Marshal([]string{o.ID})
		if err := loadItems(ctx, tx, ids, byID); err != nil {
			return err
		}
		if err := loadTotals(ctx, tx, ids, byID); err != nil {
			return err
		}
		o.History, err = loadHistory(ctx, tx, o.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

func loadHistory(ctx context.Context, tx *sql.Tx, id string) ([]waorders.StatusChange, error) {
	rows, err := tx.QueryContext(ctx, `SELECT at, actor, from_status, to_status, note
FROM order_history WHERE order_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	var hs []waorders.StatusChange
	for rows.Next() {
		var (
			h        waorders.StatusChange
			at       int64
			from, to string
		)
		if err := rows.Scan(&at, &h.Actor, &from, &to, &h.Note); err != nil {
			return nil, interpretError(err)
		}
		h.At, h.From, h.To = fromMicros(at), waorders.OrderStatus(from), waorders.OrderStatus(to)
		hs = append(hs, h)
	}
	return hs, interpretError(rows.Err())
}

// loadItems fills the items of the orders in byID; ids is their JSON array.
func loadItems(ctx context.Context, tx *sql.Tx, ids []byte, byID map[string]*waorders.Order) error {
	rows, err := tx.QueryContext(ctx, `SELECT order_id, product_retailer_id, quantity, currency, unit_minor, line_minor
FROM order_items WHERE order_id IN (SELECT value FROM json_each(?)) ORDER BY order_id, idx`, string(ids))
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			orderID, currency string
			it                waorders.Item
		)
		if err := rows.Scan(&orderID, &it.ProductRetailerID, &it.Quantity, &currency, &it.UnitPrice.Minor, &it.LineTotal.Minor); err != nil {
			return interpretError(err)
		}
		it.UnitPrice.Currency, it.LineTotal.Currency = currency, currency
		if o := byID[orderID]; o != nil {
			o.Items = append(o.Items, it)
		}
	}
	return interpretError(rows.Err())
}

// loadTotals fills the per-currency totals of the orders in byID.
func loadTotals(ctx context.Context, tx *sql.Tx, ids []byte, byID map[string]*waorders.Order) error {
	rows, err := tx.QueryContext(ctx, `SELECT order_id, currency, amount_minor
FROM order_totals WHERE order_id IN (SELECT value FROM json_each(?)) ORDER BY order_id, idx`, string(ids))
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			orderID string
			a       money.Amount
		)
		if err := rows.Scan(&orderID, &a.Currency, &a.Minor); err != nil {
			return interpretError(err)
		}
		if o := byID[orderID]; o != nil {
			o.Totals = append(o.Totals, a)
		}
	}
	return interpretError(rows.Err())
}

// orderQuery is the WHERE clause of an OrderFilter, without the cursor.
type orderQuery struct {
	where []string
	args  []any
}

func buildOrderQuery(f store.OrderFilter) (orderQuery, error) {
	var q orderQuery
	add := func(cond string, arg any) {
		q.where = append(q.where, cond)
		q.args = append(q.args, arg)
	}
	if f.Status != "" {
		if !f.Status.Valid() {
			return q, waorders.Errorf(waorders.CodeInvalid, "unknown order status %q", f.Status)
		}
		add("o.status = ?", string(f.Status))
	}
	for _, c := range []struct{ col, v string }{
		{"o.ref", f.Ref}, {"o.ref1", f.Ref1}, {"o.ref2", f.Ref2}, {"o.customer_wa_id", f.Customer},
		{"o.phone_number_id", f.PhoneNumberID}, {"o.catalog_id", f.CatalogID},
	} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if f.Product != "" {
		add("EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.product_retailer_id = ?)", f.Product)
	}
	if !f.Since.IsZero() {
		add("o.ordered_at >= ?", f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		add("o.ordered_at < ?", f.Until.UnixMicro())
	}
	if f.Q != "" {
		add("instr(o.search, ?) > 0", strings.ToLower(f.Q))
	}
	return q, nil
}

// listOrders reads one page of orders after cur (newest first), with items
// and totals, in one read transaction. It returns up to limit+1 orders so
// the caller knows whether another page follows.
func (s *Store) listOrders(ctx context.Context, q orderQuery, cur store.Cursor, limit int) ([]*waorders.Order, error) {
	where, args := q.where, q.args
	if !cur.IsZero() {
		where = append(where[:len(where):len(where)], "(o.ordered_at, o.id) < (?, ?)")
		args = append(args[:len(args):len(args)], micros(cur.Time), cur.ID)
	}
	sqlText := `SELECT ` + orderColumns + ` FROM orders o`
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	sqlText += " ORDER BY o.ordered_at DESC, o.id DESC LIMIT ?"
	args = append(args, limit+1)

	var orders []*waorders.Order
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, sqlText, args...)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		orders = make([]*waorders.Order, 0, min(limit+1, 64))
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				return interpretError(err)
			}
			orders = append(orders, o)
		}
		if err := rows.Err(); err != nil {
			return interpretError(err)
		}
		rows.Close()
		if len(orders) == 0 {
			return nil
		}
		byID := make(map[string]*waorders.Order, len(orders))
		idList := make([]string, len(orders))
		for i, o := range orders {
			byID[o.ID] = o
			idList[i] = o.ID
		}
		ids, err := json.Marshal(idList)
		if err != nil {
			return err
		}
		if err := loadItems(ctx, tx, ids, byID); err != nil {
			return err
		}
		return loadTotals(ctx, tx, ids, byID)
	})
	return orders, err
}

// ListOrders returns a page of orders newest first (by OrderedAt, then id)
// with their items and totals; History is left nil (GetOrder has it).
func (s *Store) ListOrders(ctx context.Context, f store.OrderFilter) (*store.OrderPage, error) {
	q, err := buildOrderQuery(f)
	if err != nil {
		return nil, err
	}
	cur, err := store.DecodeCursor(f.Cursor)
	if err != nil {
		return nil, err
	}
	limit := store.NormalizeLimit(f.Limit)
	orders, err := s.listOrders(ctx, q, cur, limit)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	page := &store.OrderPage{Orders: orders}
	if len(orders) > limit {
		page.Orders = orders[:limit]
		last := orders[limit-1]
		page.NextCursor = store.Cursor{Time: last.OrderedAt, ID: last.ID}.Encode()
	}
	return page, nil
}

// ExportOrders calls fn for every order matching f, newest first, reading
// pages of exportPage orders. No database snapshot is held while fn runs.
// Orders are passed like ListOrders returns them (no History).
func (s *Store) ExportOrders(ctx context.Context, f store.OrderFilter, fn func(*waorders.Order) error) error {
	q, err := buildOrderQuery(f)
	if err != nil {
		return err
	}
	var cur store.Cursor
	for {
		orders, err := s.listOrders(ctx, q, cur, exportPage)
		if err != nil {
			return fmt.Errorf("export orders: %w", err)
		}
		more := len(orders) > exportPage
		if more {
			orders = orders[:exportPage]
		}
		for _, o := range orders {
			if err := fn(o); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		last := orders[len(orders)-1]
		cur = store.Cursor{Time: last.OrderedAt, ID: last.ID}
	}
}
