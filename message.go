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
	// Direction is DirectionInbound (from the customer) or DirectionOutbound
	// (an echo of a message the business sent from the WhatsApp Business
	// app); "" reads as inbound.
	Direction string
	// GroupID is the group the message was sent in, if any.
	GroupID string
	// MediaURL is Kaleyra's extra_info.media_url, else the media url Meta sent.
	MediaURL string
	// Errors is the message's WhatsApp errors array (an unsupported message,
	// a payload Meta could not send), ErrorCode and ErrorTitle its first
	// error's code and title.
	Errors     json.RawMessage
	ErrorCode  int64
	ErrorTitle string
	SentAt     time.Time
	ReceivedAt time.Time
	Raw        json.RawMessage
	Warnings   []Problem
}

// Message directions.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// StatusUpdate is one delivery status of an outbound message. Statuses are
// deduplicated on (MessageID, Participant, Status): Participant is "" for a
// message sent to one customer, so each receipt of a group message is kept
// per participant.
type StatusUpdate struct {
	MessageID   string
	Status      string
	Participant string
	// RecipientID, RecipientUserID and RecipientParentUserID identify the
	// customer (for a group message, the participant) the status is about.
	RecipientID           string
	RecipientUserID       string
	RecipientParentUserID string
	GroupID               string
	// Conversation and Pricing are the status's objects as sent, or nil.
	Conversation json.RawMessage
	Pricing      json.RawMessage
	CallbackID   string
	Timestamp    time.Time
	ReceivedAt   time.Time
	Errors       json.RawMessage // the WhatsApp errors array, if any
	Raw          json.RawMessage
}

// MessageState is the current, forward-only delivery state of one outbound
// message, derived from its status updates.
type MessageState struct {
	MessageID string
	Status    string
	UpdatedAt time.Time
}
