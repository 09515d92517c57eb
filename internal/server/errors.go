package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/intake"
)

// statusByCode is the only mapping from domain error codes to HTTP statuses.
var statusByCode = map[waorders.Code]int{
	waorders.CodeInvalid:         http.StatusBadRequest,
	waorders.CodeUnauthorized:    http.StatusUnauthorized,
	waorders.CodeForbidden:       http.StatusForbidden,
	waorders.CodeNotFound:        http.StatusNotFound,
	waorders.CodeConflict:        http.StatusConflict,
	waorders.CodePrecondition:    http.StatusPreconditionFailed,
	waorders.CodeTooLarge:        http.StatusRequestEntityTooLarge,
	waorders.CodeUnsupportedType: http.StatusUnsupportedMediaType,
	waorders.CodeMethod:          http.StatusMethodNotAllowed,
	waorders.CodeUnavailable:     http.StatusServiceUnavailable,
	waorders.CodeInternal:        http.StatusInternalServerError,
}

// errorBody is the one shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	RequestID    string `json:"request_id"`
	Path         string `json:"path,omitempty"`
	QuarantineID int64  `json:"quarantine_id,omitempty"`
}

// classify turns any error into its HTTP status and the body to send.
func classify(err error) (int, errorDetail) {
	var (
		rej *intake.RejectedError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &rej):
		return http.StatusBadRequest, errorDetail{
			Code: rej.Decode.Code, Path: clip(rej.Decode.Path, 256), QuarantineID: rej.QuarantineID,
			Message: rej.Decode.Message + "; the body is kept in quarantine",
		}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, errorDetail{
			Code:    string(waorders.CodeTooLarge),
			Message: "request body is larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes",
		}
	}
	code := waorders.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return status, errorDetail{Code: string(code), Message: waorders.ErrorMessage(err)}
}

// writeError answers err as JSON. Server faults are logged at error level
// with the request id; expected client errors at debug.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, d := classify(err)
	d.RequestID = requestID(r.Context())
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		s.log.Error("request failed", "request_id", d.RequestID, "route", r.Pattern, "err", err)
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter.Seconds())))
		s.log.Warn("service unavailable", "request_id", d.RequestID, "route", r.Pattern, "err", err)
	default:
		s.log.Debug("request rejected", "request_id", d.RequestID, "status", status, "code", d.Code)
	}
	writeJSON(w, status, errorBody{Error: d})
}
