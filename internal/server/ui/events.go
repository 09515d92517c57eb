package ui

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// The live stream. With the event log on (as serve runs), it reads the
// event log by a cursor, the id of the last event it sent: event ids are
// "evt_" and a ULID whose first 48 bits are the milliseconds it was made,
// so any number of instances on one PostgreSQL database serve it without a
// broker, and a browser that reconnects (EventSource sends Last-Event-ID)
// misses nothing, across a restart too. Each poll reads the newest events
// down to grace before the cursor: an event made a little before one
// already sent may commit after it (another instance, the next group
// commit), so those are sent unless this stream sent them already. It
// sends "order" for order.created ({"id"}) and "status" for
// order.status_changed ({"id","status","version"}); the page ignores
// what it shows already.
//
// Without the event log it polls the orders area by arrival time
// (received_at, unix microseconds) the same way; an order whose message
// is older than lookback when it arrives is not announced (it shows on
// reload).
const (
	lookback  = 10 * time.Minute
	grace     = 5 * time.Second
	heartbeat = 15 * time.Second
	pollPages = 4
)

// Events serves GET /ui/events (text/event-stream).
func (h *Handler) Events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the server's WriteTimeout would cut the stream
	secure(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 3000\n: live\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	var poll func() (sent bool, err error)
	if h.cfg.Events != nil {
		poll = h.logStream(w, r)
	} else {
		poll = h.ordersStream(w, r)
	}
	tick := time.NewTicker(h.cfg.Poll)
	defer tick.Stop()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-tick.C:
			sent, err := poll()
			if errors.Is(err, errGone) {
				return
			}
			if err != nil {
				h.cfg.Log.Warn("live stream: read", "err", err)
				continue // storage may come back; the browser keeps its stream
			}
			if sent && rc.Flush() != nil {
				return
			}
		}
	}
}

// errGone: the browser went away while the stream wrote.
var errGone = errors.New("live stream: the client is gone")

// cursorOf is where a stream starts: Last-Event-ID (a reconnect), else
// the page's after parameter, else now.
func cursorOf(r *http.Request) string {
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		return v
	}
	return r.URL.Query().Get("after")
}

// EventCursor is the live cursor of a page rendered at t: before every
// event made after t.
func EventCursor(t time.Time) string {
	ms := uint64(t.UnixMilli())
	var b [10]byte
	for i := 9; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	return "evt_" + string(b[:]) + "0000000000000000"
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// eventTime is the time an event id was made (zero if it is not one).
func eventTime(id string) time.Time {
	s, ok := strings.CutPrefix(id, "evt_")
	if !ok || len(s) < 10 {
		return time.Time{}
	}
	var ms int64
	for _, c := range s[:10] {
		i := strings.IndexRune(crockford, c)
		if i < 0 {
			return time.Time{}
		}
		ms = ms<<5 | int64(i)
	}
	return time.UnixMilli(ms)
}

// logStream polls the event log.
func (h *Handler) logStream(w http.ResponseWriter, r *http.Request) func() (bool, error) {
	after := cursorOf(r)
	if eventTime(after).IsZero() {
		after = EventCursor(h.cfg.Now())
	}
	seen := map[string]bool{}
	return func() (bool, error) {
		floor := EventCursor(eventTime(after).Add(-grace))
		var fresh []*store.Event
		// A small first page: most polls find nothing new.
		p := store.ListEventsParams{Limit: 20}
	pages:
		for range pollPages {
			page, err := h.cfg.Events.ListEvents(r.Context(), p)
			if err != nil {
				return false, err
			}
			for _, e := range page.Events {
				if e.ID <= floor {
					break pages
				}
				if !seen[e.ID] {
					fresh = append(fresh, e)
				}
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor, p.Limit = page.NextCursor, store.MaxLimit
		}
		slices.Reverse(fresh) // oldest first
		sent := false
		for _, e := range fresh {
			seen[e.ID] = true
			after = max(after, e.ID)
			name, data := liveEvent(e)
			if name == "" {
				continue
			}
			if _, err := fmt.Fprintf(w, "event: %s\nid: %s\ndata: %s\n\n", name, after, data); err != nil {
				return sent, errGone
			}
			sent = true
		}
		for id := range seen {
			if id <= floor {
				delete(seen, id)
			}
		}
		return sent, nil
	}
}

// liveEvent is what the page is told of an event ("" when nothing).
func liveEvent(e *store.Event) (string, []byte) {
	var env struct {
		Data struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			Version int64  `json:"version"`
		} `json:"data"`
	}
	switch e.Type {
	case store.EventOrderCreated:
		data, _ := json.Marshal(map[string]string{"id": e.OrderID})
		return "order", data
	case store.EventOrderStatusChanged:
		if json.Unmarshal(e.Payload, &env) != nil {
			return "", nil
		}
		data, _ := json.Marshal(map[string]any{"id": e.OrderID, "status": env.Data.Status, "version": env.Data.Version})
		return "status", data
	}
	return "", nil
}

// ordersStream polls the orders area by arrival time.
func (h *Handler) ordersStream(w http.ResponseWriter, r *http.Request) func() (bool, error) {
	after := h.cfg.Now().UnixMicro()
	if n, err := strconv.ParseInt(cursorOf(r), 10, 64); err == nil && n > 0 {
		after = n
	}
	seen := map[string]int64{}
	return func() (bool, error) {
		orders, err := h.arrivals(r, after, seen)
		if err != nil {
			return false, err
		}
		for _, o := range orders {
			at := o.ReceivedAt.UnixMicro()
			after = max(after, at)
			seen[o.ID] = at
			data, _ := json.Marshal(map[string]string{"id": o.ID})
			if _, err := fmt.Fprintf(w, "event: order\nid: %d\ndata: %s\n\n", after, data); err != nil {
				return false, errGone
			}
		}
		for id, at := range seen {
			if at < after-grace.Microseconds() {
				delete(seen, id)
			}
		}
		return len(orders) > 0, nil
	}
}

// arrivals returns the orders that arrived after the cursor (or within
// grace before it and not yet seen), oldest arrival first.
func (h *Handler) arrivals(r *http.Request, after int64, seen map[string]int64) ([]*waorders.Order, error) {
	from := after - grace.Microseconds()
	p := store.ListOrdersParams{Since: time.UnixMicro(from).Add(-lookback), Limit: store.MaxLimit}
	var out []*waorders.Order
	for range pollPages {
		page, err := h.cfg.Orders.ListOrders(r.Context(), p)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Orders {
			at := o.ReceivedAt.UnixMicro()
			if _, dup := seen[o.ID]; at > from && !dup {
				out = append(out, o)
			}
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	slices.SortFunc(out, func(a, b *waorders.Order) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}
