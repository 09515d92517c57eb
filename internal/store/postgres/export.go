package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// exportDetails are the items and totals of an exported order as arrays
// in position order, read with the order in one statement (one snapshot,
// one round trip per page).
const exportDetails = `, i.products, i.quantities, i.currencies, i.unit_prices, i.line_totals, t.currencies, t.amounts
	FROM page o
	LEFT JOIN LATERAL (SELECT array_agg(product_retailer_id ORDER BY position) AS products,
		array_agg(quantity ORDER BY position) AS quantities, array_agg(currency ORDER BY position) AS currencies,
		array_agg(unit_price_minor ORDER BY position) AS unit_prices, array_agg(line_total_minor ORDER BY position) AS line_totals
		FROM order_items WHERE order_id = o.id) i ON true
	LEFT JOIN LATERAL (SELECT array_agg(currency ORDER BY position) AS currencies, array_agg(amount_minor ORDER BY position) AS amounts
		FROM order_totals WHERE order_id = o.id) t ON true
	ORDER BY o.ordered_at DESC, o.id DESC`

// ExportOrders calls fn for every order matching f, newest first, as
// ListOrders returns them (no History), reading exportPageSize orders per
// query, so memory stays constant however many orders match: the next page
// is read while fn handles the current one. No connection is held while
// waiting for fn.
func (s *Store) ExportOrders(ctx context.Context, f store.OrderFilter, fn func(*waorders.Order) error) error {
	if _, err := orderConds(f); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type page struct {
		orders []*waorders.Order
		err    error
	}
	pages := make(chan page)
	go func() {
		defer close(pages)
		var cur store.Cursor
		for {
			orders, err := s.exportPage(ctx, f, cur)
			if err != nil {
				err = fmt.Errorf("export orders: %w", err)
			}
			select {
			case pages <- page{orders, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(orders) < exportPageSize {
				return
			}
			last := orders[len(orders)-1]
			cur = store.Cursor{Time: last.OrderedAt, ID: last.ID}
		}
	}()
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		for _, o := range p.orders {
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// exportPage reads the page of orders after cur with their items and totals.
func (s *Store) exportPage(ctx context.Context, f store.OrderFilter, cur store.Cursor) ([]*waorders.Order, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	c, err := orderConds(f)
	if err != nil {
		return nil, err
	}
	if !cur.IsZero() {
		c.addKeyset("o.ordered_at", "o.id", cur)
	}
	c.args = append(c.args, exportPageSize)
	sql := `WITH page AS (SELECT o.* FROM orders o` + c.sql() +
		` ORDER BY o.ordered_at DESC, o.id DESC LIMIT $` + strconv.Itoa(len(c.args)) + `)
	SELECT ` + orderColumns + exportDetails
	rows, err := s.pool.Query(ctx, sql, c.args...)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	orders := make([]*waorders.Order, 0, exportPageSize)
	var (
		o                                         waorders.Order
		warnings                                  []byte
		products, itemCurrencies, totalCurrencies []string
		quantities, unitPrices, lineTotals, amts  []int64
	)
	for rows.Next() {
		o = waorders.Order{}
		err := rows.Scan(&o.ID, &o.Status, &o.Version, &o.CatalogID, &o.Text, &o.Customer.WaID, &o.Customer.Name,
			&o.Business.PhoneNumberID, &o.Business.DisplayPhoneNumber, &o.Business.WABAID,
			&o.Campaign.Ref, &o.Campaign.Ref1, &o.Campaign.Ref2, &o.ReplyTo,
			&o.ContextMessageID, &o.TraceID, &o.OrderedAt, &o.ReceivedAt, &warnings,
			&products, &quantities, &itemCurrencies, &unitPrices, &lineTotals, &totalCurrencies, &amts)
		if err != nil {
			return nil, interpretError(err)
		}
		o.OrderedAt, o.ReceivedAt = utc(o.OrderedAt), utc(o.ReceivedAt)
		if o.Warnings, err = parseProblems(warnings); err != nil {
			return nil, err
		}
		if len(quantities) != len(products) || len(itemCurrencies) != len(products) ||
			len(unitPrices) != len(products) || len(lineTotals) != len(products) || len(amts) != len(totalCurrencies) {
			return nil, fmt.Errorf("order %s: item or total arrays of different lengths", o.ID)
		}
		if len(products) > 0 {
			o.Items = make([]waorders.Item, len(products))
		}
		for k := range products {
			cur := itemCurrencies[k]
			o.Items[k] = waorders.Item{ProductRetailerID: products[k], Quantity: quantities[k],
				UnitPrice: money.Amount{Currency: cur, Minor: unitPrices[k]}, LineTotal: money.Amount{Currency: cur, Minor: lineTotals[k]}}
		}
		if len(totalCurrencies) > 0 {
			o.Totals = make([]money.Amount, len(totalCurrencies))
		}
		for k := range totalCurrencies {
			o.Totals[k] = money.Amount{Currency: totalCurrencies[k], Minor: amts[k]}
		}
		copyOrder := o
		orders = append(orders, &copyOrder)
	}
	if err := rows.Err(); err != nil {
		return nil, interpretError(err)
	}
	return orders, nil
}
