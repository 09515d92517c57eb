package waorders

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waorders/waorders/money"
)

// OrderStatus is where an order is in fulfilment. The values are Meta's order
// states.
type OrderStatus string

// Order states.
const (
	// OrderNeedsReview: the order message had unusable lines (each carries
	// its problems); staff correct, accept or reject it (see Review). It
	// counts in no revenue until it is pending.
	OrderNeedsReview      OrderStatus = "needs_review"
	OrderPending          OrderStatus = "pending"
	OrderProcessing       OrderStatus = "processing"
	OrderPartiallyShipped OrderStatus = "partially_shipped"
	OrderShipped          OrderStatus = "shipped"
	OrderCompleted        OrderStatus = "completed"
	// OrderReturned: the goods of a completed order came back; its revenue
	// counts until it is refunded.
	OrderReturned OrderStatus = "returned"
	// OrderRefunded: some or all of the order's money was paid back
	// (Order.Refunded); revenue counts what was not.
	OrderRefunded OrderStatus = "refunded"
	OrderCanceled OrderStatus = "canceled"
)

// OrderStatuses lists every order state in lifecycle order.
var OrderStatuses = []OrderStatus{
	OrderNeedsReview, OrderPending, OrderProcessing, OrderPartiallyShipped, OrderShipped, OrderCompleted,
	OrderReturned, OrderRefunded, OrderCanceled,
}

// Counted reports whether orders in s count in revenue, reports and
// customer spend by default: every state but needs_review and canceled.
func (s OrderStatus) Counted() bool { return s.Valid() && s != OrderNeedsReview && s != OrderCanceled }

// Valid reports whether s is a known order state.
func (s OrderStatus) Valid() bool { return slices.Contains(OrderStatuses, s) }

// rank orders the forward states; canceled has no rank.
func (s OrderStatus) rank() int {
	switch s {
	case OrderPending:
		return 1
	case OrderProcessing:
		return 2
	case OrderPartiallyShipped:
		return 3
	case OrderShipped:
		return 4
	case OrderCompleted:
		return 5
	case OrderReturned:
		return 6
	case OrderRefunded:
		return 7
	}
	return 0
}

// Next lists the states an order in s may move to.
func (s OrderStatus) Next() []OrderStatus {
	var out []OrderStatus
	for _, t := range OrderStatuses {
		if s.CanMoveTo(t) {
			out = append(out, t)
		}
	}
	return out
}

// CanMoveTo reports whether a status change may move s → to: forward along
// pending → processing → partially_shipped → shipped → completed (skipping
// is allowed), completed → returned, to canceled from anything before
// completed. An order leaves needs_review only through a review (to
// pending, or canceled by a rejection) and becomes refunded only through a
// refund, which carries the amounts (see CanRefund); no change leads to
// needs_review.
func (s OrderStatus) CanMoveTo(to OrderStatus) bool {
	switch {
	case !s.Valid() || !to.Valid():
		return false
	case to == OrderNeedsReview || to == OrderRefunded:
		return false
	case to == OrderCanceled:
		return s != OrderCanceled && s.rank() < OrderCompleted.rank()
	case s == OrderCanceled || s == OrderNeedsReview:
		return false
	case to == OrderReturned:
		return s == OrderCompleted
	default:
		return to.rank() > s.rank() && to.rank() <= OrderCompleted.rank()
	}
}

// CanRefund reports whether money of an order in s may be paid back:
// after completed (completed, returned, or refunded in part).
func (s OrderStatus) CanRefund() bool {
	return s == OrderCompleted || s == OrderReturned || s == OrderRefunded
}

// CheckTransition returns nil if s → to is allowed, else an *Error with
// CodeConflict (or CodeInvalid for an unknown state) whose message says what
// is allowed.
func (s OrderStatus) CheckTransition(to OrderStatus) error {
	if !to.Valid() {
		return Errorf(CodeInvalid, "unknown order status %q; use one of %s", to, joinStatuses(OrderStatuses))
	}
	if s.CanMoveTo(to) {
		return nil
	}
	switch {
	case s == OrderNeedsReview && to == OrderPending:
		return Errorf(CodeConflict, "order needs review; correct or accept it with POST /v1/orders/{id}/review")
	case to == OrderRefunded && s.CanRefund():
		return Errorf(CodeConflict, "a refund carries its amounts; use POST /v1/orders/{id}/refunds")
	}
	next := s.Next()
	if len(next) == 0 {
		return Errorf(CodeConflict, "order is %s, which is final; no status change is allowed", s)
	}
	return Errorf(CodeConflict, "order cannot move from %s to %s; allowed from %s: %s", s, to, s, joinStatuses(next))
}

func joinStatuses(ss []OrderStatus) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// Order is a catalogue order as waorders keeps it. Its ID is the WhatsApp
// message id (wamid) of the order message, the natural idempotency key.
type Order struct {
	ID               string
	Status           OrderStatus
	Version          int64 // starts at 1, +1 on every status change
	CatalogID        string
	Text             string
	Customer         Customer
	Business         Business
	Campaign         Campaign
	ReplyTo          string
	ContextMessageID string
	TraceID          string
	Items            []Item
	Totals           []money.Amount // one per currency, over the usable lines
	// Refunded is the money paid back, one per currency (each at most the
	// total in it); revenue counts Totals less Refunded.
	Refunded   []money.Amount
	OrderedAt  time.Time
	ReceivedAt time.Time
	Warnings   []Problem
	History    []StatusChange
}

// Units returns the number of units across the usable items.
func (o *Order) Units() int64 {
	var n int64
	for _, it := range o.Items {
		if it.Usable() {
			n += it.Quantity
		}
	}
	return n
}

// Item is one product line of an order.
//
// A line of an order in needs_review may be unusable: it then has
// Problems (decoder problems with codes and JSON paths), and its Quantity,
// UnitPrice and LineTotal hold what could be read (zero otherwise); the
// texts as received are RawQuantity, RawPrice and RawCurrency, which are
// kept on every line read from a callback, also after a correction.
type Item struct {
	ProductRetailerID string
	Quantity          int64
	UnitPrice         money.Amount
	LineTotal         money.Amount
	RawQuantity       string
	RawPrice          string
	RawCurrency       string
	Problems          []Problem
}

// Usable reports whether the line counts in the order's totals: it has no
// problem of severity error.
func (it *Item) Usable() bool {
	for _, p := range it.Problems {
		if p.Severity == "error" {
			return false
		}
	}
	return true
}

// NeedsReview reports whether any line of the order is unusable.
func (o *Order) NeedsReview() bool {
	for i := range o.Items {
		if !o.Items[i].Usable() {
			return true
		}
	}
	return false
}

// Net returns what the order's revenue counts: its totals less what was
// refunded, per currency, never below zero.
func (o *Order) Net() []money.Amount {
	out := make([]money.Amount, 0, len(o.Totals))
	for _, t := range o.Totals {
		for _, r := range o.Refunded {
			if r.Currency == t.Currency {
				t.Minor -= r.Minor
			}
		}
		out = append(out, money.Amount{Currency: t.Currency, Minor: max(t.Minor, 0)})
	}
	return out
}

// Customer is the WhatsApp user who placed an order or sent a message, with
// the identifiers that message carried: the phone-based WaID, the
// business-scoped user id (BSUID, UserID), the parent BSUID and the
// username. Since usernames, any of them may be missing; see CustomerID.
type Customer struct {
	WaID         string
	UserID       string
	ParentUserID string
	Username     string
	Name         string
}

// Key returns the identifier a record of this customer is filed under: the
// BSUID, else the phone-based id, else the parent BSUID, else the username;
// "" when the record carried none.
func (c Customer) Key() string {
	for _, v := range []string{c.UserID, c.WaID, c.ParentUserID, c.Username} {
		if v != "" {
			return v
		}
	}
	return ""
}

// IDs returns the identifiers the customer was seen with, in the order of
// Key's preference.
func (c Customer) IDs() []CustomerID {
	var out []CustomerID
	for _, id := range []CustomerID{{IDUser, c.UserID}, {IDWa, c.WaID}, {IDParent, c.ParentUserID}, {IDUsername, c.Username}} {
		if id.Value != "" {
			out = append(out, id)
		}
	}
	return out
}

// Business is the business number that received an order.
type Business struct {
	PhoneNumberID      string
	DisplayPhoneNumber string
	WABAID             string
}

// Campaign holds the brand's references from Kaleyra's extra_info.
type Campaign struct {
	Ref, Ref1, Ref2 string
}

// StatusChange is one entry of an order's history.
type StatusChange struct {
	At    time.Time
	Actor string
	From  OrderStatus // empty for the creation entry
	To    OrderStatus
	Note  string
}

// Problem is a decoding warning or error kept with a stored record.
type Problem struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Path     string `json:"path"`
	Message  string `json:"message"`
}

// Validate checks the invariants every stored order holds.
func (o *Order) Validate() error {
	if o.ID == "" {
		return Errorf(CodeInvalid, "order has no id")
	}
	if !o.Status.Valid() {
		return Errorf(CodeInvalid, "order %s has unknown status %q", o.ID, o.Status)
	}
	if len(o.Items) == 0 {
		return Errorf(CodeInvalid, "order %s has no items", o.ID)
	}
	if o.NeedsReview() && o.Status != OrderNeedsReview && o.Status != OrderCanceled {
		return Errorf(CodeInvalid, "order %s has unusable lines, so its status must be %s, not %s", o.ID, OrderNeedsReview, o.Status)
	}
	for i, it := range o.Items {
		if !it.Usable() {
			continue
		}
		if it.Quantity <= 0 {
			return Errorf(CodeInvalid, "order %s item %d: quantity %d is not positive", o.ID, i, it.Quantity)
		}
		if it.UnitPrice.Minor < 0 {
			return Errorf(CodeInvalid, "order %s item %d: negative price", o.ID, i)
		}
		if want, err := it.UnitPrice.Mul(it.Quantity); err != nil || want != it.LineTotal {
			return Errorf(CodeInvalid, "order %s item %d: line total %s is not quantity × unit price", o.ID, i, it.LineTotal)
		}
	}
	return nil
}

// ComputeTotals returns the per-currency totals of the usable items.
func ComputeTotals(items []Item) ([]money.Amount, error) {
	var t money.Totals
	for _, it := range items {
		if !it.Usable() {
			continue
		}
		if err := t.Add(it.LineTotal); err != nil {
			return nil, fmt.Errorf("order total: %w", err)
		}
	}
	return t.List(), nil
}
