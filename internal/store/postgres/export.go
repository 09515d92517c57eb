package postgres

import (
	"context"
	"fmt"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// ExportOrders calls fn for every order matching f, newest first, as
// ListOrders returns them (no History), reading exportPageSize orders per
// round of queries, so memory stays constant however many orders match: the next page
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

// exportPage reads the page of orders after cur with their items and
// totals. (Reading them in the same statement, as arrays aggregated in
// LATERAL subqueries, measured ten times slower: 4k orders/s at 200,000.)
func (s *Store) exportPage(ctx context.Context, f store.OrderFilter, cur store.Cursor) ([]*waorders.Order, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	orders, err := s.orderPage(ctx, f, cur, exportPageSize)
	if err != nil {
		return nil, err
	}
	if err := loadOrderDetails(ctx, s.pool, orders, false); err != nil {
		return nil, err
	}
	return orders, nil
}
