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

// Filter returns the conditions and order of a page of p over the orders
// table aliased alias after cur, newest first (by ordered_at, then id):
// the status, the references and the window of ordered_at. The driver
// adds the conditions whose SQL is its own (Customer, Product and Q). p
// must be valid (Validate); cur is not p's Cursor, so that an export can
// page through the same query.
func (p ListOrdersParams) Filter(d Dialect, alias string, cur Cursor) *Filter {
	f := d.Filter(alias)
	f.Equal("status", string(p.Status), "ref", p.Ref, "ref1", p.Ref1, "ref2", p.Ref2,
		"phone_number_id", p.PhoneNumberID, "catalog_id", p.CatalogID)
	f.Window("ordered_at", p.Since, p.Until)
	f.Keyset("ordered_at", "id", cur, cur.ID)
	return f
}

// Page checks p and returns its cursor and its page size.
func (p ListOrdersParams) Page() (Cursor, int, error) {
	if err := p.Validate(); err != nil {
		return Cursor{}, 0, err
	}
	cur, err := DecodeCursor(p.Cursor)
	if err != nil {
		return Cursor{}, 0, err
	}
	return cur, NormalizeLimit(p.Limit), nil
}

// OrderPage is a page of orders; NextCursor is empty on the last page.
type OrderPage struct {
	Orders     []*waorders.Order
	NextCursor string
}

// NewOrderPage cuts orders read with a limit of limit+1 to a page.
func NewOrderPage(orders []*waorders.Order, limit int) *OrderPage {
	page := &OrderPage{}
	page.Orders, page.NextCursor = TrimPage(orders, limit, func(i int) Cursor { return OrderCursor(orders[i]) })
	return page
}

// OrderCursor is the cursor of o in the order of lists and exports: newest
// first by OrderedAt, then by id.
func OrderCursor(o *waorders.Order) Cursor { return Cursor{Time: o.OrderedAt, ID: o.ID} }

// UpdateOrderStatusParams asks for one status change.
type UpdateOrderStatusParams struct {
	ID        string
	To        waorders.OrderStatus
	Note      string
	Actor     string
	At        time.Time
	IfVersion *int64 // nil: no version check
}
