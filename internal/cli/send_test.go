package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/testkit"
)

func TestSendQuiet(t *testing.T) {
	t.Parallel()
	srv := newOrdersTestServer(t)
	env := map[string]string{"WAORDERS_URL": srv, "WAORDERS_CALLBACK_SECRET": testkit.CallbackSecret}
	out, errOut, err := runEnv(t, env, "send", "--count", "5", "--seed", "7", "--quiet")
	if err != nil || out != "" || errOut != "" {
		t.Errorf("send --quiet: err %v, stdout %q, stderr %q; want nothing at all", err, out, errOut)
	}
	out, errOut, err = runEnv(t, env, "send", "--count", "2", "--seed", "7", "--quiet", "--json")
	var sum struct {
		Acknowledged int `json:"acknowledged"`
	}
	if err != nil || errOut != "" || json.Unmarshal([]byte(out), &sum) != nil || sum.Acknowledged != 2 {
		t.Errorf("send --quiet --json: err %v, stdout %q, stderr %q", err, out, errOut)
	}
	// Refused callbacks: still an error, saying what came back, and still
	// nothing else printed.
	out, errOut, err = runEnv(t, map[string]string{"WAORDERS_URL": srv, "WAORDERS_CALLBACK_SECRET": "wrong-secret-0123456789"},
		"send", "--count", "3", "--quiet", "--mix", "order=1")
	if err == nil || !strings.Contains(err.Error(), "401") || out != "" || errOut != "" {
		t.Errorf("refused send --quiet: err %v, stdout %q, stderr %q", err, out, errOut)
	}
	out, errOut, err = runEnv(t, env, "send", "--count", "1")
	if err != nil || !strings.Contains(out, "acknowledged") || !strings.Contains(errOut, "sending to "+srv) {
		t.Errorf("send without --quiet prints the summary (%v): %q %q", err, out, errOut)
	}
}

// TestSendExample: the README's "send --example order" creates an order
// on the local server; --print only shows the body.
func TestSendExample(t *testing.T) {
	t.Parallel()
	srv := newOrdersTestServer(t)
	dataDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dataDir, "credentials.env"),
		[]byte("WAORDERS_CALLBACK_SECRET="+testkit.CallbackSecret+"\nWAORDERS_API_TOKEN="+testkit.APIToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// As on a machine running `waorders serve`: only its addr and data dir.
	env := map[string]string{"WAORDERS_ADDR": strings.TrimPrefix(srv, "http://"), "WAORDERS_DATA_DIR": dataDir}
	out, errOut, err := runEnv(t, env, "send", "--example", "order")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var answer struct {
		Messages []struct {
			ID     string `json:"id"`
			Result string `json:"result"`
		} `json:"messages"`
	}
	if json.Unmarshal([]byte(out), &answer) != nil || len(answer.Messages) != 1 || answer.Messages[0].Result != "stored" {
		t.Fatalf("stdout is not the server's answer: %q", out)
	}
	if !strings.Contains(errOut, "posted example order to "+srv+"/v1/callbacks/kaleyra: 200 OK") {
		t.Errorf("stderr %q", errOut)
	}
	list, _, err := runEnv(t, env, "orders", "list")
	if err != nil || !strings.Contains(list, answer.Messages[0].ID) {
		t.Errorf("orders list after send --example (%v):\n%s", err, list)
	}

	// Posted, the example happened now (its 24-hour window is open);
	// printed, it keeps its fixed date.
	shown, _, err := runEnv(t, env, "orders", "show", answer.Messages[0].ID, "--json")
	var order struct {
		OrderedAt time.Time `json:"ordered_at"`
	}
	if err != nil || json.Unmarshal([]byte(shown), &order) != nil || time.Since(order.OrderedAt) > time.Hour || time.Since(order.OrderedAt) < -time.Hour {
		t.Errorf("the posted example's order time is %v (%v), want about now", order.OrderedAt, err)
	}
	out, _, err = runEnv(t, env, "send", "--example", "order", "--print")
	if err != nil || !json.Valid([]byte(out)) || !strings.Contains(out, `"meta_object"`) || !strings.Contains(out, `"timestamp": "1767225600"`) {
		t.Errorf("--print (%v): %q", err, out)
	}
	out, errOut, err = runEnv(t, env, "send", "--example", "meta-order", "--quiet")
	if err == nil || out != "" || errOut != "" || !strings.Contains(err.Error(), "refused the example: 401") {
		t.Errorf("unsigned Meta example --quiet: err %v, stdout %q, stderr %q", err, out, errOut)
	}
	// A malformed example is meant to be refused: that is not a failure.
	if _, errOut, err := runEnv(t, env, "send", "--example", "zero-quantity"); err != nil {
		t.Errorf("defect example: %v %s", err, errOut)
	}
	if _, _, err := runEnv(t, env, "send", "--print"); !errors.Is(err, ErrUsage) {
		t.Errorf("--print without --example: %v", err)
	}
	if _, _, err := runEnv(t, env, "send", "--example", "nope"); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown example: %v", err)
	}
}
