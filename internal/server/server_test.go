package server_test

// Tests of the server's lifecycle (server.go): what New requires, and the
// listener's timeouts.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/testkit"
)

func TestNewRefusesMissingParts(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := intake.New(st, intake.Config{})
	authn, err := callbackauth.New(callbackauth.Config{Secrets: []string{testkit.CallbackSecret}})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]server.Config{
		"NoStore":  {Intake: in, Auth: authn},
		"NoIntake": {Store: st, Auth: authn},
		"NoAuth":   {Store: st, Intake: in},
	} {
		if _, err := server.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := server.New(server.Config{Store: st, Intake: in, InsecureNoAuth: true}); err != nil {
		t.Errorf("InsecureNoAuth: %v", err)
	}
}

// TestSlowClients checks that a client that stalls is cut off by the
// server's timeouts: the connection ends (answered or closed) although the
// client never finishes its request. The deadline on the test's side only
// keeps a broken server from hanging the test.
func TestSlowClients(t *testing.T) {
	t.Parallel()
	b := setup(t, listen(), withServer(func(c *server.Config) {
		c.ReadTimeout = 300 * time.Millisecond
		c.ReadHeaderTimeout = 300 * time.Millisecond
	}))
	tests := []struct {
		name, request string
	}{
		{"StalledBody", "POST /v1/callbacks/kaleyra HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
			"X-Callback-Secret: " + testkit.CallbackSecret + "\r\nContent-Length: 4000\r\n\r\n{\"meta_object\":"},
		{"StalledHeaders", "POST /v1/callbacks/kaleyra HTTP/1.1\r\nHost: test\r\nContent-Type: appl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", b.srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			got, err := io.ReadAll(conn)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server kept the stalled connection open: %v", err)
			}
			if len(got) > 0 {
				resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
				if err != nil {
					t.Fatalf("answer %q: %v", got, err)
				}
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					t.Errorf("status %d, want a 4xx", resp.StatusCode)
				}
			}
			if n := b.rows(t, "callbacks") + b.rows(t, "quarantine"); n != 0 {
				t.Errorf("a stalled request stored %d rows", n)
			}
		})
	}
	// The server still serves others.
	wantAnswer(t, b.kaleyra(t, order("wamid.AFTERSLOW")))
}
