package callback

import (
	"net/url"
	"strings"
	"testing"
)

func TestSignAndVerify(t *testing.T) {
	body := mustRead(t, "testdata/i8_meta_order.json")
	const secret = "app-secret"
	header := Sign(body, secret)
	if !strings.HasPrefix(header, "sha256=") || len(header) != len("sha256=")+64 {
		t.Fatalf("Sign = %q", header)
	}
	// An independent vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	if got := Sign([]byte("The quick brown fox jumps over the lazy dog"), "key"); got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("Sign(vector) = %s", got)
	}
	tampered := append([]byte{}, body...)
	tampered[len(tampered)-3] ^= 1

	tests := []struct {
		name    string
		body    []byte
		header  string
		secrets []string
		want    bool
	}{
		{"Valid", body, header, []string{secret}, true},
		{"UpperCaseHex", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(header, "sha256=")), []string{secret}, true},
		{"RotationOldSecretFirst", body, header, []string{"old-secret", secret}, true},
		{"RotationNewSecretFirst", body, header, []string{secret, "old-secret"}, true},
		{"WrongSecret", body, header, []string{"other"}, false},
		{"NoSecrets", body, header, nil, false},
		{"EmptySecretIgnored", body, Sign(body, ""), []string{""}, false},
		{"TamperedBody", tampered, header, []string{secret}, false},
		{"ReencodedBodyDiffers", []byte(strings.Join(strings.Fields(string(body)), "")), header, []string{secret}, false},
		{"MissingPrefix", body, strings.TrimPrefix(header, "sha256="), []string{secret}, false},
		{"SHA1Prefix", body, "sha1=" + strings.TrimPrefix(header, "sha256="), []string{secret}, false},
		{"Truncated", body, header[:len(header)-2], []string{secret}, false},
		{"NotHex", body, "sha256=" + strings.Repeat("zz", 32), []string{secret}, false},
		{"Empty", body, "", []string{secret}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignature(tt.body, tt.header, tt.secrets...); got != tt.want {
				t.Errorf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifyHandshake(t *testing.T) {
	q := func(s string) url.Values {
		v, err := url.ParseQuery(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name      string
		query     string
		token     string
		challenge string
		ok        bool
	}{
		{"Valid", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=tok", "tok", "1158201444", true},
		{"WrongToken", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=nope", "tok", "", false},
		{"TokenPrefix", "hub.mode=subscribe&hub.challenge=1&hub.verify_token=to", "tok", "", false},
		{"WrongMode", "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=tok", "tok", "", false},
		{"NoMode", "hub.challenge=1&hub.verify_token=tok", "tok", "", false},
		{"NoChallenge", "hub.mode=subscribe&hub.verify_token=tok", "tok", "", false},
		{"EmptyConfiguredToken", "hub.mode=subscribe&hub.challenge=1&hub.verify_token=", "", "", false},
		{"Empty", "", "tok", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			challenge, ok := VerifyHandshake(q(tt.query), tt.token)
			if challenge != tt.challenge || ok != tt.ok {
				t.Errorf("VerifyHandshake = %q, %v; want %q, %v", challenge, ok, tt.challenge, tt.ok)
			}
		})
	}
}
