package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server"
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
Secrets may also come from files: WAORDERS_API_TOKEN_FILE=/run/secrets/token.
The Go runtime's GOGC and GOMEMLIMIT apply; without GOGC, serve runs the
garbage collector at GOGC=400 (less CPU, some MiB more memory), and without
GOMEMLIMIT, in a container with a memory limit (cgroup v1 or v2), it sets
Go's soft memory limit to 90 % of it less 64 MiB for SQLite's caches, so
the heap is collected before the container is killed (AUTOMEMLIMIT=off
disables that).`

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

	st, err := openStore(ctx, &cfg, log, !cfg.Migrate && cfg.Driver() == "postgres")
	if err != nil {
		return err
	}
	defer st.Close()

	var authn *callbackauth.Authenticator
	// An allow-list applies even without credentials (--insecure-no-auth).
	if !cfg.InsecureNoAuth || cfg.HasCallbackAuth() || len(cfg.AllowCIDRs) > 0 {
		ac, _ := cfg.AuthConfig() // validated above
		if authn, err = callbackauth.New(ac); err != nil {
			return fmt.Errorf("callback authentication: %w", err)
		}
	}
	m := metrics.New()
	writers := 1
	if cfg.Driver() == "postgres" {
		writers = cfg.Writers
	}
	in := intake.New(st, intake.Config{MaxBatch: cfg.BatchMax, MaxWait: cfg.BatchWait, Writers: writers, Logger: log, Metrics: m})
	in.Start()
	srv, err := server.New(server.Config{
		Addr: cfg.Addr, Store: st, Intake: in, Auth: authn, Metrics: m, Logger: log,
		APITokens: cfg.APITokens, MetaAppSecrets: cfg.MetaAppSecrets, MetaVerifyToken: cfg.MetaVerifyToken,
		InsecureNoAuth: cfg.InsecureNoAuth, MaxBodyBytes: cfg.MaxBody,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout,
	})
	if err != nil {
		_ = in.Stop(context.Background())
		return err
	}
	if err := srv.Open(); err != nil {
		_ = in.Stop(context.Background())
		return fmt.Errorf("%w (is another waorders running? choose a port with --addr)", err)
	}
	var dbg *debugServer
	if cfg.DebugAddr != "" {
		if dbg, err = startDebugServer(cfg.DebugAddr, log); err != nil {
			_ = srv.Close(context.Background())
			_ = in.Stop(context.Background())
			return err
		}
	}
	banner(env.Stdout, &cfg, srv.URL(), authn, creds)
	if dbg != nil {
		fmt.Fprintf(env.Stdout, "  profiler:       %s (no credentials: keep it on loopback)\n", dbg.URL())
	}
	if cfg.InsecureNoAuth && !cfg.HasCallbackAuth() {
		fmt.Fprint(env.Stderr, insecureWarning)
		log.Warn("callbacks are accepted without authentication (--insecure-no-auth)")
	}
	log.Info("waorders started", "addr", srv.Addr().String(), "storage", cfg.Driver(), "version", version())

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	case serveErr = <-srv.Done():
		log.Error("server stopped", "err", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if dbg != nil {
		_ = dbg.close()
	}
	if err := srv.Close(sctx); err != nil {
		errs = append(errs, err)
	}
	// Every handler has returned: nothing new can be queued. Write what is.
	if err := in.Stop(sctx); err != nil {
		errs = append(errs, err)
	}
	if err := st.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close storage: %w", err))
	}
	if serveErr != nil {
		errs = append(errs, serveErr)
	}
	if len(errs) == 0 {
		log.Info("stopped cleanly")
	}
	return errors.Join(errs...)
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

func banner(w io.Writer, cfg *config.Serve, url string, authn *callbackauth.Authenticator, creds string) {
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
	fmt.Fprintf(w, "  API:            %s/v1 with Authorization: Bearer <api token>\n", url)
	if creds != "" {
		fmt.Fprintf(w, "  generated credentials are in %s (mode 0600): cat it to see them\n", creds)
	}
	fmt.Fprintf(w, "  health:         %s/healthz  %s/readyz  metrics: %s/metrics\n", url, url, url)
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
