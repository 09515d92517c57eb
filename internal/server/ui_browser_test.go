package server_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/testkit"
)

// Browser tests: Debian's chromium, driven by chromedp, against the real
// server on 127.0.0.1:0. They skip without chromium, except under CI=true,
// where they fail. One browser serves the package; each test has a tab.

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
	path   string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

func findChrome() string {
	if p := os.Getenv("WAORDERS_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newTab returns a tab of the shared browser with a deadline, and the
// browser's console messages of type error and exception, read at the end.
func newTab(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	browser.once.Do(func() {
		browser.path = findChrome()
		if browser.path == "" {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser.path), chromedp.NoSandbox,
			chromedp.DisableGPU, chromedp.Flag("disable-component-update", true), chromedp.WindowSize(1280, 900))
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		browser.ctx, browser.cancel = bctx, func() { bcancel(); acancel() }
		browser.err = chromedp.Do(bctx) // start it, without a deadline
	})
	if browser.path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is missing: apt-get install -y chromium (CI=true: browser tests must run)")
		}
		t.Skip("chromium not on PATH; apt-get install chromium (or set WAORDERS_CHROME)")
	}
	if browser.err != nil {
		t.Fatalf("start chromium: %v", browser.err)
	}
	tab, cancel := chromedp.NewContext(browser.ctx)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	var (
		mu   sync.Mutex
		msgs []string
	)
	console := chromedp.Console(tab)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				msgs = append(msgs, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	// The whole test's deadline: TestBrowserDashboard walks every page,
	// audits each and restarts the server; under -race on a busy 2-core
	// machine that took 36 s.
	dl, dcancel := context.WithTimeout(tab, 2*time.Minute)
	t.Cleanup(func() { dcancel(); cancel(); <-done })
	return dl, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), msgs...) }
}

// shot keeps a screenshot of the page as a test artifact
// (go test -artifacts -outputdir DIR keeps them).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// audit runs axe-core (WCAG 2 A and AA) on the page and fails on any
// violation. axe.min.js is a test asset, never served.
func audit(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(src)+";0")); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core on %s: %v", page, err)
	}
	if out != "[]" {
		t.Errorf("%s: accessibility violations: %s", page, out)
	}
}

func TestBrowserDashboard(t *testing.T) {
	b := setup(t, listen(), withEvents(), withServer(func(c *server.Config) { c.UIPoll = 100 * time.Millisecond }))
	if findChrome() == "" && os.Getenv("CI") == "" {
		t.Skip("chromium not on PATH; apt-get install chromium (or set WAORDERS_CHROME)")
	}
	const hostile = `<img src=x onerror="document.title='pwned'">Zoë`
	now := time.Now().UTC()
	b.post(t, testkit.Kaleyra(testkit.Order("wamid.hostile").Name(hostile).From("919800000001").At(now)).Ref("diwali"))
	for i := range 60 {
		b.post(t, testkit.Kaleyra(testkit.Order(fmt.Sprintf("wamid.b%02d", i)).From(fmt.Sprintf("9198000001%02d", i)).At(now.Add(-time.Duration(i+1)*time.Minute))).Ref([]string{"diwali", "holi"}[i%2]))
	}
	b.kaleyra(t, []byte(`{"hostile": "<script>alert(1)</script>"`))
	hook := deadWebhook(t, b, 3)
	if _, err := b.store.CreateUser(context.Background(), store.CreateUserParams{Username: "zoe", Role: store.RoleAdmin, PasswordHash: hashOf(uiPassword)}); err != nil {
		t.Fatal(err)
	}
	ctx, consoleErrors := newTab(t)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return s
	}

	// Log in through the form.
	do("login", chromedp.Navigate(b.base+"/ui/orders"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "zoe"), chromedp.SendKeys(chromedp.CSS("#password"), uiPassword),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("[data-testid=orders-table]")))
	shot(t, ctx, "orders")

	// Every page: the hostile name is text, no CSP violation or error,
	// no accessibility violation.
	pages := []struct{ name, path, ready string }{
		{"overview", "/ui/", "[data-testid=latest-orders]"},
		{"orders", "/ui/orders", "[data-testid=orders-table]"},
		{"order", "/ui/orders/wamid.hostile", "[data-testid=history]"},
		{"customer", "/ui/customers/919800000001", "[data-testid=customer-name]"},
		{"campaigns", "/ui/campaigns", "svg.bars"},
		{"messages", "/ui/messages", "[data-testid=messages-table]"},
		{"quarantine", "/ui/quarantine", "[data-testid=quarantine-table]"},
		{"quarantine-entry", "/ui/quarantine/1", "[data-testid=raw-body]"},
		{"users", "/ui/users", "table.list"},
		{"webhooks", "/ui/webhooks", "[data-testid=webhooks-table]"},
		{"webhook", "/ui/webhooks/" + hook, "[data-testid=attempts-table]"},
		{"orders-empty", "/ui/orders?q=nothing-matches", "p.empty"},
	}
	for _, p := range pages {
		do(p.name, chromedp.Navigate(b.base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		if got := eval(`document.title`); got == "pwned" {
			t.Fatalf("%s: the hostile name ran: title %q", p.name, got)
		}
		if n := eval(`String(document.querySelectorAll('img[src=x]').length)`); n != "0" {
			t.Fatalf("%s: the hostile name made %s img elements", p.name, n)
		}
		audit(t, ctx, p.name)
		shot(t, ctx, p.name)
	}
	do("customer", chromedp.Navigate(b.base+"/ui/customers/919800000001"), chromedp.WaitVisible(chromedp.CSS("[data-testid=customer-name]")))
	if got := text("[data-testid=customer-name]"); got != hostile {
		t.Errorf("customer page shows %q; want the name literally", got)
	}
	do("order", chromedp.Navigate(b.base+"/ui/orders/wamid.hostile"), chromedp.WaitVisible(chromedp.CSS("[data-testid=history]")))
	if !strings.Contains(text(".facts"), hostile) {
		t.Errorf("order page does not show the hostile name literally")
	}
	if got := eval(`document.querySelector('time').title`); !strings.HasSuffix(got, "UTC") {
		t.Errorf("a time's title = %q; want the UTC time on hover", got)
	}

	// Filters and paging: the URL carries the filter; Older walks on.
	do("filter", chromedp.Navigate(b.base+"/ui/orders"), chromedp.WaitVisible(chromedp.CSS("#ref")),
		chromedp.SendKeys(chromedp.CSS("#ref"), "holi"), chromedp.Click(chromedp.CSS(`form[role=search] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ref[value="holi"]`))) // the attribute is the server's: the new page
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if u, _ := url.Parse(loc); u.Query().Get("ref") != "holi" {
		t.Fatalf("filter URL = %s; want ref=holi", loc)
	}
	if n := eval(`String(document.querySelectorAll('tr[data-href]').length)`); n != "30" {
		t.Fatalf("ref=holi shows %s rows; want 30", n)
	}
	do("paging", chromedp.Navigate(b.base+"/ui/orders"), chromedp.WaitVisible(chromedp.CSS("a[rel=next]")),
		chromedp.Click(chromedp.CSS("a[rel=next]")), chromedp.WaitVisible(chromedp.CSS(`tr[data-href="/ui/orders/wamid.b59"]`))) // the oldest: page 2
	if n := eval(`String(document.querySelectorAll('tr[data-href]').length)`); n != "11" {
		t.Fatalf("the second page shows %s rows; want 11", n)
	}

	// A status change by click (confirmed), then a stale form: conflict.
	do("status", chromedp.Navigate(b.base+"/ui/orders/wamid.b00"), chromedp.WaitVisible(chromedp.CSS("button[value=processing]")),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS("button[value=processing]")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := text("[data-testid=history]"); !strings.Contains(got, "processing by zoe") {
		t.Fatalf("history = %q; want the change by zoe", got)
	}
	// The page still shows version 2; someone else moves the order on.
	two := int64(2)
	if _, err := b.store.UpdateOrderStatus(context.Background(), store.UpdateOrderStatusParams{ID: "wamid.b00", To: "shipped", Actor: "ann", IfVersion: &two}); err != nil {
		t.Fatal(err)
	}
	do("stale", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS("button[value=completed]")), chromedp.WaitVisible(chromedp.CSS("[data-testid=conflict]")))
	audit(t, ctx, "conflict")
	shot(t, ctx, "order-conflict")

	// Live: a posted callback shows as a banner on the orders page.
	do("live", chromedp.Navigate(b.base+"/ui/orders"), chromedp.WaitVisible(chromedp.CSS("[data-testid=orders-table]")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('live-status').textContent === 'Live'`)); err != nil {
		t.Fatalf("live status never said Live: %v", err)
	}
	b.post(t, testkit.Kaleyra(testkit.Order("wamid.live").From("919800000999").At(time.Now())))
	do("banner", chromedp.WaitVisible(chromedp.CSS("#new-orders")))
	if got := text("#new-orders a"); got != "1 new order — show" {
		t.Fatalf("banner = %q", got)
	}
	shot(t, ctx, "orders-live")

	// A status change by someone else updates the badge on the list.
	if r := b.api(t, "POST", "/v1/orders/wamid.b01/status", map[string]string{"status": "processing"}, "X-Actor", "ann"); r.status != 200 {
		t.Fatalf("status change by the API: %s", r)
	}
	do("badge", chromedp.WaitVisible(chromedp.CSS(`tr[data-id="wamid.b01"][data-version="2"]`)))
	if got := text(`tr[data-id="wamid.b01"] .badge`); got != "processing" {
		t.Fatalf("badge after a change by someone else = %q", got)
	}

	// A restart on the same port: the page says so, reconnects by itself
	// and announces the order that arrived while the server was down.
	b.restart(t, func() {
		b.post(t, testkit.Kaleyra(testkit.Order("wamid.outage").From("919800000998").At(time.Now())))
	})
	do("reconnect", chromedp.WaitVisible(chromedp.CSS("#new-orders")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#new-orders a').textContent === '2 new orders — show'`)); err != nil {
		t.Fatalf("after the restart the banner says %q: %v", text("#new-orders a"), err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('live-status').textContent === 'Live'`)); err != nil {
		t.Fatalf("live status after the restart = %q", text("#live-status"))
	}

	// An open order page changed by someone else says so.
	do("order-live", chromedp.Navigate(b.base+"/ui/orders/wamid.b02"), chromedp.WaitVisible(chromedp.CSS("[data-testid=history]")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('live-status').textContent === 'Live'`)); err != nil {
		t.Fatalf("order page never said Live: %v", err)
	}
	if r := b.api(t, "POST", "/v1/orders/wamid.b02/status", map[string]string{"status": "canceled"}, "X-Actor", "ann"); r.status != 200 {
		t.Fatalf("status change by the API: %s", r)
	}
	do("order-changed", chromedp.WaitVisible(chromedp.CSS("#order-changed")))
	if got := text("#order-changed a"); !strings.Contains(got, "canceled") {
		t.Errorf("order page banner = %q", got)
	}
	audit(t, ctx, "order-changed")

	// Webhooks: an admin replays the dead deliveries (confirmed).
	do("replay", chromedp.Navigate(b.base+"/ui/webhooks/"+hook), chromedp.WaitVisible(chromedp.CSS("button[value=replay-dead]")),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS("button[value=replay-dead]")), chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")))
	if got := text("[data-testid=flash]"); !strings.Contains(got, "3 dead deliveries are pending again") {
		t.Errorf("replay flash = %q", got)
	}
	shot(t, ctx, "webhook-replayed")

	// Quarantine: retry one (confirmed); it is still unusable, and says so.
	do("retry", chromedp.Navigate(b.base+"/ui/quarantine/1"), chromedp.WaitVisible(chromedp.CSS("[data-testid=raw-body]")),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS("form[action$='/retry'] button")), chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")))
	if got := text("[data-testid=raw-body]"); !strings.Contains(got, "<script>alert(1)</script>") {
		t.Errorf("raw body = %q; want it as text", got)
	}

	// Keyboard: / focuses the search, j selects the first row.
	do("keys", chromedp.Navigate(b.base+"/ui/orders"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.KeyEvent("j"))
	if got := eval(`document.querySelector('tr.sel') ? 'yes' : 'no'`); got != "yes" {
		t.Errorf("j selected no row")
	}

	var errs []string
	for _, e := range consoleErrors() {
		switch {
		case strings.Contains(e, "status of 409"): // the conflict page is a 409 answer, on purpose
		case strings.Contains(e, "/ui/events") && strings.Contains(e, "ERR_CONNECTION_REFUSED"): // the restart, on purpose
		default:
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("console errors (CSP violations, exceptions):\n%s", strings.Join(errs, "\n"))
	}
}

// restart closes the server, runs during while it is down (requests go
// through the handler in-process), and starts a new server on the same
// address with the same store, as a redeploy does.
func (b *bundle) restart(t *testing.T, during func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.srv.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := <-b.srv.Done(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	base := b.base
	b.base = ""
	during()
	b.base = base
	cfg := b.cfg
	cfg.Addr = strings.TrimPrefix(base, "http://")
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Open(); err != nil {
		t.Fatalf("reopen on %s: %v", cfg.Addr, err)
	}
	b.srv, b.handler = srv, srv.Handler()
}
