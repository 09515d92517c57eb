package webhook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The vectors of shared/docs/forwarding.md §2.4, as literals. U1 and U2
// are the upstream ones (standard-webhooks libraries/go webhook_test.go
// TestWebhookSign; libraries/rust src/lib.rs test_sign); W1–W3 are
// waorders' own (Python hmac and Go crypto/hmac agree).
const (
	u1Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	u1ID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	u1TS     = 1614265330
	u1Body   = `{"test": 2432232314}`
	u1Sig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	u1Wrong  = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="

	u2Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	u2ID     = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"
	u2TS     = 1649367553
	u2Body   = `{"email":"test@example.com","username":"test_user"}`
	u2Sig    = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="

	k1     = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	k2     = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
	w1ID   = "evt_0000000000000001"
	w1TS   = 1767225600
	w1Body = `{"type":"order.created","timestamp":"2026-01-01T00:00:00Z","data":{"order_id":"ord_01","wamid":"wamid.TESTORDER00000000000000000001","phone_number_id":"100000000000001","total":{"currency":"INR","minor":129900}}}`
	w1Sig  = "v1,GerLGvksZl9xSbRanflZjVre8TIixrLlkTaicrdCbIM="
	w2Sig  = "v1,GerLGvksZl9xSbRanflZjVre8TIixrLlkTaicrdCbIM= v1,18EbVq7nOqBQrzqoQak3WWLw3ZFrYqkld+ZEQgp2D4c="
	w3ID   = "evt_0000000000000002"
	w3TS   = 1767225600
	w3Body = `{"type":"message.received","data":{"text":"नमस्ते ₹"}}`
	w3Sig  = "v1,GVlVykq4kAP5+tL/lRgtcI+FVC15iRKpMRzuqm4kmP4="
)

func keys(t testing.TB, secrets ...string) [][]byte {
	t.Helper()
	ks, err := ParseSecrets(secrets)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestVectorSign(t *testing.T) {
	if len(w1Body) != 212 || len(w3Body) != 68 {
		t.Fatalf("vector bodies changed: %d, %d bytes (want 212, 68)", len(w1Body), len(w3Body))
	}
	for _, c := range []struct {
		name    string
		secrets []string
		id      string
		ts      int64
		body    string
		want    string
	}{
		{"U1", []string{u1Secret}, u1ID, u1TS, u1Body, u1Sig},
		{"U2", []string{u2Secret}, u2ID, u2TS, u2Body, u2Sig},
		{"W1", []string{k1}, w1ID, w1TS, w1Body, w1Sig},
		{"W2 rotation", []string{k1, k2}, w1ID, w1TS, w1Body, w2Sig},
		{"W3 UTF-8", []string{k1}, w3ID, w3TS, w3Body, w3Sig},
		{"U1 without prefix", []string{strings.TrimPrefix(u1Secret, "whsec_")}, u1ID, u1TS, u1Body, u1Sig},
		{"W1 unpadded base64", []string{strings.TrimRight(k1, "=")}, w1ID, w1TS, w1Body, w1Sig},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Sign(keys(t, c.secrets...), c.id, time.Unix(c.ts, 0), []byte(c.body))
			if got != c.want {
				t.Fatalf("Sign = %q\nwant   %q", got, c.want)
			}
			v := &Verifier{Keys: keys(t, c.secrets...), Now: func() time.Time { return time.Unix(c.ts, 0) }}
			if err := v.VerifyValues(c.id, itoa(c.ts), c.want, []byte(c.body)); err != nil {
				t.Fatalf("Verify of the vector: %v", err)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestVectorRotationVerify(t *testing.T) {
	at := func() time.Time { return time.Unix(w1TS, 0) }
	// A receiver holding only the new key (K2), or only the old (K1),
	// accepts W2; one holding neither refuses it.
	for _, c := range []struct {
		name    string
		secrets []string
		want    error
	}{
		{"only K2", []string{k2}, nil},
		{"only K1", []string{k1}, nil},
		{"K2 and K1", []string{k2, k1}, nil},
		{"neither", []string{u1Secret}, ErrNoMatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := &Verifier{Keys: keys(t, c.secrets...), Now: at}
			if err := v.VerifyValues(w1ID, "1767225600", w2Sig, []byte(w1Body)); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// The upstream negative cases (libraries/go webhook_test.go TestWebhook,
// libraries/python tests), on an injected clock.
func TestSignatureNegatives(t *testing.T) {
	const ts = "1614265330"
	// upstream uses time.Now(), which is never on a whole second: the
	// clock here stands half a second past the signed second as well.
	base := time.Unix(u1TS, 500_000_000)
	fixed := func(d time.Duration) func() time.Time { return func() time.Time { return base.Add(d) } }
	for _, c := range []struct {
		name string
		id   string
		ts   string
		sig  string
		body string
		now  func() time.Time
		want error
	}{
		{"valid", u1ID, ts, u1Sig, u1Body, fixed(0), nil},
		{"wrong signature", u1ID, ts, u1Wrong, u1Body, fixed(0), ErrNoMatch},
		{"upstream python wrong signature", u1ID, ts, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", u1Body, fixed(0), ErrNoMatch},
		{"partial v1,", u1ID, ts, "v1,", u1Body, fixed(0), ErrNoMatch},
		{"v2 entry ignored", u1ID, ts, "v2," + strings.TrimPrefix(u1Sig, "v1,"), u1Body, fixed(0), ErrNoMatch},
		{"one valid among wrong", u1ID, ts, strings.Join([]string{u1Wrong, "v2," + strings.TrimPrefix(u1Wrong, "v1,"), u1Sig, u1Wrong}, " "), u1Body, fixed(0), nil},
		{"body changed by one byte", u1ID, ts, u1Sig, `{"test":2432232314}`, fixed(0), ErrNoMatch},
		{"id changed", u1ID + "x", ts, u1Sig, u1Body, fixed(0), ErrNoMatch},
		{"5 min old", u1ID, ts, u1Sig, u1Body, fixed(5 * time.Minute), ErrTooOld},
		{"4:59 old", u1ID, ts, u1Sig, u1Body, fixed(5*time.Minute - time.Second), nil},
		{"5 min + 1 s ahead", u1ID, ts, u1Sig, u1Body, fixed(-5*time.Minute - time.Second - 500*time.Millisecond), ErrTooNew},
		{"5 min ahead", u1ID, ts, u1Sig, u1Body, fixed(-5*time.Minute - 500*time.Millisecond), nil},
		{"missing id", "", ts, u1Sig, u1Body, fixed(0), ErrMissingHeaders},
		{"missing timestamp", u1ID, "", u1Sig, u1Body, fixed(0), ErrMissingHeaders},
		{"missing signature", u1ID, ts, "", u1Body, fixed(0), ErrMissingHeaders},
		{"timestamp not a number", u1ID, "hello", u1Sig, u1Body, fixed(0), ErrBadTimestamp},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := &Verifier{Keys: keys(t, u1Secret), Now: c.now}
			err := v.VerifyValues(c.id, c.ts, c.sig, []byte(c.body))
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyHeaderAndTolerance(t *testing.T) {
	h := http.Header{}
	h.Set(HeaderID, w1ID)
	h.Set(HeaderTimestamp, "1767225600")
	h.Set(HeaderSignature, w1Sig)
	v := &Verifier{Keys: keys(t, k1), Tolerance: time.Minute, Now: func() time.Time { return time.Unix(w1TS+61, 0) }}
	if err := v.Verify(h, []byte(w1Body)); !errors.Is(err, ErrTooOld) {
		t.Fatalf("61 s old with a 1 min tolerance: %v, want ErrTooOld", err)
	}
	v.Now = func() time.Time { return time.Unix(w1TS+60, 0) }
	if err := v.Verify(h, []byte(w1Body)); err != nil {
		t.Fatalf("60 s old with a 1 min tolerance: %v", err)
	}
	if err := (&Verifier{}).Verify(h, []byte(w1Body)); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("no keys: %v", err)
	}
}

func TestParseSecret(t *testing.T) {
	for _, bad := range []string{"", "whsec_", "   ", "whsec_!!!!", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)),
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))} {
		if _, err := ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) accepted", bad)
		} else if len(bad) > len("whsec_") && strings.Contains(err.Error(), strings.TrimPrefix(bad, "whsec_")) {
			t.Errorf("the error repeats the secret: %v", err)
		}
	}
	for _, good := range []string{u1Secret, u2Secret, k1, k2, strings.TrimPrefix(k2, "whsec_"), strings.TrimRight(k1, "=")} {
		if _, err := ParseSecret(good); err != nil {
			t.Errorf("ParseSecret(%q): %v", good, err)
		}
	}
	_, err := ParseSecrets([]string{k1, "whsec_x"})
	if err == nil || !strings.Contains(err.Error(), "secret 2 of 2") {
		t.Fatalf("ParseSecrets names the wrong one by position: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, "whsec_") || len(s) != len("whsec_")+44 {
			t.Fatalf("NewSecret = %q", s)
		}
		k, err := ParseSecret(s)
		if err != nil || len(k) != 32 {
			t.Fatalf("ParseSecret(NewSecret()) = %d bytes, %v", len(k), err)
		}
		if seen[s] {
			t.Fatal("NewSecret repeated itself")
		}
		seen[s] = true
	}
}

func TestParseSignatures(t *testing.T) {
	got := ParseSignatures("  v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=  v1a,AAAA v1, ,x junk v1,!!!  ")
	if len(got) != 2 || got[0].Version != "v1" || len(got[0].Sig) != 32 || got[1].Version != "v1a" || len(got[1].Sig) != 3 {
		t.Fatalf("ParseSignatures = %+v", got)
	}
}

func FuzzParseSignatures(f *testing.F) {
	f.Add(u1Sig)
	f.Add(w2Sig)
	f.Add("v1,")
	f.Add("v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== " + u1Sig)
	f.Add(",,, v1,,= \t v2,AA==")
	v := &Verifier{Keys: keys(f, u1Secret), Now: func() time.Time { return time.Unix(u1TS, 0) }}
	f.Fuzz(func(t *testing.T, header string) {
		sigs := ParseSignatures(header)
		for _, s := range sigs {
			if s.Version == "" || len(s.Sig) == 0 {
				t.Fatalf("empty entry from %q: %+v", header, s)
			}
			// every entry comes from a token of the header, re-encoded
			if !strings.Contains(header, s.Version+","+base64.StdEncoding.EncodeToString(s.Sig)) {
				t.Fatalf("entry %+v is not in %q", s, header)
			}
		}
		// a header verifies only if it holds the right v1 entry
		err := v.VerifyValues(u1ID, "1614265330", header, []byte(u1Body))
		has := false
		for _, tok := range strings.Fields(header) {
			has = has || tok == u1Sig
		}
		if (err == nil) != has {
			t.Fatalf("Verify(%q) = %v, but the header holds the valid entry: %v", header, err, has)
		}
	})
}
