package cli

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/testkit"
)

// TestClientConnectionSources: the URL and the token come from every
// source the help names, with nothing given on the command line.
func TestClientConnectionSources(t *testing.T) {
	t.Parallel()
	srv := newOrdersTestServer(t, cliOrders...)
	u, _ := url.Parse(srv)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := write("token", testkit.APIToken+"\n")
	conf := write("waorders.conf", "addr = "+u.Host+"\napi-token = "+testkit.APIToken+",an-older-token\n")
	dataDir := filepath.Join(dir, "srv")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	write("srv/credentials.env", "WAORDERS_API_TOKEN="+testkit.APIToken+"\n")

	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		warn string
	}{
		{"URLAndTokenEnv", nil, map[string]string{"WAORDERS_URL": srv, "WAORDERS_API_TOKEN": testkit.APIToken}, ""},
		{"TokenFile", nil, map[string]string{"WAORDERS_URL": srv, "WAORDERS_API_TOKEN_FILE": tokenFile}, ""},
		{"ConfigFileAddrAndToken", []string{"--config", conf}, nil, ""},
		{"ConfigFromEnv", nil, map[string]string{"WAORDERS_CONFIG": conf}, ""},
		{"AddrEnvAndCredentialsBesideDatabase", nil, map[string]string{
			"WAORDERS_ADDR": u.Host, "WAORDERS_DATABASE_URL": filepath.Join(dataDir, "waorders.db")}, ""},
		{"DataDirFlag", []string{"--url", srv, "--data-dir", dataDir}, nil, ""},
		{"DeprecatedServerFlag", []string{"--server", srv, "--api-token", testkit.APIToken}, nil, "--server is deprecated: use --url"},
		{"DeprecatedServerEnv", []string{"--api-token", testkit.APIToken}, map[string]string{"WAORDERS_SERVER": srv}, "WAORDERS_SERVER is deprecated"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"orders", "list"}, tt.args...)
			out, stderr, err := runEnv(t, tt.env, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			if !strings.Contains(out, "wamid.ONE") {
				t.Errorf("no orders listed:\n%s", out)
			}
			if tt.warn == "" && stderr != "" || !strings.Contains(stderr, tt.warn) {
				t.Errorf("stderr %q, want %q", stderr, tt.warn)
			}
		})
	}
}

func TestClientErrorsSayWhatToDo(t *testing.T) {
	t.Parallel()
	srv := newOrdersTestServer(t)
	empty := t.TempDir()
	_, _, err := runEnv(t, nil, "orders", "list", "--url", srv, "--data-dir", empty)
	if !errors.Is(err, ErrUsage) {
		t.Fatalf("no token: %v, want a usage error", err)
	}
	for _, way := range []string{"--api-token", "WAORDERS_API_TOKEN=", "WAORDERS_API_TOKEN_FILE", "config file", "credentials.env"} {
		if !strings.Contains(err.Error(), way) {
			t.Errorf("no-token error lacks %q:\n%v", way, err)
		}
	}
	_, _, err = runEnv(t, map[string]string{"WAORDERS_API_TOKEN": "wrong-token-0123456789"}, "orders", "list", "--url", srv)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "check the API token (it came from WAORDERS_API_TOKEN)") {
		t.Errorf("wrong token: %v", err)
	}
	_, _, err = runCLI(t, "ftp://x", nil, "orders", "list")
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "--url") {
		t.Errorf("bad URL: %v", err)
	}
	_, _, err = runCLI(t, "http://127.0.0.1:1", nil, "orders", "list")
	if err == nil || !strings.Contains(err.Error(), "set --url or WAORDERS_URL") {
		t.Errorf("no server: %v", err)
	}
	_, _, err = runCLI(t, srv, map[string]string{"WAORDERS_TZ": "Mars/Olympus"}, "orders", "list")
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "WAORDERS_TZ") || !strings.Contains(err.Error(), "IANA") {
		t.Errorf("bad zone: %v", err)
	}
}

// TestTimeZone: --tz and WAORDERS_TZ show times in the zone and name it in
// the header; the API's JSON keeps its RFC 3339 times.
func TestTimeZone(t *testing.T) {
	t.Parallel()
	srv := newOrdersTestServer(t, cliOrders...)
	out, _, err := runCLI(t, srv, nil, "orders", "list", "--tz", "Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "ORDERED (Asia/Kolkata)") || !strings.Contains(out, "2026-01-05 15:30:00") || strings.Contains(out, "2026-01-05 10:00:00") {
		t.Errorf("--tz Asia/Kolkata (order at 10:00 UTC):\n%s", out)
	}
	out, _, err = runCLI(t, srv, map[string]string{"WAORDERS_TZ": "America/New_York"}, "orders", "show", "wamid.ONE")
	if err != nil || !strings.Contains(out, "2026-01-05 05:00:00 America/New_York") {
		t.Errorf("WAORDERS_TZ on show (%v):\n%s", err, out)
	}
	out, _, err = runCLI(t, srv, map[string]string{"WAORDERS_TZ": "Asia/Kolkata"}, "report", "campaigns")
	if err != nil || !strings.Contains(out, "FIRST ORDER (Asia/Kolkata)") || !strings.Contains(out, "2026-01-05 15:30:00") {
		t.Errorf("report in a zone (%v):\n%s", err, out)
	}
	out, _, err = runCLI(t, srv, map[string]string{"WAORDERS_TZ": "Asia/Kolkata"}, "orders", "show", "--json", "wamid.ONE")
	if err != nil || !strings.Contains(out, `"ordered_at":"2026-01-05T10:00:00Z"`) {
		t.Errorf("--json must keep the API's times (%v):\n%s", err, out)
	}
}

func TestZoneLabel(t *testing.T) {
	t.Parallel()
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	for loc, want := range map[*time.Location]string{time.UTC: "UTC", kolkata: "Asia/Kolkata"} {
		if got := (&apiClient{loc: loc}).zone(); got != want {
			t.Errorf("zone(%v) = %q, want %q", loc, got, want)
		}
	}
	// The local zone is named by its abbreviation, never "Local".
	if got := (&apiClient{loc: time.Local}).zone(); got == "" || got == "Local" {
		t.Errorf("zone(time.Local) = %q", got)
	}
}

// TestHelpSaysWhereOptionsComeFrom: every command's --help names the
// sources of each option.
func TestHelpSaysWhereOptionsComeFrom(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"orders", "list"}, {"orders", "show"}, {"orders", "set-status"}, {"orders", "export"},
		{"customers", "show"}, {"customers", "orders"}, {"customers", "export"},
		{"report", "campaigns"}, {"quarantine", "list"}, {"quarantine", "show"}, {"quarantine", "retry"},
	} {
		out, _, err := runEnv(t, nil, append(args, "--help")...)
		if err != nil {
			t.Errorf("%v --help: %v", args, err)
		}
		for _, want := range []string{"Where options come from", "WAORDERS_URL", "WAORDERS_API_TOKEN_FILE", "api-token in the config file",
			"WAORDERS_TZ", "WAORDERS_CONFIG", "WAORDERS_SERVER", "the command line only: "} {
			if !strings.Contains(out, want) {
				t.Errorf("%v --help lacks %q", args, want)
			}
		}
	}
	out, _, _ := runEnv(t, nil, "send", "--help")
	for _, want := range []string{"WAORDERS_URL", "WAORDERS_CALLBACK_SECRET_FILE", "callback-secret in the config file", "--print", "the command line only: "} {
		if !strings.Contains(out, want) {
			t.Errorf("send --help lacks %q", want)
		}
	}
	for _, cmd := range []string{"serve", "migrate"} {
		out, _, _ := runEnv(t, nil, cmd, "--help")
		if !strings.Contains(out, "WAORDERS_<NAME>_FILE") || !strings.Contains(out, "config file") {
			t.Errorf("%s --help does not say where options come from:\n%s", cmd, out)
		}
	}
}
