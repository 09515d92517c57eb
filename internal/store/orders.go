package store

import (
	"context"

	"github.com/waorders/waorders"
)

// Orders reads orders and moves them through their lifecycle.
type Orders interface {
	// GetOrder returns an order with its items, totals and history.
	GetOrder(ctx context.Context, id string) (*waorders.Order, error)
	// ListOrders returns orders newest first (by OrderedAt, then id), with a
	// cursor that stays correct while new orders arrive.
	ListOrders(ctx context.Context, p ListOrdersParams) (*OrderPage, error)
	// ExportOrders calls fn for every order matching p (Cursor and Limit
	// ignored), newest first, reading in pages so memory stays constant.
	// It stops at the first error fn returns and returns it.
	ExportOrders(ctx context.Context, p ListOrdersParams, fn func(*waorders.Order) error) error
	// UpdateOrderStatus moves an order to a new status, checking the
	// lifecycle (CodeConflict) and, when p.IfVersion is set, the version
	// (CodePrecondition), appends to its history and bumps its version.
	UpdateOrderStatus(ctx context.Context, p UpdateOrderStatusParams) (*waorders.Order, error)
}
