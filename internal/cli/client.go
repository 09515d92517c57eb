package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/wire"
)

// apiClient talks to a running waorders server's /v1 API.
type apiClient struct {
	base      string
	baseFrom  string // where the URL came from, for messages
	token     string
	tokenFrom string
	http      *http.Client
	loc       *time.Location // where tables show times (--tz)
}

// clientFlags are the connection settings of every client command: --url
// (and the deprecated --server), --api-token, --data-dir, --tz, --config.
type clientFlags struct {
	cfg config.Client
}

func (c *clientFlags) register(fs *flag.FlagSet) { c.cfg.Flags(fs) }

// noTokenHelp says every way to give the API token.
const noTokenHelp = `no API token; give it one of these ways:
  --api-token TOKEN
  WAORDERS_API_TOKEN=TOKEN
  WAORDERS_API_TOKEN_FILE=/path/to/file (the file holds the token)
  api-token = TOKEN in the config file (--config FILE or WAORDERS_CONFIG)
A local "waorders serve" writes one to data/credentials.env, which the CLI
reads by itself (see --data-dir)`

// client resolves the settings not given as flags (environment, *_FILE,
// config file, derived defaults; see config.Client.Resolve), prints any
// deprecation warning on stderr, and builds the API client. Without a
// token from those, it takes WAORDERS_API_TOKEN from the credentials.env a
// local `waorders serve` generated.
func (c *clientFlags) client(env Env, fs *flag.FlagSet) (*apiClient, error) {
	conf, _, err := c.cfg.Resolve(fs, env.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	for _, w := range conf.Warnings {
		fmt.Fprintf(env.Stderr, "waorders: warning: %s\n", w)
	}
	tok, from := conf.Token, conf.TokenFrom
	if tok == "" {
		path := filepath.Join(conf.DataDir, credentialsFile)
		if vals, err := readCredentials(path); err == nil && vals["WAORDERS_API_TOKEN"] != "" {
			tok, from = vals["WAORDERS_API_TOKEN"], path
		}
	}
	if tok == "" {
		return nil, fmt.Errorf("%w: %s", ErrUsage, noTokenHelp)
	}
	return &apiClient{
		base: conf.URL, baseFrom: conf.URLFrom, token: tok, tokenFrom: from,
		http: &http.Client{Timeout: 0}, loc: conf.Location,
	}, nil
}

// apiError is an error answer of the server (wire.ErrorDetail) with its
// HTTP status.
type apiError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
	Hint      string // what to do, when the client knows
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("server answered %d %s: %s (request %s)", e.Status, e.Code, e.Message, e.RequestID)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// do sends a request and returns the open response for 2xx answers; any
// other answer becomes an *apiError. The caller closes the body.
func (c *apiClient) do(ctx context.Context, method, path string, query url.Values, body any, header http.Header) (*http.Response, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = strings.NewReader(string(b))
	}
	ctx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		cancel(nil)
		return nil, err
	}
	copyHeader(req.Header, header)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel(nil)
		return nil, fmt.Errorf("%s %s: %w (is a waorders server running there? the URL came from %s; set --url or WAORDERS_URL)", method, c.base, err, c.baseFrom)
	}
	if resp.StatusCode/100 != 2 {
		defer cancel(nil)
		defer resp.Body.Close()
		var eb wire.Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var ae *apiError
		if json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" {
			ae = &apiError{Status: resp.StatusCode, Code: "http_error", Message: clean(strings.TrimSpace(string(b)), 200)}
		} else {
			ae = &apiError{Status: resp.StatusCode, Code: eb.Error.Code, Message: clean(eb.Error.Message, 500), RequestID: eb.Error.RequestID}
		}
		if resp.StatusCode == http.StatusUnauthorized {
			ae.Hint = "check the API token (it came from " + c.tokenFrom + ")"
		}
		return nil, ae
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel(nil)
	return err
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// getJSON decodes a 2xx JSON answer into out.
func (c *apiClient) getJSON(ctx context.Context, method, path string, query url.Values, body, out any, header http.Header) (http.Header, error) {
	resp, err := c.do(ctx, method, path, query, body, header)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return nil, fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	return resp.Header, nil
}

// shortTime formats a time for tables, in the zone of --tz.
func (c *apiClient) shortTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(c.loc).Format("2006-01-02 15:04:05")
}

// zone names the zone of --tz for table headers: "UTC", "Asia/Kolkata",
// or for the local zone its abbreviation now ("CET").
func (c *apiClient) zone() string {
	if c.loc == time.UTC {
		return "UTC"
	}
	if name := c.loc.String(); name != "Local" {
		return name
	}
	return time.Now().In(c.loc).Format("MST")
}
