// Package httpx holds the request and response helpers every HTTP surface
// of waorders shares: the request id in the context, JSON answers, the
// adapter from error-returning handlers, query-parameter parsing, and
// ErrorWriter, the one writer of error answers. errors.go holds the only
// mapping from error codes to HTTP statuses, and the codes that exist only
// in HTTP (a body too large, a media type or method not accepted).
//
// It imports the domain and internal/wire only, so any surface (and
// callbackauth's token endpoint) can use it.
package httpx

import (
	"context"
	"encoding/json"
	"net/http"
	"unicode/utf8"
)

type ctxKey int

const requestIDKey ctxKey = 0

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the id the server's middleware gave the request, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true) // customer text is hostile: keep <, >, & escaped
	_ = enc.Encode(v)       // the client may have gone; nothing to do
}

// StatusRecorder remembers the status a handler wrote.
type StatusRecorder struct {
	http.ResponseWriter
	Status int // 0 until the handler writes
}

// WriteHeader records the first status and passes it on.
func (w *StatusRecorder) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes b on.
func (w *StatusRecorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *StatusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Clip shortens s to at most n characters for echoing in a message.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
