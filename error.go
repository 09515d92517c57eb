// Package waorders holds the domain of the service: orders and their
// lifecycle, stored messages and statuses, quarantine entries, and the one
// error type every layer returns. It imports nothing of the project's but
// the money package, and knows nothing of storage or HTTP.
package waorders

import (
	"errors"
	"fmt"
)

// Code classifies an Error. internal/server/httpx maps each to one HTTP
// status; that is the only place the mapping lives, beside the few codes
// that exist only in HTTP (a body too large, say).
type Code string

// Error codes.
const (
	CodeInvalid      Code = "invalid"             // the request is wrong; the message says how
	CodeUnauthorized Code = "unauthorized"        // missing or wrong credentials
	CodeForbidden    Code = "forbidden"           // credentials fine, not allowed
	CodeNotFound     Code = "not_found"           // no such resource
	CodeConflict     Code = "conflict"            // illegal state change
	CodePrecondition Code = "precondition_failed" // stale version (If-Match)
	CodeUnavailable  Code = "unavailable"         // storage down or shutting down: retry later
	CodeInternal     Code = "internal"
)

// Error is the domain error. Code says what kind of failure it is, Message
// is safe to show to the caller, Err is the cause (never shown).
type Error struct {
	Code    Code
	Message string
	Err     error
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message that wraps err.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal for any other non-nil error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the caller-safe message of err: the *Error's Message,
// or a generic text for anything else so internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
