package postgres

import (
	"context"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// ExportOrders calls fn for every order matching f, newest first, as
// ListOrders returns them (no History), reading exportPageSize orders per
// round of queries, so memory stays constant however many orders match: the next page
// is read while fn handles the current one. No connection is held while
// waiting for fn.
func (s *Store) ExportOrders(ctx context.Context, f store.ListOrdersParams, fn func(*waorders.Order) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	return store.StreamOrders(ctx, func(ctx context.Context, cur store.Cursor) ([]*waorders.Order, bool, error) {
		orders, err := s.exportPage(ctx, f, cur)
		return orders, len(orders) == exportPageSize, err
	}, fn)
}

// exportPage reads the page of orders after cur with their items and
// totals. (Reading them in the same statement, as arrays aggregated in
// LATERAL subqueries, measured ten times slower: 4k orders/s at 200,000.)
func (s *Store) exportPage(ctx context.Context, f store.ListOrdersParams, cur store.Cursor) ([]*waorders.Order, error) {
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
