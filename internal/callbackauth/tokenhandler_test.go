package callbackauth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/callbackauth"
)

func formRequest(id, secret, grant string) *http.Request {
	form := url.Values{}
	for k, v := range map[string]string{"client_id": id, "client_secret": secret, "grant_type": grant} {
		if v != "" {
			form.Set(k, v)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/callbacks/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func bodyRequest(contentType, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/v1/callbacks/token", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func postToken(t *testing.T, a *callbackauth.Authenticator, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	a.TokenHandler().ServeHTTP(rec, req)
	return rec
}

// decodeToken checks rec is a successful token response and returns its
// body, decoded strictly.
func decodeToken(t *testing.T, rec *httptest.ResponseRecorder) tokenBody {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s; want 200", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var body tokenBody
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	if body.TokenType != "Bearer" || body.AccessToken == "" {
		t.Errorf("body = %+v, want a Bearer token", body)
	}
	return body
}

// decodeError checks rec is an error response in the project's shape with
// the given status and code, and that it carries no secret.
func decodeError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) errorBody {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, body %s; want %d", rec.Code, rec.Body, status)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body errorBody
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	if body.Error.Code != code || body.Error.Message == "" {
		t.Errorf("error = %+v, want code %q with a message", body.Error, code)
	}
	for _, s := range allSecrets {
		if strings.Contains(rec.Body.String(), s) {
			t.Errorf("body %s contains a secret", rec.Body)
		}
	}
	return body
}

func TestTokenHandler(t *testing.T) {
	t.Parallel()
	const oddSecret = "p@ss w+rd/0123456789%" // needs form-encoding in RFC 6749 Basic
	cfg := callbackauth.Config{
		TokenClients: []callbackauth.TokenClient{{ID: clientID, Secret: clientSecret}, {ID: "odd:client"[4:], Secret: oddSecret}},
		TokenKeys:    [][]byte{key1},
		TokenTTL:     10 * time.Minute,
		NowFunc:      at(t0),
	}
	withBasic := func(req *http.Request, user, pass string) *http.Request {
		req.SetBasicAuth(user, pass)
		return req
	}
	tests := []struct {
		name       string
		req        *http.Request
		wantClient string // the client the token is for; "" for a failure
		wantStatus int
		wantCode   string
	}{
		{name: "Form", req: formRequest(clientID, clientSecret, "client_credentials"), wantClient: clientID},
		{name: "FormWithoutGrantType", req: formRequest(clientID, clientSecret, ""), wantClient: clientID},
		{name: "FormWithCharset", req: func() *http.Request {
			r := formRequest(clientID, clientSecret, "")
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			return r
		}(), wantClient: clientID},
		{name: "FormOddSecret", req: formRequest("client", oddSecret, ""), wantClient: "client"},
		{name: "JSON", req: bodyRequest("application/json", `{"client_id":"`+clientID+`","client_secret":"`+clientSecret+`","grant_type":"client_credentials"}`), wantClient: clientID},
		{name: "JSONExtraFields", req: bodyRequest("application/json; charset=utf-8", `{"client_id":"`+clientID+`","client_secret":"`+clientSecret+`","scope":"callbacks"}`), wantClient: clientID},
		{name: "JSONWithoutContentType", req: bodyRequest("", `{"client_id":"`+clientID+`","client_secret":"`+clientSecret+`"}`), wantClient: clientID},
		{name: "FormWithoutContentType", req: bodyRequest("", "client_id="+clientID+"&client_secret="+clientSecret), wantClient: clientID},
		{name: "Basic", req: withBasic(bodyRequest("", ""), clientID, clientSecret), wantClient: clientID},
		{name: "BasicWithGrantTypeForm", req: withBasic(bodyRequest("application/x-www-form-urlencoded", "grant_type=client_credentials"), clientID, clientSecret), wantClient: clientID},
		{name: "BasicRawOddSecret", req: withBasic(bodyRequest("", ""), "client", oddSecret), wantClient: "client"},
		{name: "BasicFormEncodedOddSecret", req: withBasic(bodyRequest("", ""), "client", url.QueryEscape(oddSecret)), wantClient: "client"},
		{name: "BasicWinsOverBody", req: withBasic(formRequest(clientID, "wrong", ""), clientID, clientSecret), wantClient: clientID},

		{name: "FormWrongSecret", req: formRequest(clientID, clientSecret+"x", ""), wantStatus: 401, wantCode: "unauthorized"},
		{name: "FormOtherClientsSecret", req: formRequest("client", clientSecret, ""), wantStatus: 401, wantCode: "unauthorized"},
		{name: "FormUnknownClient", req: formRequest("nobody", clientSecret, ""), wantStatus: 401, wantCode: "unauthorized"},
		{name: "FormSecretOnly", req: formRequest("", clientSecret, ""), wantStatus: 401, wantCode: "unauthorized"},
		{name: "JSONWrongSecret", req: bodyRequest("application/json", `{"client_id":"`+clientID+`","client_secret":"nope"}`), wantStatus: 401, wantCode: "unauthorized"},
		{name: "BasicWrongSecret", req: withBasic(bodyRequest("", ""), clientID, "nope"), wantStatus: 401, wantCode: "unauthorized"},
		{name: "NoCredentials", req: bodyRequest("", ""), wantStatus: 401, wantCode: "unauthorized"},
		{name: "CredentialsInQueryIgnored", req: func() *http.Request {
			r := bodyRequest("application/x-www-form-urlencoded", "grant_type=client_credentials")
			r.URL.RawQuery = url.Values{"client_id": {clientID}, "client_secret": {clientSecret}}.Encode()
			return r
		}(), wantStatus: 401, wantCode: "unauthorized"},
		{name: "OtherGrantType", req: formRequest(clientID, clientSecret, "password"), wantStatus: 400, wantCode: "unsupported_grant_type"},
		{name: "BadJSON", req: bodyRequest("application/json", `{"client_id":`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "JSONNumberID", req: bodyRequest("application/json", `{"client_id":1,"client_secret":"x"}`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "TwoJSONValues", req: bodyRequest("application/json", `{} {}`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "BadForm", req: bodyRequest("application/x-www-form-urlencoded", "client_id=%zz"), wantStatus: 400, wantCode: "invalid_request"},
		{name: "TextBody", req: bodyRequest("text/plain", "client_id="+clientID), wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "BadContentType", req: bodyRequest("application/json; ===", "{}"), wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "BodyTooLarge", req: bodyRequest("application/x-www-form-urlencoded", "pad="+strings.Repeat("a", 64<<10)), wantStatus: 413, wantCode: "body_too_large"},
		{name: "GET", req: httptest.NewRequest(http.MethodGet, "/v1/callbacks/token?client_id=x", nil), wantStatus: 405, wantCode: "method_not_allowed"},
		{name: "PUT", req: httptest.NewRequest(http.MethodPut, "/v1/callbacks/token", nil), wantStatus: 405, wantCode: "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := mustNew(t, cfg)
			rec := postToken(t, a, tt.req)
			if tt.wantClient == "" {
				decodeError(t, rec, tt.wantStatus, tt.wantCode)
				switch tt.wantStatus {
				case 401:
					if rec.Header().Get("WWW-Authenticate") == "" {
						t.Error("401 without WWW-Authenticate")
					}
				case 405:
					if got := rec.Header().Get("Allow"); got != http.MethodPost {
						t.Errorf("Allow = %q, want POST", got)
					}
				}
				return
			}
			body := decodeToken(t, rec)
			if body.ExpiresIn != 600 {
				t.Errorf("expires_in = %d, want 600", body.ExpiresIn)
			}
			// The token authenticates callbacks, at this and another instance.
			for _, check := range []*callbackauth.Authenticator{a, mustNew(t, cfg)} {
				req := httptest.NewRequest(http.MethodPost, "/v1/callbacks/kaleyra", nil)
				req.Header.Set("Authorization", "Bearer "+body.AccessToken)
				if err := check.Check(req); err != nil {
					t.Errorf("Check with the issued token: %v", err)
				}
			}
			if strings.Contains(body.AccessToken, clientSecret) || strings.Contains(body.AccessToken, string(key1)) {
				t.Error("token contains a secret")
			}
		})
	}
}

func TestTokenHandlerDisabled(t *testing.T) {
	t.Parallel()
	a := mustNew(t, callbackauth.Config{Secrets: []string{secretNew}})
	if a.TokensEnabled() {
		t.Error("TokensEnabled() = true without a token client")
	}
	decodeError(t, postToken(t, a, formRequest(clientID, clientSecret, "")), 404, "not_found")
}

func TestTokenHandlerAllowList(t *testing.T) {
	t.Parallel()
	a := mustNew(t, callbackauth.Config{
		TokenClients: []callbackauth.TokenClient{{ID: clientID, Secret: clientSecret}},
		AllowCIDRs:   prefixes(t, "203.0.113.0/24"),
	})
	req := formRequest(clientID, clientSecret, "")
	req.RemoteAddr = "198.51.100.7:1"
	decodeError(t, postToken(t, a, req), 401, "unauthorized")

	req = formRequest(clientID, clientSecret, "")
	req.RemoteAddr = "203.0.113.9:1"
	decodeToken(t, postToken(t, a, req))
}

func TestTokenHandlerRequestID(t *testing.T) {
	t.Parallel()
	a := mustNew(t, callbackauth.Config{TokenClients: []callbackauth.TokenClient{{ID: clientID, Secret: clientSecret}}})
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Request-Id", "req-42") // as a request-ID middleware would
	a.TokenHandler().ServeHTTP(rec, formRequest(clientID, "wrong", ""))
	if body := decodeError(t, rec, 401, "unauthorized"); body.Error.RequestID != "req-42" {
		t.Errorf("request_id = %q, want req-42", body.Error.RequestID)
	}
}

// TestTokenOverHTTP runs Kaleyra's whole exchange over a real connection:
// fetch a token, then post a callback with it, from a loopback address the
// allow-list admits. It also shows that header names arrive canonicalised.
func TestTokenOverHTTP(t *testing.T) {
	t.Parallel()
	a := mustNew(t, callbackauth.Config{
		Secrets:      []string{secretNew},
		TokenClients: []callbackauth.TokenClient{{ID: clientID, Secret: clientSecret}},
		AllowCIDRs:   prefixes(t, "127.0.0.0/8", "::1/128"),
	})
	mux := http.NewServeMux()
	mux.Handle("/v1/callbacks/token", a.TokenHandler())
	mux.Handle("/v1/callbacks/kaleyra", checkHandler(a))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	resp, err := srv.Client().PostForm(srv.URL+"/v1/callbacks/token", url.Values{"client_id": {clientID}, "client_secret": {clientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	var body tokenBody
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token: status %d, %v", resp.StatusCode, err)
	}

	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{name: "Bearer", header: http.Header{"Authorization": {"Bearer " + body.AccessToken}}, want: http.StatusNoContent},
		{name: "LowercaseSecretHeader", header: http.Header{"x-callback-secret": {secretNew}}, want: http.StatusNoContent},
		{name: "WrongBearer", header: http.Header{"Authorization": {"Bearer " + body.AccessToken + "x"}}, want: http.StatusUnauthorized},
		{name: "Nothing", header: http.Header{}, want: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/callbacks/kaleyra", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}
