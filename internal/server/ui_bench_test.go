package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/password"
	"github.com/waorders/waorders/internal/server/ui"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/testkit"
)

// The dashboard's benchmarks render its two busiest pages over the
// benchmark database of bench_test.go (-seed-orders, default 20,000; the
// figures in bench/README.md are at 1,000,000):
//
//	go test ./internal/server -run '^$' -bench UI -benchtime 2000x -seed-orders=1000000
//
// They report server time per page as p50/p95/p99 from per-iteration
// durations (no time is asserted) and the page's size.

// uiBenchCookie logs a benchmark user in by creating its session in the
// store (a login would cost an Argon2id hash per run).
func uiBenchCookie(b *testing.B) string {
	b.Helper()
	benchServer(b)
	ctx := context.Background()
	u, err := benchStore.GetUser(ctx, "bench")
	if waorders.ErrorCode(err) == waorders.CodeNotFound {
		u, err = benchStore.CreateUser(ctx, store.CreateUserParams{Username: "bench", Role: store.RoleStaff, PasswordHash: password.Hash("bench password, not secret")})
	}
	if err != nil {
		b.Fatalf("bench user: %v", err)
	}
	token := fmt.Sprintf("bench-session-%d", time.Now().UnixNano())
	if err := benchStore.CreateSession(ctx, store.Session{ID: store.SessionID(token), UserID: u.ID,
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		b.Fatalf("bench session: %v", err)
	}
	return ui.CookieName + "=" + token
}

func uiBenchGet(b *testing.B, h http.Handler, cookie, target string) *discardWriter {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Cookie", cookie)
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	if w.status != http.StatusOK {
		b.Fatalf("GET %s: status %d", target, w.status)
	}
	return w
}

// BenchmarkUIOrdersPage renders /ui/orders with 50 rows: the first page,
// a campaign's first and second page, a status filter, and a text search.
func BenchmarkUIOrdersPage(b *testing.B) {
	h := benchServer(b)
	cookie := uiBenchCookie(b)
	next := regexp.MustCompile(`href="(/ui/orders\?[^"]*cursor=[^"]*)" rel="next"`)
	for _, bc := range []struct{ name, target string }{
		{"first", "/ui/orders"},
		{"campaign", "/ui/orders?ref1=campaign-%02d"},
		{"campaign-page2", "/ui/orders?ref1=campaign-%02d"},
		{"status", "/ui/orders?status=pending"},
		{"search", "/ui/orders?q=Customer+%d"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			targets := make([]string, 0, benchCampaigns)
			for c := range benchCampaigns {
				t := bc.target
				if strings.Contains(t, "%") {
					t = fmt.Sprintf(t, c*7%benchCampaigns)
				}
				if bc.name == "campaign-page2" {
					rec := httptest.NewRecorder()
					req := httptest.NewRequest(http.MethodGet, t, nil)
					req.Header.Set("Cookie", cookie)
					h.ServeHTTP(rec, req)
					m := next.FindStringSubmatch(rec.Body.String())
					if m == nil {
						b.Fatalf("%s has no next page", t)
					}
					t = strings.ReplaceAll(m[1], "&amp;", "&")
				}
				targets = append(targets, t)
			}
			lat := make([]time.Duration, 0, b.N)
			var size int64
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				w := uiBenchGet(b, h, cookie, targets[i%len(targets)])
				lat = append(lat, time.Since(start))
				size += w.n
			}
			reportLatency(b, lat)
			b.ReportMetric(float64(size)/float64(len(lat))/1024, "KB/page")
		})
	}
}

// BenchmarkUIOrderPage renders /ui/orders/{id} of orders spread over the
// whole database.
func BenchmarkUIOrderPage(b *testing.B) {
	h := benchServer(b)
	cookie := uiBenchCookie(b)
	lat := make([]time.Duration, 0, b.N)
	var size int64
	for i := 0; b.Loop(); i++ {
		id := benchOrderID((i * 7919) % *seedOrders)
		start := time.Now()
		w := uiBenchGet(b, h, cookie, "/ui/orders/"+id)
		lat = append(lat, time.Since(start))
		size += w.n
	}
	reportLatency(b, lat)
	b.ReportMetric(float64(size)/float64(len(lat))/1024, "KB/page")
}

// pageWeightBudget is issue 16's goal for the orders page: HTML, CSS and
// JS uncompressed, assets included. A size, so a test may hold it.
const pageWeightBudget = 60 << 10

// TestUIPageWeight renders /ui/orders with 50 orders of long names and
// two currencies, and adds up the page and every asset it links.
func TestUIPageWeight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := time.Now().Add(-time.Hour)
	for i := range 60 {
		cur := "INR"
		if i%4 == 0 {
			cur = "USD"
		}
		b.post(t, testkit.Kaleyra(testkit.Order(fmt.Sprintf("wamid.weight-%03d", i)).
			From(fmt.Sprintf("9198%08d", i)).Name(fmt.Sprintf("Customer with a rather long name %03d", i)).
			At(at.Add(time.Duration(i)*time.Second)).
			Item("SKU-1", 2, "1600.00", cur).Item("SKU-2", 1, "2000.00", cur)).Refs("diwali-sale-2026", "banner", "home"))
	}
	u := uiLogin(t, b, "weigher", store.RoleStaff)
	page := uiGet(t, b, u, "/ui/orders", http.StatusOK)
	if rows := strings.Count(string(page.body), "<tr data-href="); rows != 50 {
		t.Fatalf("orders page has %d rows; want 50", rows)
	}
	total := len(page.body)
	parts := []string{fmt.Sprintf("HTML %d", len(page.body))}
	for _, m := range regexp.MustCompile(`(?:href|src)="(/ui/static/[^"]+)"`).FindAllStringSubmatch(string(page.body), -1) {
		a := uiGet(t, b, u, m[1], http.StatusOK)
		total += len(a.body)
		parts = append(parts, fmt.Sprintf("%s %d", m[1], len(a.body)))
	}
	t.Logf("orders page with 50 rows: %d bytes (%.1f KB) uncompressed: %s", total, float64(total)/1024, strings.Join(parts, ", "))
	if total > pageWeightBudget {
		t.Errorf("orders page weighs %d bytes; the budget is %d", total, pageWeightBudget)
	}
}
