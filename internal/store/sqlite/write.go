package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// itemsPerStmt is how many order lines one INSERT writes: an order's lines
// go in as few statements as possible, since each costs more than its rows.
const itemsPerStmt = 4

// rollupPerStmt is how many campaign_days rows one upsert writes.
const rollupPerStmt = 8

// The statements of the write path, prepared once on the writer connection.
const (
	sqlInsertCallback = `INSERT INTO callbacks (id, envelope, received_at, body, headers)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`

	sqlInsertMessage = `INSERT INTO messages (id, callback_id, type, customer_wa_id, customer_name,
    phone_number_id, display_phone_number, waba_id, ref, ref1, ref2, reply_to, trace_id,
    context_message_id, summary, sent_at, received_at, raw, raw_offset, raw_length, warnings,
    customer_key, customer_user_id, customer_parent_user_id, customer_username, direction, group_id, media_url,
    errors, error_code, error_title)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`

	sqlInsertOrder = `INSERT INTO orders (seq, id, status, version, catalog_id, text, customer_wa_id, customer_name,
    phone_number_id, display_phone_number, waba_id, ref, ref1, ref2, reply_to, context_message_id,
    trace_id, search, ordered_at, received_at, units, currency, total_minor, warnings,
    customer_user_id, customer_parent_user_id, customer_username)
VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	sqlInsertItems = `INSERT INTO order_items (order_seq, idx, product_retailer_id, quantity, currency, unit_minor, line_minor,
    raw_quantity, raw_price, raw_currency, problems)
VALUES `
	sqlItemValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	sqlInsertTotal = `INSERT INTO order_totals (order_seq, idx, currency, amount_minor) VALUES (?, ?, ?, ?)`

	sqlInsertStatus = `INSERT INTO statuses (message_id, participant, status, rank, recipient_id, recipient_user_id,
    recipient_parent_user_id, recipient_key, group_id, callback_id, ts, received_at, errors, conversation, pricing,
    raw, raw_offset, raw_length)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id, participant, status) DO NOTHING`

	sqlInsertChange = `INSERT INTO changes (key, callback_id, field, kind, event, summary, customer_key, customer_wa_id,
    customer_user_id, customer_parent_user_id, customer_username, customer_name, at, received_at, raw, raw_offset,
    raw_length, warnings)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`

	sqlInsertLink = `INSERT INTO customer_links (a_value, a_kind, b_value, b_kind, seen_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`

	// The state moves only to a higher rank.
	sqlUpsertState = `INSERT INTO message_states (message_id, status, rank, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, rank = excluded.rank, updated_at = excluded.updated_at
WHERE excluded.rank > message_states.rank`

	// A body already quarantined (same hash) counts a repeat instead.
	sqlInsertQuarantine = `INSERT INTO quarantine (kind, callback_id, message_id, envelope, reason, message, problems,
    body, headers, received_at, resolved_at, attempts, body_hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (body_hash) WHERE body_hash <> '' DO UPDATE SET repeats = repeats + 1, last_seen_at = excluded.received_at
ON CONFLICT DO NOTHING RETURNING id, repeats`

	sqlQuarantinedMessage = `SELECT id FROM quarantine WHERE message_id = ?`

	sqlUpsertCampaignDays = `INSERT INTO campaign_days (grouping, campaign, day, currency, orders, units, revenue_minor, first_at, last_at)
VALUES `
	sqlCampaignDayValues    = `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlCampaignDaysConflict = `
ON CONFLICT (grouping, campaign, day, currency) DO UPDATE SET orders = orders + excluded.orders,
    units = units + excluded.units, revenue_minor = revenue_minor + excluded.revenue_minor,
    first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at)`
)

// writeStmts holds the prepared statements of the write path.
type writeStmts struct {
	callback, message, order, total, status, state, quarantine, quarantined, change, link *sql.Stmt
	// event, delivery, delivery1 and routes append the event log
	// (events.go): an event, the deliveries of a sink, one delivery, the
	// enabled webhooks' routing.
	event, delivery, delivery1, routes *sql.Stmt
	// items[k-1] inserts k order lines.
	items [itemsPerStmt]*sql.Stmt
	// campaignDays[k-1] upserts k rows of the campaign rollup.
	campaignDays [rollupPerStmt]*sql.Stmt
}

func (ws *writeStmts) all() []**sql.Stmt {
	out := []**sql.Stmt{&ws.callback, &ws.message, &ws.order, &ws.total, &ws.status, &ws.state, &ws.quarantine, &ws.quarantined,
		&ws.change, &ws.link, &ws.event, &ws.delivery, &ws.delivery1, &ws.routes}
	for i := range ws.items {
		out = append(out, &ws.items[i])
	}
	for i := range ws.campaignDays {
		out = append(out, &ws.campaignDays[i])
	}
	return out
}

func prepareWriteStmts(ctx context.Context, db *sql.DB) (*writeStmts, error) {
	ws := &writeStmts{}
	queries := []string{sqlInsertCallback, sqlInsertMessage, sqlInsertOrder, sqlInsertTotal, sqlInsertStatus,
		sqlUpsertState, sqlInsertQuarantine, sqlQuarantinedMessage, sqlInsertChange, sqlInsertLink, sqlInsertEvent, sqlInsertDeliveries, sqlInsertDelivery, sqlWebhookRoutes}
	for k := 1; k <= itemsPerStmt; k++ {
		queries = append(queries, sqlInsertItems+strings.TrimSuffix(strings.Repeat(sqlItemValues+", ", k), ", "))
	}
	for k := 1; k <= rollupPerStmt; k++ {
		queries = append(queries, sqlUpsertCampaignDays+strings.TrimSuffix(strings.Repeat(sqlCampaignDayValues+", ", k), ", ")+
			sqlCampaignDaysConflict)
	}
	for i, dst := range ws.all() {
		st, err := db.PrepareContext(ctx, queries[i])
		if err != nil {
			ws.close()
			return nil, fmt.Errorf("prepare %q: %w", strings.Fields(queries[i])[:3], interpretError(err))
		}
		*dst = st
	}
	return ws, nil
}

func (ws *writeStmts) close() error {
	var errs []error
	for _, st := range ws.all() {
		if *st != nil {
			errs = append(errs, (*st).Close())
		}
	}
	return errors.Join(errs...)
}

// txStmts are the write statements bound to one transaction.
type txStmts struct {
	ctx                                                                     context.Context
	callback, message, order, total, status, state, qins, qid, change, link *sql.Stmt
	campaignDays                                                            [rollupPerStmt]*sql.Stmt
	items                                                                   [itemsPerStmt]*sql.Stmt
	args                                                                    []any // reused for order lines
	// rollup gathers the campaign_days changes of the new orders, upserted
	// once per row at the end of the batch.
	rollup store.Rollup
}

// bind binds the statements to tx. Statements run under a context without
// cancellation: with a cancellable one the driver starts a watcher goroutine
// per statement, which costs more than the insert itself. Cancelling the
// caller's context still aborts the batch, as database/sql then rolls tx
// back and the next statement fails.
func (ws *writeStmts) bind(ctx context.Context, tx *sql.Tx) *txStmts {
	st := &txStmts{
		ctx:      context.WithoutCancel(ctx),
		callback: tx.StmtContext(ctx, ws.callback),
		message:  tx.StmtContext(ctx, ws.message),
		order:    tx.StmtContext(ctx, ws.order),
		total:    tx.StmtContext(ctx, ws.total),
		status:   tx.StmtContext(ctx, ws.status),
		state:    tx.StmtContext(ctx, ws.state),
		qins:     tx.StmtContext(ctx, ws.quarantine),
		qid:      tx.StmtContext(ctx, ws.quarantined),
		change:   tx.StmtContext(ctx, ws.change),
		link:     tx.StmtContext(ctx, ws.link),
		args:     make([]any, 0, 11*itemsPerStmt),
		rollup:   store.Rollup{},
	}
	for i, s := range ws.items {
		st.items[i] = tx.StmtContext(ctx, s)
	}
	for i, s := range ws.campaignDays {
		st.campaignDays[i] = tx.StmtContext(ctx, s)
	}
	return st
}

// WriteInbound writes every inbound callback in the transaction (on the
// writer connection; alone in its transaction, a group commit: one fsync
// for the whole slice) and reports per record whether it was stored, a
// duplicate or quarantined. Orders are checked with Order.Validate first;
// an invalid one fails the whole call with CodeInvalid before anything is
// written. The statements prepared at Open are bound to the transaction.
func (t *tx) WriteInbound(ctx context.Context, in []*store.Inbound) ([]store.InboundResult, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if err := store.ValidateInbound(in); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return []store.InboundResult{}, nil
	}
	results := make([]store.InboundResult, len(in))
	st := t.s.stmts.bind(ctx, t.sqlTx)
	for i, d := range in {
		if err := st.writeInbound(d, &results[i], t.s.now); err != nil {
			return nil, fmt.Errorf("write inbound: inbound %d (callback %s): %w", i, d.Callback.ID, err)
		}
	}
	if err := st.flushRollup(); err != nil {
		return nil, fmt.Errorf("write inbound: %w", err)
	}
	t.wroteInbound = true
	return results, nil
}

func (st *txStmts) writeInbound(d *store.Inbound, res *store.InboundResult, now func() time.Time) error {
	cb := &d.Callback
	// Raw JSON is stored as a span of the callback's body when that body is
	// the one this call stores (not one kept by an earlier callback).
	var msgSpans, statusSpans, changeSpans *rawSpans
	if cb.ID != "" {
		headers, err := headersText(cb.Headers)
		if err != nil {
			return err
		}
		body := cb.Body
		if body == nil {
			body = []byte{}
		}
		r, err := st.callback.ExecContext(st.ctx, cb.ID, cb.Envelope, micros(orNow(cb.ReceivedAt, now)), body, headers)
		if err != nil {
			return fmt.Errorf("insert callback: %w", interpretError(err))
		}
		if n, _ := r.RowsAffected(); n == 1 {
			if len(d.Messages) > 0 {
				msgSpans = &rawSpans{callbackID: cb.ID, finder: store.NewRawSpans(body)}
			}
			if len(d.Statuses) > 0 {
				statusSpans = &rawSpans{callbackID: cb.ID, finder: store.NewRawSpans(body)}
			}
			if len(d.Changes) > 0 {
				changeSpans = &rawSpans{callbackID: cb.ID, finder: store.NewRawSpans(body)}
			}
		}
	}
	if len(d.Messages) > 0 {
		res.Messages = make([]store.Outcome, len(d.Messages))
		for i, mw := range d.Messages {
			out, err := st.writeMessage(mw, orNow(cb.ReceivedAt, now), msgSpans)
			if err != nil {
				return err
			}
			res.Messages[i] = out
		}
	}
	if len(d.Statuses) > 0 {
		res.Statuses = make([]store.Outcome, len(d.Statuses))
		res.Advanced = make([]bool, len(d.Statuses))
		for i, sw := range d.Statuses {
			out, advanced, err := st.writeStatus(sw, orNow(cb.ReceivedAt, now), statusSpans)
			if err != nil {
				return err
			}
			res.Statuses[i], res.Advanced[i] = out, advanced
		}
	}
	if len(d.Changes) > 0 {
		res.Changes = make([]store.Outcome, len(d.Changes))
		for i, cw := range d.Changes {
			out, err := st.writeChange(cw, orNow(cb.ReceivedAt, now), changeSpans)
			if err != nil {
				return err
			}
			res.Changes[i] = out
		}
	}
	for _, l := range store.InboundLinks(d) {
		if _, err := st.link.ExecContext(st.ctx, l.A.Value, l.A.Kind, l.B.Value, l.B.Kind, micros(orNow(cb.ReceivedAt, now))); err != nil {
			return fmt.Errorf("insert customer link: %w", interpretError(err))
		}
	}
	if len(d.Quarantine) > 0 {
		res.Quarantine = make([]store.QuarantineResult, len(d.Quarantine))
		for i, q := range d.Quarantine {
			qr, err := st.writeQuarantine(q, orNow(cb.ReceivedAt, now))
			if err != nil {
				return err
			}
			res.Quarantine[i] = qr
		}
	}
	return nil
}

// orNow returns t, or the current time when t is zero.
func orNow(t time.Time, now func() time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t
}

// rawSpans places raw JSON values in the body of the callback stored in
// the same call.
type rawSpans struct {
	callbackID string
	finder     *store.RawSpans
}

// args returns the raw, raw_offset and raw_length values of a record of
// callback callbackID: a span of the callback's body when raw lies in it,
// else the raw text itself. spans may be nil.
func (sp *rawSpans) args(callbackID string, raw []byte) (any, any, any) {
	if sp != nil && callbackID == sp.callbackID {
		if off, ok := sp.finder.Find(raw); ok {
			return nil, off, len(raw)
		}
	}
	return rawText(raw), nil, nil
}

func (st *txStmts) writeMessage(mw store.MessageWrite, received time.Time, spans *rawSpans) (store.Outcome, error) {
	m := mw.Message
	warnings, err := problemsText(m.Warnings)
	if err != nil {
		return "", err
	}
	if !m.ReceivedAt.IsZero() {
		received = m.ReceivedAt
	}
	raw, rawOffset, rawLength := spans.args(m.CallbackID, m.Raw)
	r, err := st.message.ExecContext(st.ctx, m.ID, m.CallbackID, m.Type, m.Customer.WaID, m.Customer.Name,
		m.Business.PhoneNumberID, m.Business.DisplayPhoneNumber, m.Business.WABAID,
		m.Campaign.Ref, m.Campaign.Ref1, m.Campaign.Ref2, m.ReplyTo, m.TraceID, m.ContextMessageID,
		m.Summary, micros(m.SentAt), micros(received), raw, rawOffset, rawLength, warnings,
		m.Customer.Key(), m.Customer.UserID, m.Customer.ParentUserID, m.Customer.Username, direction(m.Direction),
		m.GroupID, m.MediaURL, rawText(m.Errors), m.ErrorCode, m.ErrorTitle)
	if err != nil {
		return "", fmt.Errorf("insert message %s: %w", m.ID, interpretError(err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return store.Duplicate, nil
	}
	if mw.Order != nil {
		seq, err := r.LastInsertId()
		if err != nil {
			return "", fmt.Errorf("insert message %s: %w", m.ID, err)
		}
		if err := st.writeOrder(seq, m.ID, mw.Order, received); err != nil {
			return "", err
		}
	}
	return store.Stored, nil
}

// writeOrder inserts the order of the new message seq as pending at version
// 1 with its lines and its totals: the first total lives in the order row,
// any further currency in order_totals. The creation entry of its history
// is not stored (store.WithCreation derives it). The message was new, so
// the order is too.
func (st *txStmts) writeOrder(seq int64, id string, o *waorders.Order, received time.Time) error {
	warnings, err := problemsText(o.Warnings)
	if err != nil {
		return err
	}
	if !o.ReceivedAt.IsZero() {
		received = o.ReceivedAt
	}
	// The totals are the sum of the lines (store.ValidateInbound checked that
	// any totals given agree, and that the sums do not overflow).
	totals, err := waorders.ComputeTotals(o.Items)
	if err != nil {
		return fmt.Errorf("order %s: %w", id, err)
	}
	var first money.Amount // an order in needs_review may have no usable line: '' and 0
	if len(totals) > 0 {
		first = totals[0]
	}
	status := store.InitialStatus(o)
	_, err = st.order.ExecContext(st.ctx, seq, id, string(status), o.CatalogID, o.Text,
		o.Customer.WaID, o.Customer.Name, o.Business.PhoneNumberID, o.Business.DisplayPhoneNumber, o.Business.WABAID,
		o.Campaign.Ref, o.Campaign.Ref1, o.Campaign.Ref2, o.ReplyTo, o.ContextMessageID, o.TraceID,
		store.SearchText(o.Customer.Name, o.Text), micros(o.OrderedAt), micros(received), o.Units(),
		first.Currency, first.Minor, warnings, o.Customer.UserID, o.Customer.ParentUserID, o.Customer.Username)
	if err != nil {
		return fmt.Errorf("insert order %s: %w", id, interpretError(err))
	}
	for start := 0; start < len(o.Items); start += itemsPerStmt {
		chunk := o.Items[start:min(start+itemsPerStmt, len(o.Items))]
		args := st.args[:0]
		for i, it := range chunk {
			problems, err := problemsText(it.Problems)
			if err != nil {
				return err
			}
			args = append(args, seq, start+i, it.ProductRetailerID, it.Quantity,
				it.UnitPrice.Currency, it.UnitPrice.Minor, it.LineTotal.Minor,
				it.RawQuantity, it.RawPrice, it.RawCurrency, problems)
		}
		if _, err := st.items[len(chunk)-1].ExecContext(st.ctx, args...); err != nil {
			return fmt.Errorf("insert order %s items: %w", id, interpretError(err))
		}
		clear(args)
	}
	for i := 1; i < len(totals); i++ {
		t := totals[i]
		if _, err := st.total.ExecContext(st.ctx, seq, i, t.Currency, t.Minor); err != nil {
			return fmt.Errorf("insert order %s total %s: %w", id, t.Currency, interpretError(err))
		}
	}
	if status.Counted() { // an order in needs_review enters the rollup when reviewed
		st.rollup.AddOrder(o, totals)
	}
	return nil
}

// flushRollup adds the new orders of the batch to campaign_days, one
// upsert per touched row, rollupPerStmt rows per statement (a single new
// order touches six rows).
func (st *txStmts) flushRollup() error {
	args := make([]any, 0, 9*rollupPerStmt)
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := st.campaignDays[n-1].ExecContext(st.ctx, args...)
		clear(args)
		args, n = args[:0], 0
		if err != nil {
			return fmt.Errorf("update campaign rollup: %w", interpretError(err))
		}
		return nil
	}
	for k, d := range st.rollup {
		args = append(args, k.Grouping, k.Campaign, micros(k.Day), k.Currency,
			d.Orders, d.Units, d.Revenue, micros(d.First), micros(d.Last))
		if n++; n == rollupPerStmt {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// writeStatus stores one status and moves its message's state forward; it
// reports whether the state moved (the upsert changed a row).
func (st *txStmts) writeStatus(sw store.StatusWrite, received time.Time, spans *rawSpans) (store.Outcome, bool, error) {
	u := sw.Update
	if !u.ReceivedAt.IsZero() {
		received = u.ReceivedAt
	}
	raw, rawOffset, rawLength := spans.args(u.CallbackID, u.Raw)
	recipient := waorders.Customer{WaID: u.RecipientID, UserID: u.RecipientUserID, ParentUserID: u.RecipientParentUserID}
	r, err := st.status.ExecContext(st.ctx, u.MessageID, u.Participant, u.Status, sw.Rank, u.RecipientID,
		u.RecipientUserID, u.RecipientParentUserID, recipient.Key(), u.GroupID, u.CallbackID,
		micros(u.Timestamp), micros(received), rawText(u.Errors), rawText(u.Conversation), rawText(u.Pricing),
		raw, rawOffset, rawLength)
	if err != nil {
		return "", false, fmt.Errorf("insert status %s %s: %w", u.MessageID, u.Status, interpretError(err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return store.Duplicate, false, nil
	}
	at := u.Timestamp
	if at.IsZero() {
		at = received
	}
	r, err = st.state.ExecContext(st.ctx, u.MessageID, u.Status, sw.Rank, micros(at))
	if err != nil {
		return "", false, fmt.Errorf("update state of %s: %w", u.MessageID, interpretError(err))
	}
	moved, _ := r.RowsAffected() // 0 when the upsert's WHERE kept a higher rank
	return store.Stored, moved > 0, nil
}

func (st *txStmts) writeQuarantine(q *waorders.QuarantineEntry, received time.Time) (store.QuarantineResult, error) {
	problems, err := problemsText(q.Problems)
	if err != nil {
		return store.QuarantineResult{}, err
	}
	headers, err := headersText(q.Headers)
	if err != nil {
		return store.QuarantineResult{}, err
	}
	if !q.ReceivedAt.IsZero() {
		received = q.ReceivedAt
	}
	var id, repeats int64
	err = st.qins.QueryRowContext(st.ctx, q.Kind, q.CallbackID, q.MessageID, q.Envelope, q.Reason, q.Message,
		problems, q.Body, headers, micros(received), optMicros(q.ResolvedAt), q.Attempts, store.BodyHash(q)).Scan(&id, &repeats)
	switch {
	case err == nil && repeats > 0:
		return store.QuarantineResult{ID: id, Outcome: store.Duplicate}, nil
	case err == nil:
		return store.QuarantineResult{ID: id, Outcome: store.Stored}, nil
	case !errors.Is(err, sql.ErrNoRows) || q.MessageID == "":
		return store.QuarantineResult{}, fmt.Errorf("insert quarantine: %w", interpretError(err))
	}
	// The message is quarantined already: report the existing entry.
	if err := st.qid.QueryRowContext(st.ctx, q.MessageID).Scan(&id); err != nil {
		return store.QuarantineResult{}, fmt.Errorf("find quarantined message %s: %w", q.MessageID, interpretError(err))
	}
	return store.QuarantineResult{ID: id, Outcome: store.Duplicate}, nil
}

// direction stores "" as inbound.
func direction(d string) string {
	if d == "" {
		return waorders.DirectionInbound
	}
	return d
}

func (st *txStmts) writeChange(cw store.ChangeWrite, received time.Time, spans *rawSpans) (store.Outcome, error) {
	c := cw.Change
	warnings, err := problemsText(c.Warnings)
	if err != nil {
		return "", err
	}
	if !c.ReceivedAt.IsZero() {
		received = c.ReceivedAt
	}
	at := c.At
	if at.IsZero() {
		at = received
	}
	raw, rawOffset, rawLength := spans.args(c.CallbackID, c.Raw)
	r, err := st.change.ExecContext(st.ctx, c.Key, c.CallbackID, c.Field, c.Kind, c.Event, c.Summary, c.Customer.Key(),
		c.Customer.WaID, c.Customer.UserID, c.Customer.ParentUserID, c.Customer.Username, c.Customer.Name,
		micros(at), micros(received), raw, rawOffset, rawLength, warnings)
	if err != nil {
		return "", fmt.Errorf("insert change %s: %w", c.Field, interpretError(err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return store.Duplicate, nil
	}
	if cw.RawOnly {
		return store.Kept, nil
	}
	return store.Stored, nil
}
