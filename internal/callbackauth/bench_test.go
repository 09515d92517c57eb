package callbackauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/callbackauth"
)

func BenchmarkCheck(b *testing.B) {
	cfg := callbackauth.Config{
		Secrets:        []string{secretOld, secretNew},
		BasicUsers:     []callbackauth.BasicUser{{Username: "kaleyra", Password: passKaleyra}},
		TokenClients:   []callbackauth.TokenClient{{ID: clientID, Secret: clientSecret}},
		TokenKeys:      [][]byte{key2, key1},
		AllowCIDRs:     []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	}
	a, err := callbackauth.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	issuer := cfg
	issuer.AllowCIDRs = nil
	ia, err := callbackauth.New(issuer)
	if err != nil {
		b.Fatal(err)
	}
	tok := mintToken(b, ia, clientID, clientSecret)
	for _, bc := range []struct {
		name   string
		header http.Header
		pass   bool
	}{
		{"Header", http.Header{"X-Callback-Secret": {secretNew}}, true},
		{"Basic", http.Header{"Authorization": {basicAuth("kaleyra", passKaleyra)}}, true},
		{"Bearer", http.Header{"Authorization": {"Bearer " + tok}}, true},
		{"WrongSecret", http.Header{"X-Callback-Secret": {"wrong-secret-0123456789abcd"}}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodPost, "/v1/callbacks/kaleyra", nil)
			req.RemoteAddr = "10.1.2.3:1"
			req.Header = bc.header.Clone()
			req.Header.Set("X-Forwarded-For", "198.51.100.7, 203.0.113.9")
			if err := a.Check(req); (err == nil) != bc.pass {
				b.Fatalf("Check = %v, want pass %t", err, bc.pass)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = a.Check(req)
			}
		})
	}
}

// BenchmarkClientIP: the cost of finding the client behind a trusted proxy
// does not grow with the length of X-Forwarded-For, which the client
// controls (a 60 KB header of spoofed entries against a short one).
func BenchmarkClientIP(b *testing.B) {
	a, err := callbackauth.New(callbackauth.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, xff string }{
		{"Short", "203.0.113.9, 10.0.0.2"},
		{"Long", strings.Repeat("198.51.100.1, ", 4000) + "203.0.113.9, 10.0.0.2"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			req.RemoteAddr = "10.0.0.1:1234"
			req.Header.Set("X-Forwarded-For", bc.xff)
			b.ReportAllocs()
			for b.Loop() {
				if got := a.ClientIP(req); got.String() != "203.0.113.9" {
					b.Fatalf("ClientIP = %v", got)
				}
			}
		})
	}
}
