// Package server is the HTTP face of waorders: the listener and its
// lifecycle, routes.go (every route of every surface, in one place), and
// the middleware (request id, recover, log, API token). The surfaces are
// packages of their own: api (the /v1 API), callbacks (the provider's
// callbacks and token endpoint) and ops (health, readiness, metrics); httpx
// holds what they share, among it the one error writer, where errors
// become HTTP statuses.
//
// The server listens on one address, or on two with AdminAddr: then the
// public one carries only the callbacks, /healthz and /readyz, and the
// admin one the API, /metrics, the profiler and the health endpoints.
// Credentials (callback authentication, API tokens, Meta secrets) can be
// replaced while serving (SetCredentials, on SIGHUP): each request takes
// the current set once and finishes with it.
package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server/api"
	"github.com/waorders/waorders/internal/server/callbacks"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/server/ops"
	"github.com/waorders/waorders/internal/server/ui"
	"github.com/waorders/waorders/internal/store"
)

// Config holds everything the server needs. Dependencies are built by the
// caller (internal/cli) and passed in; the server owns none of them.
type Config struct {
	Addr string
	// AdminAddr, when set, is a second listener for the API, /metrics and
	// the profiler (and /healthz, /readyz); Addr then serves only the
	// callbacks and the health endpoints, so it alone faces the internet.
	AdminAddr string
	// AdminProfiler serves Go's profiler (/debug/pprof/) on AdminAddr.
	AdminProfiler bool
	// Writes, when set, tracks whether storage takes writes: /readyz is
	// not ready after a failed commit (see ops.Writes).
	Writes *ops.Writes

	Store   store.Store
	Intake  *intake.Intake
	Auth    *callbackauth.Authenticator // callback authentication; nil only with InsecureNoAuth
	Metrics *metrics.Metrics
	Logger  *slog.Logger

	// BusinessTZ is the business time zone: the day boundaries of reports
	// and of date-only since/until values (nil: UTC).
	BusinessTZ *time.Location
	// Auth, APITokens, MetaAppSecrets and MetaVerifyToken are the initial
	// credentials; SetCredentials replaces them.
	// APITokens are the Bearer tokens accepted on /v1 (any one, for rotation).
	APITokens []string
	// MetaAppSecrets verify X-Hub-Signature-256 on POST /v1/callbacks/meta.
	MetaAppSecrets []string
	// MetaVerifyToken answers Meta's GET handshake.
	MetaVerifyToken string
	// InsecureNoAuth accepts callbacks without authentication (local trials).
	InsecureNoAuth bool

	MaxBodyBytes      int64
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// RetryAfter is sent with 503 answers.
	RetryAfter time.Duration
	// EventLog serves /v1/events and /v1/webhooks and appends the events
	// of status changes (nil: off).
	EventLog *api.EventsAPI
	// Notify serves /v1/notifications, /v1/outbound and the customers'
	// messages and conversations (issue 15); nil turns them off.
	Notify *api.NotifyAPI

	// UISecureCookies marks the dashboard's cookies Secure over plain HTTP
	// too (TLS ends at a proxy); over TLS they always are.
	UISecureCookies bool
	// UIPoll is how often the dashboard's live stream looks for new
	// orders in storage; zero means 2 s.
	UIPoll time.Duration
}

// Server is the HTTP server. Open starts it; Close stops it gracefully.
type Server struct {
	cfg    Config
	log    *slog.Logger
	errors *httpx.ErrorWriter
	creds  atomic.Pointer[credState]

	ln        net.Listener
	http      *http.Server
	adminLn   net.Listener
	adminHTTP *http.Server
	done      chan error

	ui *ui.Handler // the dashboard; its live streams end on Close
}

// Credentials are what a reload replaces.
type Credentials struct {
	Auth            *callbackauth.Authenticator // nil only with Config.InsecureNoAuth
	APITokens       []string
	MetaAppSecrets  []string
	MetaVerifyToken string
}

// credState is one set of credentials with the handlers built on them.
// It is never changed after it is built; SetCredentials swaps the pointer.
type credState struct {
	Credentials
	kaleyra, meta, metaHandshake, token http.Handler
	apiTokens                           [][32]byte // SHA-256 digests
}

// New checks cfg and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Intake == nil {
		return nil, errors.New("server: store and intake are required")
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 4 << 20
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 5 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 60 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 120 * time.Second
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 5 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger, errors: &httpx.ErrorWriter{Log: cfg.Logger, RetryAfter: cfg.RetryAfter}}
	if err := s.SetCredentials(Credentials{
		Auth: cfg.Auth, APITokens: cfg.APITokens, MetaAppSecrets: cfg.MetaAppSecrets, MetaVerifyToken: cfg.MetaVerifyToken,
	}); err != nil {
		return nil, err
	}
	var err error
	uc := ui.Config{
		Orders: cfg.Store, Messages: cfg.Store, Customers: cfg.Store, Reports: cfg.Store, Quarantine: cfg.Store,
		Users: cfg.Store, Retry: cfg.Intake.Retry, Log: cfg.Logger, SecureCookies: cfg.UISecureCookies, Poll: cfg.UIPoll,
		Location: cfg.BusinessTZ,
		// A status change made in the dashboard appends its event like one
		// made through the API.
		UpdateStatus: (&api.Handler{Orders: cfg.Store, EventLog: cfg.EventLog}).UpdateOrderStatus,
	}
	if ev := cfg.EventLog; ev != nil {
		uc.Events, uc.Webhooks, uc.Relay, uc.Wake = ev.Events, ev.Webhooks, ev.Relay, ev.Wake
	}
	if cfg.Notify != nil {
		uc.Outbound = cfg.Notify.Outbound
	}
	// Logins are limited per client address: behind trusted proxies, the
	// one they report, as the callbacks' IP allowlist reads it.
	uc.ClientIP = func(r *http.Request) string {
		if a := s.creds.Load().Auth; a != nil {
			if ip := a.ClientIP(r); ip.IsValid() {
				return ip.String()
			}
		}
		return ""
	}
	if s.ui, err = ui.New(uc); err != nil {
		return nil, err
	}
	public := scopeAll
	if cfg.AdminAddr != "" {
		public = scopePublic
		admin := http.NewServeMux()
		if cfg.AdminProfiler {
			// /debug/pprof/cmdline is left out: flags can carry secrets.
			admin.HandleFunc("GET /debug/pprof/", pprof.Index)
			admin.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
			admin.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
			admin.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		}
		admin.Handle("/", s.handler(scopeAdmin))
		s.adminHTTP = s.newHTTPServer(admin)
	}
	s.http = s.newHTTPServer(s.handler(public))
	return s, nil
}

func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
	}
	// Shutdown waits for handlers; the dashboard's live streams never end
	// by themselves, so they are told to.
	srv.RegisterOnShutdown(s.ui.Shutdown)
	return srv
}

// SetCredentials replaces the credentials every later request is checked
// with; requests already being handled finish with the ones they started
// with. It refuses a nil Auth unless the server accepts callbacks without
// authentication, and then changes nothing.
func (s *Server) SetCredentials(c Credentials) error {
	if c.Auth == nil && !s.cfg.InsecureNoAuth {
		return errors.New("server: callback authentication is required (or InsecureNoAuth)")
	}
	cb := &callbacks.Handler{
		Process: s.cfg.Intake.Process, Auth: c.Auth, Metrics: s.cfg.Metrics, Errors: s.errors,
		MetaAppSecrets: c.MetaAppSecrets, MetaVerifyToken: c.MetaVerifyToken,
		InsecureNoAuth: s.cfg.InsecureNoAuth, MaxBodyBytes: s.cfg.MaxBodyBytes,
	}
	st := &credState{
		Credentials:   c,
		kaleyra:       cb.RequireAuth(s.errors.Handle(cb.Kaleyra)),
		meta:          s.errors.Handle(cb.Meta),
		metaHandshake: s.errors.Handle(cb.MetaHandshake),
		token:         cb.Token(),
	}
	for _, t := range c.APITokens {
		st.apiTokens = append(st.apiTokens, sha256.Sum256([]byte(t)))
	}
	s.creds.Store(st)
	return nil
}

// Credentials returns the credentials in use.
func (s *Server) Credentials() Credentials { return s.creds.Load().Credentials }

// live serves a request with the handler pick chooses from the credentials
// in use when the request arrives.
func (s *Server) live(pick func(*credState) http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pick(s.creds.Load()).ServeHTTP(w, r)
	})
}

// scope is which routes one listener serves.
type scope int

const (
	scopeAll    scope = iota // one listener: everything
	scopePublic              // --addr beside --admin-addr: callbacks and health
	scopeAdmin               // --admin-addr: everything but the callbacks
)

// inScope reports whether path belongs to sc.
func inScope(sc scope, path string) bool {
	callback := strings.HasPrefix(path, "/v1/callbacks/")
	health := path == "/healthz" || path == "/readyz"
	switch sc {
	case scopePublic:
		return callback || health
	case scopeAdmin:
		return !callback
	}
	return true
}

// handler is the routes of sc behind the middleware. A path of the other
// listener answers 404 saying where it is served.
func (s *Server) handler(sc scope) http.Handler {
	mux := s.routes()
	var h http.Handler = mux
	if sc != scopeAll {
		where := "the admin listener (--admin-addr)"
		if sc == scopeAdmin {
			where = "the public listener (--addr)"
		}
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !inScope(sc, r.URL.Path) {
				s.errors.Error(w, r, waorders.Errorf(waorders.CodeNotFound, "%s is served on %s", r.URL.Path, where))
				return
			}
			mux.ServeHTTP(w, r)
		})
	}
	return s.withRequestID(s.withRecover(s.withLog(h)))
}

// Open listens on the configured address(es) (":0" picks a free port) and
// serves in the background. Listening first makes port errors synchronous.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	if s.adminHTTP != nil {
		aln, err := net.Listen("tcp", s.cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on --admin-addr %s: %w", s.cfg.AdminAddr, err)
		}
		s.adminLn = aln
	}
	s.ln = ln
	s.done = make(chan error, 2)
	serve := func(srv *http.Server, ln net.Listener) {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}
	go serve(s.http, ln)
	if s.adminLn != nil {
		go serve(s.adminHTTP, s.adminLn)
	}
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the server's base URL, e.g. "http://127.0.0.1:8080".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// AdminURL returns the admin listener's base URL, or "" without one.
func (s *Server) AdminURL() string {
	if s.adminLn == nil {
		return ""
	}
	return "http://" + s.adminLn.Addr().String()
}

// Done yields a serve loop's error (nil after Close) once it has stopped;
// with an admin listener, each of the two loops sends once.
func (s *Server) Done() <-chan error { return s.done }

// Close stops accepting connections and waits for in-flight requests (and
// so their commits) to finish, up to ctx's deadline. Both listeners drain
// at once, under the one deadline.
func (s *Server) Close(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	adminErr := make(chan error, 1)
	if s.adminLn != nil {
		go func() { adminErr <- s.adminHTTP.Shutdown(ctx) }()
	} else {
		adminErr <- nil
	}
	var errs []error
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shut down http server: %w", err))
	}
	if err := <-adminErr; err != nil {
		errs = append(errs, fmt.Errorf("shut down admin listener: %w", err))
	}
	return errors.Join(errs...)
}
