package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
)

// newRequestID returns 32 hex digits: the time in nanoseconds, then 8
// random bytes. Ids sort by time, so the callbacks table they key grows at
// its end instead of dirtying a random page per insert.
func newRequestID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	_, _ = rand.Read(b[8:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// withRequestID gives every request a fresh id, in the context and in the
// X-Request-ID response header. A client-sent id is not trusted: it would
// become the callback's primary key.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(httpx.WithRequestID(r.Context(), id)))
	})
}

// withRecover turns a panic into a logged 500 instead of a dropped connection.
func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.errors.Error(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withLog logs one line per request (never bodies or numbers) and counts it.
func (s *Server) withLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &httpx.StatusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.Status == 0 {
			rec.Status = http.StatusOK
		}
		route := r.Pattern
		if route == "" || route == "/" {
			route = "other"
		}
		s.cfg.Metrics.HTTPRequests.WithLabelValues(route, fmt.Sprint(rec.Status)).Inc()
		s.log.Debug("http request", "method", r.Method, "route", route, "status", rec.Status,
			"duration", time.Since(start), "request_id", httpx.RequestID(r.Context()))
	})
}

// requireAPIToken guards the /v1 API with the Bearer API token(s). Tokens
// are compared as SHA-256 digests in constant time, so neither content nor
// length leaks.
// The tokens are those in use when the request arrives (a reload replaces
// them).
func (s *Server) requireAPIToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := s.creds.Load().apiTokens
		got, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="waorders"`)
			s.errors.Error(w, r, waorders.Errorf(waorders.CodeUnauthorized, "missing API token: send Authorization: Bearer <token> (the server's --api-token)"))
			return
		}
		sum := sha256.Sum256([]byte(got))
		match := 0
		for _, t := range want {
			match |= subtle.ConstantTimeCompare(sum[:], t[:])
		}
		if match != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="waorders", error="invalid_token"`)
			s.errors.Error(w, r, waorders.Errorf(waorders.CodeUnauthorized, "wrong API token"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

func (s *Server) methodNotAllowed(allow string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return waorders.Errorf(httpx.CodeMethod, "method %s is not allowed here; use %s", r.Method, allow)
	}
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) error {
	return waorders.Errorf(waorders.CodeNotFound, "no such endpoint: %s; see /v1/openapi.json", r.URL.Path)
}
