package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/callbackauth"
)

// Default values.
const (
	DefaultAddr        = "127.0.0.1:8080"
	DefaultDatabaseURL = "data/waorders.db"
	DefaultMaxBody     = 4 << 20
)

// Serve is the configuration of `waorders serve`.
type Serve struct {
	ConfigFile  string
	Addr        string
	AdminAddr   string
	DatabaseURL string
	Migrate     bool
	DBMaxConns  int

	APITokens            List
	CallbackSecrets      List
	CallbackSecretHeader string
	BasicAuth            List // user:password
	TokenClients         List // client-id:client-secret
	TokenKeys            List
	TokenTTL             time.Duration
	AllowCIDRs           List
	TrustedProxies       List
	ClientIPHeader       string
	MetaAppSecrets       List
	MetaVerifyToken      string
	InsecureNoAuth       bool
	// UISecureCookies marks dashboard session cookies Secure even when the
	// request came over plain HTTP (TLS ends at a proxy in front).
	UISecureCookies bool
	// SecretFiles holds, by secret flag name, the file its value is read
	// from (--api-token-file and the like); "" when none.
	SecretFiles map[string]*string

	MaxBody           int64
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration

	BatchMax  int
	BatchWait time.Duration
	Writers   int

	LogLevel  string
	LogFormat string
	DebugAddr string

	// BusinessTZ is the business time zone (IANA name): the day boundaries
	// of reports and of date-only since/until values on the API.
	BusinessTZ string

	Forwarding
}

// ServeSecrets are the flags of Serve whose values are never printed.
var ServeSecrets = []string{"api-token", "callback-secret", "basic-auth", "token-clients", "token-keys", "meta-app-secret", "meta-verify-token", "database-url", "nats-url"}

// Flags registers Serve's flags on fs, with their defaults.
func (c *Serve) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.ConfigFile, "config", "", "read settings from this file of `name = value` lines (names as the flags)")
	fs.StringVar(&c.Addr, "addr", DefaultAddr, "listen on this `host:port`")
	fs.StringVar(&c.AdminAddr, "admin-addr", "", "serve the /v1 API, /metrics and the profiler on this second `host:port`, so --addr carries only callbacks, /healthz and /readyz and can face the internet; off when empty")
	fs.StringVar(&c.DatabaseURL, "database-url", DefaultDatabaseURL, "storage: a SQLite file `path`, sqlite:///abs/path.db, or postgres://user@host/db")
	fs.BoolVar(&c.Migrate, "migrate", false, "PostgreSQL: apply pending migrations at start (SQLite always does)")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", 10, "PostgreSQL: connections per instance")

	fs.Var(&c.APITokens, "api-token", "Bearer `tokens` accepted on the /v1 API, comma-separated (rotation)")
	fs.Var(&c.CallbackSecrets, "callback-secret", "shared `secrets` accepted in the callback secret header, comma-separated (rotation)")
	fs.StringVar(&c.CallbackSecretHeader, "callback-secret-header", callbackauth.DefaultSecretHeader, "`header` carrying the callback secret")
	fs.Var(&c.BasicAuth, "basic-auth", "HTTP Basic `user:password` pairs accepted on callbacks, comma-separated")
	fs.Var(&c.TokenClients, "token-clients", "`id:secret` pairs for Kaleyra's advanced authentication (POST /v1/callbacks/token), comma-separated")
	fs.Var(&c.TokenKeys, "token-keys", "HMAC `keys` signing issued Bearer tokens; share them across instances (first signs, all verify)")
	fs.DurationVar(&c.TokenTTL, "token-ttl", time.Hour, "lifetime of issued Bearer tokens")
	fs.Var(&c.AllowCIDRs, "allow-cidrs", "accept callbacks only from these `CIDRs`, comma-separated")
	fs.Var(&c.TrustedProxies, "trusted-proxies", "`CIDRs` of reverse proxies whose client IP header (--client-ip-header) is believed")
	fs.StringVar(&c.ClientIPHeader, "client-ip-header", callbackauth.HeaderXForwardedFor, "the `header` your trusted proxies name the client in: X-Forwarded-For, Forwarded (RFC 7239) or X-Real-IP; the others are ignored, since a proxy passes them on as the client sent them")
	fs.Var(&c.MetaAppSecrets, "meta-app-secret", "Meta app `secrets` verifying X-Hub-Signature-256 on /v1/callbacks/meta, comma-separated")
	fs.StringVar(&c.MetaVerifyToken, "meta-verify-token", "", "`token` answering Meta's GET verification handshake")
	fs.BoolVar(&c.InsecureNoAuth, "insecure-no-auth", false, "accept callbacks WITHOUT authentication (local trials only)")
	fs.BoolVar(&c.UISecureCookies, "ui-secure-cookies", false, "mark dashboard session cookies Secure although TLS ends at a proxy in front (they are Secure by themselves over TLS)")
	c.SecretFiles = map[string]*string{}
	for _, name := range ServeSecrets {
		p := new(string)
		c.SecretFiles[name] = p
		fs.StringVar(p, name+"-file", "", "read --"+name+" from this `file` (trailing newline dropped; re-read on SIGHUP)")
	}

	fs.Int64Var(&c.MaxBody, "max-body", DefaultMaxBody, "largest accepted request body in `bytes`")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", 5*time.Second, "time allowed to read request headers")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", 30*time.Second, "time allowed to read a whole request")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", 60*time.Second, "time allowed to write a response")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 120*time.Second, "keep-alive idle time")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "time allowed to finish in-flight requests on SIGINT/SIGTERM")

	fs.IntVar(&c.BatchMax, "batch-max", 256, "group commit: most callbacks per transaction")
	fs.DurationVar(&c.BatchWait, "batch-wait", 0, "group commit: how long to wait for more callbacks before committing (0: commit what is queued)")
	fs.IntVar(&c.Writers, "writers", 2, "PostgreSQL: concurrent group-commit writers per instance; more overlap commits on a database with cores to spare (SQLite always uses 1)")

	fs.StringVar(&c.BusinessTZ, "business-tz", "UTC", "the business time `zone` (IANA name, e.g. Asia/Kolkata): day boundaries of reports and of date-only since/until")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log `format`: text or json")
	c.Forwarding.Flags(fs)
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "serve Go's profiler (/debug/pprof/) on this `host:port`, apart from the API; off when empty. Keep it on loopback: it needs no credentials")
}

// Driver names the storage driver the database URL selects.
func (c *Serve) Driver() string {
	if IsPostgres(c.DatabaseURL) {
		return "postgres"
	}
	return "sqlite"
}

// IsPostgres reports whether a database URL selects PostgreSQL.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// SQLitePath returns the file path of a SQLite database URL: a plain path,
// or sqlite:///abs/path.db (sqlite://rel/path.db is relative).
func SQLitePath(url string) (string, error) {
	p, ok := strings.CutPrefix(url, "sqlite://")
	if !ok {
		if strings.Contains(url, "://") {
			return "", fmt.Errorf("database URL %q: use a file path, sqlite:///abs/path.db or a postgres:// URL", redactURL(url))
		}
		p = url
	}
	if p == "" {
		return "", errors.New("database URL: empty SQLite path")
	}
	return filepath.Clean(p), nil
}

// Validate checks the settings and returns every problem, each saying what to do.
func (c *Serve) Validate() error {
	var errs []error
	if c.Driver() == "sqlite" {
		if _, err := SQLitePath(c.DatabaseURL); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := c.AuthConfig(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxBody < 1024 {
		errs = append(errs, fmt.Errorf("--max-body %d is too small; use at least 1024 (default %d)", c.MaxBody, DefaultMaxBody))
	}
	if c.BatchMax < 1 || c.BatchMax > 10000 {
		errs = append(errs, fmt.Errorf("--batch-max %d: use 1 to 10000", c.BatchMax))
	}
	if c.Writers < 1 || c.Writers > 64 {
		errs = append(errs, fmt.Errorf("--writers %d: use 1 to 64", c.Writers))
	}
	if c.BatchWait < 0 || c.BatchWait > time.Second {
		errs = append(errs, fmt.Errorf("--batch-wait %s: use 0 to 1s", c.BatchWait))
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			errs = append(errs, fmt.Errorf("--admin-addr %q: use host:port, like 127.0.0.1:9090", c.AdminAddr))
		} else if c.AdminAddr == c.Addr {
			errs = append(errs, fmt.Errorf("--admin-addr %q is --addr: choose another port, or leave --admin-addr empty for one listener", c.AdminAddr))
		}
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			errs = append(errs, fmt.Errorf("--debug-addr %q: use host:port, like 127.0.0.1:6060", c.DebugAddr))
		}
	}
	if _, err := c.BusinessLocation(); err != nil {
		errs = append(errs, err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: use debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format %q: use text or json", c.LogFormat))
	}
	errs = append(errs, c.Forwarding.Validate()...)
	return errors.Join(errs...)
}

// BusinessLocation returns the business time zone; "" is UTC (never the
// machine's zone: a report must not change with the host it runs on).
func (c *Serve) BusinessLocation() (*time.Location, error) {
	if c.BusinessTZ == "" {
		return time.UTC, nil
	}
	loc, err := LoadTZ(c.BusinessTZ)
	if err != nil {
		return nil, fmt.Errorf("--business-tz: %w", err)
	}
	return loc, nil
}

// HasCallbackAuth reports whether any callback authentication is configured.
func (c *Serve) HasCallbackAuth() bool {
	return len(c.CallbackSecrets) > 0 || len(c.BasicAuth) > 0 || len(c.TokenClients) > 0
}

// AuthConfig builds the callback authenticator's configuration.
func (c *Serve) AuthConfig() (callbackauth.Config, error) {
	ac := callbackauth.Config{
		SecretHeader:   c.CallbackSecretHeader,
		Secrets:        c.CallbackSecrets,
		TokenTTL:       c.TokenTTL,
		ClientIPHeader: c.ClientIPHeader,
	}
	var errs []error
	for _, p := range c.BasicAuth {
		u, pw, ok := strings.Cut(p, ":")
		if !ok || u == "" || pw == "" {
			errs = append(errs, errors.New("--basic-auth: each entry must be user:password"))
			continue
		}
		ac.BasicUsers = append(ac.BasicUsers, callbackauth.BasicUser{Username: u, Password: pw})
	}
	for _, p := range c.TokenClients {
		id, sec, ok := strings.Cut(p, ":")
		if !ok || id == "" || sec == "" {
			errs = append(errs, errors.New("--token-clients: each entry must be client-id:client-secret"))
			continue
		}
		ac.TokenClients = append(ac.TokenClients, callbackauth.TokenClient{ID: id, Secret: sec})
	}
	for _, k := range c.TokenKeys {
		ac.TokenKeys = append(ac.TokenKeys, []byte(k))
	}
	var err error
	if ac.AllowCIDRs, err = prefixes("--allow-cidrs", c.AllowCIDRs); err != nil {
		errs = append(errs, err)
	}
	if ac.TrustedProxies, err = prefixes("--trusted-proxies", c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return ac, errors.Join(errs...)
	}
	if _, err := callbackauth.New(ac); err != nil {
		return ac, err
	}
	return ac, nil
}

func prefixes(flagName string, in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range in {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not an address or CIDR (like 10.0.0.0/8)", flagName, s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a CIDR (like 10.0.0.0/8)", flagName, s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Dump writes the effective settings of fs, one per line, secrets masked.
func Dump(w io.Writer, fs *flag.FlagSet, secrets []string) {
	fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		for _, s := range secrets {
			if s == f.Name && v != "" {
				v = "[set]"
				if f.Name == "database-url" {
					v = redactURL(f.Value.String())
				}
			}
		}
		fmt.Fprintf(w, "%s = %s\n", f.Name, v)
	})
}

// redactURL hides the password of a URL, if any.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return u
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// RedactURL hides the password of a database URL for logs and banners.
func RedactURL(u string) string { return redactURL(u) }
