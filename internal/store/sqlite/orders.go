package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// exportPage is how many orders ExportOrders reads per query.
const exportPage = 1000

const orderColumns = `o.seq, o.id, o.status, o.version, o.catalog_id, o.text, o.customer_wa_id, o.customer_name,
    o.phone_number_id, o.display_phone_number, o.waba_id, o.ref, o.ref1, o.ref2, o.reply_to,
    o.context_message_id, o.trace_id, o.ordered_at, o.received_at, o.currency, o.total_minor, o.warnings,
    o.customer_user_id, o.customer_parent_user_id, o.customer_username`

// scanOrder reads a row of orderColumns: the order and its seq.
func scanOrder(sc interface{ Scan(...any) error }) (*waorders.Order, int64, error) {
	var (
		o                 waorders.Order
		seq               int64
		first             money.Amount
		status            string
		ordered, received int64
		warnings          sql.NullString
	)
	if err := sc.Scan(&seq, &o.ID, &status, &o.Version, &o.CatalogID, &o.Text, &o.Customer.WaID, &o.Customer.Name,
		&o.Business.PhoneNumberID, &o.Business.DisplayPhoneNumber, &o.Business.WABAID,
		&o.Campaign.Ref, &o.Campaign.Ref1, &o.Campaign.Ref2, &o.ReplyTo, &o.ContextMessageID, &o.TraceID,
		&ordered, &received, &first.Currency, &first.Minor, &warnings,
		&o.Customer.UserID, &o.Customer.ParentUserID, &o.Customer.Username); err != nil {
		return nil, 0, err
	}
	o.Status = waorders.OrderStatus(status)
	o.OrderedAt, o.ReceivedAt = fromMicros(ordered), fromMicros(received)
	if first.Currency != "" { // '' for an order in needs_review without a usable line
		o.Totals = []money.Amount{first}
	}
	var err error
	if o.Warnings, err = decodeProblems(warnings); err != nil {
		return nil, 0, fmt.Errorf("order %s: %w", o.ID, err)
	}
	return &o, seq, nil
}

// GetOrder returns an order with its items, totals and history, or
// CodeNotFound.
func (s *Store) GetOrder(ctx context.Context, id string) (*waorders.Order, error) {
	var o *waorders.Order
	err := s.readTx(ctx, func(tx *sql.Tx) (err error) {
		o, err = getOrder(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

// getOrder reads an order with its items, totals and history in tx (a read
// transaction, or the write transaction that just changed it).
func getOrder(ctx context.Context, tx *sql.Tx, id string) (*waorders.Order, error) {
	o, seq, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders o
WHERE o.seq = (SELECT seq FROM messages WHERE id = ?)`, id))
	if err != nil {
		return nil, notFound(err, "order %s not found", id)
	}
	bySeq := map[int64]*waorders.Order{seq: o}
	seqs := "[" + strconv.FormatInt(seq, 10) + "]"
	if err := loadItems(ctx, tx, seqs, bySeq); err != nil {
		return nil, err
	}
	if err := loadTotals(ctx, tx, seqs, bySeq); err != nil {
		return nil, err
	}
	if err := loadRefunds(ctx, tx, seqs, bySeq); err != nil {
		return nil, err
	}
	if o.History, err = loadHistory(ctx, tx, o, seq); err != nil {
		return nil, err
	}
	return o, nil
}

// loadHistory reads the stored status changes of order o (seq) and puts
// its creation entry first (store.WithCreation).
func loadHistory(ctx context.Context, tx *sql.Tx, o *waorders.Order, seq int64) ([]waorders.StatusChange, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version, at, actor, from_status, to_status, note
FROM order_history WHERE order_seq = ? ORDER BY version`, seq)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	var (
		hs    []waorders.StatusChange
		first int64
	)
	for rows.Next() {
		var (
			h           waorders.StatusChange
			version, at int64
			from, to    string
		)
		if err := rows.Scan(&version, &at, &h.Actor, &from, &to, &h.Note); err != nil {
			return nil, interpretError(err)
		}
		if len(hs) == 0 {
			first = version
		}
		h.At, h.From, h.To = fromMicros(at), waorders.OrderStatus(from), waorders.OrderStatus(to)
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		return nil, interpretError(err)
	}
	return store.WithCreation(o, hs, first), nil
}

// loadItems fills the items of the orders in bySeq; seqs is the JSON array
// of their seqs.
func loadItems(ctx context.Context, tx *sql.Tx, seqs string, bySeq map[int64]*waorders.Order) error {
	return eachRow(ctx, tx, `SELECT order_seq, product_retailer_id, quantity, currency, unit_minor, line_minor,
    raw_quantity, raw_price, raw_currency, problems
FROM order_items WHERE order_seq IN (SELECT value FROM json_each(?)) ORDER BY order_seq, idx`, []any{seqs}, func(sc scanner) error {
		var (
			seq      int64
			currency string
			it       waorders.Item
			problems sql.NullString
		)
		if err := sc.Scan(&seq, &it.ProductRetailerID, &it.Quantity, &currency, &it.UnitPrice.Minor, &it.LineTotal.Minor,
			&it.RawQuantity, &it.RawPrice, &it.RawCurrency, &problems); err != nil {
			return err
		}
		it.UnitPrice.Currency, it.LineTotal.Currency = currency, currency
		var err error
		if it.Problems, err = decodeProblems(problems); err != nil {
			return err
		}
		if o := bySeq[seq]; o != nil {
			o.Items = append(o.Items, it)
		}
		return nil
	})
}

// loadTotals appends the totals beyond the first to the orders in bySeq.
func loadTotals(ctx context.Context, tx *sql.Tx, seqs string, bySeq map[int64]*waorders.Order) error {
	return loadAmounts(ctx, tx, `SELECT order_seq, currency, amount_minor
FROM order_totals WHERE order_seq IN (SELECT value FROM json_each(?)) ORDER BY order_seq, idx`, seqs, bySeq,
		func(o *waorders.Order) *[]money.Amount { return &o.Totals })
}

// loadRefunds fills the refunded amounts of the orders in bySeq.
func loadRefunds(ctx context.Context, tx *sql.Tx, seqs string, bySeq map[int64]*waorders.Order) error {
	return loadAmounts(ctx, tx, `SELECT order_seq, currency, amount_minor
FROM order_refunds WHERE order_seq IN (SELECT value FROM json_each(?)) ORDER BY order_seq, currency`, seqs, bySeq,
		func(o *waorders.Order) *[]money.Amount { return &o.Refunded })
}

// loadAmounts appends the amounts query reads, (order seq, currency, minor
// units) rows of the orders in the JSON array seqs, to the list of each
// order in bySeq that to gives.
func loadAmounts(ctx context.Context, tx *sql.Tx, query, seqs string, bySeq map[int64]*waorders.Order,
	to func(*waorders.Order) *[]money.Amount) error {
	return eachRow(ctx, tx, query, []any{seqs}, func(sc scanner) error {
		var (
			seq int64
			a   money.Amount
		)
		if err := sc.Scan(&seq, &a.Currency, &a.Minor); err != nil {
			return err
		}
		if o := bySeq[seq]; o != nil {
			list := to(o)
			*list = append(*list, a)
		}
		return nil
	})
}

// customerOrders selects the orders of a customer (one parameter: any of
// its identifiers) through the index of messages by customer key: orders
// have none of their own, to spare the intake a second random-key index.
const customerOrders = "o.seq IN (SELECT m.seq FROM messages m WHERE m.customer_key IN " + customerSet + ")"

// customerSet is a subquery of every identifier of the customer its one
// parameter is an identifier of: the identifiers connected to it through
// customer_links, in both directions (UNION stops at a cycle).
const customerSet = `(WITH RECURSIVE cset(v) AS (SELECT ?
    UNION SELECT CASE WHEN l.a_value = cset.v THEN l.b_value ELSE l.a_value END
    FROM cset JOIN customer_links l ON l.a_value = cset.v OR l.b_value = cset.v)
SELECT v FROM cset)`

// orderFilter is the query of a page of the orders matching p after cur;
// p must be valid.
func orderFilter(p store.ListOrdersParams, cur store.Cursor) *store.Filter {
	f := p.Filter(dialect, "o", cur)
	if p.Customer != "" {
		f.Add(customerOrders, p.Customer)
	}
	if p.Product != "" {
		f.Add("EXISTS (SELECT 1 FROM order_items i WHERE i.order_seq = o.seq AND i.product_retailer_id = ?)", p.Product)
	}
	if p.Currency != "" {
		// The first total is on the order, further ones in order_totals.
		f.Add("(o.currency = ? OR EXISTS (SELECT 1 FROM order_totals t WHERE t.order_seq = o.seq AND t.currency = ?))", p.Currency, p.Currency)
	}
	if p.Q != "" {
		f.Add("instr(o.search, ?) > 0", store.SearchQuery(p.Q))
	}
	return f
}

// listOrders reads one page of the orders of query f (newest first), with
// items and totals, in one read transaction. It returns up to limit+1
// orders so the caller knows whether another page follows.
func (s *Store) listOrders(ctx context.Context, f *store.Filter, limit int) ([]*waorders.Order, error) {
	sqlText := `SELECT ` + orderColumns + ` FROM orders o` + f.Page(limit+1)
	args := f.Args()

	var orders []*waorders.Order
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, sqlText, args...)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		orders = make([]*waorders.Order, 0, min(limit+1, 64))
		bySeq := make(map[int64]*waorders.Order, min(limit+1, 64))
		seqs := []byte{'['}
		for rows.Next() {
			o, seq, err := scanOrder(rows)
			if err != nil {
				return interpretError(err)
			}
			orders = append(orders, o)
			bySeq[seq] = o
			if len(seqs) > 1 {
				seqs = append(seqs, ',')
			}
			seqs = strconv.AppendInt(seqs, seq, 10)
		}
		if err := rows.Err(); err != nil {
			return interpretError(err)
		}
		rows.Close()
		if len(orders) == 0 {
			return nil
		}
		seqs = append(seqs, ']')
		if err := loadItems(ctx, tx, string(seqs), bySeq); err != nil {
			return err
		}
		if err := loadRefunds(ctx, tx, string(seqs), bySeq); err != nil {
			return err
		}
		return loadTotals(ctx, tx, string(seqs), bySeq)
	})
	return orders, err
}

// ListOrders returns a page of orders newest first (by OrderedAt, then id)
// with their items and totals; History is left nil (GetOrder has it).
func (s *Store) ListOrders(ctx context.Context, f store.ListOrdersParams) (*store.OrderPage, error) {
	cur, limit, err := f.Page()
	if err != nil {
		return nil, err
	}
	orders, err := s.listOrders(ctx, orderFilter(f, cur), limit)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return store.NewOrderPage(orders, limit), nil
}

// ExportOrders calls fn for every order matching f, newest first, reading
// pages of exportPage orders. The next page is read while fn handles the
// current one (at most two pages are in memory); no database snapshot is
// held while waiting for fn. Orders are passed like ListOrders returns them
// (no History).
func (s *Store) ExportOrders(ctx context.Context, f store.ListOrdersParams, fn func(*waorders.Order) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	return store.StreamOrders(ctx, func(ctx context.Context, cur store.Cursor) ([]*waorders.Order, bool, error) {
		orders, err := s.exportOrders(ctx, orderFilter(f, cur), exportPage)
		more := err == nil && len(orders) > exportPage
		if more {
			orders = orders[:exportPage]
		}
		return orders, more, err
	}, fn)
}
