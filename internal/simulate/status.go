package simulate

import (
	"bytes"

	"github.com/waorders/waorders/callback"
)

// Bounds of the pool of outbound messages whose statuses are still to come,
// per market. A larger pool spreads one message's statuses further apart.
const (
	minOutbound = 16
	maxOutbound = 256
)

// buildStatuses writes a status callback. Kaleyra's envelope names one
// message at top level, so it carries one status; Meta's carries up to
// MessagesPerCallback.
func (g *Generator) buildStatuses(sh shape) Generated {
	mi := g.pickMarket()
	m := &markets[mi]
	cb := Generated{Kind: KindStatus, Envelope: callback.EnvelopeKaleyra}
	n := 1
	if sh == shapeMeta {
		cb.Envelope = callback.EnvelopeMeta
		n = g.opts.MessagesPerCallback
	}
	g.scratch.b, g.parts = g.scratch.b[:0], g.parts[:0]
	var first *outbound
	var firstEvent statusEvent
	for i := range n {
		ob, ev := g.nextStatus(mi, sh == shapeMeta)
		start := len(g.scratch.b)
		g.scratch.needComma = false
		g.writeStatus(&g.scratch, ob, ev, sh != shapeMeta)
		g.parts = append(g.parts, part{start: start, end: len(g.scratch.b), cust: ob.cust})
		cb.StatusKeys = append(cb.StatusKeys, StatusKey{MessageID: ob.id, Status: ev.status})
		if i == 0 {
			first, firstEvent = ob, ev
		}
	}

	w := &g.w
	w.b, w.needComma = w.b[:0], false
	if sh == shapeMeta {
		g.writeMetaEnvelope(m, func(w *jsonWriter, from, to int) {
			g.writeValue(w, m, "statuses", g.parts[from:to], false)
		})
	} else {
		g.openKaleyraEnvelope(m, "statuses", false)
		w.key("extra_info")
		w.open()
		w.field("trace_id", g.uuid())
		w.field("message_id", first.id)
		w.field("waba_id", m.wabaID)
		w.field("ref", first.refs[0])
		w.field("ref1", first.refs[1])
		w.field("ref2", first.refs[2])
		w.key("enable_url_tracking_body")
		w.boolean(false)
		w.key("enable_url_tracking_button")
		w.boolean(false)
		w.close()
		w.field("status", firstEvent.status)
		w.field("message_id", first.id)
		w.close()
	}
	cb.Body = bytes.Clone(w.b)
	return cb
}

// nextStatus returns the next status update of a random outbound message of
// market mi, starting a new outbound message when the pool is small.
func (g *Generator) nextStatus(mi int, meta bool) (*outbound, statusEvent) {
	pool := g.outbound[mi]
	if len(pool) < minOutbound || (len(pool) < maxOutbound && g.chance(3)) {
		pool = append(pool, g.newOutbound(mi, meta))
	}
	i := g.rnd.IntN(len(pool))
	ob := pool[i]
	ev := ob.pending[0]
	ob.pending = ob.pending[1:]
	if len(ob.pending) == 0 {
		pool[i] = pool[len(pool)-1]
		pool[len(pool)-1] = nil
		pool = pool[:len(pool)-1]
	}
	g.outbound[mi] = pool
	return ob, ev
}

// newOutbound starts an outbound message with the statuses it will get, in
// the order they will be delivered: usually in time order, sometimes not,
// and not always all of them.
func (g *Generator) newOutbound(mi int, meta bool) *outbound {
	ob := &outbound{
		id:     g.wamid(domainOutbound),
		convID: g.hex32(),
		cust:   pick(g, g.byMarket[mi]),
	}
	if !g.chance(4) {
		ob.refs = g.refs()
	}
	t := max(g.clock-int64(g.rnd.IntN(30)), 0)
	ev := func(status string, after int64) statusEvent {
		t += after
		return statusEvent{status: status, at: t}
	}
	delivered, read := 1+g.rnd.Int64N(5), 5+g.rnd.Int64N(600)
	switch r := g.rnd.IntN(100); {
	case r < 60:
		ob.pending = []statusEvent{ev("sent", 0), ev("delivered", delivered), ev("read", read)}
	case r < 75:
		ob.pending = []statusEvent{ev("sent", 0), ev("delivered", delivered)}
	case r < 82: // delivered skipped: read implies it
		ob.pending = []statusEvent{ev("sent", 0), ev("read", read)}
	case r < 88:
		ob.pending = []statusEvent{ev("failed", 0)}
	case r < 93:
		ob.pending = []statusEvent{ev("sent", 0), ev("failed", delivered)}
	default: // Kaleyra never handed it to Meta; Meta has no such status
		if meta {
			ob.pending = []statusEvent{ev("failed", 0)}
		} else {
			ob.pending = []statusEvent{ev("not-sent", 0)}
		}
	}
	if len(ob.pending) > 1 && g.chance(5) { // delivered out of order
		j := g.rnd.IntN(len(ob.pending) - 1)
		ob.pending[j], ob.pending[j+1] = ob.pending[j+1], ob.pending[j]
	}
	return ob
}

func (g *Generator) writeStatus(w *jsonWriter, ob *outbound, ev statusEvent, kaleyra bool) {
	c := &g.customers[ob.cust]
	w.open()
	// Kaleyra's sample shows a 32-hex statuses[].id beside the wamid in
	// message_id; a receiver must correlate on message_id.
	if kaleyra && g.chance(10) {
		w.field("id", ob.convID)
	} else {
		w.field("id", ob.id)
	}
	w.field("status", ev.status)
	w.field("timestamp", g.timestamp(ev.at))
	w.field("recipient_id", c.waID)
	if g.chance(10) {
		w.field("biz_opaque_callback_data", "order-confirmation")
	}
	switch ev.status {
	case "sent":
		if g.chance(2) {
			w.key("conversation")
			w.open()
			w.field("id", ob.convID)
			w.field("expiration_timestamp", g.timestamp(ev.at+86400))
			w.key("origin")
			w.open()
			w.field("type", "service")
			w.close()
			w.close()
		}
	case "delivered", "read":
		if g.chance(2) {
			model := "PMP"
			if kaleyra && g.chance(4) {
				model = "Conversation-Based Pricing"
			}
			w.key("pricing")
			w.open()
			w.key("billable")
			w.boolean(g.chance(2))
			w.field("pricing_model", model)
			w.field("type", pick(g, []string{"regular", "free_customer_service", "free_entry_point"}))
			w.field("category", pick(g, []string{"service", "utility", "marketing"}))
			w.close()
		}
	case "failed", "not-sent":
		f := pick(g, failures)
		w.key("errors")
		w.openArray()
		w.open()
		w.fieldNum("code", f.code)
		w.field("title", f.title)
		w.field("message", f.title)
		w.key("error_data")
		w.open()
		w.field("details", f.details)
		w.close()
		w.field("href", "/documentation/business-messaging/whatsapp/support/error-codes")
		w.close()
		w.closeArray()
	}
	w.close()
}
