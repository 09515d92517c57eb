package server

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
)

// handleKaleyraCallback receives Kaleyra V2 callbacks (Meta-shaped bodies
// are understood too). Authentication already passed.
func (s *Server) handleKaleyraCallback(w http.ResponseWriter, r *http.Request) error {
	return s.intake(w, r, "kaleyra", nil)
}

// handleMetaCallback receives Meta's signed POSTs: the X-Hub-Signature-256
// HMAC over the raw body must match one of the app secrets.
func (s *Server) handleMetaCallback(w http.ResponseWriter, r *http.Request) error {
	verify := func(body []byte) error {
		if len(s.cfg.MetaAppSecrets) == 0 {
			if s.cfg.InsecureNoAuth {
				return nil
			}
			return &callbackauth.Error{Reason: callbackauth.ReasonMissingCredentials, Message: "the Meta endpoint is not configured: start the server with --meta-app-secret"}
		}
		sig := r.Header.Get("X-Hub-Signature-256")
		if sig == "" {
			return &callbackauth.Error{Reason: callbackauth.ReasonMissingCredentials, Message: "missing X-Hub-Signature-256 header"}
		}
		if !callback.VerifySignature(body, sig, s.cfg.MetaAppSecrets...) {
			return &callbackauth.Error{Reason: callbackauth.ReasonBadCredentials, Message: "X-Hub-Signature-256 does not match the body"}
		}
		return nil
	}
	return s.intake(w, r, "meta", verify)
}

// intake runs one callback through the pipeline: content type, body limit,
// optional signature check over the raw bytes, durable write, answer.
func (s *Server) intake(w http.ResponseWriter, r *http.Request, endpoint string, verify func([]byte) error) error {
	start := time.Now()
	status := http.StatusOK
	defer func() {
		s.cfg.Metrics.IntakeSeconds.WithLabelValues(endpoint, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
	}()
	fail := func(err error) error {
		status, _ = classify(err)
		return err
	}
	if err := checkJSON(r); err != nil {
		return fail(err)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(err)
		}
		return fail(waorders.Wrap(waorders.CodeInvalid, err, "could not read the request body"))
	}
	if verify != nil {
		if err := verify(body); err != nil {
			s.countAuthFailure(err)
			return fail(err)
		}
	}
	res, err := s.cfg.Intake.Process(r.Context(), intake.Request{
		ID:       requestID(r.Context()),
		Endpoint: endpoint,
		Body:     body,
		Headers:  callbackauth.RedactHeaders(r.Header, s.secretHeaderName()),
	})
	if err != nil {
		return fail(err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) secretHeaderName() string {
	if s.cfg.Auth == nil {
		return callbackauth.DefaultSecretHeader
	}
	return s.cfg.Auth.SecretHeader()
}

// checkJSON accepts application/json and any application/*+json type.
func checkJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
		return nil
	}
	if ct == "" {
		ct = "none"
	}
	return waorders.Errorf(waorders.CodeUnsupportedType, "content type %q is not accepted; send Content-Type: application/json", ct)
}

// handleMetaHandshake answers Meta's verification GET: the challenge, as
// plain text, when hub.verify_token matches.
func (s *Server) handleMetaHandshake(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.MetaVerifyToken == "" {
		return waorders.Errorf(waorders.CodeForbidden, "the Meta endpoint has no verify token: start the server with --meta-verify-token")
	}
	challenge, ok := callback.VerifyHandshake(r.URL.Query(), s.cfg.MetaVerifyToken)
	if !ok {
		return waorders.Errorf(waorders.CodeForbidden, "verification failed: hub.mode must be subscribe and hub.verify_token must match")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, challenge)
	return nil
}

// tokenHandler serves Kaleyra's advanced-authentication token endpoint, or
// a 404 when no token clients are configured.
func (s *Server) tokenHandler() http.Handler {
	if s.cfg.Auth == nil || !s.cfg.Auth.TokensEnabled() {
		return s.handle(func(w http.ResponseWriter, r *http.Request) error {
			return waorders.Errorf(waorders.CodeNotFound, "token endpoint disabled: configure --token-clients to enable it")
		})
	}
	h := s.cfg.Auth.TokenHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusUnauthorized {
			s.cfg.Metrics.AuthFailures.WithLabelValues("token_endpoint").Inc()
		}
	})
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// handleReadyz reports ready when storage answers and accepts writes.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		return waorders.Wrap(waorders.CodeUnavailable, err, "storage is not writable")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
