// Package relay delivers the event log to its sinks: every brand's webhook
// endpoint (package sink/webhook) and the static sinks (NATS). It follows
// River's claim, send, finish: a one-statement claim leases due deliveries
// (FOR UPDATE SKIP LOCKED on PostgreSQL, the single writer on SQLite), each
// is sent by a worker, and a completer records the outcomes in batches with
// a fenced finish (it lands only if the row is still leased by this relay
// at this attempt). A crashed relay's leases expire and are claimed again,
// so every event reaches every sink at least once, and exactly once while
// nothing crashes. Only the head of each (sink, order) is ever claimable,
// so the events of one order arrive in the order they were written, while
// different orders go out concurrently (Concurrency per sink).
//
// The relay never touches the callback path: intake only appends rows and
// calls Wake, which never blocks.
package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waorders/waorders/internal/sink"
	"github.com/waorders/waorders/internal/store"
)

// Store is what the relay needs of storage (a store.Store is one).
type Store interface {
	ListWebhooks(ctx context.Context) ([]*store.Webhook, error)
	ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]*store.Delivery, error)
	HasDueDeliveries(ctx context.Context, sink string, now time.Time) (bool, error)
	FinishDeliveries(ctx context.Context, p store.FinishParams) (*store.FinishResult, error)
	DeliveryStats(ctx context.Context) ([]store.SinkStats, error)
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// Config configures a Relay.
type Config struct {
	Store Store
	// NewSink builds the sink of a webhook endpoint (its URL and secrets).
	NewSink func(w *store.Webhook) (sink.Sink, error)
	// Sinks are static sinks by name ("nats"), which receive every event.
	Sinks map[string]sink.Sink
	// Owner names this relay in leases; default host-pid-random.
	Owner string
	// Concurrency is the number of deliveries in flight per sink (default 8).
	Concurrency int
	// Prefetch is how many deliveries of a sink one claim may lease beyond
	// those being sent (default 3 × Concurrency): they wait for a free
	// sender. On SQLite every claim and every finish is a commit on the
	// one writer, so deliveries per second are about the rows per claim
	// over two commits; claiming ahead keeps a fast receiver busy without
	// opening more connections to it. A delivery whose lease would end
	// before it could be sent is released unsent (its attempt refunded).
	Prefetch int
	// RatePerSecond caps the attempts per second per sink (0: no cap).
	RatePerSecond float64
	// Timeout bounds one attempt (default 15 s).
	Timeout time.Duration
	// Lease is how long a claim holds a delivery (default twice Timeout,
	// at least 30 s); a relay that crashed loses its leases after it.
	Lease time.Duration
	// Poll is how often the relay looks for due deliveries without a
	// wake-up (default 1 s).
	Poll time.Duration
	// DisableAfter disables an endpoint that failed for this long with no
	// success (default 5 days).
	DisableAfter time.Duration
	// Retention deletes events older than this whose deliveries are all
	// delivered (default 30 days; negative: never).
	Retention time.Duration
	// StatsEvery is how often the backlog gauges are refreshed (default 10 s).
	StatsEvery time.Duration
	// BreakerFailures is how many consecutive transport failures (no HTTP
	// answer: connection refused, reset, timeout) open an endpoint's
	// breaker (default 5; negative: no breaker). While it is open the
	// relay claims nothing for the endpoint; after BreakerCooldown one
	// delivery goes out as a probe: an answer closes the breaker, another
	// transport failure opens it again. Deliveries claimed ahead when it
	// opens are released unsent (no attempt spent). Manual sends (the
	// API's test send) do not go through the relay and do not touch it.
	BreakerFailures int
	// BreakerCooldown is how long an open breaker stays open (default 30 s).
	BreakerCooldown time.Duration
	// BusyBatch and BusyShare put the intake first. A group commit of at
	// least BusyBatch callbacks (default 16) means the intake is
	// saturated: callbacks queue faster than they commit. Until the
	// average commit is smaller again, or a second passes without one,
	// each sink may claim only BusyShare (default 0.05) of the callbacks
	// those commits carry, in claims of up to 8 (Concurrency if less) at
	// once, and the relay's writes ride those commits (SQLite) instead of
	// committing on their own: forwarding, which shares the machine's CPU and
	// (on SQLite) the one writer, slows down and the intake keeps its
	// throughput; the backlog waits, durable, and goes out at full speed
	// once the load falls (waorders_relay_backlog shows it). A share of 1
	// or more turns this off.
	BusyBatch int
	BusyShare float64
	// FinishLinger is how long outcomes wait for a transaction to ride
	// (Ride: the intake's next group commit) before the relay commits them
	// itself, while the intake is busy (default 20 ms).
	FinishLinger time.Duration
	Now          func() time.Time
	// Rand returns numbers in [0, 1) for the retry jitter.
	Rand    func() float64
	Metrics *Metrics
	Logger  *slog.Logger
}

// Relay is the delivery service (lifecycle: Start, Stop).
type Relay struct {
	cfg Config
	log *slog.Logger
	m   *Metrics

	wake     chan struct{}
	finSig   chan struct{} // a finish was queued
	finStop  chan struct{} // closed when no more finishes come
	stop     chan struct{}
	sendCtx  context.Context // cancelled when Stop's deadline passes
	cancel   context.CancelFunc
	loopDone chan struct{}
	compDone chan struct{}
	mainDone chan struct{}
	workers  sync.WaitGroup
	rides    sync.WaitGroup // Rides between Ride and their after
	lastRide atomic.Int64   // unix ns of the last Ride that took part
	// The intake's load as its commits report it (r.mu): avgBatch is a
	// moving average of their sizes (each commit weighs 1/8), raised at
	// once to a commit of BusyBatch or more; the intake is saturated while
	// it is at least BusyBatch and lastCommit is under a second old.
	avgBatch   float64
	lastCommit time.Time

	finMu sync.Mutex
	finq  []finishing // outcomes waiting for a commit

	mu      sync.Mutex
	sinks   map[string]*sinkState
	started bool
	stopped bool
}

// sinkState is what the relay keeps per sink.
type sinkState struct {
	name     string
	sink     sink.Sink
	key      string // what the sink was built from (url and secrets)
	webhook  bool
	inflight int           // claimed and not yet finished
	senders  chan struct{} // a slot per delivery being sent (Concurrency)
	paused   time.Time     // no claims before
	tokens   float64
	refilled time.Time
	// credit is what the sink may claim while the intake is saturated
	// (BusyShare of the callbacks of the saturated commits).
	credit float64
	// The breaker: consecutive transport failures, open until openUntil
	// (zero: closed), probing while the one probe is out.
	fails     int
	openUntil time.Time
	probing   bool
}

type finishing struct {
	st  *sinkState
	d   *store.Delivery
	f   store.Finish
	res sink.Result
}

// New returns a relay; Start runs it.
func New(cfg Config) *Relay {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 3 * cfg.Concurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = max(2*cfg.Timeout, 30*time.Second)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.DisableAfter == 0 {
		cfg.DisableAfter = 5 * 24 * time.Hour
	}
	if cfg.Retention == 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.StatsEvery <= 0 {
		cfg.StatsEvery = 10 * time.Second
	}
	if cfg.BreakerFailures == 0 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 30 * time.Second
	}
	if cfg.FinishLinger <= 0 {
		cfg.FinishLinger = 20 * time.Millisecond
	}
	if cfg.BusyBatch <= 0 {
		cfg.BusyBatch = 16
	}
	if cfg.BusyShare <= 0 {
		cfg.BusyShare = 0.05
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = mrand.Float64
	}
	if cfg.Owner == "" {
		cfg.Owner = DefaultOwner()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Relay{
		cfg: cfg, log: cfg.Logger, m: cfg.Metrics,
		wake:    make(chan struct{}, 1),
		finSig:  make(chan struct{}, 1),
		finStop: make(chan struct{}),
		stop:    make(chan struct{}),
		sendCtx: ctx, cancel: cancel,
		loopDone: make(chan struct{}), compDone: make(chan struct{}), mainDone: make(chan struct{}),
		sinks: map[string]*sinkState{},
	}
}

// DefaultOwner names this process in leases: host, pid and a random tag.
func DefaultOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Owner returns the relay's lease owner name.
func (r *Relay) Owner() string { return r.cfg.Owner }

// Wake asks the relay to look for due deliveries now. It never blocks.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start runs the relay in the background.
func (r *Relay) Start(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return fmt.Errorf("relay: started twice")
	}
	r.started = true
	go r.loop()
	go r.complete()
	go r.maintain()
	return nil
}

// Stop stops claiming, waits for the deliveries in flight and records
// their outcomes, up to ctx's deadline; what is still in flight then is
// abandoned to lease expiry (delivered again later, with the same id).
func (r *Relay) Stop(ctx context.Context) error {
	r.mu.Lock()
	if !r.started || r.stopped {
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	close(r.stop)
	r.mu.Unlock()
	<-r.loopDone
	<-r.mainDone
	r.rides.Wait()
	workersDone := make(chan struct{})
	go func() {
		r.workers.Wait()
		close(workersDone)
	}()
	var err error
	select {
	case <-workersDone:
	case <-ctx.Done():
		r.cancel() // attempts end now; their finishes still try to land
		<-workersDone
		err = fmt.Errorf("stop relay: %w", ctx.Err())
	}
	close(r.finStop)
	<-r.compDone
	r.cancel()
	return err
}

// loop claims due deliveries and hands them to workers.
func (r *Relay) loop() {
	defer close(r.loopDone)
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	var refreshed time.Time
	for {
		if now := time.Now(); now.Sub(refreshed) >= r.cfg.Poll {
			if err := r.refresh(); err != nil {
				r.log.Warn("relay: cannot list webhooks", "err", err)
			} else {
				refreshed = now
			}
		}
		r.claimAll()
		select {
		case <-r.stop:
			return
		case <-r.wake:
			// While the intake rides, its next commit claims what is due:
			// give it that chance before taking the writer for a claim.
			if r.riding() {
				select {
				case <-r.stop:
					return
				case <-time.After(r.cfg.FinishLinger):
				}
			}
		case <-t.C:
		}
	}
}

// riding reports whether a Ride took part in a transaction within the
// last second (the intake is busy and carries the relay's writes).
func (r *Relay) riding() bool {
	return time.Since(time.Unix(0, r.lastRide.Load())) < time.Second
}

// refresh brings the sinks in line with the enabled webhooks.
func (r *Relay) refresh() error {
	ctx, cancel := context.WithTimeout(r.sendCtx, 10*time.Second)
	defer cancel()
	hooks, err := r.cfg.Store.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for name, s := range r.cfg.Sinks {
		seen[name] = true
		if _, ok := r.sinks[name]; !ok {
			r.sinks[name] = &sinkState{name: name, sink: s, senders: make(chan struct{}, r.cfg.Concurrency)}
		}
	}
	for _, w := range hooks {
		if !w.Enabled {
			continue
		}
		seen[w.ID] = true
		key := w.URL + "\x00" + strings.Join(w.Secrets, "\x00")
		st := r.sinks[w.ID]
		if st != nil && st.key == key {
			continue
		}
		if r.cfg.NewSink == nil {
			continue
		}
		s, err := r.cfg.NewSink(w)
		if err != nil {
			r.log.Error("relay: cannot build the sink of a webhook", "webhook", w.ID, "err", err)
			continue
		}
		if st == nil {
			st = &sinkState{name: w.ID, webhook: true, senders: make(chan struct{}, r.cfg.Concurrency)}
			r.sinks[w.ID] = st
		}
		closeIdle(st) // the URL or the secrets changed: the next claims use the new sink
		st.sink, st.key = s, key
	}
	for name, st := range r.sinks {
		if seen[name] {
			continue
		}
		closeIdle(st)
		if st.webhook {
			r.m.BreakerOpen.DeleteLabelValues(name)
		}
		if st.inflight == 0 {
			delete(r.sinks, name)
		} else {
			st.sink, st.key = nil, "" // disabled or deleted: no new claims
		}
	}
	return nil
}

// closeIdle releases the idle connections of a webhook sink being replaced
// or dropped (sink/webhook's Close: attempts in flight keep theirs).
func closeIdle(st *sinkState) {
	if c, ok := st.sink.(interface{ Close() error }); ok && st.webhook {
		_ = c.Close()
	}
}

// claimAll claims, for each sink with room, up to its free slots.
func (r *Relay) claimAll() {
	now := r.cfg.Now()
	r.mu.Lock()
	if r.riding() && r.busy(now) {
		// The saturated intake's commits claim (Ride) every few
		// milliseconds: a claim of the loop's own would be a commit of its
		// own on the one writer, in front of theirs.
		r.mu.Unlock()
		return
	}
	var todo []*sinkState
	for _, st := range r.sinks {
		if st.sink != nil && st.inflight < r.cfg.Concurrency+r.cfg.Prefetch && !now.Before(st.paused) && !st.breakerHolds(now) {
			todo = append(todo, st)
		}
	}
	r.mu.Unlock()
	for _, st := range todo {
		r.claim(st, now)
	}
}

func (r *Relay) claim(st *sinkState, now time.Time) {
	ctx, cancel := context.WithTimeout(r.sendCtx, 10*time.Second)
	defer cancel()
	r.mu.Lock()
	free := r.room(st, now)
	probe := false
	if st.breakerHolds(now) {
		free = 0
	} else if !st.openUntil.IsZero() && free > 0 {
		free, probe, st.probing = 1, true, true // cooled down: one probe
	}
	r.mu.Unlock()
	if free <= 0 {
		return
	}
	noProbe := func() {
		if probe {
			r.mu.Lock()
			st.probing = false
			r.mu.Unlock()
		}
	}
	// A read first: an idle relay never takes the writer (SQLite).
	due, err := r.cfg.Store.HasDueDeliveries(ctx, st.name, now)
	if err != nil {
		noProbe()
		r.log.Warn("relay: cannot look for due deliveries", "sink", st.name, "err", err)
		return
	}
	if !due {
		noProbe()
		return
	}
	ds, err := r.cfg.Store.ClaimDeliveries(ctx, store.ClaimParams{Sink: st.name, Owner: r.cfg.Owner, Limit: free, Now: now, Lease: r.cfg.Lease})
	if err != nil {
		noProbe()
		r.log.Warn("relay: claim failed", "sink", st.name, "err", err)
		return
	}
	if len(ds) == 0 {
		noProbe()
		return
	}
	r.mu.Lock()
	st.inflight += len(ds)
	r.spend(st, len(ds))
	s := st.sink
	r.mu.Unlock()
	for _, d := range ds {
		r.workers.Add(1)
		go r.send(st, s, d)
	}
}

// send makes one attempt and queues its finish.
func (r *Relay) send(st *sinkState, s sink.Sink, d *store.Delivery) {
	defer r.workers.Done()
	select {
	case st.senders <- struct{}{}:
		defer func() { <-st.senders }()
	case <-r.sendCtx.Done(): // stopping past the deadline: the attempt fails at once
	}
	r.mu.Lock()
	openUntil := st.openUntil
	r.mu.Unlock()
	if now := r.cfg.Now(); now.Before(openUntil) {
		// The endpoint's breaker opened while this one waited: give it
		// back unsent, due when the breaker lets a probe through.
		r.queueFinish(finishing{st: st, d: d, res: sink.Result{Outcome: sink.Retry}, f: store.Finish{
			ID: d.ID, Owner: r.cfg.Owner, Attempt: d.Attempts, State: store.DeliveryRetry, NextAttemptAt: openUntil, Refund: true,
			Record: store.Attempt{At: now, Result: "released", Error: "the endpoint's breaker is open (consecutive connection failures); queued again"},
		}})
		return
	}
	if now := r.cfg.Now(); d.NextAttemptAt.Sub(now) < r.cfg.Timeout && !d.NextAttemptAt.IsZero() {
		// Waited for a sender so long that the lease would end during
		// the attempt: give it back unsent rather than race a new owner.
		r.queueFinish(finishing{st: st, d: d, res: sink.Result{Outcome: sink.PauseSink}, f: store.Finish{
			ID: d.ID, Owner: r.cfg.Owner, Attempt: d.Attempts, State: store.DeliveryRetry, NextAttemptAt: now, Refund: true,
			Record: store.Attempt{At: now, Result: "released", Error: "claimed ahead but not sent before its lease would end; queued again"},
		}})
		return
	}
	if s == nil { // disabled or deleted since the claim: give it back unsent
		now := r.cfg.Now()
		r.queueFinish(finishing{st: st, d: d, res: sink.Result{Outcome: sink.Retry}, f: store.Finish{
			ID: d.ID, Owner: r.cfg.Owner, Attempt: d.Attempts, State: store.DeliveryRetry, NextAttemptAt: now, Refund: true,
			Record: store.Attempt{At: now, Result: "released", Error: "the endpoint was disabled or changed before the attempt; queued again"},
		}})
		return
	}
	ctx, cancel := context.WithTimeout(r.sendCtx, r.cfg.Timeout)
	defer cancel()
	start := r.cfg.Now()
	e := d.Event
	res := s.Deliver(ctx, sink.Delivery{
		EventID: e.ID, Type: e.Type, OrderID: e.OrderID, MessageID: e.MessageID, PhoneNumberID: e.PhoneNumberID,
		Attempt: d.Attempts, OccurredAt: e.OccurredAt, Payload: e.Payload,
	})
	end := r.cfg.Now()
	if res.Latency == 0 {
		res.Latency = end.Sub(start)
	}
	r.breaker(st, res, end)
	p := Policy{Schedule: WebhookSchedule, Rand: r.cfg.Rand}
	if !st.webhook {
		p = Policy{Schedule: StreamSchedule, Unlimited: true, Rand: r.cfg.Rand}
	}
	f := p.Next(d.Attempts, res, end)
	f.ID, f.Owner = d.ID, r.cfg.Owner
	if !st.webhook && f.Health != "" {
		f.Health = "" // no endpoint row to keep healthy
	}
	excerpt := res.Excerpt
	if len(excerpt) > 1024 {
		excerpt = excerpt[:1024]
	}
	f.Record = store.Attempt{At: start, Status: res.Status, Latency: res.Latency, Error: res.Error, Response: excerpt,
		Result: res.Outcome.String()}
	if f.State == store.DeliveryDead && res.Outcome == sink.Retry {
		f.Record.Result = "dead"
	}
	r.queueFinish(finishing{st: st, d: d, f: f, res: res})
}

// breakerHolds reports whether the sink's breaker is open and claims
// nothing now (still cooling down, or its probe is out). r.mu is held.
func (st *sinkState) breakerHolds(now time.Time) bool {
	return !st.openUntil.IsZero() && (st.probing || now.Before(st.openUntil))
}

// breaker counts an attempt's outcome into the sink's breaker: a transport
// failure (no answer) extends the streak and opens it at BreakerFailures
// (a failed probe opens it again at once); any answer closes it.
func (r *Relay) breaker(st *sinkState, res sink.Result, now time.Time) {
	if !st.webhook || r.cfg.BreakerFailures < 0 || res.Outcome == sink.PauseSink {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.Outcome != sink.Retry || res.Status != 0 {
		if !st.openUntil.IsZero() {
			r.log.Info("relay: endpoint answers again; breaker closed", "webhook", st.name)
			r.m.BreakerOpen.WithLabelValues(st.name).Set(0)
		}
		st.fails, st.openUntil, st.probing = 0, time.Time{}, false
		return
	}
	st.fails++
	if st.fails < r.cfg.BreakerFailures && !st.probing {
		return
	}
	if st.openUntil.IsZero() {
		r.log.Warn("relay: endpoint unreachable; breaker open, claims paused", "webhook", st.name,
			"failures", st.fails, "cooldown", r.cfg.BreakerCooldown, "err", res.Error)
		r.m.BreakerOpen.WithLabelValues(st.name).Set(1)
	}
	st.openUntil, st.probing = now.Add(r.cfg.BreakerCooldown), false
}

// queueFinish queues an outcome for the next commit: a Ride's, or the
// completer's own.
func (r *Relay) queueFinish(f finishing) {
	r.finMu.Lock()
	r.finq = append(r.finq, f)
	r.finMu.Unlock()
	select {
	case r.finSig <- struct{}{}:
	default:
	}
}

// takeFinishes takes up to n queued outcomes (all with n <= 0).
func (r *Relay) takeFinishes(n int) []finishing {
	r.finMu.Lock()
	defer r.finMu.Unlock()
	if n <= 0 || n > len(r.finq) {
		n = len(r.finq)
	}
	if n == 0 {
		return nil
	}
	batch := make([]finishing, n)
	copy(batch, r.finq)
	r.finq = append(r.finq[:0], r.finq[n:]...)
	return batch
}

// complete records finishes in batches: whatever is queued when the
// previous batch committed goes in the next transaction. While the intake
// rides (its group commits record outcomes too), queued outcomes first
// wait FinishLinger for its next commit, so that a busy intake's fsyncs
// carry them and the relay's own commits do not queue in front of them.
func (r *Relay) complete() {
	defer close(r.compDone)
	flush := func() {
		for b := r.takeFinishes(256); len(b) > 0; b = r.takeFinishes(256) {
			r.finish(b)
		}
	}
	recheck := time.NewTicker(250 * time.Millisecond)
	defer recheck.Stop()
	for {
		select {
		case <-r.finSig:
		case <-recheck.C:
		case <-r.finStop:
			flush()
			return
		}
		if r.riding() {
			t := time.NewTimer(r.cfg.FinishLinger)
			select {
			case <-t.C:
			case <-r.finStop:
			}
			t.Stop()
			r.mu.Lock()
			busy := r.busy(r.cfg.Now())
			r.mu.Unlock()
			if busy {
				// The saturated intake's next commit records them (Ride);
				// the ticker looks again should it stop.
				continue
			}
		}
		flush()
	}
}

// Ride does the relay's writes in tx, a transaction of the caller's (the
// intake's group commit, of the given number of callbacks: the intake's
// load, recorded whatever the driver), when tx can (store.RelayTx): it records the
// queued outcomes and claims, for every sink with room, the deliveries due
// (those appended by tx included). The caller must call the function
// returned (when not nil) once tx has committed or failed: only then are
// the claimed deliveries sent and the outcomes counted; if tx failed, the
// outcomes are queued again and the claims never happened.
func (r *Relay) Ride(ctx context.Context, tx store.Tx, callbacks int) (after func(committed bool)) {
	now := r.cfg.Now()
	r.load(callbacks, now)
	rt, ok := tx.(store.RelayTx)
	if !ok {
		return nil
	}
	type held struct {
		st *sinkState
		n  int
	}
	var (
		claims []store.ClaimParams
		holds  []held
	)
	r.mu.Lock()
	if !r.started || r.stopped {
		r.mu.Unlock()
		return nil
	}
	r.rides.Add(1)
	for _, st := range r.sinks {
		// A sink whose breaker is not closed is the loop's (its probe).
		if st.sink == nil || now.Before(st.paused) || !st.openUntil.IsZero() {
			continue
		}
		free := r.room(st, now)
		if free <= 0 {
			continue
		}
		st.inflight += free // held until after: a loop's claim meanwhile sees no room
		claims = append(claims, store.ClaimParams{Sink: st.name, Owner: r.cfg.Owner, Limit: free, Now: now, Lease: r.cfg.Lease})
		holds = append(holds, held{st, free})
	}
	r.mu.Unlock()
	r.lastRide.Store(time.Now().UnixNano())
	batch := r.takeFinishes(256)
	p := store.RelayWorkParams{Claims: claims, Finish: store.FinishParams{Now: now, DisableAfter: r.cfg.DisableAfter}}
	for _, b := range batch {
		p.Finish.Finishes = append(p.Finish.Finishes, b.f)
	}
	var res *store.RelayWorkResult
	var err error
	if len(claims) > 0 || len(batch) > 0 {
		res, err = rt.RelayWork(ctx, p)
		if err != nil {
			r.log.Warn("relay: cannot ride the intake's transaction", "err", err)
		}
	}
	return func(committed bool) {
		defer r.rides.Done()
		if res == nil || !committed {
			r.mu.Lock()
			for _, h := range holds {
				h.st.inflight -= h.n
			}
			r.mu.Unlock()
			if len(batch) > 0 {
				r.finMu.Lock()
				r.finq = append(batch, r.finq...)
				r.finMu.Unlock()
				select {
				case r.finSig <- struct{}{}:
				default:
				}
			}
			return
		}
		if len(batch) > 0 {
			r.settle(batch, res.Finish, nil)
			r.Wake() // should the intake go quiet, the next heads still go out
		}
		for i, h := range holds {
			ds := res.Claimed[i]
			r.mu.Lock()
			h.st.inflight -= h.n - len(ds)
			r.spend(h.st, len(ds))
			s := h.st.sink
			r.mu.Unlock()
			for _, d := range ds {
				r.workers.Add(1)
				go r.send(h.st, s, d)
			}
		}
	}
}

// load records a group commit of batch callbacks. A commit of BusyBatch or
// more saturates the intake at once; it stays saturated until the average
// of the commits since falls below BusyBatch (a few small commits amid a
// burst do not end it, one large one at a moderate rate ends soon). While
// saturated every commit earns each sink BusyShare of its callbacks as
// credit, up to a claim's worth; the sink claims once it has busyClaim of
// it (a claim and its finishes cost a statement each, whatever their rows).
func (r *Relay) load(batch int, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg.BusyShare >= 1 {
		return
	}
	was := r.busy(now)
	b := float64(batch)
	if !was {
		r.avgBatch = 0 // an idle second (or none before) forgets the past
	}
	r.avgBatch += (b - r.avgBatch) / 8
	if batch >= r.cfg.BusyBatch {
		r.avgBatch = max(r.avgBatch, b)
	}
	r.lastCommit = now
	if !r.busy(now) {
		return
	}
	if !was {
		for _, st := range r.sinks {
			st.credit = 0 // earned while saturated, not saved up before
		}
	}
	earn := b * r.cfg.BusyShare
	for _, st := range r.sinks {
		st.credit = min(st.credit+earn, float64(r.cfg.Concurrency+r.cfg.Prefetch))
	}
}

// busy reports whether the intake is saturated (see load). r.mu is held.
func (r *Relay) busy(now time.Time) bool {
	return r.avgBatch >= float64(r.cfg.BusyBatch) && now.Sub(r.lastCommit) < time.Second
}

// room returns how many deliveries st may claim now: its free slots, within
// the rate limit and, while the intake is saturated, its credit. r.mu is
// held.
func (r *Relay) room(st *sinkState, now time.Time) int {
	free := r.cfg.Concurrency + r.cfg.Prefetch - st.inflight
	if r.cfg.RatePerSecond > 0 {
		st.tokens = min(st.tokens+now.Sub(st.refilled).Seconds()*r.cfg.RatePerSecond, max(r.cfg.RatePerSecond, 1))
		st.refilled = now
		free = min(free, int(st.tokens))
	}
	if r.busy(now) {
		if st.credit < float64(r.busyClaim()) {
			return 0
		}
		free = min(free, int(st.credit))
	}
	return free
}

// busyClaim is the least a sink claims at once while the intake is
// saturated: a sender's worth, up to 8.
func (r *Relay) busyClaim() int { return min(r.cfg.Concurrency, 8) }

// spend counts n claimed deliveries against st's rate and credit. r.mu is
// held.
func (r *Relay) spend(st *sinkState, n int) {
	if r.cfg.RatePerSecond > 0 {
		st.tokens -= float64(n)
	}
	st.credit = max(st.credit-float64(n), 0)
}

func (r *Relay) finish(batch []finishing) {
	p := store.FinishParams{Now: r.cfg.Now(), DisableAfter: r.cfg.DisableAfter, Finishes: make([]store.Finish, len(batch))}
	for i, b := range batch {
		p.Finishes[i] = b.f
	}
	var (
		res *store.FinishResult
		err error
	)
	for try := 0; try < 3; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err = r.cfg.Store.FinishDeliveries(ctx, p)
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		// The leases will expire and the deliveries go out again: at
		// least once, never lost.
		r.log.Error("relay: cannot record outcomes; they will be sent again after their lease", "deliveries", len(batch), "err", err)
		res = &store.FinishResult{Landed: make([]bool, len(batch))}
	}
	r.settle(batch, res, err)
	r.Wake() // the next head of each order may be due now
}

// settle counts the recorded outcomes of batch and frees their slots.
func (r *Relay) settle(batch []finishing, res *store.FinishResult, err error) {
	r.mu.Lock()
	for i, b := range batch {
		b.st.inflight--
		if b.res.Outcome == sink.PauseSink {
			b.st.paused = b.f.NextAttemptAt
		}
		sinkName := b.st.name
		if !res.Landed[i] {
			if err == nil {
				r.m.LeaseLost.Inc()
				r.m.Attempts.WithLabelValues(sinkName, "lease_lost").Inc()
			}
			continue
		}
		r.m.Attempts.WithLabelValues(sinkName, b.f.Record.Result).Inc()
		if b.f.State == store.DeliveryDelivered {
			r.m.Latency.WithLabelValues(sinkName).Observe(b.f.Record.At.Add(b.f.Record.Latency).Sub(b.d.CreatedAt).Seconds())
		}
	}
	r.mu.Unlock()
	for _, id := range res.Disabled {
		reason := store.DisabledFailing
		for i, b := range batch {
			if b.st.name == id && res.Landed[i] && b.f.Health == store.HealthGone {
				reason = store.DisabledGone
			}
		}
		r.m.Disabled.WithLabelValues(reason).Inc()
		r.log.Warn("relay: webhook disabled", "webhook", id, "reason", reason)
	}
	if len(res.Disabled) > 0 {
		go func() { _ = r.refresh() }()
	}
}

// maintain refreshes the backlog gauges and prunes old events.
func (r *Relay) maintain() {
	defer close(r.mainDone)
	stats := time.NewTicker(r.cfg.StatsEvery)
	defer stats.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	r.stats()
	r.prune()
	for {
		select {
		case <-r.stop:
			return
		case <-stats.C:
			r.stats()
		case <-prune.C:
			r.prune()
		}
	}
}

func (r *Relay) stats() {
	ctx, cancel := context.WithTimeout(r.sendCtx, 10*time.Second)
	defer cancel()
	st, err := r.cfg.Store.DeliveryStats(ctx)
	if err != nil {
		r.log.Warn("relay: cannot read the backlog", "err", err)
		return
	}
	now := r.cfg.Now()
	r.m.Backlog.Reset()
	r.m.Oldest.Reset()
	r.m.Dead.Reset()
	for _, s := range st {
		r.m.Backlog.WithLabelValues(s.Sink).Set(float64(s.Open))
		r.m.Dead.WithLabelValues(s.Sink).Set(float64(s.Dead))
		age := 0.0
		if !s.OldestOpenAt.IsZero() {
			age = max(now.Sub(s.OldestOpenAt).Seconds(), 0)
		}
		r.m.Oldest.WithLabelValues(s.Sink).Set(age)
	}
}

// Prune deletes events past retention whose deliveries are all delivered.
func (r *Relay) prune() {
	if r.cfg.Retention < 0 {
		return
	}
	before := r.cfg.Now().Add(-r.cfg.Retention)
	for {
		ctx, cancel := context.WithTimeout(r.sendCtx, time.Minute)
		n, err := r.cfg.Store.PruneEvents(ctx, before, 1000)
		cancel()
		if err != nil {
			r.log.Warn("relay: cannot prune events", "err", err)
			return
		}
		r.m.Pruned.Add(float64(n))
		if n < 1000 {
			return
		}
		select {
		case <-r.stop:
			return
		default:
		}
	}
}
