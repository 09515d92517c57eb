package store

import (
	"context"
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
	return nil
}
