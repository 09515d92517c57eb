package callbackauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/callbackauth"
)

// Test credentials. Every one is at least callbackauth.MinSecretLen long.
const (
	secretOld    = "old-secret-0123456789abcdef"
	secretNew    = "new-secret-fedcba9876543210"
	passKaleyra  = "kaleyra-basic-password-01"
	passBackup   = "backup-basic-password-0002"
	clientID     = "kaleyra-profile-1"
	clientSecret = "client-secret-0123456789ab"
)

var (
	key1 = []byte("token-key-one-0123456789abcdef-0123")
	key2 = []byte("token-key-two-0123456789abcdef-4567")
	// t0 is the fixed "now" of most tests.
	t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// allSecrets are checked never to appear in error messages or bodies.
var allSecrets = []string{secretOld, secretNew, passKaleyra, passBackup, clientSecret, string(key1), string(key2)}

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

func prefixes(t *testing.T, cidrs ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, c := range cidrs {
		out = append(out, netip.MustParsePrefix(c))
	}
	return out
}

func mustNew(t *testing.T, cfg callbackauth.Config) *callbackauth.Authenticator {
	t.Helper()
	a, err := callbackauth.New(cfg)
	if err != nil {
		t.Fatalf("callbackauth.New: %v", err)
	}
	return a
}

// tokenBody is the success body of the token endpoint.
type tokenBody struct {
	TokenType   string `json:"token_type"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// errorBody is the failure body of the token endpoint.
type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

// mintToken gets a token for clientID from a's token endpoint, as Kaleyra
// would.
func mintToken(t testing.TB, a *callbackauth.Authenticator, id, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	req := httptest.NewRequest(http.MethodPost, "/v1/callbacks/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	a.TokenHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("token endpoint: status %d, body %s", rec.Code, rec.Body)
	}
	var body tokenBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("token endpoint body: %v", err)
	}
	return body.AccessToken
}

// checkHandler answers 204 when a.Check passes and 401 with the reason in
// the body when it fails: the minimal server around Check.
func checkHandler(a *callbackauth.Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Check(r); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(err.Error()))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
