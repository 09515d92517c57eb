// Package notify sends order notifications and staff messages through
// Kaleyra, at most one accepted send per (order, status).
//
// An intent is an outbound row (store.Outbound) written in the transaction
// of its cause: intake's group commit for an order's "pending", the API's
// status change for the others (Intents.ForOrder), a staff request. The
// Notifier is a small claim loop over that table rather than a sink of the
// webhook relay, because the row is the state that has to be fenced: the
// status callback that proves an ambiguous send must move the same row the
// sender finishes, the sender must be able to wait for it (ambiguous is
// neither retry nor dead), pauses are per business number rather than per
// sink, and the relay's schedules, ordering and dead-letter replay (which
// would resend) do not fit a message that must not go twice.
//
// # States
//
//	queued ──claim──▶ sending ──2xx──────────────────────────▶ accepted (final; delivery: sent → delivered → read | failed)
//	                     │ ──WA500/5xx: retry at +5, +10, +15 min──▶ retry ──claim──▶ sending
//	                     │ ──not sent (dial, DNS, TLS): +5s, 30s, 2m, 5m, 15m ─▶ retry
//	                     │ ──4th WA500, WA400, retries spent──────▶ failed (final, alert)
//	                     │ ──RBC001, E110, WAV2101, WA401: pause the number, attempt refunded ─▶ back to queued/retry/ambiguous
//	                     │ ──written, no answer (timeout, reset)──▶ ambiguous
//	                     │ ──window closed and no template──────▶ skipped: window_closed (final)
//	                     └ lease expired (a crash mid-send) ──────▶ ambiguous
//	ambiguous ──status callback with its refs (any instance)──────▶ accepted
//	          ──no callback within --notify-reconcile──────────────▶ sending (exactly one resend, same refs) or failed: no_callback
//
// Every send carries ref "waorders", ref1 "notify" (or "staff") and ref2
// the outbound id. Kaleyra echoes them in the status callbacks; intake joins
// those to the row in the transaction that stores them.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/kaleyra"
)

// Store is what the notifier needs of storage.
type Store interface {
	store.Outbound
	GetOrder(ctx context.Context, id string) (*waorders.Order, error)
	InTx(ctx context.Context, fn func(store.Tx) error) error
}

// Sender is the Kaleyra client of one business number.
type Sender struct {
	PhoneNumberID string // "" sends for every number without a sender of its own
	Client        *kaleyra.Client
}

// Config sets up a Notifier.
type Config struct {
	Store   Store
	Senders []Sender
	// Settings gives the current notification settings.
	Settings *SettingsSource
	Owner    string // this instance's lease owner id
	// Concurrency is the sends in flight (default 4).
	Concurrency int
	// Lease is how long a claim holds a row (default 2 × the client's
	// timeout, at least 30 s): longer than any send.
	Lease time.Duration
	// Reconcile is how long an ambiguous send waits for a status callback
	// before its one resend (default 10 min).
	Reconcile time.Duration
	// GiveUpOnAmbiguous: after Reconcile, fail instead of resending.
	GiveUpOnAmbiguous bool
	// WA500 is the delay before each retry after a server error (default
	// Kaleyra's advice, 5, 10 and 15 minutes); when spent, the message
	// fails. NotSent is the same for sends that never left this host.
	WA500   []time.Duration
	NotSent []time.Duration
	// WindowMargin: a free-form message is not sent later than 24 h minus
	// this after the customer's last message (default 5 min).
	WindowMargin time.Duration
	Poll         time.Duration // default 1 s
	// Events appends notification.sent and notification.failed in the
	// finish's transaction (nil: no events), to Sinks; Wake tells the
	// relay.
	Events *events.Builder
	Sinks  []string
	Wake   func()
	Logger *slog.Logger
	Now    func() time.Time
	// Rand jitters the retry delays by ±10 % (default: math/rand/v2).
	Rand func() float64
	// OnResult, when set, is told every outcome Stats counts, by the
	// name of its field in snake case ("accepted", "paused", ...): serve
	// feeds it to waorders_notifications_total{result}.
	OnResult func(result string)
}

// Stats counts what this notifier did.
type Stats struct {
	Accepted, Resent, Retried, Ambiguous, Failed, Skipped, Paused, LeaseLost atomic.Int64
}

// count adds one to c and tells OnResult.
func (n *Notifier) count(c *atomic.Int64, result string) {
	c.Add(1)
	if n.cfg.OnResult != nil {
		n.cfg.OnResult(result)
	}
}

// Notifier is the claim loop.
type Notifier struct {
	cfg   Config
	log   *slog.Logger
	wake  chan struct{}
	Stats Stats

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	running sync.WaitGroup
	stop    atomic.Bool
}

// New returns a Notifier; Start runs it.
func New(cfg Config) *Notifier {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
		for _, s := range cfg.Senders {
			if t := 2 * s.Client.Config().Timeout; t > cfg.Lease {
				cfg.Lease = t
			}
		}
	}
	if cfg.Reconcile <= 0 {
		cfg.Reconcile = 10 * time.Minute
	}
	if cfg.WA500 == nil {
		cfg.WA500 = kaleyra.WA500Advice
	}
	if cfg.NotSent == nil {
		cfg.NotSent = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute}
	}
	if cfg.WindowMargin == 0 {
		cfg.WindowMargin = 5 * time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Owner == "" {
		cfg.Owner = "notify-" + events.Default.New()[4:]
	}
	if cfg.Settings == nil {
		cfg.Settings = NewSettingsSource(Settings{}, nil)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{cfg: cfg, log: log, wake: make(chan struct{}, 1)}
}

// Wake tells the loop there may be work (non-blocking).
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Start runs the loop until Stop (or ctx's end, which abandons sends in
// flight as a crash would: their leases expire and they become ambiguous).
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done != nil {
		return errors.New("notify: already started")
	}
	ctx, n.cancel = context.WithCancel(ctx)
	n.done = make(chan struct{})
	go n.run(ctx)
	return nil
}

// Stop stops claiming and waits for the sends in flight until ctx ends.
func (n *Notifier) Stop(ctx context.Context) error {
	n.mu.Lock()
	cancel, done := n.cancel, n.done
	n.mu.Unlock()
	if done == nil {
		return nil
	}
	stopClaiming(n)
	select {
	case <-done:
	case <-ctx.Done():
		cancel()
		<-done
		return ctx.Err()
	}
	cancel()
	return nil
}

func stopClaiming(n *Notifier) { n.stop.Store(true); n.Wake() }

func (n *Notifier) stopping() bool { return n.stop.Load() }

func (n *Notifier) run(ctx context.Context) {
	defer close(n.done)
	sem := make(chan struct{}, n.cfg.Concurrency)
	// Sends use a context of their own, so Stop lets them finish; a
	// cancelled Start context (a crash in tests) abandons them.
	t := time.NewTicker(n.cfg.Poll)
	defer t.Stop()
	for {
		if n.stopping() || ctx.Err() != nil {
			n.running.Wait()
			return
		}
		free := cap(sem) - len(sem)
		claimed := 0
		if free > 0 {
			ms, err := n.cfg.Store.ClaimOutbound(ctx, store.ClaimOutboundParams{Owner: n.cfg.Owner, Limit: free,
				Now: n.cfg.Now(), Lease: n.cfg.Lease})
			if err != nil && ctx.Err() == nil {
				n.log.Error("notify: claim failed", "err", err)
			}
			claimed = len(ms)
			for _, m := range ms {
				sem <- struct{}{}
				n.running.Add(1)
				go func() {
					defer func() { <-sem; n.running.Done() }()
					n.handle(ctx, m)
				}()
			}
		}
		if claimed > 0 && claimed == free {
			continue
		}
		select {
		case <-ctx.Done():
		case <-n.wake:
		case <-t.C:
		}
	}
}

// RunOnce claims and handles what is due, waiting for the sends (tests and
// `waorders` maintenance use it). It returns how many rows it handled.
func (n *Notifier) RunOnce(ctx context.Context) (int, error) {
	ms, err := n.cfg.Store.ClaimOutbound(ctx, store.ClaimOutboundParams{Owner: n.cfg.Owner, Limit: n.cfg.Concurrency,
		Now: n.cfg.Now(), Lease: n.cfg.Lease})
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Add(1)
		go func() { defer wg.Done(); n.handle(ctx, m) }()
	}
	wg.Wait()
	return len(ms), nil
}

func (n *Notifier) sender(phoneNumberID string) *kaleyra.Client {
	var any *kaleyra.Client
	for _, s := range n.cfg.Senders {
		if s.PhoneNumberID == phoneNumberID {
			return s.Client
		}
		if s.PhoneNumberID == "" && any == nil {
			any = s.Client
		}
	}
	return any
}

// HasSender reports whether a number can send.
func (n *Notifier) HasSender(phoneNumberID string) bool { return n.sender(phoneNumberID) != nil }

func (n *Notifier) jitter(d time.Duration) time.Duration {
	return d + time.Duration((n.cfg.Rand()*0.2-0.1)*float64(d))
}

// handle moves one claimed row on.
func (n *Notifier) handle(ctx context.Context, m *store.OutboundMessage) {
	now := n.cfg.Now()
	fin := store.FinishOutboundParams{ID: m.ID, Owner: n.cfg.Owner, Attempt: m.Attempts, Now: now}
	resend := false
	switch m.ClaimedFrom {
	case store.OutboundSending:
		// Its lease ran out during a send: Kaleyra may have it. Wait for a
		// status callback carrying its refs.
		fin.State, fin.Ambiguous, fin.NextAttemptAt = store.OutboundAmbiguous, true, now.Add(n.cfg.Reconcile)
		fin.Reason, fin.LastCode, fin.LastError = "lease_expired", m.LastCode, "the previous attempt was abandoned mid-send"
		n.count(&n.Stats.Ambiguous, "ambiguous")
		n.finish(ctx, m, fin)
		return
	case store.OutboundAmbiguous:
		if m.Resends >= 1 || n.cfg.GiveUpOnAmbiguous {
			fin.State, fin.Reason, fin.LastCode, fin.LastError = store.OutboundFailed, "no_callback", m.LastCode, "no status callback after an ambiguous send"
			n.finish(ctx, m, fin)
			return
		}
		resend = true
	}
	client := n.sender(m.PhoneNumberID)
	if client == nil {
		fin.State, fin.Reason = store.OutboundFailed, "no_sender"
		fin.LastError = "no Kaleyra credentials for phone_number_id " + m.PhoneNumberID
		n.finish(ctx, m, fin)
		return
	}
	msg, skip, err := n.build(ctx, m, now)
	if err != nil {
		if waorders.ErrorCode(err) == waorders.CodeInvalid || waorders.ErrorCode(err) == waorders.CodeNotFound {
			fin.State, fin.Reason, fin.LastError = store.OutboundFailed, "render", err.Error()
		} else { // storage: not the message's fault
			fin.State, fin.NextAttemptAt, fin.Refund, fin.LastError = m.ClaimedFrom, now.Add(5*time.Second), true, err.Error()
		}
		n.finish(ctx, m, fin)
		return
	}
	if skip != "" {
		fin.State, fin.Reason = store.OutboundSkipped, skip
		n.finish(ctx, m, fin)
		return
	}
	if resend {
		// A status may have come in since the claim: then it is accepted
		// and the resend must not go.
		if cur, err := n.cfg.Store.GetOutbound(ctx, m.ID); err != nil || cur.State != store.OutboundSending || cur.LeaseOwner != n.cfg.Owner {
			return
		}
	}
	body, _ := msg.Body()
	fin.Request, fin.SentKind, fin.Resent = body, msg.Type, resend
	res, err := client.Send(ctx, msg)
	if err != nil && ctx.Err() != nil {
		return // abandoned (shutdown or a crash): the lease expires → ambiguous
	}
	now = n.cfg.Now()
	fin.Now = now
	if resend {
		n.count(&n.Stats.Resent, "resent")
	}
	if err == nil {
		fin.State, fin.WAMID, fin.Response, fin.LastCode = store.OutboundAccepted, res.MessageID, res.Body, kaleyra.CodeOK
		n.finish(ctx, m, fin)
		return
	}
	var ke *kaleyra.Error
	if errors.As(err, &ke) {
		fin.LastCode, fin.Response = ke.Code, ke.Body
		if fin.LastCode == "" {
			fin.LastCode = fmt.Sprintf("http_%d", ke.HTTPStatus)
		}
	} else if errors.Is(err, kaleyra.ErrAmbiguous) {
		fin.LastCode = "ambiguous"
	} else {
		fin.LastCode = "not_sent"
	}
	fin.LastError = err.Error()
	switch kaleyra.ActionOf(err) {
	case kaleyra.Reconcile:
		fin.State, fin.Ambiguous, fin.NextAttemptAt = store.OutboundAmbiguous, true, now.Add(n.cfg.Reconcile)
		n.count(&n.Stats.Ambiguous, "ambiguous")
	case kaleyra.Pause:
		until := time.Time{}
		if fin.LastCode == kaleyra.CodeDailyLimit {
			until = now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		}
		if perr := n.cfg.Store.PauseSender(ctx, store.SenderPause{PhoneNumberID: m.PhoneNumberID, Reason: fin.LastCode, PausedAt: now, Until: until}); perr != nil {
			n.log.Error("notify: pausing the sender failed", "phone_number_id", m.PhoneNumberID, "err", perr)
		}
		n.log.Error("notify: ALERT: Kaleyra refused the sender; sends from this number are paused until an operator resumes them",
			"phone_number_id", m.PhoneNumberID, "code", fin.LastCode, "until", until)
		n.count(&n.Stats.Paused, "paused")
		fin.State, fin.NextAttemptAt, fin.Refund, fin.Resent = m.ClaimedFrom, now, true, false
	case kaleyra.Retry:
		sched := n.cfg.NotSent
		if ke != nil {
			sched = n.cfg.WA500
		}
		fin.Failed = true
		if m.Failures < len(sched) {
			fin.State, fin.NextAttemptAt = store.OutboundRetry, now.Add(n.jitter(sched[m.Failures]))
			n.count(&n.Stats.Retried, "retried")
		} else {
			fin.State, fin.Reason = store.OutboundFailed, fin.LastCode
			n.log.Error("notify: ALERT: a message failed after Kaleyra's advised retries; escalate to Kaleyra",
				"outbound", m.ID, "code", fin.LastCode)
		}
	default: // GiveUp
		fin.State, fin.Reason, fin.Failed = store.OutboundFailed, fin.LastCode, true
		n.log.Error("notify: ALERT: Kaleyra refused a message", "outbound", m.ID, "code", fin.LastCode)
	}
	n.finish(ctx, m, fin)
}

// finish records the outcome, with its event, fenced.
func (n *Notifier) finish(ctx context.Context, m *store.OutboundMessage, fin store.FinishOutboundParams) {
	if fin.Now.IsZero() {
		fin.Now = n.cfg.Now()
	}
	var landed bool
	var evs int
	err := n.cfg.Store.InTx(context.WithoutCancel(ctx), func(tx store.Tx) error {
		got, ok, err := tx.FinishOutbound(ctx, fin)
		if err != nil || !ok {
			landed = ok
			return err
		}
		landed = true
		var typ string
		switch got.State {
		case store.OutboundAccepted:
			typ = EventSent
		case store.OutboundFailed:
			typ = EventFailed
		}
		if typ == "" || n.cfg.Events == nil {
			return nil
		}
		e, err := Event(n.cfg.Events, typ, got, fin.Now)
		if err != nil {
			return err
		}
		evs++
		return tx.AppendEvents(ctx, store.AppendEventsParams{Events: []*store.Event{e}, Sinks: n.cfg.Sinks})
	})
	if err != nil {
		n.log.Error("notify: recording an outcome failed; the lease will expire", "outbound", m.ID, "err", err)
		return
	}
	if !landed {
		n.count(&n.Stats.LeaseLost, "lease_lost")
		return
	}
	switch fin.State {
	case store.OutboundAccepted:
		n.count(&n.Stats.Accepted, "accepted")
	case store.OutboundFailed:
		n.count(&n.Stats.Failed, "failed")
	case store.OutboundSkipped:
		n.count(&n.Stats.Skipped, "skipped")
	}
	if evs > 0 && n.cfg.Wake != nil {
		n.cfg.Wake()
	}
}

// build returns the message to send, or why nothing is sent.
func (n *Notifier) build(ctx context.Context, m *store.OutboundMessage, now time.Time) (kaleyra.Message, string, error) {
	last, err := n.cfg.Store.LastInboundAt(ctx, keysOf(m), m.PhoneNumberID)
	if err != nil {
		return kaleyra.Message{}, "", err
	}
	open := !last.IsZero() && now.Before(last.Add(24*time.Hour-n.cfg.WindowMargin))
	to := m.To
	refs := store.OutboundRefs(m)
	kr := kaleyra.Refs{Ref: refs.Ref, Ref1: refs.Ref1, Ref2: refs.Ref2}
	if m.Kind == store.OutboundStaff {
		switch {
		case open && m.Text != "":
			return kaleyra.Text(to, m.Text).WithRefs(kr), "", nil
		case m.Template != "":
			name, lang, ok := strings.Cut(m.Template, ":")
			if !ok {
				lang = "en"
			}
			return kaleyra.Template(to, name, lang).WithRefs(kr), "", nil
		}
		return kaleyra.Message{}, SkipWindowClosed, nil
	}
	set, ok := n.cfg.Settings.Get().Statuses[m.OrderStatus]
	if !ok || !set.Enabled {
		return kaleyra.Message{}, "disabled", nil
	}
	o, err := n.cfg.Store.GetOrder(ctx, m.OrderID)
	if err != nil {
		return kaleyra.Message{}, "", err
	}
	d := DataOf(o, m.OrderStatus, m.Note)
	// A notification with a template is a resend after Meta said the
	// window had closed (Intents.Retemplate): the template, whatever the
	// stored messages say of the window.
	if open && m.Template == "" {
		text, err := Render(set.TextFor(m.OrderStatus), d)
		if err != nil {
			return kaleyra.Message{}, "", waorders.Errorf(waorders.CodeInvalid, "text of %s: %v", m.OrderStatus, err)
		}
		return kaleyra.Text(to, text).ReplyTo(m.ReplyTo).WithRefs(kr), "", nil
	}
	t := set.Template
	if t == nil {
		return kaleyra.Message{}, SkipWindowClosed, nil
	}
	var params []string
	for _, p := range t.Params {
		v, err := Render(p, d)
		if err != nil {
			return kaleyra.Message{}, "", waorders.Errorf(waorders.CodeInvalid, "template parameter of %s: %v", m.OrderStatus, err)
		}
		params = append(params, v)
	}
	var comps []kaleyra.Component
	if len(params) > 0 {
		comps = append(comps, kaleyra.BodyParams(params...))
	}
	return kaleyra.Template(to, t.Name, t.Language, comps...).WithRefs(kr), "", nil
}

// SkipWindowClosed is the reason of a message not sent because the 24-hour
// window had closed and no template applies.
const SkipWindowClosed = "window_closed"

func keysOf(m *store.OutboundMessage) []string {
	keys := []string{m.To}
	if m.CustomerKey != "" && m.CustomerKey != m.To {
		keys = append(keys, m.CustomerKey)
	}
	return keys
}
