package server_test

// Tests of the callback surface (package callbacks): the Kaleyra and Meta
// endpoints, the token endpoint and callback authentication, through the
// whole router.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
)

// rotatedSecret is a callback secret being rotated out: still accepted
// beside testkit.CallbackSecret.
const rotatedSecret = "callback-secret-rotated-0123456789"

// withRotatedSecret accepts rotatedSecret too.
func withRotatedSecret() option {
	return withAuth(func(ac *callbackauth.Config) { ac.Secrets = append(ac.Secrets, rotatedSecret) })
}

// noSecrets fails if any test credential, or the Basic credentials as
// encoded in a header, appears in b.
func noSecrets(tb testing.TB, what string, b []byte) {
	tb.Helper()
	for _, s := range []string{testkit.CallbackSecret, rotatedSecret, testkit.BasicPassword, testkit.TokenClientSecret,
		testkit.MetaAppSecret, testkit.APIToken, nextAPIToken, basicAuth(testkit.BasicUser, testkit.BasicPassword)[len("Basic "):]} {
		if bytes.Contains(b, []byte(s)) {
			tb.Errorf("%s contains the secret %q: %s", what, s, b)
		}
	}
}

// wantRecord is one expected entry of a callback answer.
type wantRecord struct {
	id, kind, result string // kind: the message type or the status
}

// example is a body of callback/testdata and the answer it must get on its
// first delivery.
type example struct {
	file     string
	meta     bool // Meta-native: posted, signed, to the Meta endpoint
	messages []wantRecord
	statuses []wantRecord
}

// examples are the provider seed and every example of the contract.
var examples = []example{
	{file: "kaleyra_seed.json", messages: []wantRecord{{"wamid.HBgMOTE5NzQwNzc2NTA1FQIAEhggNUYXXXXXXXXXXzNjE2MjI0U3REVENTU3RUY3NEMxODYA", "order", "stored"}}},
	{file: "i1_order_inr.json", messages: []wantRecord{{"wamid.TESTORDER00000000000000000001", "order", "stored"}}},
	{file: "i2_order_usd_decimal.json", messages: []wantRecord{{"wamid.TESTORDER00000000000000000002", "order", "stored"}}},
	{file: "i3_order_eur_no_name.json", messages: []wantRecord{{"wamid.TESTORDER00000000000000000003", "order", "stored"}}},
	{file: "i4_text_reply.json", messages: []wantRecord{{"wamid.TESTTEXT000000000000000000001", "text", "stored"}}},
	{file: "i5_button_reply.json", messages: []wantRecord{{"wamid.TESTBUTTON0000000000000000001", "interactive", "stored"}}},
	{file: "i6_status_delivered.json", statuses: []wantRecord{{"wamid.TESTCONFIRM0000000000000000001", "delivered", "stored"}}},
	{file: "i7_status_failed.json", statuses: []wantRecord{{"wamid.TESTCONFIRM0000000000000000002", "failed", "stored"}}},
	{file: "i8_meta_order.json", meta: true, messages: []wantRecord{{"wamid.TESTORDER00000000000000000004", "order", "stored"}}},
	{file: "i9_meta_statuses.json", meta: true, statuses: []wantRecord{
		{"wamid.TESTCONFIRM0000000000000000010", "read", "stored"},
		{"wamid.TESTCONFIRM0000000000000000011", "sent", "stored"},
	}},
	{file: "kaleyra_batch3.json", messages: []wantRecord{
		{"wamid.TESTBATCH00000000000000000001", "text", "stored"},
		{"wamid.TESTBATCH00000000000000000002", "order", "stored"},
		{"wamid.TESTBATCH00000000000000000003", "reaction", "stored"},
	}},
	{file: "kaleyra_contact_phones_object.json", messages: []wantRecord{{"wamid.TESTCONTACT0000000000000000001", "contacts", "stored"}}},
	{file: "kaleyra_order_problems.json", messages: []wantRecord{{"", "order", "quarantined"}}},
	{file: "kaleyra_status_not_sent.json", statuses: []wantRecord{{"wamid.TESTCONFIRM0000000000000000003", "not-sent", "stored"}}},
	{file: "meta_all_types.json", meta: true, messages: []wantRecord{
		{"wamid.ALL01", "text", "stored"}, {"wamid.ALL02", "image", "stored"}, {"wamid.ALL03", "video", "stored"},
		{"wamid.ALL04", "audio", "stored"}, {"wamid.ALL05", "document", "stored"}, {"wamid.ALL06", "sticker", "stored"},
		{"wamid.ALL07", "location", "stored"}, {"wamid.ALL08", "contacts", "stored"}, {"wamid.ALL09", "interactive", "stored"},
		{"wamid.ALL10", "interactive", "stored"}, {"wamid.ALL11", "interactive", "stored"}, {"wamid.ALL12", "button", "stored"},
		{"wamid.ALL13", "reaction", "stored"}, {"wamid.ALL14", "text", "stored"}, {"wamid.ALL15", "unsupported", "stored"},
		{"wamid.ALL16", "poll", "stored"}, {"wamid.ALL17", "system", "stored"},
		{"", "", "quarantined"}, // a message that is a string, not an object
	}},
	// Identity, errors, group receipts and the change fields (issue 12);
	// their changes are checked in api_changes_test.go.
	{file: "bsuid_username_only_text.json", meta: true, messages: []wantRecord{{"wamid.HBgNMTU1NTEyMzQ1NjcVAgASGBQzQUYwMDAwMDAwMDAwMDAwMDAB", "text", "stored"}}},
	{file: "meta_interactive_errors_only.json", meta: true, messages: []wantRecord{{"wamid.wegrchytvwcggt=", "interactive", "stored"}}},
	{file: "meta_smb_message_echo.json", meta: true, messages: []wantRecord{{"<WHATSAPP_MESSAGE_ID>", "text", "stored"}}},
	{file: "meta_system_user_changed_user_id.json", meta: true, messages: []wantRecord{{"wamid.HBgNMTU1NTEyMzQ1NjcVAgASGBQzQUYwMDAwMDAwMDAwMDAwMDAD", "system", "stored"}}},
	{file: "meta_group_statuses.json", meta: true, statuses: []wantRecord{
		{"wamid.HBgNMTU1NTEyMzQ1NjcVAgARGBI0QUYwMDAwMDAwMDAwMDAwMDAG", "read", "stored"},
		{"wamid.HBgNMTU1NTEyMzQ1NjcVAgARGBI0QUYwMDAwMDAwMDAwMDAwMDAG", "read", "stored"}, // another participant
	}},
	{file: "meta_call_status.json", meta: true},
	{file: "meta_call_terminate.json", meta: true},
	{file: "meta_unknown_field.json", meta: true},
	{file: "meta_user_id_update.json", meta: true},
	{file: "meta_user_preferences.json", meta: true},
}

// goldenTotals returns the order totals the decoder's golden file records
// for each order message of an example.
func goldenTotals(t *testing.T, file string) map[string]json.RawMessage {
	t.Helper()
	var g struct {
		Callback struct {
			Changes []struct {
				Messages []struct {
					ID    string
					Order *struct{ Totals json.RawMessage }
				}
			}
		} `json:"callback"`
	}
	if err := json.Unmarshal(readTestdata(t, strings.TrimSuffix(file, ".json")+".golden.json"), &g); err != nil {
		t.Fatalf("golden of %s: %v", file, err)
	}
	out := map[string]json.RawMessage{}
	for _, ch := range g.Callback.Changes {
		for _, m := range ch.Messages {
			if m.Order != nil {
				out[m.ID] = m.Order.Totals
			}
		}
	}
	return out
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

func checkRecords(t *testing.T, what string, got []cbItem, want []wantRecord, status bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records %+v, want %d", what, len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		kind := g.Type
		if status {
			kind = g.Status
		}
		if g.ID != w.id || kind != w.kind || g.Result != w.result {
			t.Errorf("%s[%d] = %s %s %s, want %s %s %s", what, i, g.ID, kind, g.Result, w.id, w.kind, w.result)
		}
		if (g.Result == "quarantined") != (g.QuarantineID > 0) {
			t.Errorf("%s[%d]: result %s with quarantine_id %d", what, i, g.Result, g.QuarantineID)
		}
		if (g.Result == "quarantined") != (len(g.Errors) > 0) {
			t.Errorf("%s[%d]: result %s with errors %+v", what, i, g.Result, g.Errors)
		}
	}
}

func TestExamplesEndToEnd(t *testing.T) {
	t.Parallel()
	// Every example body in callback/testdata is covered by the table.
	files, err := filepath.Glob(filepath.Join("..", "..", "callback", "testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".golden.json") {
			continue
		}
		if !slices.ContainsFunc(examples, func(e example) bool { return e.file == name }) {
			t.Errorf("callback/testdata/%s is not in the examples table", name)
		}
	}

	for _, ex := range examples {
		t.Run(strings.TrimSuffix(ex.file, ".json"), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			body := readTestdata(t, ex.file)
			post := func() cbAnswer {
				if ex.meta {
					return wantAnswer(t, b.meta(t, body))
				}
				return wantAnswer(t, b.kaleyra(t, body))
			}
			a := post()
			wantEnvelope := "kaleyra"
			if ex.meta {
				wantEnvelope = "meta"
			}
			if a.Envelope != wantEnvelope {
				t.Errorf("envelope %q, want %q", a.Envelope, wantEnvelope)
			}
			checkRecords(t, "messages", a.Messages, ex.messages, false)
			checkRecords(t, "statuses", a.Statuses, ex.statuses, true)

			totals := goldenTotals(t, ex.file)
			for _, w := range ex.messages {
				if w.result != "stored" {
					continue
				}
				var m wire.Message
				b.get(t, "/v1/messages/"+url.PathEscape(w.id), http.StatusOK, &m)
				if m.ID != w.id || m.Type != w.kind || len(m.Raw) == 0 {
					t.Errorf("GET message %s = %+v, want type %s with raw JSON", w.id, m, w.kind)
				}
				if w.kind != "order" {
					continue
				}
				var o struct {
					ID     string          `json:"id"`
					Status string          `json:"status"`
					Totals json.RawMessage `json:"totals"`
				}
				b.get(t, "/v1/orders/"+url.PathEscape(w.id), http.StatusOK, &o)
				if o.ID != w.id || o.Status != "pending" {
					t.Errorf("order %s: id %s status %s, want pending", w.id, o.ID, o.Status)
				}
				if !sameJSON(t, o.Totals, totals[w.id]) {
					t.Errorf("order %s totals %s, want the decoder's %s", w.id, o.Totals, totals[w.id])
				}
			}
			for _, w := range ex.statuses {
				sts, err := b.store.ListStatuses(context.Background(), w.id)
				if err != nil {
					t.Fatalf("statuses of %s: %v", w.id, err)
				}
				// One per status of the message in the example (group receipts: one per participant).
				n := 0
				for _, x := range ex.statuses {
					if x.id == w.id {
						n++
					}
				}
				if len(sts) != n || sts[0].Status != w.kind {
					t.Errorf("statuses of %s = %+v, want %d %s", w.id, sts, n, w.kind)
				}
			}
			// Redelivery: every stored record is a duplicate, nothing new.
			before := b.storedRows(t)
			again := post()
			all := slices.Concat(ex.messages, ex.statuses)
			for i, g := range slices.Concat(again.Messages, again.Statuses) {
				want := "duplicate"
				if all[i].result == "quarantined" {
					want = "quarantined"
				}
				if g.Result != want {
					t.Errorf("redelivery of %s: %s, want %s", g.ID, g.Result, want)
				}
			}
			after := b.storedRows(t)
			for _, table := range []string{"messages", "orders", "statuses"} {
				if after[table] != before[table] {
					t.Errorf("redelivery added %d rows to %s", after[table]-before[table], table)
				}
			}
			if after["callbacks"] != before["callbacks"]+1 {
				t.Errorf("callbacks %d → %d: every accepted delivery is kept", before["callbacks"], after["callbacks"])
			}
		})
	}
}

func TestCallbackAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t, withRotatedSecret())
	n := 0
	body := func() []byte {
		n++
		return order(fmt.Sprintf("wamid.AUTH%04d", n))
	}
	tokenReply := b.send(t, http.MethodPost, tokenPath,
		[]byte(`{"client_id":"`+testkit.TokenClientID+`","client_secret":"`+testkit.TokenClientSecret+`"}`))
	if tokenReply.status != http.StatusOK {
		t.Fatalf("token endpoint: %s", tokenReply)
	}
	var tok struct {
		TokenType   string `json:"token_type"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(tokenReply.body, &tok); err != nil || tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		t.Fatalf("token answer %s (%v)", tokenReply.body, err)
	}
	badToken := b.send(t, http.MethodPost, tokenPath,
		[]byte(`{"client_id":"`+testkit.TokenClientID+`","client_secret":"wrong-client-secret-000000"}`))
	wantError(t, badToken, http.StatusUnauthorized, "unauthorized")
	if got := b.metric(t, "waorders_auth_failures_total", "reason=token_endpoint"); got != 1 {
		t.Errorf("waorders_auth_failures_total{reason=token_endpoint} = %v, want 1", got)
	}

	const secret = testkit.CallbackSecretHeader
	tests := []struct {
		name   string
		hdr    []string // replaces the default secret header
		ok     bool
		reason string
	}{
		{"SecretCurrent", []string{secret, testkit.CallbackSecret}, true, ""},
		{"SecretRotatedOut", []string{secret, rotatedSecret}, true, ""},
		{"SecretWrong", []string{secret, "not-the-secret-0123456789"}, false, "bad_credentials"},
		{"SecretPrefix", []string{secret, testkit.CallbackSecret[:20]}, false, "bad_credentials"},
		{"SecretInOtherHeader", []string{secret, "", "X-Secret", testkit.CallbackSecret}, false, "missing_credentials"},
		{"Missing", []string{secret, ""}, false, "missing_credentials"},
		{"Basic", []string{secret, "", "Authorization", basicAuth(testkit.BasicUser, testkit.BasicPassword)}, true, ""},
		{"BasicWrongPassword", []string{secret, "", "Authorization", basicAuth(testkit.BasicUser, testkit.BasicPassword+"x")}, false, "bad_credentials"},
		{"BasicWrongUser", []string{secret, "", "Authorization", basicAuth("someone", testkit.BasicPassword)}, false, "bad_credentials"},
		{"IssuedBearer", []string{secret, "", "Authorization", "Bearer " + tok.AccessToken}, true, ""},
		{"ForgedBearer", []string{secret, "", "Authorization", "Bearer " + tok.AccessToken + "x"}, false, "bad_credentials"},
		{"APITokenAsBearer", []string{secret, "", "Authorization", "Bearer " + testkit.APIToken}, false, "bad_credentials"},
	}
	// The cases run in order on one server: each compares storage and the
	// failure counter before and after its own request.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := body()
			before := b.storedRows(t)
			failures := b.metric(t, "waorders_auth_failures_total", "reason="+tt.reason)
			r := b.kaleyra(t, body, tt.hdr...)
			noSecrets(t, "answer", r.body)
			if tt.ok {
				a := wantAnswer(t, r)
				if len(a.Messages) != 1 || a.Messages[0].Result != "stored" {
					t.Errorf("answer %+v, want one stored", a)
				}
				return
			}
			wantError(t, r, http.StatusUnauthorized, "unauthorized")
			if after := b.storedRows(t); !maps.Equal(before, after) {
				t.Errorf("a rejected callback changed storage: %v → %v", before, after)
			}
			if got := b.metric(t, "waorders_auth_failures_total", "reason="+tt.reason); got != failures+1 {
				t.Errorf("waorders_auth_failures_total{reason=%q} %v → %v, want +1", tt.reason, failures, got)
			}
		})
	}
}

func TestIPAllowList(t *testing.T) {
	t.Parallel()
	prefix := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	tests := []struct {
		name    string
		allow   []netip.Prefix
		trusted []netip.Prefix
		xff     string
		ok      bool
	}{
		{"LoopbackAllowed", []netip.Prefix{prefix("127.0.0.0/8")}, nil, "", true},
		{"PeerOutside", []netip.Prefix{prefix("10.0.0.0/8")}, nil, "", false},
		{"ForwardedByTrustedProxy", []netip.Prefix{prefix("203.0.113.0/24")}, []netip.Prefix{prefix("127.0.0.1/32")}, "203.0.113.9", true},
		{"ForwardedOutside", []netip.Prefix{prefix("203.0.113.0/24")}, []netip.Prefix{prefix("127.0.0.1/32")}, "198.51.100.7", false},
		{"SpoofedWithoutTrustedProxy", []netip.Prefix{prefix("203.0.113.0/24")}, nil, "203.0.113.9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A real listener: the peer address is 127.0.0.1.
			b := setup(t, listen(), withAuth(func(ac *callbackauth.Config) {
				ac.AllowCIDRs, ac.TrustedProxies = tt.allow, tt.trusted
			}))
			hdr := []string{}
			if tt.xff != "" {
				hdr = append(hdr, "X-Forwarded-For", tt.xff)
			}
			r := b.kaleyra(t, order("wamid.IP0001"), hdr...)
			if tt.ok {
				wantAnswer(t, r)
				return
			}
			wantError(t, r, http.StatusUnauthorized, "unauthorized")
			if n := b.rows(t, "callbacks") + b.rows(t, "messages"); n != 0 {
				t.Errorf("a refused callback stored %d rows", n)
			}
			if got := b.metric(t, "waorders_auth_failures_total", "reason=ip_not_allowed"); got != 1 {
				t.Errorf("waorders_auth_failures_total{reason=ip_not_allowed} = %v, want 1", got)
			}
		})
	}
}

func TestMetaEndpoint(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "i8_meta_order.json")

	t.Run("Handshake", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {testkit.MetaVerifyToken}, "hub.challenge": {"1158201444"}}
		r := b.send(t, http.MethodGet, metaPath+"?"+q.Encode(), nil)
		if r.status != http.StatusOK || string(r.body) != "1158201444" {
			t.Fatalf("handshake: %s, want 200 1158201444", r)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q, want text/plain", ct)
		}
		// Each failure names the parameter that was wrong, never the token.
		for _, tt := range []struct {
			name, param, value string
			msg                []string
		}{
			{"WrongToken", "hub.verify_token", "wrong-token", []string{"hub.verify_token does not match", "--meta-verify-token"}},
			{"NoToken", "hub.verify_token", "", []string{"hub.verify_token is missing"}},
			{"OtherMode", "hub.mode", "unsubscribe", []string{`hub.mode is "unsubscribe"`, "subscribe"}},
			{"NoMode", "hub.mode", "", []string{"hub.mode is missing"}},
			{"NoChallenge", "hub.challenge", "", []string{"hub.challenge is missing"}},
		} {
			bad := url.Values{}
			for k, v := range q {
				bad[k] = v
			}
			if bad.Del(tt.param); tt.value != "" {
				bad.Set(tt.param, tt.value)
			}
			e := wantError(t, b.send(t, http.MethodGet, metaPath+"?"+bad.Encode(), nil), http.StatusForbidden, "forbidden", tt.msg...)
			if strings.Contains(e.Message, testkit.MetaVerifyToken) {
				t.Errorf("%s: the message shows the verify token: %s", tt.name, e.Message)
			}
		}
	})

	t.Run("BadSignature", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for name, hdr := range map[string][]string{
			"Missing":               {},
			"OtherSecret":           {testkit.SignatureHeader, testkit.Sign(body, "another-app-secret-012345")},
			"OtherBody":             {testkit.SignatureHeader, testkit.SignMeta(append([]byte(" "), body...))},
			"NotHex":                {testkit.SignatureHeader, "sha256=zz"},
			"CallbackSecretInstead": {testkit.CallbackSecretHeader, testkit.CallbackSecret},
		} {
			before := b.metric(t, "waorders_auth_failures_total")
			r := b.send(t, http.MethodPost, metaPath, body, hdr...)
			wantError(t, r, http.StatusUnauthorized, "unauthorized")
			if n := b.rows(t, "messages") + b.rows(t, "callbacks"); n != 0 {
				t.Errorf("%s: stored %d rows", name, n)
			}
			if got := b.metric(t, "waorders_auth_failures_total"); got != before+1 {
				t.Errorf("%s: auth failures %v → %v, want +1", name, before, got)
			}
		}
	})

	t.Run("Signed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a := wantAnswer(t, b.meta(t, body))
		if a.Envelope != "meta" || len(a.Messages) != 1 || a.Messages[0].Result != "stored" {
			t.Errorf("answer %+v, want one stored meta order", a)
		}
		// A secret header does not open the Meta endpoint, nor the signature the Kaleyra one.
		r := b.send(t, http.MethodPost, kaleyraPath, body, testkit.SignatureHeader, testkit.SignMeta(body))
		wantError(t, r, http.StatusUnauthorized, "unauthorized")
	})
}

func TestInsecureNoAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, insecure())
	if a := wantAnswer(t, b.send(t, http.MethodPost, kaleyraPath, order("wamid.OPEN1"))); a.Messages[0].Result != "stored" {
		t.Errorf("answer %+v", a)
	}
	if a := wantAnswer(t, b.send(t, http.MethodPost, metaPath, readTestdata(t, "i8_meta_order.json"))); a.Messages[0].Result != "stored" {
		t.Errorf("answer %+v", a)
	}
	// The API still needs its token.
	wantError(t, b.send(t, http.MethodGet, "/v1/orders/wamid.OPEN1", nil), http.StatusUnauthorized, "unauthorized")
	// Without a token client the token endpoint does not exist.
	wantError(t, b.send(t, http.MethodPost, tokenPath, []byte(`{}`)), http.StatusNotFound, "not_found")
}

func TestCallbackLimits(t *testing.T) {
	t.Parallel()
	const limit = 4096

	t.Run("BodyAtLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, bodyLimit(limit))
		body := order("wamid.LIMIT0001")
		body = append(body, bytes.Repeat([]byte(" "), limit-len(body))...)
		wantAnswer(t, b.kaleyra(t, body))
	})
	t.Run("BodyOverLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, bodyLimit(limit))
		before := b.storedRows(t)
		body := order("wamid.LIMIT0002")
		body = append(body, bytes.Repeat([]byte(" "), limit+1-len(body))...)
		wantError(t, b.kaleyra(t, body), http.StatusRequestEntityTooLarge, "body_too_large", strconv.Itoa(limit))
		if after := b.storedRows(t); !maps.Equal(before, after) {
			t.Errorf("an oversized body changed storage: %v → %v", before, after)
		}
	})
	t.Run("ContentType", func(t *testing.T) {
		t.Parallel()
		b := setup(t, bodyLimit(limit))
		for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data; boundary=x"} {
			before := b.storedRows(t)
			r := b.kaleyra(t, order("wamid.CT0001"), "Content-Type", ct)
			wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
			if after := b.storedRows(t); !maps.Equal(before, after) {
				t.Errorf("Content-Type %q changed storage", ct)
			}
		}
		for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON", "application/vnd.kaleyra+json"} {
			id := "wamid.CT" + strconv.Itoa(len(ct))
			if a := wantAnswer(t, b.kaleyra(t, order(id), "Content-Type", ct)); a.Messages[0].Result != "stored" {
				t.Errorf("Content-Type %q: %+v", ct, a)
			}
		}
	})
}

func TestConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t, listen()) // concurrent requests on real connections
	body := order("wamid.CONCURRENT")
	const n = 10
	results := make([]string, n)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, b.base+kaleyraPath, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(testkit.CallbackSecretHeader, testkit.CallbackSecret)
			resp, err := b.client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			var a cbAnswer
			if json.NewDecoder(resp.Body).Decode(&a) == nil && len(a.Messages) == 1 {
				results[i] = a.Messages[0].Result
			}
		})
	}
	close(start)
	wg.Wait()
	stored := 0
	for i := range n {
		if statuses[i] != http.StatusOK {
			t.Errorf("request %d: status %d, want 200", i, statuses[i])
		}
		switch results[i] {
		case "stored":
			stored++
		case "duplicate":
		default:
			t.Errorf("request %d: result %q", i, results[i])
		}
	}
	if stored != 1 {
		t.Errorf("%d requests stored the order, want exactly 1: %v", stored, results)
	}
	if got := b.rows(t, "orders"); got != 1 {
		t.Errorf("%d orders, want 1", got)
	}
	if got := b.rows(t, "order_items"); got != 2 {
		t.Errorf("%d order items, want 2", got)
	}
	if got := b.rows(t, "callbacks"); got != n {
		t.Errorf("%d callbacks kept, want %d (duplicates included)", got, n)
	}
	if got := b.metric(t, "waorders_duplicates_total"); got != n-1 {
		t.Errorf("waorders_duplicates_total = %v, want %d", got, n-1)
	}
}
