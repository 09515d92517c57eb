package ui

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// The live stream reads new orders from storage by a cursor, the arrival
// time (received_at, unix microseconds) of the newest order it announced,
// so any number of instances on one PostgreSQL database serve it without a
// broker, and a browser that reconnects (EventSource sends Last-Event-ID)
// misses nothing. The orders area lists by the order's own time, so each
// poll reads orders timed within lookback before the cursor and keeps those
// that arrived after it; an order whose message is older than lookback when
// it arrives is not announced (it shows on reload). An order received just
// before one already announced may commit after it (another writer, the
// next group commit): orders within grace before the cursor are read again
// and announced unless this stream announced them already, and the page
// counts each order id once.
const (
	lookback  = 10 * time.Minute
	grace     = 5 * time.Second
	heartbeat = 15 * time.Second
	pollPages = 4
)

// Events serves GET /ui/events (text/event-stream): event "order" with
// data {"id": ...} and id the cursor, as orders arrive.
func (h *Handler) Events(w http.ResponseWriter, r *http.Request) {
	after := h.cfg.Now().UnixMicro()
	for _, v := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("after")} {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			after = n
			break
		}
	}
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
	poll := time.NewTicker(h.cfg.Poll)
	defer poll.Stop()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	seen := map[string]int64{}
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
		case <-poll.C:
			orders, err := h.arrivals(r, after, seen)
			if err != nil {
				h.cfg.Log.Warn("live stream: read orders", "err", err)
				continue // storage may come back; the browser keeps its stream
			}
			for _, o := range orders {
				at := o.ReceivedAt.UnixMicro()
				after = max(after, at)
				seen[o.ID] = at
				data, _ := json.Marshal(map[string]string{"id": o.ID})
				if _, err := fmt.Fprintf(w, "event: order\nid: %d\ndata: %s\n\n", after, data); err != nil {
					return
				}
			}
			if len(orders) > 0 && rc.Flush() != nil {
				return
			}
			for id, at := range seen {
				if at < after-grace.Microseconds() {
					delete(seen, id)
				}
			}
		}
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
