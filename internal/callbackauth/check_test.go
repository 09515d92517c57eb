package callbackauth_test

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/callbackauth"
)

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// hdr builds a header from name/value pairs; a name may repeat.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestCheck(t *testing.T) {
	t.Parallel()
	clients := []callbackauth.TokenClient{{ID: clientID, Secret: clientSecret}}
	users := []callbackauth.BasicUser{{Username: "kaleyra", Password: passKaleyra}, {Username: "backup", Password: passBackup}}
	header := callbackauth.Config{Secrets: []string{secretOld, secretNew}}
	basic := callbackauth.Config{BasicUsers: users}
	bearerAt := func(now time.Time, keys ...[]byte) callbackauth.Config {
		return callbackauth.Config{TokenClients: clients, TokenKeys: keys, NowFunc: at(now)}
	}
	bearer := bearerAt(t0, key1)
	all := callbackauth.Config{Secrets: header.Secrets, BasicUsers: users, TokenClients: clients, TokenKeys: [][]byte{key1}, NowFunc: at(t0)}
	customHeader := callbackauth.Config{SecretHeader: "x-kaleyra-token", Secrets: []string{secretNew}}
	ipOnly := callbackauth.Config{AllowCIDRs: prefixes(t, "203.0.113.0/24", "2001:db8::/32", "fe80::/10")}
	ipHeader := callbackauth.Config{Secrets: []string{secretNew}, AllowCIDRs: ipOnly.AllowCIDRs}
	ipProxy := callbackauth.Config{
		Secrets:        []string{secretNew},
		AllowCIDRs:     ipOnly.AllowCIDRs,
		TrustedProxies: prefixes(t, "10.0.0.0/8", "fd00::/8"),
	}

	// Tokens come from other instances' token endpoints: instances sharing
	// the keys accept each other's tokens.
	tok := mintToken(t, mustNew(t, bearer), clientID, clientSecret)
	tokKey2 := mintToken(t, mustNew(t, bearerAt(t0, key2)), clientID, clientSecret)
	twoClients := bearer
	twoClients.TokenClients = append([]callbackauth.TokenClient{{ID: "removed-client", Secret: clientSecret}}, clients...)
	tokRemoved := mintToken(t, mustNew(t, twoClients), "removed-client", clientSecret)
	extended := extendToken(t, tok, 100*time.Hour)

	const (
		pass        callbackauth.Reason = ""
		missing                         = callbackauth.ReasonMissingCredentials
		badCreds                        = callbackauth.ReasonBadCredentials
		expired                         = callbackauth.ReasonTokenExpired
		ipNotAllowd                     = callbackauth.ReasonIPNotAllowed
	)
	tests := []struct {
		name   string
		cfg    callbackauth.Config
		remote string // default httptest's 192.0.2.1:1234
		target string // default /v1/callbacks/kaleyra
		header http.Header
		want   callbackauth.Reason
	}{
		// Secret header, with rotation.
		{name: "HeaderOldSecret", cfg: header, header: hdr("X-Callback-Secret", secretOld), want: pass},
		{name: "HeaderNewSecret", cfg: header, header: hdr("X-Callback-Secret", secretNew), want: pass},
		{name: "HeaderWrongSecret", cfg: header, header: hdr("X-Callback-Secret", "wrong-secret-0123456789abcd"), want: badCreds},
		{name: "HeaderPrefixOfSecret", cfg: header, header: hdr("X-Callback-Secret", secretNew[:len(secretNew)-1]), want: badCreds},
		{name: "HeaderSecretPlusSuffix", cfg: header, header: hdr("X-Callback-Secret", secretNew+"x"), want: badCreds},
		{name: "HeaderBothSecretsJoined", cfg: header, header: hdr("X-Callback-Secret", secretOld+","+secretNew), want: badCreds},
		{name: "HeaderMissing", cfg: header, want: missing},
		{name: "HeaderSecretInQueryIgnored", cfg: header, target: "/v1/callbacks/kaleyra?X-Callback-Secret=" + secretNew, want: missing},
		{name: "HeaderSecretAsBearerIgnored", cfg: header, header: hdr("Authorization", "Bearer "+secretNew), want: missing},
		{name: "HeaderCustomName", cfg: customHeader, header: hdr("X-Kaleyra-Token", secretNew), want: pass},
		{name: "HeaderCustomNameDefaultIgnored", cfg: customHeader, header: hdr("X-Callback-Secret", secretNew), want: missing},

		// HTTP Basic.
		{name: "BasicFirstUser", cfg: basic, header: hdr("Authorization", basicAuth("kaleyra", passKaleyra)), want: pass},
		{name: "BasicSecondUser", cfg: basic, header: hdr("Authorization", basicAuth("backup", passBackup)), want: pass},
		{name: "BasicLowercaseScheme", cfg: basic, header: hdr("Authorization", "basic "+strings.TrimPrefix(basicAuth("kaleyra", passKaleyra), "Basic ")), want: pass},
		{name: "BasicWrongPassword", cfg: basic, header: hdr("Authorization", basicAuth("kaleyra", passKaleyra+"x")), want: badCreds},
		{name: "BasicOtherUsersPassword", cfg: basic, header: hdr("Authorization", basicAuth("kaleyra", passBackup)), want: badCreds},
		{name: "BasicUnknownUser", cfg: basic, header: hdr("Authorization", basicAuth("nobody", passKaleyra)), want: badCreds},
		{name: "BasicEmpty", cfg: basic, header: hdr("Authorization", basicAuth("", "")), want: badCreds},
		{name: "BasicMalformed", cfg: basic, header: hdr("Authorization", "Basic !!!not-base64"), want: badCreds},
		{name: "BasicMissing", cfg: basic, want: missing},
		{name: "BasicGivenBearer", cfg: basic, header: hdr("Authorization", "Bearer "+tok), want: missing},

		// Bearer tokens from the token endpoint.
		{name: "BearerFromOtherInstance", cfg: bearer, header: hdr("Authorization", "Bearer "+tok), want: pass},
		{name: "BearerLowercaseScheme", cfg: bearer, header: hdr("Authorization", "bearer "+tok), want: pass},
		{name: "BearerJustBeforeExpiry", cfg: bearerAt(t0.Add(time.Hour-time.Second), key1), header: hdr("Authorization", "Bearer "+tok), want: pass},
		{name: "BearerAtExpiry", cfg: bearerAt(t0.Add(time.Hour), key1), header: hdr("Authorization", "Bearer "+tok), want: expired},
		{name: "BearerLongExpired", cfg: bearerAt(t0.Add(48*time.Hour), key1), header: hdr("Authorization", "Bearer "+tok), want: expired},
		{name: "BearerOldKeyStillListed", cfg: bearerAt(t0, key2, key1), header: hdr("Authorization", "Bearer "+tok), want: pass},
		{name: "BearerNewKey", cfg: bearerAt(t0, key2, key1), header: hdr("Authorization", "Bearer "+tokKey2), want: pass},
		{name: "BearerKeyRotatedOut", cfg: bearerAt(t0, key2), header: hdr("Authorization", "Bearer "+tok), want: badCreds},
		{name: "BearerExpiredAndRotatedOut", cfg: bearerAt(t0.Add(2*time.Hour), key2), header: hdr("Authorization", "Bearer "+tok), want: badCreds},
		{name: "BearerExpiryExtended", cfg: bearerAt(t0.Add(2*time.Hour), key1), header: hdr("Authorization", "Bearer "+extended), want: badCreds},
		{name: "BearerMACOnly", cfg: bearer, header: hdr("Authorization", "Bearer ."+strings.SplitN(tok, ".", 2)[1]), want: badCreds},
		{name: "BearerClientRemoved", cfg: bearer, header: hdr("Authorization", "Bearer "+tokRemoved), want: badCreds},
		{name: "BearerGarbage", cfg: bearer, header: hdr("Authorization", "Bearer not-a-token"), want: badCreds},
		{name: "BearerEmpty", cfg: bearer, header: hdr("Authorization", "Bearer"), want: badCreds},
		{name: "BearerClientSecretItself", cfg: bearer, header: hdr("Authorization", "Bearer "+clientSecret), want: badCreds},
		{name: "BearerMissing", cfg: bearer, want: missing},
		{name: "BearerGivenBasic", cfg: bearer, header: hdr("Authorization", basicAuth(clientID, clientSecret)), want: missing},

		// Every method at once: any one suffices.
		{name: "AllHeaderOnly", cfg: all, header: hdr("X-Callback-Secret", secretOld), want: pass},
		{name: "AllBasicOnly", cfg: all, header: hdr("Authorization", basicAuth("backup", passBackup)), want: pass},
		{name: "AllBearerOnly", cfg: all, header: hdr("Authorization", "Bearer "+tok), want: pass},
		{name: "AllWrongHeaderRightBasic", cfg: all, header: hdr("X-Callback-Secret", "x", "Authorization", basicAuth("kaleyra", passKaleyra)), want: pass},
		{name: "AllRightHeaderWrongBearer", cfg: all, header: hdr("X-Callback-Secret", secretNew, "Authorization", "Bearer junk"), want: pass},
		{name: "AllWrongHeaderExpiredBearer", cfg: func() callbackauth.Config { c := all; c.NowFunc = at(t0.Add(2 * time.Hour)); return c }(),
			header: hdr("X-Callback-Secret", "x", "Authorization", "Bearer "+tok), want: expired},
		{name: "AllWrongEverything", cfg: all, header: hdr("X-Callback-Secret", "x", "Authorization", basicAuth("kaleyra", "x")), want: badCreds},
		{name: "AllNothing", cfg: all, header: hdr("Content-Type", "application/json"), want: missing},

		// IP allow-list alone.
		{name: "IPv4Allowed", cfg: ipOnly, remote: "203.0.113.9:4711", want: pass},
		{name: "IPv4Denied", cfg: ipOnly, remote: "198.51.100.7:4711", want: ipNotAllowd},
		{name: "IPv4NetworkEdge", cfg: ipOnly, remote: "203.0.114.0:1", want: ipNotAllowd},
		{name: "IPv6Allowed", cfg: ipOnly, remote: "[2001:db8:1::5]:443", want: pass},
		{name: "IPv6Denied", cfg: ipOnly, remote: "[2001:db9::5]:443", want: ipNotAllowd},
		{name: "IPv4MappedIPv6Allowed", cfg: ipOnly, remote: "[::ffff:203.0.113.9]:443", want: pass},
		{name: "IPv6ZoneAllowed", cfg: ipOnly, remote: "[fe80::1%eth0]:443", want: pass},
		{name: "IPUnparseableRemote", cfg: ipOnly, remote: "pipe", want: ipNotAllowd},
		{name: "IPSpoofedXFFFromUntrustedPeer", cfg: ipOnly, remote: "198.51.100.7:1", header: hdr("X-Forwarded-For", "203.0.113.9"), want: ipNotAllowd},
		{name: "IPAllowedPeerXFFIgnored", cfg: ipOnly, remote: "203.0.113.9:1", header: hdr("X-Forwarded-For", "198.51.100.7"), want: pass},

		// IP allow-list and credentials: both must pass.
		{name: "IPAllowedRightSecret", cfg: ipHeader, remote: "203.0.113.9:1", header: hdr("X-Callback-Secret", secretNew), want: pass},
		{name: "IPAllowedWrongSecret", cfg: ipHeader, remote: "203.0.113.9:1", header: hdr("X-Callback-Secret", secretOld), want: badCreds},
		{name: "IPAllowedNoSecret", cfg: ipHeader, remote: "203.0.113.9:1", want: missing},
		{name: "IPDeniedRightSecret", cfg: ipHeader, remote: "198.51.100.7:1", header: hdr("X-Callback-Secret", secretNew), want: ipNotAllowd},

		// Behind trusted proxies.
		{name: "ProxyForwardsAllowed", cfg: ipProxy, remote: "10.1.2.3:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "203.0.113.9"), want: pass},
		{name: "ProxyForwardsDenied", cfg: ipProxy, remote: "10.1.2.3:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "198.51.100.7"), want: ipNotAllowd},
		{name: "ProxyChainSkipsTrustedHops", cfg: ipProxy, remote: "10.1.2.3:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "198.51.100.7, 203.0.113.9, 10.9.9.9"), want: pass},
		{name: "ProxyClientPrependsSpoofedEntry", cfg: ipProxy, remote: "10.1.2.3:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "203.0.113.9, 198.51.100.7"), want: ipNotAllowd},
		{name: "ProxyXFFAcrossHeaderLines", cfg: ipProxy, remote: "10.1.2.3:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "198.51.100.7", "X-Forwarded-For", "203.0.113.9"), want: pass},
		{name: "ProxyXFFWithPort", cfg: ipProxy, remote: "10.1.2.3:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "203.0.113.9:5555"), want: pass},
		{name: "ProxyXFFGarbage", cfg: ipProxy, remote: "10.1.2.3:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "203.0.113.9, unknown"), want: ipNotAllowd},
		{name: "ProxyWithoutXFF", cfg: ipProxy, remote: "10.1.2.3:1", header: hdr("X-Callback-Secret", secretNew), want: ipNotAllowd},
		{name: "ProxyIPv6", cfg: ipProxy, remote: "[fd00::1]:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "2001:db8::5"), want: pass},
		{name: "ProxyIPv6Bracketed", cfg: ipProxy, remote: "[fd00::1]:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "[2001:db8::5]:443"), want: pass},
		{name: "UntrustedPeerSpoofsProxyChain", cfg: ipProxy, remote: "198.51.100.7:1",
			header: hdr("X-Callback-Secret", secretNew, "X-Forwarded-For", "203.0.113.9, 10.1.2.3"), want: ipNotAllowd},
		{name: "ProxyRightIPWrongSecret", cfg: ipProxy, remote: "10.1.2.3:1",
			header: hdr("X-Callback-Secret", secretOld, "X-Forwarded-For", "203.0.113.9"), want: badCreds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := mustNew(t, tt.cfg)
			target := tt.target
			if target == "" {
				target = "/v1/callbacks/kaleyra"
			}
			req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(`{}`))
			if tt.remote != "" {
				req.RemoteAddr = tt.remote
			}
			for name, values := range tt.header {
				req.Header[name] = values
			}
			var err error
			rec := httptest.NewRecorder()
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err = a.Check(r); err != nil {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}).ServeHTTP(rec, req)

			if tt.want == pass {
				if err != nil || rec.Code != http.StatusNoContent {
					t.Fatalf("got %d %v, want pass", rec.Code, err)
				}
				return
			}
			var ae *callbackauth.Error
			if !errors.As(err, &ae) {
				t.Fatalf("got %d %v, want *callbackauth.Error with reason %s", rec.Code, err, tt.want)
			}
			if ae.Reason != tt.want {
				t.Errorf("reason = %s (%v), want %s", ae.Reason, err, tt.want)
			}
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", rec.Code)
			}
			if code := waorders.ErrorCode(err); code != waorders.CodeUnauthorized {
				t.Errorf("waorders.ErrorCode = %s, want %s", code, waorders.CodeUnauthorized)
			}
			if waorders.ErrorMessage(err) != ae.Message {
				t.Errorf("waorders.ErrorMessage = %q, want %q", waorders.ErrorMessage(err), ae.Message)
			}
			for _, s := range append(allSecrets, tok) {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

// extendToken returns tok with its expiry moved by d and its MAC unchanged:
// what a client forging a longer-lived token would send.
func extendToken(t *testing.T, tok string, d time.Duration) string {
	t.Helper()
	enc, mac, ok := strings.Cut(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || len(payload) < 9 {
		t.Fatalf("token %q is not payload.mac", tok)
	}
	exp := binary.BigEndian.Uint64(payload[1:9])
	binary.BigEndian.PutUint64(payload[1:9], exp+uint64(d/time.Second))
	return base64.RawURLEncoding.EncodeToString(payload) + "." + mac
}

func TestCheckDisabled(t *testing.T) {
	t.Parallel()
	a := mustNew(t, callbackauth.Config{})
	if a.Enabled() {
		t.Error("Enabled() = true for a zero Config")
	}
	if m := a.Methods(); len(m) != 0 {
		t.Errorf("Methods() = %q, want none", m)
	}
	if err := a.Check(httptest.NewRequest(http.MethodPost, "/", nil)); err != nil {
		t.Errorf("Check with no method configured: %v", err)
	}
}

func TestCheckIPErrorCarriesAddr(t *testing.T) {
	t.Parallel()
	a := mustNew(t, callbackauth.Config{AllowCIDRs: prefixes(t, "203.0.113.0/24")})
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.RemoteAddr = "[::ffff:198.51.100.7]:1"
	var ae *callbackauth.Error
	if err := a.Check(req); !errors.As(err, &ae) {
		t.Fatalf("Check = %v, want *callbackauth.Error", err)
	}
	if got := ae.Addr.String(); got != "198.51.100.7" {
		t.Errorf("Addr = %s, want 198.51.100.7", got)
	}
	if strings.Contains(ae.Error(), "198.51.100.7") {
		t.Errorf("message %q contains the client address", ae.Error())
	}
}
