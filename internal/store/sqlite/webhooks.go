package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

const webhookColumns = `id, url, description, event_types, enabled, disabled_reason, secrets, failing_since, created_at, updated_at`

func scanWebhook(sc interface{ Scan(...any) error }) (*store.Webhook, error) {
	var (
		w                store.Webhook
		types, secrets   string
		failing          sql.NullInt64
		created, updated int64
		enabled          int64
	)
	if err := sc.Scan(&w.ID, &w.URL, &w.Description, &types, &enabled, &w.DisabledReason, &secrets, &failing, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if w.EventTypes, err = decodeStringList(types); err != nil {
		return nil, err
	}
	if w.Secrets, err = decodeStringList(secrets); err != nil {
		return nil, err
	}
	w.Enabled = enabled != 0
	w.FailingSince = nullMicros(failing)
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &w, nil
}

// CreateWebhook implements store.Webhooks.
func (s *Store) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	if w.CreatedAt.IsZero() {
		w.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	}
	w.UpdatedAt = w.CreatedAt
	types, err := stringList(w.EventTypes)
	if err != nil {
		return err
	}
	secrets, err := stringList(w.Secrets)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
		w.ID, w.URL, w.Description, types, w.Enabled, w.DisabledReason, secrets, micros(w.CreatedAt), micros(w.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create webhook: %w", interpretError(err))
	}
	return nil
}

// GetWebhook implements store.Webhooks.
func (s *Store) GetWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	w, err := scanWebhook(s.r.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "webhook %q not found", id)
	}
	return w, nil
}

// ListWebhooks implements store.Webhooks.
func (s *Store) ListWebhooks(ctx context.Context) ([]*store.Webhook, error) {
	out, err := queryAll(ctx, s.r, `SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at, id`, nil, scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// UpdateWebhook implements store.Webhooks.
func (s *Store) UpdateWebhook(ctx context.Context, p store.UpdateWebhookParams) (*store.Webhook, error) {
	now := p.Now
	if now.IsZero() {
		now = s.now()
	}
	var w *store.Webhook
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		w, err = scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, p.ID))
		if err != nil {
			return notFound(err, "webhook %q not found", p.ID)
		}
		store.ApplyWebhookUpdate(w, p, now)
		types, err := stringList(w.EventTypes)
		if err != nil {
			return err
		}
		secrets, err := stringList(w.Secrets)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET url = ?, description = ?, event_types = ?, enabled = ?,
    disabled_reason = ?, secrets = ?, failing_since = ?, updated_at = ? WHERE id = ?`,
			w.URL, w.Description, types, w.Enabled, w.DisabledReason, secrets, optMicros(w.FailingSince), micros(w.UpdatedAt), w.ID)
		return interpretError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	return w, nil
}

// DeleteWebhook implements store.Webhooks.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
		if err != nil {
			return interpretError(err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return waorders.Errorf(waorders.CodeNotFound, "webhook %q not found", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE sink = ?`, id); err != nil {
			return interpretError(err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM deliveries WHERE sink = ?`, id)
		return interpretError(err)
	})
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

const attemptColumns = `id, delivery_id, event_id, sink, attempt, at, status, latency_us, error, response, result, manual`

func scanAttempt(sc interface{ Scan(...any) error }) (*store.Attempt, error) {
	var (
		a        store.Attempt
		delivery sql.NullInt64
		at, lat  int64
		manual   int64
	)
	if err := sc.Scan(&a.ID, &delivery, &a.EventID, &a.Sink, &a.Attempt, &at, &a.Status, &lat, &a.Error, &a.Response, &a.Result, &manual); err != nil {
		return nil, err
	}
	a.DeliveryID = delivery.Int64
	a.At = fromMicros(at)
	a.Latency = time.Duration(lat) * time.Microsecond
	a.Manual = manual != 0
	return &a, nil
}

// ListAttempts implements store.Webhooks.
func (s *Store) ListAttempts(ctx context.Context, p store.ListAttemptsParams) (*store.AttemptPage, error) {
	cur, err := store.DecodeCursor(p.Cursor)
	if err != nil {
		return nil, err
	}
	limit := store.NormalizeLimit(p.Limit)
	q := `SELECT ` + attemptColumns + ` FROM delivery_attempts WHERE 1 = 1`
	var args []any
	if p.Sink != "" {
		q, args = q+" AND sink = ?", append(args, p.Sink)
	}
	if p.EventID != "" {
		q, args = q+" AND event_id = ?", append(args, p.EventID)
	}
	if cur.ID != "" {
		after, err := strconv.ParseInt(cur.ID, 10, 64)
		if err != nil {
			return nil, waorders.Errorf(waorders.CodeInvalid, "cursor %q is not valid; use the next_cursor of a previous page", p.Cursor)
		}
		q, args = q+" AND id < ?", append(args, after)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	as, err := queryAll(ctx, s.r, q, args, scanAttempt)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	page := &store.AttemptPage{}
	page.Attempts, page.NextCursor = store.TrimPage(as, limit, func(i int) store.Cursor { return store.SeqCursor(as[i].At, as[i].ID) })
	return page, nil
}
