package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// resolveClient parses args into a fresh Client's flags and resolves them
// against env.
func resolveClient(t *testing.T, args []string, env map[string]string) (*ClientConfig, error) {
	t.Helper()
	var c Client
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	conf, _, err := c.Resolve(fs, func(k string) string { return env[k] })
	return conf, err
}

func TestClientURL(t *testing.T) {
	cfgFile := writeFile(t, "waorders.conf", "addr = 0.0.0.0:7100\nurl = http://from-file:1\n")
	addrFile := writeFile(t, "addr.conf", "addr = 127.0.0.1:7200\ndatabase-url = /srv/w/orders.db\n")
	serverFile := writeFile(t, "server.conf", "server = http://old-file:3\n")
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		want     string
		warnings []string
	}{
		{"Default", nil, nil, "http://127.0.0.1:8080", nil},
		{"Flag", []string{"--url", "https://api.example/"}, map[string]string{"WAORDERS_URL": "http://env:1"}, "https://api.example", nil},
		{"Env", nil, map[string]string{"WAORDERS_URL": "http://env:1"}, "http://env:1", nil},
		{"File", []string{"--config", cfgFile}, nil, "http://from-file:1", nil},
		{"EnvBeatsFile", []string{"--config", cfgFile}, map[string]string{"WAORDERS_URL": "http://env:1"}, "http://env:1", nil},
		{"AddrEnv", nil, map[string]string{"WAORDERS_ADDR": ":9000"}, "http://127.0.0.1:9000", nil},
		{"AddrFile", []string{"--config", addrFile}, nil, "http://127.0.0.1:7200", nil},
		{"ConfigFromEnv", nil, map[string]string{"WAORDERS_CONFIG": addrFile}, "http://127.0.0.1:7200", nil},
		{"ServerFlag", []string{"--server", "http://old:2"}, nil, "http://old:2", []string{"--server is deprecated: use --url"}},
		{"ServerEnv", nil, map[string]string{"WAORDERS_SERVER": "http://old:2"}, "http://old:2", []string{"WAORDERS_SERVER is deprecated"}},
		{"ServerFile", []string{"--config", serverFile}, nil, "http://old-file:3", []string{"is deprecated: use --url"}},
		{"ServerFlagBeatsURLEnv", []string{"--server", "http://old:2"}, map[string]string{"WAORDERS_URL": "http://env:1"}, "http://old:2", []string{"--server is deprecated"}},
		{"URLEnvBeatsServerEnv", nil, map[string]string{"WAORDERS_URL": "http://env:1", "WAORDERS_SERVER": "http://old:2"}, "http://env:1",
			[]string{"WAORDERS_SERVER is deprecated and ignored here: WAORDERS_URL is set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, err := resolveClient(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if conf.URL != tt.want {
				t.Errorf("URL %q (from %s), want %q", conf.URL, conf.URLFrom, tt.want)
			}
			if len(conf.Warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %q", conf.Warnings, tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(conf.Warnings[i], w) {
					t.Errorf("warning %q lacks %q", conf.Warnings[i], w)
				}
			}
		})
	}
}

func TestClientToken(t *testing.T) {
	tokenFile := writeFile(t, "token", "token-from-file\n")
	cfgFile := writeFile(t, "waorders.conf", "api-token = token-in-config,older-token\n")
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		want, from string
	}{
		{"None", nil, nil, "", ""},
		{"Flag", []string{"--api-token", "flag-token"}, map[string]string{"WAORDERS_API_TOKEN": "env-token"}, "flag-token", "--api-token"},
		{"Env", []string{"--config", cfgFile}, map[string]string{"WAORDERS_API_TOKEN": "env-token", "WAORDERS_API_TOKEN_FILE": tokenFile}, "env-token", "WAORDERS_API_TOKEN"},
		{"File", []string{"--config", cfgFile}, map[string]string{"WAORDERS_API_TOKEN_FILE": tokenFile}, "token-from-file", "WAORDERS_API_TOKEN_FILE"},
		{"ConfigFileFirstOfList", []string{"--config", cfgFile}, nil, "token-in-config", "config file " + cfgFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, err := resolveClient(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if conf.Token != tt.want || conf.TokenFrom != tt.from {
				t.Errorf("token %q from %q, want %q from %q", conf.Token, conf.TokenFrom, tt.want, tt.from)
			}
		})
	}
	if _, err := resolveClient(t, nil, map[string]string{"WAORDERS_API_TOKEN_FILE": "/nonexistent/token"}); err == nil ||
		!strings.Contains(err.Error(), "WAORDERS_API_TOKEN_FILE") {
		t.Errorf("missing token file: %v", err)
	}
}

func TestClientDataDirAndTZ(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, nil, "data"},
		{[]string{"--data-dir", "/x"}, map[string]string{"WAORDERS_DATA_DIR": "/y"}, "/x"},
		{nil, map[string]string{"WAORDERS_DATA_DIR": "/y"}, "/y"},
		{nil, map[string]string{"WAORDERS_DATABASE_URL": "/srv/w/orders.db"}, "/srv/w"},
		{nil, map[string]string{"WAORDERS_DATABASE_URL": "postgres://u@h/db"}, "data"},
	} {
		conf, err := resolveClient(t, tt.args, tt.env)
		if err != nil || conf.DataDir != tt.want {
			t.Errorf("%v %v: data dir %q (%v), want %q", tt.args, tt.env, conf.DataDir, err, tt.want)
		}
	}

	conf, err := resolveClient(t, nil, nil)
	if err != nil || conf.Location != time.Local {
		t.Errorf("default zone %v (%v), want time.Local", conf.Location, err)
	}
	conf, err = resolveClient(t, nil, map[string]string{"WAORDERS_TZ": "Asia/Kolkata"})
	if err != nil || conf.Location.String() != "Asia/Kolkata" {
		t.Errorf("WAORDERS_TZ: %v (%v)", conf.Location, err)
	}
	conf, err = resolveClient(t, []string{"--tz", "UTC"}, map[string]string{"WAORDERS_TZ": "Asia/Kolkata"})
	if err != nil || conf.Location != time.UTC {
		t.Errorf("--tz UTC: %v (%v)", conf.Location, err)
	}
	cfgFile := writeFile(t, "tz.conf", "tz = Europe/Berlin\n")
	if conf, err = resolveClient(t, []string{"--config", cfgFile}, nil); err != nil || conf.Location.String() != "Europe/Berlin" {
		t.Errorf("tz in the config file: %v (%v)", conf.Location, err)
	}
	for _, bad := range []string{"Mars/Olympus", "Local", "+05:30"} {
		if _, err := resolveClient(t, []string{"--tz", bad}, nil); err == nil || !strings.Contains(err.Error(), "--tz") {
			t.Errorf("--tz %q: %v, want an error naming --tz", bad, err)
		}
	}
}

func TestURLFromAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		":8080":          "http://127.0.0.1:8080",
		"0.0.0.0:9":      "http://127.0.0.1:9",
		"[::]:9":         "http://[::1]:9",
		"[::1]:9":        "http://[::1]:9",
		"orders.lan:80":  "http://orders.lan:80",
	} {
		if got, err := URLFromAddr(in); err != nil || got != want {
			t.Errorf("URLFromAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"8080", "host:", ""} {
		if got, err := URLFromAddr(bad); err == nil {
			t.Errorf("URLFromAddr(%q) = %q, want an error", bad, got)
		}
	}
}

// TestOneConfigFile: serve, the client commands and send read one file;
// each ignores the others' settings, and a typo is still an error.
func TestOneConfigFile(t *testing.T) {
	shared := writeFile(t, "waorders.conf", "addr = 127.0.0.1:7300\napi-token = tok-0123456789abcdef\nurl = http://127.0.0.1:7300\ntz = UTC\ndata-dir = /srv\n")
	c, fs := newServeFlags()
	if err := Resolve(fs, []string{"--config", shared}, func(string) string { return "" }, ServeSecrets); err != nil {
		t.Fatalf("serve rejects the client's settings: %v", err)
	}
	if c.Addr != "127.0.0.1:7300" {
		t.Errorf("serve addr %q", c.Addr)
	}
	conf, err := resolveClient(t, []string{"--config", shared}, nil)
	if err != nil {
		t.Fatalf("the client rejects serve's settings: %v", err)
	}
	if conf.URL != "http://127.0.0.1:7300" || conf.Token != "tok-0123456789abcdef" || conf.DataDir != "/srv" {
		t.Errorf("client from the shared file: %+v", conf)
	}
	typo := writeFile(t, "typo.conf", "urll = http://x\n")
	if _, err := resolveClient(t, []string{"--config", typo}, nil); err == nil || !strings.Contains(err.Error(), `unknown setting "urll"`) {
		t.Errorf("typo: %v", err)
	}
	_, fs = newServeFlags()
	if err := Resolve(fs, []string{"--config", typo}, func(string) string { return "" }, ServeSecrets); err == nil {
		t.Error("serve accepted an unknown setting")
	}
}
