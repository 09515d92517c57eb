// Package callbacks receives the provider's callbacks: POST
// /v1/callbacks/kaleyra behind the callback authentication (RequireAuth),
// Meta's signed POST and verification GET on /v1/callbacks/meta, and
// Kaleyra's token endpoint /v1/callbacks/token. Each accepted body goes
// through the intake; the answer is sent only once it is committed.
// internal/server/routes.go mounts the handlers.
package callbacks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server/httpx"
)

// Handler serves the callback endpoints.
type Handler struct {
	// Process runs one callback through the intake (intake.Intake.Process).
	Process func(ctx context.Context, req intake.Request) (*intake.Result, error)
	Auth    *callbackauth.Authenticator // nil only with InsecureNoAuth
	Metrics *metrics.Metrics
	Errors  *httpx.ErrorWriter

	// MetaAppSecrets verify X-Hub-Signature-256 on POST /v1/callbacks/meta.
	MetaAppSecrets []string
	// MetaVerifyToken answers Meta's GET handshake.
	MetaVerifyToken string
	// InsecureNoAuth accepts callbacks without authentication (local trials).
	InsecureNoAuth bool
	// MaxBodyBytes bounds a callback body.
	MaxBodyBytes int64
}

// Kaleyra serves POST /v1/callbacks/kaleyra: Kaleyra V2 callbacks (Meta-shaped
// bodies are understood too). RequireAuth has already passed.
func (h *Handler) Kaleyra(w http.ResponseWriter, r *http.Request) error {
	return h.intake(w, r, "kaleyra", nil)
}

// Meta serves POST /v1/callbacks/meta: Meta's signed POSTs, whose
// X-Hub-Signature-256 HMAC over the raw body must match one of the app
// secrets.
func (h *Handler) Meta(w http.ResponseWriter, r *http.Request) error {
	verify := func(body []byte) error {
		if len(h.MetaAppSecrets) == 0 {
			if h.InsecureNoAuth {
				return nil
			}
			return &callbackauth.Error{Reason: callbackauth.ReasonMissingCredentials, Message: "the Meta endpoint is not configured: start the server with --meta-app-secret"}
		}
		sig := r.Header.Get("X-Hub-Signature-256")
		if sig == "" {
			return &callbackauth.Error{Reason: callbackauth.ReasonMissingCredentials, Message: "missing X-Hub-Signature-256 header"}
		}
		if !callback.VerifySignature(body, sig, h.MetaAppSecrets...) {
			return &callbackauth.Error{Reason: callbackauth.ReasonBadCredentials, Message: "X-Hub-Signature-256 does not match the body"}
		}
		return nil
	}
	return h.intake(w, r, "meta", verify)
}

// intake runs one callback through the pipeline: content type, body limit,
// optional signature check over the raw bytes, durable write, answer.
func (h *Handler) intake(w http.ResponseWriter, r *http.Request, endpoint string, verify func([]byte) error) error {
	start := time.Now()
	status := http.StatusOK
	defer func() {
		h.Metrics.IntakeSeconds.WithLabelValues(endpoint, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
	}()
	fail := func(err error) error {
		status, _ = httpx.Classify(err)
		return err
	}
	if err := httpx.CheckJSON(r); err != nil {
		return fail(err)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(err)
		}
		return fail(waorders.Wrap(waorders.CodeInvalid, err, "could not read the request body"))
	}
	if verify != nil {
		if err := verify(body); err != nil {
			h.countAuthFailure(err)
			return fail(err)
		}
	}
	res, err := h.Process(r.Context(), intake.Request{
		ID:       httpx.RequestID(r.Context()),
		Endpoint: endpoint,
		Body:     body,
		Headers:  callbackauth.RedactHeaders(r.Header, h.secretHeaderName()),
	})
	if err != nil {
		return fail(rejection(err))
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

// rejection turns the intake's verdict on an undecodable body into the
// error answer that names the decoder's code and the quarantine entry.
func rejection(err error) error {
	var rej *intake.RejectedError
	if !errors.As(err, &rej) {
		return err
	}
	return &httpx.Rejection{
		Code: rej.Decode.Code, Path: rej.Decode.Path, QuarantineID: rej.QuarantineID,
		Message: rej.Decode.Message + "; the body is kept in quarantine",
		Err:     err,
	}
}

func (h *Handler) secretHeaderName() string {
	if h.Auth == nil {
		return callbackauth.DefaultSecretHeader
	}
	return h.Auth.SecretHeader()
}

// MetaHandshake serves GET /v1/callbacks/meta, Meta's verification: the
// challenge, as plain text, when hub.verify_token matches.
func (h *Handler) MetaHandshake(w http.ResponseWriter, r *http.Request) error {
	if h.MetaVerifyToken == "" {
		return waorders.Errorf(waorders.CodeForbidden, "the Meta endpoint has no verify token: start the server with --meta-verify-token")
	}
	q := r.URL.Query()
	challenge, ok := callback.VerifyHandshake(q, h.MetaVerifyToken)
	if !ok {
		return waorders.Errorf(waorders.CodeForbidden, "verification failed: %s", handshakeProblem(q))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, challenge)
	return nil
}

// Token serves POST /v1/callbacks/token, Kaleyra's advanced-authentication
// token endpoint (callbackauth's TokenHandler), counting refused clients;
// or a 404 when no token clients are configured.
func (h *Handler) Token() http.Handler {
	if h.Auth == nil || !h.Auth.TokensEnabled() {
		return h.Errors.Handle(func(w http.ResponseWriter, r *http.Request) error {
			return waorders.Errorf(waorders.CodeNotFound, "token endpoint disabled: configure --token-clients to enable it")
		})
	}
	tokens := h.Auth.TokenHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &httpx.StatusRecorder{ResponseWriter: w}
		tokens.ServeHTTP(rec, r)
		if rec.Status == http.StatusUnauthorized {
			h.Metrics.AuthFailures.WithLabelValues("token_endpoint").Inc()
		}
	})
}

// RequireAuth checks the callback credentials before anything is read or
// stored; a failure answers 401 and is counted by reason.
func (h *Handler) RequireAuth(next http.Handler) http.Handler {
	if h.Auth == nil || !h.Auth.Enabled() {
		return next // InsecureNoAuth: server.New refuses a nil Auth otherwise.
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.Auth.Check(r); err != nil {
			h.countAuthFailure(err)
			if c := h.Auth.Challenge(); c != "" {
				w.Header().Set("WWW-Authenticate", c)
			}
			h.Errors.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) countAuthFailure(err error) {
	reason := string(callbackauth.ReasonBadCredentials)
	var ae *callbackauth.Error
	if errors.As(err, &ae) {
		reason = string(ae.Reason)
	}
	h.Metrics.AuthFailures.WithLabelValues(reason).Inc()
}

// handshakeProblem names the parameter of a failed handshake, so whoever
// sets up the webhook in Meta's dashboard knows what to fix. The verify
// token is never echoed.
func handshakeProblem(q url.Values) string {
	switch mode := q.Get("hub.mode"); {
	case !q.Has("hub.mode") || mode == "":
		return "hub.mode is missing; Meta sends hub.mode=subscribe"
	case mode != "subscribe":
		return fmt.Sprintf("hub.mode is %q; only subscribe is answered", httpx.Clip(mode, 40))
	case q.Get("hub.verify_token") == "":
		return "hub.verify_token is missing; it must be the verify token the server was started with (--meta-verify-token)"
	case q.Get("hub.challenge") == "":
		return "hub.challenge is missing; Meta sends the number to echo there"
	}
	return "hub.verify_token does not match the server's verify token (--meta-verify-token)"
}
