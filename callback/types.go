package callback

import (
	"encoding/json"
	"time"

	"github.com/waorders/waorders/money"
)

// Envelope names the outer shape of a callback body.
type Envelope string

// The envelopes Decode recognises.
const (
	// EnvelopeKaleyra is Kaleyra's V2 shape: {"meta_object": {...}, "extra_info": {...}},
	// optionally with top-level "status" and "message_id" on status updates.
	EnvelopeKaleyra Envelope = "kaleyra"
	// EnvelopeMeta is Meta's native shape: {"object": ..., "entry": [{"changes": [...]}]}.
	EnvelopeMeta Envelope = "meta"
)

// Callback is one decoded callback body, normalised: whatever the envelope,
// the data is a list of changes, each carrying Meta's webhook value.
type Callback struct {
	Envelope Envelope
	// Object is Meta's "object" field ("whatsapp_business_account"); empty for Kaleyra.
	Object string
	// Changes holds every change of every entry, in document order. A Kaleyra
	// callback has exactly one.
	Changes []Change
	// Status and MessageID are Kaleyra's top-level convenience copies on
	// status-update callbacks; empty otherwise.
	Status    string
	MessageID string
}

// Messages returns every message of every change, in document order.
func (c *Callback) Messages() []*Message {
	var out []*Message
	for i := range c.Changes {
		for j := range c.Changes[i].Messages {
			out = append(out, &c.Changes[i].Messages[j])
		}
	}
	return out
}

// Statuses returns every status of every change, in document order.
func (c *Callback) Statuses() []*Status {
	var out []*Status
	for i := range c.Changes {
		for j := range c.Changes[i].Statuses {
			out = append(out, &c.Changes[i].Statuses[j])
		}
	}
	return out
}

// Change is one webhook change: Meta's entry[].changes[] element, which
// Kaleyra forwards as meta_object.
type Change struct {
	// Path is the JSON path of the change's value in the body, such as
	// "meta_object.value" or "entry[0].changes[1].value".
	Path string
	// Field is the webhook field as sent: "messages", "calls",
	// "user_preferences", "smb_message_echoes", "account_update", ...
	// Kind classifies it.
	Field string
	// WABAID is the WhatsApp Business Account id: Meta's entry[].id, or
	// Kaleyra's extra_info.waba_id.
	WABAID string
	// EntryTime is Meta's entry[].time, when sent (unix seconds; zero when
	// absent or unparseable), and RawEntryTime its text.
	EntryTime        time.Time
	RawEntryTime     string
	MessagingProduct string
	Metadata         Metadata
	Contacts         []Contact
	Messages         []Message
	Statuses         []Status
	Errors           []Error
	// Calls holds the call events of a "calls" change: value.calls[]
	// (connect, terminate) and the call statuses Meta sends in
	// value.statuses[] (RINGING, ACCEPTED, REJECTED), which are never
	// returned as message Statuses.
	Calls []Call
	// UserPreferences holds value.user_preferences[]: a customer stopping or
	// resuming marketing messages.
	UserPreferences []UserPreference
	// UserIDUpdates holds value.user_id_update[]: a customer's BSUID changed.
	UserIDUpdates []UserIDUpdate
	// Echoes holds value.message_echoes[] of an "smb_message_echoes" change:
	// messages the business sent from the WhatsApp Business app, decoded
	// like inbound messages but with Outbound set and To* filled.
	Echoes []Message
	// Event holds the key fields of a business-account change (template
	// status, quality or category, account_update, phone number quality,
	// ...); nil when the value has none of them. Raw keeps the whole value.
	Event *BusinessEvent
	// Extra is Kaleyra's extra_info; nil for Meta's envelope.
	Extra *ExtraInfo
	// Raw is the change's value exactly as received. It is kept when Field
	// is not "messages", and for a "messages" change whose value or
	// contacts hold members this package does not type, so that no field
	// of a change is ever dropped: every member of the value is either in
	// a typed field, in the Raw of its message or status, or here.
	Raw json.RawMessage
	// Problems lists what is wrong with the change as a whole (an
	// unknown_field warning for a webhook field this package does not
	// know) and inside its call, preference and user-id elements.
	Problems []Problem
}

// Contact returns the contact whose wa_id is waID, or nil.
func (c *Change) Contact(waID string) *Contact {
	for i := range c.Contacts {
		if c.Contacts[i].WaID == waID {
			return &c.Contacts[i]
		}
	}
	return nil
}

// FindContact returns the first contact whose wa_id is waID or whose
// user_id or parent_user_id is userID (empty arguments match nothing), or
// nil. A customer who hides their phone number has a contact with a
// user_id and no wa_id.
func (c *Change) FindContact(waID, userID string) *Contact {
	for i := range c.Contacts {
		k := &c.Contacts[i]
		if (waID != "" && k.WaID == waID) || (userID != "" && (k.UserID == userID || k.ParentUserID == userID)) {
			return k
		}
	}
	return nil
}

// Metadata identifies the business phone number that received the message.
type Metadata struct {
	DisplayPhoneNumber string
	PhoneNumberID      string
}

// Contact is a customer the change is about: the sender of its messages,
// the recipient of its statuses.
type Contact struct {
	WaID         string // the phone-based id; absent for a customer who hides their number
	UserID       string // business-scoped user id (BSUID), when sent
	ParentUserID string // parent BSUID, shared across a managed business's portfolios
	Name         string // profile.name; may be empty
	Username     string // profile.username, when sent
	// IdentityKeyHash is sent only with the identity-change check enabled.
	IdentityKeyHash string
}

// ExtraInfo is Kaleyra's extra_info object.
type ExtraInfo struct {
	MediaURL string
	// Ref, Ref1 and Ref2 are the campaign references the brand set when it
	// sent the message the customer is replying to.
	Ref, Ref1, Ref2 string
	// ReplyTo is Kaleyra's id of the brand's message the customer replied to.
	ReplyTo   string
	TraceID   string
	WABAID    string
	MessageID string // on status callbacks
	// EnableURLTrackingBody and EnableURLTrackingButton come on status callbacks.
	EnableURLTrackingBody   bool
	EnableURLTrackingButton bool
}

// MessageType is the "type" discriminator of a message.
type MessageType string

// The message types this package types. Any other value decodes as a Message
// whose typed payload fields are all nil, with Raw kept.
const (
	TypeText        MessageType = "text"
	TypeImage       MessageType = "image"
	TypeVideo       MessageType = "video"
	TypeAudio       MessageType = "audio"
	TypeDocument    MessageType = "document"
	TypeSticker     MessageType = "sticker"
	TypeLocation    MessageType = "location"
	TypeContacts    MessageType = "contacts"
	TypeInteractive MessageType = "interactive"
	TypeButton      MessageType = "button"
	TypeOrder       MessageType = "order"
	TypeReaction    MessageType = "reaction"
	TypeSystem      MessageType = "system"
	TypeUnsupported MessageType = "unsupported"
	TypeUnknown     MessageType = "unknown" // older name of unsupported
	// TypeEdit and TypeRevoke arrive only for numbers that also use the
	// WhatsApp Business app (Meta's "Coexistence"): the customer edited
	// or deleted an earlier message.
	TypeEdit   MessageType = "edit"
	TypeRevoke MessageType = "revoke"
)

// Message is one inbound message. Exactly one typed payload field is set for
// a known type; for an unknown type none is, and Raw holds the message.
type Message struct {
	// Path is the JSON path of the message in the body,
	// e.g. "meta_object.value.messages[0]".
	Path string
	ID   string // wamid: the idempotency key
	// From is the customer's phone-based id. It is absent for a customer
	// who hides their number behind a username: FromUserID is then the
	// only id. Use Customer for the customer's whole identity.
	From             string
	FromUserID       string // from_user_id: the sender's BSUID
	FromParentUserID string // from_parent_user_id: the sender's parent BSUID
	// GroupID is set on a message sent in a group.
	GroupID string
	// Outbound is set on an echo (Change.Echoes): a message the business
	// sent from the WhatsApp Business app. Its customer is the recipient:
	// To, ToUserID, ToParentUserID.
	Outbound       bool
	To             string
	ToUserID       string
	ToParentUserID string
	Type           MessageType
	// Timestamp is the parsed "timestamp" (unix seconds, UTC); zero when it
	// was missing or unparseable, in which case Problems holds a warning and
	// the caller should use the time of receipt.
	Timestamp time.Time
	// RawTimestamp is the timestamp as sent: a string's content or a
	// number's text ("17XXXXXXXX" in Kaleyra's sample).
	RawTimestamp string

	Context  *Context
	Referral *Referral
	Errors   []Error

	Text        *Text
	Image       *Media
	Video       *Media
	Audio       *Media
	Document    *Media
	Sticker     *Media
	Location    *Location
	Contacts    []SharedContact
	Interactive *Interactive
	Button      *Button
	Order       *Order
	Reaction    *Reaction
	System      *System
	Unsupported *Unsupported
	Edit        *Edit
	Revoke      *Revoke

	// Raw is the message's JSON exactly as received.
	Raw json.RawMessage
	// Problems lists what is wrong with the message: errors make it unusable
	// (see Usable), warnings do not change its meaning.
	Problems []Problem

	change *Change // the change the message was decoded in
}

// Usable reports whether the message has no error-severity problem.
func (m *Message) Usable() bool { return !hasErrors(m.Problems) }

// Known reports whether the message's type is one this package types.
func (m *Message) Known() bool {
	switch m.Type {
	case TypeText, TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker,
		TypeLocation, TypeContacts, TypeInteractive, TypeButton, TypeOrder,
		TypeReaction, TypeSystem, TypeUnsupported, TypeUnknown, TypeEdit, TypeRevoke:
		return true
	}
	return false
}

// Context is set when the customer replied to, or acted on, an earlier message.
type Context struct {
	From                string
	ID                  string // wamid of the earlier message
	Forwarded           bool
	FrequentlyForwarded bool
	ReferredProduct     *ReferredProduct
}

// ReferredProduct is the product a "Message business" tap came from.
type ReferredProduct struct {
	CatalogID         string
	ProductRetailerID string
}

// Referral carries Click-to-WhatsApp ad data.
type Referral struct {
	SourceURL, SourceID, SourceType  string
	Body, Headline, MediaType        string
	ImageURL, VideoURL, ThumbnailURL string
	CtwaClid                         string
	WelcomeMessageText               string
}

// Error is a WhatsApp error object (on unsupported messages, failed statuses
// and change values).
type Error struct {
	Code    int64
	Title   string
	Message string
	Details string // error_data.details
	Href    string
}

// Text is a text message.
type Text struct {
	Body string
}

// Media is an image, video, audio, document or sticker.
type Media struct {
	ID       string
	MimeType string
	SHA256   string
	URL      string // a media URL, when Meta sends one
	Caption  string
	Filename string // documents
	Animated bool   // stickers
	Voice    bool   // audio
}

// Location is a shared location.
type Location struct {
	// Latitude and Longitude are kept as the JSON number text, exactly.
	Latitude  string
	Longitude string
	Name      string
	Address   string
	URL       string
}

// SharedContact is one contact card of a contacts message. Kaleyra's sample
// sends phones as an object, Meta as an array: both decode into Phones.
type SharedContact struct {
	FormattedName string
	FirstName     string
	LastName      string
	Phones        []ContactPhone
	Raw           json.RawMessage
}

// ContactPhone is a phone number on a shared contact card.
type ContactPhone struct {
	Phone string
	WaID  string
	Type  string
}

// Interactive is a reply to an interactive message.
type Interactive struct {
	Type        string // "button_reply", "list_reply", "nfm_reply"
	ButtonReply *ButtonReply
	ListReply   *ListReply
	NFMReply    *NFMReply
}

// ButtonReply is the button a customer tapped.
type ButtonReply struct {
	ID, Title string
}

// ListReply is the list row a customer chose.
type ListReply struct {
	ID, Title, Description string
}

// NFMReply is a Flow or address-message response.
type NFMReply struct {
	Name string // "flow" or "address_message"
	Body string
	// ResponseJSON is the response_json string as sent; Response is that
	// string decoded (nil when it is not valid JSON, with a warning).
	ResponseJSON string
	Response     json.RawMessage
}

// Button is a template quick-reply button tap.
type Button struct {
	Payload, Text string
}

// Order is a catalogue order: what the customer put in the cart.
type Order struct {
	CatalogID string
	Text      string
	Items     []Item
	// Totals holds one total per currency, in order of first appearance.
	// Currencies are never summed together. Empty if any item is unusable.
	Totals []money.Amount
}

// Item is one product line of an order.
type Item struct {
	ProductRetailerID string
	Quantity          int64
	UnitPrice         money.Amount // item_price, exact
	LineTotal         money.Amount // Quantity × UnitPrice
	// RawQuantity and RawPrice are the JSON texts as received.
	RawQuantity string
	RawPrice    string
	Currency    string // upper case when the code was known in another case
	// RawCurrency is the currency as received ("inr" when Currency is "INR").
	RawCurrency string
}

// Edit is the new content of a message the customer edited (within 15
// minutes of sending it; text, or media with a caption).
type Edit struct {
	OriginalMessageID string // the wamid of the message edited
	// Message is the new content: Type, its payload and Context when the
	// message was a reply. It has no id, sender or time of its own (those
	// are the edit's); its problems are the edit's Problems. Nil when the
	// edit carried no message object.
	Message *Message
}

// Revoke says that the customer deleted one of their messages for everyone
// (within two days of sending it).
type Revoke struct {
	OriginalMessageID string // the wamid of the message deleted
}

// Reaction is an emoji reaction; Emoji is empty when a reaction was removed.
type Reaction struct {
	MessageID string
	Emoji     string
}

// System is a system message: the customer changed their number
// (user_changed_number) or their BSUID changed (user_changed_user_id).
type System struct {
	Body     string
	Type     string
	WaID     string // new wa_id on user_changed_number
	Customer string
	NewWaID  string
	// UserID and ParentUserID are the customer's new BSUID and parent BSUID;
	// PreviousUserID and PreviousParentUserID the ones they replace.
	UserID               string
	ParentUserID         string
	PreviousUserID       string
	PreviousParentUserID string
}

// Unsupported describes a message WhatsApp could not deliver in full.
type Unsupported struct {
	Type string
}

// StatusKind is the value of a status update's "status".
type StatusKind string

// The statuses of an outbound message.
const (
	StatusSent      StatusKind = "sent"
	StatusDelivered StatusKind = "delivered"
	StatusRead      StatusKind = "read"
	StatusPlayed    StatusKind = "played"
	StatusFailed    StatusKind = "failed"
	StatusNotSent   StatusKind = "not-sent" // Kaleyra: never handed to Meta
)

// Status is one status update of an outbound message.
type Status struct {
	Path string
	// ID is statuses[].id as sent.
	ID string
	// MessageID is the key to correlate on: Kaleyra's message_id (top level
	// or extra_info) when present, else ID.
	MessageID    string
	Status       StatusKind
	Timestamp    time.Time
	RawTimestamp string
	// RecipientID is the customer's phone-based id, or the group id when
	// RecipientType is "group"; absent when the message was sent to a BSUID.
	RecipientID string
	// RecipientUserID and RecipientParentUserID are the recipient's BSUID
	// and parent BSUID.
	RecipientUserID       string
	RecipientParentUserID string
	// RecipientType is "individual" (or empty) or "group". A status of a
	// group message is one participant's receipt: RecipientID is the
	// group, RecipientParticipant* the participant, and statuses of one
	// message must be kept per participant (see Participant).
	RecipientType                    string
	RecipientParticipantID           string
	RecipientParticipantUserID       string
	RecipientParticipantParentUserID string
	BizOpaqueCallbackData            string
	Conversation                     *Conversation
	Pricing                          *Pricing
	Errors                           []Error
	Raw                              json.RawMessage
	Problems                         []Problem

	rawStatus string  // status as sent, before lower-casing
	typ       string  // statuses[].type: "call" for a call status
	change    *Change // the change the status was decoded in
}

// Usable reports whether the status has no error-severity problem.
func (s *Status) Usable() bool { return !hasErrors(s.Problems) }

// Conversation is the conversation a status belongs to.
type Conversation struct {
	ID                  string
	ExpirationTimestamp string
	OriginType          string
}

// Pricing is the pricing information of a status.
type Pricing struct {
	Billable     *bool
	PricingModel string
	Type         string
	Category     string
}

// Severity says whether a Problem makes its message unusable.
type Severity string

// Problem severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is something wrong with one message or status, with a stable code
// and the JSON path it concerns.
type Problem struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Path     string   `json:"path"`
	Message  string   `json:"message"`
}

func hasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}
