package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// CampaignReport serves GET /v1/reports/campaigns: orders, units and
// revenue per campaign reference, optionally per day of the business time
// zone, for the orders in the statuses asked (status, repeatable or a
// comma list; default all but canceled), optionally per status.
func (h *Handler) CampaignReport(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	statuses := r.URL.Query()["status"]
	q.OnlyRepeating([]string{"status"}, "group_by", "since", "until", "interval", "status", "by_status")
	loc := h.location()
	cq := store.CampaignReportParams{
		GroupBy:  q.OneOf("group_by", "ref1", "ref", "ref1", "ref2"),
		Since:    q.TimeIn("since", loc),
		Until:    q.TimeIn("until", loc),
		Interval: q.OneOf("interval", "", "day"),
		ByStatus: q.Bool("by_status"),
		Location: loc,
	}
	for _, v := range statuses {
		for _, name := range strings.Split(v, ",") {
			st := waorders.OrderStatus(strings.TrimSpace(name))
			switch {
			case st == "":
				q.Fail("status is empty: give order statuses, e.g. status=completed,refunded")
			case st == waorders.OrderNeedsReview:
				q.Fail("orders in needs_review never count in a report; review them first")
			case !st.Valid():
				q.Fail("status=%q is not an order status; use one of %s", httpx.Clip(string(st), 40), statusList())
			}
			cq.Statuses = append(cq.Statuses, st)
		}
	}
	q.CheckRange(cq.Since, cq.Until)
	if err := q.Err(); err != nil {
		return err
	}
	rows, err := h.Reports.CampaignReport(r.Context(), cq)
	if err != nil {
		return err
	}
	used, _ := cq.ReportStatuses()
	out := wire.CampaignReport{GroupBy: cq.GroupBy, Interval: cq.Interval, TimeZone: loc.String(),
		Statuses: make([]string, len(used)), Campaigns: make([]wire.CampaignRow, len(rows))}
	for i, s := range used {
		out.Statuses[i] = string(s)
	}
	for i, row := range rows {
		out.Campaigns[i] = wire.NewCampaignRow(row, cq.Interval != "")
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// location is the business time zone, UTC unless configured.
func (h *Handler) location() *time.Location {
	if h.Location == nil {
		return time.UTC
	}
	return h.Location
}
