package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/testkit"
)

// customerOrders posts orders of two customers: 919900000007 (wide name,
// three orders in two currencies) and 919900000008.
func customerServer(t *testing.T) string {
	t.Helper()
	srv := newOrdersTestServer(t)
	for _, b := range [][]byte{
		testkit.Kaleyra(testkit.Order("wamid.C1").From("919900000007").Name("山田 太郎 🎉").At(cliT0).Item("SKU-TEA", 2, "500", "JPY")).Bytes(),
		testkit.Kaleyra(testkit.Order("wamid.C2").From("919900000007").Name("山田 太郎 🎉").At(cliT0.Add(time.Hour)).Item("SKU-MUG", 1, "12.50", "USD")).Bytes(),
		testkit.Kaleyra(testkit.Order("wamid.C3").From("919900000007").Name("山田 太郎 🎉").At(cliT0.Add(2*time.Hour)).Item("SKU-POT", 1, "3000", "JPY")).Bytes(),
		testkit.Kaleyra(testkit.Order("wamid.OTHER").From("919900000008").Name("Other").At(cliT0).Item("SKU-TEA", 1, "500", "JPY")).Bytes(),
	} {
		if status, answer := postCallback(t, srv, b); status != http.StatusOK {
			t.Fatalf("post: %d %s", status, answer)
		}
	}
	return srv
}

func TestCustomersShow(t *testing.T) {
	t.Parallel()
	srv := customerServer(t)
	out, _, err := runCLI(t, srv, nil, "customers", "show", "919900000007", "--limit", "2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Identifier:", "wa_id 919900000007", "Name:", "山田 太郎 🎉", "Orders:", "3",
		"First order:", "2026-01-05 10:00:00 UTC", "Last order:", "2026-01-05 12:00:00 UTC",
		"Spend:", "JPY 4000", "USD 12.50", "wamid.C3", "wamid.C2", "more: waorders customers orders 919900000007"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "wamid.C1") || strings.Contains(out, "wamid.OTHER") {
		t.Errorf("show lists orders past --limit or of another customer:\n%s", out)
	}
	out, _, err = runCLI(t, srv, nil, "customers", "show", "--json", "919900000007")
	var sum struct {
		WaID       string `json:"wa_id"`
		OrderCount int    `json:"order_count"`
	}
	if err != nil || json.Unmarshal([]byte(out), &sum) != nil || sum.WaID != "919900000007" || sum.OrderCount != 3 {
		t.Errorf("show --json (%v): %s", err, out)
	}
	var ae *apiError
	if _, _, err := runCLI(t, srv, nil, "customers", "show", "910000000000"); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("unknown customer: %v", err)
	}
	for _, args := range [][]string{{"customers", "show"}, {"customers", "show", "a", "b"}, {"customers"}, {"customers", "delete", "x"}} {
		if _, _, err := runCLI(t, srv, nil, args...); !errors.Is(err, ErrUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestCustomersOrders(t *testing.T) {
	t.Parallel()
	srv := customerServer(t)
	out, _, err := runCLI(t, srv, nil, "customers", "orders", "919900000007", "--limit", "2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "wamid.C3") || !strings.Contains(out, "wamid.C2") || strings.Contains(out, "wamid.C1") || !strings.Contains(out, "more: add --cursor ") {
		t.Fatalf("first page:\n%s", out)
	}
	cursor := strings.TrimSpace(out[strings.Index(out, "--cursor ")+len("--cursor "):])
	out, _, err = runCLI(t, srv, nil, "customers", "orders", "919900000007", "--limit", "2", "--cursor", cursor)
	if err != nil || !strings.Contains(out, "wamid.C1") || strings.Contains(out, "wamid.C2") || strings.Contains(out, "more:") {
		t.Errorf("second page (%v):\n%s", err, out)
	}
	out, _, err = runCLI(t, srv, nil, "customers", "orders", "--json", "919900000008")
	var page struct {
		Orders []struct {
			ID string `json:"id"`
		} `json:"orders"`
	}
	if err != nil || json.Unmarshal([]byte(out), &page) != nil || len(page.Orders) != 1 || page.Orders[0].ID != "wamid.OTHER" {
		t.Errorf("orders --json (%v): %s", err, out)
	}
	var ae *apiError
	if _, _, err := runCLI(t, srv, nil, "customers", "orders", "910000000000"); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("unknown customer: %v, want 404 rather than an empty list", err)
	}
}

func TestCustomersExport(t *testing.T) {
	t.Parallel()
	srv := customerServer(t)
	file := filepath.Join(t.TempDir(), "c.csv")
	if _, _, err := runCLI(t, srv, nil, "customers", "export", "919900000007", "--output", file, "--quiet"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("rows %q, want a header and the customer's 3 orders", rows)
	}
	for _, r := range rows[1:] {
		if r[0] == "wamid.OTHER" {
			t.Errorf("export holds another customer's order: %q", r)
		}
	}
	out, _, err := runCLI(t, srv, nil, "customers", "export", "--format", "ndjson", "919900000008")
	if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, "wamid.OTHER") {
		t.Errorf("ndjson export (%v): %q", err, out)
	}
}
