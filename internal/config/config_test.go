package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newServeFlags returns Serve's flags on a fresh set that reports errors
// instead of exiting.
func newServeFlags() (*Serve, *flag.FlagSet) {
	var c Serve
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Flags(fs)
	return &c, fs
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolvePrecedence(t *testing.T) {
	secretFile := writeFile(t, "token", "token-from-file-0123456789\r\n")
	cfgFile := writeFile(t, "waorders.conf", "addr = 127.0.0.1:7000\napi-token = token-in-config-0123456789\nmax-body = 2048\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(*Serve) (got, want string)
	}{
		{"Default", nil, nil, func(c *Serve) (string, string) { return c.Addr, DefaultAddr }},
		{"File", []string{"--config", cfgFile}, nil, func(c *Serve) (string, string) { return c.Addr, "127.0.0.1:7000" }},
		{"EnvBeatsFile", []string{"--config", cfgFile}, map[string]string{"WAORDERS_ADDR": "127.0.0.1:7001"},
			func(c *Serve) (string, string) { return c.Addr, "127.0.0.1:7001" }},
		{"FlagBeatsEnv", []string{"--config", cfgFile, "--addr", "127.0.0.1:7002"}, map[string]string{"WAORDERS_ADDR": "127.0.0.1:7001"},
			func(c *Serve) (string, string) { return c.Addr, "127.0.0.1:7002" }},
		{"ConfigFromEnv", nil, map[string]string{"WAORDERS_CONFIG": cfgFile},
			func(c *Serve) (string, string) { return c.Addr, "127.0.0.1:7000" }},
		{"ConfigFlagBeatsEnv", []string{"--config", cfgFile}, map[string]string{"WAORDERS_CONFIG": "/nonexistent/waorders.conf"},
			func(c *Serve) (string, string) { return c.Addr, "127.0.0.1:7000" }},
		{"SecretFileTrimsNewline", nil, map[string]string{"WAORDERS_API_TOKEN_FILE": secretFile},
			func(c *Serve) (string, string) { return c.APITokens.String(), "token-from-file-0123456789" }},
		{"EnvBeatsSecretFile", nil, map[string]string{"WAORDERS_API_TOKEN": "token-in-env-0123456789", "WAORDERS_API_TOKEN_FILE": secretFile},
			func(c *Serve) (string, string) { return c.APITokens.String(), "token-in-env-0123456789" }},
		{"SecretFileBeatsConfig", []string{"--config", cfgFile}, map[string]string{"WAORDERS_API_TOKEN_FILE": secretFile},
			func(c *Serve) (string, string) { return c.APITokens.String(), "token-from-file-0123456789" }},
		{"FlagBeatsSecretFile", []string{"--api-token", "a-flag-token-0123456789"}, map[string]string{"WAORDERS_API_TOKEN_FILE": secretFile},
			func(c *Serve) (string, string) { return c.APITokens.String(), "a-flag-token-0123456789" }},
		{"FileOnlyForSecrets", nil, map[string]string{"WAORDERS_ADDR_FILE": secretFile},
			func(c *Serve) (string, string) { return c.Addr, DefaultAddr }},
		{"ListFromEnv", nil, map[string]string{"WAORDERS_CALLBACK_SECRET": " a-secret-0123456789 , b-secret-0123456789,"},
			func(c *Serve) (string, string) {
				return strings.Join(c.CallbackSecrets, "|"), "a-secret-0123456789|b-secret-0123456789"
			}},
		{"Int64FromFile", []string{"--config", cfgFile}, nil,
			func(c *Serve) (string, string) { return strconv.FormatInt(c.MaxBody, 10), "2048" }},
		{"DurationFromEnv", nil, map[string]string{"WAORDERS_READ_TIMEOUT": "750ms"},
			func(c *Serve) (string, string) { return c.ReadTimeout.String(), "750ms" }},
		{"BoolFromEnv", nil, map[string]string{"WAORDERS_INSECURE_NO_AUTH": "true"},
			func(c *Serve) (string, string) { return boolText(c.InsecureNoAuth), "true" }},
		{"EmptyEnvIsUnset", nil, map[string]string{"WAORDERS_ADDR": ""},
			func(c *Serve) (string, string) { return c.Addr, DefaultAddr }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fs := newServeFlags()
			if err := Resolve(fs, tt.args, func(k string) string { return tt.env[k] }, ServeSecrets); err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got, want := tt.want(c); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	unknown := writeFile(t, "unknown.conf", "colour = blue\n")
	configKey := writeFile(t, "config.conf", "config = other.conf\n")
	badLine := writeFile(t, "bad.conf", "addr = 127.0.0.1:1\njust words\n")
	badValue := writeFile(t, "value.conf", "max-body = lots\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"UnknownFlag", []string{"--colour", "blue"}, nil, []string{"-colour"}},
		{"Positional", []string{"serve"}, nil, []string{`unexpected argument "serve"`}},
		{"BadFlagValue", []string{"--max-body", "lots"}, nil, []string{"-max-body"}},
		{"MissingConfig", []string{"--config", filepath.Join(dir, "none.conf")}, nil, []string{"read config file"}},
		{"UnknownKey", []string{"--config", unknown}, nil, []string{unknown, `unknown setting "colour"`}},
		{"ConfigInConfig", []string{"--config", configKey}, nil, []string{`unknown setting "config"`}},
		{"BadLine", []string{"--config", badLine}, nil, []string{"line 2", "want name = value"}},
		{"BadEnvValue", nil, map[string]string{"WAORDERS_MAX_BODY": "lots"}, []string{"max-body (from WAORDERS_MAX_BODY)"}},
		{"BadFileValue", []string{"--config", badValue}, nil, []string{"max-body (from config file)"}},
		{"MissingSecretFile", nil, map[string]string{"WAORDERS_API_TOKEN_FILE": filepath.Join(dir, "none")}, []string{"WAORDERS_API_TOKEN_FILE"}},
		{"EveryBadValue", nil, map[string]string{"WAORDERS_MAX_BODY": "lots", "WAORDERS_BATCH_MAX": "many"},
			[]string{"max-body (from WAORDERS_MAX_BODY)", "batch-max (from WAORDERS_BATCH_MAX)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs := newServeFlags()
			err := Resolve(fs, tt.args, func(k string) string { return tt.env[k] }, ServeSecrets)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	_, fs := newServeFlags()
	if err := Resolve(fs, []string{"--help"}, func(string) string { return "" }, ServeSecrets); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v, want flag.ErrHelp", err)
	}
}

func TestParseFile(t *testing.T) {
	tests := []struct {
		name string
		text string
		want map[string]string
		err  string
	}{
		{"Empty", "", map[string]string{}, ""},
		{"CommentsAndBlanks", "# a comment\n\n   # indented comment\naddr = x\n", map[string]string{"addr": "x"}, ""},
		{"Colon", "addr: 127.0.0.1:8080\n", map[string]string{"addr": "127.0.0.1:8080"}, ""},
		{"EqualsBeforeColon", "basic-auth = user:pass\n", map[string]string{"basic-auth": "user:pass"}, ""},
		{"Underscores", "api_token = t\n", map[string]string{"api-token": "t"}, ""},
		{"Spaces", "  addr   =   x y  \n", map[string]string{"addr": "x y"}, ""},
		{"Quoted", `log-level = "debug # not a comment"` + "\n", map[string]string{"log-level": "debug # not a comment"}, ""},
		{"QuotedSpaces", `ref = "  padded  "` + "\n", map[string]string{"ref": "  padded  "}, ""},
		{"InlineComment", "batch-max = 64 # per transaction\n", map[string]string{"batch-max": "64"}, ""},
		{"HashInValue", "api-token = abc#def\n", map[string]string{"api-token": "abc#def"}, ""},
		{"EmptyValue", "api-token =\n", map[string]string{"api-token": ""}, ""},
		{"LastWins", "addr = a\naddr = b\n", map[string]string{"addr": "b"}, ""},
		{"CRLF", "addr = x\r\nmax-body = 9\r\n", map[string]string{"addr": "x", "max-body": "9"}, ""},
		{"NoSeparator", "addr\n", nil, "line 1: want name = value"},
		{"NoName", "= value\n", nil, "line 1"},
		{"BadLineNumber", "# one\naddr = x\n\nwhat\n", nil, "line 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFile("test.conf", strings.NewReader(tt.text))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "test.conf") {
					t.Fatalf("error %v, want one naming test.conf and %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{" a , b ,, c ,", []string{"a", "b", "c"}},
		{",,,", nil},
	}
	for _, tt := range tests {
		l := List{"old"}
		if err := l.Set(tt.in); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l, tt.want) {
			t.Errorf("Set(%q) = %q, want %q (replacing the old list)", tt.in, []string(l), tt.want)
		}
		if got := l.String(); got != strings.Join(tt.want, ",") {
			t.Errorf("String() = %q", got)
		}
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"addr":                   "WAORDERS_ADDR",
		"api-token":              "WAORDERS_API_TOKEN",
		"callback-secret-header": "WAORDERS_CALLBACK_SECRET_HEADER",
	} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSQLitePathAndDriver(t *testing.T) {
	tests := []struct {
		url, path, err string
		postgres       bool
	}{
		{url: "data/waorders.db", path: "data/waorders.db"},
		{url: "./data//x.db", path: "data/x.db"},
		{url: "/var/lib/waorders/w.db", path: "/var/lib/waorders/w.db"},
		{url: "sqlite:///abs/path.db", path: "/abs/path.db"},
		{url: "sqlite://rel/path.db", path: "rel/path.db"},
		{url: "sqlite://", err: "empty SQLite path"},
		{url: "", err: "empty SQLite path"},
		{url: "mysql://u:secret@h/db", err: "use a file path"},
		{url: "postgres://u@h/db", postgres: true, err: "use a file path"},
		{url: "postgresql://u@h/db", postgres: true, err: "use a file path"},
		{url: "POSTGRES://u@h/db", err: "use a file path"},
	}
	for _, tt := range tests {
		got, err := SQLitePath(tt.url)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("SQLitePath(%q) = %q, %v; want error %q", tt.url, got, err, tt.err)
		case tt.err == "" && (err != nil || got != filepath.FromSlash(tt.path)):
			t.Errorf("SQLitePath(%q) = %q, %v; want %q", tt.url, got, err, tt.path)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("SQLitePath(%q) error shows the password: %v", tt.url, err)
		}
		if IsPostgres(tt.url) != tt.postgres {
			t.Errorf("IsPostgres(%q) = %v", tt.url, !tt.postgres)
		}
		c := Serve{DatabaseURL: tt.url}
		if want := map[bool]string{true: "postgres", false: "sqlite"}[tt.postgres]; c.Driver() != want {
			t.Errorf("Driver() of %q = %s, want %s", tt.url, c.Driver(), want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Serve)
		want   []string // empty: valid
	}{
		{"Defaults", func(*Serve) {}, nil},
		{"Postgres", func(c *Serve) { c.DatabaseURL = "postgres://u:p@h/db" }, nil},
		{"MaxBody", func(c *Serve) { c.MaxBody = 100 }, []string{"--max-body 100", "at least 1024"}},
		{"BatchMaxLow", func(c *Serve) { c.BatchMax = 0 }, []string{"--batch-max 0", "1 to 10000"}},
		{"BatchMaxHigh", func(c *Serve) { c.BatchMax = 10001 }, []string{"--batch-max 10001"}},
		{"BatchWait", func(c *Serve) { c.BatchWait = 2 * time.Second }, []string{"--batch-wait 2s", "0 to 1s"}},
		{"NegativeBatchWait", func(c *Serve) { c.BatchWait = -time.Millisecond }, []string{"--batch-wait"}},
		{"LogLevel", func(c *Serve) { c.LogLevel = "loud" }, []string{`--log-level "loud"`, "debug, info, warn or error"}},
		{"LogFormat", func(c *Serve) { c.LogFormat = "xml" }, []string{`--log-format "xml"`, "text or json"}},
		{"DatabaseURL", func(c *Serve) { c.DatabaseURL = "mysql://u:pw@h/db" }, []string{"database URL", "mysql://u:xxxxx@h/db"}},
		{"BasicAuth", func(c *Serve) { c.BasicAuth = List{"nocolon"} }, []string{"--basic-auth", "user:password"}},
		{"BasicAuthEmptyPassword", func(c *Serve) { c.BasicAuth = List{"user:"} }, []string{"--basic-auth"}},
		{"TokenClients", func(c *Serve) { c.TokenClients = List{":secret"} }, []string{"--token-clients", "client-id:client-secret"}},
		{"AllowCIDRs", func(c *Serve) { c.AllowCIDRs = List{"10.0.0.0/33"} }, []string{"--allow-cidrs", `"10.0.0.0/33"`}},
		{"AllowAddr", func(c *Serve) { c.AllowCIDRs = List{"not-an-ip"} }, []string{"--allow-cidrs", "not an address or CIDR"}},
		{"TrustedProxies", func(c *Serve) { c.TrustedProxies = List{"proxy"} }, []string{"--trusted-proxies"}},
		{"ShortSecret", func(c *Serve) { c.CallbackSecrets = List{"short"} }, []string{"callback secret #1", "at least 16"}},
		{"Several", func(c *Serve) { c.MaxBody = 1; c.LogLevel = "x"; c.BatchMax = -1 }, []string{"--max-body", "--log-level", "--batch-max"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fs := newServeFlags()
			if err := fs.Parse(nil); err != nil {
				t.Fatal(err)
			}
			tt.change(c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.name == "DatabaseURL" && strings.Contains(err.Error(), ":pw@") {
				t.Errorf("error shows the database password: %v", err)
			}
		})
	}
}

func TestAuthConfig(t *testing.T) {
	c, fs := newServeFlags()
	if err := fs.Parse([]string{
		"--callback-secret", "secret-one-0123456789,secret-two-0123456789",
		"--basic-auth", "kaleyra:basic-pass:with-colon-0123",
		"--token-clients", "client:client-secret-0123456789",
		"--allow-cidrs", "10.0.0.0/8,192.0.2.7",
		"--trusted-proxies", "127.0.0.1",
		"--callback-secret-header", "X-Kaleyra-Secret",
	}); err != nil {
		t.Fatal(err)
	}
	if !c.HasCallbackAuth() {
		t.Error("HasCallbackAuth() = false")
	}
	ac, err := c.AuthConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(ac.Secrets) != 2 || ac.SecretHeader != "X-Kaleyra-Secret" {
		t.Errorf("secrets %d header %q", len(ac.Secrets), ac.SecretHeader)
	}
	if len(ac.BasicUsers) != 1 || ac.BasicUsers[0].Username != "kaleyra" || ac.BasicUsers[0].Password != "basic-pass:with-colon-0123" {
		t.Errorf("basic users %+v: the password keeps its colons", ac.BasicUsers)
	}
	if len(ac.TokenClients) != 1 || ac.TokenClients[0].ID != "client" {
		t.Errorf("token clients %+v", ac.TokenClients)
	}
	var allow []string
	for _, p := range ac.AllowCIDRs {
		allow = append(allow, p.String())
	}
	if !slices.Equal(allow, []string{"10.0.0.0/8", "192.0.2.7/32"}) {
		t.Errorf("allow %v, want 10.0.0.0/8 and 192.0.2.7/32", allow)
	}
	if len(ac.TrustedProxies) != 1 || ac.TrustedProxies[0].String() != "127.0.0.1/32" {
		t.Errorf("trusted %v", ac.TrustedProxies)
	}

	none, _ := newServeFlags()
	if none.HasCallbackAuth() {
		t.Error("defaults: HasCallbackAuth() = true")
	}
}

func TestDumpMasksSecrets(t *testing.T) {
	const (
		token    = "api-token-value-0123456789"
		secret   = "callback-secret-value-01234"
		basic    = "user:basic-password-value-0"
		verify   = "verify-token-value"
		dbPass   = "db-password-value"
		metaSec  = "meta-app-secret-value-0123"
		clientSc = "client:client-secret-value-01"
		tokenKey = "token-key-value-0123456789abcdef0123"
	)
	_, fs := newServeFlags()
	err := fs.Parse([]string{
		"--api-token", token, "--callback-secret", secret, "--basic-auth", basic,
		"--meta-verify-token", verify, "--meta-app-secret", metaSec, "--token-clients", clientSc,
		"--token-keys", tokenKey, "--database-url", "postgres://waorders:" + dbPass + "@db.internal:5432/orders",
		"--addr", "0.0.0.0:9000",
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	Dump(&b, fs, ServeSecrets)
	out := b.String()
	for _, s := range []string{token, secret, "basic-password-value", verify, dbPass, metaSec, "client-secret-value", tokenKey} {
		if strings.Contains(out, s) {
			t.Errorf("Dump shows %q:\n%s", s, out)
		}
	}
	for _, want := range []string{
		"api-token = [set]\n",
		"callback-secret = [set]\n",
		"meta-verify-token = [set]\n",
		"database-url = postgres://waorders:xxxxx@db.internal:5432/orders\n",
		"addr = 0.0.0.0:9000\n",
		"callback-secret-header = X-Callback-Secret\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Dump lacks %q:\n%s", want, out)
		}
	}
	// Every flag is listed, and unset secrets show as empty, not "[set]".
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if lines := strings.Count(out, "\n"); lines != n {
		t.Errorf("Dump printed %d lines for %d flags", lines, n)
	}
	_, empty := newServeFlags()
	b.Reset()
	Dump(&b, empty, ServeSecrets)
	if strings.Contains(b.String(), "[set]") {
		t.Errorf("Dump of defaults shows a secret as set:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "database-url = "+DefaultDatabaseURL+"\n") {
		t.Errorf("Dump of defaults lacks the database path:\n%s", b.String())
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h/db":               "postgres://u:xxxxx@h/db",
		"postgres://u@h/db":                  "postgres://u@h/db",
		"postgres://h/db":                    "postgres://h/db",
		"postgres://u:p@ss:w@rd@h:5432/db":   "postgres://u:xxxxx@h:5432/db",
		"data/waorders.db":                   "data/waorders.db",
		"sqlite:///abs/path.db":              "sqlite:///abs/path.db",
		"postgresql://u:pw@h/db?sslmode=off": "postgresql://u:xxxxx@h/db?sslmode=off",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSecretFileFlags: --callback-secret-file and --api-token-file (and a
// -file flag for every secret) exist, match WAORDERS_*_FILE and the config
// file's *-file keys, and rank by their source against the value itself.
func TestSecretFileFlags(t *testing.T) {
	tokenFile := writeFile(t, "token", "token-from-file-0123456789\n")
	secretFile := writeFile(t, "secret", "secret-from-file-0123456789\n")
	cfgValue := writeFile(t, "value.conf", "api-token = token-in-config-0123456789\n")
	cfgFile := writeFile(t, "file.conf", "api-token-file = "+tokenFile+"\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // api token, or "error: <substring>"
	}{
		{"Flag", []string{"--api-token-file", tokenFile}, nil, "token-from-file-0123456789"},
		{"FileFlagBeatsEnvValue", []string{"--api-token-file", tokenFile}, map[string]string{"WAORDERS_API_TOKEN": "token-in-env-0123456789"}, "token-from-file-0123456789"},
		{"EnvFileBeatsConfigValue", []string{"--config", cfgValue}, map[string]string{"WAORDERS_API_TOKEN_FILE": tokenFile}, "token-from-file-0123456789"},
		{"ConfigFileKey", []string{"--config", cfgFile}, nil, "token-from-file-0123456789"},
		{"EnvValueBeatsConfigFileKey", []string{"--config", cfgFile}, map[string]string{"WAORDERS_API_TOKEN": "token-in-env-0123456789"}, "token-in-env-0123456789"},
		{"BothFlags", []string{"--api-token", "x-token-0123456789", "--api-token-file", tokenFile}, nil, "error: give one of them"},
		{"MissingFileNamesItsSource", []string{"--api-token-file", "/nonexistent/token"}, nil, "error: --api-token-file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, fs := newServeFlags()
			err := Resolve(fs, tc.args, func(k string) string { return tc.env[k] }, ServeSecrets)
			if want, isErr := strings.CutPrefix(tc.want, "error: "); isErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want one containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.APITokens.String(); got != tc.want {
				t.Errorf("api token %q, want %q", got, tc.want)
			}
		})
	}

	c, fs := newServeFlags()
	if err := Resolve(fs, []string{"--callback-secret-file", secretFile}, func(string) string { return "" }, ServeSecrets); err != nil {
		t.Fatal(err)
	}
	if got := c.CallbackSecrets.String(); got != "secret-from-file-0123456789" {
		t.Errorf("callback secret %q", got)
	}
	if got := *c.SecretFiles["callback-secret"]; got != secretFile {
		t.Errorf("SecretFiles[callback-secret] = %q", got)
	}
}

func TestAdminAddrValidation(t *testing.T) {
	for _, tc := range []struct{ addr, admin, want string }{
		{"127.0.0.1:8080", "127.0.0.1:9090", ""},
		{"127.0.0.1:8080", "nonsense", "--admin-addr"},
		{"127.0.0.1:8080", "127.0.0.1:8080", "is --addr"},
	} {
		c, fs := newServeFlags()
		if err := Resolve(fs, []string{"--addr", tc.addr, "--admin-addr", tc.admin}, func(string) string { return "" }, ServeSecrets); err != nil {
			t.Fatal(err)
		}
		err := c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("--admin-addr %s: err %v, want %q", tc.admin, err, tc.want)
		}
	}
}
