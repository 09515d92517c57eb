package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/waorders/waorders"
)

// Reports summarises orders per campaign (a customer's summary is in the
// customers area, Customers.GetCustomer).
type Reports interface {
	// CampaignReport groups orders by a campaign reference.
	CampaignReport(ctx context.Context, p CampaignReportParams) ([]waorders.CampaignRow, error)
}

// CampaignReportParams asks for campaign revenue.
type CampaignReportParams struct {
	GroupBy  string // "ref", "ref1" or "ref2"
	Since    time.Time
	Until    time.Time // exclusive
	Interval string    // "" or "day"
	// Statuses selects the orders counted; empty means every status that
	// counts in revenue (all but canceled; needs_review never counts).
	Statuses []waorders.OrderStatus
	// ByStatus adds each row's figures per status (CampaignRow.ByStatus).
	ByStatus bool
	// Location sets the day boundaries of Interval "day" (the business
	// time zone); nil is UTC.
	Location *time.Location
}

// CountedStatuses are the statuses a report counts by default: every
// status that counts in revenue.
func CountedStatuses() []waorders.OrderStatus {
	var out []waorders.OrderStatus
	for _, s := range waorders.OrderStatuses {
		if s.Counted() {
			out = append(out, s)
		}
	}
	return out
}

// ReportStatuses returns the statuses the report counts, sorted in
// lifecycle order, and whether they are the default set (which the
// campaign rollup answers).
func (q CampaignReportParams) ReportStatuses() ([]waorders.OrderStatus, bool) {
	if len(q.Statuses) == 0 {
		return CountedStatuses(), true
	}
	var out []waorders.OrderStatus
	for _, s := range waorders.OrderStatuses {
		if slices.Contains(q.Statuses, s) {
			out = append(out, s)
		}
	}
	return out, slices.Equal(out, CountedStatuses())
}

// FromRollup reports whether the rollup may answer the whole days of the
// report: the default statuses, no figures per status, and days that are
// UTC days (the rollup's) when split by day.
func (q CampaignReportParams) FromRollup() bool {
	_, def := q.ReportStatuses()
	return def && !q.ByStatus && (q.Interval == "" || q.loc() == time.UTC)
}

func (q CampaignReportParams) loc() *time.Location {
	if q.Location == nil {
		return time.UTC
	}
	return q.Location
}

// Validate reports a CodeInvalid error for a grouping or interval the
// report does not know; drivers check a query with it before reading.
func (q CampaignReportParams) Validate() error {
	switch q.GroupBy {
	case "ref", "ref1", "ref2":
	default:
		return waorders.Errorf(waorders.CodeInvalid, "cannot group campaigns by %q; use ref, ref1 or ref2", q.GroupBy)
	}
	switch q.Interval {
	case "", "day":
	default:
		return waorders.Errorf(waorders.CodeInvalid, "unknown report interval %q; use day or leave it empty", q.Interval)
	}
	for _, s := range q.Statuses {
		switch {
		case s == waorders.OrderNeedsReview:
			return waorders.Errorf(waorders.CodeInvalid, "orders in needs_review never count in a report; review them first")
		case !s.Valid():
			return waorders.Errorf(waorders.CodeInvalid, "unknown order status %q in a report; use %s", s, statusNames(CountedStatuses(), waorders.OrderCanceled))
		}
	}
	return nil
}

func statusNames(ss []waorders.OrderStatus, more ...waorders.OrderStatus) string {
	var parts []string
	for _, s := range append(slices.Clone(ss), more...) {
		parts = append(parts, string(s))
	}
	return strings.Join(parts, ", ")
}
