// Package callback decodes the WhatsApp webhooks that Kaleyra and Meta
// send, exactly. It does no I/O: give it the raw body and it returns typed
// values, or an error with a stable code.
//
// # Decoding
//
// [Decode] recognises both envelopes: Kaleyra's V2 body
// ({"meta_object": {"value", "field"}, "extra_info"}, also with the
// top-level "status" and "message_id" of status updates) and Meta's native
// {"object", "entry": [{"id", "changes": [{"value", "field"}]}]}. Either way
// the result is a [Callback] holding a list of [Change] values, each with
// its metadata, contacts, messages, statuses and errors, plus Kaleyra's
// [ExtraInfo] (refs, reply_to, trace_id, waba_id, media_url) when present;
// a message reaches it through [Message.Extra] and [Message.MediaURL].
//
//	cb, err := callback.Decode(body)
//	if err != nil {
//		var de *callback.DecodeError // de.Code, de.Path: keep the body, answer 400
//		...
//	}
//	for _, ch := range cb.Changes {
//		for _, m := range ch.Messages { ... } // every message, never only the first
//		for _, s := range ch.Statuses { ... }
//	}
//
// Decode rejects a body only as a whole: empty, not JSON (including invalid
// UTF-8 and duplicate member names, which different parsers would read
// differently), neither envelope, or an envelope whose structure has the
// wrong JSON types. JSON null always counts as absent.
//
// # Messages, problems and paths
//
// Every message of every change is returned, with a typed payload for text,
// media, location, contacts, interactive replies (button, list, and
// nfm_reply with its response_json decoded a second time), template button,
// order, reaction, system and unsupported messages, edits (the new content
// as a nested Message) and revokes, plus context and referral. A message of an unknown type is kept, with its exact bytes in
// Raw and an unknown_type warning; unknown fields are ignored.
//
// Whatever is wrong inside a message or status is a [Problem] of that
// element, never an error of the body: a Severity, a stable Code (see the
// Code constants) and the JSON Path of the offending value, such as
// "meta_object.value.messages[0].order.product_items[1].quantity" or
// "entry[0].changes[0].value.statuses[1].id". Errors make the element
// unusable (see [Message.Usable]); warnings, such as the unparseable
// timestamp of Kaleyra's own sample ("17XXXXXXXX"), do not change its
// meaning: use the time of receipt instead.
//
// # Customers: phone numbers, BSUIDs and usernames
//
// A customer who adopts a username may hide their phone number: their
// messages then carry from_user_id (their business-scoped user id, BSUID)
// and no from, their contact a user_id and profile.username and no wa_id,
// and statuses of messages sent to them recipient_user_id and no
// recipient_id. Every one of these ids is decoded, with the parent BSUID
// where sent. [Message.Customer] and [Status.Recipient] return an
// [Identity] (WaID, UserID, ParentUserID, Username, Name) combining the
// element's own ids with the change's contact that has the same wa_id or
// user_id; key customers on any of those ids, not on from. A message with
// no sender id at all is kept with a no_customer_id warning. A status of
// a group message is one participant's receipt: [Status.Participant] is
// the key to keep the receipts of one message apart.
//
// # Changes other than messages
//
// Every change has a [Change.Kind] and a [Change.Summary] saying what it
// held. Calls ("calls": connect, terminate, and the call statuses Meta
// sends in statuses[]) are in Change.Calls, never in Statuses; marketing
// preferences in UserPreferences; BSUID changes in UserIDUpdates; messages
// the business sent from the WhatsApp Business app (smb_message_echoes)
// in Echoes, decoded like inbound messages with Outbound set; template,
// account and phone-number events have their key fields in Event. Group
// and synchronisation webhooks are kept in Change.Raw, and a field this
// package does not know is kept there too, with an unknown_field warning
// in Change.Problems.
//
// No field is dropped: Change.Raw holds the value of every change that is
// not "messages", and of a "messages" change whose value or contacts hold
// members this package does not type; Message.Raw and Status.Raw hold
// every message and status. A message whose payload Meta withheld (an
// "interactive" with only errors, say) is valid: a payload_withheld
// warning, with Meta's errors on the message or its change.
//
// # Orders and money
//
// quantity and item_price are read from the JSON text itself, as a JSON
// number or a numeric string, never through float64. The price becomes
// integer minor units with the currency's ISO 4217 exponent (JPY 0, INR 2,
// KWD 3) via the money package; more decimals than the currency has is a
// too_many_decimals error, not a rounding. quantity must be a positive
// integer; an integral value written as 2.0 or 2e0 is exact and accepted.
// Each item's LineTotal is quantity × price, and [Order] Totals holds one
// total per currency, in order of first appearance, never summed across
// currencies, and is empty unless every item is usable.
//
// # Statuses
//
// Status values are lower-cased ("NOT-SENT" is [StatusNotSent]).
// [Status] MessageID is the id to correlate on: Kaleyra's top-level
// message_id, else its extra_info.message_id (both only when the change has
// exactly one status), else statuses[].id. [StatusKind.Rank] and [Advances]
// give the forward-only order a state machine needs: a late "sent" never
// overwrites "read", and "failed" and "not-sent" are terminal.
//
// # Memory
//
// The result shares no memory with the body: every string is copied, and
// each Raw is its own copy of that element's bytes, so keeping one message
// does not keep the whole body alive. Decode is safe for concurrent use.
//
// # Meta's security checks
//
// [VerifySignature] checks the X-Hub-Signature-256 header over the raw body
// in constant time, against one or more app secrets (for rotation), and
// [VerifyHandshake] answers the hub.mode / hub.verify_token / hub.challenge
// GET. [Sign] computes the header, for simulators and tests.
package callback
