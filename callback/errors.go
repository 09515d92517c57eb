package callback

import "fmt"

// Stable problem and error codes. They are part of the public contract: a
// code, once published, never changes meaning.
const (
	// Whole-body errors, returned by Decode as *DecodeError.
	CodeEmptyBody       = "empty_body"       // the body is empty or only white space
	CodeInvalidJSON     = "invalid_json"     // not well-formed JSON (or not UTF-8, or a duplicate member name)
	CodeUnknownEnvelope = "unknown_envelope" // JSON, but neither Kaleyra's nor Meta's envelope
	// CodeInvalidField and CodeMissingField are whole-body errors when they
	// concern the envelope's structure, and error-severity problems when they
	// concern a field inside one message or status.
	CodeInvalidField = "invalid_field" // a field has the wrong JSON type
	CodeMissingField = "missing_field" // a required field is absent

	// Per-message errors (Severity error): the message is unusable.
	CodeMissingID       = "missing_id"        // a message or status has no id
	CodeNoItems         = "no_items"          // an order without product_items
	CodeInvalidQuantity = "invalid_quantity"  // quantity not a positive integer
	CodeInvalidPrice    = "invalid_price"     // item_price not a decimal number
	CodeNegativePrice   = "negative_price"    // item_price below zero
	CodeTooPrecise      = "too_many_decimals" // more decimals than the currency allows
	CodeUnknownCurrency = "unknown_currency"  // not an ISO 4217 code
	CodeAmountOverflow  = "amount_overflow"   // an amount or total does not fit in int64 minor units

	// Warnings (Severity warning): kept, but worth knowing.
	CodeInvalidTimestamp    = "invalid_timestamp"     // timestamp missing or not unix seconds; use time of receipt
	CodeUnknownType         = "unknown_type"          // a message type this package does not type; Raw kept
	CodeUnknownStatus       = "unknown_status"        // a status value this package does not know
	CodeInvalidResponseJSON = "invalid_response_json" // nfm_reply.response_json is not JSON
	CodeNoCustomerID        = "no_customer_id"        // a message with none of from, from_user_id, from_parent_user_id (to* on echoes)
	CodePayloadWithheld     = "payload_withheld"      // a message without its payload object, explained by Meta's errors (e.g. 131000, 131051)
	CodeUnknownField        = "unknown_field"         // a change whose webhook field this package does not know; value kept in Change.Raw
	CodeCurrencyCase        = "currency_case"         // a currency code not in upper case ("inr"); read as the upper-case code
)

// RootPath is the Path of a DecodeError about the body as a whole.
const RootPath = "$"

// DecodeError is returned by Decode when the body as a whole cannot be read.
// Code is one of the whole-body codes above; Path is the JSON path of the
// offending value (RootPath for the whole body).
type DecodeError struct {
	Code    string `json:"code"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s at %s: %s", e.Code, e.Path, e.Message)
}
