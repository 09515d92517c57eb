// Package intake is the callback pipeline: decode a body with package
// callback, turn it into one store.Inbound, and write it durably through a
// single group-commit writer, so that many concurrent callbacks share one
// transaction and one fsync. A caller gets its Result only after the
// transaction holding its Inbound has committed: that is when the HTTP
// layer may answer 2xx.
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/store"
)

// Config tunes the group-commit writer.
type Config struct {
	// MaxBatch caps the callbacks written per transaction (default 256).
	MaxBatch int
	// MaxWait is how long the writer lingers for more callbacks after the
	// first one arrives (default 0: take what is queued, commit at once;
	// while a commit runs the next batch queues up by itself).
	MaxWait time.Duration
	// CommitTimeout bounds one transaction (default 30s: a batch may hold a
	// callback of thousands of messages).
	CommitTimeout time.Duration
	// QueueSize is the number of callbacks that may wait for the writer
	// (default 4 × MaxBatch).
	QueueSize int
	// Writers is the number of group-commit writers (default 1). SQLite has
	// one write connection, so more would only queue on it; a server
	// database such as PostgreSQL overlaps the commits of several (each a
	// network round trip and an fsync away).
	Writers int
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	NowFunc func() time.Time
	// Events, when set, appends the event log's entries of every group
	// commit (events.Builder.FromInbound over what it stored) in the same
	// transaction as the records they describe.
	Events *EventLog
	// Outbound, when set, runs in the transaction of every group commit
	// (internal/notify: notification intents of new orders, status
	// callbacks joined to outbound messages).
	Outbound *OutboundHook
}

// OutboundHook is a write that joins the group commit's transaction.
// Apply reports whether it made work for the notifier; Notify is then
// called after the commit.
type OutboundHook struct {
	Store  TxStore
	Apply  func(ctx context.Context, tx store.Tx, ds []*store.Inbound, res []store.InboundResult) (bool, error)
	Notify func()
}

// EventLog is how the intake appends events: through the InTx of the
// store it writes to, to the static sinks named, with Notify called after
// each commit that appended any (a relay's wake-up hint, non-blocking).
type EventLog struct {
	Store   TxStore
	Builder *events.Builder
	Sinks   []string
	Notify  func()
	// Rider, when set, does the relay's writes (outcomes to record, due
	// deliveries to claim) in each group commit's transaction, after the
	// events, so that one commit covers both: on SQLite's one writer the
	// relay's own commits would otherwise queue in front of the intake's.
	Rider Rider
}

// Rider is the relay as the intake carries it (a *relay.Relay is one).
// Ride works within tx, a group commit of batch callbacks (the intake's
// load: large batches mean callbacks queue faster than they commit), and
// returns, when not nil, a function to call once tx has committed (true)
// or failed (false).
type Rider interface {
	Ride(ctx context.Context, tx store.Tx, batch int) func(committed bool)
}

// TxStore runs a store.Tx (a store.Store is one).
type TxStore interface {
	InTx(ctx context.Context, fn func(store.Tx) error) error
}

// ErrStopped is returned by Process after Stop: the service is shutting down.
var ErrStopped = waorders.Errorf(waorders.CodeUnavailable, "the service is shutting down; retry later")

// Intake is the pipeline. Create it with New, then Start it; Stop it after
// the HTTP server has stopped calling Process.
type Intake struct {
	store Store
	cfg   Config
	log   *slog.Logger
	m     *metrics.Metrics

	mu      sync.RWMutex // guards closed and sends on queue
	closed  bool
	queue   chan *pending
	writers sync.WaitGroup
	done    chan struct{} // closed when every writer has returned
	started bool
}

// pending is one Inbound waiting for the writer.
type pending struct {
	d   *store.Inbound
	res chan writeResult // buffered 1
}

type writeResult struct {
	r   store.InboundResult
	err error
}

// Store is what the intake needs of storage: it writes inbound callbacks
// and, to retry a quarantine entry, reads the entry and records the
// attempt. A store.Store is one.
type Store interface {
	store.InboundWriter
	GetQuarantine(ctx context.Context, id int64) (*waorders.QuarantineEntry, error)
	MarkQuarantineAttempt(ctx context.Context, p store.MarkQuarantineAttemptParams) (*waorders.QuarantineEntry, error)
}

var _ Store = store.Store(nil)

// New returns an intake writing to st.
func New(st Store, cfg Config) *Intake {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = 30 * time.Second
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 1
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4 * cfg.MaxBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	return &Intake{
		store: st, cfg: cfg, log: cfg.Logger, m: cfg.Metrics,
		queue: make(chan *pending, cfg.QueueSize),
		done:  make(chan struct{}),
	}
}

// Start runs the writer. It returns at once.
func (in *Intake) Start() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.started {
		return
	}
	in.started = true
	for range in.cfg.Writers {
		in.writers.Go(in.run)
	}
	go func() {
		in.writers.Wait()
		close(in.done)
	}()
}

// Stop refuses new callbacks, writes every one already queued, and returns
// when the writer has finished or ctx is done.
func (in *Intake) Stop(ctx context.Context) error {
	in.mu.Lock()
	if !in.closed {
		in.closed = true
		close(in.queue)
	}
	started := in.started
	in.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-in.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop intake: %w", ctx.Err())
	}
}

// Now returns the current time as the intake stamps it.
func (in *Intake) Now() time.Time { return receivedNow(in.cfg.NowFunc) }

// Request is one callback as received.
type Request struct {
	ID         string      // request id; becomes the callback row's id
	Endpoint   string      // "kaleyra" or "meta": for metrics and logs
	Body       []byte      // raw body, kept as is
	Headers    http.Header // request headers with secrets removed
	ReceivedAt time.Time   // zero: now
}

// Result is the answer to one callback: every message and status in it with
// what happened to it.
type Result struct {
	RequestID string       `json:"request_id"`
	Envelope  string       `json:"envelope"`
	Messages  []ItemResult `json:"messages"`
	Statuses  []ItemResult `json:"statuses"`
	// Changes lists every change whose field is not "messages" (calls,
	// user preferences, user id updates, echoes, business events, group,
	// sync and unknown fields), in body order.
	Changes []ChangeResult `json:"changes"`
}

// ChangeResult is the outcome of one change: stored (typed), kept (stored
// as raw JSON only), or duplicate.
type ChangeResult struct {
	Field    string             `json:"field"`
	Kind     string             `json:"kind"`
	Result   store.Outcome      `json:"result"`
	Summary  string             `json:"summary"`
	Warnings []callback.Problem `json:"warnings,omitempty"`
}

// ItemResult is the outcome of one message or status.
type ItemResult struct {
	ID           string             `json:"id"`
	Type         string             `json:"type,omitempty"`
	Status       string             `json:"status,omitempty"`
	Result       store.Outcome      `json:"result"`
	QuarantineID int64              `json:"quarantine_id,omitempty"`
	Errors       []callback.Problem `json:"errors,omitempty"`
	Warnings     []callback.Problem `json:"warnings,omitempty"`
}

// RejectedError is returned by Process for a body that cannot be decoded.
// The body is already in quarantine under QuarantineID when it is returned.
type RejectedError struct {
	Decode       *callback.DecodeError
	QuarantineID int64
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("callback rejected: %v", e.Decode)
}

func (e *RejectedError) Unwrap() error { return e.Decode }

// Process decodes, writes and answers one callback. It returns:
//   - a Result, once the callback's records are durably committed;
//   - a *RejectedError if the body cannot be decoded (the body is durably
//     quarantined first);
//   - a CodeUnavailable *waorders.Error if storage failed or the service is
//     stopping: nothing was acknowledged, the provider should retry.
func (in *Intake) Process(ctx context.Context, req Request) (*Result, error) {
	if req.ReceivedAt.IsZero() {
		req.ReceivedAt = in.Now()
	}
	cb, err := callback.Decode(req.Body)
	if err != nil {
		var de *callback.DecodeError
		if !errors.As(err, &de) {
			de = &callback.DecodeError{Code: callback.CodeInvalidJSON, Path: callback.RootPath, Message: err.Error()}
		}
		d := &store.Inbound{Quarantine: []*waorders.QuarantineEntry{bodyQuarantine(&req, de)}}
		wr, werr := in.write(ctx, d)
		if werr != nil {
			return nil, werr
		}
		in.m.Callbacks.WithLabelValues(req.Endpoint, "body", "rejected").Inc()
		var qid int64
		if len(wr.Quarantine) > 0 {
			qid = wr.Quarantine[0].ID
			if wr.Quarantine[0].Outcome == store.Stored {
				in.m.Quarantined.WithLabelValues(waorders.QuarantineBody).Inc()
			}
		}
		return nil, &RejectedError{Decode: de, QuarantineID: qid}
	}
	d, recs := build(&req, cb)
	in.m.CallbackRecords.Observe(float64(len(recs)))
	wr, err := in.write(ctx, d)
	if err != nil {
		return nil, err
	}
	return in.answer(&req, cb, recs, wr), nil
}

// answer builds the Result and counts what happened.
func (in *Intake) answer(req *Request, cb *callback.Callback, recs []record, wr store.InboundResult) *Result {
	res := &Result{RequestID: req.ID, Envelope: string(cb.Envelope), Messages: []ItemResult{}, Statuses: []ItemResult{},
		Changes: []ChangeResult{}}
	for _, r := range recs {
		if r.kind == "change" {
			res.Changes = append(res.Changes, changeResult(r, wr))
			continue
		}
		ir := ItemResult{ID: r.id}
		if r.kind == "message" {
			ir.Type = r.typ
		} else {
			ir.Status = r.typ
		}
		for _, p := range r.problems {
			if p.Severity == callback.SeverityError {
				ir.Errors = append(ir.Errors, p)
			} else {
				ir.Warnings = append(ir.Warnings, p)
			}
		}
		switch {
		case r.quarantine:
			q := wr.Quarantine[r.index]
			ir.Result, ir.QuarantineID = store.Quarantined, q.ID
			if q.Outcome == store.Stored {
				in.m.Quarantined.WithLabelValues(waorders.QuarantineMessage).Inc()
			}
		case r.kind == "message":
			ir.Result = wr.Messages[r.index]
			if r.needsReview && ir.Result == store.Stored {
				in.m.NeedsReview.Inc()
			}
		default:
			ir.Result = wr.Statuses[r.index]
		}
		if ir.Result == store.Duplicate {
			in.m.Duplicates.Inc()
		}
		typ := r.typ
		if r.kind == "status" {
			typ = "status"
		} else if !knownType(typ) {
			typ = "other"
		}
		in.m.Callbacks.WithLabelValues(string(cb.Envelope), typ, string(ir.Result)).Inc()
		if r.kind == "message" {
			res.Messages = append(res.Messages, ir)
		} else {
			res.Statuses = append(res.Statuses, ir)
		}
	}
	return res
}

// knownType keeps the metrics' type label bounded: customer-chosen type
// strings would otherwise create unbounded series.
func knownType(t string) bool {
	m := callback.Message{Type: callback.MessageType(t)}
	return m.Known()
}

// write queues d for the writer and waits for its commit.
func (in *Intake) write(ctx context.Context, d *store.Inbound) (store.InboundResult, error) {
	p := &pending{d: d, res: make(chan writeResult, 1)}
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		return store.InboundResult{}, ErrStopped
	}
	select {
	case in.queue <- p:
		in.mu.RUnlock()
	case <-ctx.Done():
		in.mu.RUnlock()
		return store.InboundResult{}, waorders.Wrap(waorders.CodeUnavailable, ctx.Err(), "the request ended before it could be stored; retry")
	}
	// Once queued, the Inbound will be written whatever happens to ctx:
	// waiting for the outcome keeps the answer truthful.
	wr := <-p.res
	return wr.r, wr.err
}

// run is one writer: take the first queued Inbound, gather what else is
// queued (up to MaxBatch, lingering at most MaxWait), commit them in one
// transaction, answer each, repeat until the queue is closed and drained.
func (in *Intake) run() {
	batch := make([]*pending, 0, in.cfg.MaxBatch)
	for first := range in.queue {
		batch = append(batch[:0], first)
		batch = in.gather(batch)
		in.commit(batch)
		clear(batch)
	}
}

func (in *Intake) gather(batch []*pending) []*pending {
	var timer <-chan time.Time
	if in.cfg.MaxWait > 0 {
		t := time.NewTimer(in.cfg.MaxWait)
		defer t.Stop()
		timer = t.C
	}
	for len(batch) < in.cfg.MaxBatch {
		select {
		case p, ok := <-in.queue:
			if !ok {
				return batch
			}
			batch = append(batch, p)
			continue
		default:
		}
		if timer == nil {
			return batch
		}
		select {
		case p, ok := <-in.queue:
			if !ok {
				return batch
			}
			batch = append(batch, p)
		case <-timer:
			return batch
		}
	}
	return batch
}

// commit writes a batch. If the batch fails as a whole and holds more than
// one Inbound, each is retried on its own, so one poisoned Inbound cannot
// fail its neighbours; if storage is down, every one fails fast.
func (in *Intake) commit(batch []*pending) {
	ds := make([]*store.Inbound, len(batch))
	for i, p := range batch {
		ds[i] = p.d
	}
	results, err := in.writeBatch(ds)
	if err == nil {
		for i, p := range batch {
			p.res <- writeResult{r: results[i]}
		}
		return
	}
	if len(batch) == 1 || errors.Is(err, context.DeadlineExceeded) {
		in.failOrReject(batch, err)
		return
	}
	in.log.Warn("group commit failed, retrying callbacks one by one", "batch", len(batch), "err", err)
	for _, p := range batch {
		r, err := in.writeBatch([]*store.Inbound{p.d})
		if err != nil {
			in.failOrReject([]*pending{p}, err)
			continue
		}
		p.res <- writeResult{r: r[0]}
	}
}

// CodeRejectedByStore is the error code of a callback that decoded but that
// storage refused as invalid (a decoder bug): it is quarantined and answered
// 400, because a 503 would make the provider retry it forever.
const CodeRejectedByStore = "rejected_by_store"

// failOrReject answers a single Inbound the store refused: quarantined and
// rejected when the store found it invalid, 503 for anything else.
func (in *Intake) failOrReject(batch []*pending, err error) {
	if len(batch) != 1 || waorders.ErrorCode(err) != waorders.CodeInvalid || batch[0].d.Callback.ID == "" {
		in.fail(batch, err)
		return
	}
	p := batch[0]
	cb := p.d.Callback
	de := &callback.DecodeError{Code: CodeRejectedByStore, Path: callback.RootPath, Message: waorders.ErrorMessage(err)}
	q := &waorders.QuarantineEntry{
		Kind: waorders.QuarantineBody, CallbackID: cb.ID, Envelope: cb.Envelope, Reason: de.Code, Message: de.Message,
		Problems:   []waorders.Problem{{Severity: string(callback.SeverityError), Code: de.Code, Path: de.Path, Message: de.Message}},
		Body:       cb.Body,
		Headers:    cb.Headers,
		ReceivedAt: cb.ReceivedAt,
	}
	r, qerr := in.writeBatch([]*store.Inbound{{Quarantine: []*waorders.QuarantineEntry{q}}})
	if qerr != nil {
		in.fail(batch, qerr)
		return
	}
	in.log.Error("storage refused a decoded callback; it is quarantined", "callback", cb.ID, "err", err)
	p.res <- writeResult{err: &RejectedError{Decode: de, QuarantineID: r[0].Quarantine[0].ID}}
}

func (in *Intake) writeBatch(ds []*store.Inbound) ([]store.InboundResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), in.cfg.CommitTimeout)
	defer cancel()
	start := time.Now()
	results, err := in.writeInbound(ctx, ds)
	in.m.CommitSeconds.Observe(time.Since(start).Seconds())
	if err == nil {
		in.m.CommitBatch.Observe(float64(len(ds)))
		if len(results) != len(ds) {
			return nil, fmt.Errorf("store returned %d results for %d inbound", len(results), len(ds))
		}
	}
	return results, err
}

// writeInbound writes ds, with their events when the event log is on.
func (in *Intake) writeInbound(ctx context.Context, ds []*store.Inbound) ([]store.InboundResult, error) {
	ev, ob := in.cfg.Events, in.cfg.Outbound
	if ev == nil && ob == nil {
		return in.store.WriteInbound(ctx, ds)
	}
	var (
		results  []store.InboundResult
		appended bool
		after    func(committed bool)
		work     bool
	)
	txs := TxStore(nil)
	if ev != nil {
		txs = ev.Store
	} else {
		txs = ob.Store
	}
	err := txs.InTx(ctx, func(tx store.Tx) error {
		var err error
		appended, work = false, false
		if results, err = tx.WriteInbound(ctx, ds); err != nil {
			return err
		}
		if ev != nil {
			evs, err := ev.Builder.FromInbound(ds, results, in.cfg.NowFunc())
			if err != nil {
				return err
			}
			appended = len(evs) > 0
			if err := tx.AppendEvents(ctx, store.AppendEventsParams{Events: evs, Sinks: ev.Sinks}); err != nil {
				return err
			}
		}
		if ob != nil {
			if work, err = ob.Apply(ctx, tx, ds, results); err != nil {
				return err
			}
		}
		// Last: the relay's bookkeeping rides this commit (SQLite), after
		// every event this transaction appends, so its claims can see them.
		if ev != nil && ev.Rider != nil {
			after = ev.Rider.Ride(ctx, tx, len(ds))
		}
		return nil
	})
	if after != nil {
		after(err == nil)
	}
	if err != nil {
		return nil, err
	}
	if appended && ev.Notify != nil {
		ev.Notify()
	}
	if ob != nil && ob.Notify != nil && (work || appended) {
		ob.Notify()
	}
	return results, nil
}

func (in *Intake) fail(batch []*pending, err error) {
	in.m.StorageErrors.Inc()
	in.log.Error("storage write failed; callbacks answered 503", "callbacks", len(batch), "err", err)
	e := waorders.Wrap(waorders.CodeUnavailable, err, "storage is unavailable; nothing was stored, retry later")
	for _, p := range batch {
		p.res <- writeResult{err: e}
	}
}

// changeResult is the answer for one change: its stored row's outcome, or
// for echoes the outcome of their messages (stored if any was new).
func changeResult(r record, wr store.InboundResult) ChangeResult {
	ch := r.change
	cr := ChangeResult{Field: ch.Field, Kind: string(ch.Kind()), Summary: ch.Summary(), Result: store.Duplicate}
	for _, p := range ch.Problems {
		if p.Severity == callback.SeverityWarning {
			cr.Warnings = append(cr.Warnings, p)
		}
	}
	switch {
	case r.index >= 0:
		cr.Result = wr.Changes[r.index]
	case r.index2 >= 0:
		for _, o := range wr.Messages[r.index2 : r.index2+r.n] {
			if o == store.Stored {
				cr.Result = store.Stored
			}
		}
	}
	return cr
}
