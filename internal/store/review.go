package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/money"
)

// Review actions.
const (
	ReviewCorrect = "correct" // fix lines; the order is pending once no unusable line is left
	ReviewAccept  = "accept"  // take the usable lines as the order; unusable lines stay, flagged, out of the totals
	ReviewReject  = "reject"  // cancel the order, with a reason
)

// ReviewOrderParams asks to resolve an order in needs_review.
type ReviewOrderParams struct {
	ID        string
	Action    string           // ReviewCorrect, ReviewAccept or ReviewReject
	Lines     []LineCorrection // ReviewCorrect: at least one
	Note      string           // ReviewReject: the reason (required)
	Actor     string
	At        time.Time
	IfVersion *int64
}

// LineCorrection replaces the quantity and unit price of one line (by
// its position in Order.Items, from 0). Price is decimal text exact in
// Currency ("500.00"); an empty Currency keeps the line's currency as
// received (upper-cased).
type LineCorrection struct {
	Index    int
	Quantity int64
	Price    string
	Currency string
}

// RefundOrderParams asks to record a refund.
type RefundOrderParams struct {
	ID        string
	Amounts   []money.Amount // one per currency, each > 0
	Reason    string
	Actor     string
	At        time.Time
	IfVersion *int64
}

// Validate reports a CodeInvalid error for a review no order could take.
func (p ReviewOrderParams) Validate() error {
	switch p.Action {
	case ReviewCorrect:
		if len(p.Lines) == 0 {
			return waorders.Errorf(waorders.CodeInvalid, "correct needs lines: [{\"index\": 1, \"quantity\": 1, \"price\": \"500.00\", \"currency\": \"INR\"}]")
		}
	case ReviewAccept:
		if len(p.Lines) > 0 {
			return waorders.Errorf(waorders.CodeInvalid, "accept takes no lines; use action correct to change lines")
		}
	case ReviewReject:
		if strings.TrimSpace(p.Note) == "" {
			return waorders.Errorf(waorders.CodeInvalid, "reject needs a reason in note")
		}
		if len(p.Lines) > 0 {
			return waorders.Errorf(waorders.CodeInvalid, "reject takes no lines")
		}
	default:
		return waorders.Errorf(waorders.CodeInvalid, "unknown review action %q; use correct, accept or reject", p.Action)
	}
	return nil
}

// Validate reports a CodeInvalid error for a refund no order could take.
func (p RefundOrderParams) Validate() error {
	if len(p.Amounts) == 0 {
		return waorders.Errorf(waorders.CodeInvalid, `a refund needs amounts: [{"currency": "INR", "amount": "500.00"}]`)
	}
	seen := map[string]bool{}
	for _, a := range p.Amounts {
		switch {
		case !money.Known(a.Currency):
			return waorders.Errorf(waorders.CodeInvalid, "refund currency %q is not an ISO 4217 code", a.Currency)
		case a.Minor <= 0:
			return waorders.Errorf(waorders.CodeInvalid, "refund amount %s is not positive", a)
		case seen[a.Currency]:
			return waorders.Errorf(waorders.CodeInvalid, "refund lists %s twice; give one amount per currency", a.Currency)
		}
		seen[a.Currency] = true
	}
	return nil
}

// CheckVersion returns CodePrecondition when ifVersion is set and is not
// the order's version.
func CheckVersion(id string, version int64, ifVersion *int64) error {
	if ifVersion != nil && *ifVersion != version {
		return waorders.Errorf(waorders.CodePrecondition,
			"order %s is at version %d, not %d; get the order again and retry with its current version", id, version, *ifVersion)
	}
	return nil
}

// ReviewResult is what a review changes: the order as it becomes (items,
// totals, status) and the history entry that records it.
type ReviewResult struct {
	Order *waorders.Order
	// Changed lists the positions of the lines the review rewrote.
	Changed []int
	Change  waorders.StatusChange
}

// ApplyReview applies p to o (read in the transaction, not changed) and
// returns the order as the review leaves it. Both drivers call it, then
// write what it returns. A correction records each line's original value
// in the history note (the texts as received also stay on the line).
func ApplyReview(o *waorders.Order, p ReviewOrderParams, at time.Time) (*ReviewResult, error) {
	if err := CheckVersion(o.ID, o.Version, p.IfVersion); err != nil {
		return nil, err
	}
	if o.Status != waorders.OrderNeedsReview {
		return nil, waorders.Errorf(waorders.CodeConflict, "order %s is %s; only an order in %s can be reviewed", o.ID, o.Status, waorders.OrderNeedsReview)
	}
	n := *o
	n.Items = slices.Clone(o.Items)
	res := &ReviewResult{Order: &n, Change: waorders.StatusChange{At: at, Actor: p.Actor, From: o.Status}}
	var notes []string
	switch p.Action {
	case ReviewReject:
		n.Status = waorders.OrderCanceled
		notes = append(notes, "rejected: "+p.Note)
	case ReviewAccept:
		usable := 0
		for _, it := range n.Items {
			if it.Usable() {
				usable++
			}
		}
		if usable == 0 {
			return nil, waorders.Errorf(waorders.CodeConflict, "order %s has no usable line to accept; correct a line or reject the order", o.ID)
		}
		n.Status = waorders.OrderPending
		notes = append(notes, fmt.Sprintf("accepted %d of %d lines", usable, len(n.Items)))
	case ReviewCorrect:
		for _, c := range p.Lines {
			if c.Index < 0 || c.Index >= len(n.Items) {
				return nil, waorders.Errorf(waorders.CodeInvalid, "line %d does not exist; the order has lines 0 to %d", c.Index, len(n.Items)-1)
			}
			if c.Quantity <= 0 {
				return nil, waorders.Errorf(waorders.CodeInvalid, "line %d: quantity %d is not positive", c.Index, c.Quantity)
			}
			it := n.Items[c.Index]
			cur := c.Currency
			if cur == "" {
				cur = strings.ToUpper(it.UnitPrice.Currency)
				if cur == "" {
					cur = strings.ToUpper(it.RawCurrency)
				}
			}
			if !money.Known(cur) {
				return nil, waorders.Errorf(waorders.CodeInvalid, "line %d: currency %q is not an ISO 4217 code (upper case)", c.Index, cur)
			}
			unit, err := money.Parse(c.Price, cur)
			if err != nil {
				return nil, waorders.Errorf(waorders.CodeInvalid, "line %d: price %q in %s: %v", c.Index, c.Price, cur, err)
			}
			if unit.Minor < 0 {
				return nil, waorders.Errorf(waorders.CodeInvalid, "line %d: price %s is negative", c.Index, unit)
			}
			line, err := unit.Mul(c.Quantity)
			if err != nil {
				return nil, waorders.Errorf(waorders.CodeInvalid, "line %d: quantity × price is out of range", c.Index)
			}
			notes = append(notes, fmt.Sprintf("line %d (%s) corrected from quantity %s, price %s to %d × %s",
				c.Index, it.ProductRetailerID, was(it.RawQuantity, strconv.FormatInt(it.Quantity, 10)),
				was(strings.TrimSpace(it.RawPrice+" "+it.RawCurrency), it.UnitPrice.String()), c.Quantity, unit))
			it.Quantity, it.UnitPrice, it.LineTotal, it.Problems = c.Quantity, unit, line, nil
			n.Items[c.Index] = it
			res.Changed = append(res.Changed, c.Index)
		}
		n.Status = waorders.OrderNeedsReview
		if !n.NeedsReview() {
			n.Status = waorders.OrderPending
		}
	}
	totals, err := waorders.ComputeTotals(n.Items)
	if err != nil {
		return nil, waorders.Wrap(waorders.CodeInvalid, err, "order totals")
	}
	n.Totals = totals
	n.Version = o.Version + 1
	if !n.Status.Counted() && n.Status != waorders.OrderNeedsReview && n.Status != waorders.OrderCanceled {
		return nil, fmt.Errorf("review left order %s in %s", o.ID, n.Status)
	}
	res.Change.To = n.Status
	res.Change.Note = strings.Join(notes, "; ")
	return res, nil
}

// was shows the value a line had as received, else as read.
func was(raw, read string) string {
	if raw != "" {
		return strconv.Quote(raw)
	}
	return read
}

// RefundResult is what a refund changes.
type RefundResult struct {
	Refunded []money.Amount // the order's refunded amounts after it, one per currency
	Change   waorders.StatusChange
}

// ApplyRefund checks a refund of p.Amounts against o (after completed;
// per currency at most what is left of the total: revenue never goes below
// zero) and returns the refunded amounts after it.
func ApplyRefund(o *waorders.Order, p RefundOrderParams, at time.Time) (*RefundResult, error) {
	if err := CheckVersion(o.ID, o.Version, p.IfVersion); err != nil {
		return nil, err
	}
	if !o.Status.CanRefund() {
		return nil, waorders.Errorf(waorders.CodeConflict, "order %s is %s; money can be refunded only after completed (completed, returned or refunded)", o.ID, o.Status)
	}
	left := map[string]int64{}
	for _, a := range o.Net() {
		left[a.Currency] = a.Minor
	}
	refunded := slices.Clone(o.Refunded)
	var parts []string
	for _, a := range p.Amounts {
		l, ok := left[a.Currency]
		if !ok {
			return nil, waorders.Errorf(waorders.CodeConflict, "order %s has no total in %s", o.ID, a.Currency)
		}
		if a.Minor > l {
			return nil, waorders.Errorf(waorders.CodeConflict, "refund of %s exceeds the %s left to refund", a, money.Amount{Currency: a.Currency, Minor: l})
		}
		i := slices.IndexFunc(refunded, func(r money.Amount) bool { return r.Currency == a.Currency })
		if i < 0 {
			refunded = append(refunded, a)
		} else {
			refunded[i].Minor += a.Minor
		}
		parts = append(parts, a.String())
	}
	note := "refunded " + strings.Join(parts, ", ")
	if p.Reason != "" {
		note += ": " + p.Reason
	}
	return &RefundResult{Refunded: refunded, Change: waorders.StatusChange{At: at, Actor: p.Actor, From: o.Status, To: waorders.OrderRefunded, Note: note}}, nil
}

// AddDelta adds to the rollup what moving order o (at its current totals)
// into (sign +1) or out of (sign -1) the counted orders changes. Units and
// revenue are those of o; first and last order times are o's time (a row
// keeps them as bounds: an order leaving it does not narrow them).
// With count false only the revenue changes (a refund).
func (r Rollup) AddDelta(o *waorders.Order, net []money.Amount, sign int64, count bool) {
	at := o.OrderedAt.UTC().Truncate(time.Microsecond)
	day := at.Truncate(Day)
	refs := [3]string{o.Campaign.Ref, o.Campaign.Ref1, o.Campaign.Ref2}
	for i, g := range Groupings {
		if count {
			r.add(RollupKey{Grouping: g, Campaign: refs[i], Day: day}, RollupDelta{Orders: sign, Units: sign * o.Units(), First: at, Last: at})
		}
		for _, t := range net {
			r.add(RollupKey{Grouping: g, Campaign: refs[i], Day: day, Currency: t.Currency}, RollupDelta{Revenue: sign * t.Minor, First: at, Last: at})
		}
	}
}

// InitialStatus is the status a new order is stored in: needs_review when
// it was built so (it has unusable lines), else pending.
func InitialStatus(o *waorders.Order) waorders.OrderStatus {
	if o.Status == waorders.OrderNeedsReview {
		return waorders.OrderNeedsReview
	}
	return waorders.OrderPending
}
