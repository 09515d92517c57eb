package server_test

// Tests of the middleware (middleware.go): the API token.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/testkit"
)

// nextAPIToken is a second API token, as during a rotation.
const nextAPIToken = "api-token-next-0123456789abcdef"

func TestAPIRequiresToken(t *testing.T) {
	t.Parallel()
	b := setup(t, withServer(func(c *server.Config) { c.APITokens = append(c.APITokens, nextAPIToken) }))
	wantAnswer(t, b.kaleyra(t, order("wamid.APITOKEN1")))
	paths := []struct{ method, path string }{
		{http.MethodGet, "/v1/messages"},
		{http.MethodGet, "/v1/messages/wamid.APITOKEN1"},
		{http.MethodGet, "/v1/orders/wamid.APITOKEN1"},
		{http.MethodGet, "/v1/quarantine"},
		{http.MethodGet, "/v1/quarantine/1"},
		{http.MethodPost, "/v1/quarantine/1/retry"},
	}
	for _, p := range paths {
		for name, authz := range map[string]string{
			"Missing":        "",
			"Wrong":          "Bearer wrong-api-token-0123456789",
			"CallbackSecret": "Bearer " + testkit.CallbackSecret,
			"Basic":          "Basic " + testkit.APIToken,
			"Empty":          "Bearer ",
		} {
			r := b.send(t, p.method, p.path, nil, "Authorization", authz)
			wantError(t, r, http.StatusUnauthorized, "unauthorized")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s %s: WWW-Authenticate %q, want Bearer", p.method, p.path, name, r.header.Get("WWW-Authenticate"))
			}
		}
	}
	for _, tok := range []string{testkit.APIToken, nextAPIToken} {
		r := b.send(t, http.MethodGet, "/v1/orders/wamid.APITOKEN1", nil, "Authorization", "Bearer "+tok)
		if r.status != http.StatusOK {
			t.Errorf("token %s…: %s, want 200", tok[:8], r)
		}
	}
	// Operations endpoints need no token.
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := b.send(t, http.MethodGet, p, nil); r.status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", p, r.status)
		}
	}
}
