// Package wire holds the JSON shapes of the /v1 API: what the server
// encodes and what its clients (the CLI, tests) decode, declared once.
// Field names and order are the public contract (internal/server/openapi.json
// describes them): add fields, never rename them.
//
// The New… functions build a shape from the domain values. The server
// encodes the shapes with encoding/json and HTML escaping on (customer
// text is hostile), so <, > and & leave as \u003c, \u003e and \u0026.
package wire

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/money"
)

// Customer is the customer of an order or message, with the identifiers
// that order or message carried: the phone-based wa_id, the business-scoped
// user_id (BSUID), the parent_user_id and the username; any may be "".
type Customer struct {
	WaID         string `json:"wa_id"`
	UserID       string `json:"user_id"`
	ParentUserID string `json:"parent_user_id"`
	Username     string `json:"username"`
	Name         string `json:"name"`
}

// each returns f of every element of in, in order: an empty in gives an
// empty list, which encodes as [], never null.
func each[T, W any](in []T, f func(T) W) []W {
	out := make([]W, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}

// orEmpty returns s, or an empty list when s is nil, so that it encodes as
// [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// validJSON returns raw when it is valid JSON and nil (left out) otherwise.
func validJSON(raw json.RawMessage) json.RawMessage {
	if json.Valid(raw) {
		return raw
	}
	return nil
}

// NewCustomer returns the wire form of c.
func NewCustomer(c waorders.Customer) Customer {
	return Customer{WaID: c.WaID, UserID: c.UserID, ParentUserID: c.ParentUserID, Username: c.Username, Name: c.Name}
}

// Business is the WhatsApp business number a message was sent to.
type Business struct {
	PhoneNumberID      string `json:"phone_number_id"`
	DisplayPhoneNumber string `json:"display_phone_number"`
	WABAID             string `json:"waba_id"`
}

// Campaign holds the campaign references Kaleyra passes in extra_info.
type Campaign struct {
	Ref  string `json:"ref"`
	Ref1 string `json:"ref1"`
	Ref2 string `json:"ref2"`
}

// Item is one product line of an order. A line of an order that needs
// review may be unusable: it has problems, and unit_price and line_total
// are null when they could not be read. raw_* are the texts as received.
type Item struct {
	ProductRetailerID string             `json:"product_retailer_id"`
	Quantity          int64              `json:"quantity"`
	UnitPrice         *money.Amount      `json:"unit_price"`
	LineTotal         *money.Amount      `json:"line_total"`
	RawQuantity       string             `json:"raw_quantity,omitempty"`
	RawPrice          string             `json:"raw_price,omitempty"`
	RawCurrency       string             `json:"raw_currency,omitempty"`
	Problems          []waorders.Problem `json:"problems,omitempty"`
}

// NewItem returns the wire form of a line.
func NewItem(it waorders.Item) Item {
	v := Item{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, Problems: it.Problems}
	// The texts received are shown where they tell something: on an
	// unusable line, and on a line corrected since (its quantity differs).
	if len(it.Problems) > 0 || (it.RawQuantity != "" && it.RawQuantity != strconv.FormatInt(it.Quantity, 10)) {
		v.RawQuantity, v.RawPrice, v.RawCurrency = it.RawQuantity, it.RawPrice, it.RawCurrency
	}
	if it.UnitPrice.Currency != "" {
		u, l := it.UnitPrice, it.LineTotal
		v.UnitPrice = &u
		if it.Usable() {
			v.LineTotal = &l
		}
	}
	return v
}

// History is one status change of an order.
type History struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	From  string    `json:"from,omitempty"`
	To    string    `json:"to"`
	Note  string    `json:"note,omitempty"`
}

// Order is an order: GET /v1/orders/{id}, the answer of a status change,
// an element of a list and a line of the NDJSON export.
type Order struct {
	ID               string             `json:"id"`
	Status           string             `json:"status"`
	Version          int64              `json:"version"`
	CatalogID        string             `json:"catalog_id"`
	Text             string             `json:"text"`
	Customer         Customer           `json:"customer"`
	Business         Business           `json:"business"`
	Campaign         Campaign           `json:"campaign"`
	ReplyTo          string             `json:"reply_to"`
	ContextMessageID string             `json:"context_message_id"`
	TraceID          string             `json:"trace_id"`
	Items            []Item             `json:"items"`
	Totals           []money.Amount     `json:"totals"`
	Refunded         []money.Amount     `json:"refunded,omitempty"`
	Units            int64              `json:"units"`
	OrderedAt        time.Time          `json:"ordered_at"`
	ReceivedAt       time.Time          `json:"received_at"`
	Warnings         []waorders.Problem `json:"warnings"`
	History          []History          `json:"history,omitempty"`
	// Notifications are the order's notifications (GET /v1/orders/{id}
	// only, when notifications are on).
	Notifications []Notification `json:"notifications,omitempty"`
}

// NewOrder returns the wire form of o: times in UTC, empty lists as [].
func NewOrder(o *waorders.Order) Order {
	v := Order{
		ID: o.ID, Status: string(o.Status), Version: o.Version, CatalogID: o.CatalogID, Text: o.Text,
		Customer:         NewCustomer(o.Customer),
		Business:         Business(o.Business),
		Campaign:         Campaign(o.Campaign),
		ReplyTo:          o.ReplyTo,
		ContextMessageID: o.ContextMessageID,
		TraceID:          o.TraceID,
		Items:            each(o.Items, NewItem),
		Totals:           orEmpty(o.Totals),
		Refunded:         o.Refunded,
		Units:            o.Units(),
		OrderedAt:        o.OrderedAt.UTC(),
		ReceivedAt:       o.ReceivedAt.UTC(),
		Warnings:         orEmpty(o.Warnings),
	}
	for _, h := range o.History {
		v.History = append(v.History, History{At: h.At.UTC(), Actor: h.Actor, From: string(h.From), To: string(h.To), Note: h.Note})
	}
	return v
}

// OrderList is the answer of GET /v1/orders.
type OrderList struct {
	Orders     []Order `json:"orders"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// NewOrderList returns the wire form of a page of orders.
func NewOrderList(orders []*waorders.Order, nextCursor string) OrderList {
	return OrderList{Orders: each(orders, NewOrder), NextCursor: nextCursor}
}

// CustomerSummary is the answer of GET /v1/customers/{id}: who the customer
// is (every identifier it was seen with), its totals over all of them and
// its newest orders. FirstOrderAt and LastOrderAt are the zero time when
// it has no order.
type CustomerSummary struct {
	ID                  string               `json:"id"`
	WaID                string               `json:"wa_id"`
	UserID              string               `json:"user_id"`
	ParentUserID        string               `json:"parent_user_id"`
	Username            string               `json:"username"`
	Name                string               `json:"name"`
	Identifiers         []CustomerIdentifier `json:"identifiers"`
	Names               []string             `json:"names"`
	MarketingPreference string               `json:"marketing_preference"`
	MessageCount        int64                `json:"message_count"`
	FirstOrderAt        time.Time            `json:"first_order_at"`
	LastOrderAt         time.Time            `json:"last_order_at"`
	OrderCount          int64                `json:"order_count"`
	Spend               []money.Amount       `json:"spend"`
	Orders              []Order              `json:"orders"`
	NextCursor          string               `json:"next_cursor,omitempty"`
}

// NewCustomerSummary returns the wire form of c with one page of its orders.
func NewCustomerSummary(c *waorders.CustomerSummary, orders OrderList) CustomerSummary {
	return CustomerSummary{
		ID: c.ID, WaID: c.WaID, UserID: c.UserID, ParentUserID: c.ParentUserID, Username: c.Username,
		Name: c.Name, Names: orEmpty(c.Names), MarketingPreference: c.MarketingPreference, MessageCount: c.MessageCount,
		Identifiers:  each(c.Identifiers, func(id waorders.CustomerID) CustomerIdentifier { return CustomerIdentifier(id) }),
		FirstOrderAt: c.FirstOrderAt.UTC(), LastOrderAt: c.LastOrderAt.UTC(),
		OrderCount: c.OrderCount, Spend: orEmpty(c.Spend), Orders: orders.Orders, NextCursor: orders.NextCursor,
	}
}

// CampaignRow is one row of the campaign report.
type CampaignRow struct {
	Campaign     string          `json:"campaign"`
	Bucket       *time.Time      `json:"bucket,omitempty"`
	Orders       int64           `json:"orders"`
	Units        int64           `json:"units"`
	Revenue      []money.Amount  `json:"revenue"`
	FirstOrderAt time.Time       `json:"first_order_at"`
	LastOrderAt  time.Time       `json:"last_order_at"`
	ByStatus     []StatusFigures `json:"by_status,omitempty"`
}

// StatusFigures are a report row's figures for one order status.
type StatusFigures struct {
	Status  string         `json:"status"`
	Orders  int64          `json:"orders"`
	Units   int64          `json:"units"`
	Revenue []money.Amount `json:"revenue"`
}

// NewCampaignRow returns the wire form of row; the bucket is shown only
// for a report split by interval, as the start of the day in the business
// time zone (RFC 3339 with its offset).
func NewCampaignRow(row waorders.CampaignRow, withBucket bool) CampaignRow {
	v := CampaignRow{
		Campaign: row.Campaign, Orders: row.Orders, Units: row.Units, Revenue: orEmpty(row.Revenue),
		FirstOrderAt: row.FirstOrderAt.UTC(), LastOrderAt: row.LastOrderAt.UTC(),
	}
	if withBucket {
		b := row.Bucket
		v.Bucket = &b
	}
	for _, s := range row.ByStatus {
		v.ByStatus = append(v.ByStatus, StatusFigures{Status: string(s.Status), Orders: s.Orders, Units: s.Units, Revenue: orEmpty(s.Revenue)})
	}
	return v
}

// CampaignReport is the answer of GET /v1/reports/campaigns.
type CampaignReport struct {
	GroupBy  string   `json:"group_by"`
	Interval string   `json:"interval,omitempty"`
	Statuses []string `json:"statuses"`
	// TimeZone is the business time zone that sets the day boundaries.
	TimeZone  string        `json:"time_zone"`
	Campaigns []CampaignRow `json:"campaigns"`
}

// ReviewRequest is the body of POST /v1/orders/{id}/review.
type ReviewRequest struct {
	Action string           `json:"action"` // correct, accept or reject
	Lines  []LineCorrection `json:"lines,omitempty"`
	Note   string           `json:"note,omitempty"` // reject: the reason (required)
}

// LineCorrection replaces one line's quantity and unit price.
type LineCorrection struct {
	Index    int    `json:"index"`
	Quantity int64  `json:"quantity"`
	Price    string `json:"price"`
	Currency string `json:"currency,omitempty"`
}

// RefundRequest is the body of POST /v1/orders/{id}/refunds.
type RefundRequest struct {
	Amounts []RefundAmount `json:"amounts"`
	Reason  string         `json:"reason,omitempty"`
}

// RefundAmount is an amount refunded in one currency, as decimal text.
type RefundAmount struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

// Message is a stored message: GET /v1/messages/{id} (with Raw) and an
// element of GET /v1/messages (without).
type Message struct {
	ID               string             `json:"id"`
	Type             string             `json:"type"`
	CallbackID       string             `json:"callback_id"`
	Customer         Customer           `json:"customer"`
	Business         Business           `json:"business"`
	Campaign         Campaign           `json:"campaign"`
	ReplyTo          string             `json:"reply_to"`
	ContextMessageID string             `json:"context_message_id"`
	TraceID          string             `json:"trace_id"`
	Summary          string             `json:"summary"`
	Direction        string             `json:"direction"`
	GroupID          string             `json:"group_id"`
	MediaURL         string             `json:"media_url"`
	Errors           json.RawMessage    `json:"errors,omitempty"`
	ErrorCode        int64              `json:"error_code"`
	ErrorTitle       string             `json:"error_title"`
	SentAt           time.Time          `json:"sent_at"`
	ReceivedAt       time.Time          `json:"received_at"`
	Warnings         []waorders.Problem `json:"warnings"`
	Raw              json.RawMessage    `json:"raw,omitempty"`
}

// NewMessage returns the wire form of m; withRaw adds the message as the
// provider sent it, when that is valid JSON.
func NewMessage(m *waorders.Message, withRaw bool) Message {
	v := Message{
		ID: m.ID, Type: m.Type, CallbackID: m.CallbackID,
		Customer:         NewCustomer(m.Customer),
		Business:         Business(m.Business),
		Campaign:         Campaign(m.Campaign),
		ReplyTo:          m.ReplyTo,
		ContextMessageID: m.ContextMessageID,
		TraceID:          m.TraceID,
		Summary:          m.Summary,
		Direction:        m.Direction,
		GroupID:          m.GroupID,
		MediaURL:         m.MediaURL,
		ErrorCode:        m.ErrorCode,
		ErrorTitle:       m.ErrorTitle,
		SentAt:           m.SentAt.UTC(),
		ReceivedAt:       m.ReceivedAt.UTC(),
		Warnings:         orEmpty(m.Warnings),
		Errors:           validJSON(m.Errors),
	}
	if v.Direction == "" {
		v.Direction = waorders.DirectionInbound
	}
	if withRaw {
		v.Raw = validJSON(m.Raw)
	}
	return v
}

// CustomerIdentifier is one identifier of a customer: kind is wa_id,
// user_id, parent_user_id or username.
type CustomerIdentifier struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Recipient is who a status is about: the customer a message was sent to,
// or the participant of a group.
type Recipient struct {
	WaID         string `json:"wa_id"`
	UserID       string `json:"user_id"`
	ParentUserID string `json:"parent_user_id"`
}

// Status is a stored status of an outbound message: an element of GET
// /v1/messages/{id}/statuses and of GET /v1/statuses.
type Status struct {
	MessageID string `json:"message_id"`
	Status    string `json:"status"`
	// Participant is "" for a message sent to one customer, the
	// participant's id for a receipt of a group message.
	Participant  string          `json:"participant"`
	Recipient    Recipient       `json:"recipient"`
	GroupID      string          `json:"group_id"`
	Timestamp    time.Time       `json:"timestamp"`
	ReceivedAt   time.Time       `json:"received_at"`
	CallbackID   string          `json:"callback_id"`
	Errors       json.RawMessage `json:"errors,omitempty"`
	Conversation json.RawMessage `json:"conversation,omitempty"`
	Pricing      json.RawMessage `json:"pricing,omitempty"`
	Raw          json.RawMessage `json:"raw,omitempty"`
}

// NewStatus returns the wire form of u, with its raw JSON.
func NewStatus(u *waorders.StatusUpdate) Status {
	return Status{
		MessageID: u.MessageID, Status: u.Status, Participant: u.Participant,
		Recipient: Recipient{WaID: u.RecipientID, UserID: u.RecipientUserID, ParentUserID: u.RecipientParentUserID},
		GroupID:   u.GroupID, Timestamp: u.Timestamp.UTC(), ReceivedAt: u.ReceivedAt.UTC(), CallbackID: u.CallbackID,
		Errors: validJSON(u.Errors), Conversation: validJSON(u.Conversation), Pricing: validJSON(u.Pricing), Raw: validJSON(u.Raw),
	}
}

// StatusList is the answer of GET /v1/messages/{id}/statuses and GET
// /v1/statuses.
type StatusList struct {
	Statuses   []Status `json:"statuses"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// NewStatusList returns the wire form of statuses.
func NewStatusList(statuses []*waorders.StatusUpdate, nextCursor string) StatusList {
	return StatusList{Statuses: each(statuses, NewStatus), NextCursor: nextCursor}
}

// Change is a stored change (a call, a marketing preference, a BSUID
// update, a business event, a group, sync or unknown field): an element of
// GET /v1/changes, with its raw JSON.
type Change struct {
	ID         int64              `json:"id"`
	Field      string             `json:"field"`
	Kind       string             `json:"kind"`
	Event      string             `json:"event"`
	Summary    string             `json:"summary"`
	Customer   Customer           `json:"customer"`
	At         time.Time          `json:"at"`
	ReceivedAt time.Time          `json:"received_at"`
	CallbackID string             `json:"callback_id"`
	Warnings   []waorders.Problem `json:"warnings"`
	Raw        json.RawMessage    `json:"raw,omitempty"`
}

// ChangeList is the answer of GET /v1/changes.
type ChangeList struct {
	Changes    []Change `json:"changes"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// NewChange returns the wire form of c, with its raw JSON.
func NewChange(c *waorders.Change) Change {
	return Change{ID: c.ID, Field: c.Field, Kind: c.Kind, Event: c.Event, Summary: c.Summary,
		Customer: NewCustomer(c.Customer), At: c.At.UTC(), ReceivedAt: c.ReceivedAt.UTC(),
		CallbackID: c.CallbackID, Warnings: orEmpty(c.Warnings), Raw: validJSON(c.Raw)}
}

// NewChangeList returns the wire form of changes.
func NewChangeList(changes []*waorders.Change, nextCursor string) ChangeList {
	return ChangeList{Changes: each(changes, NewChange), NextCursor: nextCursor}
}

// MessageList is the answer of GET /v1/messages.
type MessageList struct {
	Messages   []Message `json:"messages"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// NewMessageList returns the wire form of a page of messages, without
// their raw JSON.
func NewMessageList(messages []*waorders.Message, nextCursor string) MessageList {
	return MessageList{Messages: each(messages, func(m *waorders.Message) Message { return NewMessage(m, false) }), NextCursor: nextCursor}
}

// Quarantine is a quarantine entry: GET /v1/quarantine/{id} (full, with
// body and headers) and an element of GET /v1/quarantine (without).
type Quarantine struct {
	ID         int64               `json:"id"`
	Kind       string              `json:"kind"`
	CallbackID string              `json:"callback_id"`
	MessageID  string              `json:"message_id,omitempty"`
	Envelope   string              `json:"envelope,omitempty"`
	Reason     string              `json:"reason"`
	Message    string              `json:"message"`
	Problems   []waorders.Problem  `json:"problems"`
	ReceivedAt time.Time           `json:"received_at"`
	ResolvedAt *time.Time          `json:"resolved_at,omitempty"`
	Attempts   int                 `json:"attempts"`
	Repeats    int                 `json:"repeats,omitempty"`
	LastSeenAt *time.Time          `json:"last_seen_at,omitempty"`
	Body       *string             `json:"body,omitempty"`
	BodyBase64 string              `json:"body_base64,omitempty"`
	Headers    map[string][]string `json:"headers,omitempty"`
}

// NewQuarantine returns the wire form of q; full adds the body and headers.
func NewQuarantine(q *waorders.QuarantineEntry, full bool) Quarantine {
	v := Quarantine{
		ID: q.ID, Kind: q.Kind, CallbackID: q.CallbackID, MessageID: q.MessageID, Envelope: q.Envelope,
		Reason: q.Reason, Message: q.Message, Problems: orEmpty(q.Problems), ReceivedAt: q.ReceivedAt.UTC(), Attempts: q.Attempts,
	}
	if q.Resolved() {
		t := q.ResolvedAt.UTC()
		v.ResolvedAt = &t
	}
	if q.Repeats > 0 && !q.LastSeenAt.IsZero() {
		t := q.LastSeenAt.UTC()
		v.Repeats, v.LastSeenAt = q.Repeats, &t
	}
	if full {
		// The body is shown as text, exactly as received (JSON-escaped by the
		// encoder, so invalid UTF-8 comes out as U+FFFD; the stored bytes are
		// unchanged and replayed as they are).
		b := string(q.Body)
		v.Body = &b
		if !utf8.Valid(q.Body) {
			v.BodyBase64 = base64.StdEncoding.EncodeToString(q.Body)
		}
		v.Headers = q.Headers
	}
	return v
}

// QuarantineList is the answer of GET /v1/quarantine.
type QuarantineList struct {
	Entries    []Quarantine `json:"entries"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// NewQuarantineList returns the wire form of a page of entries, without
// their bodies and headers.
func NewQuarantineList(entries []*waorders.QuarantineEntry, nextCursor string) QuarantineList {
	return QuarantineList{Entries: each(entries, func(q *waorders.QuarantineEntry) Quarantine { return NewQuarantine(q, false) }), NextCursor: nextCursor}
}

// QuarantineRetry is the answer of POST /v1/quarantine/{id}/retry. Result
// holds the intake's result (the callback's records) when the body now
// decodes, Error the decoder's verdict when it still does not; each is
// null otherwise. A client that wants them as they were sent decodes into
// a *json.RawMessage put in the field beforehand.
type QuarantineRetry struct {
	Entry    Quarantine `json:"entry"`
	Error    any        `json:"error"`
	Resolved bool       `json:"resolved"`
	Result   any        `json:"result"`
}

// Error is the body of every error answer.
type Error struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a stable code, a message for people,
// the request's id (send it when reporting a problem; the server always
// sets it, a handler mounted without its middleware may not) and, for a rejected
// callback, the JSON path of the problem and the quarantine entry that
// keeps the body.
type ErrorDetail struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	RequestID    string `json:"request_id,omitempty"`
	Path         string `json:"path,omitempty"`
	QuarantineID int64  `json:"quarantine_id,omitempty"`
}
