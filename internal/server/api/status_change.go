package api

import (
	"context"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// UpdateOrderStatus changes an order's status as POST
// /v1/orders/{id}/status does: with the event log on, its
// order.status_changed event is appended in the same transaction. Other
// surfaces (the dashboard) change statuses through it, so webhooks and
// live pages hear of every change.
func (h *Handler) UpdateOrderStatus(ctx context.Context, p store.UpdateOrderStatusParams) (*waorders.Order, error) {
	return h.updateOrderStatus(ctx, p)
}
