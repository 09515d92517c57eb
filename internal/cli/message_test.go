package cli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/cli"
	sandbox "github.com/waorders/waorders/internal/sandbox/kaleyra"
	"github.com/waorders/waorders/internal/testkit"
)

// The single-number setup from environment variables only: serve sends
// the order confirmation to the local Kaleyra, the CLI writes to the
// customer, shows the conversation and the settings, and the API key is
// never printed.
func TestServeNotifiesAndMessageCLI(t *testing.T) {
	t.Parallel()
	var target atomic.Value
	target.Store("")
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequest(http.MethodPost, target.Load().(string)+"/v1/callbacks/kaleyra", r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(relay.Close)
	const key = "sandbox-secret-key-9f2"
	sb, err := sandbox.New(sandbox.Config{SID: "HXCLI01", APIKey: key, Sender: "+919800000001", CallbackURL: relay.URL,
		CallbackAuth: sandbox.CallbackAuth{Header: testkit.CallbackSecretHeader, Secret: testkit.CallbackSecret}, StatusDelay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "kaleyra.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"WAORDERS_API_TOKEN": testkit.APIToken, "WAORDERS_CALLBACK_SECRET": testkit.CallbackSecret,
		"WAORDERS_KALEYRA_BASE_URL": sb.URL(), "WAORDERS_KALEYRA_SID": "HXCLI01", "WAORDERS_KALEYRA_API_KEY_FILE": keyFile,
		"WAORDERS_KALEYRA_SENDER": "+919800000001", "WAORDERS_NOTIFY_STATUSES": "pending,shipped",
	}
	r := startServe(t, dir, env)
	target.Store(r.url)
	body := testkit.Kaleyra(testkit.Order("wamid.CLI1").At(time.Now())).Bytes()
	req, _ := http.NewRequest(http.MethodPost, r.url+"/v1/callbacks/kaleyra", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(testkit.CallbackSecretHeader, testkit.CallbackSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post order: %v %v", resp, err)
	}
	resp.Body.Close()
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		full := append(args, "--url", r.url, "--api-token", testkit.APIToken)
		if err := cli.Run(context.Background(), full, envFunc(map[string]string{"WAORDERS_TZ": "UTC", "USER": "asha"}), strings.NewReader(""), &out, &errb); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	waitFor(t, "the confirmation delivered", func() bool {
		return strings.Contains(run("message", "list", "--order", "wamid.CLI1"), "read")
	})
	out := run("message", "send", testkit.WaID, "--text", "Your parcel leaves today.")
	// The notifier may claim the message before the CLI prints it: any
	// state on the way to accepted.
	if !strings.Contains(out, "staff") || !strings.Contains(out, "queued") && !strings.Contains(out, "sending") && !strings.Contains(out, "accepted") {
		t.Fatalf("send:\n%s", out)
	}
	waitFor(t, "the staff message in the conversation", func() bool {
		c := run("message", "conversation", testkit.WaID)
		return strings.Contains(c, "Your parcel leaves today.") && strings.Count(c, "read") >= 2
	})
	out = run("notifications", "show")
	for _, want := range []string{"pending", "shipped", "yes", "HXCLI01", "api key set"} {
		if !strings.Contains(out, want) {
			t.Errorf("notifications show lacks %q:\n%s", want, out)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.stdout.String()+r.stderr.String(), key) {
		t.Fatal("the Kaleyra API key was printed")
	}
}
