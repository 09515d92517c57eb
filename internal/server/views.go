package server

import (
	"encoding/base64"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/money"
)

// The JSON views of the API. Field names are the public contract: add
// fields, never rename them.

type customerView struct {
	WaID string `json:"wa_id"`
	Name string `json:"name"`
}

type businessView struct {
	PhoneNumberID      string `json:"phone_number_id"`
	DisplayPhoneNumber string `json:"display_phone_number"`
	WABAID             string `json:"waba_id"`
}

type campaignView struct {
	Ref  string `json:"ref"`
	Ref1 string `json:"ref1"`
	Ref2 string `json:"ref2"`
}

type itemView struct {
	ProductRetailerID string       `json:"product_retailer_id"`
	Quantity          int64        `json:"quantity"`
	UnitPrice         money.Amount `json:"unit_price"`
	LineTotal         money.Amount `json:"line_total"`
}

type historyView struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	From  string    `json:"from,omitempty"`
	To    string    `json:"to"`
	Note  string    `json:"note,omitempty"`
}

type orderView struct {
	ID               string             `json:"id"`
	Status           string             `json:"status"`
	Version          int64              `json:"version"`
	CatalogID        string             `json:"catalog_id"`
	Text             string             `json:"text"`
	Customer         customerView       `json:"customer"`
	Business         businessView       `json:"business"`
	Campaign         campaignView       `json:"campaign"`
	ReplyTo          string             `json:"reply_to"`
	ContextMessageID string             `json:"context_message_id"`
	TraceID          string             `json:"trace_id"`
	Items            []itemView         `json:"items"`
	Totals           []money.Amount     `json:"totals"`
	Units            int64              `json:"units"`
	OrderedAt        time.Time          `json:"ordered_at"`
	ReceivedAt       time.Time          `json:"received_at"`
	Warnings         []waorders.Problem `json:"warnings"`
	History          []historyView      `json:"history,omitempty"`
}

func newOrderView(o *waorders.Order) orderView {
	v := orderView{
		ID: o.ID, Status: string(o.Status), Version: o.Version, CatalogID: o.CatalogID, Text: o.Text,
		Customer:         customerView{WaID: o.Customer.WaID, Name: o.Customer.Name},
		Business:         businessView(o.Business),
		Campaign:         campaignView(o.Campaign),
		ReplyTo:          o.ReplyTo,
		ContextMessageID: o.ContextMessageID,
		TraceID:          o.TraceID,
		Items:            make([]itemView, len(o.Items)),
		Totals:           o.Totals,
		Units:            o.Units(),
		OrderedAt:        o.OrderedAt.UTC(),
		ReceivedAt:       o.ReceivedAt.UTC(),
		Warnings:         o.Warnings,
	}
	for i, it := range o.Items {
		v.Items[i] = itemView(it)
	}
	if v.Totals == nil {
		v.Totals = []money.Amount{}
	}
	if v.Warnings == nil {
		v.Warnings = []waorders.Problem{}
	}
	for _, h := range o.History {
		v.History = append(v.History, historyView{At: h.At.UTC(), Actor: h.Actor, From: string(h.From), To: string(h.To), Note: h.Note})
	}
	return v
}

type messageView struct {
	ID               string             `json:"id"`
	Type             string             `json:"type"`
	CallbackID       string             `json:"callback_id"`
	Customer         customerView       `json:"customer"`
	Business         businessView       `json:"business"`
	Campaign         campaignView       `json:"campaign"`
	ReplyTo          string             `json:"reply_to"`
	ContextMessageID string             `json:"context_message_id"`
	TraceID          string             `json:"trace_id"`
	Summary          string             `json:"summary"`
	SentAt           time.Time          `json:"sent_at"`
	ReceivedAt       time.Time          `json:"received_at"`
	Warnings         []waorders.Problem `json:"warnings"`
	Raw              json.RawMessage    `json:"raw,omitempty"`
}

func newMessageView(m *waorders.Message, withRaw bool) messageView {
	v := messageView{
		ID: m.ID, Type: m.Type, CallbackID: m.CallbackID,
		Customer:         customerView{WaID: m.Customer.WaID, Name: m.Customer.Name},
		Business:         businessView(m.Business),
		Campaign:         campaignView(m.Campaign),
		ReplyTo:          m.ReplyTo,
		ContextMessageID: m.ContextMessageID,
		TraceID:          m.TraceID,
		Summary:          m.Summary,
		SentAt:           m.SentAt.UTC(),
		ReceivedAt:       m.ReceivedAt.UTC(),
		Warnings:         m.Warnings,
	}
	if v.Warnings == nil {
		v.Warnings = []waorders.Problem{}
	}
	if withRaw && json.Valid(m.Raw) {
		v.Raw = m.Raw
	}
	return v
}

type quarantineView struct {
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
	Body       *string             `json:"body,omitempty"`
	BodyBase64 string              `json:"body_base64,omitempty"`
	Headers    map[string][]string `json:"headers,omitempty"`
}

func newQuarantineView(q *waorders.QuarantineEntry, full bool) quarantineView {
	v := quarantineView{
		ID: q.ID, Kind: q.Kind, CallbackID: q.CallbackID, MessageID: q.MessageID, Envelope: q.Envelope,
		Reason: q.Reason, Message: q.Message, Problems: q.Problems, ReceivedAt: q.ReceivedAt.UTC(), Attempts: q.Attempts,
	}
	if v.Problems == nil {
		v.Problems = []waorders.Problem{}
	}
	if q.Resolved() {
		t := q.ResolvedAt.UTC()
		v.ResolvedAt = &t
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
