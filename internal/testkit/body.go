package testkit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// T0 is the default time of every message and status: 2026-01-01 00:00:00
// UTC, unix 1767225600.
var T0 = time.Unix(1767225600, 0).UTC()

// Defaults of a body, from the contract's example i.1.
const (
	DisplayPhone  = "919800000001"
	PhoneNumberID = "100000000000001"
	WABAID        = "200000000000001"
	WaID          = "919900000001"
	Name          = "Test Buyer One"
	CatalogID     = "1234567890123456"
	TraceID       = "00000000-0000-4000-8000-000000000000"
)

// ErrorsHref is the href of a status error when none is given.
const ErrorsHref = "/documentation/business-messaging/whatsapp/support/error-codes"

// Body is a Kaleyra V2 callback or a Meta webhook body carrying messages or
// statuses. Build one with Kaleyra or Meta, adjust it with the chained
// setters, and take its bytes with Bytes. A Body is not safe for
// concurrent use; Bytes may be called any number of times.
type Body struct {
	meta bool

	displayPhone, phoneNumberID, wabaID string
	messages                            []*Message
	raw                                 []string // raw message elements, after messages
	statuses                            []*StatusUpdate
	rawStatuses                         []string
	contacts                            []string // explicit contacts, before the messages' own
	noContacts                          bool

	// Kaleyra's extra_info.
	mediaURL, ref, ref1, ref2, replyTo, traceID string
}

// Kaleyra returns a Kaleyra V2 callback ({"meta_object", "extra_info"})
// carrying msgs.
func Kaleyra(msgs ...*Message) *Body {
	return &Body{
		displayPhone: DisplayPhone, phoneNumberID: PhoneNumberID, wabaID: WABAID,
		traceID: TraceID, messages: msgs,
	}
}

// Meta returns a Meta webhook body ({"object": "whatsapp_business_account",
// "entry": [...]}, one entry with one change) carrying msgs.
func Meta(msgs ...*Message) *Body {
	b := Kaleyra(msgs...)
	b.meta = true
	return b
}

// Messages appends messages.
func (b *Body) Messages(msgs ...*Message) *Body { b.messages = append(b.messages, msgs...); return b }

// RawMessage appends a message element written as given (after the built
// messages), for bodies no builder makes: hostile or malformed input. Its
// sender gets no contact entry.
func (b *Body) RawMessage(json string) *Body { b.raw = append(b.raw, json); return b }

// Contact adds an explicit contacts entry, written before those of the
// messages' senders; useful with RawMessage, whose senders get none.
func (b *Body) Contact(waID, name string) *Body {
	var w writer
	w.raw(`{"profile":{"name":`)
	w.str(name)
	w.raw(`},"wa_id":`)
	w.str(waID)
	w.raw(`}`)
	b.contacts = append(b.contacts, string(w.bytes()))
	return b
}

// RawStatus appends a status element written as given, after the built
// ones. A Kaleyra body whose statuses are all raw repeats none at the top
// level and has an empty extra_info.message_id.
func (b *Body) RawStatus(json string) *Body { b.rawStatuses = append(b.rawStatuses, json); return b }

// Statuses appends status updates. A Kaleyra body with statuses and no
// messages is a status callback: extra_info has the status shape and the
// top level repeats the first status and its message id, as Kaleyra sends.
func (b *Body) Statuses(s ...*StatusUpdate) *Body { b.statuses = append(b.statuses, s...); return b }

// DisplayPhone sets metadata.display_phone_number (the business number).
func (b *Body) DisplayPhone(s string) *Body { b.displayPhone = s; return b }

// PhoneNumberID sets metadata.phone_number_id.
func (b *Body) PhoneNumberID(s string) *Body { b.phoneNumberID = s; return b }

// WABAID sets the WhatsApp Business Account id: extra_info.waba_id
// (Kaleyra) or entry[].id (Meta).
func (b *Body) WABAID(s string) *Body { b.wabaID = s; return b }

// NoContacts leaves the contacts array out.
func (b *Body) NoContacts() *Body { b.noContacts = true; return b }

// Ref sets extra_info.ref (Kaleyra only, as are the setters below).
func (b *Body) Ref(s string) *Body { b.kaleyraOnly("Ref"); b.ref = s; return b }

// Ref1 sets extra_info.ref1.
func (b *Body) Ref1(s string) *Body { b.kaleyraOnly("Ref1"); b.ref1 = s; return b }

// Ref2 sets extra_info.ref2.
func (b *Body) Ref2(s string) *Body { b.kaleyraOnly("Ref2"); b.ref2 = s; return b }

// Refs sets ref, ref1 and ref2 at once.
func (b *Body) Refs(ref, ref1, ref2 string) *Body { return b.Ref(ref).Ref1(ref1).Ref2(ref2) }

// ReplyTo sets extra_info.reply_to, Kaleyra's id of the message replied to.
func (b *Body) ReplyTo(s string) *Body { b.kaleyraOnly("ReplyTo"); b.replyTo = s; return b }

// TraceID sets extra_info.trace_id (default TraceID).
func (b *Body) TraceID(s string) *Body { b.kaleyraOnly("TraceID"); b.traceID = s; return b }

// MediaURL sets extra_info.media_url.
func (b *Body) MediaURL(s string) *Body { b.kaleyraOnly("MediaURL"); b.mediaURL = s; return b }

func (b *Body) kaleyraOnly(what string) {
	if b.meta {
		panic("testkit: " + what + " is a Kaleyra extra_info field; a Meta body has none")
	}
}

// String returns Bytes as a string.
func (b *Body) String() string { return string(b.Bytes()) }

// Signature returns the SignatureHeader value for the body signed with
// MetaAppSecret.
func (b *Body) Signature() string { return SignMeta(b.Bytes()) }

// Bytes returns the body: compact JSON, members in the providers' order.
func (b *Body) Bytes() []byte {
	var w writer
	if b.meta {
		w.raw(`{"object":"whatsapp_business_account","entry":[{"id":`)
		w.str(b.wabaID)
		w.raw(`,"changes":[`)
		b.change(&w)
		w.raw(`]}]}`)
		return w.bytes()
	}
	w.raw(`{"meta_object":`)
	b.change(&w)
	if len(b.statuses)+len(b.rawStatuses) > 0 && len(b.messages)+len(b.raw) == 0 {
		var first *StatusUpdate
		if len(b.statuses) > 0 {
			first = b.statuses[0]
		}
		w.raw(`,"extra_info":{"trace_id":`)
		w.str(b.traceID)
		w.raw(`,"message_id":`)
		if first != nil {
			w.str(first.id)
		} else {
			w.str("")
		}
		w.raw(`,"waba_id":`)
		w.str(b.wabaID)
		w.fields("ref", b.ref, "ref1", b.ref1, "ref2", b.ref2)
		w.raw(`,"enable_url_tracking_body":false,"enable_url_tracking_button":false}`)
		if first != nil {
			w.raw(`,"status":`)
			w.str(first.status)
			w.raw(`,"message_id":`)
			w.str(first.id)
		}
		w.raw(`}`)
		return w.bytes()
	}
	w.raw(`,"extra_info":{"media_url":`)
	w.str(b.mediaURL)
	w.fields("ref", b.ref, "ref1", b.ref1, "ref2", b.ref2, "reply_to", b.replyTo, "trace_id", b.traceID, "waba_id", b.wabaID)
	w.raw(`}}`)
	return w.bytes()
}

// change writes {"value": {...}, "field": "messages"}.
func (b *Body) change(w *writer) {
	w.raw(`{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":`)
	w.str(b.displayPhone)
	w.raw(`,"phone_number_id":`)
	w.str(b.phoneNumberID)
	w.raw(`}`)
	if !b.noContacts && len(b.messages)+len(b.contacts) > 0 {
		w.raw(`,"contacts":[`)
		w.raw(strings.Join(b.contacts, ","))
		seen := map[string]bool{}
		n := len(b.contacts)
		for _, m := range b.messages {
			if m.noContact || seen[m.from] {
				continue
			}
			seen[m.from] = true
			if n > 0 {
				w.raw(",")
			}
			n++
			w.raw(`{`)
			if !m.noProfile {
				w.raw(`"profile":{"name":`)
				w.str(m.name)
				w.raw(`},`)
			}
			w.raw(`"wa_id":`)
			w.str(m.from)
			w.raw(`}`)
		}
		w.raw(`]`)
	}
	writeList(w, "messages", b.messages, b.raw)
	writeList(w, "statuses", b.statuses, b.rawStatuses)
	w.raw(`},"field":"messages"}`)
}

// writeList writes ,"name":[…] with the elements and then the raw ones,
// when there is any of either.
func writeList[E interface{ write(*writer) }](w *writer, name string, elems []E, raw []string) {
	if len(elems)+len(raw) == 0 {
		return
	}
	w.raw(`,"` + name + `":[`)
	for i, e := range elems {
		if i > 0 {
			w.raw(",")
		}
		e.write(w)
	}
	for i, r := range raw {
		if i > 0 || len(elems) > 0 {
			w.raw(",")
		}
		w.raw(r)
	}
	w.raw(`]`)
}

// Message is one element of messages[]: an order, a text or a button
// reply. Its sender (From, Name) also makes the body's contacts entry.
type Message struct {
	id, from, name       string
	noProfile, noContact bool
	timestamp            string
	ctxFrom, ctxID       string
	hasContext           bool
	typ                  string

	// order
	catalogID string
	text      *string
	items     []string // raw product_items elements
	rawItems  bool     // items is exactly what to send, even when empty

	// text
	body string

	// button reply
	buttonID, buttonTitle string
}

func newMessage(id, typ string) *Message {
	return &Message{id: id, typ: typ, from: WaID, name: Name, timestamp: unix(T0)}
}

// Order returns an order message (type "order") with id as its wamid.
// Without Item or RawItem calls it carries the two default lines.
func Order(id string) *Message {
	m := newMessage(id, "order")
	m.catalogID = CatalogID
	return m
}

// Text returns a text message with the given body.
func Text(id, body string) *Message {
	m := newMessage(id, "text")
	m.body = body
	return m
}

// ButtonReply returns an interactive button_reply: the customer tapped the
// button buttonID titled title.
func ButtonReply(id, buttonID, title string) *Message {
	m := newMessage(id, "interactive")
	m.buttonID, m.buttonTitle = buttonID, title
	return m
}

// From sets the customer's wa_id: the message's "from" and its contact's
// wa_id (default WaID).
func (m *Message) From(waID string) *Message { m.from = waID; return m }

// Name sets the customer's profile name (default Name).
func (m *Message) Name(name string) *Message { m.name = name; return m }

// NoProfile leaves the contact's profile (and so its name) out.
func (m *Message) NoProfile() *Message { m.noProfile = true; return m }

// NoContact gives the message's sender no contacts entry.
func (m *Message) NoContact() *Message { m.noContact = true; return m }

// At sets the timestamp (default T0), sent as unix seconds in a string.
func (m *Message) At(t time.Time) *Message { m.timestamp = unix(t); return m }

// Timestamp sets the timestamp text as sent, valid or not ("17XXXXXXXX").
func (m *Message) Timestamp(raw string) *Message { m.timestamp = raw; return m }

// Context marks the message as a reply to the business message id sent
// from the business number from.
func (m *Message) Context(from, id string) *Message {
	m.ctxFrom, m.ctxID, m.hasContext = from, id, true
	return m
}

// CatalogID sets an order's catalog_id (default CatalogID).
func (m *Message) CatalogID(s string) *Message { m.catalogID = s; return m }

// OrderText sets an order's text; without it the member is left out, with
// "" it is sent empty.
func (m *Message) OrderText(s string) *Message { m.text = &s; return m }

// Item appends an order line: quantity of product at the unit price given
// as decimal text in major units ("1600", "16.99"), sent as a JSON number.
func (m *Message) Item(product string, quantity int, price, currency string) *Message {
	return m.RawItem(Quote(product), strconv.Itoa(quantity), price, Quote(currency))
}

// RawItem appends an order line whose members are raw JSON texts, for
// invalid input: quantity `"2"` or `0`, price `"16.99"` or `1e400`. An
// empty currency leaves the member out.
func (m *Message) RawItem(product, quantity, price, currency string) *Message {
	s := `{"product_retailer_id":` + product + `,"quantity":` + quantity + `,"item_price":` + price
	if currency != "" {
		s += `,"currency":` + currency
	}
	m.items = append(m.items, s+`}`)
	return m
}

// RawItems sets the order's product_items to exactly the raw JSON
// elements given, for input no line builder makes: an element that is not
// an object (`"not an item"`), one with duplicate members. Without
// elements product_items is sent empty (no default lines).
func (m *Message) RawItems(elems ...string) *Message {
	m.items, m.rawItems = elems, true
	return m
}

func (m *Message) write(w *writer) {
	w.raw(`{`)
	if m.hasContext {
		w.raw(`"context":{"from":`)
		w.str(m.ctxFrom)
		w.raw(`,"id":`)
		w.str(m.ctxID)
		w.raw(`},`)
	}
	w.raw(`"from":`)
	w.str(m.from)
	w.raw(`,"id":`)
	w.str(m.id)
	w.raw(`,"timestamp":`)
	w.str(m.timestamp)
	w.raw(`,"type":`)
	w.str(m.typ)
	switch m.typ {
	case "order":
		w.raw(`,"order":{"catalog_id":`)
		w.str(m.catalogID)
		if m.text != nil {
			w.raw(`,"text":`)
			w.str(*m.text)
		}
		w.raw(`,"product_items":[`)
		items := m.items
		if len(items) == 0 && !m.rawItems {
			items = defaultItems
		}
		w.raw(strings.Join(items, ","))
		w.raw(`]}`)
	case "text":
		w.raw(`,"text":{"body":`)
		w.str(m.body)
		w.raw(`}`)
	case "interactive":
		w.raw(`,"interactive":{"type":"button_reply","button_reply":{"id":`)
		w.str(m.buttonID)
		w.raw(`,"title":`)
		w.str(m.buttonTitle)
		w.raw(`}}`)
	}
	w.raw(`}`)
}

// defaultItems are the lines of an order built without items: 5200 INR.
var defaultItems = []string{
	`{"product_retailer_id":"SKU-SHIRT-M","quantity":2,"item_price":1600,"currency":"INR"}`,
	`{"product_retailer_id":"SKU-PANT-32","quantity":1,"item_price":2000,"currency":"INR"}`,
}

// StatusUpdate is one element of statuses[]: what happened to a message
// the business sent.
type StatusUpdate struct {
	id, status, timestamp, recipient string
	pricing                          string // raw pricing object, "" for none
	errors                           []string
}

// Status returns a status update of the business message id; status is
// "sent", "delivered", "read", "failed" or any other text.
func Status(id, status string) *StatusUpdate {
	return &StatusUpdate{id: id, status: status, timestamp: unix(T0), recipient: WaID}
}

// Sent, Delivered and Read return status updates of that kind.
func Sent(id string) *StatusUpdate { return Status(id, "sent") }

// Delivered returns a "delivered" status update.
func Delivered(id string) *StatusUpdate { return Status(id, "delivered") }

// Read returns a "read" status update.
func Read(id string) *StatusUpdate { return Status(id, "read") }

// Failed returns a "failed" status update with one error.
func Failed(id string, code int64, title, details string) *StatusUpdate {
	return Status(id, "failed").Error(code, title, details)
}

// Recipient sets recipient_id (default WaID).
func (s *StatusUpdate) Recipient(waID string) *StatusUpdate { s.recipient = waID; return s }

// At sets the timestamp (default T0).
func (s *StatusUpdate) At(t time.Time) *StatusUpdate { s.timestamp = unix(t); return s }

// Timestamp sets the timestamp text as sent.
func (s *StatusUpdate) Timestamp(raw string) *StatusUpdate { s.timestamp = raw; return s }

// Pricing adds the pricing object.
func (s *StatusUpdate) Pricing(billable bool, model, typ, category string) *StatusUpdate {
	var w writer
	w.raw(`{"billable":` + strconv.FormatBool(billable) + `,"pricing_model":`)
	w.str(model)
	w.raw(`,"type":`)
	w.str(typ)
	w.raw(`,"category":`)
	w.str(category)
	w.raw(`}`)
	s.pricing = string(w.bytes())
	return s
}

// Error appends an error as Meta sends it: code, title, message (the
// title again), error_data.details and href (ErrorsHref).
func (s *StatusUpdate) Error(code int64, title, details string) *StatusUpdate {
	var w writer
	w.raw(`{"code":` + strconv.FormatInt(code, 10) + `,"title":`)
	w.str(title)
	w.raw(`,"message":`)
	w.str(title)
	w.raw(`,"error_data":{"details":`)
	w.str(details)
	w.raw(`},"href":`)
	w.str(ErrorsHref)
	w.raw(`}`)
	s.errors = append(s.errors, string(w.bytes()))
	return s
}

func (s *StatusUpdate) write(w *writer) {
	w.raw(`{"id":`)
	w.str(s.id)
	w.raw(`,"status":`)
	w.str(s.status)
	w.raw(`,"timestamp":`)
	w.str(s.timestamp)
	w.raw(`,"recipient_id":`)
	w.str(s.recipient)
	if s.pricing != "" {
		w.raw(`,"pricing":` + s.pricing)
	}
	if len(s.errors) > 0 {
		w.raw(`,"errors":[` + strings.Join(s.errors, ",") + `]`)
	}
	w.raw(`}`)
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// writer builds compact JSON by hand, so member order is fixed.
type writer struct{ b bytes.Buffer }

func (w *writer) raw(s string)  { w.b.WriteString(s) }
func (w *writer) str(s string)  { w.raw(Quote(s)) }
func (w *writer) bytes() []byte { return bytes.Clone(w.b.Bytes()) }

// fields writes ,"k":"v" for each pair.
func (w *writer) fields(kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		w.raw(`,"` + kv[i] + `":`)
		w.str(kv[i+1])
	}
}

// Quote returns s as a JSON string, for RawItem, RawMessage and RawStatus;
// <, > and & stay as they are, as the providers send them.
func Quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
