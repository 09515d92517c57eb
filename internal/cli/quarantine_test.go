package cli

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/testkit"
)

func TestQuarantineShow(t *testing.T) {
	t.Parallel()
	srv := newOrdersTestServer(t)
	// A body that is not JSON, with an escape sequence and a bidi override
	// in it: hostile text the terminal must not interpret.
	status, answer := postCallback(t, srv, []byte("{\"oops\x1b]0;pwned\x07\u202e\": \n  not json"))
	if status != http.StatusBadRequest {
		t.Fatalf("post: %d %s", status, answer)
	}
	var e struct {
		Error struct {
			QuarantineID int64 `json:"quarantine_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(answer, &e); err != nil || e.Error.QuarantineID == 0 {
		t.Fatalf("answer %s: %v", answer, err)
	}
	id := strconv.FormatInt(e.Error.QuarantineID, 10)

	out, _, err := runCLI(t, srv, nil, "quarantine", "show", id)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Entry:", id, "Reason:", "invalid_json", "Received:", "UTC", "Resolved:", "no",
		"Headers:", "Content-Type: application/json", "Body:", "{\"oops\": \n  not json"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, testkit.CallbackSecret) {
		t.Errorf("show prints the callback secret:\n%s", out)
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") || strings.Contains(out, "pwned") {
		t.Errorf("control characters reached the terminal: %q", out)
	}

	out, _, err = runCLI(t, srv, nil, "quarantine", "show", "--json", id)
	var q struct {
		ID   int64   `json:"id"`
		Body *string `json:"body"`
	}
	if err != nil || json.Unmarshal([]byte(out), &q) != nil || q.Body == nil || !strings.Contains(*q.Body, "\x1b]0;pwned") {
		t.Errorf("show --json keeps the exact body (%v): %s", err, out)
	}

	var ae *apiError
	if _, _, err := runCLI(t, srv, nil, "quarantine", "show", "999999"); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("unknown entry: %v", err)
	}
	for _, args := range [][]string{{"quarantine", "show"}, {"quarantine", "show", "x"}, {"quarantine", "show", "1", "2"}, {"quarantine", "list", "extra"}} {
		if _, _, err := runCLI(t, srv, nil, args...); !errors.Is(err, ErrUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
