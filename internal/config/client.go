package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // --tz works on machines without a zoneinfo database (distroless images)
)

// DefaultDataDir is where a local `waorders serve` with the default SQLite
// database keeps its generated credentials.env.
const DefaultDataDir = "data"

// Client is how the client commands (orders, customers, report,
// quarantine, send) reach a server: its URL, the API token and where to
// show times. It reads the same sources as Serve — flags > WAORDERS_*
// environment (> *_FILE for the token) > config file — from the same config
// file, so one file configures a machine's server and its CLI.
type Client struct {
	ConfigFile string
	URL        string
	Server     string // deprecated alias of URL, kept for scripts
	APIToken   string
	DataDir    string
	TZ         string
}

// ClientSettings are the flags of Client that are also read from the
// environment and the config file. Every other flag of a client command
// (filters, --json, ...) is read from the command line only: a stray
// WAORDERS_STATUS must not silently filter an export.
var ClientSettings = []string{"url", "server", "api-token", "data-dir", "tz"}

// ClientSecrets are the flags of Client whose values are never printed and
// may come from a *_FILE variable.
var ClientSecrets = []string{"api-token"}

// Flags registers Client's flags on fs. Defaults are empty: Resolve
// derives them, so it can tell a default from a given value.
func (c *Client) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.ConfigFile, "config", "", "read settings from this `file` of name = value lines, the same file serve reads")
	c.URLFlag(fs, &c.URL)
	fs.StringVar(&c.Server, "server", "", "deprecated: the server's base `URL`, as --url")
	fs.StringVar(&c.APIToken, "api-token", "", "API `token` sent as Authorization: Bearer")
	c.DataDirFlag(fs, &c.DataDir)
	fs.StringVar(&c.TZ, "tz", "", "show times in this IANA time `zone`, e.g. Asia/Kolkata or UTC (default: the local zone)")
}

// URLFlag registers --url into p; send registers it alone.
func (c *Client) URLFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "url", "", "base `URL` of the waorders server (default: http://<the local server's addr>, http://127.0.0.1:8080)")
}

// DataDirFlag registers --data-dir into p.
func (c *Client) DataDirFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "data-dir", "", "`directory` of a local server's generated credentials.env (default: beside the local SQLite database, ./data)")
}

// Origin says where a setting's value came from, for messages.
type Origin struct {
	// Source is "--url", "WAORDERS_URL", "WAORDERS_API_TOKEN_FILE",
	// "config file /etc/waorders.conf", or "" when the setting was not given.
	Source string
	level  int // 0 command line, 1 environment, 2 *_FILE, 3 config file, 4 not given
}

// Given reports whether the setting was given anywhere.
func (o Origin) Given() bool { return o.Source != "" }

const notGiven = 4

// Sources are the environment and config file of one command, resolved.
type Sources struct {
	getenv   func(string) string
	file     map[string]string
	filePath string
	origins  map[string]Origin
}

// Origin returns where the flag name got its value.
func (s *Sources) Origin(name string) Origin {
	if o, ok := s.origins[name]; ok {
		return o
	}
	return Origin{level: notGiven}
}

// Lookup returns a setting the command has no flag for (a client reads the
// server's addr) from the environment or the config file.
func (s *Sources) Lookup(name string) (val, from string, ok bool) {
	if v := s.getenv(EnvName(name)); v != "" {
		return v, EnvName(name), true
	}
	if v, in := s.file[name]; in && v != "" {
		return v, "config file " + s.filePath, true
	}
	return "", "", false
}

// ResolveParsed completes fs, already parsed (client commands take options
// between their arguments, so they parse themselves): each flag named in
// names that the command line did not set is taken from its WAORDERS_*
// variable, then (for secrets) the file named by the variable with _FILE,
// then the config file (--config or WAORDERS_CONFIG) — the order Resolve
// uses for serve. A config file may hold the settings of every command;
// names no command knows are an error.
func ResolveParsed(fs *flag.FlagSet, names []string, getenv func(string) string, secrets []string) (*Sources, error) {
	s := &Sources{getenv: getenv, origins: map[string]Origin{}}
	fs.Visit(func(f *flag.Flag) { s.origins[f.Name] = Origin{Source: "--" + f.Name} })
	if cf := fs.Lookup("config"); cf != nil {
		path := cf.Value.String()
		if !s.Origin("config").Given() {
			path = getenv(EnvName("config"))
		}
		if path != "" {
			var err error
			if s.file, err = readFile(path); err != nil {
				return nil, err
			}
			s.filePath = path
			for k := range s.file {
				if !KnownSetting(k) || k == "config" {
					return nil, fmt.Errorf("config file %s: unknown setting %q; the names are those of the flags (see --help)", path, k)
				}
			}
		}
	}
	var errs []error
	for _, name := range names {
		f := fs.Lookup(name)
		if f == nil || s.Origin(name).Given() {
			continue
		}
		env := EnvName(name)
		var val string
		var o Origin
		switch {
		case getenv(env) != "":
			val, o = getenv(env), Origin{Source: env, level: 1}
		case slices.Contains(secrets, name) && getenv(env+"_FILE") != "":
			b, err := os.ReadFile(getenv(env + "_FILE"))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", env, err))
				continue
			}
			val, o = strings.TrimRight(string(b), "\r\n"), Origin{Source: env + "_FILE", level: 2}
		default:
			v, in := s.file[name]
			if !in {
				continue
			}
			val, o = v, Origin{Source: "config file " + s.filePath, level: 3}
		}
		if err := f.Value.Set(val); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", name, o.Source, err))
			continue
		}
		s.origins[name] = o
	}
	return s, errors.Join(errs...)
}

// KnownSetting reports whether name is a setting some command reads from
// the config file: one file serves `waorders serve` and the client commands.
func KnownSetting(name string) bool {
	serve := flag.NewFlagSet("", flag.ContinueOnError)
	new(Serve).Flags(serve)
	client := flag.NewFlagSet("", flag.ContinueOnError)
	new(Client).Flags(client)
	return serve.Lookup(name) != nil || client.Lookup(name) != nil
}

// ClientConfig is a resolved Client: what a client command uses.
type ClientConfig struct {
	URL       string // base URL, no trailing slash
	URLFrom   string // where it came from, for messages
	Token     string // "" when none was given (the caller may read credentials.env)
	TokenFrom string
	DataDir   string
	Location  *time.Location
	// Warnings are for stderr: deprecated names in use.
	Warnings []string
}

// Resolve completes c from the environment and the config file (fs holds
// c's flags, already parsed) and derives what was not given:
//
//   - the URL from --url, WAORDERS_URL or url in the config file; else from
//     the deprecated --server/WAORDERS_SERVER/server (with a warning); a
//     given --server beats a WAORDERS_URL, as a flag beats the environment;
//     else http://<addr> of the local server (WAORDERS_ADDR or addr in the
//     config file, else DefaultAddr), so `serve` and the client commands
//     on one machine need no options;
//   - the token from --api-token, WAORDERS_API_TOKEN,
//     WAORDERS_API_TOKEN_FILE, api-token in the config file (the first of
//     a comma-separated rotation list, as serve accepts);
//   - the data directory from --data-dir, WAORDERS_DATA_DIR, data-dir in
//     the config file; else the directory of the local SQLite database
//     (WAORDERS_DATABASE_URL or database-url), else DefaultDataDir;
//   - the time zone from --tz, WAORDERS_TZ or tz in the config file, an
//     IANA name; else time.Local (the TZ variable or /etc/localtime, UTC
//     when neither).
func (c *Client) Resolve(fs *flag.FlagSet, getenv func(string) string) (*ClientConfig, *Sources, error) {
	src, err := ResolveParsed(fs, ClientSettings, getenv, ClientSecrets)
	if err != nil {
		return nil, nil, err
	}
	out := &ClientConfig{}
	var errs []error
	if out.URL, out.URLFrom, out.Warnings, err = resolveURL(src, c.URL, c.Server); err != nil {
		errs = append(errs, err)
	}
	if c.APIToken != "" {
		var l List
		_ = l.Set(c.APIToken)
		if len(l) > 0 {
			out.Token, out.TokenFrom = l[0], src.Origin("api-token").Source
		}
	}
	out.DataDir = dataDirOf(src, c.DataDir)
	if out.Location, err = LoadTZ(c.TZ); err != nil {
		errs = append(errs, fmt.Errorf("--tz (from %s): %w", src.Origin("tz").Source, err))
	}
	return out, src, errors.Join(errs...)
}

// resolveURL returns the base URL of a server for a command whose --url
// (and, for the client commands, --server) src has resolved.
func resolveURL(src *Sources, u, server string) (base, from string, warnings []string, err error) {
	uo, so := src.Origin("url"), src.Origin("server")
	if so.Given() {
		what := so.Source
		if so.level == 0 {
			what = "--server"
		}
		if uo.level <= so.level {
			warnings = append(warnings, fmt.Sprintf("%s is deprecated and ignored here: %s is set", what, uo.Source))
		} else {
			warnings = append(warnings, fmt.Sprintf("%s is deprecated: use --url, WAORDERS_URL or url in the config file", what))
			u, uo = server, so
		}
	}
	if uo.Given() {
		base, err = CheckURL(u)
		if err != nil {
			return "", "", warnings, fmt.Errorf("%s: %w", uo.Source, err)
		}
		return base, uo.Source, warnings, nil
	}
	addr, from, ok := src.Lookup("addr")
	if !ok {
		addr, from = DefaultAddr, "the default addr"
	}
	if base, err = URLFromAddr(addr); err != nil {
		return "", "", warnings, fmt.Errorf("no --url given, and the server's addr (%s) %w; set --url or WAORDERS_URL", from, err)
	}
	return base, "the local server's addr (" + from + ")", warnings, nil
}

// ServerURL resolves only the server URL, for send: --url, WAORDERS_URL,
// url in the config file, else the local server's addr. src must come
// from ResolveParsed with "url" among the names.
func ServerURL(src *Sources, u string) (base, from string, err error) {
	base, from, _, err = resolveURL(src, u, "")
	return base, from, err
}

// CheckURL checks a server URL and returns it without a trailing slash.
func CheckURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s)://host[:port] URL", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// URLFromAddr returns the URL a client on the same machine reaches a server
// listening on addr with: a wildcard host (":8080", "0.0.0.0:8080",
// "[::]:8080") becomes the loopback address of its family.
func URLFromAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", fmt.Errorf("%q is not host:port", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	} else if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.Is6() {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// dataDirOf returns the directory of the generated credentials.env.
func dataDirOf(src *Sources, given string) string {
	if given != "" {
		return given
	}
	if db, _, ok := src.Lookup("database-url"); ok && !IsPostgres(db) {
		if p, err := SQLitePath(db); err == nil {
			return filepath.Dir(p)
		}
	}
	return DefaultDataDir
}

// DataDir returns the data directory for send, which has --data-dir but
// not the other client settings.
func DataDir(src *Sources, given string) string { return dataDirOf(src, given) }

// LoadTZ returns the time zone of an IANA name; "" is time.Local.
func LoadTZ(name string) (*time.Location, error) {
	switch name {
	case "":
		return time.Local, nil
	case "UTC", "utc", "Z":
		return time.UTC, nil
	case "Local", "local":
		return nil, errors.New(`"Local" is not an IANA time zone; leave --tz unset for the local zone`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone name (like Asia/Kolkata, Europe/Berlin or UTC)", name)
	}
	return loc, nil
}
