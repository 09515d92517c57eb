package ui

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// The overview's fakes: each embeds its area (nil) and answers only what
// the overview asks, recording it.
type fakeReports struct {
	store.Reports
	asked []store.CampaignReportParams
}

func (f *fakeReports) CampaignReport(_ context.Context, p store.CampaignReportParams) ([]waorders.CampaignRow, error) {
	f.asked = append(f.asked, p)
	return nil, nil
}

type fakeOrders struct{ store.Orders }

func (fakeOrders) ListOrders(context.Context, store.ListOrdersParams) (*store.OrderPage, error) {
	return &store.OrderPage{}, nil
}

type fakeQuarantine struct{ store.Quarantine }

func (fakeQuarantine) ListQuarantine(context.Context, store.ListQuarantineParams) (*store.QuarantinePage, error) {
	return &store.QuarantinePage{}, nil
}

type fakeMessages struct{ store.Messages }

func (fakeMessages) ListMessages(context.Context, store.ListMessagesParams) (*store.MessagePage, error) {
	return &store.MessagePage{Messages: []*waorders.Message{}}, nil
}

// TestOverviewBusinessDay: today and the last 7 days start at midnight in
// the business time zone, not UTC's.
func TestOverviewBusinessDay(t *testing.T) {
	t.Parallel()
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	now := time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC) // 01:30 on the 6th in India
	rep := &fakeReports{}
	h, err := New(Config{Reports: rep, Orders: fakeOrders{}, Quarantine: fakeQuarantine{}, Messages: fakeMessages{},
		Location: ist, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/ui/", nil)
	req = req.WithContext(withSession(req.Context(), &session{user: &store.User{Username: "u", Role: store.RoleViewer}}))
	if err := h.Overview(rec, req); err != nil {
		t.Fatal(err)
	}
	if len(rep.asked) != 2 {
		t.Fatalf("overview asked %d reports", len(rep.asked))
	}
	today := time.Date(2026, 12, 6, 0, 0, 0, 0, ist)
	if !rep.asked[0].Since.Equal(today) || !rep.asked[1].Since.Equal(today.AddDate(0, 0, -6)) {
		t.Errorf("overview periods start %v and %v; want %v and 6 days before", rep.asked[0].Since, rep.asked[1].Since, today)
	}
	if !strings.Contains(rec.Body.String(), "Today (Asia/Kolkata)") {
		t.Errorf("overview does not name the business time zone")
	}
}
