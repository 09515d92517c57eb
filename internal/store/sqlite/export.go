package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// exportColumn is an order and its items as two JSON arrays built by
// SQLite and concatenated: the export reads one column per order, since
// database/sql and the driver cost about a microsecond per column read.
// The totals are not read: an order whose items are in one currency has
// only the total in its row; the rare others have theirs read apart.
const exportColumn = `json_array(o.seq, o.id, o.status, o.version, o.catalog_id, o.text, o.customer_wa_id, o.customer_name,
    o.phone_number_id, o.display_phone_number, o.waba_id, o.ref, o.ref1, o.ref2, o.reply_to,
    o.context_message_id, o.trace_id, o.ordered_at, o.received_at, o.currency, o.total_minor, o.warnings,
    o.customer_user_id, o.customer_parent_user_id, o.customer_username) ||
    (SELECT json_group_array(json_array(i.product_retailer_id, i.quantity, i.currency, i.unit_minor, i.line_minor,
        i.raw_quantity, i.raw_price, i.raw_currency, i.problems) ORDER BY i.idx)
        FROM order_items i WHERE i.order_seq = o.seq) ||
    (SELECT json_group_array(json_array(r.currency, r.amount_minor) ORDER BY r.currency)
        FROM order_refunds r WHERE r.order_seq = o.seq)`

// exportOrders reads one page of up to limit+1 orders of query f (newest
// first) with their items and totals, as ListOrders returns them.
func (s *Store) exportOrders(ctx context.Context, f *store.Filter, limit int) ([]*waorders.Order, error) {
	sqlText := `SELECT ` + exportColumn + ` FROM orders o` + f.Page(limit+1)
	args := f.Args()
	orders := make([]*waorders.Order, 0, limit+1)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, sqlText, args...)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		var (
			b     sql.RawBytes
			multi map[int64]*waorders.Order
			seqs  = []byte{'['}
		)
		for rows.Next() {
			if err := rows.Scan(&b); err != nil {
				return interpretError(err)
			}
			o, seq, err := decodeExportOrder(b)
			if err != nil {
				return err
			}
			orders = append(orders, o)
			if multiCurrency(o.Items) {
				if multi == nil {
					multi = map[int64]*waorders.Order{}
				} else {
					seqs = append(seqs, ',')
				}
				multi[seq] = o
				seqs = strconv.AppendInt(seqs, seq, 10)
			}
		}
		if err := rows.Err(); err != nil {
			return interpretError(err)
		}
		rows.Close()
		if multi == nil {
			return nil
		}
		return loadTotals(ctx, tx, string(append(seqs, ']')), multi)
	})
	return orders, err
}

// multiCurrency reports whether items are priced in more than one
// currency, so that their order has totals beyond the one in its row.
func multiCurrency(items []waorders.Item) bool {
	for _, it := range items[min(1, len(items)):] {
		if it.UnitPrice.Currency != items[0].UnitPrice.Currency {
			return true
		}
	}
	return false
}

// decodeExportOrder decodes an exportColumn value: the order and its seq.
func decodeExportOrder(b []byte) (*waorders.Order, int64, error) {
	d := &jsonArray{b: b}
	o := &waorders.Order{}
	var first money.Amount
	d.open()
	seq := d.int()
	o.ID = d.str()
	o.Status = waorders.OrderStatus(d.str())
	o.Version = d.int()
	o.CatalogID, o.Text = d.str(), d.str()
	o.Customer.WaID, o.Customer.Name = d.str(), d.str()
	o.Business.PhoneNumberID, o.Business.DisplayPhoneNumber, o.Business.WABAID = d.str(), d.str(), d.str()
	o.Campaign.Ref, o.Campaign.Ref1, o.Campaign.Ref2 = d.str(), d.str(), d.str()
	o.ReplyTo, o.ContextMessageID, o.TraceID = d.str(), d.str(), d.str()
	o.OrderedAt, o.ReceivedAt = fromMicros(d.int()), fromMicros(d.int())
	first.Currency, first.Minor = d.str(), d.int()
	if first.Currency != "" {
		o.Totals = []money.Amount{first}
	}
	warnings, ok := d.optStr()
	o.Customer.UserID, o.Customer.ParentUserID, o.Customer.Username = d.str(), d.str(), d.str()
	d.close()
	for d.open(); d.more(); {
		var it waorders.Item
		d.open()
		it.ProductRetailerID, it.Quantity = d.str(), d.int()
		it.UnitPrice.Currency = d.str()
		it.LineTotal.Currency = it.UnitPrice.Currency
		it.UnitPrice.Minor, it.LineTotal.Minor = d.int(), d.int()
		it.RawQuantity, it.RawPrice, it.RawCurrency = d.str(), d.str(), d.str()
		if problems, ok := d.optStr(); ok && d.err == nil {
			ps, err := decodeProblems(sql.NullString{String: problems, Valid: true})
			if err != nil {
				return nil, 0, fmt.Errorf("order %s: %w", o.ID, err)
			}
			it.Problems = ps
		}
		d.close()
		o.Items = append(o.Items, it)
	}
	d.close()
	for d.open(); d.more(); {
		var a money.Amount
		d.open()
		a.Currency, a.Minor = d.str(), d.int()
		d.close()
		o.Refunded = append(o.Refunded, a)
	}
	d.close()
	if d.err == nil && d.i != len(d.b) {
		d.fail()
	}
	if d.err != nil {
		return nil, 0, fmt.Errorf("decode exported order: %w", d.err)
	}
	var err error
	if o.Warnings, err = decodeProblems(sql.NullString{String: warnings, Valid: ok}); err != nil {
		return nil, 0, fmt.Errorf("order %s: %w", o.ID, err)
	}
	return o, seq, nil
}

// jsonArray reads the JSON arrays SQLite's json_array builds: strings,
// integers, null and nested arrays, without whitespace. The first error
// sticks; later reads return zero values.
type jsonArray struct {
	b   []byte
	i   int
	err error
}

var errJSONShape = errors.New("unexpected JSON")

func (d *jsonArray) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d", errJSONShape, d.i)
	}
	d.i = len(d.b)
}

// sep skips the comma before a value that is not first in its array.
func (d *jsonArray) sep() {
	if d.i < len(d.b) && d.b[d.i] == ',' {
		d.i++
	}
}

func (d *jsonArray) open() {
	d.sep()
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		d.fail()
		return
	}
	d.i++
}

// more reports whether the current array has another element.
func (d *jsonArray) more() bool {
	return d.err == nil && d.i < len(d.b) && d.b[d.i] != ']'
}

func (d *jsonArray) close() {
	if d.i >= len(d.b) || d.b[d.i] != ']' {
		d.fail()
		return
	}
	d.i++
}

func (d *jsonArray) int() int64 {
	d.sep()
	start := d.i
	for d.i < len(d.b) && (d.b[d.i] == '-' || d.b[d.i] >= '0' && d.b[d.i] <= '9') {
		d.i++
	}
	n, err := strconv.ParseInt(string(d.b[start:d.i]), 10, 64)
	if err != nil {
		d.i = start
		d.fail()
	}
	return n
}

// optStr reads a string or null (ok false).
func (d *jsonArray) optStr() (string, bool) {
	d.sep()
	if strings.HasPrefix(string(d.b[d.i:min(d.i+4, len(d.b))]), "null") {
		d.i += 4
		return "", false
	}
	return d.str(), true
}

func (d *jsonArray) str() string {
	d.sep()
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		d.fail()
		return ""
	}
	start, escaped := d.i, false
	for d.i++; d.i < len(d.b); d.i++ {
		switch d.b[d.i] {
		case '\\':
			escaped = true
			d.i++
		case '"':
			d.i++
			if !escaped {
				return string(d.b[start+1 : d.i-1])
			}
			var s string
			if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
				d.i = start
				d.fail()
			}
			return s
		}
	}
	d.i = start
	d.fail()
	return ""
}
