package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/money"
)

var envelopes = []callback.Envelope{callback.EnvelopeKaleyra, callback.EnvelopeMeta}

func TestBodiesAreValidJSON(t *testing.T) {
	t.Parallel()
	eachEnvelope(t, []int{1, 4}, Options{MalformedShare: 0.2}, func(t *testing.T, opts Options) {
		for i, cb := range generate(7, opts, 1500) {
			switch {
			case cb.Malformed && cb.Defect == DefectTruncated:
				if json.Valid(cb.Body) {
					t.Fatalf("callback %d: truncated body is valid JSON: %s", i, cb.Body)
				}
			case cb.Malformed && cb.Defect == DefectWrongEnvelope:
				// JSON or form data, but never a known envelope: see TestMalformed.
			default:
				if !json.Valid(cb.Body) {
					t.Fatalf("callback %d (%s): invalid JSON: %s", i, cb.Kind, cb.Body)
				}
				if cb.Envelope != opts.Envelope {
					t.Fatalf("callback %d: envelope %q, want %q", i, cb.Envelope, opts.Envelope)
				}
			}
		}
	})
}

func TestSameSeedSameBytes(t *testing.T) {
	t.Parallel()
	opts := Options{MessagesPerCallback: 3, MalformedShare: 0.1}
	a, b := generate(42, opts, 2000), generate(42, opts, 2000)
	for i := range a {
		if !bytes.Equal(a[i].Body, b[i].Body) {
			t.Fatalf("callback %d differs between two runs with the same seed:\n%s\n%s", i, a[i].Body, b[i].Body)
		}
		if !slices.Equal(a[i].MessageIDs, b[i].MessageIDs) {
			t.Fatalf("callback %d: message ids differ", i)
		}
	}
	c := generate(43, opts, 1)
	if bytes.Equal(a[0].Body, c[0].Body) {
		t.Fatal("seeds 42 and 43 produced the same first body")
	}
}

func TestAllKindsAppear(t *testing.T) {
	t.Parallel()
	for _, env := range envelopes {
		t.Run(string(env), func(t *testing.T) {
			kinds := map[Kind]int{}
			statuses := map[string]int{}
			interactive := map[string]int{}
			for _, cb := range generate(1, Options{Envelope: env}, 4000) {
				kinds[cb.Kind]++
				for _, k := range cb.StatusKeys {
					statuses[k.Status]++
				}
				if cb.Kind == KindButtonReply || cb.Kind == KindListReply || cb.Kind == KindNFMReply {
					for _, m := range mustParse(t, cb.Body).messages() {
						interactive[m.Interactive.Type]++
					}
				}
			}
			for _, k := range Kinds() {
				if kinds[k] == 0 {
					t.Errorf("kind %q never appeared in 4000 callbacks: %v", k, kinds)
				}
			}
			want := []string{"sent", "delivered", "read", "failed"}
			if env == callback.EnvelopeKaleyra {
				want = append(want, "not-sent")
			} else if statuses["not-sent"] > 0 {
				t.Errorf("Meta envelope carried Kaleyra's not-sent status")
			}
			for _, s := range want {
				if statuses[s] == 0 {
					t.Errorf("status %q never appeared: %v", s, statuses)
				}
			}
			for _, s := range []string{"button_reply", "list_reply", "nfm_reply"} {
				if interactive[s] == 0 {
					t.Errorf("interactive %q never appeared", s)
				}
			}
		})
	}
}

func TestMixIsHonoured(t *testing.T) {
	opts := Options{Mix: map[Kind]float64{KindOrder: 3, KindStatus: 1}}
	counts := map[Kind]int{}
	for _, cb := range generate(5, opts, 4000) {
		counts[cb.Kind]++
	}
	if len(counts) != 2 {
		t.Fatalf("kinds = %v, want only order and status", counts)
	}
	if share := float64(counts[KindOrder]) / 4000; share < 0.70 || share > 0.80 {
		t.Errorf("order share = %.3f, want about 0.75", share)
	}
}

func TestIDsUnique(t *testing.T) {
	t.Parallel()
	for _, env := range envelopes {
		t.Run(string(env), func(t *testing.T) {
			ids := map[string]bool{}
			keys := map[StatusKey]bool{}
			opts := Options{Envelope: env, MessagesPerCallback: 3, MalformedShare: 0.05}
			for i, cb := range generate(9, opts, 5000) {
				for _, id := range slices.Concat(cb.MessageIDs, cb.DefectiveIDs) {
					if ids[id] {
						t.Fatalf("callback %d: message id %s repeats", i, id)
					}
					ids[id] = true
					if !strings.HasPrefix(id, "wamid.") || !bytes.Contains(cb.Body, []byte(`"`+id+`"`)) {
						t.Fatalf("callback %d: id %q is not a wamid in the body", i, id)
					}
				}
				for _, k := range cb.StatusKeys {
					if keys[k] {
						t.Fatalf("callback %d: status key %v repeats", i, k)
					}
					keys[k] = true
				}
			}
			// Ids of one seed must not be those of another.
			other := generate(10, opts, 200)
			for _, cb := range other {
				for _, id := range cb.MessageIDs {
					if ids[id] {
						t.Fatalf("seed 10 repeated id %s of seed 9", id)
					}
				}
			}
		})
	}
}

// TestBodiesSayWhatCallbackSays reads each body independently and checks it
// against the ids, statuses and orders the Callback reports.
func TestBodiesSayWhatCallbackSays(t *testing.T) {
	t.Parallel()
	eachEnvelope(t, []int{1, 5}, Options{MaxItems: 30}, func(t *testing.T, opts Options) {
		for i, cb := range generate(11, opts, 1000) {
			b := mustParse(t, cb.Body)
			if opts.Envelope == callback.EnvelopeMeta && b.Object != "whatsapp_business_account" {
				t.Fatalf("callback %d: object = %q", i, b.Object)
			}
			if opts.Envelope == callback.EnvelopeKaleyra && (b.MetaObject == nil || b.MetaObject.Field != "messages" || b.ExtraInfo == nil) {
				t.Fatalf("callback %d: not a Kaleyra envelope: %s", i, cb.Body)
			}
			checkMessages(t, i, cb, b, opts.MessagesPerCallback)
			checkStatuses(t, i, cb, b, opts.Envelope, opts.MessagesPerCallback)
		}
	})
}

func checkMessages(t *testing.T, i int, cb Generated, b *tBody, batch int) {
	t.Helper()
	msgs := b.messages()
	if cb.Kind == KindStatus {
		if len(msgs) != 0 || len(cb.MessageIDs) != 0 {
			t.Fatalf("callback %d: status callback with messages", i)
		}
		return
	}
	if len(msgs) != batch {
		t.Fatalf("callback %d: %d messages, want %d", i, len(msgs), batch)
	}
	var gotIDs []string
	for _, m := range msgs {
		gotIDs = append(gotIDs, m.ID)
	}
	if !slices.Equal(gotIDs, cb.MessageIDs) {
		t.Fatalf("callback %d: body ids %v, callback says %v", i, gotIDs, cb.MessageIDs)
	}
	for _, v := range b.values() {
		if cb.Kind == KindSystem && len(v.Contacts) != 0 {
			t.Fatalf("callback %d: system message with contacts", i)
		}
		if cb.Kind != KindSystem {
			for _, m := range v.Messages {
				if !slices.ContainsFunc(v.Contacts, func(c tContact) bool { return c.WaID == m.From }) {
					t.Fatalf("callback %d: sender %s not among contacts", i, m.From)
				}
			}
		}
	}
	var orders []ExpectedOrder
	for _, m := range msgs {
		if m.Order != nil {
			orders = append(orders, ExpectedOrder{MessageID: m.ID, Totals: totals(t, m.Order.Items), Items: len(m.Order.Items)})
		}
	}
	if fmt.Sprint(orders) != fmt.Sprint(cb.Orders) {
		t.Fatalf("callback %d: orders in body %v, callback says %v", i, orders, cb.Orders)
	}
}

func totals(t *testing.T, items []tItem) []money.Amount {
	t.Helper()
	var out []money.Amount
	for _, it := range items {
		price, err := money.Parse(it.ItemPrice.String(), it.Currency)
		if err != nil {
			t.Fatalf("item %s: %v", it.SKU, err)
		}
		q, err := it.Quantity.Int64()
		if err != nil || q <= 0 {
			t.Fatalf("item %s: quantity %s", it.SKU, it.Quantity)
		}
		if len(out) == 0 {
			out = append(out, money.Amount{Currency: it.Currency})
		}
		if out[0].Currency != it.Currency {
			t.Fatalf("mixed currencies in one order: %s and %s", out[0].Currency, it.Currency)
		}
		out[0].Minor += q * price.Minor
	}
	return out
}

func checkStatuses(t *testing.T, i int, cb Generated, b *tBody, env callback.Envelope, batch int) {
	t.Helper()
	sts := b.statuses()
	if cb.Kind != KindStatus {
		if len(sts) != 0 {
			t.Fatalf("callback %d: message callback with statuses", i)
		}
		return
	}
	want := batch
	if env == callback.EnvelopeKaleyra {
		want = 1
	}
	if len(sts) != want || len(cb.StatusKeys) != want {
		t.Fatalf("callback %d: %d statuses, %d keys, want %d", i, len(sts), len(cb.StatusKeys), want)
	}
	for j, s := range sts {
		key := cb.StatusKeys[j]
		if s.Status != key.Status {
			t.Fatalf("callback %d: status %q, key says %q", i, s.Status, key.Status)
		}
		if env == callback.EnvelopeMeta && s.ID != key.MessageID {
			t.Fatalf("callback %d: Meta status id %q, key says %q", i, s.ID, key.MessageID)
		}
	}
	if env == callback.EnvelopeKaleyra {
		if b.Status != sts[0].Status || b.MessageID != cb.StatusKeys[0].MessageID || b.ExtraInfo["message_id"] != b.MessageID {
			t.Fatalf("callback %d: top-level status/message_id disagree with the status: %s", i, cb.Body)
		}
	}
}

// TestStatusesArriveOutOfOrder checks that, as in real traffic, some
// messages get a later status delivered before an earlier one, and that
// each message's statuses are otherwise coherent.
func TestStatusesArriveOutOfOrder(t *testing.T) {
	t.Parallel()
	rank := map[string]int{"sent": 1, "delivered": 2, "read": 3}
	seen := map[string]int{}
	outOfOrder := 0
	for _, cb := range generate(3, Options{Mix: map[Kind]float64{KindStatus: 1}}, 5000) {
		for _, k := range cb.StatusKeys {
			if r := rank[k.Status]; r > 0 && seen[k.MessageID] > r {
				outOfOrder++
			}
			seen[k.MessageID] = max(seen[k.MessageID], rank[k.Status])
		}
	}
	if outOfOrder == 0 {
		t.Fatal("no status arrived after a later one")
	}
	if outOfOrder > 1000 {
		t.Fatalf("%d of 5000 statuses out of order: too many to be realistic", outOfOrder)
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	seen := map[Defect]int{}
	for i, cb := range generate(21, Options{MalformedShare: 1, MessagesPerCallback: 3}, 2000) {
		if !cb.Malformed || cb.Defect == "" {
			t.Fatalf("callback %d: share 1 gave a well-formed callback", i)
		}
		seen[cb.Defect]++
		switch cb.Defect {
		case DefectTruncated:
			if json.Valid(cb.Body) || len(cb.MessageIDs) != 0 {
				t.Fatalf("callback %d: truncated body is valid or claims ids", i)
			}
		case DefectWrongEnvelope:
			if len(cb.MessageIDs) != 0 || cb.Envelope != "" {
				t.Fatalf("callback %d: wrong envelope claims ids or an envelope", i)
			}
			var b tBody
			if json.Unmarshal(cb.Body, &b) == nil && (b.MetaObject != nil || b.Object != "") {
				t.Fatalf("callback %d: wrong envelope is a known one: %s", i, cb.Body)
			}
		default:
			checkDefectiveOrder(t, i, cb)
		}
	}
	for _, d := range Defects() {
		if seen[d] == 0 {
			t.Errorf("defect %q never appeared: %v", d, seen)
		}
	}
}

// checkDefectiveOrder checks that exactly the messages named defective carry
// the defect, and the others are usable orders.
func checkDefectiveOrder(t *testing.T, i int, cb Generated) {
	t.Helper()
	if cb.Kind != KindOrder || len(cb.DefectiveIDs) != 1 || len(cb.MessageIDs) != 2 {
		t.Fatalf("callback %d: %s with %d defective and %d usable ids", i, cb.Defect, len(cb.DefectiveIDs), len(cb.MessageIDs))
	}
	for _, m := range mustParse(t, cb.Body).messages() {
		bad := 0
		for _, it := range m.Order.Items {
			digits, known := money.Digits(it.Currency)
			_, priceErr := money.Parse(it.ItemPrice.String(), it.Currency)
			switch {
			case it.Quantity.String() == "0" && cb.Defect == DefectZeroQuantity,
				!known && cb.Defect == DefectUnknownCurrency,
				known && priceErr != nil && cb.Defect == DefectTooPrecise && digits >= 0:
				bad++
			case it.Quantity.String() == "0" || !known || priceErr != nil:
				t.Fatalf("callback %d: item %+v broken in an unexpected way for %s", i, it, cb.Defect)
			}
		}
		want := 0
		if m.ID == cb.DefectiveIDs[0] {
			want = 1
		}
		if bad != want {
			t.Fatalf("callback %d: message %s has %d broken items, want %d: %s", i, m.ID, bad, want, cb.Body)
		}
	}
}

// TestNamesRoundTrip checks that every profile name, hostile and
// non-ASCII ones included, reaches the body intact, and that the default
// customer pool carries hostile names now and then.
func TestNamesRoundTrip(t *testing.T) {
	t.Parallel()
	g := New(2, Options{Mix: map[Kind]float64{KindText: 1}})
	for _, name := range slices.Concat(plainNames, hostileNames) {
		for i := range g.customers {
			g.customers[i].name, g.customers[i].profile = name, true
		}
		v := mustParse(t, g.Next().Body).values()[0]
		if v.Contacts[0].Profile == nil || v.Contacts[0].Profile.Name != name {
			t.Errorf("name %q came out as %+v", name, v.Contacts[0])
		}
	}
	hostile := 0
	for _, c := range New(2, Options{}).customers {
		if slices.Contains(hostileNames, c.name) {
			hostile++
		}
	}
	if hostile < 10 || hostile > 60 {
		t.Errorf("%d hostile names among 1000 customers, want about 30", hostile)
	}
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		in      string
		want    map[Kind]float64
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "order=60, status=40", want: map[Kind]float64{KindOrder: 60, KindStatus: 40}},
		{in: "order=1,text=0.5", want: map[Kind]float64{KindOrder: 1, KindText: 0.5}},
		{in: "orders=1", wantErr: true},
		{in: "order", wantErr: true},
		{in: "order=-1", wantErr: true},
		{in: "order=x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseMix(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMix(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ParseMix(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"Zero", Options{}, true},
		{"Meta", Options{Envelope: callback.EnvelopeMeta, MessagesPerCallback: 10}, true},
		{"NegativeBatch", Options{MessagesPerCallback: -1}, false},
		{"ShareAboveOne", Options{MalformedShare: 1.5}, false},
		{"UnknownEnvelope", Options{Envelope: "sms"}, false},
		{"UnknownKind", Options{Mix: map[Kind]float64{"poll": 1}}, false},
	}
	for _, tt := range tests {
		if err := tt.opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []string{
		"", "plain", `quote " and \ backslash`, "tab\tnewline\nreturn\r", "\x00\x01\x1f\x7f",
		"山田 太郎 👩🏽‍💻", "\u2028\u2029", "<script>&</script>", "bad \xff utf-8",
	}
	for _, s := range tests {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("appendJSONString(%q) = %s: %v", s, b, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if got != want {
			t.Errorf("appendJSONString(%q) round-trips to %q, want %q", s, got, want)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		minor  int64
		digits int
		short  bool
		want   string
	}{
		{160000, 2, true, "1600"},
		{160000, 2, false, "1600.00"},
		{1290, 2, true, "12.9"},
		{1699, 2, true, "16.99"},
		{5, 2, false, "0.05"},
		{3125, 3, true, "3.125"},
		{2500, 3, true, "2.5"},
		{1980, 0, true, "1980"},
		{-150, 2, false, "-1.50"},
	}
	for _, tt := range tests {
		if got := formatMinor(tt.minor, tt.digits, tt.short); got != tt.want {
			t.Errorf("formatMinor(%d, %d, %v) = %q, want %q", tt.minor, tt.digits, tt.short, got, tt.want)
		}
	}
}

func TestUnknownCurrenciesAreUnknown(t *testing.T) {
	for _, c := range unknownCurrencies {
		if money.Known(c) {
			t.Errorf("%q is a known currency; the unknown-currency defect would not be one", c)
		}
	}
}
