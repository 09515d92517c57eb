package callbackauth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/callbackauth"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	a := mustNew(t, callbackauth.Config{TrustedProxies: prefixes(t, "10.0.0.0/8", "fd00::/8", "::ffff:192.168.0.0/112")})
	manyProxies := strings.TrimSuffix(strings.Repeat("10.0.0.1, ", 40), ", ")
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string // "invalid IP" for the zero Addr
	}{
		{name: "Peer", remote: "198.51.100.7:1234", want: "198.51.100.7"},
		{name: "PeerIPv6", remote: "[2001:db8::1]:1234", want: "2001:db8::1"},
		{name: "PeerIPv4Mapped", remote: "[::ffff:198.51.100.7]:1234", want: "198.51.100.7"},
		{name: "PeerZoneDropped", remote: "[fe80::1%eth0]:1234", want: "fe80::1"},
		{name: "PeerWithoutPort", remote: "198.51.100.7", want: "198.51.100.7"},
		{name: "PeerUnparseable", remote: "@", want: "invalid IP"},
		{name: "UntrustedPeerXFFIgnored", remote: "198.51.100.7:1", xff: []string{"203.0.113.9"}, want: "198.51.100.7"},
		{name: "TrustedPeerNoXFF", remote: "10.0.0.1:1", want: "10.0.0.1"},
		{name: "TrustedPeerXFF", remote: "10.0.0.1:1", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "RightmostUntrusted", remote: "10.0.0.1:1", xff: []string{"1.1.1.1, 203.0.113.9, 10.0.0.2"}, want: "203.0.113.9"},
		{name: "AllTrustedLeftmostWins", remote: "10.0.0.1:1", xff: []string{"10.0.0.3, 10.0.0.2"}, want: "10.0.0.3"},
		{name: "SeveralLines", remote: "10.0.0.1:1", xff: []string{"1.1.1.1", "203.0.113.9,10.0.0.2"}, want: "203.0.113.9"},
		{name: "EmptyEntriesSkipped", remote: "10.0.0.1:1", xff: []string{"203.0.113.9, , "}, want: "203.0.113.9"},
		{name: "GarbageEntry", remote: "10.0.0.1:1", xff: []string{"203.0.113.9, unknown"}, want: "invalid IP"},
		{name: "TrustedMappedProxy", remote: "[::ffff:192.168.1.1]:1", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "TrustedIPv4ProxyByMappedPrefix", remote: "192.168.1.1:1", xff: []string{"2001:db8::9"}, want: "2001:db8::9"},
		{name: "IPv6Chain", remote: "[fd00::1]:1", xff: []string{"2001:db8::9, fd00::2"}, want: "2001:db8::9"},
		{name: "TooManyTrustedHops", remote: "10.0.0.1:1", xff: []string{"203.0.113.9, " + manyProxies}, want: "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := a.ClientIP(req).String(); got != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestClientIPHeaders: behind trusted proxies the configured header, and
// only it, names the client: Forwarded (RFC 7239) with quoted IPv6 nodes
// and ports, or nginx's X-Real-IP.
func TestClientIPHeaders(t *testing.T) {
	t.Parallel()
	trusted := prefixes(t, "10.0.0.0/8")
	tests := []struct {
		name, header, remote string
		set                  map[string][]string
		want                 string
	}{
		{"ForwardedSimple", "Forwarded", "10.0.0.1:1", map[string][]string{"Forwarded": {"for=203.0.113.9;proto=https"}}, "203.0.113.9"},
		{"ForwardedChain", "Forwarded", "10.0.0.1:1", map[string][]string{"Forwarded": {`for=1.1.1.1, for="203.0.113.9:4711";by=10.0.0.2, for=10.0.0.2`}}, "203.0.113.9"},
		{"ForwardedIPv6", "Forwarded", "10.0.0.1:1", map[string][]string{"Forwarded": {`For="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17"},
		{"ForwardedQuotedComma", "forwarded", "10.0.0.1:1", map[string][]string{"Forwarded": {`for=203.0.113.9;host="a,b"`}}, "203.0.113.9"},
		{"ForwardedObfuscated", "Forwarded", "10.0.0.1:1", map[string][]string{"Forwarded": {"for=_hidden"}}, "invalid IP"},
		{"ForwardedNoFor", "Forwarded", "10.0.0.1:1", map[string][]string{"Forwarded": {"proto=https"}}, "invalid IP"},
		{"ForwardedIgnoresXFF", "Forwarded", "10.0.0.1:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "10.0.0.1"},
		{"ForwardedUntrustedPeer", "Forwarded", "198.51.100.7:1", map[string][]string{"Forwarded": {"for=203.0.113.9"}}, "198.51.100.7"},
		{"XRealIP", "X-Real-IP", "10.0.0.1:1", map[string][]string{"X-Real-Ip": {"203.0.113.9"}}, "203.0.113.9"},
		{"XRealIPIgnoresXFF", "x-real-ip", "10.0.0.1:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "10.0.0.1"},
		{"XRealIPUntrustedPeer", "X-Real-IP", "198.51.100.7:1", map[string][]string{"X-Real-Ip": {"203.0.113.9"}}, "198.51.100.7"},
		{"XFFIgnoresForwarded", "", "10.0.0.1:1", map[string][]string{"Forwarded": {"for=203.0.113.9"}}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := mustNew(t, callbackauth.Config{TrustedProxies: trusted, ClientIPHeader: tt.header})
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			req.RemoteAddr = tt.remote
			for k, vs := range tt.set {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			if got := a.ClientIP(req).String(); got != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := callbackauth.New(callbackauth.Config{ClientIPHeader: "X-Client"}); err == nil {
		t.Error("an unknown client IP header was accepted")
	}
}

// TestRenewKeepsGeneratedTokenKey: a reload without configured token keys
// keeps the generated signing key, so issued tokens stay valid.
func TestRenewKeepsGeneratedTokenKey(t *testing.T) {
	cfg := callbackauth.Config{TokenClients: []callbackauth.TokenClient{{ID: "kaleyra", Secret: strings.Repeat("s", 32)}}}
	a := mustNew(t, cfg)
	tok := mintToken(t, a, "kaleyra", strings.Repeat("s", 32))
	cfg.TokenClients = append(cfg.TokenClients, callbackauth.TokenClient{ID: "other", Secret: strings.Repeat("o", 32)})
	b, err := a.Renew(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if err := b.Check(req); err != nil {
		t.Errorf("a token issued before the reload: %v", err)
	}
	if _, err := a.Renew(callbackauth.Config{Secrets: []string{"short"}}); err == nil {
		t.Error("Renew accepted an invalid configuration")
	}
}
