package callbackauth_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/callbackauth"
)

func TestNewRejects(t *testing.T) {
	t.Parallel()
	clients := []callbackauth.TokenClient{{ID: clientID, Secret: clientSecret}}
	tests := []struct {
		name string
		cfg  callbackauth.Config
		want []string // substrings of the error, each naming the fix
	}{
		{name: "ShortSecret", cfg: callbackauth.Config{Secrets: []string{secretNew, "short"}},
			want: []string{"callback secret #2 is 5 bytes", "at least 16"}},
		{name: "EmptySecret", cfg: callbackauth.Config{Secrets: []string{""}}, want: []string{"callback secret #1 is 0 bytes"}},
		{name: "BadHeaderName", cfg: callbackauth.Config{SecretHeader: "X Secret", Secrets: []string{secretNew}},
			want: []string{`secret header "X Secret"`, "not a valid header name"}},
		{name: "ReservedHeaderName", cfg: callbackauth.Config{SecretHeader: "authorization", Secrets: []string{secretNew}},
			want: []string{"is reserved", "X-Callback-Secret"}},
		{name: "BasicEmptyUser", cfg: callbackauth.Config{BasicUsers: []callbackauth.BasicUser{{Password: passKaleyra}}},
			want: []string{"basic user #1: user name is empty"}},
		{name: "BasicColonInUser", cfg: callbackauth.Config{BasicUsers: []callbackauth.BasicUser{{Username: "a:b", Password: passKaleyra}}},
			want: []string{"without ':'"}},
		{name: "BasicShortPassword", cfg: callbackauth.Config{BasicUsers: []callbackauth.BasicUser{{Username: "k", Password: "pw"}}},
			want: []string{"basic user #1: password is 2 bytes"}},
		{name: "BasicDuplicateUser", cfg: callbackauth.Config{BasicUsers: []callbackauth.BasicUser{{Username: "k", Password: passKaleyra}, {Username: "k", Password: passBackup}}},
			want: []string{`basic user "k" is listed twice`}},
		{name: "ClientLongID", cfg: callbackauth.Config{TokenClients: []callbackauth.TokenClient{{ID: strings.Repeat("x", 129), Secret: clientSecret}}},
			want: []string{"client id is 129 bytes: use at most 128"}},
		{name: "ClientSpaceInID", cfg: callbackauth.Config{TokenClients: []callbackauth.TokenClient{{ID: "a b", Secret: clientSecret}}},
			want: []string{"token client #1: client id contains a space"}},
		{name: "ClientShortSecret", cfg: callbackauth.Config{TokenClients: []callbackauth.TokenClient{{ID: clientID, Secret: "s"}}},
			want: []string{"token client #1: client secret is 1 bytes"}},
		{name: "ClientDuplicate", cfg: callbackauth.Config{TokenClients: append(clients, clients...)},
			want: []string{`token client "kaleyra-profile-1" is listed twice`}},
		{name: "ShortTokenKey", cfg: callbackauth.Config{TokenClients: clients, TokenKeys: [][]byte{key1, []byte("short")}},
			want: []string{"token key #2 is 5 bytes: use at least 32"}},
		{name: "KeysWithoutClients", cfg: callbackauth.Config{TokenKeys: [][]byte{key1}},
			want: []string{"token keys are set but no token client is"}},
		{name: "TTLTooShort", cfg: callbackauth.Config{TokenClients: clients, TokenTTL: time.Second},
			want: []string{"token TTL 1s is out of range: use between 1m0s and 24h0m0s"}},
		{name: "TTLNegative", cfg: callbackauth.Config{TokenClients: clients, TokenTTL: -time.Hour}, want: []string{"token TTL -1h0m0s"}},
		{name: "TokenPath", cfg: callbackauth.Config{TokenClients: clients, TokenPath: "token"}, want: []string{`token path "token" must start with /`}},
		{name: "InvalidCIDR", cfg: callbackauth.Config{AllowCIDRs: []netip.Prefix{{}}},
			want: []string{"allowed range #1 is not a valid CIDR"}},
		{name: "InvalidProxy", cfg: callbackauth.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}}},
			want: []string{"trusted proxy #2 is not a valid CIDR"}},
		{name: "EveryProblemAtOnce", cfg: callbackauth.Config{Secrets: []string{"a"}, BasicUsers: []callbackauth.BasicUser{{}}, TokenKeys: [][]byte{key1}},
			want: []string{"callback secret #1", "basic user #1: user name", "basic user #1: password", "token keys are set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := callbackauth.New(tt.cfg)
			if err == nil {
				t.Fatal("New succeeded; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, s := range allSecrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	clients := []callbackauth.TokenClient{{ID: clientID, Secret: clientSecret}}
	tests := []struct {
		name string
		cfg  callbackauth.Config
		want []string
	}{
		{name: "Header", cfg: callbackauth.Config{Secrets: []string{secretNew}}, want: []string{"header X-Callback-Secret"}},
		{name: "HeaderRotating", cfg: callbackauth.Config{SecretHeader: "x-kaleyra-token", Secrets: []string{secretOld, secretNew}},
			want: []string{"header X-Kaleyra-Token (2 secrets accepted)"}},
		{name: "Basic", cfg: callbackauth.Config{BasicUsers: []callbackauth.BasicUser{{Username: "k", Password: passKaleyra}}}, want: []string{"basic"}},
		{name: "Bearer", cfg: callbackauth.Config{TokenClients: clients, TokenKeys: [][]byte{key1}},
			want: []string{"bearer token (POST /v1/callbacks/token)"}},
		{name: "BearerEphemeralKey", cfg: callbackauth.Config{TokenClients: clients, TokenPath: "/token"},
			want: []string{"bearer token (POST /token), signing key generated at start: tokens die with this process; set token keys to share them across instances"}},
		{name: "AllowList", cfg: callbackauth.Config{AllowCIDRs: prefixes(t, "203.0.113.0/24", "2001:db8::/32")},
			want: []string{"ip allow-list (2 ranges)"}},
		{name: "AllowListBehindProxy", cfg: callbackauth.Config{AllowCIDRs: prefixes(t, "203.0.113.0/24"), TrustedProxies: prefixes(t, "10.0.0.0/8")},
			want: []string{"ip allow-list (1 range, 1 trusted proxy)"}},
		{name: "Everything", cfg: callbackauth.Config{
			Secrets:        []string{secretNew},
			BasicUsers:     []callbackauth.BasicUser{{Username: "k", Password: passKaleyra}, {Username: "b", Password: passBackup}},
			TokenClients:   clients,
			TokenKeys:      [][]byte{key1},
			AllowCIDRs:     prefixes(t, "203.0.113.0/24"),
			TrustedProxies: prefixes(t, "10.0.0.0/8", "fd00::/8"),
		}, want: []string{
			"header X-Callback-Secret",
			"basic (2 users)",
			"bearer token (POST /v1/callbacks/token)",
			"ip allow-list (1 range, 2 trusted proxies)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := mustNew(t, tt.cfg)
			if got := a.Methods(); !slices.Equal(got, tt.want) {
				t.Errorf("Methods() = %q, want %q", got, tt.want)
			}
			if !a.Enabled() {
				t.Error("Enabled() = false")
			}
			for _, m := range a.Methods() {
				for _, s := range allSecrets {
					if strings.Contains(m, s) {
						t.Errorf("method %q contains a secret", m)
					}
				}
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	a := mustNew(t, callbackauth.Config{Secrets: []string{secretNew}, TokenClients: []callbackauth.TokenClient{{ID: clientID, Secret: clientSecret}}})
	if got := a.SecretHeader(); got != callbackauth.DefaultSecretHeader {
		t.Errorf("SecretHeader() = %q, want %q", got, callbackauth.DefaultSecretHeader)
	}
	if !a.TokensEnabled() {
		t.Error("TokensEnabled() = false with a token client")
	}
	if got, want := a.Challenge(), `Bearer realm="waorders"`; got != want {
		t.Errorf("Challenge() = %q, want %q", got, want)
	}
	// The default TTL shows in the token response.
	rec := postToken(t, a, formRequest(clientID, clientSecret, "client_credentials"))
	if body := decodeToken(t, rec); body.ExpiresIn != int64(callbackauth.DefaultTokenTTL/time.Second) {
		t.Errorf("expires_in = %d, want %d", body.ExpiresIn, int64(callbackauth.DefaultTokenTTL/time.Second))
	}
}
