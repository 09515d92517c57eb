package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/notify"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// NotifyAPI is what the notification and outbound resources need; nil in
// Handler turns them off (and GET /v1/orders/{id} shows no notifications).
type NotifyAPI struct {
	Outbound store.Outbound
	Settings *notify.SettingsSource
	Intents  *notify.Intents
	// Tx runs a status change and its notification intent in one
	// transaction (when the event log is off).
	Tx interface {
		InTx(context.Context, func(store.Tx) error) error
	}
	// Numbers are the configured sending numbers, shown without keys.
	Numbers []wire.NotifyNumber
	// Wake tells the notifier there is work (may be nil).
	Wake func()
	Now  func() time.Time
}

func (n *NotifyAPI) now() time.Time {
	if n.Now == nil {
		return time.Now().UTC()
	}
	return n.Now().UTC()
}

func (n *NotifyAPI) wake() {
	if n.Wake != nil {
		n.Wake()
	}
}

// intent adds the notification intent of a status change to its
// transaction; it reports whether it created one.
func (h *Handler) intent(ctx context.Context, tx store.Tx, o *waorders.Order, note, actor string) (bool, error) {
	if h.Notify == nil {
		return false, nil
	}
	m := h.Notify.Intents.ForOrder(o, note, actor)
	if m == nil {
		return false, nil
	}
	return tx.CreateOutbound(ctx, m)
}

func (h *Handler) notifySettings(ctx context.Context) (wire.NotifySettings, error) {
	n := h.Notify
	s := n.Settings.Get()
	v := wire.NotifySettings{Statuses: map[string]wire.NotifyStatus{}, Numbers: n.Numbers, Paused: []wire.SenderPause{}}
	if v.Numbers == nil {
		v.Numbers = []wire.NotifyNumber{}
	}
	for st, c := range s.Statuses {
		ws := wire.NotifyStatus{Enabled: c.Enabled, Text: c.Text, DefaultText: c.TextFor(st)}
		if t := c.Template; t != nil {
			ws.Template = &wire.NotifyTemplate{Name: t.Name, Language: t.Language, Params: t.Params}
		}
		v.Statuses[string(st)] = ws
	}
	ps, err := n.Outbound.PausedSenders(ctx, n.now())
	if err != nil {
		return v, err
	}
	for _, p := range ps {
		wp := wire.SenderPause{PhoneNumberID: p.PhoneNumberID, Reason: p.Reason, PausedAt: p.PausedAt}
		if !p.Until.IsZero() {
			u := p.Until
			wp.Until = &u
		}
		v.Paused = append(v.Paused, wp)
	}
	return v, nil
}

// NotificationsGet serves GET /v1/notifications: per order status whether
// it notifies and with which text and template, the sending numbers
// (never their keys) and the paused ones.
func (h *Handler) NotificationsGet(w http.ResponseWriter, r *http.Request) error {
	v, err := h.notifySettings(r.Context())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

// NotificationsPut serves PUT /v1/notifications: the statuses' settings,
// replaced as a whole and stored (every instance follows within seconds).
func (h *Handler) NotificationsPut(w http.ResponseWriter, r *http.Request) error {
	var req wire.NotifySettingsRequest
	if err := readJSON(w, r, &req, false); err != nil {
		return err
	}
	s := notify.Settings{Statuses: map[waorders.OrderStatus]notify.StatusSetting{}}
	for st, c := range req.Statuses {
		ns := notify.StatusSetting{Enabled: c.Enabled, Text: c.Text}
		if c.Template != nil {
			ns.Template = &notify.TemplateSetting{Name: c.Template.Name, Language: c.Template.Language, Params: c.Template.Params}
		}
		s.Statuses[waorders.OrderStatus(st)] = ns
	}
	if err := h.Notify.Settings.Put(r.Context(), s, h.Notify.now()); err != nil {
		return err
	}
	return h.NotificationsGet(w, r)
}

// NotificationsResume serves POST /v1/notifications/senders/{phone_number_id}/resume:
// an operator has fixed what paused the number (credentials, balance).
func (h *Handler) NotificationsResume(w http.ResponseWriter, r *http.Request) error {
	if err := h.Notify.Outbound.ResumeSender(r.Context(), r.PathValue("phone_number_id")); err != nil {
		return err
	}
	h.Notify.wake()
	return h.NotificationsGet(w, r)
}

// OutboundList serves GET /v1/outbound.
func (h *Handler) OutboundList(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("order_id", "customer", "state", "kind", "cursor", "limit")
	p := store.ListOutboundParams{OrderID: q.Str("order_id"), Cursor: q.Str("cursor"), Limit: limit(q)}
	if c := strings.TrimPrefix(q.Str("customer"), "+"); c != "" {
		p.CustomerKeys = []string{c}
	}
	p.State = q.Str("state")
	if p.State != "" && !store.ValidOutboundState(p.State) {
		q.Fail("state %q: use one of %s", p.State, strings.Join(store.OutboundStates, ", "))
	}
	p.Kind = q.Str("kind")
	if p.Kind != "" && p.Kind != store.OutboundNotification && p.Kind != store.OutboundStaff {
		q.Fail("kind %q: use notification or staff", p.Kind)
	}
	if err := q.Err(); err != nil {
		return err
	}
	if len(p.CustomerKeys) > 0 {
		if keys, err := h.customerKeys(r.Context(), p.CustomerKeys[0]); err == nil {
			p.CustomerKeys = keys
		}
	}
	page, err := h.Notify.Outbound.ListOutbound(r.Context(), p)
	if err != nil {
		return err
	}
	v := wire.OutboundList{Outbound: make([]wire.Outbound, len(page.Messages)), NextCursor: page.NextCursor}
	for i, m := range page.Messages {
		v.Outbound[i] = wire.NewOutbound(m)
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

// OutboundGet serves GET /v1/outbound/{id}.
func (h *Handler) OutboundGet(w http.ResponseWriter, r *http.Request) error {
	m, err := h.Notify.Outbound.GetOutbound(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, wire.NewOutbound(m))
	return nil
}

// customerKeys returns every identifier of the customer id names.
func (h *Handler) customerKeys(ctx context.Context, id string) ([]string, error) {
	c, err := h.Customers.GetCustomer(ctx, id)
	if err != nil {
		return nil, err
	}
	keys := []string{id}
	for _, x := range c.Identifiers {
		if !slices.Contains(keys, x.Value) {
			keys = append(keys, x.Value)
		}
	}
	return keys, nil
}

// CustomerMessageSend serves POST /v1/customers/{id}/messages: a staff
// message to the customer, recorded and sent like a notification (the
// window rule: a text inside the 24-hour window; outside it only the
// template, if given, else skipped: window_closed). It answers 202 with
// the outbound message; its fate shows at GET /v1/outbound/{id}.
func (h *Handler) CustomerMessageSend(w http.ResponseWriter, r *http.Request) error {
	var req wire.StaffMessageRequest
	if err := readJSON(w, r, &req, false); err != nil {
		return err
	}
	req.Text = strings.TrimSpace(req.Text)
	if req.Text == "" && req.Template == "" {
		return waorders.Errorf(waorders.CodeInvalid, "give text (sent inside the 24-hour window) or template (name or name:language), or both")
	}
	if len([]rune(req.Text)) > 4096 {
		return waorders.Errorf(waorders.CodeInvalid, "text is longer than 4096 characters")
	}
	ctx := r.Context()
	id := strings.TrimPrefix(r.PathValue("id"), "+")
	c, err := h.Customers.GetCustomer(ctx, id)
	if err != nil {
		return err
	}
	if c.WaID == "" {
		return waorders.Errorf(waorders.CodeInvalid, "customer %q has no phone number to send to", id)
	}
	phone := req.PhoneNumberID
	replyTo := ""
	if req.OrderID != "" {
		o, err := h.Orders.GetOrder(ctx, req.OrderID)
		if err != nil {
			return err
		}
		replyTo = o.ID
		if phone == "" {
			phone = o.Business.PhoneNumberID
		}
	}
	if phone == "" {
		page, err := h.Messages.ListMessages(ctx, store.ListMessagesParams{Customer: id, Direction: "inbound", Limit: 1})
		if err != nil {
			return err
		}
		if len(page.Messages) == 0 {
			return waorders.Errorf(waorders.CodeInvalid, "customer %q never wrote to a business number; give phone_number_id", id)
		}
		phone = page.Messages[0].Business.PhoneNumberID
	}
	if h.Notify.Intents.HasSender != nil && !h.Notify.Intents.HasSender(phone) {
		return waorders.Errorf(waorders.CodeInvalid, "no Kaleyra credentials for phone_number_id %q", phone)
	}
	now := h.Notify.now()
	m := &store.OutboundMessage{ID: h.Notify.Intents.NewID(), Kind: store.OutboundStaff, OrderID: req.OrderID,
		PhoneNumberID: phone, To: c.WaID, CustomerKey: c.ID, ReplyTo: replyTo, Text: req.Text, Template: req.Template,
		Actor: actor(r.Header.Get("X-Actor")), State: store.OutboundQueued, NextAttemptAt: now, CreatedAt: now}
	if _, err := h.Notify.Outbound.CreateOutbound(ctx, m); err != nil {
		return err
	}
	h.Notify.wake()
	got, err := h.Notify.Outbound.GetOutbound(ctx, m.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/outbound/"+m.ID)
	httpx.WriteJSON(w, http.StatusAccepted, wire.NewOutbound(got))
	return nil
}

// CustomerConversation serves GET /v1/customers/{id}/conversation: the
// customer's inbound messages and what waorders sent them, oldest first
// (the newest `limit` of them).
func (h *Handler) CustomerConversation(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("limit")
	n := limit(q)
	if err := q.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	id := strings.TrimPrefix(r.PathValue("id"), "+")
	keys, err := h.customerKeys(ctx, id)
	if err != nil {
		return err
	}
	in, err := h.Messages.ListMessages(ctx, store.ListMessagesParams{Customer: id, Limit: n})
	if err != nil {
		return err
	}
	var items []wire.ConversationItem
	for _, m := range in.Messages {
		items = append(items, wire.ConversationItem{Direction: string(m.Direction), At: m.SentAt.UTC(), ID: m.ID, Type: m.Type, Summary: m.Summary})
	}
	if h.Notify != nil {
		out, err := h.Notify.Outbound.ListOutbound(ctx, store.ListOutboundParams{CustomerKeys: keys, Limit: n})
		if err != nil {
			return err
		}
		for _, m := range out.Messages {
			at := m.CreatedAt
			if !m.AcceptedAt.IsZero() {
				at = m.AcceptedAt
			}
			summary := m.Text
			if m.Kind == store.OutboundNotification {
				summary = "notification: order " + string(m.OrderStatus)
			}
			items = append(items, wire.ConversationItem{Direction: "outbound", At: at.UTC(), ID: m.ID, Type: m.Kind,
				Summary: summary, State: m.State, Delivery: m.DeliveryState, OrderID: m.OrderID})
		}
	}
	slices.SortStableFunc(items, func(a, b wire.ConversationItem) int { return a.At.Compare(b.At) })
	if len(items) > n {
		items = items[len(items)-n:]
	}
	if items == nil {
		items = []wire.ConversationItem{}
	}
	httpx.WriteJSON(w, http.StatusOK, wire.Conversation{Customer: id, Messages: items})
	return nil
}

// txOr returns the transaction runner of the event log, else the
// notifier's (n may be nil when the event log is on).
func (n *NotifyAPI) txOr(ev *EventsAPI) interface {
	InTx(context.Context, func(store.Tx) error) error
} {
	if ev != nil && ev.Tx != nil {
		return ev.Tx
	}
	return n.Tx
}
