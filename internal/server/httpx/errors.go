package httpx

import (
	"encoding/json"
	"errors"
	"html"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/wire"
)

// Codes that exist only in HTTP. Their JSON strings are part of the API.
const (
	CodeTooLarge        waorders.Code = "body_too_large" // request body over the limit
	CodeUnsupportedType waorders.Code = "unsupported_media_type"
	CodeMethod          waorders.Code = "method_not_allowed"
	// OAuth 2.0 error codes (RFC 6749 5.2) of the callback token endpoint.
	CodeInvalidRequest       waorders.Code = "invalid_request"
	CodeUnsupportedGrantType waorders.Code = "unsupported_grant_type"
)

// statusByCode is the only mapping from error codes to HTTP statuses.
var statusByCode = map[waorders.Code]int{
	waorders.CodeInvalid:      http.StatusBadRequest,
	waorders.CodeUnauthorized: http.StatusUnauthorized,
	waorders.CodeForbidden:    http.StatusForbidden,
	waorders.CodeNotFound:     http.StatusNotFound,
	waorders.CodeConflict:     http.StatusConflict,
	waorders.CodePrecondition: http.StatusPreconditionFailed,
	waorders.CodeUnavailable:  http.StatusServiceUnavailable,
	waorders.CodeInternal:     http.StatusInternalServerError,

	CodeTooLarge:             http.StatusRequestEntityTooLarge,
	CodeUnsupportedType:      http.StatusUnsupportedMediaType,
	CodeMethod:               http.StatusMethodNotAllowed,
	CodeInvalidRequest:       http.StatusBadRequest,
	CodeUnsupportedGrantType: http.StatusBadRequest,
}

// Rejection is a request body a decoder rejected. It answers 400 with the
// decoder's own code (not one of the codes above), the JSON path of the
// problem and, when the body was kept, the id of its quarantine entry.
type Rejection struct {
	Code         string
	Path         string
	Message      string
	QuarantineID int64
	Err          error // the cause, never shown
}

func (e *Rejection) Error() string { return "rejected: " + e.Code + " at " + e.Path + ": " + e.Message }

func (e *Rejection) Unwrap() error { return e.Err }

// Classify turns any error into its HTTP status and the body to send (the
// request id not yet set).
func Classify(err error) (int, wire.ErrorDetail) {
	var (
		rej *Rejection
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &rej):
		return http.StatusBadRequest, wire.ErrorDetail{
			Code: rej.Code, Path: Clip(rej.Path, 256), QuarantineID: rej.QuarantineID, Message: rej.Message,
		}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, wire.ErrorDetail{
			Code:    string(CodeTooLarge),
			Message: "request body is larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes",
		}
	}
	code := waorders.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return status, wire.ErrorDetail{Code: string(code), Message: waorders.ErrorMessage(err)}
}

// ErrorWriter writes every error answer: JSON ({"error": {"code",
// "message", "request_id", ...}}) unless the client's Accept header
// prefers text/html, then a minimal HTML page with the status and the
// message. Server faults are logged at error level with the request id,
// 503s at warn (with Retry-After), expected client errors at debug.
type ErrorWriter struct {
	Log *slog.Logger // nil logs nothing
	// RetryAfter is sent, in whole seconds, with 503 answers.
	RetryAfter time.Duration
	// OAuth writes the answers of an OAuth 2.0 token endpoint as the
	// callback token endpoint always has: Content-Type application/json
	// without charset, Cache-Control: no-store, no X-Content-Type-Options.
	OAuth bool
}

// Error answers err. The request id comes from the context (WithRequestID)
// or, for a handler mounted behind another router's middleware, from the
// X-Request-ID header already set on the response.
func (e *ErrorWriter) Error(w http.ResponseWriter, r *http.Request, err error) {
	status, d := Classify(err)
	d.RequestID = RequestID(r.Context())
	if d.RequestID == "" {
		d.RequestID = w.Header().Get("X-Request-ID")
	}
	log := e.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		log.Error("request failed", "request_id", d.RequestID, "route", r.Pattern, "err", err)
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
		log.Warn("service unavailable", "request_id", d.RequestID, "route", r.Pattern, "err", err)
	default:
		log.Debug("request rejected", "request_id", d.RequestID, "status", status, "code", d.Code)
	}
	if prefersHTML(r.Header.Values("Accept")) {
		e.writeHTML(w, status, d)
		return
	}
	if !e.OAuth {
		WriteJSON(w, status, wire.Error{Error: d})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wire.Error{Error: d}) // escapes HTML by default
}

// writeHTML writes the error as a small page for a person in a browser.
func (e *ErrorWriter) writeHTML(w http.ResponseWriter, status int, d wire.ErrorDetail) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if e.OAuth {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	title := html.EscapeString(strconv.Itoa(status) + " " + http.StatusText(status))
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
	b.WriteString(title)
	b.WriteString("</title></head>\n<body><h1>")
	b.WriteString(title)
	b.WriteString("</h1>\n<p>")
	b.WriteString(html.EscapeString(d.Message))
	b.WriteString("</p>\n<p>Code: <code>")
	b.WriteString(html.EscapeString(d.Code))
	b.WriteString("</code>")
	if d.RequestID != "" {
		b.WriteString(", request id: <code>")
		b.WriteString(html.EscapeString(d.RequestID))
		b.WriteString("</code>")
	}
	b.WriteString("</p></body></html>\n")
	_, _ = w.Write([]byte(b.String()))
}

// Handle adapts an error-returning handler: errors go to e.Error.
func (e *ErrorWriter) Handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			e.Error(w, r, err)
		}
	})
}

// prefersHTML reports whether the Accept header values rank text/html
// above application/json. Equal preference, or no Accept, means JSON.
func prefersHTML(accept []string) bool {
	if len(accept) == 0 {
		return false
	}
	return quality(accept, "text", "html") > quality(accept, "application", "json")
}

// quality returns the q-value the Accept header gives type/subtype: that
// of the most specific matching range, 0 if none matches.
func quality(accept []string, typ, sub string) float64 {
	best, bestSpec := 0.0, -1
	for _, v := range accept {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			t, s, _ := strings.Cut(mt, "/")
			spec := 0
			switch {
			case t == typ && s == sub:
				spec = 2
			case t == typ && s == "*":
				spec = 1
			case t == "*" && s == "*":
				spec = 0
			default:
				continue
			}
			if spec < bestSpec {
				continue
			}
			q := 1.0
			if qs, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(qs, 64); err == nil && f >= 0 && f <= 1 {
					q = f
				}
			}
			if spec > bestSpec || q > best {
				best, bestSpec = q, spec
			}
		}
	}
	return best
}

// CheckJSON accepts a request whose Content-Type is application/json or
// any application/*+json type.
func CheckJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
		return nil
	}
	if ct == "" {
		ct = "none"
	}
	return waorders.Errorf(CodeUnsupportedType, "content type %q is not accepted; send Content-Type: application/json", ct)
}
