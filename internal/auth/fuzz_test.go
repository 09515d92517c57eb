package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyToken checks that no input makes token verification panic and
// that nothing but a token this process issued verifies: the seeds include
// well-formed tokens from an instance with another key, which mutations turn
// into near-misses of every kind.
func FuzzVerifyToken(f *testing.F) {
	clients := []TokenClient{{ID: "kaleyra-profile-1", Secret: "client-secret-0123456789ab"}}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	other, err := New(Config{TokenClients: clients, TokenKeys: [][]byte{[]byte(strings.Repeat("k", 32))}, NowFunc: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	seed, _ := other.issueToken("kaleyra-profile-1")
	long, _ := other.issueToken(strings.Repeat("x", MaxIDLen))
	for _, s := range []string{seed, long, "", ".", "..", "a.b", "AQ.AQ", seed + ".", "." + seed, strings.Repeat("A", maxTokenLen+1)} {
		f.Add(s)
	}

	// The verifier has a fresh random key, so no input can carry its MAC.
	a, err := New(Config{TokenClients: clients, NowFunc: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		if id, err := a.verifyToken(token); err == nil {
			t.Fatalf("verifyToken(%q) = %q, nil; want an error", token, id)
		}
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header["Authorization"] = []string{"Bearer " + token}
		if err := a.Check(req); err == nil {
			t.Fatalf("Check accepted Bearer %q", token)
		}
	})
}

// TestTokenRoundTrip checks that issued tokens verify for client ids of every
// allowed length and stay under maxTokenLen.
func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 17, MaxIDLen} {
		id := strings.Repeat("c", n)
		a, err := New(Config{TokenClients: []TokenClient{{ID: id, Secret: "client-secret-0123456789ab"}}})
		if err != nil {
			t.Fatal(err)
		}
		tok, ttl := a.issueToken(id)
		if len(tok) > maxTokenLen {
			t.Errorf("id of %d bytes: token is %d bytes, over maxTokenLen %d", n, len(tok), maxTokenLen)
		}
		if got, err := a.verifyToken(tok); err != nil || got != id {
			t.Errorf("id of %d bytes: verifyToken = %q, %v; want %q", n, got, err, id)
		}
		if ttl != DefaultTokenTTL {
			t.Errorf("ttl = %s, want %s", ttl, DefaultTokenTTL)
		}
	}
}
