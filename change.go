package waorders

import (
	"encoding/json"
	"time"
)

// Change is one webhook change that is not an inbound message or a status of
// an outbound one, kept as it came: a call event, a customer's marketing
// preference, a BSUID change, a template, account or phone-number event, a
// group or synchronisation webhook, or a field waorders does not know.
type Change struct {
	ID         int64  // assigned by the store
	CallbackID string // the callback it came in
	// Field is the webhook field ("calls", "user_preferences", ...); Kind is
	// its class (callback.ChangeKind: calls, user_preferences,
	// user_id_update, business_event, group, sync, unknown).
	Field string
	Kind  string
	// Key deduplicates the change when the provider sends it again: a call
	// id with its event and status, or a hash of the field and raw value.
	Key string
	// Event is what happened, in a word or two: "terminate COMPLETED",
	// "marketing_messages stop", "APPROVED", ... ("" if nothing to say).
	Event string
	// Summary is the decoder's one-line summary, without personal data.
	Summary string
	// Customer holds the identifiers of the customer the change is about,
	// when it is about one.
	Customer   Customer
	At         time.Time // the event's time, else the receipt time
	ReceivedAt time.Time
	Raw        json.RawMessage // the change's JSON (or the element of it) exactly as received
	Warnings   []Problem
}
