package server_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waorders/waorders/internal/testkit"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedNow is the receipt time of every callback of the golden tests.
var fixedNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// goldenOrders cover the CSV edge cases: several items, two currencies in
// one order, decimals, and customer text meant to attack a spreadsheet.
func goldenOrders() []*testkit.Body {
	return []*testkit.Body{
		testkit.Kaleyra(testkit.Order("wamid.G1").At(t0).From("919900000001").Name("Test Buyer One").
			OrderText("Please deliver after 6pm").Item("SKU-SHIRT-M", 2, "1600", "INR").Item("SKU-PANT-32", 1, "2000", "INR")).
			Refs("cart-campaign-0001", "catalog-send-0001", "").TraceID("trace-G1"),
		testkit.Kaleyra(testkit.Order("wamid.G2").At(t0.Add(time.Minute)).From("15550000099").Name(`=HYPERLINK("http://evil.example","click")`).
			OrderText("+SUM(A1:A9)\nsecond line, with a comma and \"quotes\"").Item("=1+1", 3, "16.99", "USD").Item("coaster-set", 1, "7.5", "USD")).
			Refs("", "-10", "@cmd").TraceID("trace-G2"),
		testkit.Kaleyra(testkit.Order("wamid.G3").At(t0.Add(2*time.Minute)).From("491700000003").Name("\tTabbed").
			OrderText("\rcarriage").Item("SKU-MUG", 1, "1600", "INR").Item("SKU-CUP", 1, "7.50", "USD").Item("SKU-JPY", 2, "500", "JPY")).
			TraceID("trace-G3"),
	}
}

func newGoldenBundle(t *testing.T) *bundle {
	t.Helper()
	b := setup(t, clock(func() time.Time { return fixedNow }))
	b.post(t, goldenOrders()...)
	if r := b.api(t, http.MethodPost, "/v1/orders/wamid.G1/status", map[string]string{"status": "processing"}); r.status != http.StatusOK {
		t.Fatalf("move G1: %s", r)
	}
	return b
}

func TestExportGolden(t *testing.T) {
	t.Parallel()
	b := newGoldenBundle(t)
	tests := []struct {
		query, contentType, golden string
	}{
		{"format=csv", "text/csv; charset=utf-8", "export.csv"},
		{"format=csv&rows=order", "text/csv; charset=utf-8", "export_orders.csv"},
		{"format=csv&excel=true", "text/csv; charset=utf-8", "export_excel.csv"},
		{"format=csv&rows=order&excel=true", "text/csv; charset=utf-8", "export_orders_excel.csv"},
		{"format=ndjson", "application/x-ndjson; charset=utf-8", "export.ndjson"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := b.api(t, http.MethodGet, "/v1/orders/export?"+tt.query, nil)
			if r.status != http.StatusOK {
				t.Fatalf("export: %s", r)
			}
			if got := r.header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="waorders-orders-`) ||
				!strings.HasSuffix(cd, filepath.Ext(tt.golden)+`"`) {
				t.Errorf("Content-Disposition %q", cd)
			}
			checkGolden(t, filepath.Join("testdata", tt.golden), r.body)
		})
	}
	// Without a format, CSV.
	if r := b.api(t, http.MethodGet, "/v1/orders/export", nil); !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("default format: %s", r.header.Get("Content-Type"))
	}
}

// checkGolden compares got with the file, or rewrites it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

func TestExportCSVFormulaInjection(t *testing.T) {
	t.Parallel()
	b := newGoldenBundle(t)
	r := b.api(t, http.MethodGet, "/v1/orders/export?format=csv", nil)
	cells := csvCells(t, r.body, "item_index")
	tests := []struct {
		row, column, want string
	}{
		{"wamid.G2#1", "customer_name", `'=HYPERLINK("http://evil.example","click")`},
		{"wamid.G2#1", "order_text", "'+SUM(A1:A9)\nsecond line, with a comma and \"quotes\""},
		{"wamid.G2#1", "ref1", "'-10"},
		{"wamid.G2#1", "ref2", "'@cmd"},
		{"wamid.G2#1", "product_retailer_id", "'=1+1"},
		{"wamid.G2#2", "customer_name", `'=HYPERLINK("http://evil.example","click")`}, // repeated on every item
		{"wamid.G3#1", "customer_name", "'\tTabbed"},
		{"wamid.G3#1", "order_text", "'\rcarriage"},
		{"wamid.G1#1", "customer_name", "Test Buyer One"}, // harmless text untouched
		{"wamid.G1#1", "order_totals", "INR 5200.00"},
		{"wamid.G3#1", "order_totals", "INR 1600.00; USD 7.50; JPY 1000"},
		{"wamid.G3#3", "order_totals", ""}, // on the order's first row only
		{"wamid.G2#1", "unit_price", "16.99"},
		{"wamid.G2#1", "line_total", "50.97"},
		{"wamid.G2#2", "unit_price", "7.50"},
		{"wamid.G3#3", "currency", "JPY"},
	}
	for _, tt := range tests {
		got, ok := cells[tt.row][tt.column]
		if !ok {
			t.Errorf("no cell %s %s", tt.row, tt.column)
			continue
		}
		if got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.row, tt.column, got, tt.want)
		}
	}
}

// csvCells reads a CSV export into order id + "#" + the cell of column
// sub (when sub is not "") → column name → cell.
func csvCells(t *testing.T, body []byte, sub string) map[string]map[string]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v", err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	cells := map[string]map[string]string{}
	for _, row := range rows[1:] {
		m := map[string]string{}
		for name, i := range col {
			m[name] = row[i]
		}
		key := row[col["order_id"]]
		if sub != "" {
			key += "#" + row[col[sub]]
		}
		if _, dup := cells[key]; dup {
			t.Fatalf("two rows for %s", key)
		}
		cells[key] = m
	}
	return cells
}

// TestExportCSVSums: a SUM() over any numeric column of either layout
// counts each order once, which the order-level columns repeated on
// every item row used to break.
func TestExportCSVSums(t *testing.T) {
	t.Parallel()
	b := newGoldenBundle(t)
	const wantUnits = 3 + 4 + 4 // G1, G2, G3
	sum := func(body []byte, column string) (total float64, rows int) {
		t.Helper()
		recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		i := slices.Index(recs[0], column)
		if i < 0 {
			t.Fatalf("no column %s in %v", column, recs[0])
		}
		for _, rec := range recs[1:] {
			if rec[i] == "" {
				continue
			}
			f, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				t.Fatalf("%s cell %q is not a number", column, rec[i])
			}
			total += f
		}
		return total, len(recs) - 1
	}
	items := b.api(t, http.MethodGet, "/v1/orders/export", nil).body
	if got, n := sum(items, "order_units"); got != wantUnits || n != 7 {
		t.Errorf("rows=item: SUM(order_units) = %v over %d rows, want %d over 7", got, n, wantUnits)
	}
	if got, _ := sum(items, "quantity"); got != wantUnits {
		t.Errorf("rows=item: SUM(quantity) = %v, want %d", got, wantUnits)
	}
	orders := b.api(t, http.MethodGet, "/v1/orders/export?rows=order", nil).body
	if got, n := sum(orders, "order_units"); got != wantUnits || n != 3 {
		t.Errorf("rows=order: SUM(order_units) = %v over %d rows, want %d over 3", got, n, wantUnits)
	}
	if got, _ := sum(orders, "item_count"); got != 7 {
		t.Errorf("rows=order: SUM(item_count) = %v, want 7", got)
	}
	cells := csvCells(t, orders, "")
	for id, want := range map[string][3]string{
		"wamid.G1": {"INR", "5200.00", "INR 5200.00"},
		"wamid.G2": {"USD", "58.47", "USD 58.47"},
		"wamid.G3": {"", "", "INR 1600.00; USD 7.50; JPY 1000"}, // several currencies: no single total
	} {
		c := cells[id]
		if got := [3]string{c["currency"], c["total"], c["order_totals"]}; got != want {
			t.Errorf("rows=order %s: currency, total, order_totals = %q, want %q", id, got, want)
		}
	}
}

// TestExportCSVExcel: excel=true adds the byte order mark and writes
// identifiers as ="…" so Excel keeps every digit; other text stays guarded.
func TestExportCSVExcel(t *testing.T) {
	t.Parallel()
	b := newGoldenBundle(t)
	for _, query := range []string{"excel=true", "excel=true&rows=order"} {
		r := b.api(t, http.MethodGet, "/v1/orders/export?"+query, nil)
		if !bytes.HasPrefix(r.body, []byte("\ufefforder_id,")) {
			t.Fatalf("%s: no byte order mark before the header: %.40q", query, r.body)
		}
		key := `="wamid.G2"` // order_id is an identifier too
		if !strings.Contains(query, "rows=order") {
			key += "#1"
			if got := csvCells(t, r.body, "item_index")[key]["product_retailer_id"]; got != `="=1+1"` {
				t.Errorf("%s: product_retailer_id %q, want the string constant", query, got)
			}
		}
		c := csvCells(t, r.body, map[bool]string{true: "", false: "item_index"}[strings.Contains(query, "rows=order")])[key]
		for column, want := range map[string]string{
			"catalog_id":     `="1234567890123456"`,
			"customer_wa_id": `="15550000099"`,
			"waba_id":        `="200000000000001"`,
			"ref":            "", // empty stays empty
			"ref1":           `="-10"`,
			"customer_name":  `'=HYPERLINK("http://evil.example","click")`, // text: guarded as ever
			"ordered_at":     "2026-01-05T10:01:00Z",
		} {
			if c[column] != want {
				t.Errorf("%s: %s = %q, want %q", query, column, c[column], want)
			}
		}
	}
	if r := b.api(t, http.MethodGet, "/v1/orders/export?excel=false", nil); bytes.HasPrefix(r.body, []byte("\ufeff")) ||
		strings.Contains(string(r.body), `="`) {
		t.Errorf("excel=false: %.80q, want plain cells and no byte order mark", r.body)
	}
}

func TestExportFiltersAndErrors(t *testing.T) {
	t.Parallel()
	b := newGoldenBundle(t)
	tests := []struct {
		name, query string
		wantStatus  int
		wantIDs     []string // NDJSON order ids
	}{
		{"Status", "format=ndjson&status=processing", 200, []string{"wamid.G1"}},
		{"Ref1", "format=ndjson&ref1=-10", 200, []string{"wamid.G2"}},
		{"Product", "format=ndjson&product=SKU-CUP", 200, []string{"wamid.G3"}},
		{"Q", "format=ndjson&q=buyer", 200, []string{"wamid.G1"}},
		{"Since", "format=ndjson&since=" + t0.Add(time.Minute).Format(time.RFC3339), 200, []string{"wamid.G3", "wamid.G2"}},
		{"NothingMatches", "format=ndjson&customer=0", 200, []string{}},
		{"BadFormat", "format=xml", 400, nil},
		{"BadStatus", "format=csv&status=lost", 400, nil},
		{"BadSince", "since=tomorrow", 400, nil},
		{"PagingIsNotAFilter", "cursor=abc", 400, nil},
		{"BadRows", "rows=line", 400, nil},
		{"EmptyRows", "rows=", 400, nil},
		{"ExcelNotBoolean", "excel=1", 400, nil},
		{"EmptyFormat", "format=", 400, nil},
		{"RowsWithNDJSON", "format=ndjson&rows=order", 400, nil},
		{"ExcelWithNDJSON", "format=ndjson&excel=false", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.api(t, http.MethodGet, "/v1/orders/export?"+tt.query, nil)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantStatus != 200 {
				wantError(t, r, tt.wantStatus, "") // a JSON error, not a broken file
				return
			}
			if diff := cmp.Diff(tt.wantIDs, ndjsonIDs(t, r.body)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("EmptyCSVHasHeader", func(t *testing.T) {
		r := b.api(t, http.MethodGet, "/v1/orders/export?customer=0", nil)
		if lines := strings.Split(strings.TrimSpace(string(r.body)), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "order_id,") {
			t.Errorf("empty CSV export: %q", r.body)
		}
	})
	t.Run("Head", func(t *testing.T) {
		r := b.api(t, http.MethodHead, "/v1/orders/export?format=ndjson", nil)
		if r.status != 200 || len(r.body) != 0 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/x-ndjson") {
			t.Errorf("HEAD: %d %q %v", r.status, r.body, r.header)
		}
	})
	t.Run("MethodNotAllowed", func(t *testing.T) {
		r := b.api(t, http.MethodPost, "/v1/orders/export", nil)
		if r.status != http.StatusMethodNotAllowed {
			t.Errorf("POST: %s", r)
		}
	})
}

func ndjsonIDs(t *testing.T, body []byte) []string {
	t.Helper()
	ids := []string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil || o.ID == "" {
			t.Fatalf("line %q is not an order: %v", sc.Text(), err)
		}
		ids = append(ids, o.ID)
	}
	return ids
}

// TestExportStreamsManyPages exports more orders than one store page and
// one flush, over a real connection.
func TestExportStreamsManyPages(t *testing.T) {
	t.Parallel()
	b := setup(t, listen())
	const n = 2600
	var want []string
	for start := 0; start < n; start += 500 {
		batch := testkit.Kaleyra()
		for i := start; i < min(start+500, n); i++ {
			id := fmt.Sprintf("wamid.M%05d", i)
			batch.Messages(testkit.Order(id).At(t0.Add(time.Duration(i) * time.Second)).From(fmt.Sprintf("9199%08d", i)))
			want = append([]string{id}, want...)
		}
		b.post(t, batch)
	}
	get := func(query string) []byte {
		req, _ := http.NewRequest(http.MethodGet, b.base+"/v1/orders/export?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+testkit.APIToken)
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("export %s: %d %v", query, resp.StatusCode, err)
		}
		if resp.ContentLength != -1 {
			t.Errorf("export has a Content-Length (%d): it was buffered, not streamed", resp.ContentLength)
		}
		return body
	}
	if diff := cmp.Diff(want, ndjsonIDs(t, get("format=ndjson"))); diff != "" {
		t.Errorf("ndjson ids (-want +got):\n%s", diff)
	}
	rows, err := csv.NewReader(bytes.NewReader(get("format=csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+2*n {
		t.Errorf("%d CSV rows, want %d", len(rows), 1+2*n)
	}
}
