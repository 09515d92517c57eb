package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waorders/waorders"
)

func TestErrorWriterByAccept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		accept []string
		html   bool
	}{
		{name: "NoAccept"},
		{name: "Any", accept: []string{"*/*"}},
		{name: "JSON", accept: []string{"application/json"}},
		{name: "Browser", accept: []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, html: true},
		{name: "HTMLOnly", accept: []string{"text/html"}, html: true},
		{name: "EqualPrefersJSON", accept: []string{"text/html, application/json"}},
		{name: "JSONHigher", accept: []string{"text/html;q=0.5, application/json"}},
		{name: "HTMLHigher", accept: []string{"application/json;q=0.5, text/html"}, html: true},
		{name: "TextWildcard", accept: []string{"text/*, application/json;q=0.1"}, html: true},
		{name: "SeveralHeaders", accept: []string{"application/json;q=0.2", "text/html"}, html: true},
		{name: "HTMLRefused", accept: []string{"text/html;q=0, */*"}},
		{name: "Garbage", accept: []string{";;;, text/html;q=x"}, html: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			req = req.WithContext(WithRequestID(req.Context(), "req-1"))
			for _, a := range tt.accept {
				req.Header.Add("Accept", a)
			}
			rec := httptest.NewRecorder()
			(&ErrorWriter{}).Error(rec, req, waorders.Errorf(waorders.CodeNotFound, "no such order"))
			if rec.Code != http.StatusNotFound {
				t.Errorf("status = %d, want 404", rec.Code)
			}
			ct := rec.Header().Get("Content-Type")
			if tt.html {
				if ct != "text/html; charset=utf-8" || !strings.Contains(rec.Body.String(), "<h1>404 Not Found</h1>") {
					t.Errorf("got %s %s, want an HTML page", ct, rec.Body)
				}
				return
			}
			want := `{"error":{"code":"not_found","message":"no such order","request_id":"req-1"}}` + "\n"
			if ct != "application/json; charset=utf-8" || rec.Body.String() != want {
				t.Errorf("got %s %s, want JSON %s", ct, rec.Body, want)
			}
		})
	}
}

func TestErrorWriterHTMLEscapes(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Accept", "text/html")
	req = req.WithContext(WithRequestID(req.Context(), `<id>`))
	rec := httptest.NewRecorder()
	(&ErrorWriter{}).Error(rec, req, waorders.Errorf(waorders.CodeInvalid, `name "<script>alert(1)</script>" & more`))
	body := rec.Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "<id>") {
		t.Fatalf("unescaped markup in %s", body)
	}
	for _, want := range []string{"<title>400 Bad Request</title>", "&lt;script&gt;alert(1)&lt;/script&gt;", "&amp; more", "&#34;", "&lt;id&gt;", "<code>invalid</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("body %s lacks %s", body, want)
		}
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
}

func TestErrorWriterOAuth(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest(http.MethodPost, "/token", nil)
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Request-Id", "req-9") // set by another router's middleware
	(&ErrorWriter{OAuth: true}).Error(rec, req, waorders.Errorf(CodeUnsupportedGrantType, "only client_credentials"))
	want := `{"error":{"code":"unsupported_grant_type","message":"only client_credentials","request_id":"req-9"}}` + "\n"
	if rec.Code != 400 || rec.Body.String() != want {
		t.Errorf("got %d %s, want 400 %s", rec.Code, rec.Body, want)
	}
	h := rec.Header()
	if h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "" {
		t.Errorf("headers = %v, want the token endpoint's", h)
	}

	rec = httptest.NewRecorder()
	(&ErrorWriter{OAuth: true}).Error(rec, req, waorders.Errorf(waorders.CodeUnauthorized, "no"))
	if want := `{"error":{"code":"unauthorized","message":"no"}}` + "\n"; rec.Body.String() != want {
		t.Errorf("without a request id: %s, want %s", rec.Body, want)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"Domain", waorders.Errorf(waorders.CodeConflict, "cannot"), 409, "conflict", "cannot"},
		{"Wrapped", fmt.Errorf("ctx: %w", waorders.Errorf(waorders.CodePrecondition, "stale")), 412, "precondition_failed", "stale"},
		{"Unavailable", waorders.Errorf(waorders.CodeUnavailable, "later"), 503, "unavailable", "later"},
		{"Plain", errors.New("disk on fire"), 500, "internal", "Internal error."},
		{"UnknownCode", waorders.Errorf("made_up", "x"), 500, "made_up", "x"},
		{"TooLarge", &http.MaxBytesError{Limit: 10}, 413, "body_too_large", "request body is larger than 10 bytes"},
		{"Method", waorders.Errorf(CodeMethod, "no"), 405, "method_not_allowed", "no"},
		{"MediaType", waorders.Errorf(CodeUnsupportedType, "no"), 415, "unsupported_media_type", "no"},
		{"InvalidRequest", waorders.Errorf(CodeInvalidRequest, "no"), 400, "invalid_request", "no"},
		{"Rejection", fmt.Errorf("x: %w", &Rejection{Code: "invalid_json", Path: "$", Message: "bad", QuarantineID: 7}), 400, "invalid_json", "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, d := Classify(tt.err)
			if status != tt.status || d.Code != tt.code || d.Message != tt.message {
				t.Errorf("Classify = %d %+v, want %d %s %q", status, d, tt.status, tt.code, tt.message)
			}
		})
	}
	_, d := Classify(&Rejection{Code: "c", Path: strings.Repeat("p", 300), QuarantineID: 7})
	if d.QuarantineID != 7 || len([]rune(d.Path)) != 257 {
		t.Errorf("rejection detail = %+v, want quarantine 7 and the path clipped to 256 characters and …", d)
	}
}

func TestErrorWriterRetryAfter(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	(&ErrorWriter{RetryAfter: 5e9}).Error(rec, httptest.NewRequest(http.MethodGet, "/", nil), waorders.Errorf(waorders.CodeUnavailable, "later"))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "5" {
		t.Errorf("got %d Retry-After %q, want 503 and 5", rec.Code, rec.Header().Get("Retry-After"))
	}
}
