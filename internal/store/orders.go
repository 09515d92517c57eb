package store

import (
	"context"
	"time"

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

	OrdersTx
}

// OrdersTx is the write of the orders area; it can join a Tx.
type OrdersTx interface {
	// UpdateOrderStatus moves an order to a new status, checking the
	// lifecycle (CodeConflict) and, when p.IfVersion is set, the version
	// (CodePrecondition), appends to its history and bumps its version.
	UpdateOrderStatus(ctx context.Context, p UpdateOrderStatusParams) (*waorders.Order, error)
	// ReviewOrder resolves an order in needs_review (ApplyReview says how):
	// it corrects lines, accepts the usable lines, or rejects the order
	// (canceled). An order that becomes pending enters the campaign rollup
	// in the same transaction. Version check and history as
	// UpdateOrderStatus.
	ReviewOrder(ctx context.Context, p ReviewOrderParams) (*waorders.Order, error)
	// RefundOrder records money paid back (ApplyRefund says what is
	// allowed): the order becomes refunded and its revenue in the rollup
	// drops by the amounts, in the same transaction.
	RefundOrder(ctx context.Context, p RefundOrderParams) (*waorders.Order, error)
}

// ListOrdersParams selects orders. Zero fields do not filter.
type ListOrdersParams struct {
	Status        waorders.OrderStatus
	Ref           string
	Ref1          string
	Ref2          string
	Customer      string // any identifier of the customer (see ListMessagesParams)
	PhoneNumberID string
	CatalogID     string
	Product       string // product_retailer_id of any item
	Currency      string // ISO 4217 code of any of the order's totals
	Since         time.Time
	Until         time.Time // exclusive
	Q             string    // free text over customer name and order text
	Cursor        string
	Limit         int
}

// OrderPage is a page of orders; NextCursor is empty on the last page.
type OrderPage struct {
	Orders     []*waorders.Order
	NextCursor string
}

// UpdateOrderStatusParams asks for one status change.
type UpdateOrderStatusParams struct {
	ID        string
	To        waorders.OrderStatus
	Note      string
	Actor     string
	At        time.Time
	IfVersion *int64 // nil: no version check
}
