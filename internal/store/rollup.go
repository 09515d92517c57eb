package store

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/money"
)

// Day is one UTC day; the campaign rollup of both drivers keeps its figures
// per day so that a report over whole days never reads the orders.
const Day = 24 * time.Hour

// Groupings are the campaign references a report may group by, in the order
// the rollup is kept.
var Groupings = [3]string{"ref", "ref1", "ref2"}

// RollupKey is one row of the campaign rollup: a grouping ("ref", "ref1" or
// "ref2"), its campaign value, a UTC day and a currency. The row with
// Currency "" carries the order count, units and first and last order
// times; a row per currency carries the revenue in it. An order in several
// currencies is thus counted once.
type RollupKey struct {
	Grouping string
	Campaign string
	Day      time.Time
	Currency string
}

// RollupDelta is what a batch of new orders adds to one rollup row.
type RollupDelta struct {
	Orders, Units int64
	Revenue       int64
	First, Last   time.Time
}

// Rollup gathers the rollup changes of a batch of new orders, so that a
// driver upserts each touched row once per batch.
type Rollup map[RollupKey]*RollupDelta

// AddOrder adds a newly stored order with its totals (one per currency).
// Orders written again (duplicates) must not be added.
func (r Rollup) AddOrder(o *waorders.Order, totals []money.Amount) {
	at := o.OrderedAt.UTC().Truncate(time.Microsecond) // as stored
	day := at.Truncate(Day)
	refs := [3]string{o.Campaign.Ref, o.Campaign.Ref1, o.Campaign.Ref2}
	for i, g := range Groupings {
		r.add(RollupKey{Grouping: g, Campaign: refs[i], Day: day}, RollupDelta{Orders: 1, Units: o.Units(), First: at, Last: at})
		for _, t := range totals {
			r.add(RollupKey{Grouping: g, Campaign: refs[i], Day: day, Currency: t.Currency}, RollupDelta{Revenue: t.Minor, First: at, Last: at})
		}
	}
}

func (r Rollup) add(k RollupKey, d RollupDelta) {
	cur := r[k]
	if cur == nil {
		r[k] = &d
		return
	}
	cur.Merge(d)
}

// Merge adds d to the delta.
func (d *RollupDelta) Merge(o RollupDelta) {
	d.Orders += o.Orders
	d.Units += o.Units
	d.Revenue += o.Revenue
	if d.First.IsZero() || o.First.Before(d.First) {
		d.First = o.First
	}
	if o.Last.After(d.Last) {
		d.Last = o.Last
	}
}

// WholeDays splits the report window [since, until) (zero: unbounded) into
// the whole UTC days [from, to) the rollup answers and the partial edges
// the orders must answer: head is [since, from) and tail is [to, until);
// an empty edge has its start equal to its end. ok is false when the window
// holds no whole day; the orders then answer all of it.
func WholeDays(since, until time.Time) (from, to time.Time, ok bool) {
	from, to = since, until
	if !since.IsZero() {
		from = since.UTC().Truncate(Day)
		if from.Before(since) {
			from = from.Add(Day)
		}
	}
	if !until.IsZero() {
		to = until.UTC().Truncate(Day)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return time.Time{}, time.Time{}, false
	}
	return from, to, true
}

// CampaignAcc merges partial campaign figures (rollup rows, edge orders)
// into the rows of a report.
type CampaignAcc struct {
	daily    bool
	byStatus bool
	loc      *time.Location
	rows     map[campaignKey]*campaignAcc
}

type campaignKey struct {
	campaign string
	bucket   time.Time
}

type campaignAcc struct {
	row      waorders.CampaignRow
	revenue  money.Totals
	byStatus map[waorders.OrderStatus]*statusAcc
}

type statusAcc struct {
	orders, units int64
	revenue       money.Totals
}

// NewCampaignAcc returns an empty accumulator; daily buckets rows by UTC day.
func NewCampaignAcc(daily bool) *CampaignAcc {
	return &CampaignAcc{daily: daily, loc: time.UTC, rows: map[campaignKey]*campaignAcc{}}
}

// NewCampaignAccFor returns an empty accumulator for the report q: rows by
// day in q's location when q is daily, and figures per status when asked.
func NewCampaignAccFor(q CampaignReportParams) *CampaignAcc {
	return &CampaignAcc{daily: q.Interval == "day", byStatus: q.ByStatus, loc: q.loc(), rows: map[campaignKey]*campaignAcc{}}
}

// LocalDay returns the midnight, in loc, that starts the day of t in loc.
func LocalDay(t time.Time, loc *time.Location) time.Time {
	if loc == time.UTC {
		return t.UTC().Truncate(Day)
	}
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// AddOrder adds one order (read from the orders, not the rollup) with its
// status, units and time.
func (c *CampaignAcc) AddOrder(campaign string, status waorders.OrderStatus, at time.Time, units int64) {
	c.AddOrders(campaign, at, 1, units, at, at)
	if c.byStatus {
		s := c.get(campaign, at).status(status)
		s.orders++
		s.units += units
	}
}

// AddOrderRevenue adds revenue of an order in status (negative: a refund).
func (c *CampaignAcc) AddOrderRevenue(campaign string, status waorders.OrderStatus, at time.Time, amount money.Amount) error {
	if err := c.AddRevenue(campaign, at, amount); err != nil {
		return err
	}
	if c.byStatus {
		return c.get(campaign, at).status(status).revenue.Add(amount)
	}
	return nil
}

func (a *campaignAcc) status(s waorders.OrderStatus) *statusAcc {
	if a.byStatus == nil {
		a.byStatus = map[waorders.OrderStatus]*statusAcc{}
	}
	v := a.byStatus[s]
	if v == nil {
		v = &statusAcc{}
		a.byStatus[s] = v
	}
	return v
}

func (c *CampaignAcc) get(campaign string, at time.Time) *campaignAcc {
	k := campaignKey{campaign: campaign}
	if c.daily {
		k.bucket = LocalDay(at, c.loc)
	}
	a := c.rows[k]
	if a == nil {
		a = &campaignAcc{row: waorders.CampaignRow{Campaign: campaign, Bucket: k.bucket}}
		c.rows[k] = a
	}
	return a
}

// AddOrders adds orders (with their units and first and last order times)
// to the row of campaign in the bucket of day (any time in it).
func (c *CampaignAcc) AddOrders(campaign string, day time.Time, orders, units int64, first, last time.Time) {
	a := c.get(campaign, day)
	a.row.Orders += orders
	a.row.Units += units
	if a.row.FirstOrderAt.IsZero() || first.Before(a.row.FirstOrderAt) {
		a.row.FirstOrderAt = first.UTC()
	}
	if last.After(a.row.LastOrderAt) {
		a.row.LastOrderAt = last.UTC()
	}
}

// AddRevenue adds revenue to the row of campaign in the bucket of day.
func (c *CampaignAcc) AddRevenue(campaign string, day time.Time, amount money.Amount) error {
	return c.get(campaign, day).revenue.Add(amount)
}

// Rows returns the report: sorted by bucket, then campaign (byte order),
// revenue sorted by currency code.
func (c *CampaignAcc) Rows() []waorders.CampaignRow {
	out := make([]waorders.CampaignRow, 0, len(c.rows))
	byCode := func(x, y money.Amount) int { return strings.Compare(x.Currency, y.Currency) }
	for _, a := range c.rows {
		a.row.Revenue = slices.SortedFunc(slices.Values(a.revenue.List()), byCode)
		if c.byStatus {
			a.row.ByStatus = []waorders.StatusFigures{}
			for _, st := range waorders.OrderStatuses {
				if s := a.byStatus[st]; s != nil {
					a.row.ByStatus = append(a.row.ByStatus, waorders.StatusFigures{Status: st, Orders: s.orders, Units: s.units,
						Revenue: slices.SortedFunc(slices.Values(s.revenue.List()), byCode)})
				}
			}
		}
		out = append(out, a.row)
	}
	slices.SortFunc(out, func(x, y waorders.CampaignRow) int {
		return cmp.Or(x.Bucket.Compare(y.Bucket), strings.Compare(x.Campaign, y.Campaign))
	})
	return out
}
