package kaleyra

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Action says what a sender does after a failed send.
type Action int

const (
	// Retry: send the same message again later (for Kaleyra's codes, after
	// the Error's Advice).
	Retry Action = iota + 1
	// Pause: stop sending from this sender (credentials, balance, daily
	// limit or account configuration), alert an operator, and resume when
	// one says so. Spend no attempts on the message meanwhile.
	Pause
	// GiveUp: this message will never be accepted as it is; record it as
	// failed and alert.
	GiveUp
	// Reconcile: the request was written and no answer came back
	// (ErrAmbiguous). Kaleyra may have accepted it; wait for a status
	// callback carrying the message's refs before sending again.
	Reconcile
)

func (a Action) String() string {
	switch a {
	case Retry:
		return "retry"
	case Pause:
		return "pause"
	case GiveUp:
		return "give_up"
	case Reconcile:
		return "reconcile"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Kaleyra's send-message codes, from "WhatsApp V2 Error Codes for Send
// Message APIs" (see the package documentation).
const (
	CodeOK             = "WA200"   // success
	CodeBadCredentials = "RBC001"  // incorrect SID or API key
	CodeLowBalance     = "E110"    // insufficient balance
	CodeDailyLimit     = "WAV2101" // account daily limit reached
	CodeBadPayload     = "WA400"   // incorrect payload
	CodeUnauthorized   = "WA401"   // unauthorized access (number or template configuration)
	CodeUnauthorizedV2 = "WA-401"  // the same, as some pages spell it
	CodeServerError    = "WA500"   // internal server error
)

// WA500Advice is Kaleyra's retry advice for WA500: three retries, 5, 10 and
// 15 minutes apart; if the third fails, escalate to Kaleyra.
var WA500Advice = []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute}

// CodeInfo is one row of the error-code table.
type CodeInfo struct {
	Code        string
	HTTPStatus  int    // the status Kaleyra answers with (inferred where the page gives none)
	Description string // Kaleyra's description
	Action      Action
	// Advice is the delay before each retry Kaleyra advises; empty when
	// Kaleyra gives none.
	Advice []time.Duration
}

// codes is the table. Kaleyra's "retry required" column says Yes for E110
// and WA401: both are retried only once an operator has acted (raised the
// balance, fixed the number's or template's configuration), which is what
// Pause means; RBC001 and WAV2101 say No retry, which for a sender means
// the same: nothing succeeds until someone acts.
var codes = map[string]CodeInfo{
	CodeBadCredentials: {CodeBadCredentials, http.StatusUnauthorized, "Incorrect SID or API Key.", Pause, nil},
	CodeLowBalance:     {CodeLowBalance, http.StatusBadRequest, "Insufficient Balance.", Pause, nil},
	CodeDailyLimit:     {CodeDailyLimit, http.StatusTooManyRequests, "Account daily limit reached.", Pause, nil},
	CodeBadPayload:     {CodeBadPayload, http.StatusBadRequest, "Incorrect Payload.", GiveUp, nil},
	CodeUnauthorized:   {CodeUnauthorized, http.StatusUnauthorized, "Unauthorized access.", Pause, nil},
	CodeUnauthorizedV2: {CodeUnauthorizedV2, http.StatusUnauthorized, "Unauthorized access.", Pause, nil},
	CodeServerError:    {CodeServerError, http.StatusInternalServerError, "Internal Server Error.", Retry, WA500Advice},
}

// Codes returns the documented error codes (not WA200), in a fixed order.
func Codes() []CodeInfo {
	order := []string{CodeBadCredentials, CodeLowBalance, CodeDailyLimit, CodeBadPayload, CodeUnauthorized, CodeUnauthorizedV2, CodeServerError}
	out := make([]CodeInfo, len(order))
	for i, c := range order {
		out[i] = Lookup(c)
	}
	return out
}

// Lookup returns the table row of a documented code, and the zero CodeInfo
// for any other.
func Lookup(code string) CodeInfo {
	ci, ok := codes[code]
	if !ok {
		return CodeInfo{}
	}
	ci.Advice = append([]time.Duration(nil), ci.Advice...)
	return ci
}

// Error is an answer from Kaleyra other than success: the request arrived
// and was refused. Kaleyra did not send the message.
type Error struct {
	// Code is Kaleyra's code ("WA400", "RBC001", ...), or "" when the body
	// carried none.
	Code string
	// Message is Kaleyra's message, or the table's description.
	Message    string
	HTTPStatus int
	// Action is what to do next; Advice the delays before each retry when
	// Kaleyra advises them (WA500: 5, 10, 15 minutes). RetryAfter is the
	// answer's Retry-After, if any.
	Action     Action
	Advice     []time.Duration
	RetryAfter time.Duration
	// Body is the answer's body, cut to 2 KiB.
	Body []byte
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = "no code"
	}
	msg := ""
	if e.Message != "" {
		msg = ": " + e.Message
	}
	return fmt.Sprintf("kaleyra: %s (HTTP %d, %s)%s", code, e.HTTPStatus, e.Action, msg)
}

// Sentinels matched by errors.Is on what Send returns.
var (
	// ErrNotSent: the request never left this host (DNS, dial, TLS, or a
	// context ended before writing): sending again cannot duplicate it.
	ErrNotSent = errors.New("kaleyra: request not sent")
	// ErrAmbiguous: the request was written and no answer came (timeout,
	// reset): Kaleyra may have accepted it.
	ErrAmbiguous = errors.New("kaleyra: request written, no answer")
	// ErrInvalidMessage: the message was refused before sending.
	ErrInvalidMessage = errors.New("kaleyra: invalid message")
)

// NetError is a transport failure: no answer was read from Kaleyra.
type NetError struct {
	// Written reports whether the whole request was handed to the network
	// (httptrace's WroteRequest without error), so Kaleyra may have it.
	Written bool
	Err     error
}

func (e *NetError) Error() string {
	if e.Written {
		return "kaleyra: request written, no answer (ambiguous): " + e.Err.Error()
	}
	return "kaleyra: request not sent: " + e.Err.Error()
}

// Unwrap returns the cause and ErrAmbiguous or ErrNotSent.
func (e *NetError) Unwrap() []error {
	if e.Written {
		return []error{e.Err, ErrAmbiguous}
	}
	return []error{e.Err, ErrNotSent}
}

// ValidationError is a message the client refuses to send.
type ValidationError struct {
	Field  string // e.g. "to", "text.body"
	Reason string
}

func (e *ValidationError) Error() string {
	return "kaleyra: invalid message: " + e.Field + ": " + e.Reason
}

// Unwrap returns ErrInvalidMessage.
func (e *ValidationError) Unwrap() error { return ErrInvalidMessage }

// ActionOf classifies any error Send returns: an *Error its Action, a
// NetError Retry (not sent) or Reconcile (ambiguous), an invalid message
// GiveUp, anything else (a context ended before the request) Retry. nil
// has no action (0).
func ActionOf(err error) Action {
	if err == nil {
		return 0
	}
	var ke *Error
	if errors.As(err, &ke) {
		return ke.Action
	}
	switch {
	case errors.Is(err, ErrAmbiguous):
		return Reconcile
	case errors.Is(err, ErrInvalidMessage):
		return GiveUp
	}
	return Retry
}

// classify fills an Error's Action and Advice from its code, else from its
// HTTP status: 5xx and 429 Retry, 401 and 403 Pause, other 4xx GiveUp.
func classify(e *Error) {
	if ci, ok := codes[e.Code]; ok {
		e.Action = ci.Action
		e.Advice = append([]time.Duration(nil), ci.Advice...)
		if e.Message == "" {
			e.Message = ci.Description
		}
		return
	}
	switch s := e.HTTPStatus; {
	case s >= 500, s == http.StatusTooManyRequests, s == http.StatusRequestTimeout:
		e.Action = Retry
		if s >= 500 {
			e.Advice = append([]time.Duration(nil), WA500Advice...)
		}
	case s == http.StatusUnauthorized, s == http.StatusForbidden, s == http.StatusPaymentRequired:
		e.Action = Pause
	default:
		e.Action = GiveUp
	}
}
