// Package ui is the dashboard the store team works in, served under /ui/
// by waorders serve itself: html/template pages and one hand-written
// script and style sheet, all embedded in the binary (no Node, no CDN, no
// build step). Every page reads with JavaScript off; app.js adds live
// updates, local times, keyboard shortcuts and confirmations.
//
// Staff log in with a username and password (Argon2id, see package
// password); a session is a random token in an HttpOnly, SameSite=Lax
// cookie, stored by its SHA-256. Every POST is refused when cross-site
// (http.CrossOriginProtection: Sec-Fetch-Site, else Origin) and must carry
// the session's form token. Every answer carries a strict
// Content-Security-Policy with no inline script or style.
//
// Data is read through the store's area interfaces only; routes are
// listed in internal/server/routes.go.
package ui

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CSP is the Content-Security-Policy of every dashboard answer: scripts,
// styles and connections from this origin only, nothing inline, no
// framing, forms post here only.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Config is what the dashboard reads and writes through.
type Config struct {
	Orders     store.Orders
	Messages   store.Messages
	Customers  store.Customers
	Reports    store.Reports
	Quarantine store.Quarantine
	Users      store.Users
	// Events, Webhooks and Relay are the event log, its endpoints and
	// their deliveries; nil when the event log is off (then the live
	// stream polls orders and there are no webhook pages).
	Events   store.Events
	Webhooks store.Webhooks
	Relay    store.Relay
	// Wake tells the relay there is work after a replay (may be nil).
	Wake func()
	// Outbound lists the messages waorders sent; nil when order
	// notifications are off (then the order page has no notifications).
	Outbound store.Outbound
	// UpdateStatus changes an order's status (with its event, when the
	// event log is on); default Orders.UpdateOrderStatus.
	UpdateStatus func(ctx context.Context, p store.UpdateOrderStatusParams) (*waorders.Order, error)
	// Retry re-runs a quarantined body (intake.Retry).
	Retry func(ctx context.Context, id int64) (*intake.RetryResult, error)
	Log   *slog.Logger
	// SecureCookies marks cookies Secure over plain HTTP too.
	SecureCookies bool
	// Poll is how often a live stream looks for new orders (default 2 s).
	Poll time.Duration
	// SessionTTL is how long a login lasts (default 12 h).
	SessionTTL time.Duration
	// ClientIP names the client of a request for the login rate limit:
	// behind trusted proxies, the address they report (default: the
	// peer's).
	ClientIP func(r *http.Request) string
	// Location is the business time zone: the overview's days start at
	// its midnight (default UTC).
	Location *time.Location
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Handler serves the dashboard's routes.
type Handler struct {
	cfg    Config
	pages  map[string]*template.Template
	assets map[string]asset // by hashed name
	urls   map[string]string
	limit  *limiter

	done     chan struct{} // closed by Shutdown: live streams end
	doneOnce sync.Once
}

type asset struct {
	body  []byte
	ctype string
}

// New parses every template and hashes every asset; a template that does
// not parse fails here, at start-up, not on a request.
func New(cfg Config) (*Handler, error) {
	cfg.Log = cmp.Or(cfg.Log, slog.New(slog.DiscardHandler))
	cfg.Poll = cmp.Or(cfg.Poll, 2*time.Second)
	cfg.SessionTTL = cmp.Or(cfg.SessionTTL, 12*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.UpdateStatus == nil && cfg.Orders != nil {
		cfg.UpdateStatus = cfg.Orders.UpdateOrderStatus
	}
	h := &Handler{cfg: cfg, assets: map[string]asset{}, urls: map[string]string{}, done: make(chan struct{}),
		limit: newLimiter(cfg.Now)}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := path.Base(p)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ctype := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}[ext]
		h.assets[hashed] = asset{body: b, ctype: ctype}
		h.urls[name] = "/ui/static/" + hashed
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui assets: %w", err)
	}
	if h.pages, err = parsePages(h.funcs()); err != nil {
		return nil, err
	}
	return h, nil
}

// parsePages builds one template set per page: the layout with the page's
// blocks. Every file under templates/ is either the layout or a page.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("ui templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := path.Base(n)
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("ui template %s: %w", name, err)
		}
		pages[strings.TrimSuffix(name, ".html")] = t
	}
	return pages, nil
}

// Shutdown ends every live stream (the server calls it when it shuts
// down, so Shutdown does not wait for streams that never end).
func (h *Handler) Shutdown() { h.doneOnce.Do(func() { close(h.done) }) }

// secure sets the headers every dashboard answer carries.
func secure(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// Static serves the hashed assets, cached for good.
func (h *Handler) Static(w http.ResponseWriter, r *http.Request) {
	secure(w)
	a, ok := h.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string // the current section, for aria-current
	User    *store.User
	CSRF    string
	Flash   string
	Live    bool   // the page listens to the live stream
	Cursor  string // from where (set by render)
	Hooks   bool   // the webhook pages exist
	Data    any
	Request string
}

// liveCursor is the live stream's cursor of a page rendered now.
func (h *Handler) liveCursor() string {
	if h.cfg.Events != nil {
		return EventCursor(h.cfg.Now())
	}
	return strconv.FormatInt(h.cfg.Now().UnixMicro(), 10)
}

// render writes page name with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := h.pages[name]
	if !ok {
		panic("ui: no template " + name)
	}
	if s := sessionOf(r); s != nil {
		v.User, v.CSRF = s.user, s.csrf
	}
	v.Request = httpx.RequestID(r.Context())
	v.Hooks = h.cfg.Webhooks != nil
	if v.Live {
		v.Cursor = h.liveCursor()
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.cfg.Log.Error("render dashboard page", "page", name, "err", err)
		secure(w)
		http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
		return
	}
	secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Page adapts a handler that returns an error; errors become the
// dashboard's error page with the status the one error map gives.
func (h *Handler) Page(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.fail(w, r, err)
		}
	})
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, d := httpx.Classify(err)
	if status >= 500 {
		h.cfg.Log.Error("dashboard request failed", "err", err, "request_id", httpx.RequestID(r.Context()))
	}
	if waorders.ErrorCode(err) == waorders.CodeInternal || status == http.StatusInternalServerError {
		d.Message = "Something went wrong on our side; the log has the details."
	}
	h.render(w, r, status, "error", view{Title: http.StatusText(status), Data: struct {
		Status  int
		Message string
		Code    string
	}{status, d.Message, d.Code}})
}

// CrossSite answers a POST that came from another site (refused by
// http.CrossOriginProtection).
func (h *Handler) CrossSite(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, waorders.Errorf(waorders.CodeForbidden, "This form was sent from another site, so it was refused."))
}
