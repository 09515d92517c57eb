package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
	"github.com/waorders/waorders/money"
)

// OrderReview serves POST /v1/orders/{id}/review: resolve an order in
// needs_review (correct lines, accept, or reject with a reason),
// optionally only from the version in If-Match, as the status change.
func (h *Handler) OrderReview(w http.ResponseWriter, r *http.Request) error {
	var req wire.ReviewRequest
	ifVersion, err := readOrderChange(w, r, &req, `{"action": "correct", "lines": [{"index": 1, "quantity": 1, "price": "500.00"}], "note": "..."}`)
	if err != nil {
		return err
	}
	if err := checkNoteLen("note", req.Note); err != nil {
		return err
	}
	p := store.ReviewOrderParams{ID: r.PathValue("id"), Action: req.Action, Note: req.Note,
		Actor: actor(r.Header.Get("X-Actor")), IfVersion: ifVersion}
	for _, l := range req.Lines {
		p.Lines = append(p.Lines, store.LineCorrection{Index: l.Index, Quantity: l.Quantity, Price: l.Price, Currency: l.Currency})
	}
	// The review's note is the team's, not the customer's: an order it
	// makes pending gets the notification of pending without it.
	o, err := h.changeOrder(r.Context(), "", p.Actor, func(ctx context.Context, tx store.OrdersTx) (*waorders.Order, error) {
		return tx.ReviewOrder(ctx, p)
	})
	if err != nil {
		return err
	}
	return writeOrder(w, o)
}

// OrderRefund serves POST /v1/orders/{id}/refunds: record money paid back
// (per currency, partial allowed), optionally only from the version in
// If-Match.
func (h *Handler) OrderRefund(w http.ResponseWriter, r *http.Request) error {
	var req wire.RefundRequest
	ifVersion, err := readOrderChange(w, r, &req, `{"amounts": [{"currency": "INR", "amount": "500.00"}], "reason": "..."}`)
	if err != nil {
		return err
	}
	if err := checkNoteLen("reason", req.Reason); err != nil {
		return err
	}
	p := store.RefundOrderParams{ID: r.PathValue("id"), Reason: req.Reason, Actor: actor(r.Header.Get("X-Actor")), IfVersion: ifVersion}
	for i, a := range req.Amounts {
		amt, err := money.Parse(a.Amount, a.Currency)
		if err != nil {
			return waorders.Errorf(waorders.CodeInvalid, "amounts[%d]: %q %s: %v", i, httpx.Clip(a.Amount, 40), httpx.Clip(a.Currency, 8), err)
		}
		p.Amounts = append(p.Amounts, amt)
	}
	o, err := h.changeOrder(r.Context(), "", p.Actor, func(ctx context.Context, tx store.OrdersTx) (*waorders.Order, error) {
		return tx.RefundOrder(ctx, p)
	})
	if err != nil {
		return err
	}
	return writeOrder(w, o)
}

// readBody reads one JSON object into v, refusing unknown fields;
// example is shown when the body is not what is expected.
func readBody(w http.ResponseWriter, r *http.Request, v any, example string) error {
	if r.Header.Get("Content-Type") != "" {
		if err := httpx.CheckJSON(r); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxStatusBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return waorders.Errorf(waorders.CodeInvalid, "the body is empty; send %s", example)
		}
		return waorders.Wrap(waorders.CodeInvalid, err, "the body is not valid JSON of the form "+example+": "+jsonProblem(err))
	}
	if dec.More() {
		return waorders.Errorf(waorders.CodeInvalid, "the body holds more than one JSON value; send one object")
	}
	return nil
}
