package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/waorders/waorders/internal/sink"
)

// Defaults of Options.
const (
	DefaultStream        = "WAORDERS"
	DefaultSubjectPrefix = "waorders"
	DefaultDuplicates    = 15 * time.Minute
	DefaultMaxAge        = 7 * 24 * time.Hour
	// UnknownPhoneNumberID stands in the subject for a phone_number_id that
	// is empty or not all digits.
	UnknownPhoneNumberID = "unknown"
)

// Headers set on every message besides Nats-Msg-Id.
const (
	HeaderType        = "Waorders-Type"
	HeaderContentType = "Content-Type"
)

// Options configures Open.
type Options struct {
	// URL is the NATS server URL (--nats-url), e.g. nats://127.0.0.1:4222;
	// several may be given, comma-separated. Required.
	URL string
	// Stream is the JetStream stream's name; "" means DefaultStream.
	Stream string
	// SubjectPrefix is the first subject token; "" means "waorders". The
	// stream must cover SubjectPrefix + ".>". (Tests use a unique prefix,
	// since two streams on one server may not share subjects.)
	SubjectPrefix string
	// Duplicates is the dedup window of a stream Open creates; 0 means
	// 15 min. It must be ≥ 100 ms and ≤ MaxAge.
	Duplicates time.Duration
	// MaxAge is how long a created stream keeps messages; 0 means 7 days.
	MaxAge time.Duration
	// Replicas of a created stream; 0 means 1 (use 3 in a cluster).
	Replicas int
	// Logger gets connection events and warnings; nil logs nothing. The
	// URL's password never reaches it.
	Logger *slog.Logger
	// ConnOptions are extra nats.go options (credentials, TLS, name); they
	// come after waorders' own and so win.
	ConnOptions []natsgo.Option
}

// Sink publishes events to a JetStream stream. It is safe for concurrent
// use. Close it to close its connection.
type Sink struct {
	nc     *natsgo.Conn
	js     jetstream.JetStream
	stream string
	prefix string
	log    *slog.Logger
	// lastPermErr is the time (unix ns) of the last permission violation
	// the server reported asynchronously: a publish refused for lack of
	// permission looks like a timeout to the publisher.
	lastPermErr atomic.Int64
	permErrMsg  atomic.Value // string
}

var _ sink.Sink = (*Sink)(nil)

// Open connects, then ensures the stream: created when missing (subjects
// SubjectPrefix+".>", file storage, limits retention, MaxAge, Duplicates,
// discard old, deny delete), left as it is when present, provided its
// subjects cover SubjectPrefix+".>" (else Open fails, saying how to fix
// it). It never updates an existing stream. The connection reconnects for
// ever; Deliver reports Retry while it is down.
func Open(ctx context.Context, o Options) (*Sink, error) {
	if strings.TrimSpace(o.URL) == "" {
		return nil, errors.New("nats: no URL; give --nats-url, e.g. nats://127.0.0.1:4222")
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if strings.ContainsAny(o.Stream, ".*> \t\r\n/\\") {
		return nil, fmt.Errorf("nats: stream name %q may not contain '.', '*', '>', '/', '\\' or spaces", o.Stream)
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultSubjectPrefix
	}
	if !validTokens(o.SubjectPrefix) {
		return nil, fmt.Errorf("nats: subject prefix %q is not a valid subject (tokens separated by '.', no wildcards or spaces)", o.SubjectPrefix)
	}
	if o.Duplicates == 0 {
		o.Duplicates = DefaultDuplicates
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.Duplicates < 100*time.Millisecond {
		return nil, fmt.Errorf("nats: duplicates window %s is below the server's minimum of 100ms", o.Duplicates)
	}
	if o.MaxAge > 0 && o.Duplicates > o.MaxAge {
		return nil, fmt.Errorf("nats: duplicates window %s exceeds the stream's max age %s; the server refuses that (make the window shorter)", o.Duplicates, o.MaxAge)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sink{stream: o.Stream, prefix: o.SubjectPrefix, log: log}
	shown := redactURLs(o.URL)
	opts := []natsgo.Option{
		natsgo.Name("waorders"),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(time.Second),
		natsgo.Timeout(5 * time.Second),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil {
				log.Warn("nats: disconnected", "url", shown, "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			log.Info("nats: reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			if errors.Is(err, natsgo.ErrPermissionViolation) || errors.Is(err, natsgo.ErrAuthorization) {
				s.lastPermErr.Store(time.Now().UnixNano())
				s.permErrMsg.Store(err.Error())
			}
			log.Warn("nats: server error", "err", err)
		}),
	}
	opts = append(opts, o.ConnOptions...)
	nc, err := natsgo.Connect(o.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connecting to %s: %w (is nats-server running with -js? check --nats-url)", shown, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	s.nc, s.js = nc, js
	if err := s.ensureStream(ctx, o); err != nil {
		nc.Close()
		return nil, err
	}
	return s, nil
}

func (s *Sink) ensureStream(ctx context.Context, o Options) error {
	want := o.SubjectPrefix + ".>"
	for range 2 {
		st, err := s.js.Stream(ctx, o.Stream)
		if err == nil {
			return s.checkStream(st.CachedInfo().Config, want, o)
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("nats: looking up stream %s: %w%s", o.Stream, err, jsHint(err))
		}
		_, err = s.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        o.Stream,
			Description: "waorders events (created by waorders)",
			Subjects:    []string{want},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Discard:     jetstream.DiscardOld,
			MaxAge:      o.MaxAge,
			Duplicates:  o.Duplicates,
			Replicas:    o.Replicas,
			DenyDelete:  true,
		})
		if err == nil {
			s.log.Info("nats: created stream", "stream", o.Stream, "subjects", want, "duplicates", o.Duplicates, "max_age", o.MaxAge)
			return nil
		}
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("nats: creating stream %s on %s: %w%s", o.Stream, want, err, jsHint(err))
		}
		// another instance created it meanwhile: look again
	}
	return fmt.Errorf("nats: stream %s neither found nor created", o.Stream)
}

func (s *Sink) checkStream(cfg jetstream.StreamConfig, want string, o Options) error {
	covered := false
	for _, subj := range cfg.Subjects {
		covered = covered || covers(subj, want)
	}
	if !covered {
		return fmt.Errorf("nats: stream %s exists with subjects %q, which do not cover %s; waorders never changes an existing stream: add the subject (nats stream edit %s --subjects %s plus the current ones) or choose another stream name",
			o.Stream, cfg.Subjects, want, o.Stream, want)
	}
	if cfg.Sealed {
		return fmt.Errorf("nats: stream %s is sealed and takes no messages; choose another stream name", o.Stream)
	}
	if cfg.Duplicates < o.Duplicates {
		s.log.Warn("nats: the existing stream's duplicates window is shorter than configured; a redelivery after it may store a second copy (waorders does not change it)",
			"stream", o.Stream, "stream_duplicates", cfg.Duplicates, "configured", o.Duplicates)
	}
	return nil
}

// covers reports whether the stream subject filter covers every subject
// the pattern want matches (want ends in ">").
func covers(filter, want string) bool {
	f, w := strings.Split(filter, "."), strings.Split(want, ".")
	for i, tok := range f {
		if tok == ">" {
			return true
		}
		if i >= len(w) || w[i] == ">" {
			return false
		}
		if tok != "*" && tok != w[i] {
			return false
		}
	}
	return len(f) == len(w) && !strings.Contains(want, ">")
}

// Close drains nothing (publishes are synchronous) and closes the
// connection.
func (s *Sink) Close() error {
	s.nc.Close()
	return nil
}

// Subject is the subject of an event: prefix.<type>.<phone_number_id>,
// e.g. waorders.order.created.100000000000001. A phone_number_id that is
// empty or not all digits becomes UnknownPhoneNumberID (so a consumer's
// waorders.*.*.<id> filter never matches the wrong number). The type must
// be dot-separated tokens without wildcards or spaces.
func Subject(prefix, typ, phoneNumberID string) (string, error) {
	if !validTokens(typ) {
		return "", fmt.Errorf("event type %q cannot be a subject (tokens separated by '.', no '*', '>' or spaces)", typ)
	}
	pn := phoneNumberID
	if pn == "" || strings.Trim(pn, "0123456789") != "" {
		pn = UnknownPhoneNumberID
	}
	return prefix + "." + typ + "." + pn, nil
}

func validTokens(s string) bool {
	if s == "" {
		return false
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return false
		}
	}
	return true
}

// Deliver publishes d.Payload to Subject(prefix, d.Type, d.PhoneNumberID)
// with Nats-Msg-Id = d.EventID, Waorders-Type and Content-Type headers,
// expecting the configured stream, and waits for the stream's ack:
//
//   - ack, a duplicate's included (the server dropped a repeat inside the
//     window and acked the original): Delivered, RemoteRef = the stream
//     sequence, Excerpt = {"stream","seq","duplicate"}.
//   - no responders, connection closed or down, timeout (the message may
//     or may not be stored: the retry with the same id is deduplicated),
//     JetStream 5xx: Retry.
//   - a JetStream 4xx (wrong expected stream, stream missing, limits,
//     JetStream off) or a permission violation: PauseSink.
//   - a payload over the server's limit, an event type that cannot be a
//     subject, an empty event id: Dead.
func (s *Sink) Deliver(ctx context.Context, d sink.Delivery) sink.Result {
	start := time.Now()
	if d.EventID == "" {
		return sink.Result{Outcome: sink.Dead, Error: "empty event id: no Nats-Msg-Id to deduplicate on"}
	}
	subj, err := Subject(s.prefix, d.Type, d.PhoneNumberID)
	if err != nil {
		return sink.Result{Outcome: sink.Dead, Error: err.Error()}
	}
	m := natsgo.NewMsg(subj)
	m.Data = d.Payload
	m.Header.Set(HeaderType, d.Type)
	m.Header.Set(HeaderContentType, "application/json")
	ack, err := s.js.PublishMsg(ctx, m, jetstream.WithMsgID(d.EventID), jetstream.WithExpectStream(s.stream))
	r := sink.Result{Latency: time.Since(start)}
	if err == nil {
		r.Outcome = sink.Delivered
		r.RemoteRef = strconv.FormatUint(ack.Sequence, 10)
		r.Excerpt = fmt.Appendf(nil, `{"stream":%q,"seq":%d,"duplicate":%t}`, ack.Stream, ack.Sequence, ack.Duplicate)
		return r
	}
	r.Outcome, r.Error = s.classify(err, start)
	return r
}

func (s *Sink) classify(err error, start time.Time) (sink.Outcome, string) {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, natsgo.ErrMaxPayload):
		return sink.Dead, "payload exceeds the server's max_payload: " + err.Error()
	case errors.Is(err, natsgo.ErrBadSubject):
		return sink.Dead, err.Error()
	case errors.Is(err, natsgo.ErrPermissionViolation), errors.Is(err, natsgo.ErrAuthorization),
		errors.Is(err, natsgo.ErrAuthExpired), errors.Is(err, natsgo.ErrAuthRevoked):
		return sink.PauseSink, "permission refused: " + err.Error() + "; grant publish on " + s.prefix + ".> and $JS.API.>"
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, natsgo.ErrNoResponders):
		return sink.Retry, "no JetStream answer (server restarting, JetStream off, or stream " + s.stream + " missing): " + err.Error()
	case errors.As(err, &apiErr) && apiErr.Code < 500:
		if apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum {
			return sink.Dead, "the stream refuses the message as too large: " + err.Error()
		}
		return sink.PauseSink, "stream " + s.stream + " refused the message: " + err.Error() + jsHint(err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, natsgo.ErrTimeout):
		if t := s.lastPermErr.Load(); t >= start.UnixNano() {
			msg, _ := s.permErrMsg.Load().(string)
			return sink.PauseSink, "permission refused (" + msg + "); grant publish on " + s.prefix + ".> to waorders' user"
		}
		return sink.Retry, "no ack in time (the message may be stored; the retry with the same Nats-Msg-Id is deduplicated): " + err.Error()
	}
	return sink.Retry, err.Error()
}

func jsHint(err error) string {
	var apiErr *jetstream.APIError
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) ||
		(errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabled || apiErr.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabledForAccount)) {
		return " (JetStream is off: start nats-server with -js, or enable it for this account)"
	}
	return ""
}

// redactURLs shows a comma-separated list of server URLs without
// passwords or tokens.
func redactURLs(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			parts[i] = "(unparseable URL)"
			continue
		}
		if u.User != nil {
			u.User = url.User("redacted")
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
