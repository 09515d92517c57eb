package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/testkit"
)

// newOrdersTestServer serves the real router over a real SQLite store and
// posts orders to it as Kaleyra callbacks.
func newOrdersTestServer(t *testing.T, orders ...cliTestOrder) string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "waorders.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := intake.New(st, intake.Config{})
	in.Start()
	authn, err := callbackauth.New(callbackauth.Config{Secrets: []string{testkit.CallbackSecret}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Intake: in, Auth: authn, APITokens: []string{testkit.APIToken}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = in.Stop(context.Background())
		_ = st.Close()
	})
	for _, o := range orders {
		if status, answer := postCallback(t, hs.URL, o.body()); status != http.StatusOK {
			t.Fatalf("post order %s: %d %s", o.id, status, answer)
		}
	}
	return hs.URL
}

// postCallback posts a Kaleyra callback body with the test credentials and
// returns the answer.
func postCallback(t *testing.T, url string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/callbacks/kaleyra", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(testkit.CallbackSecretHeader, testkit.CallbackSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, answer
}

// cliTestOrder is an order message posted by the CLI tests.
type cliTestOrder struct {
	id, name, ref1 string
	at             time.Time
	items          []cliTestItem
}

// cliTestItem is one line of a cliTestOrder; price is decimal text.
type cliTestItem struct {
	product  string
	quantity int
	price    string
	currency string
}

func (o cliTestOrder) body() []byte {
	m := testkit.Order(o.id).Name(o.name).At(o.at).OrderText("note")
	for _, it := range o.items {
		m.Item(it.product, it.quantity, it.price, it.currency)
	}
	return testkit.Kaleyra(m).Ref1(o.ref1).Bytes()
}

var cliT0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

var cliOrders = []cliTestOrder{
	{"wamid.ONE", "Asha Rao", "shoes", cliT0,
		[]cliTestItem{{"SKU-SHIRT", 2, "1600", "INR"}, {"SKU-PANT", 1, "2000", "INR"}}},
	{"wamid.TWO", "\x1b[31mEvil\x1b]0;pwned\x07\u202eRed\tTab", "shoes", cliT0.Add(time.Hour),
		[]cliTestItem{{"mug", 3, "16.99", "USD"}}},
	{"wamid.THREE", "Chen", "", cliT0.Add(2 * time.Hour),
		[]cliTestItem{{"SKU-BAG", 1, "2500", "INR"}}},
}

// runCLI runs the program with the server and token given as flags (the
// token unless env has WAORDERS_API_TOKEN) and times shown in UTC unless
// env has WAORDERS_TZ: the tests do not depend on the machine's zone.
func runCLI(t *testing.T, url string, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	full := append(append([]string{}, args...), "--url", url)
	if _, ok := env["WAORDERS_API_TOKEN"]; !ok {
		full = append(full, "--api-token", testkit.APIToken)
	}
	return runEnv(t, env, full...)
}

// runEnv runs the program with exactly args and env (plus WAORDERS_TZ=UTC
// unless env sets it).
func runEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if v, ok := env[k]; ok || k != "WAORDERS_TZ" {
			return v
		}
		return "UTC"
	}
	full := args
	err = Run(context.Background(), full, getenv, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

func TestOrdersListTable(t *testing.T) {
	t.Parallel()
	url := newOrdersTestServer(t, cliOrders...)
	out, _, err := runCLI(t, url, nil, "orders", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want a header and 3 orders:\n%s", len(lines), out)
	}
	for i, want := range [][]string{
		{"ORDERED (UTC)", "ID", "STATUS", "CUSTOMER", "NAME", "TOTAL", "REF1"},
		{"2026-01-05 12:00:00", "wamid.THREE", "pending", "Chen", "INR 2500.00"},
		{"2026-01-05 11:00:00", "wamid.TWO", "EvilRed Tab", "USD 50.97", "shoes"},
		{"2026-01-05 10:00:00", "wamid.ONE", "Asha Rao", "3", "INR 5200.00", "shoes"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d %q lacks %q", i, lines[i], w)
			}
		}
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e\t") || strings.Contains(out, "pwned") {
		t.Errorf("control characters or escape payloads reached the terminal: %q", out)
	}

	out, _, err = runCLI(t, url, nil, "orders", "list", "--ref1", "shoes", "--limit", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "wamid.TWO") || strings.Contains(out, "wamid.ONE") || !strings.Contains(out, "more: add --cursor ") {
		t.Errorf("filtered first page:\n%s", out)
	}
	cursor := strings.TrimSpace(out[strings.Index(out, "--cursor ")+len("--cursor "):])
	out, _, err = runCLI(t, url, nil, "orders", "list", "--ref1", "shoes", "--limit", "1", "--cursor", cursor)
	if err != nil || !strings.Contains(out, "wamid.ONE") || strings.Contains(out, "more:") {
		t.Errorf("second page (%v):\n%s", err, out)
	}

	out, _, err = runCLI(t, url, nil, "orders", "list", "--q", "nobody")
	if err != nil || !strings.Contains(out, "(no orders match)") {
		t.Errorf("empty list (%v):\n%s", err, out)
	}
}

func TestOrdersListJSON(t *testing.T) {
	t.Parallel()
	url := newOrdersTestServer(t, cliOrders...)
	out, _, err := runCLI(t, url, map[string]string{"WAORDERS_API_TOKEN": testkit.APIToken}, "orders", "list", "--json", "--status", "pending")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Orders []struct {
			ID       string `json:"id"`
			Customer struct {
				Name string `json:"name"`
			} `json:"customer"`
		} `json:"orders"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if len(page.Orders) != 3 || page.Orders[1].Customer.Name != cliOrders[1].name {
		t.Errorf("--json gives the API's data unchanged; got %+v", page.Orders)
	}
}

func TestOrdersListErrors(t *testing.T) {
	t.Parallel()
	url := newOrdersTestServer(t)
	_, _, err := runCLI(t, url, nil, "orders", "list", "--status", "lost")
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(ae.Message, "pending, processing") {
		t.Errorf("unknown status: %v", err)
	}
	if _, _, err := runCLI(t, url, nil, "orders", "list", "extra"); !errors.Is(err, ErrUsage) {
		t.Errorf("positional argument: %v, want usage error", err)
	}
	if _, _, err := runCLI(t, url, nil, "orders", "frobnicate"); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown subcommand: %v, want usage error", err)
	}
	_, _, err = runCLI(t, url, map[string]string{"WAORDERS_API_TOKEN": "wrong-token"}, "orders", "list")
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("wrong token: %v", err)
	}
}

func TestOrdersShowAndSetStatus(t *testing.T) {
	t.Parallel()
	url := newOrdersTestServer(t, cliOrders...)
	out, _, err := runCLI(t, url, nil, "orders", "set-status", "wamid.ONE", "processing", "--note", "packed", "--if-version", "1", "--actor", "ops")
	if err != nil {
		t.Fatal(err)
	}
	if want := "order wamid.ONE: pending → processing (now version 2)\n"; out != want {
		t.Errorf("set-status printed %q, want %q", out, want)
	}
	_, _, err = runCLI(t, url, nil, "orders", "set-status", "wamid.ONE", "shipped", "--if-version", "1")
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != http.StatusPreconditionFailed || !strings.Contains(ae.Message, "version 2") {
		t.Errorf("stale --if-version: %v", err)
	}
	_, _, err = runCLI(t, url, nil, "orders", "set-status", "wamid.ONE", "pending")
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || !strings.Contains(ae.Message, "allowed from processing") {
		t.Errorf("backwards: %v", err)
	}
	if _, _, err := runCLI(t, url, nil, "orders", "set-status", "wamid.ONE"); !errors.Is(err, ErrUsage) {
		t.Errorf("missing status: %v", err)
	}

	out, _, err = runCLI(t, url, nil, "orders", "show", "wamid.ONE")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wamid.ONE", "processing (version 2)", "Asha Rao (919900000001)", "INR 5200.00",
		"SKU-SHIRT", "INR 1600.00", "INR 3200.00", "intake", "ops", "pending → processing", "packed"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCLI(t, url, nil, "orders", "show", "wamid.TWO")
	if err != nil || strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("show of a hostile name (%v): %q", err, out)
	}
	out, _, err = runCLI(t, url, nil, "orders", "show", "--json", "wamid.ONE")
	var o struct {
		Version int64 `json:"version"`
		History []struct {
			Actor string `json:"actor"`
		} `json:"history"`
	}
	if err != nil || json.Unmarshal([]byte(out), &o) != nil || o.Version != 2 || len(o.History) != 2 || o.History[1].Actor != "ops" {
		t.Errorf("show --json (%v): %s", err, out)
	}
	_, _, err = runCLI(t, url, nil, "orders", "show", "wamid.NOPE")
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("unknown order: %v", err)
	}
}

func TestOrdersExport(t *testing.T) {
	t.Parallel()
	url := newOrdersTestServer(t, cliOrders...)
	dir := t.TempDir()
	file := filepath.Join(dir, "orders.csv")
	_, stderr, err := runCLI(t, url, nil, "orders", "export", "--format", "csv", "--output", file, "--ref1", "shoes")
	if err != nil {
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
	if len(rows) != 4 || rows[0][0] != "order_id" || rows[1][0] != "wamid.TWO" || rows[3][0] != "wamid.ONE" {
		t.Errorf("exported rows: %q", rows)
	}
	if !strings.Contains(stderr, "exported 3 rows to "+file) {
		t.Errorf("stderr %q lacks the summary", stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	out, _, err := runCLI(t, url, nil, "orders", "export", "--format", "ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !json.Valid([]byte(lines[0])) {
		t.Errorf("ndjson to stdout: %q", out)
	}
	if _, _, err := runCLI(t, url, nil, "orders", "export", "--format", "xml"); !errors.Is(err, ErrUsage) {
		t.Errorf("--format xml: %v", err)
	}
	// --rows order: one row per order; --excel: the byte order mark and
	// ids as ="…".
	perOrder := filepath.Join(dir, "per-order.csv")
	_, stderr, err = runCLI(t, url, nil, "orders", "export", "--rows", "order", "--excel", "--output", perOrder)
	if err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(perOrder)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\ufefforder_id,")) {
		t.Errorf("--excel: no byte order mark: %.40q", data)
	}
	rows, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Contains(rows[0], "item_count") || rows[1][0] != `="wamid.THREE"` {
		t.Errorf("--rows order --excel: %q", rows)
	}
	if !strings.Contains(stderr, "exported 3 orders to "+perOrder) {
		t.Errorf("stderr %q lacks the summary in orders", stderr)
	}
	for _, args := range [][]string{
		{"--rows", "line"},
		{"--format", "ndjson", "--rows", "order"},
		{"--format", "ndjson", "--excel"},
	} {
		if _, _, err := runCLI(t, url, nil, append([]string{"orders", "export"}, args...)...); !errors.Is(err, ErrUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}

	bad := filepath.Join(dir, "bad.csv")
	if _, _, err := runCLI(t, url, nil, "orders", "export", "--output", bad, "--since", "never"); err == nil {
		t.Errorf("export with a bad filter succeeded")
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s: %v", bad, err)
	}
}

func TestReportCampaigns(t *testing.T) {
	t.Parallel()
	url := newOrdersTestServer(t, cliOrders...)
	out, _, err := runCLI(t, url, nil, "report", "campaigns")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := [][]string{
		{"REF1", "ORDERS", "UNITS", "REVENUE"},
		{"(none)", "1", "1", "INR 2500.00"},
		{"shoes", "2", "6", "INR 5200.00, USD 50.97", "2026-01-05 10:00:00", "2026-01-05 11:00:00"},
	}
	if len(lines) != len(want) {
		t.Fatalf("report:\n%s", out)
	}
	for i, w := range want {
		for _, cell := range w {
			if !strings.Contains(lines[i], cell) {
				t.Errorf("line %q lacks %q", lines[i], cell)
			}
		}
	}
	out, _, err = runCLI(t, url, nil, "report", "campaigns", "--interval", "day")
	if err != nil || !strings.HasPrefix(out, "DAY") || !strings.Contains(out, "2026-01-05") {
		t.Errorf("daily report (%v):\n%s", err, out)
	}
	out, _, err = runCLI(t, url, nil, "report", "campaigns", "--json", "--group-by", "ref2")
	var rep struct {
		Campaigns []struct {
			Campaign string `json:"campaign"`
			Orders   int    `json:"orders"`
		} `json:"campaigns"`
	}
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Campaigns) != 1 || rep.Campaigns[0].Orders != 3 {
		t.Errorf("report --json (%v): %s", err, out)
	}
	var ae *apiError
	if _, _, err := runCLI(t, url, nil, "report", "campaigns", "--group-by", "nope"); !errors.As(err, &ae) || ae.Status != 400 {
		t.Errorf("bad --group-by: %v", err)
	}
	if _, _, err := runCLI(t, url, nil, "report", "revenue"); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown report: %v", err)
	}
}

func TestOrdersHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"orders", "--help"}, {"orders", "list", "--help"}, {"orders", "set-status", "--help"},
		{"orders", "export", "--help"}, {"report", "--help"}, {"report", "campaigns", "--help"},
	} {
		var out, errb bytes.Buffer
		if err := Run(context.Background(), args, func(string) string { return "" }, nil, &out, &errb); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "Usage: waorders ") {
			t.Errorf("%v printed no usage to stdout: %q", args, out.String())
		}
	}
	var out bytes.Buffer
	_ = Run(context.Background(), []string{"orders", "export", "--help"}, func(string) string { return "" }, nil, &out, &out)
	for _, flag := range []string{"-format", "-rows", "-excel", "-output", "-status", "-ref1", "-phone-number-id", "-since"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("export help lacks %s", flag)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Asha Rao", 40, "Asha Rao"},
		{"\x1b[31mRed\x1b[0m", 40, "Red"},
		{"a\x1b]0;title\x07b", 40, "ab"},
		{"a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", 40, "alinkb"},
		{"tab\there\nnew\rline", 40, "tab here new line"},
		{"bidi\u202eevil\u200b", 40, "bidievil"},
		{"nul\x00del\x7fc1\u0085", 40, "nuldelc1"},
		{"bad\xffutf8", 40, "badutf8"},
		{"Shyamalan Krishnamurthy", 10, "Shyamalan…"},
		{"émoji 🎉 name", 40, "émoji 🎉 name"},
		{"\x1b", 40, ""},
		{"\x1b[", 40, ""},
	}
	for _, tt := range tests {
		if got := clean(tt.in, tt.max); got != tt.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// TestOrdersReviewAndRefund: an order with a bad line is shown with its
// problem, corrected, completed, refunded in part, and the report counts it.
func TestOrdersReviewAndRefund(t *testing.T) {
	t.Parallel()
	url := newOrdersTestServer(t)
	body := testkit.Kaleyra(testkit.Order("wamid.REV").Name("Asha").
		RawItem(`"shirt"`, "2", "1600", `"INR"`).RawItem(`"pant"`, "0", "2000", `"INR"`)).Ref1("diwali").Bytes()
	if status, b := postCallback(t, url, body); status != 200 {
		t.Fatalf("callback: %d %s", status, b)
	}
	out, _, err := runCLI(t, url, nil, "orders", "show", "wamid.REV")
	if err != nil || !strings.Contains(out, "needs_review") || !strings.Contains(out, "invalid_quantity") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, url, nil, "orders", "review", "wamid.REV", "correct", "1=one"); !errors.Is(err, ErrUsage) {
		t.Errorf("bad correction: %v, want ErrUsage", err)
	}
	out, _, err = runCLI(t, url, nil, "orders", "review", "wamid.REV", "correct", "1=1x2000.00", "--if-version", "1", "--actor", "asha")
	if err != nil || !strings.Contains(out, "pending") || !strings.Contains(out, "INR 5200.00") {
		t.Fatalf("review: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, url, nil, "orders", "set-status", "wamid.REV", "completed"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(t, url, nil, "orders", "refund", "wamid.REV", "2000.00", "inr", "--reason", "pant back")
	if err != nil || !strings.Contains(out, "refunded") {
		t.Fatalf("refund: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, url, nil, "report", "campaigns", "--by-status")
	if err != nil || !strings.Contains(out, "INR 3200.00") || !strings.Contains(out, "refunded") {
		t.Fatalf("report: %v\n%s", err, out)
	}
}
