package callbackauth

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
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

// clientIPModel is ClientIP as first written: every X-Forwarded-For entry
// split off, then walked from the right. The fuzzer holds the bounded
// version to it.
func clientIPModel(a *Authenticator, remote string, xff []string) netip.Addr {
	peer := parseAddr(remote)
	if !peer.IsValid() || !containsAddr(a.trusted, peer) {
		return peer
	}
	var hops []string
	for _, line := range xff {
		for _, e := range strings.Split(line, ",") {
			if e = strings.TrimSpace(e); e != "" {
				hops = append(hops, e)
			}
		}
	}
	client := peer
	for i, n := len(hops)-1, 0; i >= 0; i, n = i-1, n+1 {
		if n == maxForwardedHops {
			return netip.Addr{}
		}
		addr := parseAddr(hops[i])
		if !addr.IsValid() || !containsAddr(a.trusted, addr) {
			return addr
		}
		client = addr
	}
	return client
}

// FuzzClientIP: for any peer address and X-Forwarded-For lines (split on
// '\n'), ClientIP never panics, agrees with clientIPModel, and answers the
// peer itself whenever the peer is not a trusted proxy, whatever the header
// says (a client cannot choose its address).
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:1", "203.0.113.9, 10.0.0.2")
	f.Add("10.0.0.1:1", "1.1.1.1\n203.0.113.9,10.0.0.2")
	f.Add("198.51.100.7:1", "203.0.113.9")
	f.Add("[fd00::1]:1", "2001:db8::9, fd00::2,,, ")
	f.Add("[::ffff:192.168.1.1]:1", "203.0.113.9")
	f.Add("10.0.0.1:1", strings.Repeat("10.0.0.1, ", 40))
	f.Add("10.0.0.1:1", strings.Repeat("10.0.0.1\n", 33))
	f.Add("@", "unknown")
	a, err := New(Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("::ffff:192.168.0.0/112"),
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, header string) {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.RemoteAddr = remote
		var lines []string
		if header != "" {
			lines = strings.Split(header, "\n")
		}
		for _, l := range lines {
			req.Header.Add("X-Forwarded-For", l)
		}
		got := a.ClientIP(req)
		if want := clientIPModel(a, remote, lines); got != want {
			t.Fatalf("ClientIP(%q, %q) = %v, the model says %v", remote, lines, got, want)
		}
		if peer := parseAddr(remote); !peer.IsValid() || !containsAddr(a.trusted, peer) {
			if got != peer {
				t.Fatalf("untrusted peer %q: ClientIP = %v, want the peer %v", remote, got, peer)
			}
		}
	})
}
