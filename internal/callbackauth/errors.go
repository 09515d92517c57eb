package callbackauth

import (
	"net/netip"

	"github.com/waorders/waorders"
)

// Reason says why a request failed authentication. Reasons are stable and
// suitable as metric labels.
type Reason string

// Reasons for an authentication failure.
const (
	// ReasonMissingCredentials means the request carried none of the
	// credentials an enabled method expects.
	ReasonMissingCredentials Reason = "missing_credentials"
	// ReasonBadCredentials means credentials were presented but none matched.
	ReasonBadCredentials Reason = "bad_credentials"
	// ReasonTokenExpired means a genuine Bearer token was presented after its
	// expiry, and no other credential matched.
	ReasonTokenExpired Reason = "token_expired"
	// ReasonIPNotAllowed means the client address is outside the allow-list.
	ReasonIPNotAllowed Reason = "ip_not_allowed"
)

// Error is an authentication failure. Its Message is safe to return to the
// caller and to log: it never contains a presented or configured secret.
// Addr is the client address the check used (invalid if none could be
// determined); it is for debug logs, not for responses.
type Error struct {
	Reason  Reason
	Message string
	Addr    netip.Addr
}

func newError(reason Reason, message string) *Error {
	return &Error{Reason: reason, Message: message}
}

func (e *Error) Error() string {
	return "callback authentication: " + string(e.Reason) + ": " + e.Message
}

// Unwrap returns the domain form of e, a *waorders.Error with code
// unauthorized, so waorders.ErrorCode and the server's error mapping answer
// 401 without knowing this package.
func (e *Error) Unwrap() error {
	return &waorders.Error{Code: waorders.CodeUnauthorized, Message: e.Message}
}
