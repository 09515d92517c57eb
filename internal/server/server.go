// Package server is the HTTP face of waorders: the listener and its
// lifecycle, routes.go (every route of every surface, in one place), and
// the middleware (request id, recover, log, API token). The surfaces are
// packages of their own: api (the /v1 API), callbacks (the provider's
// callbacks and token endpoint) and ops (health, readiness, metrics); httpx
// holds what they share, among it the one error writer, where errors
// become HTTP statuses.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server/api"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
)

// Config holds everything the server needs. Dependencies are built by the
// caller (internal/cli) and passed in; the server owns none of them.
type Config struct {
	Addr    string
	Store   store.Store
	Intake  *intake.Intake
	Auth    *callbackauth.Authenticator // callback authentication; nil only with InsecureNoAuth
	Metrics *metrics.Metrics
	Logger  *slog.Logger

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
}

// Server is the HTTP server. Open starts it; Close stops it gracefully.
type Server struct {
	cfg    Config
	log    *slog.Logger
	errors *httpx.ErrorWriter
	ln     net.Listener
	http   *http.Server
	done   chan error
}

// New checks cfg and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Intake == nil {
		return nil, errors.New("server: store and intake are required")
	}
	if cfg.Auth == nil && !cfg.InsecureNoAuth {
		return nil, errors.New("server: callback authentication is required (or InsecureNoAuth)")
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
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Open listens on the configured address (":0" picks a free port) and
// serves in the background. Listening first makes port errors synchronous.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.done = make(chan error, 1)
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the server's base URL, e.g. "http://127.0.0.1:8080".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Done yields the serve loop's error (nil after Close) once it has stopped.
func (s *Server) Done() <-chan error { return s.done }

// Close stops accepting connections and waits for in-flight requests (and
// so their commits) to finish, up to ctx's deadline.
func (s *Server) Close(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
