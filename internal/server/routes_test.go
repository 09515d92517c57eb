package server_test

// Tests of the route table (routes.go): 405 with Allow, 404.

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/testkit"
)

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tt := range []struct{ method, path, allow string }{
		{http.MethodPut, kaleyraPath, "POST"},
		{http.MethodGet, kaleyraPath, "POST"},
		{http.MethodDelete, kaleyraPath, "POST"},
		{http.MethodPut, metaPath, "GET, HEAD, POST"},
		{http.MethodPost, "/healthz", "GET, HEAD"},
		{http.MethodDelete, "/v1/quarantine/1", "GET, HEAD"},
	} {
		r := b.send(t, tt.method, tt.path, nil, testkit.CallbackSecretHeader, testkit.CallbackSecret)
		wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
		if got := splitList(r.header.Get("Allow")); !slices.Equal(got, splitList(tt.allow)) {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, r.header.Get("Allow"), tt.allow)
		}
	}
}

func TestUnknownPath(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, p := range []string{"/nope", "/v1/callbacks/other", "/v2/orders"} {
		wantError(t, b.send(t, http.MethodGet, p, nil), http.StatusNotFound, "not_found")
	}
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
