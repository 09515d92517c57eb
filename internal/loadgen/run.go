package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/simulate"
)

// Bounds of the set of recent bodies duplicates are drawn from.
const (
	maxRecent      = 1024
	minRecent      = 16
	recentMaxBytes = 64 << 20
	// maxErrorKinds bounds Summary.Errors.
	maxErrorKinds = 8
	// maxAnswer is how much of an answer is read (and discarded) to keep
	// the connection reusable.
	maxAnswer = 1 << 20
)

// item is one distinct body, sent once or more.
type item struct {
	body      []byte
	signature string
	ackLines  []byte // what to write to the ack file on the first 2xx
	malformed bool
	acked     atomic.Bool
}

type job struct {
	it        *item
	duplicate bool
}

// runner holds one run's shared state.
type runner struct {
	cfg     Config
	url     string
	client  *http.Client
	header  http.Header // fixed headers, copied into each request
	hist    histogram
	started time.Time

	sent, duplicates, malformed                atomic.Int64
	acked, rejected, serverErrors, otherStatus atomic.Int64
	transportErrors, cancelled, ackedIDs       atomic.Int64

	mu     sync.Mutex // guards the fields below
	codes  map[int]int64
	errs   map[string]int64
	ack    *bufio.Writer
	ackErr error
}

// Run sends callbacks as cfg says until its count or duration is reached or
// ctx is done, writing progress lines to progress (nil for none), and
// returns the summary. When ctx ends the run, requests in flight are
// cancelled, the summary covers what happened and Interrupted is set; the
// error is nil. The error is non-nil when cfg is invalid (and the summary
// nil) or when the ack file could not be written (with the summary).
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := newRunner(cfg)
	defer r.client.CloseIdleConnections()

	gen := simulate.New(cfg.Seed, cfg.generatorOptions())
	jobs := make(chan job, r.cfg.Concurrency)
	var workers sync.WaitGroup
	for range r.cfg.Concurrency {
		workers.Go(func() {
			for j := range jobs {
				r.do(ctx, j)
			}
		})
	}
	r.started = time.Now()
	stopProgress := r.startProgress(progress)
	r.produce(ctx, gen, jobs)
	close(jobs)
	workers.Wait()
	elapsed := time.Since(r.started)
	stopProgress()

	s := r.summary(elapsed)
	s.Interrupted = ctx.Err() != nil
	if r.ack != nil {
		if err := r.ack.Flush(); err != nil && r.ackErr == nil {
			r.ackErr = err
		}
	}
	if r.ackErr != nil {
		return s, fmt.Errorf("write ack file: %w", r.ackErr)
	}
	return s, nil
}

func newRunner(cfg Config) *runner {
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ProgressInterval == 0 {
		cfg.ProgressInterval = DefaultProgressInterval
	}
	target, _ := CallbackURL(cfg.URL, cfg.Meta) // checked by Validate
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          cfg.Concurrency,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		MaxConnsPerHost:       cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		// HTTP/1.1, as webhook senders use: one connection per worker.
		ForceAttemptHTTP2: false,
	}
	if cfg.InsecureSkipVerify {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // asked for: self-signed test servers
	}
	r := &runner{
		cfg: cfg,
		url: target,
		client: &http.Client{
			Transport:     transport,
			Timeout:       cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		header: http.Header{"Content-Type": {"application/json"}, "User-Agent": {"waorders-send"}},
		codes:  make(map[int]int64),
		errs:   make(map[string]int64),
	}
	a := cfg.Auth
	if a.Secret != "" {
		name := a.SecretHeader
		if name == "" {
			name = DefaultSecretHeader
		}
		r.header.Set(name, a.Secret)
	}
	if a.Username != "" {
		req := &http.Request{Header: http.Header{}}
		req.SetBasicAuth(a.Username, a.Password)
		r.header.Set("Authorization", req.Header.Get("Authorization"))
	}
	if a.BearerToken != "" {
		r.header.Set("Authorization", "Bearer "+a.BearerToken)
	}
	if cfg.AckFile != nil {
		r.ack = bufio.NewWriterSize(cfg.AckFile, 64<<10)
	}
	return r
}

func (cfg *Config) envelope() callback.Envelope {
	if cfg.Meta {
		return callback.EnvelopeMeta
	}
	return callback.EnvelopeKaleyra
}

// produce hands jobs to the workers until the count or duration is reached
// or ctx is done, pacing them when a rate is set. It alone draws from the
// generator and the duplicate source, so a seed fixes the bodies.
func (r *runner) produce(ctx context.Context, gen *simulate.Generator, jobs chan<- job) {
	var deadline <-chan time.Time
	if r.cfg.Duration > 0 {
		t := time.NewTimer(r.cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var tick <-chan time.Time
	if r.cfg.Rate > 0 {
		// A token bucket refilled on each tick: no busy loop, at most one
		// request ahead of the rate.
		interval := min(max(time.Duration(float64(time.Second)/r.cfg.Rate), time.Millisecond), 50*time.Millisecond)
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	dupes := rand.New(rand.NewPCG(r.cfg.Seed, 0x5eed_d0b1e))
	recent := make([]*item, 0, minRecent)
	capRecent, next := maxRecent, 0
	for n := int64(0); r.cfg.Count == 0 || n < r.cfg.Count; n++ {
		if r.cfg.Rate > 0 {
			for float64(n) >= r.cfg.Rate*time.Since(r.started).Seconds()+1 {
				select {
				case <-tick:
				case <-deadline:
					return
				case <-ctx.Done():
					return
				}
			}
		}
		var j job
		if len(recent) > 0 && r.cfg.DuplicateShare > 0 && dupes.Float64() < r.cfg.DuplicateShare {
			j = job{it: recent[dupes.IntN(len(recent))], duplicate: true}
		} else {
			j.it = r.newItem(gen.Next())
			if len(recent) == 0 {
				capRecent = min(max(recentMaxBytes/max(len(j.it.body), 1), minRecent), maxRecent)
			}
			if len(recent) < capRecent {
				recent = append(recent, j.it)
			} else {
				recent[next] = j.it
				next = (next + 1) % capRecent
			}
		}
		select {
		case jobs <- j:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (r *runner) newItem(cb simulate.Generated) *item {
	it := &item{body: cb.Body, malformed: cb.Malformed}
	if r.cfg.Meta && r.cfg.AppSecret != "" {
		it.signature = callback.Sign(cb.Body, r.cfg.AppSecret)
	}
	var lines []byte
	for _, id := range cb.MessageIDs {
		lines = append(append(lines, id...), '\n')
	}
	for _, k := range cb.StatusKeys {
		lines = append(append(append(append(lines, k.MessageID...), ' '), k.Status...), '\n')
	}
	it.ackLines = lines
	return it
}

// do sends one request and records its outcome.
func (r *runner) do(ctx context.Context, j job) {
	if ctx.Err() != nil {
		return // queued but never sent
	}
	r.sent.Add(1)
	if j.duplicate {
		r.duplicates.Add(1)
	}
	if j.it.malformed {
		r.malformed.Add(1)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(j.it.body))
	if err != nil { // the URL was validated; nothing else can fail here
		r.transportError(err)
		return
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if j.it.signature != "" {
		req.Header[callback.SignatureHeader] = []string{j.it.signature}
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		resp.Body.Close()
		if err != nil && ctx.Err() == nil {
			err = nil // the status arrived; a broken answer body does not undo it
		}
	}
	switch {
	case err != nil && ctx.Err() != nil:
		r.cancelled.Add(1)
		return
	case err != nil:
		r.transportError(err)
		return
	}
	r.hist.record(time.Since(start))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		r.acked.Add(1)
		if r.ack != nil && len(j.it.ackLines) > 0 && j.it.acked.CompareAndSwap(false, true) {
			r.writeAck(j.it.ackLines)
		}
	case code >= 400 && code < 500:
		r.rejected.Add(1)
	case code >= 500:
		r.serverErrors.Add(1)
	default:
		r.otherStatus.Add(1)
	}
	r.mu.Lock()
	r.codes[code]++
	r.mu.Unlock()
}

func (r *runner) writeAck(lines []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ackErr != nil {
		return
	}
	if _, err := r.ack.Write(lines); err != nil {
		r.ackErr = err
		return
	}
	r.ackedIDs.Add(int64(bytes.Count(lines, []byte{'\n'})))
}

func (r *runner) transportError(err error) {
	r.transportErrors.Add(1)
	// Keep the cause, not the URL (which may carry credentials).
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.errs[msg]; ok || len(r.errs) < maxErrorKinds {
		r.errs[msg]++
	}
}

func (r *runner) summary(elapsed time.Duration) *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	redacted := r.url
	if u, err := url.Parse(r.url); err == nil {
		redacted = u.Redacted()
	}
	s := &Summary{
		URL:             redacted,
		Envelope:        string(r.cfg.envelope()),
		Sent:            r.sent.Load(),
		Duplicates:      r.duplicates.Load(),
		Malformed:       r.malformed.Load(),
		Acknowledged:    r.acked.Load(),
		Rejected:        r.rejected.Load(),
		ServerErrors:    r.serverErrors.Load(),
		OtherStatus:     r.otherStatus.Load(),
		TransportErrors: r.transportErrors.Load(),
		Cancelled:       r.cancelled.Load(),
		AckedIDs:        r.ackedIDs.Load(),
		StatusCodes:     make(map[int]int64, len(r.codes)),
		Elapsed:         elapsed,
		Latency: Latency{
			P50:  r.hist.quantile(0.50),
			P95:  r.hist.quantile(0.95),
			P99:  r.hist.quantile(0.99),
			Max:  time.Duration(r.hist.max.Load()),
			Mean: r.hist.mean(),
		},
	}
	for c, n := range r.codes {
		s.StatusCodes[c] = n
	}
	if len(r.errs) > 0 {
		s.Errors = make(map[string]int64, len(r.errs))
		for m, n := range r.errs {
			s.Errors[m] = n
		}
	}
	if secs := elapsed.Seconds(); secs > 0 {
		answered := s.Acknowledged + s.Rejected + s.ServerErrors + s.OtherStatus
		s.Throughput = float64(answered) / secs
		s.AckRate = float64(s.Acknowledged) / secs
	}
	return s
}
