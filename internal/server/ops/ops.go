// Package ops serves the operator's endpoints: GET /healthz (the process
// answers), GET /readyz (storage answers and accepts writes) and GET
// /metrics (Prometheus). internal/server/routes.go mounts them without
// authentication.
package ops

import (
	"context"
	"net/http"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server/httpx"
)

// Handler serves the operations endpoints.
type Handler struct {
	// Ping checks that storage answers and accepts writes (store.Store.Ping).
	Ping    func(ctx context.Context) error
	Metrics *metrics.Metrics
	// Writes, when set, makes /readyz not ready after a failed commit.
	Writes *Writes
}

// Healthz serves GET /healthz.
func (h *Handler) Healthz(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// Readyz serves GET /readyz: ready when storage answers and accepts writes
// within 2 seconds and, with Writes, no recent commit failed (see Writes);
// else 503 with Retry-After, so a load balancer stops sending callbacks
// that could not be stored.
func (h *Handler) Readyz(w http.ResponseWriter, r *http.Request) error {
	if h.Writes != nil {
		if err := h.Writes.Failing(); err != nil {
			return waorders.Wrap(waorders.CodeUnavailable, err, "storage is not taking writes: a commit failed")
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.Ping(ctx); err != nil {
		return waorders.Wrap(waorders.CodeUnavailable, err, "storage is not writable")
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// MetricsHandler serves GET /metrics in the Prometheus exposition format.
func (h *Handler) MetricsHandler() http.Handler { return h.Metrics.Handler() }
