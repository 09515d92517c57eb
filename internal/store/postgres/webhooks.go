package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

const webhookColumns = `id, url, description, event_types, enabled, disabled_reason, secrets, failing_since, created_at, updated_at`

func scanWebhook(row pgx.Row) (*store.Webhook, error) {
	var (
		w       store.Webhook
		failing *time.Time
	)
	if err := row.Scan(&w.ID, &w.URL, &w.Description, &w.EventTypes, &w.Enabled, &w.DisabledReason, &w.Secrets,
		&failing, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return nil, err
	}
	if failing != nil {
		w.FailingSince = failing.UTC()
	}
	if w.EventTypes == nil {
		w.EventTypes = []string{}
	}
	if w.Secrets == nil {
		w.Secrets = []string{}
	}
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return &w, nil
}

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreateWebhook implements store.Webhooks.
func (s *Store) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	if w.CreatedAt.IsZero() {
		w.CreatedAt = s.nowUTC().Truncate(time.Microsecond)
	}
	w.UpdatedAt = w.CreatedAt
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)`,
		w.ID, w.URL, w.Description, orEmpty(w.EventTypes), w.Enabled, w.DisabledReason, orEmpty(w.Secrets), w.CreatedAt, w.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create webhook: %w", interpretError(err))
	}
	return nil
}

// GetWebhook implements store.Webhooks.
func (s *Store) GetWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	w, err := scanWebhook(s.pool.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "webhook %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get webhook: %w", interpretError(err))
	}
	return w, nil
}

// ListWebhooks implements store.Webhooks.
func (s *Store) ListWebhooks(ctx context.Context) ([]*store.Webhook, error) {
	out, err := queryAll(ctx, s, `SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at, id`, nil, scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// UpdateWebhook implements store.Webhooks.
func (s *Store) UpdateWebhook(ctx context.Context, p store.UpdateWebhookParams) (*store.Webhook, error) {
	now := p.Now
	if now.IsZero() {
		now = s.nowUTC()
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var w *store.Webhook
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		w, err = scanWebhook(tx.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1 FOR UPDATE`, p.ID))
		if errors.Is(err, pgx.ErrNoRows) {
			return waorders.Errorf(waorders.CodeNotFound, "webhook %q not found", p.ID)
		}
		if err != nil {
			return err
		}
		store.ApplyWebhookUpdate(w, p, now)
		_, err = tx.Exec(ctx, `UPDATE webhooks SET url = $2, description = $3, event_types = $4, enabled = $5,
    disabled_reason = $6, secrets = $7, failing_since = $8, updated_at = $9 WHERE id = $1`,
			w.ID, w.URL, w.Description, orEmpty(w.EventTypes), w.Enabled, w.DisabledReason, orEmpty(w.Secrets),
			optTime(w.FailingSince), w.UpdatedAt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update webhook: %w", interpretError(err))
	}
	return w, nil
}

// DeleteWebhook implements store.Webhooks.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return waorders.Errorf(waorders.CodeNotFound, "webhook %q not found", id)
		}
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM delivery_attempts WHERE sink = $1`, id)
		b.Queue(`DELETE FROM deliveries WHERE sink = $1`, id)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("delete webhook: %w", interpretError(err))
	}
	return nil
}

const attemptColumns = `id, delivery_id, event_id, sink, attempt, at, status, latency_us, error, response, result, manual`

func scanAttempt(row pgx.Row) (*store.Attempt, error) {
	var (
		a        store.Attempt
		delivery *int64
		lat      int64
	)
	if err := row.Scan(&a.ID, &delivery, &a.EventID, &a.Sink, &a.Attempt, &a.At, &a.Status, &lat, &a.Error, &a.Response,
		&a.Result, &a.Manual); err != nil {
		return nil, err
	}
	if delivery != nil {
		a.DeliveryID = *delivery
	}
	a.At = a.At.UTC()
	a.Latency = time.Duration(lat) * time.Microsecond
	return &a, nil
}

// ListAttempts implements store.Webhooks.
func (s *Store) ListAttempts(ctx context.Context, p store.ListAttemptsParams) (*store.AttemptPage, error) {
	cur, err := store.DecodeCursor(p.Cursor)
	if err != nil {
		return nil, err
	}
	limit := store.NormalizeLimit(p.Limit)
	w := &relayWhere{}
	if p.Sink != "" {
		w.add("sink = $%d", p.Sink)
	}
	if p.EventID != "" {
		w.add("event_id = $%d", p.EventID)
	}
	if cur.ID != "" {
		after, err := strconv.ParseInt(cur.ID, 10, 64)
		if err != nil {
			return nil, waorders.Errorf(waorders.CodeInvalid, "cursor %q is not valid; use the next_cursor of a previous page", p.Cursor)
		}
		w.add("id < $%d", after)
	}
	as, err := queryAll(ctx, s, `SELECT `+attemptColumns+` FROM delivery_attempts`+w.sql()+
		fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit+1), w.args, scanAttempt)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	page := &store.AttemptPage{}
	page.Attempts, page.NextCursor = store.TrimPage(as, limit, func(i int) store.Cursor { return store.SeqCursor(as[i].At, as[i].ID) })
	return page, nil
}
