package wire

import (
	"encoding/json"
	"time"

	"github.com/waorders/waorders/internal/store"
)

// Outbound is a message waorders sent (or means to send): GET
// /v1/outbound/{id}, the items of GET /v1/outbound, and the data of the
// notification.sent and notification.failed events.
type Outbound struct {
	ID            string          `json:"id"`
	Kind          string          `json:"kind"`
	OrderID       string          `json:"order_id,omitempty"`
	OrderStatus   string          `json:"order_status,omitempty"`
	PhoneNumberID string          `json:"phone_number_id"`
	To            string          `json:"to"`
	CustomerKey   string          `json:"customer_key"`
	ReplyTo       string          `json:"reply_to,omitempty"`
	Note          string          `json:"note,omitempty"`
	Text          string          `json:"text,omitempty"`
	Template      string          `json:"template,omitempty"`
	Actor         string          `json:"actor,omitempty"`
	State         string          `json:"state"`
	Reason        string          `json:"reason,omitempty"`
	Attempts      int             `json:"attempts"`
	Failures      int             `json:"failures"`
	Resends       int             `json:"resends"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	Refs          Campaign        `json:"refs"`
	SentKind      string          `json:"sent_kind,omitempty"`
	Request       json.RawMessage `json:"request,omitempty"`
	WAMID         string          `json:"wamid,omitempty"`
	LastCode      string          `json:"last_code,omitempty"`
	LastError     string          `json:"last_error,omitempty"`
	Response      string          `json:"response,omitempty"`
	DeliveryState string          `json:"delivery_state,omitempty"`
	DeliveryError json.RawMessage `json:"delivery_error,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	AcceptedAt    *time.Time      `json:"accepted_at,omitempty"`
}

// NewOutbound returns the wire form of m.
func NewOutbound(m *store.OutboundMessage) Outbound {
	v := Outbound{ID: m.ID, Kind: m.Kind, OrderID: m.OrderID, OrderStatus: string(m.OrderStatus), PhoneNumberID: m.PhoneNumberID,
		To: m.To, CustomerKey: m.CustomerKey, ReplyTo: m.ReplyTo, Note: m.Note, Text: m.Text, Template: m.Template, Actor: m.Actor,
		State: m.State, Reason: m.Reason, Attempts: m.Attempts, Failures: m.Failures, Resends: m.Resends,
		Refs: Campaign(store.OutboundRefs(m)), SentKind: m.SentKind, WAMID: m.WAMID, LastCode: m.LastCode,
		LastError: m.LastError, Response: string(m.Response), DeliveryState: m.DeliveryState,
		CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC()}
	if json.Valid(m.Request) {
		v.Request = m.Request
	}
	if m.DeliveryError != "" && json.Valid([]byte(m.DeliveryError)) {
		v.DeliveryError = json.RawMessage(m.DeliveryError)
	}
	if !store.OutboundFinal(m.State) && !m.NextAttemptAt.IsZero() {
		t := m.NextAttemptAt.UTC()
		v.NextAttemptAt = &t
	}
	if !m.AcceptedAt.IsZero() {
		t := m.AcceptedAt.UTC()
		v.AcceptedAt = &t
	}
	return v
}

// OutboundList is the answer of GET /v1/outbound.
type OutboundList struct {
	Outbound   []Outbound `json:"outbound"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// Notification is one notification of an order, in GET /v1/orders/{id}.
type Notification struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	State         string `json:"state"`
	Reason        string `json:"reason,omitempty"`
	DeliveryState string `json:"delivery_state,omitempty"`
	WAMID         string `json:"wamid,omitempty"`
}

// NewNotification returns the order view of a notification.
func NewNotification(m *store.OutboundMessage) Notification {
	return Notification{ID: m.ID, Status: string(m.OrderStatus), State: m.State, Reason: m.Reason,
		DeliveryState: m.DeliveryState, WAMID: m.WAMID}
}

// ConversationItem is one message of a customer's conversation: an inbound
// message or an outbound one.
type ConversationItem struct {
	Direction string    `json:"direction"` // inbound | outbound
	At        time.Time `json:"at"`
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Summary   string    `json:"summary"`
	State     string    `json:"state,omitempty"`          // outbound: its state
	Delivery  string    `json:"delivery_state,omitempty"` // outbound: sent, delivered, read, failed
	OrderID   string    `json:"order_id,omitempty"`
}

// Conversation is the answer of GET /v1/customers/{id}/conversation.
type Conversation struct {
	Customer string             `json:"customer"`
	Messages []ConversationItem `json:"messages"`
}

// StaffMessageRequest is the body of POST /v1/customers/{id}/messages.
type StaffMessageRequest struct {
	Text          string `json:"text,omitempty"`
	Template      string `json:"template,omitempty"` // name or name:language, sent outside the window
	PhoneNumberID string `json:"phone_number_id,omitempty"`
	OrderID       string `json:"order_id,omitempty"` // reply threaded to this order message
}

// NotifySettings is the answer of GET and PUT /v1/notifications.
type NotifySettings struct {
	Statuses map[string]NotifyStatus `json:"statuses"`
	Numbers  []NotifyNumber          `json:"numbers"`
	Paused   []SenderPause           `json:"paused"`
}

// NotifyStatus is what one order status sends.
type NotifyStatus struct {
	Enabled     bool            `json:"enabled"`
	Text        string          `json:"text,omitempty"`
	DefaultText string          `json:"effective_text,omitempty"`
	Template    *NotifyTemplate `json:"template,omitempty"`
}

// NotifyTemplate is an approved template sent outside the 24-hour window.
type NotifyTemplate struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Params   []string `json:"params,omitempty"`
}

// NotifyNumber is a sending number, without its key.
type NotifyNumber struct {
	PhoneNumberID string `json:"phone_number_id"` // "" for every number
	SID           string `json:"sid"`
	Sender        string `json:"sender"`
	BaseURL       string `json:"base_url"`
	APIKey        string `json:"api_key"` // "set"
}

// SenderPause is a paused number.
type SenderPause struct {
	PhoneNumberID string     `json:"phone_number_id"`
	Reason        string     `json:"reason"`
	PausedAt      time.Time  `json:"paused_at"`
	Until         *time.Time `json:"until,omitempty"`
}

// NotifySettingsRequest is the body of PUT /v1/notifications.
type NotifySettingsRequest struct {
	Statuses map[string]NotifyStatusRequest `json:"statuses"`
}

// NotifyStatusRequest is one status's settings in a PUT.
type NotifyStatusRequest struct {
	Enabled  bool            `json:"enabled"`
	Text     string          `json:"text,omitempty"`
	Template *NotifyTemplate `json:"template,omitempty"`
}
