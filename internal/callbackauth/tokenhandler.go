package callbackauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
)

// maxTokenRequestBytes caps the body of a token request.
const maxTokenRequestBytes = 64 << 10

// tokenResponse is the body of a successful token request (RFC 6749 5.1).
type tokenResponse struct {
	TokenType   string `json:"token_type"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// tokenRequest holds the fields a token request may carry in its body.
type tokenRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	GrantType    string `json:"grant_type"`
}

// TokenHandler returns the token endpoint of Kaleyra's advanced
// authentication. It accepts POST with client_id and client_secret as form
// fields, as a JSON object, or as HTTP Basic user name and password (RFC 6749
// 2.3.1, raw or form-encoded); grant_type is optional and, if present, must
// be client_credentials. Credentials are never read from the URL query.
// It answers {"token_type":"Bearer","access_token":"...","expires_in":3600}
// with Cache-Control: no-store. Failures are written by the server's one
// error writer (httpx.ErrorWriter, in its OAuth form) as
// {"error": {"code": "...", "message": "..."}}: 401 unauthorized for wrong or
// missing credentials (or a client address outside the allow-list), 400 for
// an unreadable body or another grant type, 405 for other methods, 413 for a
// body over 64 KiB, 415 for an unknown content type, and 404 when no token
// client is configured. The request_id member is the request's id
// (httpx.RequestID), else the X-Request-Id header the response already
// carries, and absent when there is neither.
func (a *Authenticator) TokenHandler() http.Handler {
	errs := &httpx.ErrorWriter{OAuth: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.serveToken(w, r); err != nil {
			errs.Error(w, r, err)
		}
	})
}

func (a *Authenticator) serveToken(w http.ResponseWriter, r *http.Request) error {
	if len(a.tokenClients) == 0 {
		return waorders.Errorf(waorders.CodeNotFound, "the token endpoint is disabled: no token client is configured")
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return waorders.Errorf(httpx.CodeMethod, "use POST")
	}
	if len(a.allow) > 0 {
		if err := a.checkAddr(r); err != nil {
			return unauthorized(w, "client address not allowed")
		}
	}
	req, err := readTokenRequest(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		var unsupported *unsupportedTypeError
		switch {
		case errors.As(err, &tooLarge):
			return waorders.Errorf(httpx.CodeTooLarge, "the token request body is over 64 KiB")
		case errors.As(err, &unsupported):
			return waorders.Errorf(httpx.CodeUnsupportedType,
				"send client_id and client_secret as application/x-www-form-urlencoded, as application/json, or with HTTP Basic")
		default:
			return waorders.Wrap(httpx.CodeInvalidRequest, err, "the token request body cannot be read: "+err.Error())
		}
	}
	if req.GrantType != "" && req.GrantType != "client_credentials" {
		return waorders.Errorf(httpx.CodeUnsupportedGrantType, "only grant_type=client_credentials is supported")
	}

	var clientID string
	var ok bool
	if user, pass, basic := r.BasicAuth(); basic {
		clientID, ok = a.matchPair(a.tokenClients, user, pass)
		if !ok {
			// RFC 6749 2.3.1 form-encodes both before Basic encoding.
			u, err1 := url.QueryUnescape(user)
			p, err2 := url.QueryUnescape(pass)
			if err1 == nil && err2 == nil && (u != user || p != pass) {
				clientID, ok = a.matchPair(a.tokenClients, u, p)
			}
		}
	} else if req.ClientID == "" && req.ClientSecret == "" {
		return unauthorized(w, "no client credentials: send client_id and client_secret, or use HTTP Basic")
	} else {
		clientID, ok = a.matchPair(a.tokenClients, req.ClientID, req.ClientSecret)
	}
	if !ok {
		return unauthorized(w, "client credentials do not match")
	}

	token, ttl := a.issueToken(clientID)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(tokenResponse{TokenType: "Bearer", AccessToken: token, ExpiresIn: int64(ttl.Seconds())})
	return nil
}

// unauthorized sets the Basic challenge and returns the 401 error.
func unauthorized(w http.ResponseWriter, message string) error {
	w.Header().Set("WWW-Authenticate", `Basic realm="waorders", charset="UTF-8"`)
	return waorders.Errorf(waorders.CodeUnauthorized, "%s", message)
}

// unsupportedTypeError is a body in a content type the endpoint cannot read.
type unsupportedTypeError struct{ mediaType string }

func (e *unsupportedTypeError) Error() string { return "unsupported content type " + e.mediaType }

// readTokenRequest reads the form or JSON body of a token request. An empty
// body gives an empty request. Without a Content-Type, a body starting with
// '{' is read as JSON and any other as a form.
func readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, error) {
	var req tokenRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequestBytes))
	if err != nil {
		return req, err
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return req, nil
	}
	mediaType := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mediaType, _, err = mime.ParseMediaType(ct); err != nil {
			return req, &unsupportedTypeError{mediaType: ct}
		}
	}
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") || (mediaType == "" && body[0] == '{'):
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&req); err != nil {
			return req, errors.New("not a JSON object with string fields client_id, client_secret and grant_type")
		}
		if dec.More() {
			return req, errors.New("more than one JSON value")
		}
		return req, nil
	case mediaType == "application/x-www-form-urlencoded" || mediaType == "":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return req, errors.New("not a valid form")
		}
		req.ClientID, req.ClientSecret, req.GrantType = form.Get("client_id"), form.Get("client_secret"), form.Get("grant_type")
		return req, nil
	default:
		return req, &unsupportedTypeError{mediaType: mediaType}
	}
}
