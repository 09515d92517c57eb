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

	"github.com/waorders/waorders/internal/wire"
)

// apiClient talks to a running waorders server's /v1 API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// clientFlags registers --server and --api-token on fs.
type clientFlags struct {
	server string
	token  string
	data   string
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", "http://127.0.0.1:8080", "base `URL` of the waorders server")
	fs.StringVar(&c.token, "api-token", "", "API `token` (default: WAORDERS_API_TOKEN, else data/credentials.env)")
	fs.StringVar(&c.data, "data-dir", "data", "`directory` of a local server's generated credentials.env")
}

// client builds the API client. The token comes from the flag, the
// environment (via config resolution), or the credentials file a local
// `waorders serve` generated.
func (c *clientFlags) client() (*apiClient, error) {
	tok := c.token
	if tok == "" {
		vals, err := readCredentials(filepath.Join(c.data, credentialsFile))
		if err == nil {
			tok = vals["WAORDERS_API_TOKEN"]
		}
	}
	if tok == "" {
		return nil, fmt.Errorf("%w: no API token: set WAORDERS_API_TOKEN or --api-token (a local server writes one to data/credentials.env)", ErrUsage)
	}
	u, err := url.Parse(c.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: --server %q is not an http(s) URL", ErrUsage, c.server)
	}
	return &apiClient{base: strings.TrimRight(c.server, "/"), token: tok, http: &http.Client{Timeout: 0}}, nil
}

// apiError is an error answer of the server (wire.ErrorDetail) with its
// HTTP status.
type apiError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s (request %s)", e.Status, e.Code, e.Message, e.RequestID)
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
	maps(req.Header, header)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel(nil)
		return nil, fmt.Errorf("%s %s: %w (is the server running? see --server)", method, c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		defer cancel(nil)
		defer resp.Body.Close()
		var eb wire.Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" {
			return nil, &apiError{Status: resp.StatusCode, Code: "http_error", Message: strings.TrimSpace(string(b))}
		}
		return nil, &apiError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message, RequestID: eb.Error.RequestID}
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

func maps(dst, src http.Header) {
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

// shortTime formats a time for tables.
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}
