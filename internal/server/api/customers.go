package api

import (
	"net/http"
	"strings"

	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// CustomerGet serves GET /v1/customers/{id}: the customer that id (a phone
// number, a BSUID, a parent BSUID or a username) identifies, with every
// identifier it was seen with, its totals over all of them and its newest
// orders.
func (h *Handler) CustomerGet(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("limit")
	n := limit(q)
	if err := q.Err(); err != nil {
		return err
	}
	id := strings.TrimPrefix(r.PathValue("id"), "+")
	c, err := h.Customers.GetCustomer(r.Context(), id)
	if err != nil {
		return err
	}
	page, err := h.Orders.ListOrders(r.Context(), store.ListOrdersParams{Customer: id, Limit: n})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, wire.NewCustomerSummary(c, wire.NewOrderList(page.Orders, page.NextCursor)))
	return nil
}
