package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/sink"
)

// DefaultTimeout is the time an attempt may take, connect to last byte of
// the answer read, when Config.Timeout is 0 (the spec recommends 15–30 s).
const DefaultTimeout = 15 * time.Second

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "waorders"

// ExcerptBytes is how much of the receiver's answer a Result keeps.
const ExcerptBytes = 1024

// drainBytes is how much more of an answer is read (and dropped) so the
// connection can be reused; a longer answer closes the connection.
const drainBytes = 16 << 10

// Config builds a Sink for one endpoint.
type Config struct {
	// URL is the endpoint; it must pass ValidateURL.
	URL string
	// Secrets are the endpoint's live secrets ("whsec_…"); each signs every
	// attempt (one "v1," entry each in webhook-signature), so a rotation
	// lists the new and the old secret until the old one expires. At least
	// one is required (NewSecret makes one).
	Secrets []string
	// Timeout bounds one attempt; 0 means DefaultTimeout. The ctx given to
	// Deliver may end it sooner.
	Timeout time.Duration
	// AllowPrivate lets connections reach private, loopback and link-local
	// addresses (--webhook-allow-private; tests with httptest set it).
	AllowPrivate bool
	// AllowHTTPHosts are the hosts that may be reached over plain http.
	AllowHTTPHosts []string
	// UserAgent is the User-Agent header, e.g. "waorders/1.4.0"; empty
	// means DefaultUserAgent.
	UserAgent string
	// Now is the clock for webhook-timestamp and HTTP-date Retry-After;
	// nil means time.Now.
	Now func() time.Time
}

// Sink delivers events to one webhook endpoint by the Standard Webhooks
// spec. It is safe for concurrent use; Close releases its idle
// connections.
type Sink struct {
	url       string
	keys      [][]byte
	timeout   time.Duration
	userAgent string
	now       func() time.Time
	client    *http.Client
	transport *http.Transport
}

var _ sink.Sink = (*Sink)(nil)

// New checks cfg (the URL by ValidateURL, every secret by ParseSecret)
// and returns a Sink. Errors say what to fix and never repeat a secret.
func New(cfg Config) (*Sink, error) {
	if err := ValidateURL(cfg.URL, cfg.AllowPrivate, cfg.AllowHTTPHosts); err != nil {
		return nil, err
	}
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("webhook: the endpoint has no secret; generate one with NewSecret")
	}
	keys, err := ParseSecrets(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("webhook: negative timeout %s", cfg.Timeout)
	}
	s := &Sink{
		url:       strings.TrimSpace(cfg.URL),
		keys:      keys,
		timeout:   cfg.Timeout,
		userAgent: cfg.UserAgent,
		now:       cfg.Now,
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.userAgent == "" {
		s.userAgent = DefaultUserAgent
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.transport = &http.Transport{
		// No proxy from the environment: the dial check must see the
		// receiver's address, not a proxy's.
		Proxy:                 nil,
		DialContext:           dialer(cfg.AllowPrivate).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       60 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	s.client = &http.Client{
		Transport: s.transport,
		// 3xx is a failure: never follow, hand the 3xx back.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s, nil
}

// Close closes the Sink's idle connections. A Sink may still be used
// after Close (it opens new ones).
func (s *Sink) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// Deliver POSTs d.Payload, exactly, with the Standard Webhooks headers
// (webhook-id = d.EventID on every attempt, webhook-timestamp = this
// attempt's time, webhook-signature = one v1 entry per secret) and
// waorders-event-type, waorders-attempt, and classifies the answer:
//
//   - 2xx: Delivered.
//   - 410: Gone (the relay disables the endpoint).
//   - any other status, 3xx (never followed) and 4xx included: Retry, so
//     a receiver's bug loses no event; Retry-After (seconds or HTTP-date)
//     is read on 429, 502, 503 and 504 into RetryAfter.
//   - timeout, connection refused or reset, TLS and DNS errors: Retry
//     (Status 0).
//   - an address refused by the private-destination check (the URL's
//     name resolved to an internal address): PauseSink, since retrying
//     cannot help until the endpoint or the setting is changed.
//   - an event id that is empty or contains '.', which the signature
//     scheme forbids: Dead.
//
// Excerpt holds at most the first 1 KiB of the answer. Error never holds
// the URL's query, a secret or the payload.
func (s *Sink) Deliver(ctx context.Context, d sink.Delivery) sink.Result {
	start := time.Now()
	if d.EventID == "" || strings.ContainsAny(d.EventID, ". \t\r\n") {
		return sink.Result{Outcome: sink.Dead, Error: fmt.Sprintf("event id %q cannot be a webhook-id (empty, or has '.' or spaces)", d.EventID)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	ts := s.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(d.Payload))
	if err != nil {
		return sink.Result{Outcome: sink.PauseSink, Error: "building the request: " + errWithoutURL(err).Error(), Latency: time.Since(start)}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", s.userAgent)
	h.Set(HeaderID, d.EventID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(s.keys, d.EventID, ts, d.Payload))
	h.Set(HeaderEventType, d.Type)
	h.Set(HeaderAttempt, strconv.Itoa(d.Attempt))

	resp, err := s.client.Do(req)
	if err != nil {
		r := sink.Result{Outcome: sink.Retry, Latency: time.Since(start)}
		cause := errWithoutURL(err)
		switch {
		case errors.Is(err, ErrPrivateAddress):
			r.Outcome = sink.PauseSink
			r.Error = cause.Error()
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
			r.Error = fmt.Sprintf("no answer within %s (timeout)", r.Latency.Round(time.Millisecond))
		case errors.Is(err, context.Canceled):
			r.Error = "attempt cancelled before an answer"
		default:
			r.Error = cause.Error()
		}
		return r
	}
	defer resp.Body.Close()
	excerpt, readErr := io.ReadAll(io.LimitReader(resp.Body, ExcerptBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
	r := sink.Result{Status: resp.StatusCode, Excerpt: excerpt, Latency: time.Since(start)}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		r.Outcome = sink.Delivered
		return r
	case code == http.StatusGone:
		r.Outcome = sink.Gone
		r.Error = "HTTP 410 Gone: the receiver asks to stop sending; the endpoint is disabled until re-enabled"
		return r
	case code >= 300 && code <= 399:
		r.Outcome = sink.Retry
		r.Error = fmt.Sprintf("HTTP %d: redirects are not followed; update the endpoint URL", code)
		if loc := resp.Header.Get("Location"); loc != "" {
			r.Error += " (the receiver points to " + redactLocation(loc) + ")"
		}
	default:
		r.Outcome = sink.Retry
		r.Error = "HTTP " + resp.Status
		switch code {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			r.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), s.now())
		}
	}
	if readErr != nil && len(excerpt) == 0 {
		r.Error += "; reading the answer: " + readErr.Error()
	}
	return r
}

// redactLocation shows a Location header without its query and user part,
// at most 200 bytes.
func redactLocation(loc string) string {
	if i := strings.IndexAny(loc, "?#"); i >= 0 {
		loc = loc[:i] + "?…"
	}
	if i := strings.Index(loc, "@"); i >= 0 {
		if j := strings.Index(loc, "//"); j >= 0 && j < i {
			loc = loc[:j+2] + loc[i+1:]
		}
	}
	if len(loc) > 200 {
		loc = loc[:200] + "…"
	}
	return loc
}

// maxRetryAfter caps a Retry-After hint, so a silly value cannot overflow
// a time.Duration; the relay clamps it further.
const maxRetryAfter = 30 * 24 * time.Hour

// ParseRetryAfter reads a Retry-After value: delay-seconds or an
// HTTP-date (relative to now). It returns 0 for an empty, unparseable,
// negative or past value, and at most 30 days.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter // only digits: too many of them
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}
