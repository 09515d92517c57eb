package waorders

import (
	"encoding/json"
	"time"
)

// Message is any inbound message kept by waorders, typed by Type. Its ID is
// the wamid. Raw is the message JSON exactly as received; Summary is a short
// human-readable rendering of the payload (text body, button title, ...).
type Message struct {
	ID               string
	CallbackID       string
	Type             string
	Customer         Customer
	Business         Business
	Campaign         Campaign
	ReplyTo          string
	TraceID          string
	ContextMessageID string
	Summary          string
	SentAt           time.Time
	ReceivedAt       time.Time
	Raw              json.RawMessage
	Warnings         []Problem
}

// StatusUpdate is one delivery status of an outbound message. Statuses are
// deduplicated on (MessageID, Status).
type StatusUpdate struct {
	MessageID   string
	Status      string
	RecipientID string
	CallbackID  string
	Timestamp   time.Time
	ReceivedAt  time.Time
	Errors      json.RawMessage // the WhatsApp errors array, if any
	Raw         json.RawMessage
}

// MessageState is the current, forward-only delivery state of one outbound
// message, derived from its status updates.
type MessageState struct {
	MessageID string
	Status    string
	UpdatedAt time.Time
}
