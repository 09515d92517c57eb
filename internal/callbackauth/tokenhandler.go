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
// with Cache-Control: no-store. Failures answer
// {"error": {"code": "...", "message": "..."}}: 401 unauthorized for wrong or
// missing credentials (or a client address outside the allow-list), 400 for
// an unreadable body or another grant type, 405 for other methods, 413 for a
// body over 64 KiB, 415 for an unknown content type, and 404 when no token
// client is configured. The request_id member is added when the response
// already carries an X-Request-Id header.
func (a *Authenticator) TokenHandler() http.Handler {
	return http.HandlerFunc(a.serveToken)
}

func (a *Authenticator) serveToken(w http.ResponseWriter, r *http.Request) {
	if len(a.tokenClients) == 0 {
		writeJSONError(w, http.StatusNotFound, "not_found", "the token endpoint is disabled: no token client is configured")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	if len(a.allow) > 0 {
		if err := a.checkAddr(r); err != nil {
			a.unauthorized(w, "client address not allowed")
			return
		}
	}
	req, err := readTokenRequest(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		var unsupported *unsupportedTypeError
		switch {
		case errors.As(err, &tooLarge):
			writeJSONError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the token request body is over 64 KiB")
		case errors.As(err, &unsupported):
			writeJSONError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
				"send client_id and client_secret as application/x-www-form-urlencoded, as application/json, or with HTTP Basic")
		default:
			writeJSONError(w, http.StatusBadRequest, "invalid_request", "the token request body cannot be read: "+err.Error())
		}
		return
	}
	if req.GrantType != "" && req.GrantType != "client_credentials" {
		writeJSONError(w, http.StatusBadRequest, "unsupported_grant_type", "only grant_type=client_credentials is supported")
		return
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
		a.unauthorized(w, "no client credentials: send client_id and client_secret, or use HTTP Basic")
		return
	} else {
		clientID, ok = a.matchPair(a.tokenClients, req.ClientID, req.ClientSecret)
	}
	if !ok {
		a.unauthorized(w, "client credentials do not match")
		return
	}

	token, ttl := a.issueToken(clientID)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(tokenResponse{TokenType: "Bearer", AccessToken: token, ExpiresIn: int64(ttl.Seconds())})
}

func (a *Authenticator) unauthorized(w http.ResponseWriter, message string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="waorders", charset="UTF-8"`)
	writeJSONError(w, http.StatusUnauthorized, "unauthorized", message)
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

// writeJSONError writes the project's error body,
// {"error": {"code": "...", "message": "..."}}, plus request_id when the
// response already carries X-Request-Id.
func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	type errorBody struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id,omitempty"`
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]errorBody{
		"error": {Code: code, Message: message, RequestID: h.Get("X-Request-Id")},
	})
}
