package waorders

import (
	"time"

	"github.com/waorders/waorders/money"
)

// CustomerSummary is what waorders knows of one customer's orders.
type CustomerSummary struct {
	WaID         string
	Name         string // as last seen
	FirstOrderAt time.Time
	LastOrderAt  time.Time
	OrderCount   int64
	Spend        []money.Amount // one per currency
}

// CampaignRow is one row of the campaign revenue report: the orders whose
// campaign reference (ref, ref1 or ref2) is Campaign ("" for none), within
// Bucket when the report has an interval.
type CampaignRow struct {
	Campaign     string
	Bucket       time.Time // start of the interval; zero without one
	Orders       int64
	Units        int64
	Revenue      []money.Amount // one per currency, never summed across
	FirstOrderAt time.Time
	LastOrderAt  time.Time
}
