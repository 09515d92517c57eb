package waorders

import (
	"time"

	"github.com/waorders/waorders/money"
)

// The kinds of customer identifier.
const (
	IDWa       = "wa_id"          // the phone-based id (wa_id, from)
	IDUser     = "user_id"        // the business-scoped user id (BSUID)
	IDParent   = "parent_user_id" // the parent BSUID
	IDUsername = "username"       // the WhatsApp username
)

// CustomerID is one identifier of a customer: its kind (IDWa, IDUser,
// IDParent or IDUsername) and value.
type CustomerID struct {
	Kind  string
	Value string
}

// CustomerSummary is what waorders knows of one customer: every identifier
// it was seen with (a customer is the set of identifiers that messages
// showed together), its names, and its orders over the whole set.
type CustomerSummary struct {
	// ID is the customer's stable key: its oldest BSUID, else its phone-based
	// id, else its parent BSUID, else its username.
	ID           string
	WaID         string // the newest phone-based id, if any
	UserID       string // the newest BSUID, if any
	ParentUserID string // the newest parent BSUID, if any
	Username     string // as last seen
	Name         string // as last seen
	Identifiers  []CustomerID
	Names        []string // every non-empty name seen, newest first
	// MarketingPreference is the customer's last user_preferences value for
	// marketing messages ("stop", "resume"), "" if none was received.
	MarketingPreference string
	MessageCount        int64
	FirstOrderAt        time.Time
	LastOrderAt         time.Time
	OrderCount          int64
	Spend               []money.Amount // one per currency
}

// CampaignRow is one row of the campaign revenue report: the orders whose
// campaign reference (ref, ref1 or ref2) is Campaign ("" for none), within
// Bucket when the report has an interval.
type CampaignRow struct {
	Campaign     string
	Bucket       time.Time // start of the interval; zero without one
	Orders       int64
	Units        int64
	Revenue      []money.Amount // one per currency, never summed across; refunds subtracted
	FirstOrderAt time.Time
	LastOrderAt  time.Time
	// ByStatus splits the figures by order status, in lifecycle order, when
	// the report was asked for it.
	ByStatus []StatusFigures
}

// StatusFigures are the orders, units and revenue of one order status in
// a report row.
type StatusFigures struct {
	Status  OrderStatus
	Orders  int64
	Units   int64
	Revenue []money.Amount
}
