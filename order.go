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
	OrderPending          OrderStatus = "pending"
	OrderProcessing       OrderStatus = "processing"
	OrderPartiallyShipped OrderStatus = "partially_shipped"
	OrderShipped          OrderStatus = "shipped"
	OrderCompleted        OrderStatus = "completed"
	OrderCanceled         OrderStatus = "canceled"
)

// OrderStatuses lists every order state in lifecycle order.
var OrderStatuses = []OrderStatus{
	OrderPending, OrderProcessing, OrderPartiallyShipped, OrderShipped, OrderCompleted, OrderCanceled,
}

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

// CanMoveTo reports whether the lifecycle allows s → to: forward along
// pending → processing → partially_shipped → shipped → completed (skipping
// is allowed), and to canceled from anything but completed and canceled.
func (s OrderStatus) CanMoveTo(to OrderStatus) bool {
	switch {
	case !s.Valid() || !to.Valid():
		return false
	case to == OrderCanceled:
		return s != OrderCompleted && s != OrderCanceled
	case s == OrderCanceled:
		return false
	default:
		return to.rank() > s.rank()
	}
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
	Totals           []money.Amount // one per currency
	OrderedAt        time.Time
	ReceivedAt       time.Time
	Warnings         []Problem
	History          []StatusChange
}

// Units returns the number of units across all items.
func (o *Order) Units() int64 {
	var n int64
	for _, it := range o.Items {
		n += it.Quantity
	}
	return n
}

// Item is one product line of an order.
type Item struct {
	ProductRetailerID string
	Quantity          int64
	UnitPrice         money.Amount
	LineTotal         money.Amount
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
	for i, it := range o.Items {
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

// ComputeTotals returns the per-currency totals of items.
func ComputeTotals(items []Item) ([]money.Amount, error) {
	var t money.Totals
	for _, it := range items {
		if err := t.Add(it.LineTotal); err != nil {
			return nil, fmt.Errorf("order total: %w", err)
		}
	}
	return t.List(), nil
}
