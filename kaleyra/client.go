package kaleyra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Kaleyra's regional API hosts ("pods"). Kaleyra's pages disagree on
// Singapore: api.kaleyra.io on the newer ones, api.ap.kaleyra.io on
// others; ask Kaleyra which one an account is on.
const (
	BaseURLIN   = "https://api.in.kaleyra.io"
	BaseURLEU   = "https://api.eu.kaleyra.io"
	BaseURLNA   = "https://api.na.kaleyra.ai"
	BaseURLSG   = "https://api.kaleyra.io"
	BaseURLSGAP = "https://api.ap.kaleyra.io"
)

// DefaultTimeout bounds one Send when Config.Timeout is zero.
const DefaultTimeout = 20 * time.Second

// maxAnswer is the most of an answer's body read.
const maxAnswer = 64 << 10

// Config is what a Client needs. APIKey is a secret: it is sent only in
// the api-key header, and String, GoString and LogValue leave it out.
type Config struct {
	// BaseURL is the pod's scheme and host (BaseURLIN, ..., or a sandbox),
	// optionally with a path prefix.
	BaseURL string
	SID     string
	APIKey  string
	// Sender is the business's WhatsApp number the messages come from, as
	// registered with Kaleyra (E.164, e.g. "+919800000001").
	Sender string
	// HTTPClient sends the requests; nil means a client of its own. Its
	// Timeout, if any, applies on top of Timeout.
	HTTPClient *http.Client
	UserAgent  string        // default "waorders-kaleyra"
	Timeout    time.Duration // for one Send; default DefaultTimeout
}

func (c Config) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("kaleyra.Config{BaseURL: %q, SID: %q, Sender: %q, APIKey: %s}", c.BaseURL, c.SID, c.Sender, key)
}

// GoString is String: %#v shows no key either.
func (c Config) GoString() string { return c.String() }

// LogValue leaves the API key out of slog records.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("sid", c.SID),
		slog.String("sender", c.Sender), slog.Bool("api_key_set", c.APIKey != ""))
}

// Client sends WhatsApp messages through Kaleyra's V2 API. It is safe for
// concurrent use.
type Client struct {
	cfg      Config
	endpoint string
	http     *http.Client
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("kaleyra: BaseURL %q is not an http(s) URL of a host", cfg.BaseURL)
	}
	if cfg.SID == "" || strings.ContainsAny(cfg.SID, "/?#% ") {
		return nil, fmt.Errorf("kaleyra: SID %q is empty or not a path segment", cfg.SID)
	}
	if cfg.APIKey == "" {
		return nil, errors.New("kaleyra: APIKey is empty")
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n") {
		return nil, errors.New("kaleyra: APIKey has a line break")
	}
	if !ValidPhone(cfg.Sender) {
		return nil, fmt.Errorf("kaleyra: Sender %q is not an E.164 number", cfg.Sender)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("kaleyra: Timeout is negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "waorders-kaleyra"
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	// Never follow a redirect: it would re-send the api-key to wherever
	// it points, and a POST is not replayed safely anyway.
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u.Path += "/v2/" + url.PathEscape(cfg.SID) + "/whatsapp/" + url.PathEscape(cfg.Sender) + "/messages"
	return &Client{cfg: cfg, endpoint: u.String(), http: &c}, nil
}

// Config returns the client's configuration, defaults filled in.
func (c *Client) Config() Config { return c.cfg }

// Endpoint is the URL messages are posted to.
func (c *Client) Endpoint() string { return c.endpoint }

// Send posts one message. It returns the acceptance, or an error that is
// one of: a *ValidationError (ErrInvalidMessage: nothing sent), an *Error
// (Kaleyra answered and refused: see its Action), or a *NetError
// (ErrNotSent: safe to send again; ErrAmbiguous: Kaleyra may have it).
// [ActionOf] maps any of them to what to do next.
func (c *Client) Send(ctx context.Context, m Message) (*SendResult, error) {
	body, err := m.Body()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var written atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			// Even a write that failed part-way may have reached Kaleyra
			// whole (the error can come from the final flush): only a
			// request whose writing never ended is surely unsent.
			written.Store(true)
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &NetError{Err: err}
	}
	req.Header.Set("api-key", c.cfg.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &NetError{Written: written.Load(), Err: c.scrub(err)}
	}
	defer resp.Body.Close()
	answer, rerr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if rerr != nil && (resp.StatusCode < 200 || resp.StatusCode > 299) && len(answer) == 0 {
		// The status line arrived: Kaleyra answered, the body is lost.
		answer = nil
	}
	res, perr := ParseResponse(resp.StatusCode, resp.Header, answer)
	if perr != nil {
		return nil, perr
	}
	return res, nil
}

// scrub removes the API key from an error's text, should a transport
// ever echo a header.
func (c *Client) scrub(err error) error {
	if strings.Contains(err.Error(), c.cfg.APIKey) {
		return errors.New(strings.ReplaceAll(err.Error(), c.cfg.APIKey, "[api-key]"))
	}
	return err
}
