package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// maxWriteAttempts bounds how often WriteInbound runs its transaction
// when it failed in a way a new attempt can avoid.
const maxWriteAttempts = 3

// WriteInbound writes every inbound callback as one batch of set-based
// statements (one per table), so the cost in round trips does not grow
// with the number of callbacks. Rows are inserted in key order so that
// concurrent callers lock in the same order. In autocommit mode the batch
// is its own implicit transaction, and a deadlock or serialization failure
// that happens anyway is retried as a whole here; in InTx, InTx retries.
func (t *tx) WriteInbound(ctx context.Context, in []*store.Inbound) ([]store.InboundResult, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return []store.InboundResult{}, nil
	}
	p, err := planWrite(in, t.s.nowUTC())
	if err != nil {
		return nil, fmt.Errorf("write inbound: %w", err)
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	for attempt := 1; ; attempt++ {
		res, err := t.s.writePlan(ctx, t.q(), p)
		if err == nil {
			return res, nil
		}
		if t.pgTx == nil && attempt < maxWriteAttempts && retryable(err, p.idempotent()) && ctx.Err() == nil {
			t.s.log.Debug("retrying write transaction", "attempt", attempt, "err", err)
			continue
		}
		return nil, fmt.Errorf("write inbound: %w", interpretError(err))
	}
}

// writePlan runs one attempt of the write: one batch, sent in one round
// trip. On the pool PostgreSQL runs it as one implicit transaction (every
// statement up to the batch's single Sync message) and commits it,
// durably, before it answers the Sync; if any statement fails, none of the
// batch is kept. In a transaction it joins that transaction.
func (s *Store) writePlan(ctx context.Context, q querier, p *writePlan) ([]store.InboundResult, error) {
	b := &pgx.Batch{}
	var readers []func(pgx.BatchResults) error
	queue := func(sql string, args []any, read func(pgx.Rows) error) {
		b.Queue(sql, args...)
		readers = append(readers, func(br pgx.BatchResults) error {
			if read == nil {
				_, err := br.Exec()
				return err
			}
			rows, err := br.Query()
			if err != nil {
				return err
			}
			defer rows.Close()
			if err := read(rows); err != nil {
				return err
			}
			return rows.Err()
		})
	}

	res := p.newResults()
	if len(p.callbacks.id) > 0 {
		queue(insertCallbacksSQL, p.callbacks.args(), nil)
	}
	insertedMsgs := map[string]bool{}
	if len(p.messages.id) > 0 {
		queue(insertMessagesSQL, p.messages.args(), func(rows pgx.Rows) error {
			return collectStrings(rows, insertedMsgs)
		})
	}
	if len(p.orders.id) > 0 {
		queue(insertOrdersSQL, p.orders.args(), nil)
	}
	insertedStatuses := map[string]bool{}
	if len(p.statuses.messageID) > 0 {
		queue(insertStatusesSQL, p.statuses.args(), func(rows pgx.Rows) error {
			var id, participant, status string
			_, err := pgx.ForEachRow(rows, []any{&id, &participant, &status}, func() error {
				insertedStatuses[statusKey(id, participant, status)] = true
				return nil
			})
			return err
		})
	}
	// The ranks the states had, locked (in key order, as the upsert
	// locks them) so no other writer moves them before this commit, and
	// the messages whose state the upsert moved: together they tell
	// which new statuses advanced a state.
	oldRank := map[string]int{}
	moved := map[string]bool{}
	if len(p.states.messageID) > 0 {
		queue(lockStatesSQL, []any{p.states.messageID}, func(rows pgx.Rows) error {
			var id string
			var rank int32
			_, err := pgx.ForEachRow(rows, []any{&id, &rank}, func() error {
				oldRank[id] = int(rank)
				return nil
			})
			return err
		})
		queue(upsertStatesSQL, p.states.args(), func(rows pgx.Rows) error {
			return collectStrings(rows, moved)
		})
	}
	insertedChanges := map[string]bool{}
	if len(p.changes.key) > 0 {
		queue(insertChangesSQL, p.changes.args(), func(rows pgx.Rows) error {
			return collectStrings(rows, insertedChanges)
		})
	}
	if len(p.links.aValue) > 0 {
		queue(insertLinksSQL, p.links.args(), nil)
	}
	// Per quarantine row (by ordinality): its new id and whether it was inserted.
	qIDs := make([]int64, len(p.quarantine.kind))
	qInserted := make([]bool, len(p.quarantine.kind))
	existing := map[string]int64{}
	if len(p.quarantine.kind) > 0 {
		queue(insertQuarantineSQL, p.quarantine.args(), func(rows pgx.Rows) error {
			var ord, id int64
			var inserted bool
			_, err := pgx.ForEachRow(rows, []any{&ord, &id, &inserted}, func() error {
				qIDs[ord-1], qInserted[ord-1] = id, inserted
				return nil
			})
			return err
		})
		if len(p.quarantineMessageIDs) > 0 {
			// A separate statement, so it sees entries committed by a
			// concurrent transaction that our insert waited for.
			queue(`SELECT message_id, id FROM quarantine WHERE message_id = ANY($1)`,
				[]any{p.quarantineMessageIDs}, func(rows pgx.Rows) error {
					var mid string
					var id int64
					_, err := pgx.ForEachRow(rows, []any{&mid, &id}, func() error {
						existing[mid] = id
						return nil
					})
					return err
				})
		}
	}

	for _, e := range p.bodyQuarantine {
		c := e.cols
		res := &res[e.ref.inbound].Quarantine[e.ref.index]
		queue(insertBodyQuarantineSQL, []any{c.kind[0], c.callbackID[0], c.messageID[0], c.envelope[0], c.reason[0],
			c.message[0], c.problems[0], c.body[0], c.headers[0], c.receivedAt[0], c.resolvedAt[0], c.attempts[0], e.hash},
			func(rows pgx.Rows) error {
				var id, repeats int64
				_, err := pgx.ForEachRow(rows, []any{&id, &repeats}, func() error {
					res.ID, res.Outcome = id, store.Stored
					if repeats > 0 {
						res.Outcome = store.Duplicate
					}
					return nil
				})
				return err
			})
	}

	br := q.SendBatch(ctx, b)
	for _, read := range readers {
		if err := read(br); err != nil {
			br.Close()
			return nil, err
		}
	}
	// Close reads up to the ReadyForQuery that follows the commit.
	if err := br.Close(); err != nil {
		return nil, err
	}

	for _, r := range p.msgRefs {
		if r.first && insertedMsgs[r.key] {
			res[r.inbound].Messages[r.index] = store.Stored
		}
	}
	rank := oldRank // from here the running rank of each message, in call order
	for _, r := range p.statusRefs {
		if r.first && insertedStatuses[r.key] {
			res[r.inbound].Statuses[r.index] = store.Stored
			if moved[r.messageID] && r.rank > rank[r.messageID] {
				res[r.inbound].Advanced[r.index] = true
				rank[r.messageID] = r.rank
			}
		}
	}
	for _, r := range p.changeRefs {
		if r.first && insertedChanges[r.key] {
			res[r.inbound].Changes[r.index] = store.Stored
			if r.row == 1 {
				res[r.inbound].Changes[r.index] = store.Kept
			}
		}
	}
	for _, r := range p.quarantineRefs {
		q := &res[r.inbound].Quarantine[r.index]
		switch {
		case r.row < 0: // a repeat, within this call, of a message's entry
			q.ID, q.Outcome = existing[r.key], store.Duplicate
		case qInserted[r.row]:
			q.ID, q.Outcome = qIDs[r.row], store.Stored
		default:
			id, ok := existing[r.key]
			if !ok {
				return nil, fmt.Errorf("quarantine entry for message %q vanished", r.key)
			}
			q.ID, q.Outcome = id, store.Duplicate
		}
	}
	return res, nil
}

func collectStrings(rows pgx.Rows, into map[string]bool) error {
	var v string
	_, err := pgx.ForEachRow(rows, []any{&v}, func() error {
		into[v] = true
		return nil
	})
	return err
}

func statusKey(messageID, participant, status string) string {
	return messageID + "\x00" + participant + "\x00" + status
}

// ref places one record of the input in the results: Inbound in[inbound],
// slice position index. first is false for a repeat, within the call, of
// an earlier record's key (a duplicate before the database is asked).
type ref struct {
	inbound, index int
	key            string
	first          bool
	row            int // quarantine: row in the insert, -1 for a repeat; changes: 1 if kept raw only
	// statuses: the message and the rank, to tell which moved the state
	messageID string
	rank      int
}

// writePlan is the input of WriteInbound turned into one column array
// per table column, deduplicated within the call, ready for unnest.
type writePlan struct {
	n          int
	shape      []store.InboundResult
	callbacks  callbackCols
	messages   messageCols
	orders     orderCols
	statuses   statusCols
	states     stateCols
	changes    changeCols
	links      linkCols
	quarantine quarantineCols

	quarantineMessageIDs []string
	bodyQuarantine       []bodyEntry
	msgRefs              []ref
	statusRefs           []ref
	changeRefs           []ref
	quarantineRefs       []ref
}

// idempotent reports whether every row the plan writes has a unique key,
// so that writing it twice stores it once: true unless it holds a
// quarantine entry of a whole body (no message id), which is kept every
// time.
func (p *writePlan) idempotent() bool {
	return !slices.Contains(p.quarantine.messageID, "") && len(p.bodyQuarantine) == 0
}

// bodyEntry is the quarantine entry of a whole body, kept once per
// distinct body (hash): a repeat counts in its repeats.
type bodyEntry struct {
	ref  ref
	cols quarantineCols
	hash string
}

const insertBodyQuarantineSQL = `
INSERT INTO quarantine AS q (kind, callback_id, message_id, envelope, reason, message, problems, body, headers,
	received_at, resolved_at, attempts, body_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11, $12, $13)
ON CONFLICT (body_hash) WHERE body_hash <> '' DO UPDATE SET repeats = q.repeats + 1, last_seen_at = excluded.received_at
RETURNING id, repeats`

// newResults returns results with every message and status a Duplicate
// (the insert's RETURNING then marks the stored ones).
func (p *writePlan) newResults() []store.InboundResult {
	res := make([]store.InboundResult, p.n)
	for i, sh := range p.shape {
		res[i].Messages = make([]store.Outcome, len(sh.Messages))
		for j := range res[i].Messages {
			res[i].Messages[j] = store.Duplicate
		}
		res[i].Statuses = make([]store.Outcome, len(sh.Statuses))
		res[i].Advanced = make([]bool, len(sh.Statuses))
		for j := range res[i].Statuses {
			res[i].Statuses[j] = store.Duplicate
		}
		res[i].Changes = make([]store.Outcome, len(sh.Changes))
		for j := range res[i].Changes {
			res[i].Changes[j] = store.Duplicate
		}
		res[i].Quarantine = make([]store.QuarantineResult, len(sh.Quarantine))
	}
	return res
}

// planWrite validates the inbound callbacks and lays them out as columns. Nothing
// is written when one is invalid (CodeInvalid). A time the caller left
// zero falls back to the callback's receipt time, or now.
func planWrite(ds []*store.Inbound, now time.Time) (*writePlan, error) {
	if err := store.ValidateInbound(ds); err != nil {
		return nil, err
	}
	p := &writePlan{n: len(ds), shape: make([]store.InboundResult, len(ds))}
	seenCallbacks := map[string]bool{}
	seenMsgs := map[string]bool{}
	seenOrders := map[string]bool{}
	seenStatuses := map[string]bool{}
	stateAt := map[string]int{} // message id → row in p.states
	seenQuarantine := map[string]bool{}
	seenChanges := map[string]bool{}
	var links []store.CustomerLink

	for i, d := range ds {
		cb := d.Callback
		if cb.ReceivedAt.IsZero() {
			cb.ReceivedAt = now
		}
		p.shape[i] = store.InboundResult{
			Messages:   make([]store.Outcome, len(d.Messages)),
			Statuses:   make([]store.Outcome, len(d.Statuses)),
			Changes:    make([]store.Outcome, len(d.Changes)),
			Quarantine: make([]store.QuarantineResult, len(d.Quarantine)),
		}
		links = append(links, store.InboundLinks(d)...)
		if cb.ID != "" && !seenCallbacks[clean(cb.ID)] {
			seenCallbacks[clean(cb.ID)] = true
			if err := p.callbacks.add(&cb); err != nil {
				return nil, err
			}
		}
		var msgSpans, statusSpans, changeSpans *store.RawSpans
		if cb.ID != "" && len(d.Changes) > 0 {
			changeSpans = store.NewRawSpans(cb.Body)
		}
		if cb.ID != "" && len(d.Messages) > 0 {
			msgSpans = store.NewRawSpans(cb.Body)
		}
		if cb.ID != "" && len(d.Statuses) > 0 {
			statusSpans = store.NewRawSpans(cb.Body)
		}
		for j, mw := range d.Messages {
			m := mw.Message
			key := clean(m.ID)
			r := ref{inbound: i, index: j, key: key, first: !seenMsgs[key]}
			p.msgRefs = append(p.msgRefs, r)
			if r.first {
				seenMsgs[key] = true
				if err := p.messages.add(m, cb, msgSpans); err != nil {
					return nil, err
				}
			}
			if o := mw.Order; o != nil && !seenOrders[key] {
				seenOrders[key] = true
				if err := p.orders.add(key, o, receivedOr(m.ReceivedAt, cb.ReceivedAt)); err != nil {
					return nil, err
				}
			}
		}
		for j, sw := range d.Statuses {
			u := sw.Update
			key := statusKey(clean(u.MessageID), clean(u.Participant), clean(u.Status))
			r := ref{inbound: i, index: j, key: key, first: !seenStatuses[key], messageID: clean(u.MessageID), rank: sw.Rank}
			p.statusRefs = append(p.statusRefs, r)
			if r.first {
				seenStatuses[key] = true
				if err := p.statuses.add(sw, cb, statusSpans); err != nil {
					return nil, err
				}
			}
			// The state moves to the highest rank of the call; the upsert
			// only applies it if that is higher than the stored one.
			mid := clean(u.MessageID)
			at := receivedOr(u.Timestamp, receivedOr(u.ReceivedAt, cb.ReceivedAt)).UTC()
			if k, ok := stateAt[mid]; !ok {
				stateAt[mid] = len(p.states.messageID)
				p.states.add(mid, clean(u.Status), sw.Rank, at)
			} else if int32(sw.Rank) > p.states.rank[k] {
				p.states.status[k], p.states.rank[k], p.states.updatedAt[k] = clean(u.Status), int32(sw.Rank), at
			}
		}
		for j, cw := range d.Changes {
			key := clean(cw.Change.Key)
			r := ref{inbound: i, index: j, key: key, first: !seenChanges[key]}
			if cw.RawOnly {
				r.row = 1
			}
			p.changeRefs = append(p.changeRefs, r)
			if r.first {
				seenChanges[key] = true
				if err := p.changes.add(cw.Change, cb, changeSpans); err != nil {
					return nil, err
				}
			}
		}
		for j, q := range d.Quarantine {
			if hash := store.BodyHash(q); hash != "" {
				// A body entry: its own statement, in order, so a body
				// repeated within the call counts as a repeat too.
				one := quarantineCols{}
				if err := one.add(q, cb); err != nil {
					return nil, err
				}
				p.bodyQuarantine = append(p.bodyQuarantine, bodyEntry{ref: ref{inbound: i, index: j}, cols: one, hash: hash})
				continue
			}
			key := clean(q.MessageID)
			r := ref{inbound: i, index: j, key: key, first: true, row: len(p.quarantine.kind)}
			if key != "" {
				if seenQuarantine[key] {
					r.first, r.row = false, -1
				} else {
					seenQuarantine[key] = true
					p.quarantineMessageIDs = append(p.quarantineMessageIDs, key)
				}
			}
			p.quarantineRefs = append(p.quarantineRefs, r)
			if r.first {
				if err := p.quarantine.add(q, cb); err != nil {
					return nil, err
				}
			}
		}
	}
	p.callbacks.sortByKey()
	p.messages.sortByKey()
	p.orders.sortByKey()
	p.statuses.sortByKey()
	p.states.sortByKey()
	p.changes.sortByKey()
	p.links.addAll(links, now)
	return p, nil
}

// keyOrder returns the permutation that sorts keys in byte order. Rows
// are sent, and so inserted and locked, in key order: two transactions
// that share keys then wait for each other instead of deadlocking. Sorting
// here rather than with ORDER BY spares the server from sorting whole rows.
func keyOrder(keys []string) []int {
	perm := make([]int, len(keys))
	for i := range perm {
		perm[i] = i
	}
	slices.SortFunc(perm, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	return perm
}

// permute returns s reordered by perm.
func permute[T any](s []T, perm []int) []T {
	out := make([]T, len(s))
	for i, j := range perm {
		out[i] = s[j]
	}
	return out
}

// receivedOr returns t, or def when t is zero.
func receivedOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

type callbackCols struct {
	id, envelope []string
	receivedAt   []time.Time
	body         [][]byte
	headers      []string
}

func (c *callbackCols) add(cb *store.RawCallback) error {
	if err := checkTime("callback received time", cb.ReceivedAt); err != nil {
		return err
	}
	h, err := headersJSON(cb.Headers)
	if err != nil {
		return err
	}
	c.id = append(c.id, clean(cb.ID))
	c.envelope = append(c.envelope, clean(cb.Envelope))
	c.receivedAt = append(c.receivedAt, cb.ReceivedAt.UTC())
	c.body = append(c.body, bytesOrEmpty(cb.Body))
	c.headers = append(c.headers, h)
	return nil
}

func (c *callbackCols) sortByKey() {
	p := keyOrder(c.id)
	c.id, c.envelope, c.receivedAt = permute(c.id, p), permute(c.envelope, p), permute(c.receivedAt, p)
	c.body, c.headers = permute(c.body, p), permute(c.headers, p)
}

func (c *callbackCols) args() []any {
	return []any{c.id, c.envelope, c.receivedAt, c.body, c.headers}
}

const insertCallbacksSQL = `
INSERT INTO callbacks (id, envelope, received_at, body, headers)
SELECT id, envelope, received_at, body, headers::jsonb
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bytea[], $5::text[])
	AS t(id, envelope, received_at, body, headers)
ON CONFLICT (id) DO NOTHING`

type messageCols struct {
	id, callbackID, typ, waID, customerName, phoneNumberID, displayPhoneNumber, wabaID,
	ref, ref1, ref2, replyTo, traceID, contextMessageID, summary []string
	sentAt, receivedAt                                                                    []time.Time
	raw                                                                                   [][]byte
	warnings                                                                              []string
	customerKey, userID, parentUserID, username, direction, groupID, mediaURL, errorTitle []string
	errors                                                                                [][]byte
	errorCode                                                                             []int64
	// Where raw lies in the callback's body, when it does (NULL otherwise);
	// the insert keeps only the span if the stored body holds those bytes.
	rawOffset, rawLength []*int32
}

func (c *messageCols) add(m *waorders.Message, cb store.RawCallback, spans *store.RawSpans) error {
	received := receivedOr(m.ReceivedAt, cb.ReceivedAt)
	if err := checkTime("message "+m.ID+" sent time", m.SentAt); err != nil {
		return err
	}
	if err := checkTime("message "+m.ID+" received time", received); err != nil {
		return err
	}
	w, err := problemsJSON(m.Warnings)
	if err != nil {
		return err
	}
	cbID := m.CallbackID
	if cbID == "" {
		cbID = cb.ID
	}
	c.id = append(c.id, clean(m.ID))
	c.callbackID = append(c.callbackID, clean(cbID))
	c.typ = append(c.typ, clean(m.Type))
	c.waID = append(c.waID, clean(m.Customer.WaID))
	c.customerName = append(c.customerName, clean(m.Customer.Name))
	c.phoneNumberID = append(c.phoneNumberID, clean(m.Business.PhoneNumberID))
	c.displayPhoneNumber = append(c.displayPhoneNumber, clean(m.Business.DisplayPhoneNumber))
	c.wabaID = append(c.wabaID, clean(m.Business.WABAID))
	c.ref = append(c.ref, clean(m.Campaign.Ref))
	c.ref1 = append(c.ref1, clean(m.Campaign.Ref1))
	c.ref2 = append(c.ref2, clean(m.Campaign.Ref2))
	c.replyTo = append(c.replyTo, clean(m.ReplyTo))
	c.traceID = append(c.traceID, clean(m.TraceID))
	c.contextMessageID = append(c.contextMessageID, clean(m.ContextMessageID))
	c.summary = append(c.summary, clean(m.Summary))
	c.sentAt = append(c.sentAt, m.SentAt.UTC())
	c.receivedAt = append(c.receivedAt, received.UTC())
	c.raw = append(c.raw, bytesOrEmpty(m.Raw))
	off, n := span(spans, m.Raw)
	c.rawOffset, c.rawLength = append(c.rawOffset, off), append(c.rawLength, n)
	c.warnings = append(c.warnings, w)
	c.customerKey = append(c.customerKey, clean(m.Customer.Key()))
	c.userID = append(c.userID, clean(m.Customer.UserID))
	c.parentUserID = append(c.parentUserID, clean(m.Customer.ParentUserID))
	c.username = append(c.username, clean(m.Customer.Username))
	dir := m.Direction
	if dir == "" {
		dir = waorders.DirectionInbound
	}
	c.direction = append(c.direction, clean(dir))
	c.groupID = append(c.groupID, clean(m.GroupID))
	c.mediaURL = append(c.mediaURL, clean(m.MediaURL))
	var errs []byte
	if len(m.Errors) > 0 {
		errs = m.Errors
	}
	c.errors = append(c.errors, errs)
	c.errorCode = append(c.errorCode, m.ErrorCode)
	c.errorTitle = append(c.errorTitle, clean(m.ErrorTitle))
	return nil
}

// span returns where raw lies in the body spans searches, or nils.
func span(spans *store.RawSpans, raw []byte) (offset, length *int32) {
	if spans == nil {
		return nil, nil
	}
	off, ok := spans.Find(raw)
	if !ok || int64(off)+int64(len(raw)) > math.MaxInt32 {
		return nil, nil
	}
	o, n := int32(off), int32(len(raw))
	return &o, &n
}

func (c *messageCols) sortByKey() {
	p := keyOrder(c.id)
	for _, col := range []*[]string{&c.id, &c.callbackID, &c.typ, &c.waID, &c.customerName, &c.phoneNumberID,
		&c.displayPhoneNumber, &c.wabaID, &c.ref, &c.ref1, &c.ref2, &c.replyTo, &c.traceID, &c.contextMessageID,
		&c.summary, &c.warnings, &c.customerKey, &c.userID, &c.parentUserID, &c.username, &c.direction, &c.groupID,
		&c.mediaURL, &c.errorTitle} {
		*col = permute(*col, p)
	}
	c.errors, c.errorCode = permute(c.errors, p), permute(c.errorCode, p)
	c.sentAt, c.receivedAt, c.raw = permute(c.sentAt, p), permute(c.receivedAt, p), permute(c.raw, p)
	c.rawOffset, c.rawLength = permute(c.rawOffset, p), permute(c.rawLength, p)
}

func (c *messageCols) args() []any {
	return []any{c.id, c.callbackID, c.typ, c.waID, c.customerName, c.phoneNumberID, c.displayPhoneNumber,
		c.wabaID, c.ref, c.ref1, c.ref2, c.replyTo, c.traceID, c.contextMessageID, c.summary,
		c.sentAt, c.receivedAt, c.raw, c.warnings, c.rawOffset, c.rawLength,
		c.customerKey, c.userID, c.parentUserID, c.username, c.direction, c.groupID, c.mediaURL, c.errors, c.errorCode,
		c.errorTitle}
}

// insertMessagesSQL inserts the new messages. A message whose raw JSON is
// the stated span of its callback's stored body (the callbacks insert runs
// first in the same transaction) keeps only the span.
const insertMessagesSQL = `
INSERT INTO messages (id, callback_id, type, wa_id, customer_name, phone_number_id, display_phone_number,
	waba_id, ref, ref1, ref2, reply_to, trace_id, context_message_id, summary, sent_at, received_at, raw, warnings,
	raw_offset, raw_length, customer_key, customer_user_id, customer_parent_user_id, customer_username, direction,
	group_id, media_url, errors, error_code, error_title)
SELECT t.id, t.callback_id, t.type, t.wa_id, t.customer_name, t.phone_number_id, t.display_phone_number,
	t.waba_id, t.ref, t.ref1, t.ref2, t.reply_to, t.trace_id, t.context_message_id, t.summary, t.sent_at, t.received_at,
	CASE WHEN s.ok THEN NULL ELSE t.raw END, t.warnings::jsonb,
	CASE WHEN s.ok THEN t.raw_offset END, CASE WHEN s.ok THEN t.raw_length END,
	t.customer_key, t.customer_user_id, t.customer_parent_user_id, t.customer_username, t.direction,
	t.group_id, t.media_url, t.errors, t.error_code, t.error_title
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
	$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
	$16::timestamptz[], $17::timestamptz[], $18::bytea[], $19::text[], $20::integer[], $21::integer[],
	$22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::bytea[],
	$30::bigint[], $31::text[])
	AS t(id, callback_id, type, wa_id, customer_name, phone_number_id, display_phone_number,
	waba_id, ref, ref1, ref2, reply_to, trace_id, context_message_id, summary, sent_at, received_at, raw, warnings,
	raw_offset, raw_length, customer_key, customer_user_id, customer_parent_user_id, customer_username, direction,
	group_id, media_url, errors, error_code, error_title)
CROSS JOIN LATERAL (SELECT ` + spanStored + ` AS ok) s
ON CONFLICT (id) DO NOTHING
RETURNING id`

// spanStored is true when t.raw is the span (t.raw_offset, t.raw_length)
// of the body stored for t.callback_id.
const spanStored = `t.raw_length IS NOT NULL AND EXISTS (SELECT 1 FROM callbacks c
	WHERE c.id = t.callback_id AND substring(c.body FROM t.raw_offset + 1 FOR t.raw_length) = t.raw)`

type orderCols struct {
	id, status, catalogID, text, waID, customerName, phoneNumberID, displayPhoneNumber, wabaID,
	ref, ref1, ref2, replyTo, contextMessageID, traceID []string
	units                          []int64
	soleCurrency                   []*string // nil for an order in several currencies
	soleTotal                      []*int64
	orderedAt, receivedAt          []time.Time
	warnings                       []string
	search                         []string
	itemOrder, itemProduct         []string
	itemPosition                   []int32
	itemQuantity                   []int64
	itemCurrency                   []string
	itemUnitMinor, itemLineMin     []int64
	itemRawQty, itemRawPrice       []string
	itemRawCurrency, itemProblems  []string
	totalOrder, totalCurrency      []string
	totalPosition                  []int32
	totalMinor                     []int64
	userID, parentUserID, username []string
}

// add lays out a new order: id is its message's id, its status is pending
// at version 1, and its history starts with the creation entry.
func (c *orderCols) add(id string, o *waorders.Order, messageReceivedAt time.Time) error {
	received := receivedOr(o.ReceivedAt, messageReceivedAt)
	if err := checkTime("order "+id+" time", o.OrderedAt); err != nil {
		return err
	}
	if err := checkTime("order "+id+" received time", received); err != nil {
		return err
	}
	w, err := problemsJSON(o.Warnings)
	if err != nil {
		return err
	}
	totals := o.Totals
	if len(totals) == 0 {
		if totals, err = waorders.ComputeTotals(o.Items); err != nil {
			return waorders.Wrap(waorders.CodeInvalid, err, "order "+id+" totals")
		}
	}
	c.id = append(c.id, id)
	c.status = append(c.status, string(store.InitialStatus(o)))
	c.catalogID = append(c.catalogID, clean(o.CatalogID))
	c.text = append(c.text, clean(o.Text))
	c.waID = append(c.waID, clean(o.Customer.WaID))
	c.customerName = append(c.customerName, clean(o.Customer.Name))
	c.search = append(c.search, store.SearchText(o.Customer.Name, o.Text))
	c.phoneNumberID = append(c.phoneNumberID, clean(o.Business.PhoneNumberID))
	c.displayPhoneNumber = append(c.displayPhoneNumber, clean(o.Business.DisplayPhoneNumber))
	c.wabaID = append(c.wabaID, clean(o.Business.WABAID))
	c.ref = append(c.ref, clean(o.Campaign.Ref))
	c.ref1 = append(c.ref1, clean(o.Campaign.Ref1))
	c.ref2 = append(c.ref2, clean(o.Campaign.Ref2))
	c.replyTo = append(c.replyTo, clean(o.ReplyTo))
	c.contextMessageID = append(c.contextMessageID, clean(o.ContextMessageID))
	c.traceID = append(c.traceID, clean(o.TraceID))
	c.units = append(c.units, o.Units())
	if len(totals) == 1 {
		c.soleCurrency = append(c.soleCurrency, &totals[0].Currency)
		c.soleTotal = append(c.soleTotal, &totals[0].Minor)
	} else {
		c.soleCurrency, c.soleTotal = append(c.soleCurrency, nil), append(c.soleTotal, nil)
	}
	c.orderedAt = append(c.orderedAt, o.OrderedAt.UTC())
	c.receivedAt = append(c.receivedAt, received.UTC())
	c.warnings = append(c.warnings, w)
	c.userID = append(c.userID, clean(o.Customer.UserID))
	c.parentUserID = append(c.parentUserID, clean(o.Customer.ParentUserID))
	c.username = append(c.username, clean(o.Customer.Username))

	for k, it := range o.Items {
		c.itemOrder = append(c.itemOrder, id)
		c.itemPosition = append(c.itemPosition, int32(k))
		c.itemProduct = append(c.itemProduct, clean(it.ProductRetailerID))
		c.itemQuantity = append(c.itemQuantity, it.Quantity)
		c.itemCurrency = append(c.itemCurrency, it.UnitPrice.Currency)
		c.itemUnitMinor = append(c.itemUnitMinor, it.UnitPrice.Minor)
		c.itemLineMin = append(c.itemLineMin, it.LineTotal.Minor)
		c.itemRawQty = append(c.itemRawQty, clean(it.RawQuantity))
		c.itemRawPrice = append(c.itemRawPrice, clean(it.RawPrice))
		c.itemRawCurrency = append(c.itemRawCurrency, clean(it.RawCurrency))
		ps := "null"
		if len(it.Problems) > 0 {
			if ps, err = problemsJSON(it.Problems); err != nil {
				return err
			}
		}
		c.itemProblems = append(c.itemProblems, ps)
	}
	for k, t := range totals {
		c.totalOrder = append(c.totalOrder, id)
		c.totalPosition = append(c.totalPosition, int32(k))
		c.totalCurrency = append(c.totalCurrency, t.Currency)
		c.totalMinor = append(c.totalMinor, t.Minor)
	}
	return nil
}

// sortByKey sorts the orders; their items and totals join by id.
func (c *orderCols) sortByKey() {
	p := keyOrder(c.id)
	for _, col := range []*[]string{&c.id, &c.status, &c.catalogID, &c.text, &c.waID, &c.customerName,
		&c.phoneNumberID, &c.displayPhoneNumber, &c.wabaID, &c.ref, &c.ref1, &c.ref2, &c.replyTo,
		&c.contextMessageID, &c.traceID, &c.warnings, &c.search, &c.userID, &c.parentUserID, &c.username} {
		*col = permute(*col, p)
	}
	c.units, c.orderedAt, c.receivedAt = permute(c.units, p), permute(c.orderedAt, p), permute(c.receivedAt, p)
	c.soleCurrency, c.soleTotal = permute(c.soleCurrency, p), permute(c.soleTotal, p)
}

func (c *orderCols) args() []any {
	return []any{c.id, c.status, c.catalogID, c.text, c.waID, c.customerName, c.phoneNumberID,
		c.displayPhoneNumber, c.wabaID, c.ref, c.ref1, c.ref2, c.replyTo, c.contextMessageID, c.traceID,
		c.units, c.orderedAt, c.receivedAt, c.warnings, c.search,
		c.itemOrder, c.itemPosition, c.itemProduct, c.itemQuantity, c.itemCurrency, c.itemUnitMinor, c.itemLineMin,
		c.totalOrder, c.totalPosition, c.totalCurrency, c.totalMinor,
		c.soleCurrency, c.soleTotal, c.userID, c.parentUserID, c.username,
		c.itemRawQty, c.itemRawPrice, c.itemRawCurrency, c.itemProblems}
}

// insertOrdersSQL inserts the orders that are new and, for those only (the
// RETURNING of the first statement), their items and totals, and adds them
// to the campaign rollup. The creation entry of their history is not
// stored (store.WithCreation derives it).
const insertOrdersSQL = `
WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
		$16::bigint[], $17::timestamptz[], $18::timestamptz[], $19::text[], $20::text[],
		$32::text[], $33::bigint[], $34::text[], $35::text[], $36::text[])
	AS t(id, status, catalog_id, text, wa_id, customer_name, phone_number_id,
		display_phone_number, waba_id, ref, ref1, ref2, reply_to, context_message_id, trace_id,
		units, ordered_at, received_at, warnings, search, total_currency, total_minor,
		customer_user_id, customer_parent_user_id, customer_username)
), new AS (
	INSERT INTO orders (id, status, version, catalog_id, text, wa_id, customer_name, phone_number_id,
		display_phone_number, waba_id, ref, ref1, ref2, reply_to, context_message_id, trace_id,
		units, ordered_at, received_at, warnings, search, total_currency, total_minor,
		customer_user_id, customer_parent_user_id, customer_username)
	SELECT id, status, 1, catalog_id, text, wa_id, customer_name, phone_number_id,
		display_phone_number, waba_id, ref, ref1, ref2, reply_to, context_message_id, trace_id,
		units, ordered_at, received_at, warnings::jsonb, search, total_currency, total_minor,
		customer_user_id, customer_parent_user_id, customer_username
	FROM input
	ON CONFLICT (id) DO NOTHING
	RETURNING id, status, received_at, ref, ref1, ref2, units, ordered_at
), items AS (
	INSERT INTO order_items (order_id, position, product_retailer_id, quantity, currency, unit_price_minor, line_total_minor,
		raw_quantity, raw_price, raw_currency, problems)
	SELECT i.order_id, i.position, i.product, i.quantity, i.currency, i.unit_minor, i.line_minor,
		i.raw_quantity, i.raw_price, i.raw_currency, nullif(i.problems::jsonb, 'null'::jsonb)
	FROM unnest($21::text[], $22::integer[], $23::text[], $24::bigint[], $25::text[], $26::bigint[], $27::bigint[],
		$37::text[], $38::text[], $39::text[], $40::text[])
		AS i(order_id, position, product, quantity, currency, unit_minor, line_minor, raw_quantity, raw_price, raw_currency, problems)
	JOIN new ON new.id = i.order_id
), totals AS (
	INSERT INTO order_totals (order_id, position, currency, amount_minor)
	SELECT t.order_id, t.position, t.currency, t.minor
	FROM unnest($28::text[], $29::integer[], $30::text[], $31::bigint[]) AS t(order_id, position, currency, minor)
	JOIN new ON new.id = t.order_id
), grouped AS (
	SELECT g.grouping, g.campaign, date_trunc('day', n.ordered_at, 'UTC') AS day, n.id, n.units, n.ordered_at
	FROM new n CROSS JOIN LATERAL (VALUES ('ref', n.ref), ('ref1', n.ref1), ('ref2', n.ref2)) AS g(grouping, campaign)
	WHERE n.status <> 'needs_review' -- enters the rollup when reviewed
), rollup AS (
	-- The new orders only, summed per rollup row; one statement taking
	-- the rows in key order, so concurrent writers cannot deadlock.
	INSERT INTO campaign_days AS c (grouping, campaign, day, currency, orders, units, revenue_minor, first_at, last_at)
	SELECT * FROM (
		SELECT grouping, campaign, day, '' AS currency, count(*) AS orders, sum(units)::bigint AS units,
			0::bigint AS revenue_minor, min(ordered_at) AS first_at, max(ordered_at) AS last_at
		FROM grouped GROUP BY 1, 2, 3
		UNION ALL
		SELECT r.grouping, r.campaign, r.day, t.currency, 0, 0, sum(t.minor)::bigint, min(r.ordered_at), max(r.ordered_at)
		FROM grouped r JOIN unnest($28::text[], $30::text[], $31::bigint[]) AS t(order_id, currency, minor) ON t.order_id = r.id
		GROUP BY 1, 2, 3, 4
	) AS d ORDER BY grouping, day, campaign, currency
	ON CONFLICT (grouping, day, campaign, currency) DO UPDATE SET orders = c.orders + excluded.orders,
		units = c.units + excluded.units, revenue_minor = c.revenue_minor + excluded.revenue_minor,
		first_at = least(c.first_at, excluded.first_at), last_at = greatest(c.last_at, excluded.last_at)
)
SELECT count(*) FROM new`

type statusCols struct {
	messageID, status, recipientID, callbackID                                 []string
	participant, recipientUserID, recipientParentUserID, recipientKey, groupID []string
	conversation, pricing                                                      [][]byte
	rank                                                                       []int32
	ts, receivedAt                                                             []time.Time
	errors, raw                                                                [][]byte
	rawOffset, rawLength                                                       []*int32 // as in messageCols
}

func (c *statusCols) add(sw store.StatusWrite, cb store.RawCallback, spans *store.RawSpans) error {
	u := sw.Update
	received := receivedOr(u.ReceivedAt, cb.ReceivedAt)
	if err := checkTime("status time", u.Timestamp); err != nil {
		return err
	}
	if err := checkTime("status received time", received); err != nil {
		return err
	}
	cbID := u.CallbackID
	if cbID == "" {
		cbID = cb.ID
	}
	var errs []byte
	if len(u.Errors) > 0 {
		errs = u.Errors
	}
	c.messageID = append(c.messageID, clean(u.MessageID))
	c.status = append(c.status, clean(u.Status))
	c.rank = append(c.rank, int32(sw.Rank))
	c.recipientID = append(c.recipientID, clean(u.RecipientID))
	c.callbackID = append(c.callbackID, clean(cbID))
	c.participant = append(c.participant, clean(u.Participant))
	c.recipientUserID = append(c.recipientUserID, clean(u.RecipientUserID))
	c.recipientParentUserID = append(c.recipientParentUserID, clean(u.RecipientParentUserID))
	c.recipientKey = append(c.recipientKey, clean(waorders.Customer{WaID: u.RecipientID, UserID: u.RecipientUserID,
		ParentUserID: u.RecipientParentUserID}.Key()))
	c.groupID = append(c.groupID, clean(u.GroupID))
	c.conversation = append(c.conversation, nilIfEmpty(u.Conversation))
	c.pricing = append(c.pricing, nilIfEmpty(u.Pricing))
	c.ts = append(c.ts, u.Timestamp.UTC())
	c.receivedAt = append(c.receivedAt, received.UTC())
	c.errors = append(c.errors, errs)
	c.raw = append(c.raw, bytesOrEmpty(u.Raw))
	off, n := span(spans, u.Raw)
	c.rawOffset, c.rawLength = append(c.rawOffset, off), append(c.rawLength, n)
	return nil
}

func (c *statusCols) sortByKey() {
	keys := make([]string, len(c.messageID))
	for i := range keys {
		keys[i] = statusKey(c.messageID[i], c.participant[i], c.status[i])
	}
	p := keyOrder(keys)
	for _, col := range []*[]string{&c.messageID, &c.status, &c.recipientID, &c.callbackID, &c.participant,
		&c.recipientUserID, &c.recipientParentUserID, &c.recipientKey, &c.groupID} {
		*col = permute(*col, p)
	}
	c.conversation, c.pricing = permute(c.conversation, p), permute(c.pricing, p)
	c.rank, c.ts, c.receivedAt = permute(c.rank, p), permute(c.ts, p), permute(c.receivedAt, p)
	c.errors, c.raw = permute(c.errors, p), permute(c.raw, p)
	c.rawOffset, c.rawLength = permute(c.rawOffset, p), permute(c.rawLength, p)
}

func (c *statusCols) args() []any {
	return []any{c.messageID, c.status, c.rank, c.recipientID, c.callbackID, c.ts, c.receivedAt, c.errors, c.raw,
		c.rawOffset, c.rawLength, c.participant, c.recipientUserID, c.recipientParentUserID, c.recipientKey, c.groupID,
		c.conversation, c.pricing}
}

const insertStatusesSQL = `
INSERT INTO statuses (message_id, status, rank, recipient_id, callback_id, ts, received_at, errors, raw,
	raw_offset, raw_length, participant, recipient_user_id, recipient_parent_user_id, recipient_key, group_id,
	conversation, pricing)
SELECT t.message_id, t.status, t.rank, t.recipient_id, t.callback_id, t.ts, t.received_at, t.errors,
	CASE WHEN s.ok THEN NULL ELSE t.raw END, CASE WHEN s.ok THEN t.raw_offset END, CASE WHEN s.ok THEN t.raw_length END,
	t.participant, t.recipient_user_id, t.recipient_parent_user_id, t.recipient_key, t.group_id, t.conversation, t.pricing
FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[],
	$6::timestamptz[], $7::timestamptz[], $8::bytea[], $9::bytea[], $10::integer[], $11::integer[],
	$12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bytea[], $18::bytea[])
	AS t(message_id, status, rank, recipient_id, callback_id, ts, received_at, errors, raw, raw_offset, raw_length,
	participant, recipient_user_id, recipient_parent_user_id, recipient_key, group_id, conversation, pricing)
CROSS JOIN LATERAL (SELECT ` + spanStored + ` AS ok) s
ON CONFLICT (message_id, participant, status) DO NOTHING
RETURNING message_id, participant, status`

type stateCols struct {
	messageID, status []string
	rank              []int32
	updatedAt         []time.Time
}

func (c *stateCols) add(messageID, status string, rank int, at time.Time) {
	c.messageID = append(c.messageID, messageID)
	c.status = append(c.status, status)
	c.rank = append(c.rank, int32(rank))
	c.updatedAt = append(c.updatedAt, at.UTC())
}

func (c *stateCols) sortByKey() {
	p := keyOrder(c.messageID)
	c.messageID, c.status = permute(c.messageID, p), permute(c.status, p)
	c.rank, c.updatedAt = permute(c.rank, p), permute(c.updatedAt, p)
}

func (c *stateCols) args() []any { return []any{c.messageID, c.status, c.rank, c.updatedAt} }

// upsertStatesSQL moves each message's state forward only: an existing
// state is replaced only by a higher rank.
const upsertStatesSQL = `
INSERT INTO message_states AS s (message_id, status, rank, updated_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::timestamptz[])
ON CONFLICT (message_id) DO UPDATE
	SET status = excluded.status, rank = excluded.rank, updated_at = excluded.updated_at
	WHERE excluded.rank > s.rank
RETURNING message_id`

// lockStatesSQL reads and locks the states the upsert is about to move.
const lockStatesSQL = `SELECT message_id, rank FROM message_states WHERE message_id = ANY($1) ORDER BY message_id FOR UPDATE`

type quarantineCols struct {
	kind, callbackID, messageID, envelope, reason, message, problems []string
	body                                                             [][]byte
	headers                                                          []string
	receivedAt                                                       []time.Time
	resolvedAt                                                       []*time.Time
	attempts                                                         []int32
}

func (c *quarantineCols) add(q *waorders.QuarantineEntry, cb store.RawCallback) error {
	received := q.ReceivedAt
	if received.IsZero() {
		received = cb.ReceivedAt
	}
	if err := checkTime("quarantine received time", received); err != nil {
		return err
	}
	ps, err := problemsJSON(q.Problems)
	if err != nil {
		return err
	}
	h, err := headersJSON(q.Headers)
	if err != nil {
		return err
	}
	cbID, env := q.CallbackID, q.Envelope
	if cbID == "" {
		cbID = cb.ID
	}
	c.kind = append(c.kind, clean(q.Kind))
	c.callbackID = append(c.callbackID, clean(cbID))
	c.messageID = append(c.messageID, clean(q.MessageID))
	c.envelope = append(c.envelope, clean(env))
	c.reason = append(c.reason, clean(q.Reason))
	c.message = append(c.message, clean(q.Message))
	c.problems = append(c.problems, ps)
	c.body = append(c.body, bytesOrEmpty(q.Body))
	c.headers = append(c.headers, h)
	c.receivedAt = append(c.receivedAt, received.UTC())
	c.resolvedAt = append(c.resolvedAt, nullTime(q.ResolvedAt.UTC()))
	c.attempts = append(c.attempts, int32(q.Attempts))
	return nil
}

func (c *quarantineCols) args() []any {
	return []any{c.kind, c.callbackID, c.messageID, c.envelope, c.reason, c.message, c.problems,
		c.body, c.headers, c.receivedAt, c.resolvedAt, c.attempts}
}

// insertQuarantineSQL draws the ids first, so that every input row (by
// ordinality) learns its id and whether it was inserted; a message's entry
// that already exists is skipped by the partial unique index.
const insertQuarantineSQL = `
WITH input AS MATERIALIZED (
	SELECT nextval(pg_get_serial_sequence('quarantine', 'id')) AS id, t.*
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::bytea[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::integer[]) WITH ORDINALITY
		AS t(kind, callback_id, message_id, envelope, reason, message, problems, body, headers, received_at,
			resolved_at, attempts, ord)
), new AS (
	INSERT INTO quarantine (id, kind, callback_id, message_id, envelope, reason, message, problems, body, headers,
		received_at, resolved_at, attempts)
	SELECT id, kind, callback_id, message_id, envelope, reason, message, problems::jsonb, body, headers::jsonb,
		received_at, resolved_at, attempts
	FROM input
	ORDER BY message_id, ord
	ON CONFLICT (message_id) WHERE message_id <> '' DO NOTHING
	RETURNING id
)
SELECT input.ord, input.id, new.id IS NOT NULL FROM input LEFT JOIN new ON new.id = input.id`

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

type changeCols struct {
	key, callbackID, field, kind, event, summary, customerKey, waID, userID, parentUserID, username, name []string
	at, receivedAt                                                                                        []time.Time
	raw                                                                                                   [][]byte
	rawOffset, rawLength                                                                                  []*int32
	warnings                                                                                              []string
}

func (c *changeCols) add(ch *waorders.Change, cb store.RawCallback, spans *store.RawSpans) error {
	received := receivedOr(ch.ReceivedAt, cb.ReceivedAt)
	at := receivedOr(ch.At, received)
	if err := checkTime("change time", at); err != nil {
		return err
	}
	if err := checkTime("change received time", received); err != nil {
		return err
	}
	w, err := problemsJSON(ch.Warnings)
	if err != nil {
		return err
	}
	cbID := ch.CallbackID
	if cbID == "" {
		cbID = cb.ID
	}
	cu := ch.Customer
	c.key = append(c.key, clean(ch.Key))
	c.callbackID = append(c.callbackID, clean(cbID))
	c.field = append(c.field, clean(ch.Field))
	c.kind = append(c.kind, clean(ch.Kind))
	c.event = append(c.event, clean(ch.Event))
	c.summary = append(c.summary, clean(ch.Summary))
	c.customerKey = append(c.customerKey, clean(cu.Key()))
	c.waID = append(c.waID, clean(cu.WaID))
	c.userID = append(c.userID, clean(cu.UserID))
	c.parentUserID = append(c.parentUserID, clean(cu.ParentUserID))
	c.username = append(c.username, clean(cu.Username))
	c.name = append(c.name, clean(cu.Name))
	c.at = append(c.at, at.UTC())
	c.receivedAt = append(c.receivedAt, received.UTC())
	c.raw = append(c.raw, bytesOrEmpty(ch.Raw))
	off, n := span(spans, ch.Raw)
	c.rawOffset, c.rawLength = append(c.rawOffset, off), append(c.rawLength, n)
	c.warnings = append(c.warnings, w)
	return nil
}

func (c *changeCols) sortByKey() {
	p := keyOrder(c.key)
	for _, col := range []*[]string{&c.key, &c.callbackID, &c.field, &c.kind, &c.event, &c.summary, &c.customerKey,
		&c.waID, &c.userID, &c.parentUserID, &c.username, &c.name, &c.warnings} {
		*col = permute(*col, p)
	}
	c.at, c.receivedAt, c.raw = permute(c.at, p), permute(c.receivedAt, p), permute(c.raw, p)
	c.rawOffset, c.rawLength = permute(c.rawOffset, p), permute(c.rawLength, p)
}

func (c *changeCols) args() []any {
	return []any{c.key, c.callbackID, c.field, c.kind, c.event, c.summary, c.customerKey, c.waID, c.userID,
		c.parentUserID, c.username, c.name, c.at, c.receivedAt, c.raw, c.rawOffset, c.rawLength, c.warnings}
}

// insertChangesSQL inserts the new changes; a raw JSON found in the stored
// body of its callback keeps only the span, as messages do.
const insertChangesSQL = `
INSERT INTO changes (key, callback_id, field, kind, event, summary, customer_key, customer_wa_id, customer_user_id,
	customer_parent_user_id, customer_username, customer_name, at, received_at, raw, raw_offset, raw_length, warnings)
SELECT t.key, t.callback_id, t.field, t.kind, t.event, t.summary, t.customer_key, t.wa_id, t.user_id,
	t.parent_user_id, t.username, t.name, t.at, t.received_at,
	CASE WHEN s.ok THEN NULL ELSE t.raw END, CASE WHEN s.ok THEN t.raw_offset END, CASE WHEN s.ok THEN t.raw_length END,
	t.warnings::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
	$9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[], $15::bytea[],
	$16::integer[], $17::integer[], $18::text[])
	AS t(key, callback_id, field, kind, event, summary, customer_key, wa_id, user_id, parent_user_id, username, name,
	at, received_at, raw, raw_offset, raw_length, warnings)
CROSS JOIN LATERAL (SELECT ` + spanStored + ` AS ok) s
ON CONFLICT (key) DO NOTHING
RETURNING key`

type linkCols struct {
	aValue, aKind, bValue, bKind []string
	seenAt                       []time.Time
}

// addAll lays out the links of the whole call, deduplicated and in key
// order, so concurrent writers take their locks in the same order.
func (c *linkCols) addAll(links []store.CustomerLink, now time.Time) {
	slices.SortFunc(links, func(a, b store.CustomerLink) int { return strings.Compare(a.Key(), b.Key()) })
	links = slices.Compact(links)
	for _, l := range links {
		c.aValue = append(c.aValue, clean(l.A.Value))
		c.aKind = append(c.aKind, clean(l.A.Kind))
		c.bValue = append(c.bValue, clean(l.B.Value))
		c.bKind = append(c.bKind, clean(l.B.Kind))
		c.seenAt = append(c.seenAt, now.UTC())
	}
}

func (c *linkCols) args() []any { return []any{c.aValue, c.aKind, c.bValue, c.bKind, c.seenAt} }

const insertLinksSQL = `
INSERT INTO customer_links (a_value, a_kind, b_value, b_kind, seen_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
ON CONFLICT DO NOTHING`
