package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// The webhook pages (when the event log is on): staff see the endpoints,
// their backlog and recent failures; an admin enables, disables and
// replays dead deliveries (the role table of issue 16: admin manages
// webhooks). Replay makes dead deliveries pending again, as
// POST /v1/webhooks/{id}/replay with status dead does.

type hookRow struct {
	Hook  *store.Webhook
	Stats store.SinkStats
}

type webhooksData struct {
	Hooks []hookRow
	Flash string
}

// stats returns the backlog of every sink by name.
func (h *Handler) stats(r *http.Request) (map[string]store.SinkStats, error) {
	all, err := h.cfg.Relay.DeliveryStats(r.Context())
	if err != nil {
		return nil, err
	}
	by := map[string]store.SinkStats{}
	for _, s := range all {
		by[s.Sink] = s
	}
	return by, nil
}

// Webhooks serves GET /ui/webhooks.
func (h *Handler) Webhooks(w http.ResponseWriter, r *http.Request) error {
	hooks, err := h.cfg.Webhooks.ListWebhooks(r.Context())
	if err != nil {
		return err
	}
	by, err := h.stats(r)
	if err != nil {
		return err
	}
	var d webhooksData
	for _, hk := range hooks {
		d.Hooks = append(d.Hooks, hookRow{Hook: hk, Stats: by[hk.ID]})
	}
	h.render(w, r, http.StatusOK, "webhooks", view{Title: "Webhooks", Nav: "webhooks", Data: d})
	return nil
}

type webhookData struct {
	Hook     *store.Webhook
	Stats    store.SinkStats
	Attempts []*store.Attempt
	Failures int
	Dead     []*store.Delivery
	DeadMore bool
	Next     string
	Flash    string
}

// Webhook serves GET /ui/webhooks/{id}: state, backlog, dead deliveries
// and the latest attempts (failures marked).
func (h *Handler) Webhook(w http.ResponseWriter, r *http.Request) error {
	hk, err := h.cfg.Webhooks.GetWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	by, err := h.stats(r)
	if err != nil {
		return err
	}
	d := webhookData{Hook: hk, Stats: by[hk.ID]}
	att, err := h.cfg.Webhooks.ListAttempts(r.Context(), store.ListAttemptsParams{Sink: hk.ID, Cursor: r.URL.Query().Get("cursor"), Limit: store.DefaultLimit})
	if err != nil {
		return err
	}
	d.Attempts = att.Attempts
	for _, a := range att.Attempts {
		if a.Result != "delivered" {
			d.Failures++
		}
	}
	if att.NextCursor != "" {
		d.Next = "/ui/webhooks/" + url.PathEscape(hk.ID) + "?" + url.Values{"cursor": {att.NextCursor}}.Encode()
	}
	const deadShown = 20
	dead, err := h.cfg.Relay.ListDeliveries(r.Context(), store.ListDeliveriesParams{Sink: hk.ID, State: store.DeliveryDead, Limit: deadShown + 1})
	if err != nil {
		return err
	}
	if len(dead) > deadShown {
		dead, d.DeadMore = dead[:deadShown], true
	}
	d.Dead = dead
	switch q := r.URL.Query(); {
	case q.Has("replayed"):
		n, _ := strconv.Atoi(q.Get("replayed"))
		d.Flash = "Replay asked: " + strconv.Itoa(n) + " dead deliveries are pending again."
	case q.Has("enabled"):
		d.Flash = "Endpoint enabled; deliveries resume."
	case q.Has("disabled"):
		d.Flash = "Endpoint disabled; events wait for it until it is enabled."
	}
	h.render(w, r, http.StatusOK, "webhook", view{Title: "Webhook " + hk.ID, Nav: "webhooks", Data: d})
	return nil
}

// WebhookChange serves POST /ui/webhooks/{id} (admin; field action:
// enable, disable or replay-dead).
func (h *Handler) WebhookChange(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := h.cfg.Webhooks.GetWebhook(r.Context(), id); err != nil {
		return err
	}
	now := h.cfg.Now()
	var outcome string
	switch a := r.PostFormValue("action"); a {
	case "enable", "disable":
		on := a == "enable"
		p := store.UpdateWebhookParams{ID: id, Enabled: &on, Now: now}
		if !on {
			reason := "disabled by " + Actor(r) + " in the dashboard"
			p.DisabledReason = &reason
		}
		if _, err := h.cfg.Webhooks.UpdateWebhook(r.Context(), p); err != nil {
			return err
		}
		outcome = a + "d=1"
	case "replay-dead":
		n, err := h.cfg.Relay.Redeliver(r.Context(), store.RedeliverParams{Sinks: []string{id}, State: store.DeliveryDead, Now: now})
		if err != nil {
			return err
		}
		outcome = "replayed=" + strconv.Itoa(n)
	default:
		return waorders.Errorf(waorders.CodeInvalid, "unknown action; use enable, disable or replay-dead")
	}
	if h.cfg.Wake != nil {
		h.cfg.Wake()
	}
	h.cfg.Log.Info("webhook changed from the dashboard", "webhook", id, "action", r.PostFormValue("action"), "user", Actor(r))
	http.Redirect(w, r, "/ui/webhooks/"+url.PathEscape(id)+"?"+outcome, http.StatusSeeOther)
	return nil
}

// since is how long ago t was, rounded for people.
func since(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}
