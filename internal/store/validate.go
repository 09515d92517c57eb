package store

import (
	"fmt"
	"slices"
	"strings"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/money"
)

// ValidateInbound checks what the contract forbids, before a driver
// writes anything: every message has an id; an order has its message's id
// (or none), is valid, and its totals (when given) are the per-currency sums
// of its lines; every status names its message and status; no record is
// nil. Both drivers call it first, so they refuse exactly the same input.
func ValidateInbound(ds []*Inbound) error {
	for i, d := range ds {
		if d == nil {
			return waorders.Errorf(waorders.CodeInvalid, "inbound %d is nil", i)
		}
		for j, mw := range d.Messages {
			if mw.Message == nil || mw.Message.ID == "" {
				return waorders.Errorf(waorders.CodeInvalid, "inbound %d message %d has no id", i, j)
			}
			if mw.Order != nil {
				if err := validateOrder(mw.Message.ID, mw.Order); err != nil {
					return err
				}
			}
		}
		for j, sw := range d.Statuses {
			if sw.Update == nil || sw.Update.MessageID == "" || sw.Update.Status == "" {
				return waorders.Errorf(waorders.CodeInvalid, "inbound %d status %d has no message id or status", i, j)
			}
		}
		for j, cw := range d.Changes {
			if cw.Change == nil || cw.Change.Key == "" || cw.Change.Field == "" {
				return waorders.Errorf(waorders.CodeInvalid, "inbound %d change %d has no key or field", i, j)
			}
		}
		for j, q := range d.Quarantine {
			if q == nil {
				return waorders.Errorf(waorders.CodeInvalid, "inbound %d quarantine entry %d is nil", i, j)
			}
		}
	}
	return nil
}

func validateOrder(messageID string, order *waorders.Order) error {
	if order.ID != "" && order.ID != messageID {
		return waorders.Errorf(waorders.CodeInvalid, "order %s does not have the id of its message %s", order.ID, messageID)
	}
	o := *order
	o.ID = messageID
	if o.Status != waorders.OrderNeedsReview {
		o.Status = waorders.OrderPending // what the drivers store
	}
	if err := o.Validate(); err != nil {
		return err
	}
	totals, err := waorders.ComputeTotals(o.Items)
	if err != nil {
		return waorders.Wrap(waorders.CodeInvalid, err, fmt.Sprintf("order %s: totals overflow", o.ID))
	}
	if len(o.Totals) > 0 && !slices.Equal(totals, o.Totals) {
		return waorders.Errorf(waorders.CodeInvalid, "order %s: totals %v are not the sum of its items %v", o.ID, o.Totals, totals)
	}
	return nil
}

// Validate reports a CodeInvalid error for a filter no driver can run: an
// unknown Status. (A malformed Cursor is reported when it is decoded.)
// Both drivers check a filter with it before reading.
func (p ListOrdersParams) Validate() error {
	if p.Currency != "" && !money.Known(p.Currency) {
		return waorders.Errorf(waorders.CodeInvalid, "currency %q is not an ISO 4217 code we know", clip(p.Currency))
	}
	if p.Status != "" {
		return checkStatus(p.Status)
	}
	return nil
}

// Validate reports a CodeInvalid error for an unknown target status. Both
// drivers check the change with it before reading the order.
func (p UpdateOrderStatusParams) Validate() error { return checkStatus(p.To) }

func checkStatus(s waorders.OrderStatus) error {
	if s.Valid() {
		return nil
	}
	names := make([]string, len(waorders.OrderStatuses))
	for i, v := range waorders.OrderStatuses {
		names[i] = string(v)
	}
	return waorders.Errorf(waorders.CodeInvalid, "unknown order status %q; use one of %s", s, strings.Join(names, ", "))
}
