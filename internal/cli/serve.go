package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/lifecycle"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/server/ops"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/postgres"
	"github.com/waorders/waorders/internal/store/sqlite"
)

const serveSynopsis = `Usage: waorders serve [options]

Receives Kaleyra (POST /v1/callbacks/kaleyra) and Meta (GET/POST
/v1/callbacks/meta) callbacks, stores them durably and exactly once, and
serves the /v1 API. With no options it listens on 127.0.0.1:8080 and keeps
everything in the SQLite file data/waorders.db; when no callback
authentication or API token is configured it generates them once into
data/credentials.env (mode 0600) and tells you where they are.

Precedence: flags > WAORDERS_* environment > --config file > defaults.
Secrets may also come from files: --api-token-file /run/secrets/token (or
WAORDERS_API_TOKEN_FILE, or api-token-file in the config file), and so for
every secret. SIGHUP re-reads the config file and the secret files and puts
new credentials in use without dropping a request; a reload that fails
keeps the old ones and logs why. Other settings need a restart.
--admin-addr moves the API, /metrics and the profiler to a second, private
listener, so only callbacks and health checks face the internet.
The Go runtime's GOGC and GOMEMLIMIT apply; without GOGC, serve runs the
garbage collector at GOGC=400 (less CPU, some MiB more memory), and without
GOMEMLIMIT, in a container with a memory limit (cgroup v1 or v2), it sets
Go's soft memory limit to 90 % of it less 64 MiB for SQLite's caches, so
the heap is collected before the container is killed (AUTOMEMLIMIT=off
disables that).`

// resolveServe resolves and validates the settings again from the same
// arguments, environment and files, for a reload: every secret file and
// the config file are read again, and generated credentials are taken from
// data/credentials.env again.
func resolveServe(args []string, getenv func(string) string) (config.Serve, error) {
	var cfg config.Serve
	fs := newFlagSet(Env{Getenv: getenv, Stdout: io.Discard, Stderr: io.Discard}, "serve", serveSynopsis, args)
	cfg.Flags(fs)
	if err := config.Resolve(fs, args, getenv, config.ServeSecrets); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid settings: %w", err)
	}
	if _, err := ensureCredentials(&cfg); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func runServe(ctx context.Context, env Env, args []string) error {
	var cfg config.Serve
	fs := newFlagSet(env, "serve", serveSynopsis, args)
	cfg.Flags(fs)
	if err := config.Resolve(fs, args, env.Getenv, config.ServeSecrets); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	log := newLogger(env.Stderr, cfg.LogLevel, cfg.LogFormat)
	defer setGCPercent(env.Getenv, log)()
	defer setMemoryLimit(env.Getenv, memlimit.FromCgroup, log)()

	// Validate before generating credentials: invalid settings write nothing.
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: invalid settings:\n%v", ErrUsage, err)
	}
	creds, err := ensureCredentials(&cfg)
	if err != nil {
		return err
	}

	// SIGHUP reloads the credentials; caught from here on, it no longer
	// ends the process (its default).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	m := &serveMain{Config: cfg, Stdout: env.Stdout, Stderr: env.Stderr, Logger: log, Credentials: creds}
	if err := m.Run(ctx); err != nil {
		return err
	}

	var serveErr error
wait:
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
			break wait
		case serveErr = <-m.server.Done():
			log.Error("server stopped", "err", serveErr)
			break wait
		case <-hup:
			log.Info("SIGHUP: reloading credentials")
			next, err := resolveServe(args, env.Getenv)
			if err == nil {
				err = m.Reload(next)
			}
			if err != nil {
				m.metrics.Reloads.WithLabelValues("error").Inc()
				log.Error("reload failed: the previous credentials stay in use", "err", err)
			}
		}
	}
	var errs []error
	if err := m.Close(); err != nil {
		errs = append(errs, err)
	}
	if serveErr != nil {
		errs = append(errs, serveErr)
	}
	if len(errs) == 0 {
		log.Info("stopped cleanly")
	}
	return errors.Join(errs...)
}

// serveMain is one running `waorders serve`, in the manner of wtf's
// cmd/wtfd Main: runServe resolves and validates the settings, Run opens
// everything and prints the banner, and Close stops everything. Tests and
// future entry points can set Config directly and skip the flags.
//
// Its parts start in this order and stop in the reverse one (a
// lifecycle.Group), which is the shutdown order that loses nothing:
//
//  1. the HTTP server stops accepting and waits for in-flight handlers,
//     so every callback being handled finishes its commit and gets its
//     answer (up to --shutdown-timeout);
//  2. the intake is drained: every handler has returned, so nothing new
//     can be queued, and what is queued is written;
//  3. the profiler (--debug-addr) is closed, at once: it stays up while
//     the API drains, so a slow drain can be profiled, and never waits for
//     a profile being taken;
//  4. the store is closed, last, since everything above writes to it.
//
// All four share one deadline, --shutdown-timeout; each is stopped even
// when an earlier one failed or the deadline passed, and every failure is
// logged with the part's name and returned.
type serveMain struct {
	Config      config.Serve // resolved and validated
	Stdout      io.Writer    // the banner
	Stderr      io.Writer    // the --insecure-no-auth warning
	Logger      *slog.Logger
	Credentials string // the generated credentials file, "" if none

	group   lifecycle.Group
	server  *server.Server
	metrics *metrics.Metrics
}

// Run opens the store, builds the intake, the HTTP server and the
// profiler, starts them, and prints the banner. On error whatever was
// started is stopped again; Close need not be called then.
func (m *serveMain) Run(ctx context.Context) error {
	cfg, log := &m.Config, m.Logger
	m.group.Logger = log
	st, err := openStore(ctx, cfg, log, !cfg.Migrate && cfg.Driver() == "postgres")
	if err != nil {
		return err
	}
	built := false
	defer func() {
		if !built { // nothing else was started: release the store alone
			_ = st.Close()
		}
	}()

	firstAdmin, err := ensureFirstAdmin(ctx, st)
	if err != nil {
		return err
	}
	authn, err := newAuthenticator(cfg, nil)
	if err != nil {
		return err
	}
	met := metrics.New()
	m.metrics = met
	writers := 1
	if cfg.Driver() == "postgres" {
		writers = cfg.Writers
	}
	// /readyz follows the outcome of real commits, not only Ping's.
	writes := &ops.Writes{Writable: met.StorageWritable}
	evAPI, rl, natsSink := forwarding(cfg, st, met, log)
	evLog := &intake.EventLog{Store: trackedTx{st: st, writes: writes}, Builder: evAPI.Builder, Sinks: evAPI.Sinks, Notify: evAPI.Wake}
	if rl != nil {
		evLog.Rider = rl // every group commit tells the relay its load; on SQLite the relay's writes ride it
	}
	notifyAPI, outboundHook, notifier, err := notifications(cfg, st, evAPI, met, log)
	if err != nil {
		return err
	}
	in := intake.New(trackedStore{Store: st, writes: writes},
		intake.Config{MaxBatch: cfg.BatchMax, MaxWait: cfg.BatchWait, Writers: writers, Logger: log, Metrics: met,
			Events: evLog, Outbound: outboundHook})
	loc, err := cfg.BusinessLocation()
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Addr: cfg.Addr, AdminAddr: cfg.AdminAddr, AdminProfiler: cfg.AdminAddr != "", Writes: writes,
		Store: st, Intake: in, Auth: authn, Metrics: met, Logger: log,
		APITokens: cfg.APITokens, MetaAppSecrets: cfg.MetaAppSecrets, MetaVerifyToken: cfg.MetaVerifyToken,
		InsecureNoAuth: cfg.InsecureNoAuth, MaxBodyBytes: cfg.MaxBody,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout, BusinessTZ: loc,
		EventLog:        evAPI,
		Notify:          notifyAPI,
		UISecureCookies: cfg.UISecureCookies,
	})
	if err != nil {
		return err
	}
	m.server = srv

	// Start order; Close stops in reverse (see serveMain).
	m.group.Add("storage", lifecycle.Funcs{StopFunc: func(context.Context) error {
		if err := st.Close(); err != nil {
			return fmt.Errorf("close storage: %w", err)
		}
		return nil
	}})
	var dbg *debugServer
	if cfg.DebugAddr != "" {
		m.group.Add("profiler", lifecycle.Funcs{
			StartFunc: func(context.Context) (err error) {
				dbg, err = startDebugServer(cfg.DebugAddr, log)
				return err
			},
			StopFunc: func(context.Context) error { return dbg.close() },
		})
	}
	m.group.Add("intake", lifecycle.Funcs{
		StartFunc: func(context.Context) error { in.Start(); return nil },
		StopFunc:  in.Stop, // every handler has returned: write what is queued
	})
	if natsSink != nil {
		m.group.Add("nats", natsSink) // stopped after the relay, which publishes through it
	}
	if rl != nil {
		m.group.Add("relay", rl) // stopped before the intake: in-flight deliveries finish or lapse to their lease
	}
	if notifier != nil {
		m.group.Add("notifier", notifier) // stopped before the intake: sends in flight finish or lapse to ambiguous
	}
	m.group.Add("http server", lifecycle.Funcs{
		StartFunc: func(context.Context) error {
			if err := srv.Open(); err != nil {
				return fmt.Errorf("%w (is another waorders running? choose a port with --addr)", err)
			}
			return nil
		},
		StopFunc: srv.Close, // in-flight handlers finish, and so their commits
	})
	built = true // from here the group owns the store
	if err := m.group.Start(ctx); err != nil {
		return err
	}

	banner(m.Stdout, cfg, srv.URL(), srv.AdminURL(), authn, m.Credentials)
	if firstAdmin != "" {
		fmt.Fprintf(m.Stdout, "  dashboard:      %s/ui/ created the first user: admin, password %s\n", cmp.Or(srv.AdminURL(), srv.URL()), firstAdmin)
		fmt.Fprintf(m.Stdout, "                  (shown once; the dashboard asks for a new one at the first login)\n")
	} else {
		fmt.Fprintf(m.Stdout, "  dashboard:      %s/ui/ (accounts: waorders users list)\n", cmp.Or(srv.AdminURL(), srv.URL()))
	}
	if dbg != nil {
		fmt.Fprintf(m.Stdout, "  profiler:       %s (no credentials: keep it on loopback)\n", dbg.URL())
	}
	if cfg.InsecureNoAuth && !cfg.HasCallbackAuth() {
		fmt.Fprint(m.Stderr, insecureWarning)
		log.Warn("callbacks are accepted without authentication (--insecure-no-auth)")
	}
	log.Info("waorders started", "addr", srv.Addr().String(), "admin_addr", srv.AdminURL(), "storage", cfg.Driver(), "version", version())
	return nil
}

// newAuthenticator builds the callback authenticator of cfg, or nil when
// callbacks are accepted without authentication. prev, when set, is the
// one in use, whose generated token key a reload keeps. An allow-list
// applies even without credentials (--insecure-no-auth).
func newAuthenticator(cfg *config.Serve, prev *callbackauth.Authenticator) (*callbackauth.Authenticator, error) {
	if cfg.InsecureNoAuth && !cfg.HasCallbackAuth() && len(cfg.AllowCIDRs) == 0 {
		return nil, nil
	}
	ac, err := cfg.AuthConfig()
	if err != nil {
		return nil, fmt.Errorf("callback authentication: %w", err)
	}
	authn, err := prev.Renew(ac)
	if err != nil {
		return nil, fmt.Errorf("callback authentication: %w", err)
	}
	return authn, nil
}

// Reload puts the credentials of next (resolved again on SIGHUP) in use:
// callback authentication, API tokens and Meta's secrets. Requests being
// handled finish with the credentials they started with. When next's
// credentials are invalid nothing changes and the error says why. Other
// settings take effect only after a restart; each one that changed is
// logged.
func (m *serveMain) Reload(next config.Serve) error {
	authn, err := newAuthenticator(&next, m.server.Credentials().Auth)
	if err != nil {
		return err
	}
	if err := m.server.SetCredentials(server.Credentials{
		Auth: authn, APITokens: next.APITokens, MetaAppSecrets: next.MetaAppSecrets, MetaVerifyToken: next.MetaVerifyToken,
	}); err != nil {
		return err
	}
	for _, name := range restartSettings(&m.Config, &next) {
		m.Logger.Warn("setting changed; it takes effect after a restart, not on SIGHUP", "setting", name)
	}
	m.metrics.Reloads.WithLabelValues("ok").Inc()
	methods := "none (--insecure-no-auth)"
	if authn != nil && authn.Enabled() {
		methods = strings.Join(authn.Methods(), "; ")
	}
	m.Logger.Info("credentials reloaded", "callback_auth", methods, "api_tokens", len(next.APITokens),
		"meta_app_secrets", len(next.MetaAppSecrets))
	return nil
}

// reloadable are the settings (config.Serve fields) a reload applies.
var reloadable = map[string]bool{
	"ConfigFile": true, "SecretFiles": true, "APITokens": true, "CallbackSecrets": true, "CallbackSecretHeader": true,
	"BasicAuth": true, "TokenClients": true, "TokenKeys": true, "TokenTTL": true, "AllowCIDRs": true,
	"TrustedProxies": true, "ClientIPHeader": true, "MetaAppSecrets": true, "MetaVerifyToken": true,
}

// restartSettings names the settings that differ between cur and next and
// that a reload does not apply.
func restartSettings(cur, next *config.Serve) []string {
	var names []string
	a, b := reflect.ValueOf(cur).Elem(), reflect.ValueOf(next).Elem()
	for i := range a.NumField() {
		name := a.Type().Field(i).Name
		if !reloadable[name] && !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			names = append(names, name)
		}
	}
	return names
}

// trackedStore reports the outcome of every group commit to /readyz.
type trackedStore struct {
	intake.Store
	writes *ops.Writes
}

func (t trackedStore) WriteInbound(ctx context.Context, ds []*store.Inbound) ([]store.InboundResult, error) {
	r, err := t.Store.WriteInbound(ctx, ds)
	t.writes.Observe(err)
	return r, err
}

// Close stops everything Run started, in the order documented on
// serveMain, within --shutdown-timeout, and returns every error joined.
// It is idempotent.
func (m *serveMain) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	return m.group.Stop(ctx)
}

// DefaultGCPercent is the garbage collector's target serve runs with when
// GOGC is not set. The live heap of a serving process is small (tens of
// MiB) while every callback allocates a few KiB, so at Go's default of 100
// the collector runs tens of times a second and took 15-20 % of the
// process's CPU under load (alternating 8 s wrk runs with GOGC=100 and
// 400, on both drivers); at 400 it costs about 11 MiB more RSS.
const DefaultGCPercent = 400

// setGCPercent applies DefaultGCPercent unless GOGC is set, and returns
// the function that restores the previous setting.
func setGCPercent(getenv func(string) string, log *slog.Logger) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(DefaultGCPercent)
	log.Debug("garbage collector target set; GOGC overrides it", "gogc", DefaultGCPercent)
	return func() { debug.SetGCPercent(prev) }
}

// MemoryLimitRatio is the share of a container's memory limit, less
// OffHeapReserve, that serve gives Go as its soft memory limit when
// GOMEMLIMIT is not set; the rest covers goroutine stacks, the binary and
// what the kernel keeps for the process.
const MemoryLimitRatio = 0.9

// OffHeapReserve is what a serving process uses outside Go's heap, which
// Go's memory limit does not count: SQLite's page caches, which modernc
// allocates apart from the Go heap (about 32 MiB resident for the writer's
// 16 MB cache, and a few MiB for each reader and the checkpointer).
const OffHeapReserve = 64 << 20

// setMemoryLimit sets Go's soft memory limit from what limit reports (the
// container's memory limit): MemoryLimitRatio of it less OffHeapReserve, but
// never less than that share of half of it. It does nothing when GOMEMLIMIT
// is set or AUTOMEMLIMIT is "off", and returns the function that restores
// the previous limit. With GOGC=400 the heap may grow to five times what is
// live before a collection; the limit makes the collector run earlier when
// that would exceed the container's memory, instead of the process being
// killed. No limit, or no cgroup, leaves Go's default (none).
func setMemoryLimit(getenv func(string) string, limit memlimit.Provider, log *slog.Logger) (restore func()) {
	if getenv("GOMEMLIMIT") != "" || getenv("AUTOMEMLIMIT") == "off" {
		return func() {}
	}
	forGo := func() (uint64, error) {
		l, err := limit()
		if err != nil {
			return 0, err
		}
		return max(l-min(l, OffHeapReserve), l/2), nil
	}
	prev := debug.SetMemoryLimit(-1)
	set, err := memlimit.Set(memlimit.WithProvider(forGo), memlimit.WithRatio(MemoryLimitRatio))
	switch {
	case err != nil:
		log.Debug("no container memory limit found; Go's memory limit left unset", "err", err)
	case set < math.MaxInt64:
		log.Info("Go's soft memory limit set from the container's; GOMEMLIMIT overrides it",
			"limit_mib", set>>20, "ratio", MemoryLimitRatio, "off_heap_reserve_mib", OffHeapReserve>>20)
	}
	return func() { debug.SetMemoryLimit(prev) }
}

// openStore opens the configured driver. noMigrate makes an out-of-date
// PostgreSQL schema an error that says what to run.
func openStore(ctx context.Context, cfg *config.Serve, log *slog.Logger, noMigrate bool) (store.Store, error) {
	if cfg.Driver() == "postgres" {
		st, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{Logger: log, MaxConns: int32(cfg.DBMaxConns), NoMigrate: noMigrate})
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL %s: %w", config.RedactURL(cfg.DatabaseURL), err)
		}
		return st, nil
	}
	path, err := config.SQLitePath(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	return st, nil
}

// dataDir is where generated credentials live: beside the SQLite file, or
// ./data for PostgreSQL.
func dataDir(cfg *config.Serve) string {
	if cfg.Driver() == "sqlite" {
		if p, err := config.SQLitePath(cfg.DatabaseURL); err == nil {
			return filepath.Dir(p)
		}
	}
	return "data"
}

func banner(w io.Writer, cfg *config.Serve, url, adminURL string, authn *callbackauth.Authenticator, creds string) {
	fmt.Fprintf(w, "waorders %s listening on %s\n", version(), url)
	storage := "SQLite " + cfg.DatabaseURL
	if cfg.Driver() == "postgres" {
		storage = "PostgreSQL " + config.RedactURL(cfg.DatabaseURL)
	}
	fmt.Fprintf(w, "  storage:        %s\n", storage)
	fmt.Fprintf(w, "  Kaleyra URL:    %s/v1/callbacks/kaleyra\n", url)
	fmt.Fprintf(w, "  Meta URL:       %s/v1/callbacks/meta\n", url)
	switch {
	case authn != nil && authn.Enabled():
		fmt.Fprintf(w, "  callback auth:  %s\n", strings.Join(authn.Methods(), "; "))
	default:
		fmt.Fprintf(w, "  callback auth:  NONE (--insecure-no-auth): anyone who can reach this port can post callbacks\n")
	}
	api := url
	if adminURL != "" {
		api = adminURL
	}
	fmt.Fprintf(w, "  API:            %s/v1 with Authorization: Bearer <api token>\n", api)
	if creds != "" {
		fmt.Fprintf(w, "  generated credentials are in %s (mode 0600): cat it to see them\n", creds)
	}
	fmt.Fprintf(w, "  health:         %s/healthz  %s/readyz  metrics: %s/metrics\n", url, url, api)
	if adminURL != "" {
		fmt.Fprintf(w, "  admin listener: %s (API, metrics, /debug/pprof/; keep it private)\n", adminURL)
	}
	fmt.Fprintf(w, "Try it:  waorders send --count 10 --url %s\n", url)
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level)) // validated by config; default info
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// insecureWarning is printed loudly when callbacks are not authenticated.
const insecureWarning = `
!!! WARNING: --insecure-no-auth: callbacks are accepted WITHOUT authentication.
!!! Anyone who can reach this port can create orders. Use it for local trials only.
`
