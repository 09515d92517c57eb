// Package events builds the entries of the event log from what a
// transaction stored: the id ("evt_" and a time-ordered ULID), the type,
// and the payload, Standard Webhooks' envelope
// {"type","timestamp","data"} whose data is the API's JSON of the record
// (for an order, exactly GET /v1/orders/{id} at that version). Callers
// append the events through the store.Tx of the change they describe
// (intake's group commit, the API's status change), so an event exists
// exactly when its change does, and a duplicate that stored nothing makes
// none.
package events

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// IDs makes event ids: "evt_" and a ULID (48 bits of milliseconds, 80
// random bits, Crockford base32), monotonic within the process: an id made
// in the same millisecond as the previous one is the previous one plus 1,
// so ids of one process sort in the order they were made. It is safe for
// concurrent use. The zero value uses time.Now and crypto/rand.
type IDs struct {
	Now  func() time.Time
	Rand io.Reader

	mu       sync.Mutex
	lastMS   uint64
	lastRand [10]byte
}

// Default is the process's id source.
var Default = &IDs{}

// New returns a new event id.
func (g *IDs) New() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	ms := uint64(now().UnixMilli())
	if ms <= g.lastMS {
		ms = g.lastMS
		incr(&g.lastRand)
	} else {
		r := g.Rand
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, g.lastRand[:]); err != nil {
			panic(fmt.Sprintf("events: random source failed: %v", err))
		}
		g.lastRand[0] &= 0x7f // room to increment without overflow in practice
		g.lastMS = ms
	}
	var b [16]byte
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	copy(b[6:], g.lastRand[:])
	return "evt_" + encode(b)
}

func incr(b *[10]byte) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return
		}
	}
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// encode writes 128 bits as 26 Crockford base32 characters (the first
// carries 3 bits), so the text sorts as the bytes do.
func encode(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// Envelope is the payload of every event.
type Envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Payload encodes the envelope as the API encodes its answers (HTML
// characters escaped), without the trailing newline.
func Payload(typ string, at time.Time, data any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(Envelope{Type: typ, Timestamp: at.UTC(), Data: data}); err != nil {
		return nil, fmt.Errorf("event %s: %w", typ, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Builder makes events with ids from IDs (Default when nil).
type Builder struct {
	IDs *IDs
}

func (b *Builder) ids() *IDs {
	if b == nil || b.IDs == nil {
		return Default
	}
	return b.IDs
}

func (b *Builder) event(typ, orderID, messageID, phone string, at time.Time, data any) (*store.Event, error) {
	at = at.UTC().Truncate(time.Microsecond)
	p, err := Payload(typ, at, data)
	if err != nil {
		return nil, err
	}
	return &store.Event{ID: b.ids().New(), Type: typ, OrderID: orderID, MessageID: messageID, PhoneNumberID: phone,
		OccurredAt: at, Payload: p}, nil
}

// FromInbound returns the events of what WriteInbound stored, given the
// Inbounds and their results in the same order: order.created for each new
// order, message.received for each new inbound message that is not an
// order, message.status for each new status that advanced its message's state, quarantine.added for each new
// quarantine entry. Duplicates make none. now stands for received times the
// callbacks left empty, as the store's clock did.
func (b *Builder) FromInbound(in []*store.Inbound, res []store.InboundResult, now time.Time) ([]*store.Event, error) {
	var out []*store.Event
	for i, d := range in {
		if i >= len(res) {
			break
		}
		r := res[i]
		received := d.Callback.ReceivedAt
		if received.IsZero() {
			received = now
		}
		for j, mw := range d.Messages {
			if j >= len(r.Messages) || r.Messages[j] != store.Stored {
				continue
			}
			m := mw.Message
			mReceived := received
			if !m.ReceivedAt.IsZero() {
				mReceived = m.ReceivedAt
			}
			var (
				e   *store.Event
				err error
			)
			switch {
			case mw.Order != nil:
				o := StoredOrder(m.ID, mw.Order, mReceived)
				e, err = b.event(store.EventOrderCreated, o.ID, m.ID, o.Business.PhoneNumberID, o.ReceivedAt, wire.NewOrder(o))
			case m.Direction == waorders.DirectionOutbound:
				continue // an echo of what the business sent: not received
			default:
				mm := *m
				mm.ReceivedAt = mReceived.UTC().Truncate(time.Microsecond)
				mm.Raw = nil
				e, err = b.event(store.EventMessageReceived, "", m.ID, m.Business.PhoneNumberID, mm.ReceivedAt, wire.NewMessage(&mm, false))
			}
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		for j, sw := range d.Statuses {
			// Only a status that moved the message's state is news: a
			// late "sent" after "read" is stored, but tells nothing.
			if j >= len(r.Statuses) || r.Statuses[j] != store.Stored || j >= len(r.Advanced) || !r.Advanced[j] {
				continue
			}
			u := *sw.Update
			if u.ReceivedAt.IsZero() {
				u.ReceivedAt = received
			}
			u.ReceivedAt = u.ReceivedAt.UTC().Truncate(time.Microsecond)
			u.Raw = nil
			e, err := b.event(store.EventMessageStatus, "", u.MessageID, "", u.ReceivedAt, wire.NewStatus(&u))
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		for j, q := range d.Quarantine {
			if j >= len(r.Quarantine) || r.Quarantine[j].Outcome != store.Stored {
				continue
			}
			qq := *q
			qq.ID = r.Quarantine[j].ID
			if qq.ReceivedAt.IsZero() {
				qq.ReceivedAt = received
			}
			qq.ReceivedAt = qq.ReceivedAt.UTC().Truncate(time.Microsecond)
			e, err := b.event(store.EventQuarantineAdded, "", q.MessageID, "", qq.ReceivedAt, wire.NewQuarantine(&qq, false))
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// StoredOrder returns the order as the store returns it right after
// writing it: pending at version 1, times in UTC to the microsecond, and
// the derived creation entry as its history.
func StoredOrder(id string, o *waorders.Order, received time.Time) *waorders.Order {
	c := *o
	c.ID = id
	c.Status = waorders.OrderPending
	c.Version = 1
	if c.ReceivedAt.IsZero() {
		c.ReceivedAt = received
	}
	c.ReceivedAt = c.ReceivedAt.UTC().Truncate(time.Microsecond)
	c.OrderedAt = c.OrderedAt.UTC().Truncate(time.Microsecond)
	if len(c.Totals) == 0 {
		if t, err := waorders.ComputeTotals(c.Items); err == nil {
			c.Totals = t
		}
	}
	c.History = store.WithCreation(&c, nil, 0)
	return &c
}

// StatusChanged returns the order.status_changed event of o, as the status
// change returned it (its history's last entry names the actor).
func (b *Builder) StatusChanged(o *waorders.Order) (*store.Event, error) {
	at := o.ReceivedAt
	if n := len(o.History); n > 0 {
		at = o.History[n-1].At
	}
	return b.event(store.EventOrderStatusChanged, o.ID, o.ID, o.Business.PhoneNumberID, at, wire.NewOrder(o))
}
