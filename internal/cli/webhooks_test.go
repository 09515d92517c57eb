package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/sink/webhook"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/testkit"
)

// newWebhooksTestServer is a server with the event log on (as serve
// builds it, with the real webhook sink) and no relay: deliveries wait.
func newWebhooksTestServer(t *testing.T) string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "waorders.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Serve{}
	cfg.WebhookTimeout, cfg.WebhookAllowPrivate, cfg.WebhookAllowHTTPHosts, cfg.NoRelay = 5e9, true, config.List{"127.0.0.1"}, true
	ev, _, _ := forwarding(cfg, st, metrics.New(), nil)
	in := intake.New(st, intake.Config{Events: &intake.EventLog{Store: st, Builder: ev.Builder}})
	in.Start()
	authn, err := callbackauth.New(callbackauth.Config{Secrets: []string{testkit.CallbackSecret}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Intake: in, Auth: authn, APITokens: []string{testkit.APIToken}, EventLog: ev})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = in.Stop(context.Background())
		_ = st.Close()
	})
	return hs.URL
}

func TestWebhooksCommands(t *testing.T) {
	t.Parallel()
	srv := newWebhooksTestServer(t)
	var got atomic.Int32
	var secret atomic.Value
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, err := webhook.NewVerifier(secret.Load().(string))
		if err != nil || v.Verify(r.Header, body) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)

	out, _, err := runCLI(t, srv, nil, "webhooks", "add", rcv.URL+"/hook", "--description", "shop", "--event-types", "order.created,order.status_changed")
	if err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	for _, want := range []string{"ID:", "wh_", "Event types:", "order.created, order.status_changed", "State:", "enabled", "Secret: whsec_", "shown only once"} {
		if !strings.Contains(out, want) {
			t.Errorf("add lacks %q:\n%s", want, out)
		}
	}
	var id, sec string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "ID:" {
			id = f[1]
		} else if len(f) == 2 && f[0] == "Secret:" {
			sec = f[1]
		}
	}
	secret.Store(sec)

	out, _, err = runCLI(t, srv, nil, "webhooks", "list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "order.created,order.status_changed") {
		t.Errorf("list (%v):\n%s", err, out)
	}
	out, _, err = runCLI(t, srv, nil, "webhooks", "list", "--json")
	var l struct {
		Webhooks []struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		} `json:"webhooks"`
	}
	if err != nil || json.Unmarshal([]byte(out), &l) != nil || len(l.Webhooks) != 1 || l.Webhooks[0].ID != id || l.Webhooks[0].Secret != "" {
		t.Errorf("list --json (%v), want one webhook without its secret:\n%s", err, out)
	}

	out, _, err = runCLI(t, srv, nil, "webhooks", "test", id)
	if err != nil || !strings.Contains(out, "delivered") || got.Load() != 1 {
		t.Errorf("test (%v), receiver got %d verified:\n%s", err, got.Load(), out)
	}
	out, _, err = runCLI(t, srv, nil, "webhooks", "show", id)
	if err != nil || !strings.Contains(out, "delivered (manual)") || !strings.Contains(out, "Secrets:") || strings.Contains(out, sec) {
		t.Errorf("show (%v): want the manual attempt and a secret prefix only:\n%s", err, out)
	}

	out, _, err = runCLI(t, srv, nil, "webhooks", "disable", id)
	if err != nil || !strings.Contains(out, "disabled") {
		t.Errorf("disable (%v): %s", err, out)
	}
	out, _, _ = runCLI(t, srv, nil, "webhooks", "show", id, "--json")
	if !strings.Contains(out, `"enabled":false`) {
		t.Errorf("after disable: %s", out)
	}
	if out, _, err = runCLI(t, srv, nil, "webhooks", "enable", id); err != nil || !strings.Contains(out, "enabled") {
		t.Errorf("enable (%v): %s", err, out)
	}

	if status, answer := postCallback(t, srv, testkit.Kaleyra(testkit.Order("wamid.WH1").At(cliT0).Item("SKU-TEA", 1, "500", "INR")).Bytes()); status != http.StatusOK {
		t.Fatalf("post: %d %s", status, answer)
	}
	out, _, err = runCLI(t, srv, nil, "webhooks", "replay", id, "--since", "2000-01-01")
	if err != nil || !strings.Contains(out, "1 deliveries") {
		t.Errorf("replay --since (%v): %s", err, out)
	}
	out, _, err = runCLI(t, srv, nil, "webhooks", "replay", id, "--status", "dead", "--json")
	if err != nil || strings.TrimSpace(out) != `{"redelivered":0}` {
		t.Errorf("replay --status dead --json (%v): %s", err, out)
	}
	if _, _, err = runCLI(t, srv, nil, "webhooks", "replay", id); err == nil {
		t.Error("replay without --status or --since: no error")
	}
	if _, _, err = runCLI(t, srv, nil, "webhooks", "add", "ftp://x"); err == nil {
		t.Error("add ftp://x: no error")
	}
	if _, _, err = runCLI(t, srv, nil, "webhooks", "show", "wh_missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("show of a missing webhook: %v", err)
	}
}
