package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/password"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/server/ui"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/testkit"
)

// The dashboard's handler tests: every page through the real router to a
// real SQLite store, logged in as a user of each role.

const uiPassword = "a long test password"

// uiUser is a logged-in browser: its session cookie and form token.
type uiUser struct {
	cookie, csrf string
}

// uiLogin creates a user of role and logs it in through /ui/login.
func uiLogin(t *testing.T, b *bundle, name, role string) uiUser {
	t.Helper()
	if _, err := b.store.CreateUser(context.Background(), store.CreateUserParams{Username: name, Role: role, PasswordHash: password.Hash(uiPassword)}); err != nil {
		t.Fatalf("create user: %v", err)
	}
	r := uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {name}, "password": {uiPassword}, "next": {"/ui/orders"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/orders" {
		t.Fatalf("login: %v (Location %q)", r, r.header.Get("Location"))
	}
	var u uiUser
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == ui.CookieName {
			u.cookie = c.Name + "=" + c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/ui/" || c.Secure {
				t.Errorf("session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/ui/, not Secure over plain HTTP", c)
			}
		}
	}
	if u.cookie == "" {
		t.Fatalf("login set no session cookie: %v", r.header)
	}
	page := uiGet(t, b, u, "/ui/orders", http.StatusOK)
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(page.body)
	if m == nil {
		t.Fatalf("no form token on the page")
	}
	u.csrf = string(m[1])
	return u
}

func uiGet(t *testing.T, b *bundle, u uiUser, path string, want int) reply {
	t.Helper()
	r := b.do(t, request{method: http.MethodGet, path: path, header: []string{"Cookie", u.cookie, "Accept", "text/html"}})
	if r.status != want {
		t.Fatalf("GET %s = %v; want %d", path, r, want)
	}
	if strings.HasPrefix(path, "/ui/") && r.status != http.StatusSeeOther {
		checkSecurityHeaders(t, path, r.header)
	}
	return r
}

// uiForm posts a form the way a browser of this site does.
func uiForm(t *testing.T, b *bundle, u uiUser, path string, form url.Values, hdr ...string) reply {
	t.Helper()
	if u.csrf != "" && form.Get("csrf") == "" {
		form.Set("csrf", u.csrf)
	}
	h := []string{"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin", "Accept", "text/html"}
	if u.cookie != "" {
		h = append(h, "Cookie", u.cookie)
	}
	return b.do(t, request{method: http.MethodPost, path: path, body: []byte(form.Encode()), header: withDefaults(h, hdr...)})
}

func checkSecurityHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	if got := h.Get("Content-Security-Policy"); got != ui.CSP || !strings.Contains(got, "frame-ancestors 'none'") || strings.Contains(got, "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy = %q", path, got)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: nosniff/no-referrer missing: %v", path, h)
	}
}

func TestUILoginLogout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Not logged in: / and every page lead to the login form.
	if r := b.send(t, "GET", "/", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/" {
		t.Fatalf("GET / = %v %v", r, r.header)
	}
	if r := b.send(t, "GET", "/ui/orders?status=pending", nil); r.status != http.StatusSeeOther ||
		r.header.Get("Location") != "/ui/login?next="+url.QueryEscape("/ui/orders?status=pending") {
		t.Fatalf("GET /ui/orders logged out = %v %v", r, r.header.Get("Location"))
	}
	login := uiGet(t, b, uiUser{}, "/ui/login", http.StatusOK)
	for _, want := range []string{`name="username"`, `name="password"`, `<label for="username">`} {
		if !strings.Contains(string(login.body), want) {
			t.Errorf("login form lacks %s", want)
		}
	}
	u := uiLogin(t, b, "zoe", store.RoleStaff)

	// A wrong password and an unknown user look the same.
	for _, name := range []string{"zoe", "nobody"} {
		r := uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {name}, "password": {"wrong password!"}})
		if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), "username or password is wrong") {
			t.Fatalf("bad login of %s = %v", name, r)
		}
	}
	// Open redirects are refused.
	if got := uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {"zoe"}, "password": {uiPassword}, "next": {"//evil.test/"}}); got.header.Get("Location") != "/ui/" {
		t.Fatalf("next=//evil.test/ redirected to %q", got.header.Get("Location"))
	}
	// Log out everywhere ends the other session too.
	other := uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {"zoe"}, "password": {uiPassword}})
	otherCookie := strings.SplitN(other.header.Get("Set-Cookie"), ";", 2)[0]
	uiGet(t, b, uiUser{cookie: otherCookie}, "/ui/", http.StatusOK)
	if r := uiForm(t, b, u, "/ui/logout", url.Values{"everywhere": {"1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("logout everywhere = %v", r)
	}
	uiGet(t, b, u, "/ui/", http.StatusSeeOther)
	uiGet(t, b, uiUser{cookie: otherCookie}, "/ui/", http.StatusSeeOther)
}

func TestUILoginRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	uiLogin(t, b, "zoe", store.RoleStaff)
	for range 5 {
		uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {"zoe"}, "password": {"wrong password!"}})
	}
	// Now even the right password waits: the account is locked for a while.
	r := uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {"zoe"}, "password": {uiPassword}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("login after 5 failures = %v", r)
	}
}

// TestUILoginLimitBehindProxy: behind a trusted proxy the per-address
// login limit counts the client the proxy names, not the proxy, so one
// client's failures do not lock everyone out.
func TestUILoginLimitBehindProxy(t *testing.T) {
	t.Parallel()
	b := setup(t, withAuth(func(c *callbackauth.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} }))
	uiLogin(t, b, "zoe", store.RoleStaff)
	for i := range 20 {
		uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {fmt.Sprintf("nobody%d", i)}, "password": {"wrong password!"}},
			"X-Forwarded-For", "203.0.113.7")
	}
	if r := uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {"zoe"}, "password": {uiPassword}}, "X-Forwarded-For", "203.0.113.7"); r.status != http.StatusTooManyRequests {
		t.Fatalf("the spraying client after 20 failures = %v", r)
	}
	if r := uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {"zoe"}, "password": {uiPassword}}, "X-Forwarded-For", "203.0.113.8"); r.status != http.StatusSeeOther {
		t.Fatalf("another client behind the same proxy = %v", r)
	}
}

// hostileNames are customer profile names that must show as text.
var hostileNames = []string{
	`<img src=x onerror="document.title='pwned'">Zoë`,
	`"><script>alert(1)</script>`,
	`javascript:alert(1)`,
	"\u202eevil\u202c <b>bold</b>",
	strings.Repeat("😀", 300),
}

func TestUIPagesHostileName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i, name := range hostileNames {
		b.post(t, testkit.Kaleyra(testkit.Order("wamid.hostile"+string(rune('a'+i))).Name(name).From("91980000000"+string(rune('0'+i)))).Ref(name))
	}
	b.kaleyra(t, []byte(`{"hostile": "<script>alert(1)</script>"`))
	u := uiLogin(t, b, "ann", store.RoleAdmin)
	pages := []string{"/ui/", "/ui/orders", "/ui/orders?q=zo", "/ui/orders/wamid.hostilea", "/ui/customers/919800000000",
		"/ui/messages", "/ui/campaigns?since=2020-01-01", "/ui/quarantine", "/ui/quarantine/1", "/ui/users", "/ui/quarantine/retry"}
	for _, p := range pages {
		r := uiGet(t, b, u, p, http.StatusOK)
		body := string(r.body)
		for _, bad := range []string{"<img src=x", "<script>alert", "<b>bold", `href="javascript:`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: page holds %q unescaped", p, bad)
			}
		}
		if strings.Count(body, "<script") != 1 || strings.Contains(body, " style=") || strings.Contains(body, "<style") {
			t.Errorf("%s: inline script or style on the page", p)
		}
		if strings.Count(body, "<h1") != 1 || !strings.Contains(body, `<main id="main"`) {
			t.Errorf("%s: want one h1 and a main landmark", p)
		}
	}
	order := string(uiGet(t, b, u, "/ui/orders/wamid.hostilea", http.StatusOK).body)
	if !strings.Contains(order, `&lt;img src=x onerror=&#34;document.title=&#39;pwned&#39;&#34;&gt;Zoë`) {
		t.Errorf("order page does not show the hostile name literally")
	}
	q := string(uiGet(t, b, u, "/ui/quarantine/1", http.StatusOK).body)
	if !strings.Contains(q, `&lt;script&gt;alert(1)&lt;/script&gt;`) {
		t.Errorf("quarantine page does not show the raw body as text")
	}
}

func TestUIOrderStatusAndConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.post(t, testkit.Kaleyra(testkit.Order("wamid.one")))
	staff := uiLogin(t, b, "zoe", store.RoleStaff)
	viewer := uiLogin(t, b, "vic", store.RoleViewer)

	page := string(uiGet(t, b, staff, "/ui/orders/wamid.one", http.StatusOK).body)
	if !strings.Contains(page, `value="processing"`) || strings.Contains(page, `value="pending"`) {
		t.Fatalf("order page: want only the allowed next statuses")
	}
	if vp := string(uiGet(t, b, viewer, "/ui/orders/wamid.one", http.StatusOK).body); strings.Contains(vp, `name="status"`) {
		t.Errorf("a viewer sees status buttons")
	}
	form := url.Values{"status": {"processing"}, "version": {"1"}, "note": {"packed <b>now</b>"}}
	// Refused: a viewer, no form token, a cross-site post.
	if r := uiForm(t, b, viewer, "/ui/orders/wamid.one/status", cloneForm(form)); r.status != http.StatusForbidden {
		t.Fatalf("viewer status change = %v", r)
	}
	if r := uiForm(t, b, uiUser{cookie: staff.cookie}, "/ui/orders/wamid.one/status", cloneForm(form)); r.status != http.StatusForbidden {
		t.Fatalf("status change without the form token = %v", r)
	}
	if r := uiForm(t, b, staff, "/ui/orders/wamid.one/status", cloneForm(form), "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Fatalf("cross-site status change = %v", r)
	}
	if r := uiForm(t, b, staff, "/ui/orders/wamid.one/status", cloneForm(form), "Sec-Fetch-Site", "", "Origin", "https://evil.test"); r.status != http.StatusForbidden {
		t.Fatalf("status change from another origin = %v", r)
	}
	r := uiForm(t, b, staff, "/ui/orders/wamid.one/status", cloneForm(form))
	if r.status != http.StatusSeeOther {
		t.Fatalf("status change = %v", r)
	}
	after := string(uiGet(t, b, staff, r.header.Get("Location"), http.StatusOK).body)
	if !strings.Contains(after, `<span class="actor">zoe</span>: packed &lt;b&gt;now&lt;/b&gt;`) || !strings.Contains(after, "Status changed.") {
		t.Errorf("history does not show the change by zoe")
	}
	// The same form again is stale: a conflict page, nothing changed.
	form.Set("status", "shipped")
	r = uiForm(t, b, staff, "/ui/orders/wamid.one/status", cloneForm(form))
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), `data-testid="conflict"`) {
		t.Fatalf("stale status change = %v", r)
	}
	o, err := b.store.GetOrder(context.Background(), "wamid.one")
	if err != nil || o.Status != "processing" || o.Version != 2 {
		t.Fatalf("order after the stale change = %v %v", o, err)
	}
	uiGet(t, b, staff, "/ui/orders/wamid.nope", http.StatusNotFound)
}

func cloneForm(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestUIOrdersFiltersPagingExport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 60 {
		ref := "spring"
		if i%3 == 0 {
			ref = "autumn"
		}
		b.post(t, testkit.Kaleyra(testkit.Order("wamid.p"+pad(i)).At(testkit.T0.Add(time.Duration(i)*time.Minute))).Ref(ref))
	}
	u := uiLogin(t, b, "zoe", store.RoleViewer)
	// A GET form sends empty fields too: they mean "any".
	first := string(uiGet(t, b, u, "/ui/orders?q=&status=&ref=spring&since=&until=", http.StatusOK).body)
	if n := strings.Count(first, "<tr data-href"); n != 40 {
		t.Fatalf("ref=spring: %d rows; want 40", n)
	}
	if !strings.Contains(first, `value="spring"`) || !strings.Contains(first, `href="/ui/orders/export?format=csv&amp;ref=spring"`) {
		t.Errorf("the filter is not kept in the form and the export link")
	}
	all := string(uiGet(t, b, u, "/ui/orders", http.StatusOK).body)
	m := regexp.MustCompile(`href="(/ui/orders\?cursor=[^"]+)" rel="next"`).FindStringSubmatch(all)
	if m == nil || strings.Count(all, "<tr data-href") != 50 {
		t.Fatalf("first page: want 50 rows and an Older link")
	}
	next := string(uiGet(t, b, u, strings.ReplaceAll(m[1], "&amp;", "&"), http.StatusOK).body)
	if strings.Count(next, "<tr data-href") != 10 || strings.Contains(next, `rel="next"`) {
		t.Fatalf("second page: want the last 10 rows and no Older link")
	}
	csv := uiGet(t, b, u, "/ui/orders/export?format=csv&ref=autumn&rows=order", http.StatusOK)
	if lines := strings.Count(strings.TrimSpace(string(csv.body)), "\n"); lines != 20 {
		t.Fatalf("export of ref=autumn: %d data lines; want 20", lines)
	}
	uiGet(t, b, u, "/ui/orders?status=bogus", http.StatusBadRequest)
}

func pad(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func TestUIQuarantineRetryAndRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.kaleyra(t, []byte(`{"not": "a callback"}`))
	staff := uiLogin(t, b, "zoe", store.RoleStaff)
	viewer := uiLogin(t, b, "vic", store.RoleViewer)
	list := string(uiGet(t, b, staff, "/ui/quarantine", http.StatusOK).body)
	if !strings.Contains(list, `href="/ui/quarantine/1"`) {
		t.Fatalf("quarantine list lacks entry 1")
	}
	confirm := string(uiGet(t, b, staff, "/ui/quarantine/retry", http.StatusOK).body)
	if !strings.Contains(confirm, "Retry 1 entries") {
		t.Errorf("retry-all page does not show the count first")
	}
	r := uiForm(t, b, staff, "/ui/quarantine/1/retry", url.Values{})
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "retried=again") {
		t.Fatalf("retry = %v %v", r, r.header.Get("Location"))
	}
	if r := uiForm(t, b, staff, "/ui/quarantine/retry", url.Values{}); r.status != http.StatusOK || !strings.Contains(string(r.body), "Retried 1") {
		t.Fatalf("retry all = %v", r)
	}
	if r := uiForm(t, b, viewer, "/ui/quarantine/1/retry", url.Values{}); r.status != http.StatusForbidden {
		t.Fatalf("viewer retry = %v", r)
	}
	uiGet(t, b, viewer, "/ui/users", http.StatusForbidden)
	uiGet(t, b, staff, "/ui/users", http.StatusForbidden)
}

func TestUIUsersAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := uiLogin(t, b, "ann", store.RoleAdmin)
	r := uiForm(t, b, admin, "/ui/users", url.Values{"username": {"bob"}, "role": {"viewer"}})
	m := regexp.MustCompile(`data-testid="new-password">([^<]+)<`).FindSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("add user = %v", r)
	}
	bob := uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {"bob"}, "password": {string(m[1])}})
	if bob.status != http.StatusSeeOther {
		t.Fatalf("the new user cannot log in: %v", bob)
	}
	if r := uiForm(t, b, admin, "/ui/users/bob", url.Values{"action": {"disable"}}); r.status != http.StatusOK {
		t.Fatalf("disable = %v", r)
	}
	bobCookie := strings.SplitN(bob.header.Get("Set-Cookie"), ";", 2)[0]
	uiGet(t, b, uiUser{cookie: bobCookie}, "/ui/", http.StatusSeeOther)
	if r := uiForm(t, b, admin, "/ui/users/ann", url.Values{"action": {"disable"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("disabling yourself = %v", r)
	}
	if r := uiForm(t, b, admin, "/ui/users", url.Values{"username": {"Bad Name"}, "role": {"viewer"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad username = %v", r)
	}
}

// TestUIEvents: a posted order arrives on the live stream, and closing
// the server ends the stream instead of waiting for it.
func TestUIEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, listen(), withServer(func(c *server.Config) { c.UIPoll = 20 * time.Millisecond }))
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u := uiLogin(t, b, "zoe", store.RoleViewer)
	req, _ := http.NewRequest("GET", b.base+"/ui/events?after=1", nil)
	req.Header.Set("Cookie", u.cookie)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events = %d %v", resp.StatusCode, resp.Header)
	}
	b.post(t, testkit.Kaleyra(testkit.Order("wamid.live").At(time.Now())))
	sc := bufio.NewScanner(resp.Body)
	got := ""
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			got = sc.Text()
			break
		}
	}
	if got != `data: {"id":"wamid.live"}` {
		t.Fatalf("live event = %q (%v)", got, sc.Err())
	}
	// Not logged in: 401, not a redirect to a page.
	if r := b.send(t, "GET", "/ui/events", nil, "Accept", "text/event-stream"); r.status != http.StatusUnauthorized {
		t.Fatalf("events without a session = %v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := b.srv.Close(ctx); err != nil {
		t.Fatalf("close with a live stream open: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("close took %v with a live stream open", d)
	}
}

func hashOf(pw string) string { return password.Hash(pw) }

// TestUIWebhooks: staff see endpoints with their state, dead deliveries
// and failed attempts (a receiver's hostile answer as text); only an
// admin disables, enables and replays, with the form token.
func TestUIWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t, withEvents())
	ctx := context.Background()
	b.post(t, testkit.Kaleyra(testkit.Order("wamid.hook1")), testkit.Kaleyra(testkit.Order("wamid.hook2")))
	id := deadWebhook(t, b, 2)
	var r reply
	viewer := uiLogin(t, b, "vic", store.RoleViewer)
	staff := uiLogin(t, b, "sam", store.RoleStaff)
	admin := uiLogin(t, b, "ada", store.RoleAdmin)
	uiGet(t, b, viewer, "/ui/webhooks", http.StatusForbidden)
	list := uiGet(t, b, staff, "/ui/webhooks", http.StatusOK)
	page := uiGet(t, b, staff, "/ui/webhooks/"+id, http.StatusOK)
	for _, p := range []reply{list, page} {
		if strings.Contains(string(p.body), "<img src=x") || !strings.Contains(string(p.body), "&lt;img src=x") {
			t.Fatalf("hostile text not escaped:\n%s", p.body)
		}
	}
	if !strings.Contains(string(list.body), "Webhooks</a>") {
		t.Errorf("no Webhooks link in the navigation for staff")
	}
	if !strings.Contains(string(page.body), `data-testid="dead-count">2<`) || !strings.Contains(string(page.body), "2 of these 2 attempts failed") {
		t.Fatalf("webhook page lacks the dead deliveries and failures:\n%s", page.body)
	}
	if strings.Contains(string(page.body), `value="replay-dead"`) {
		t.Errorf("staff is offered the replay button")
	}
	if r := uiForm(t, b, staff, "/ui/webhooks/"+id, url.Values{"action": {"replay-dead"}}); r.status != http.StatusForbidden {
		t.Fatalf("replay by staff = %v", r)
	}
	if r := uiForm(t, b, admin, "/ui/webhooks/"+id, url.Values{"action": {"replay-dead"}, "csrf": {"wrong"}}); r.status != http.StatusForbidden {
		t.Fatalf("replay without the form token = %v", r)
	}
	if r := uiForm(t, b, admin, "/ui/webhooks/"+id, url.Values{"action": {"replay-dead"}}, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Fatalf("cross-site replay = %v", r)
	}
	if !strings.Contains(string(uiGet(t, b, admin, "/ui/webhooks/"+id, http.StatusOK).body), `value="replay-dead"`) {
		t.Errorf("admin is not offered the replay button")
	}
	r = uiForm(t, b, admin, "/ui/webhooks/"+id, url.Values{"action": {"replay-dead"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/webhooks/"+id+"?replayed=2" {
		t.Fatalf("replay = %v %v", r, r.header)
	}
	if dead, _ := b.store.ListDeliveries(ctx, store.ListDeliveriesParams{Sink: id, State: store.DeliveryDead, Limit: 10}); len(dead) != 0 {
		t.Fatalf("after replay %d deliveries are still dead", len(dead))
	}
	if r := uiForm(t, b, admin, "/ui/webhooks/"+id, url.Values{"action": {"disable"}}); r.status != http.StatusSeeOther {
		t.Fatalf("disable = %v", r)
	}
	if hk, _ := b.store.GetWebhook(ctx, id); hk.Enabled || !strings.Contains(hk.DisabledReason, "ada") {
		t.Fatalf("after disable: %+v", hk)
	}
	if !strings.Contains(string(uiGet(t, b, staff, "/ui/webhooks", http.StatusOK).body), "disabled by ada") {
		t.Errorf("the list does not say who disabled the endpoint")
	}
	if r := uiForm(t, b, admin, "/ui/webhooks/"+id, url.Values{"action": {"enable"}}); r.status != http.StatusSeeOther {
		t.Fatalf("enable = %v", r)
	}
	if hk, _ := b.store.GetWebhook(ctx, id); !hk.Enabled {
		t.Fatalf("after enable: %+v", hk)
	}
	uiGet(t, b, staff, "/ui/webhooks/wh_nope", http.StatusNotFound)

	// Without the event log there are no webhook pages.
	plain := setup(t)
	u := uiLogin(t, plain, "ada", store.RoleAdmin)
	if strings.Contains(string(uiGet(t, plain, u, "/ui/", http.StatusOK).body), "/ui/webhooks") {
		t.Errorf("the navigation links webhook pages without the event log")
	}
}

// TestUIEventsFromLog: with the event log on, the live stream sends new
// orders and status changes (including a change made in the dashboard)
// from the log, and a reconnect with Last-Event-ID resumes after the last
// event sent.
func TestUIEventsFromLog(t *testing.T) {
	t.Parallel()
	b := setup(t, listen(), withEvents(), withServer(func(c *server.Config) { c.UIPoll = 20 * time.Millisecond }))
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u := uiLogin(t, b, "zoe", store.RoleStaff)
	type sse struct{ name, id, data string }
	open := func(lastID string) (*http.Response, func() sse) {
		t.Helper()
		req, _ := http.NewRequest("GET", b.base+"/ui/events?after="+url.QueryEscape(ui.EventCursor(time.Now().Add(-time.Minute))), nil)
		req.Header.Set("Cookie", u.cookie)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := b.client.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("events: %v %v", resp, err)
		}
		sc := bufio.NewScanner(resp.Body)
		return resp, func() sse {
			t.Helper()
			var e sse
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "event: "):
					e.name = line[7:]
				case strings.HasPrefix(line, "id: "):
					e.id = line[4:]
				case strings.HasPrefix(line, "data: "):
					e.data = line[6:]
				case line == "" && e.name != "":
					return e
				}
			}
			t.Fatalf("stream ended: %v", sc.Err())
			return e
		}
	}
	resp, next := open("")
	b.post(t, testkit.Kaleyra(testkit.Order("wamid.logA").At(time.Now())))
	a := next()
	if a.name != "order" || a.data != `{"id":"wamid.logA"}` || !strings.HasPrefix(a.id, "evt_") {
		t.Fatalf("first event = %+v", a)
	}
	page := uiGet(t, b, u, "/ui/orders/wamid.logA", http.StatusOK)
	if !strings.Contains(string(page.body), `data-live="/ui/events?after=evt_`) {
		t.Fatalf("the order page does not listen to the log")
	}
	if r := uiForm(t, b, u, "/ui/orders/wamid.logA/status", url.Values{"status": {"processing"}, "version": {"1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("status change = %v", r)
	}
	s := next()
	if s.name != "status" || s.data != `{"id":"wamid.logA","status":"processing","version":2}` || s.id <= a.id {
		t.Fatalf("status event = %+v", s)
	}
	// The dashboard's change is in the event log, for webhooks too.
	var list struct {
		Events []struct{ Type string } `json:"events"`
	}
	b.get(t, "/v1/events?order_id=wamid.logA", http.StatusOK, &list)
	if len(list.Events) != 2 || list.Events[0].Type != "order.status_changed" {
		t.Fatalf("events of the order after a dashboard change: %+v", list.Events)
	}
	resp.Body.Close()
	b.post(t, testkit.Kaleyra(testkit.Order("wamid.logB").At(time.Now())))
	resp, next = open(s.id)
	defer resp.Body.Close()
	// Events of the grace window before the cursor may come again (the
	// page counts each order once and ignores versions it has); nothing
	// after the cursor is lost.
	for {
		e := next()
		if e.data == `{"id":"wamid.logB"}` {
			break
		}
		if e.id > s.id {
			t.Fatalf("after reconnect = %+v; want wamid.logB next", e)
		}
	}
}

func TestEventCursor(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 5, 20, 0, 0, 123e6, time.UTC)
	c := ui.EventCursor(at)
	if len(c) != len("evt_")+26 {
		t.Fatalf("cursor %q has the wrong length", c)
	}
	ids := &events.IDs{Now: func() time.Time { return at }}
	if id := ids.New(); id <= c || id[:14] != c[:14] {
		t.Fatalf("an id made at the cursor's time (%s) does not sort after it (%s)", id, c)
	}
	if id := (&events.IDs{Now: func() time.Time { return at.Add(-time.Millisecond) }}).New(); id >= c {
		t.Fatalf("an id made before the cursor (%s) sorts after it (%s)", id, c)
	}
}

// deadWebhook adds an endpoint with a hostile description whose receiver
// failed for good on the first want deliveries (of orders posted before),
// and returns its id.
func deadWebhook(t *testing.T, b *bundle, want int) string {
	t.Helper()
	ctx := context.Background()
	const hostile = `<img src=x onerror="document.title='pwned'">Zoë`
	r := b.api(t, http.MethodPost, "/v1/webhooks", map[string]any{"url": "http://receiver.test/hook", "description": hostile,
		"event_types": []string{"order.created"}})
	if r.status != http.StatusCreated {
		t.Fatalf("create webhook: %s", r)
	}
	hooks, err := b.store.ListWebhooks(ctx)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks: %v %v", hooks, err)
	}
	id := hooks[0].ID
	// The endpoint's deliveries of the orders posted before it existed.
	if _, err := b.store.Redeliver(ctx, store.RedeliverParams{Sinks: []string{id}, Since: time.Now().Add(-24 * time.Hour), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for n := 0; n < want; {
		ds, err := b.store.ClaimDeliveries(ctx, store.ClaimParams{Sink: id, Owner: "test", Limit: want - n, Now: now, Lease: time.Minute})
		if err != nil || len(ds) == 0 {
			t.Fatalf("claim after %d: %v %v", n, ds, err)
		}
		var fin []store.Finish
		for _, d := range ds {
			fin = append(fin, store.Finish{ID: d.ID, Owner: "test", Attempt: d.Attempts, State: store.DeliveryDead, Health: store.HealthFail,
				Record: store.Attempt{At: now, Status: 500, Error: "HTTP 500: " + hostile, Response: []byte(hostile), Result: "dead"}})
		}
		if _, err := b.store.FinishDeliveries(ctx, store.FinishParams{Now: now, Finishes: fin}); err != nil {
			t.Fatal(err)
		}
		n += len(ds)
	}
	return id
}

// TestOrdersCurrencyFilter: currency= on /v1/orders, its export and the
// dashboard's orders page (with its export link) picks orders with a
// total in that currency; an unknown code answers 400.
func TestOrdersCurrencyFilter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.post(t,
		testkit.Kaleyra(testkit.Order("wamid.inr").Item("a", 1, "100.00", "INR")),
		testkit.Kaleyra(testkit.Order("wamid.usd").Item("b", 1, "19.99", "USD")),
		testkit.Kaleyra(testkit.Order("wamid.both").Item("a", 1, "100.00", "INR").Item("b", 1, "19.99", "USD")),
	)
	var list struct {
		Orders []struct{ ID string } `json:"orders"`
	}
	b.get(t, "/v1/orders?currency=usd", http.StatusOK, &list)
	if len(list.Orders) != 2 || list.Orders[0].ID == "wamid.inr" || list.Orders[1].ID == "wamid.inr" {
		t.Fatalf("currency=usd: %+v", list.Orders)
	}
	wantError(t, b.api(t, http.MethodGet, "/v1/orders?currency=XYZ", nil), http.StatusBadRequest, "invalid")
	csv := b.api(t, http.MethodGet, "/v1/orders/export?format=csv&currency=INR", nil)
	if csv.status != http.StatusOK || !strings.Contains(string(csv.body), "wamid.inr") || strings.Contains(string(csv.body), "wamid.usd") {
		t.Fatalf("export currency=INR: %s", csv)
	}
	u := uiLogin(t, b, "zoe", store.RoleViewer)
	page := string(uiGet(t, b, u, "/ui/orders?currency=USD", http.StatusOK).body)
	if strings.Count(page, "<tr data-href=") != 2 || strings.Contains(page, `data-id="wamid.inr"`) ||
		!strings.Contains(page, `id="currency" name="currency" value="USD"`) || !strings.Contains(page, "currency=USD&amp;format=csv") {
		t.Fatalf("orders page currency=USD:\n%s", page)
	}
	uiGet(t, b, u, "/ui/orders?currency=nope", http.StatusBadRequest)
}

// TestUIForcedPasswordChange: a user with a generated password (the
// first admin, one added or reset in the dashboard) can do nothing but
// choose their own; the change ends the old sessions and keeps this
// browser logged in with a new one.
func TestUIForcedPasswordChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const once = "generated one-time pw"
	if _, err := b.store.CreateUser(context.Background(), store.CreateUserParams{Username: "admin", Role: store.RoleAdmin,
		PasswordHash: password.Hash(once), MustChangePassword: true}); err != nil {
		t.Fatal(err)
	}
	r := uiForm(t, b, uiUser{}, "/ui/login", url.Values{"username": {"admin"}, "password": {once}, "next": {"/ui/orders"}})
	var u uiUser
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == ui.CookieName {
			u.cookie = c.Name + "=" + c.Value
		}
	}
	if r.status != http.StatusSeeOther || u.cookie == "" {
		t.Fatalf("login = %v", r)
	}
	for _, p := range []string{"/ui/orders", "/ui/", "/ui/users"} {
		if g := uiGet(t, b, u, p, http.StatusSeeOther); g.header.Get("Location") != "/ui/password" {
			t.Fatalf("GET %s with a generated password = %v", p, g.header)
		}
	}
	form := uiGet(t, b, u, "/ui/password", http.StatusOK)
	if !strings.Contains(string(form.body), "choose your own") {
		t.Errorf("the password page does not say why")
	}
	u.csrf = string(regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(form.body)[1])
	if r := uiForm(t, b, u, "/ui/users", url.Values{"username": {"eve"}, "role": {"admin"}}); r.status != http.StatusForbidden {
		t.Fatalf("adding a user before the change = %v", r)
	}
	for _, bad := range []url.Values{
		{"current": {"wrong"}, "password": {"a new long password"}, "again": {"a new long password"}},
		{"current": {once}, "password": {"a new long password"}, "again": {"another long password"}},
		{"current": {once}, "password": {"short"}, "again": {"short"}},
		{"current": {once}, "password": {once}, "again": {once}},
	} {
		if r := uiForm(t, b, u, "/ui/password", bad); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("password change %v = %v", bad, r)
		}
	}
	r = uiForm(t, b, u, "/ui/password", url.Values{"current": {once}, "password": {"a new long password"}, "again": {"a new long password"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("password change = %v", r)
	}
	old := u.cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == ui.CookieName {
			u.cookie = c.Name + "=" + c.Value
		}
	}
	if u.cookie == old {
		t.Fatalf("no new session after the change")
	}
	uiGet(t, b, uiUser{cookie: old}, "/ui/orders", http.StatusSeeOther) // the old session ended: to the login
	uiGet(t, b, u, "/ui/orders", http.StatusOK)
	if usr, _ := b.store.GetUser(context.Background(), "admin"); usr.MustChangePassword || !password.Verify(usr.PasswordHash, "a new long password") {
		t.Fatalf("after the change: %+v", usr)
	}
	// A user added in the dashboard gets a generated password: one-time.
	a := uiLogin(t, b, "ada", store.RoleAdmin)
	if r := uiForm(t, b, a, "/ui/users", url.Values{"username": {"eve"}, "role": {"staff"}}); r.status != http.StatusOK {
		t.Fatalf("add user = %v", r)
	}
	if eve, _ := b.store.GetUser(context.Background(), "eve"); !eve.MustChangePassword {
		t.Fatalf("a user added with a generated password need not change it: %+v", eve)
	}
}
