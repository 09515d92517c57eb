package notify

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// Event types of the outbound messages.
const (
	EventSent   = store.EventNotificationSent
	EventFailed = store.EventNotificationFailed
)

// Event returns a notification.sent or notification.failed event of m.
func Event(b *events.Builder, typ string, m *store.OutboundMessage, at time.Time) (*store.Event, error) {
	at = at.UTC().Truncate(time.Microsecond)
	p, err := events.Payload(typ, at, wire.NewOutbound(m))
	if err != nil {
		return nil, err
	}
	ids := events.Default
	if b != nil && b.IDs != nil {
		ids = b.IDs
	}
	return &store.Event{ID: ids.New(), Type: typ, OrderID: m.OrderID, MessageID: m.WAMID, PhoneNumberID: m.PhoneNumberID,
		OccurredAt: at, Payload: p}, nil
}

// SettingsSource holds the current settings: the stored ones (PUT
// /v1/notifications) when there are, else the configured defaults. Get is
// lock-free; Refresh re-reads the store (serve calls it every few seconds,
// so every instance follows a PUT made on another).
type SettingsSource struct {
	defaults Settings
	st       settingsStore
	cur      atomic.Pointer[Settings]
}

type settingsStore interface {
	GetNotifySettings(ctx context.Context) ([]byte, error)
	PutNotifySettings(ctx context.Context, body []byte, now time.Time) error
}

// NewSettingsSource returns a source with these defaults, backed by st
// (nil: the defaults only).
func NewSettingsSource(defaults Settings, st settingsStore) *SettingsSource {
	if defaults.Statuses == nil {
		defaults.Statuses = map[waorders.OrderStatus]StatusSetting{}
	}
	s := &SettingsSource{defaults: defaults, st: st}
	s.cur.Store(&defaults)
	return s
}

// Get returns the current settings.
func (s *SettingsSource) Get() Settings { return *s.cur.Load() }

// Refresh re-reads the stored settings.
func (s *SettingsSource) Refresh(ctx context.Context) error {
	if s.st == nil {
		return nil
	}
	b, err := s.st.GetNotifySettings(ctx)
	if err != nil {
		return err
	}
	if b == nil {
		d := s.defaults
		s.cur.Store(&d)
		return nil
	}
	v, err := ParseSettings(b)
	if err != nil {
		return err
	}
	s.cur.Store(&v)
	return nil
}

// Put validates, stores and applies new settings.
func (s *SettingsSource) Put(ctx context.Context, v Settings, now time.Time) error {
	if v.Statuses == nil {
		v.Statuses = map[waorders.OrderStatus]StatusSetting{}
	}
	if err := v.Validate(); err != nil {
		return err
	}
	if s.st != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := s.st.PutNotifySettings(ctx, b, now); err != nil {
			return err
		}
	}
	s.cur.Store(&v)
	return nil
}

// Intents makes the intents of order notifications.
type Intents struct {
	Settings *SettingsSource
	// HasSender says whether a number has credentials (a number without
	// gets no intent).
	HasSender func(phoneNumberID string) bool
	IDs       *events.IDs
	Now       func() time.Time
}

// NewID returns a new outbound id, "out_" and a ULID.
func (in *Intents) NewID() string {
	ids := events.Default
	if in != nil && in.IDs != nil {
		ids = in.IDs
	}
	return "out_" + ids.New()[len("evt_"):]
}

func (in *Intents) now() time.Time {
	if in.Now == nil {
		return time.Now().UTC()
	}
	return in.Now().UTC()
}

// ForOrder returns the intent of notifying o's customer of its status o.Status,
// or nil when that status notifies nothing, the number cannot send, or the
// customer has no phone number to send to.
func (in *Intents) ForOrder(o *waorders.Order, note, actor string) *store.OutboundMessage {
	if in == nil || o == nil {
		return nil
	}
	set, ok := in.Settings.Get().Statuses[o.Status]
	if !ok || !set.Enabled || o.Customer.WaID == "" {
		return nil
	}
	if in.HasSender != nil && !in.HasSender(o.Business.PhoneNumberID) {
		return nil
	}
	now := in.now()
	return &store.OutboundMessage{ID: in.NewID(), Kind: store.OutboundNotification, OrderID: o.ID, OrderStatus: o.Status,
		IntentKey: o.ID + "/" + string(o.Status), PhoneNumberID: o.Business.PhoneNumberID, To: o.Customer.WaID,
		CustomerKey: o.Customer.Key(), ReplyTo: o.ID, Note: note, Actor: actor, State: store.OutboundQueued,
		NextAttemptAt: now, CreatedAt: now}
}

// CodeWindowClosed is Meta's error of a message sent outside the 24-hour
// customer service window ("Re-engagement message").
const CodeWindowClosed = 131047

// Retemplate returns the intent of sending m's status again as the status's
// approved template, when Meta failed the delivery of m, a notification
// not sent as a template, with 131047: the window had closed although the last
// inbound message stored said it was open (a message waorders never saw,
// clocks). Nil when that does not apply, no template is set for the status,
// or m is such a resend already. Its intent key is m's and "/template",
// so a status callback delivered twice makes one resend.
func (in *Intents) Retemplate(m *store.OutboundMessage) *store.OutboundMessage {
	// SentKind may be empty: the status callback that accepted the row can
	// land before the sender's finish, which then does not.
	if in == nil || m == nil || m.Kind != store.OutboundNotification || m.SentKind == "template" ||
		m.DeliveryState != store.DeliveryStateFailed || strings.HasSuffix(m.IntentKey, templateSuffix) || !hasErrorCode(m.DeliveryError, CodeWindowClosed) {
		return nil
	}
	set, ok := in.Settings.Get().Statuses[m.OrderStatus]
	if !ok || !set.Enabled || set.Template == nil {
		return nil
	}
	now := in.now()
	return &store.OutboundMessage{ID: in.NewID(), Kind: store.OutboundNotification, OrderID: m.OrderID, OrderStatus: m.OrderStatus,
		IntentKey: m.IntentKey + templateSuffix, PhoneNumberID: m.PhoneNumberID, To: m.To, CustomerKey: m.CustomerKey,
		ReplyTo: m.ReplyTo, Note: m.Note, Template: set.Template.Name + ":" + set.Template.Language, Actor: "system",
		State: store.OutboundQueued, NextAttemptAt: now, CreatedAt: now}
}

const templateSuffix = "/template"

// hasErrorCode reports whether errs, a WhatsApp errors array, holds code.
func hasErrorCode(errs string, code int) bool {
	var list []struct {
		Code int `json:"code"`
	}
	if json.Unmarshal([]byte(errs), &list) != nil {
		return false
	}
	for _, e := range list {
		if e.Code == code {
			return true
		}
	}
	return false
}

// InboundHook is intake's hook in the transaction of a group commit: it
// creates the "pending" intents of the new orders and joins the stored
// status callbacks to outbound rows, appending notification events for
// what the join changed. It reports whether the notifier has new work.
func (in *Intents) InboundHook(b *events.Builder, sinks []string) func(ctx context.Context, tx store.Tx, ds []*store.Inbound, res []store.InboundResult) (bool, error) {
	return func(ctx context.Context, tx store.Tx, ds []*store.Inbound, res []store.InboundResult) (bool, error) {
		work := false
		var sts []store.OutboundStatus
		for i, d := range ds {
			for j, mw := range d.Messages {
				if mw.Order == nil || i >= len(res) || j >= len(res[i].Messages) || res[i].Messages[j] != store.Stored {
					continue
				}
				if m := in.ForOrder(mw.Order, "", "system"); m != nil {
					created, err := tx.CreateOutbound(ctx, m)
					if err != nil {
						return false, err
					}
					work = work || created
				}
			}
			for _, sw := range d.Statuses {
				u := sw.Update
				if u == nil {
					continue
				}
				if store.OutboundIDFromRefs(sw.Refs) == "" && u.MessageID == "" {
					continue
				}
				sts = append(sts, store.OutboundStatus{Refs: sw.Refs, MessageID: u.MessageID, Status: u.Status, At: u.Timestamp, Errors: u.Errors})
			}
		}
		if len(sts) == 0 {
			return work, nil
		}
		chs, err := tx.ApplyOutboundStatuses(ctx, sts)
		if err != nil {
			return false, err
		}
		for _, ch := range chs {
			if !ch.BecameFailed {
				continue
			}
			if m := in.Retemplate(ch.Message); m != nil {
				created, err := tx.CreateOutbound(ctx, m)
				if err != nil {
					return false, err
				}
				work = work || created
			}
		}
		if b == nil {
			return work, nil
		}
		var evs []*store.Event
		for _, ch := range chs {
			for _, typ := range []string{EventSent, EventFailed} {
				if (typ == EventSent && !ch.BecameAccepted) || (typ == EventFailed && !ch.BecameFailed) {
					continue
				}
				e, err := Event(b, typ, ch.Message, ch.Message.UpdatedAt)
				if err != nil {
					return false, err
				}
				evs = append(evs, e)
			}
		}
		if len(evs) > 0 {
			if err := tx.AppendEvents(ctx, store.AppendEventsParams{Events: evs, Sinks: sinks}); err != nil {
				return false, err
			}
		}
		return work, nil
	}
}
