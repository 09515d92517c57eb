package api

import (
	"net/http"

	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// CustomerGet serves GET /v1/customers/{wa_id}: the customer's totals and
// newest orders.
func (h *Handler) CustomerGet(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("limit")
	n := limit(q)
	if err := q.Err(); err != nil {
		return err
	}
	waID := r.PathValue("wa_id")
	c, err := h.Customers.GetCustomer(r.Context(), waID)
	if err != nil {
		return err
	}
	page, err := h.Orders.ListOrders(r.Context(), store.ListOrdersParams{Customer: waID, Limit: n})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, wire.NewCustomerSummary(c, wire.NewOrderList(page.Orders, page.NextCursor)))
	return nil
}
