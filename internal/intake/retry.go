package intake

import (
	"context"
	"errors"
	"fmt"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/store"
)

// RetryResult is the outcome of re-running a quarantined body.
type RetryResult struct {
	Entry    *waorders.QuarantineEntry `json:"-"`
	Resolved bool                      `json:"resolved"`
	// Result lists the callback's records when the body decoded.
	Result *Result `json:"result,omitempty"`
	// Error is the decoder's verdict when the body still does not decode.
	Error *callback.DecodeError `json:"error,omitempty"`
}

// Retry re-runs the current decoder on a quarantined entry's body (after an
// upgrade, say) and stores whatever is now usable. The entry is resolved
// when everything it was kept for is now stored; either way the attempt is
// recorded. Retrying a resolved entry is harmless: its records come back as
// duplicates.
func (in *Intake) Retry(ctx context.Context, id int64) (*RetryResult, error) {
	q, err := in.store.GetQuarantine(ctx, id)
	if err != nil {
		return nil, err
	}
	req := Request{ID: q.CallbackID, Endpoint: "retry", Body: q.Body, Headers: q.Headers, ReceivedAt: q.ReceivedAt}
	out := &RetryResult{}
	cb, err := callback.Decode(q.Body)
	if err != nil {
		var de *callback.DecodeError
		if !errors.As(err, &de) {
			de = &callback.DecodeError{Code: callback.CodeInvalidJSON, Path: callback.RootPath, Message: err.Error()}
		}
		out.Error = de
	} else {
		d, recs := build(&req, cb)
		recs, dropped := dropUnkeyedQuarantine(d, recs)
		wr, err := in.write(ctx, d)
		if err != nil {
			return nil, err
		}
		out.Result = in.answer(&req, cb, recs, wr)
		out.Resolved = resolved(q, recs, dropped)
	}
	e, err := in.store.MarkQuarantineAttempt(ctx, store.MarkQuarantineAttemptParams{ID: id, Resolved: out.Resolved, At: in.Now()})
	if err != nil {
		return nil, fmt.Errorf("record retry of quarantine entry %d: %w", id, err)
	}
	out.Entry = e
	return out, nil
}

// dropUnkeyedQuarantine removes from d the quarantine entries that have no
// message id (they cannot be deduplicated, so a retry would only add copies:
// the entry being retried already keeps them), drops their records and
// renumbers the rest. It reports whether anything was dropped.
func dropUnkeyedQuarantine(d *store.Inbound, recs []record) ([]record, bool) {
	remap := make(map[int]int, len(d.Quarantine))
	kept := d.Quarantine[:0]
	for i, e := range d.Quarantine {
		if e.MessageID != "" {
			remap[i] = len(kept)
			kept = append(kept, e)
		}
	}
	dropped := len(kept) < len(d.Quarantine)
	d.Quarantine = kept
	out := recs[:0]
	for _, r := range recs {
		if r.quarantine {
			j, ok := remap[r.index]
			if !ok {
				continue
			}
			r.index = j
		}
		out = append(out, r)
	}
	return out, dropped
}

// resolved decides whether a retry stored what entry q was kept for: its
// message, for a message entry with an id; everything, otherwise.
func resolved(q *waorders.QuarantineEntry, recs []record, dropped bool) bool {
	if q.Kind == waorders.QuarantineMessage && q.MessageID != "" {
		for _, r := range recs {
			if r.kind == "message" && r.id == q.MessageID {
				return !r.quarantine
			}
		}
		return false
	}
	if dropped {
		return false
	}
	for _, r := range recs {
		if r.quarantine {
			return false
		}
	}
	return true
}
