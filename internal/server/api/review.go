package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

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
	ifVersion, err := parseIfMatch(r.Header.Values("If-Match"))
	if err != nil {
		return err
	}
	var req wire.ReviewRequest
	if err := readBody(w, r, &req, `{"action": "correct", "lines": [{"index": 1, "quantity": 1, "price": "500.00"}], "note": "..."}`); err != nil {
		return err
	}
	if utf8.RuneCountInString(req.Note) > maxNoteLen {
		return waorders.Errorf(waorders.CodeInvalid, "note is longer than %d characters", maxNoteLen)
	}
	p := store.ReviewOrderParams{ID: r.PathValue("id"), Action: req.Action, Note: req.Note,
		Actor: actor(r.Header.Get("X-Actor")), IfVersion: ifVersion}
	for _, l := range req.Lines {
		p.Lines = append(p.Lines, store.LineCorrection{Index: l.Index, Quantity: l.Quantity, Price: l.Price, Currency: l.Currency})
	}
	o, err := h.Orders.ReviewOrder(r.Context(), p)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(o.Version))
	httpx.WriteJSON(w, http.StatusOK, wire.NewOrder(o))
	return nil
}

// OrderRefund serves POST /v1/orders/{id}/refunds: record money paid back
// (per currency, partial allowed), optionally only from the version in
// If-Match.
func (h *Handler) OrderRefund(w http.ResponseWriter, r *http.Request) error {
	ifVersion, err := parseIfMatch(r.Header.Values("If-Match"))
	if err != nil {
		return err
	}
	var req wire.RefundRequest
	if err := readBody(w, r, &req, `{"amounts": [{"currency": "INR", "amount": "500.00"}], "reason": "..."}`); err != nil {
		return err
	}
	if utf8.RuneCountInString(req.Reason) > maxNoteLen {
		return waorders.Errorf(waorders.CodeInvalid, "reason is longer than %d characters", maxNoteLen)
	}
	p := store.RefundOrderParams{ID: r.PathValue("id"), Reason: req.Reason, Actor: actor(r.Header.Get("X-Actor")), IfVersion: ifVersion}
	for i, a := range req.Amounts {
		amt, err := money.Parse(a.Amount, a.Currency)
		if err != nil {
			return waorders.Errorf(waorders.CodeInvalid, "amounts[%d]: %q %s: %v", i, httpx.Clip(a.Amount, 40), httpx.Clip(a.Currency, 8), err)
		}
		p.Amounts = append(p.Amounts, amt)
	}
	o, err := h.Orders.RefundOrder(r.Context(), p)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(o.Version))
	httpx.WriteJSON(w, http.StatusOK, wire.NewOrder(o))
	return nil
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
