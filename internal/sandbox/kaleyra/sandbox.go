package sandbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config sets up a Sandbox. SID, APIKey and Sender are the credentials it
// accepts, like an account's at Kaleyra.
type Config struct {
	SID    string
	APIKey string
	// Sender is the business number (E.164) accepted in the path.
	Sender string
	// PhoneNumberID and WABAID go into the callbacks' metadata and
	// extra_info (defaults "100000000000001" and "200000000000001").
	PhoneNumberID string
	WABAID        string

	// CallbackURL receives the status callbacks; empty sends none.
	CallbackURL  string
	CallbackAuth CallbackAuth
	// Statuses are posted in order for every accepted message (default
	// sent, delivered, read), StatusDelay apart (default 200 ms; the first
	// after StatusDelay too).
	Statuses    []string
	StatusDelay time.Duration
	// A callback answered other than 2xx (or not at all) is tried again,
	// up to CallbackAttempts times in all (default 3), CallbackRetryDelay
	// apart, doubling (default 500 ms).
	CallbackAttempts   int
	CallbackRetryDelay time.Duration
	// CallbackClient posts the callbacks (default: a client with a 10 s
	// timeout).
	CallbackClient *http.Client

	// Clock gives the callbacks' timestamps (default time.Now).
	Clock  func() time.Time
	Logger *slog.Logger // default: discard
}

// CallbackAuth is how the callbacks authenticate, as configured on a
// Kaleyra callback profile: a custom header with a secret, or HTTP Basic.
type CallbackAuth struct {
	Header   string // e.g. "X-Callback-Secret"
	Secret   string
	Username string // Basic, when set
	Password string
}

// Send is an accepted message, as recorded.
type Send struct {
	ID      string // the wamid answered and used in the callbacks
	To      string
	Type    string
	ReplyTo string
	Ref     string
	Ref1    string
	Ref2    string
	Body    json.RawMessage // the request body as received
	At      time.Time
}

// Callback is one attempt at posting a status callback.
type Callback struct {
	MessageID  string
	Status     string
	Attempt    int
	HTTPStatus int    // 0 when no answer came
	Err        string // the transport error, if any
}

// Sandbox is a local stand-in for Kaleyra's WhatsApp V2 send API.
type Sandbox struct {
	cfg Config
	log *slog.Logger

	mu          sync.Mutex
	failCode    string
	failN       int
	delay       time.Duration
	dropAfter   int
	dropBefore  int
	failDeliver int
	failMeta    int
	requests    int
	sends       []Send
	callbacks   []Callback
	seq         int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	srv      *http.Server
	ln       net.Listener
	url      string
	certPool *x509.CertPool
}

// New returns a Sandbox; Start serves it, or use Handler with a server of
// your own (DropBeforeWrite needs Start).
func New(cfg Config) (*Sandbox, error) {
	if cfg.SID == "" || cfg.APIKey == "" || cfg.Sender == "" {
		return nil, errors.New("sandbox: SID, APIKey and Sender are required")
	}
	if cfg.PhoneNumberID == "" {
		cfg.PhoneNumberID = "100000000000001"
	}
	if cfg.WABAID == "" {
		cfg.WABAID = "200000000000001"
	}
	if cfg.Statuses == nil {
		cfg.Statuses = []string{"sent", "delivered", "read"}
	}
	if cfg.StatusDelay == 0 {
		cfg.StatusDelay = 200 * time.Millisecond
	}
	if cfg.CallbackAttempts == 0 {
		cfg.CallbackAttempts = 3
	}
	if cfg.CallbackRetryDelay == 0 {
		cfg.CallbackRetryDelay = 500 * time.Millisecond
	}
	if cfg.CallbackClient == nil {
		cfg.CallbackClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{cfg: cfg, log: log}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// FailNext answers the next n sends with Kaleyra's error for code
// ("WA400", "RBC001", "E110", "WAV2101", "WA401", "WA500", ...), without
// accepting them.
func (s *Sandbox) FailNext(code string, n int) {
	s.mu.Lock()
	s.failCode, s.failN = code, n
	s.mu.Unlock()
}

// Delay holds every answer for d (0: none). The send is accepted before
// the wait, as a slow Kaleyra would: a client that gives up has still sent.
func (s *Sandbox) Delay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// DropAfterWrite makes the next n valid sends be accepted (recorded, their
// callbacks posted) and then the connection closed with no answer: the
// ambiguous case.
func (s *Sandbox) DropAfterWrite(n int) {
	s.mu.Lock()
	s.dropAfter = n
	s.mu.Unlock()
}

// DropBeforeWrite closes the next n connections as they are accepted,
// before reading anything. Over TLS (StartTLS) the client's handshake
// fails, so it knows nothing was sent; over plain HTTP the client may
// already have written its request into the closed connection and cannot
// tell.
func (s *Sandbox) DropBeforeWrite(n int) {
	s.mu.Lock()
	s.dropBefore = n
	s.mu.Unlock()
}

// FailDelivery makes the next n accepted messages get "sent" and then
// "failed" with this Meta error code (e.g. 131047, the 24-hour window).
func (s *Sandbox) FailDelivery(metaCode, n int) {
	s.mu.Lock()
	s.failMeta, s.failDeliver = metaCode, n
	s.mu.Unlock()
}

// Sends returns the accepted sends, in order.
func (s *Sandbox) Sends() []Send {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Send(nil), s.sends...)
}

// Accepted counts the accepted sends with these refs: a test of "at most
// one accepted send per order" asserts it is at most 1.
func (s *Sandbox) Accepted(ref, ref1, ref2 string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, x := range s.sends {
		if x.Ref == ref && x.Ref1 == ref1 && x.Ref2 == ref2 {
			n++
		}
	}
	return n
}

// Requests counts the requests that reached the send endpoint's handler.
func (s *Sandbox) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Callbacks returns the callback attempts so far.
func (s *Sandbox) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Callback(nil), s.callbacks...)
}

// Handler returns the HTTP handler serving the send endpoint
// POST /v2/{sid}/whatsapp/{sender}/messages.
func (s *Sandbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/{sid}/whatsapp/{sender}/messages", s.serveSend)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "WA404", "Not found: the send endpoint is POST /v2/{sid}/whatsapp/{sender}/messages.", nil)
	})
	return mux
}

// Start serves on addr ("127.0.0.1:0" for any port) over plain HTTP.
func (s *Sandbox) Start(addr string) error { return s.start(addr, false) }

// StartTLS serves on addr over HTTPS with a fresh self-signed
// certificate; Client returns a client that trusts it.
func (s *Sandbox) StartTLS(addr string) error { return s.start(addr, true) }

func (s *Sandbox) start(addr string, useTLS bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	// One request per connection, so that every send dials and
	// DropBeforeWrite meets it.
	s.srv.SetKeepAlivesEnabled(false)
	var l net.Listener = &dropListener{Listener: ln, s: s}
	scheme := "http"
	if useTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			ln.Close()
			return err
		}
		s.certPool = pool
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	s.ln = ln
	s.url = scheme + "://" + ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox: serve", "err", err)
		}
	}()
	return nil
}

// URL is the base URL to give a client (after Start).
func (s *Sandbox) URL() string { return s.url }

// Client returns an HTTP client for the sandbox: for StartTLS, one
// trusting its certificate.
func (s *Sandbox) Client() *http.Client {
	if s.certPool == nil {
		return &http.Client{}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.certPool, MinVersion: tls.VersionTLS12}}}
}

// Close stops serving and posting callbacks, and waits for both.
func (s *Sandbox) Close() error {
	s.cancel()
	var err error
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = s.srv.Shutdown(ctx)
	}
	s.wg.Wait()
	return err
}

type dropListener struct {
	net.Listener
	s *Sandbox
}

func (l *dropListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.mu.Lock()
		drop := l.s.dropBefore > 0
		if drop {
			l.s.dropBefore--
		}
		l.s.mu.Unlock()
		if !drop {
			return c, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
}

// errorBody is the answer to a refused send. Kaleyra's pages name the
// codes but the stored copies show no sample body; this follows the shape
// of Kaleyra's other APIs: code, message, data, error.
type errorBody struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Data    []any     `json:"data"`
	Error   errorInfo `json:"error"`
}

type errorInfo struct {
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Problems []Problem `json:"problems,omitempty"`
}

// codes are the answers FailNext and validation give.
var codes = map[string]struct {
	status int
	msg    string
}{
	"RBC001":  {http.StatusUnauthorized, "Incorrect SID or API Key."},
	"E110":    {http.StatusBadRequest, "Insufficient Balance."},
	"WAV2101": {http.StatusTooManyRequests, "Account daily limit reached."},
	"WA400":   {http.StatusBadRequest, "Incorrect Payload."},
	"WA401":   {http.StatusUnauthorized, "Unauthorized access."},
	"WA-401":  {http.StatusUnauthorized, "Unauthorized access."},
	"WA500":   {http.StatusInternalServerError, "Internal Server Error."},
}

func writeError(w http.ResponseWriter, status int, code, msg string, problems []Problem) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Code: code, Message: msg, Data: []any{},
		Error: errorInfo{Code: code, Message: msg, Problems: problems}})
}

func writeCode(w http.ResponseWriter, code string, problems []Problem) {
	c, ok := codes[code]
	if !ok {
		c.status, c.msg = http.StatusInternalServerError, "Internal Server Error."
	}
	writeError(w, c.status, code, c.msg, problems)
}

func (s *Sandbox) serveSend(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "WA405", "Method not allowed: use POST.", nil)
		return
	}
	key := r.Header.Get("api-key")
	if r.PathValue("sid") != s.cfg.SID || subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.APIKey)) != 1 {
		writeCode(w, "RBC001", nil)
		return
	}
	if strings.TrimPrefix(r.PathValue("sender"), "+") != strings.TrimPrefix(s.cfg.Sender, "+") {
		writeCode(w, "WA401", []Problem{{"path.sender", "the number is not on this account"}})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeCode(w, "WA400", []Problem{{"", "body unreadable or over 1 MiB"}})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeCode(w, "WA400", []Problem{{"header.Content-Type", "must be application/json"}})
		return
	}
	s.mu.Lock()
	if s.failN > 0 {
		s.failN--
		code := s.failCode
		s.mu.Unlock()
		writeCode(w, code, nil)
		return
	}
	s.mu.Unlock()
	req, problems := validate(body)
	if len(problems) > 0 {
		s.log.Info("sandbox: send refused", "problems", problems)
		writeCode(w, "WA400", problems)
		return
	}
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("wamid.SANDBOX%s%06d", randHex(6), s.seq)
	send := Send{ID: id, To: req.To, Type: req.Type, ReplyTo: req.ReplyTo, Ref: req.Ref, Ref1: req.Ref1, Ref2: req.Ref2,
		Body: bytes.Clone(body), At: s.cfg.Clock()}
	s.sends = append(s.sends, send)
	failed := 0
	if s.failDeliver > 0 {
		s.failDeliver--
		failed = s.failMeta
	}
	drop := s.dropAfter > 0
	if drop {
		s.dropAfter--
	}
	delay := s.delay
	s.mu.Unlock()
	s.log.Info("sandbox: send accepted", "id", id, "to", req.To, "type", req.Type, "ref", req.Ref, "ref1", req.Ref1, "ref2", req.Ref2)
	s.schedule(send, failed)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
		}
	}
	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // TLS or HTTP/2: abort the stream
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []any{map[string]string{"input": req.To, "wa_id": strings.TrimPrefix(req.To, "+")}},
		"messages":          []any{map[string]string{"id": id}},
	})
}

// schedule posts the message's status callbacks in the background.
func (s *Sandbox) schedule(m Send, failMeta int) {
	if s.cfg.CallbackURL == "" {
		return
	}
	statuses := s.cfg.Statuses
	if failMeta != 0 {
		statuses = []string{"sent", "failed"}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, st := range statuses {
			select {
			case <-time.After(s.cfg.StatusDelay):
			case <-s.ctx.Done():
				return
			}
			s.post(m, st, failMeta)
		}
	}()
}

// StatusBody is the body of a status callback for a message, the way
// Kaleyra posts it: Meta's status inside meta_object, Kaleyra's
// extra_info with the send's refs echoed, and top-level status and
// message_id.
func (s *Sandbox) StatusBody(m Send, status string, failMeta int) []byte {
	now := s.cfg.Clock()
	st := map[string]any{
		"id": m.ID, "status": status, "timestamp": strconv.FormatInt(now.Unix(), 10),
		"recipient_id": strings.TrimPrefix(m.To, "+"),
	}
	switch status {
	case "sent":
		st["conversation"] = map[string]any{"id": randHex(16), "expiration_timestamp": strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10),
			"origin": map[string]string{"type": "service"}}
		st["pricing"] = map[string]any{"billable": false, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
	case "failed":
		st["errors"] = []any{map[string]any{"code": failMeta, "title": metaTitle(failMeta), "message": metaTitle(failMeta),
			"error_data": map[string]string{"details": metaTitle(failMeta)}}}
	}
	body := map[string]any{
		"meta_object": map[string]any{
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]string{"display_phone_number": strings.TrimPrefix(s.cfg.Sender, "+"), "phone_number_id": s.cfg.PhoneNumberID},
				"statuses":          []any{st},
			},
			"field": "messages",
		},
		"extra_info": map[string]any{
			"trace_id": uuid(), "message_id": m.ID, "waba_id": s.cfg.WABAID,
			"ref": m.Ref, "ref1": m.Ref1, "ref2": m.Ref2,
			"enable_url_tracking_body": false, "enable_url_tracking_button": false,
		},
		"status":     status,
		"message_id": m.ID,
	}
	b, _ := json.Marshal(body)
	return b
}

func metaTitle(code int) string {
	if code == 131047 {
		return "Re-engagement message"
	}
	return "Message failed to send"
}

func (s *Sandbox) post(m Send, status string, failMeta int) {
	body := s.StatusBody(m, status, failMeta)
	wait := s.cfg.CallbackRetryDelay
	for attempt := 1; attempt <= s.cfg.CallbackAttempts; attempt++ {
		rec := Callback{MessageID: m.ID, Status: status, Attempt: attempt}
		req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.cfg.CallbackURL, bytes.NewReader(body))
		if err != nil {
			s.log.Error("sandbox: callback", "err", err)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		a := s.cfg.CallbackAuth
		if a.Username != "" {
			req.SetBasicAuth(a.Username, a.Password)
		} else if a.Header != "" {
			req.Header.Set(a.Header, a.Secret)
		}
		resp, err := s.cfg.CallbackClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			rec.HTTPStatus = resp.StatusCode
		} else {
			rec.Err = err.Error()
		}
		s.mu.Lock()
		s.callbacks = append(s.callbacks, rec)
		s.mu.Unlock()
		if err == nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			s.log.Info("sandbox: callback delivered", "id", m.ID, "status", status, "attempt", attempt)
			return
		}
		s.log.Warn("sandbox: callback failed", "id", m.ID, "status", status, "attempt", attempt, "http_status", rec.HTTPStatus, "err", rec.Err)
		if attempt == s.cfg.CallbackAttempts {
			return
		}
		select {
		case <-time.After(wait):
		case <-s.ctx.Done():
			return
		}
		wait *= 2
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "waorders kaleyra sandbox"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
