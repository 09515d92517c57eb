package store

import (
	"context"
	"fmt"

	"github.com/waorders/waorders"
)

// PageFunc reads the page of orders after cursor after (the zero Cursor:
// the first page) and reports whether another page may follow.
type PageFunc func(ctx context.Context, after Cursor) (orders []*waorders.Order, more bool, err error)

// StreamOrders calls fn for every order of the pages fetch returns, in
// order, reading the next page while fn handles the current one. At most two
// pages are in memory, so an export's memory stays constant; fetch runs in
// its own goroutine and holds no connection while fn works. It is the
// ExportOrders loop of both drivers.
func StreamOrders(ctx context.Context, fetch PageFunc, fn func(*waorders.Order) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type page struct {
		orders []*waorders.Order
		err    error
	}
	pages := make(chan page)
	go func() {
		defer close(pages)
		var cur Cursor
		for {
			orders, more, err := fetch(ctx, cur)
			if err != nil {
				err = fmt.Errorf("export orders: %w", err)
			}
			select {
			case pages <- page{orders, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || !more || len(orders) == 0 {
				return
			}
			last := orders[len(orders)-1]
			cur = OrderCursor(last)
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
