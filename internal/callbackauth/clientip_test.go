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
