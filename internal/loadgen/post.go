package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/waorders/waorders/callback"
)

// Post sends one body as cfg says — to its callback URL, with its
// authentication and, for Meta, the signature — and returns the answer's
// status and body (at most 1 MiB of it). `waorders send --example` uses it
// to post the example it shows. Count, rate and the generator settings of
// cfg play no part.
func Post(ctx context.Context, cfg Config, body []byte) (status int, answer []byte, err error) {
	if err := cfg.Validate(); err != nil {
		return 0, nil, err
	}
	r := newRunner(cfg)
	defer r.client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if cfg.Meta && cfg.AppSecret != "" {
		req.Header.Set(callback.SignatureHeader, callback.Sign(body, cfg.AppSecret))
	}
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the cause, not the URL (which may carry credentials)
		}
		return 0, nil, fmt.Errorf("post to %s: %w", r.summary(0).URL, err)
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return resp.StatusCode, answer, fmt.Errorf("read the answer: %w", err)
	}
	return resp.StatusCode, answer, nil
}
