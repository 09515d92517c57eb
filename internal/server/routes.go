package server

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/waorders/waorders/internal/server/api"
	"github.com/waorders/waorders/internal/server/ops"
	"github.com/waorders/waorders/internal/store"
)

// Handler returns the whole HTTP surface of waorders. Every route of every
// surface is registered here, in one place: its path, its methods, its
// middleware and its handler.
func (s *Server) Handler() http.Handler { return s.handler(scopeAll) }

// routes registers every route on one mux; handler wraps it in the
// middleware and, with --admin-addr, limits it to one listener's routes.
func (s *Server) routes() *http.ServeMux {
	var (
		handle = s.errors.Handle // func(w, r) error -> http.Handler, errors to the one error writer
		token  = s.requireAPIToken
		// Callback handlers hold credentials, which a reload (SIGHUP)
		// replaces: each request takes the current set once (live).
		cb = s.live
		op = &ops.Handler{Ping: s.cfg.Store.Ping, Metrics: s.cfg.Metrics, Writes: s.cfg.Writes}
		v1 = &api.Handler{
			Messages: s.cfg.Store, Orders: s.cfg.Store, Reports: s.cfg.Store, Quarantine: s.cfg.Store,
			Customers: s.cfg.Store, Changes: s.cfg.Store,
			Retry: s.cfg.Intake.Retry, Log: s.log, WriteTimeout: s.cfg.WriteTimeout, Location: s.cfg.BusinessTZ,
			EventLog: s.cfg.EventLog, Notify: s.cfg.Notify,
		}
	)
	mux := http.NewServeMux()

	// Callbacks (package callbacks): authenticated by the callback methods,
	// not the API token.
	s.route(mux, "/v1/callbacks/kaleyra", map[string]http.Handler{"POST": cb(func(c *credState) http.Handler { return c.kaleyra })})
	s.route(mux, "/v1/callbacks/meta", map[string]http.Handler{
		"GET":  cb(func(c *credState) http.Handler { return c.metaHandshake }), // Meta's verification handshake (verify token)
		"POST": cb(func(c *credState) http.Handler { return c.meta }),          // X-Hub-Signature-256 checked over the raw body
	})
	s.route(mux, "/v1/callbacks/token", map[string]http.Handler{"POST": cb(func(c *credState) http.Handler { return c.token })})

	// Operations (package ops): no authentication.
	s.route(mux, "/healthz", map[string]http.Handler{"GET": handle(op.Healthz)})
	s.route(mux, "/readyz", map[string]http.Handler{"GET": handle(op.Readyz)})
	s.route(mux, "/metrics", map[string]http.Handler{"GET": op.MetricsHandler()})

	// The API (package api): Bearer API token.
	s.route(mux, "/v1/messages", map[string]http.Handler{"GET": token(handle(v1.MessageList))})
	s.route(mux, "/v1/messages/{id}", map[string]http.Handler{"GET": token(handle(v1.MessageGet))})
	s.route(mux, "/v1/messages/{id}/statuses", map[string]http.Handler{"GET": token(handle(v1.MessageStatuses))})
	s.route(mux, "/v1/statuses", map[string]http.Handler{"GET": token(handle(v1.StatusList))})
	s.route(mux, "/v1/changes", map[string]http.Handler{"GET": token(handle(v1.ChangeList))})
	s.route(mux, "/v1/orders", map[string]http.Handler{"GET": token(handle(v1.OrderList))})
	s.route(mux, "/v1/orders/{id}", map[string]http.Handler{"GET": token(handle(v1.OrderGet))})
	// Only GET: other methods on /v1/orders/export fall through to the
	// /v1/orders/{id} 405, which allows GET and HEAD as export does. A
	// method-less pattern here would conflict with "GET /v1/orders/{id}".
	mux.Handle("GET /v1/orders/export", token(handle(v1.OrderExport)))
	s.route(mux, "/v1/orders/{id}/status", map[string]http.Handler{"POST": token(handle(v1.OrderStatus))})
	s.route(mux, "/v1/orders/{id}/review", map[string]http.Handler{"POST": token(handle(v1.OrderReview))})
	s.route(mux, "/v1/orders/{id}/refunds", map[string]http.Handler{"POST": token(handle(v1.OrderRefund))})
	s.route(mux, "/v1/customers/{id}", map[string]http.Handler{"GET": token(handle(v1.CustomerGet))})
	s.route(mux, "/v1/reports/campaigns", map[string]http.Handler{"GET": token(handle(v1.CampaignReport))})
	s.route(mux, "/v1/quarantine", map[string]http.Handler{"GET": token(handle(v1.QuarantineList))})
	s.route(mux, "/v1/quarantine/{id}", map[string]http.Handler{"GET": token(handle(v1.QuarantineGet))})
	s.route(mux, "/v1/quarantine/{id}/retry", map[string]http.Handler{"POST": token(handle(v1.QuarantineRetry))})
	// The event log and the webhook endpoints, when the event log is on.
	if v1.EventLog != nil {
		s.route(mux, "/v1/events", map[string]http.Handler{"GET": token(handle(v1.EventList))})
		s.route(mux, "/v1/events/{id}", map[string]http.Handler{"GET": token(handle(v1.EventGet))})
		s.route(mux, "/v1/events/{id}/redeliver", map[string]http.Handler{"POST": token(handle(v1.EventRedeliver))})
		s.route(mux, "/v1/webhooks", map[string]http.Handler{
			"GET": token(handle(v1.WebhookList)), "POST": token(handle(v1.WebhookCreate)),
		})
		s.route(mux, "/v1/webhooks/{id}", map[string]http.Handler{
			"GET": token(handle(v1.WebhookGet)), "PATCH": token(handle(v1.WebhookUpdate)),
			"DELETE": token(handle(v1.WebhookDelete)),
		})
		s.route(mux, "/v1/webhooks/{id}/test", map[string]http.Handler{"POST": token(handle(v1.WebhookTest))})
		s.route(mux, "/v1/webhooks/{id}/attempts", map[string]http.Handler{"GET": token(handle(v1.WebhookAttempts))})
		s.route(mux, "/v1/webhooks/{id}/replay", map[string]http.Handler{"POST": token(handle(v1.WebhookReplay))})
	}
	// Notifications, outbound messages, staff messages and the
	// conversation, when notifications are on (issue 15).
	if v1.Notify != nil {
		s.route(mux, "/v1/notifications", map[string]http.Handler{
			"GET": token(handle(v1.NotificationsGet)), "PUT": token(handle(v1.NotificationsPut)),
		})
		s.route(mux, "/v1/notifications/senders/{phone_number_id}/resume", map[string]http.Handler{"POST": token(handle(v1.NotificationsResume))})
		s.route(mux, "/v1/outbound", map[string]http.Handler{"GET": token(handle(v1.OutboundList))})
		s.route(mux, "/v1/outbound/{id}", map[string]http.Handler{"GET": token(handle(v1.OutboundGet))})
		s.route(mux, "/v1/customers/{id}/messages", map[string]http.Handler{"POST": token(handle(v1.CustomerMessageSend))})
		s.route(mux, "/v1/customers/{id}/conversation", map[string]http.Handler{"GET": token(handle(v1.CustomerConversation))})
	}
	// The API's description is public: it holds no data.
	s.route(mux, "/v1/openapi.json", map[string]http.Handler{"GET": handle(s.handleOpenAPI)})

	// The dashboard (package ui): staff sessions by cookie, a role per
	// route (viewer reads, staff changes orders and the quarantine, admin
	// manages users); every POST is refused cross-site and needs the
	// session's form token (ui.Auth).
	var (
		d    = s.ui
		page = func(role string, fn func(http.ResponseWriter, *http.Request) error) http.Handler {
			return d.Auth(role, d.Page(fn))
		}
		cross = http.NewCrossOriginProtection()
		post  = func(role string, fn func(http.ResponseWriter, *http.Request) error) http.Handler {
			return cross.Handler(page(role, fn))
		}
	)
	cross.SetDenyHandler(http.HandlerFunc(d.CrossSite))
	s.route(mux, "/{$}", map[string]http.Handler{"GET": http.RedirectHandler("/ui/", http.StatusSeeOther)})
	s.route(mux, "/ui/static/{file}", map[string]http.Handler{"GET": http.HandlerFunc(d.Static)})
	s.route(mux, "/ui/login", map[string]http.Handler{"GET": http.HandlerFunc(d.LoginForm), "POST": cross.Handler(http.HandlerFunc(d.Login))})
	s.route(mux, "/ui/logout", map[string]http.Handler{"POST": cross.Handler(d.Auth(store.RoleViewer, http.HandlerFunc(d.Logout)))})
	s.route(mux, "/ui/{$}", map[string]http.Handler{"GET": page(store.RoleViewer, d.Overview)})
	s.route(mux, "/ui/events", map[string]http.Handler{"GET": d.Auth(store.RoleViewer, http.HandlerFunc(d.Events))})
	s.route(mux, "/ui/orders", map[string]http.Handler{"GET": page(store.RoleViewer, d.Orders)})
	// The export of the filtered set is the API's own export, behind the
	// session instead of the token: the filters have the same names.
	mux.Handle("GET /ui/orders/export", d.Auth(store.RoleViewer, handle(v1.OrderExport)))
	s.route(mux, "/ui/orders/{id}", map[string]http.Handler{"GET": page(store.RoleViewer, d.Order)})
	s.route(mux, "/ui/orders/{id}/status", map[string]http.Handler{"POST": post(store.RoleStaff, d.OrderStatus)})
	s.route(mux, "/ui/customers/{id}", map[string]http.Handler{"GET": page(store.RoleViewer, d.Customer)})
	s.route(mux, "/ui/campaigns", map[string]http.Handler{"GET": page(store.RoleViewer, d.Campaigns)})
	s.route(mux, "/ui/messages", map[string]http.Handler{"GET": page(store.RoleViewer, d.Messages)})
	s.route(mux, "/ui/quarantine", map[string]http.Handler{"GET": page(store.RoleViewer, d.QuarantineList)})
	// With methods only, like /v1/orders/export: a method-less pattern
	// would conflict with "GET /ui/quarantine/{id}".
	mux.Handle("GET /ui/quarantine/retry", page(store.RoleStaff, d.QuarantineRetryAll))
	mux.Handle("POST /ui/quarantine/retry", post(store.RoleStaff, d.QuarantineRetryAll))
	s.route(mux, "/ui/quarantine/{id}", map[string]http.Handler{"GET": page(store.RoleViewer, d.QuarantineEntry)})
	s.route(mux, "/ui/quarantine/{id}/retry", map[string]http.Handler{"POST": post(store.RoleStaff, d.QuarantineRetry)})
	// Webhook endpoints and their deliveries, when the event log is on:
	// staff read, an admin enables, disables and replays.
	if s.cfg.EventLog != nil {
		s.route(mux, "/ui/webhooks", map[string]http.Handler{"GET": page(store.RoleStaff, d.Webhooks)})
		s.route(mux, "/ui/webhooks/{id}", map[string]http.Handler{
			"GET": page(store.RoleStaff, d.Webhook), "POST": post(store.RoleAdmin, d.WebhookChange),
		})
	}
	s.route(mux, "/ui/password", map[string]http.Handler{"GET": page(store.RoleViewer, d.PasswordForm), "POST": post(store.RoleViewer, d.PasswordChange)})
	s.route(mux, "/ui/users", map[string]http.Handler{"GET": page(store.RoleAdmin, d.Users), "POST": post(store.RoleAdmin, d.UserAdd)})
	s.route(mux, "/ui/users/{name}", map[string]http.Handler{"POST": post(store.RoleAdmin, d.UserChange)})

	mux.Handle("/", handle(s.handleNotFound))
	return mux
}

// route registers each method's handler on pattern, and a 405 with an
// Allow header for every other method.
func (s *Server) route(mux *http.ServeMux, pattern string, byMethod map[string]http.Handler) {
	methods := slices.Sorted(maps.Keys(byMethod))
	for _, m := range methods {
		mux.Handle(m+" "+pattern, byMethod[m])
	}
	if _, ok := byMethod["GET"]; ok {
		methods = append(methods, "HEAD")
	}
	allow := strings.Join(methods, ", ")
	mux.Handle(pattern, s.errors.Handle(s.methodNotAllowed(allow)))
}
