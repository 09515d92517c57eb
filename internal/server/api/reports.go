package api

import (
	"net/http"

	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// CampaignReport serves GET /v1/reports/campaigns: orders, units and
// revenue per campaign reference, optionally per day.
func (h *Handler) CampaignReport(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("group_by", "since", "until", "interval")
	cq := store.CampaignReportParams{
		GroupBy:  q.OneOf("group_by", "ref1", "ref", "ref1", "ref2"),
		Since:    q.Time("since"),
		Until:    q.Time("until"),
		Interval: q.OneOf("interval", "", "day"),
	}
	q.CheckRange(cq.Since, cq.Until)
	if err := q.Err(); err != nil {
		return err
	}
	rows, err := h.Reports.CampaignReport(r.Context(), cq)
	if err != nil {
		return err
	}
	out := wire.CampaignReport{GroupBy: cq.GroupBy, Interval: cq.Interval, Campaigns: make([]wire.CampaignRow, len(rows))}
	for i, row := range rows {
		out.Campaigns[i] = wire.NewCampaignRow(row, cq.Interval != "")
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
