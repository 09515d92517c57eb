package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// Base is the instant the fixtures count from: microsecond precision, UTC.
var Base = time.Date(2026, 3, 2, 9, 30, 15, 123456000, time.UTC)

// Default values the fixtures fill in.
const (
	DefaultCustomer      = "919800000001"
	DefaultCustomerName  = "Sam"
	DefaultPhoneNumberID = "177000000000045"
	DefaultDisplayPhone  = "919000000080"
	DefaultWABAID        = "347000000000069"
	DefaultCatalogID     = "3294000000002474"
)

var callbackSeq atomic.Int64

// NewCallbackID returns a request id that is unique within the process.
func NewCallbackID() string {
	return "req-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(callbackSeq.Add(1), 10)
}

// Money returns minor units of a currency.
func Money(currency string, minor int64) money.Amount {
	return money.Amount{Currency: currency, Minor: minor}
}

// NewItem returns an order line of qty units at unit, with its line total.
// It panics if the total overflows, which no fixture should do.
func NewItem(retailerID string, qty int64, unit money.Amount) waorders.Item {
	line, err := unit.Mul(qty)
	if err != nil {
		panic(fmt.Sprintf("storetest: item %s: %v", retailerID, err))
	}
	return waorders.Item{ProductRetailerID: retailerID, Quantity: qty, UnitPrice: unit, LineTotal: line}
}

// NewOrder returns a valid pending order placed at orderedAt (received one
// second later) by DefaultCustomer on the default business number, with
// items (two INR lines as in Kaleyra's sample when none are given) and their
// totals. Tests change its fields before passing it to NewOrderInbound.
func NewOrder(id string, orderedAt time.Time, items ...waorders.Item) *waorders.Order {
	if len(items) == 0 {
		items = []waorders.Item{
			NewItem("shirt1122", 1, Money("INR", 160000)),
			NewItem("pant1122", 1, Money("INR", 200000)),
		}
	}
	return &waorders.Order{
		ID:        id,
		Status:    waorders.OrderPending,
		Version:   1,
		CatalogID: DefaultCatalogID,
		Text:      "message",
		Customer:  waorders.Customer{WaID: DefaultCustomer, Name: DefaultCustomerName},
		Business: waorders.Business{
			PhoneNumberID: DefaultPhoneNumberID, DisplayPhoneNumber: DefaultDisplayPhone, WABAID: DefaultWABAID,
		},
		Items:      items,
		OrderedAt:  orderedAt,
		ReceivedAt: orderedAt.Add(time.Second),
	}
}

// NewOrderInbound returns the Inbound of one Kaleyra callback carrying o
// as an order message: a fresh callback id, a realistic raw body (about
// 1.3 KB for two items), the message and the order. It recomputes o.Totals
// from o.Items.
func NewOrderInbound(o *waorders.Order) *store.Inbound {
	totals, err := waorders.ComputeTotals(o.Items)
	if err != nil {
		panic(fmt.Sprintf("storetest: order %s: %v", o.ID, err))
	}
	o.Totals = totals
	raw := orderMessageJSON(o)
	cbID := NewCallbackID()
	m := &waorders.Message{
		ID:               o.ID,
		CallbackID:       cbID,
		Type:             "order",
		Customer:         o.Customer,
		Business:         o.Business,
		Campaign:         o.Campaign,
		ReplyTo:          o.ReplyTo,
		TraceID:          o.TraceID,
		ContextMessageID: o.ContextMessageID,
		Summary:          fmt.Sprintf("order of %d items", len(o.Items)),
		Direction:        waorders.DirectionInbound,
		SentAt:           o.OrderedAt,
		ReceivedAt:       o.ReceivedAt,
		Raw:              raw,
		Warnings:         o.Warnings,
	}
	return &store.Inbound{
		Callback: store.RawCallback{
			ID:         cbID,
			Envelope:   "kaleyra",
			ReceivedAt: o.ReceivedAt,
			Body:       kaleyraBody(o, raw),
			Headers:    testHeaders(),
		},
		Messages: []store.MessageWrite{{Message: m, Order: o}},
	}
}

// NewOrderInbounds returns one Inbound per order.
func NewOrderInbounds(orders ...*waorders.Order) []*store.Inbound {
	ds := make([]*store.Inbound, len(orders))
	for i, o := range orders {
		ds[i] = NewOrderInbound(o)
	}
	return ds
}

// NewTextMessage returns a text message from DefaultCustomer sent at sentAt.
func NewTextMessage(id string, sentAt time.Time, body string) *waorders.Message {
	raw, _ := json.Marshal(map[string]any{
		"from": DefaultCustomer, "id": id, "timestamp": strconv.FormatInt(sentAt.Unix(), 10),
		"type": "text", "text": map[string]string{"body": body},
	})
	return &waorders.Message{
		ID:       id,
		Type:     "text",
		Customer: waorders.Customer{WaID: DefaultCustomer, Name: DefaultCustomerName},
		Business: waorders.Business{
			PhoneNumberID: DefaultPhoneNumberID, DisplayPhoneNumber: DefaultDisplayPhone, WABAID: DefaultWABAID,
		},
		Summary:    body,
		Direction:  waorders.DirectionInbound,
		SentAt:     sentAt,
		ReceivedAt: sentAt.Add(time.Second),
		Raw:        raw,
	}
}

// NewMessageInbound returns the Inbound of one callback carrying msgs
// (none of them an order). Each message gets the callback's id.
func NewMessageInbound(msgs ...*waorders.Message) *store.Inbound {
	d := &store.Inbound{Callback: store.RawCallback{
		ID: NewCallbackID(), Envelope: "meta", ReceivedAt: Base, Body: []byte(`{"object":"whatsapp_business_account"}`),
		Headers: testHeaders(),
	}}
	for _, m := range msgs {
		m.CallbackID = d.Callback.ID
		d.Messages = append(d.Messages, store.MessageWrite{Message: m})
	}
	return d
}

// Status ranks the suite uses, as the intake derives them from
// callback.StatusKind: a message's state only moves to a higher rank.
const (
	RankSent      = 1
	RankDelivered = 2
	RankRead      = 3
	RankFailed    = 9
)

// NewStatus returns a status update of messageID at ts.
func NewStatus(messageID, status string, rank int, ts time.Time) store.StatusWrite {
	raw, _ := json.Marshal(map[string]string{
		"id": messageID, "status": status, "timestamp": strconv.FormatInt(ts.Unix(), 10), "recipient_id": DefaultCustomer,
	})
	return store.StatusWrite{Rank: rank, Update: &waorders.StatusUpdate{
		MessageID:   messageID,
		Status:      status,
		RecipientID: DefaultCustomer,
		Timestamp:   ts,
		ReceivedAt:  ts.Add(time.Second),
		Raw:         raw,
	}}
}

// NewStatusInbound returns the Inbound of one callback carrying statuses.
func NewStatusInbound(statuses ...store.StatusWrite) *store.Inbound {
	d := &store.Inbound{Callback: store.RawCallback{
		ID: NewCallbackID(), Envelope: "kaleyra", ReceivedAt: Base, Body: []byte(`{"status":"sent"}`),
	}}
	for _, s := range statuses {
		s.Update.CallbackID = d.Callback.ID
		d.Statuses = append(d.Statuses, s)
	}
	return d
}

// NewQuarantineEntry returns an entry of kind for messageID ("" for a whole
// body), received at receivedAt, with a body and headers.
func NewQuarantineEntry(kind, messageID string, receivedAt time.Time) *waorders.QuarantineEntry {
	return &waorders.QuarantineEntry{
		Kind:       kind,
		CallbackID: NewCallbackID(),
		MessageID:  messageID,
		Envelope:   "kaleyra",
		Reason:     "invalid_quantity",
		Message:    "Item 0 has quantity 0; an order line needs at least one unit.",
		Problems: []waorders.Problem{{
			Severity: "error", Code: "invalid_quantity", Path: "meta_object.value.messages[0].order.product_items[0].quantity",
			Message: "quantity 0 is not positive",
		}},
		Body:       []byte(`{"meta_object": {"value": {"messages": [{"id": "` + messageID + `", "type": "order"}]}}}`),
		Headers:    testHeaders(),
		ReceivedAt: receivedAt,
	}
}

// NewQuarantineInbound returns the Inbound of one callback carrying
// entries, each given the callback's id.
func NewQuarantineInbound(entries ...*waorders.QuarantineEntry) *store.Inbound {
	d := &store.Inbound{Callback: store.RawCallback{
		ID: NewCallbackID(), Envelope: "kaleyra", ReceivedAt: Base, Body: []byte(`{"meta_object": {}}`),
	}}
	for _, e := range entries {
		e.CallbackID = d.Callback.ID
		if !e.ReceivedAt.IsZero() {
			d.Callback.ReceivedAt = e.ReceivedAt
		}
	}
	d.Quarantine = entries
	return d
}

func testHeaders() http.Header {
	return http.Header{
		"Content-Type": {"application/json"},
		"User-Agent":   {"Kaleyra-Webhook/2.0"},
		"X-Request-Id": {"b1c2d3e4", "f5a6"},
	}
}

// orderMessageJSON renders o as the order message of a WhatsApp webhook.
func orderMessageJSON(o *waorders.Order) json.RawMessage {
	type item struct {
		ProductRetailerID string          `json:"product_retailer_id"`
		Quantity          int64           `json:"quantity"`
		ItemPrice         json.RawMessage `json:"item_price"`
		Currency          string          `json:"currency"`
	}
	items := make([]item, len(o.Items))
	for i, it := range o.Items {
		items[i] = item{it.ProductRetailerID, it.Quantity, json.RawMessage(it.UnitPrice.Decimal()), it.UnitPrice.Currency}
	}
	msg := map[string]any{
		"from":      o.Customer.WaID,
		"id":        o.ID,
		"timestamp": strconv.FormatInt(o.OrderedAt.Unix(), 10),
		"type":      "order",
		"order":     map[string]any{"catalog_id": o.CatalogID, "text": o.Text, "product_items": items},
	}
	if o.ContextMessageID != "" {
		msg["context"] = map[string]string{"from": o.Business.DisplayPhoneNumber, "id": o.ContextMessageID}
	}
	b, err := json.MarshalIndent(msg, "", "    ")
	if err != nil {
		panic(fmt.Sprintf("storetest: %v", err))
	}
	return b
}

// kaleyraBody renders the whole Kaleyra V2 callback of an order message,
// with msg in it verbatim: the decoder's Raw values are slices of the body.
func kaleyraBody(o *waorders.Order, msg json.RawMessage) []byte {
	const placeholder = `"\u0000message"`
	body := map[string]any{
		"meta_object": map[string]any{
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata": map[string]string{
					"display_phone_number": o.Business.DisplayPhoneNumber,
					"phone_number_id":      o.Business.PhoneNumberID,
				},
				"contacts": []any{map[string]any{
					"profile": map[string]string{"name": o.Customer.Name},
					"wa_id":   o.Customer.WaID,
				}},
				"messages": []json.RawMessage{json.RawMessage(placeholder)},
			},
			"field": "messages",
		},
		"extra_info": map[string]string{
			"media_url": "",
			"ref":       o.Campaign.Ref,
			"ref1":      o.Campaign.Ref1,
			"ref2":      o.Campaign.Ref2,
			"reply_to":  o.ReplyTo,
			"trace_id":  o.TraceID,
			"waba_id":   o.Business.WABAID,
		},
	}
	b, err := json.MarshalIndent(body, "", "    ")
	if err != nil {
		panic(fmt.Sprintf("storetest: %v", err))
	}
	return bytes.Replace(b, []byte(placeholder), msg, 1)
}
