package testkit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/testkit"
)

// TestContractExamples rebuilds the contract's examples (callback/testdata
// i1-i9) with the builder: the bytes must equal the examples, compacted.
func TestContractExamples(t *testing.T) {
	t.Parallel()
	at := func(unix int64) time.Time { return time.Unix(unix, 0) }
	confirm := "wamid.TESTCONFIRM0000000000000000001"
	tests := []struct {
		file string
		body *testkit.Body
	}{
		{"i1_order_inr.json", testkit.Kaleyra(
			testkit.Order("wamid.TESTORDER00000000000000000001").Context("919800000001", "wamid.TESTCATALOGMSG000000000000001").
				OrderText("Please deliver after 6pm").
				Item("SKU-SHIRT-M", 2, "1600", "INR").Item("SKU-PANT-32", 1, "2000", "INR"),
		).Refs("cart-campaign-0001", "catalog-send-0001", "").ReplyTo("00000000-0000-4000-8000-000000000001").
			TraceID("00000000-0000-4000-8000-00000000aaa1")},
		{"i2_order_usd_decimal.json", testkit.Kaleyra(
			testkit.Order("wamid.TESTORDER00000000000000000002").From("15550000099").Name("Test Buyer Two").
				At(at(1767225700)).CatalogID("2234567890123456").
				Item("mug-blue", 3, "16.99", "USD").Item("coaster-set", 1, "7.5", "USD"),
		).DisplayPhone("15550000001").PhoneNumberID("100000000000002").WABAID("200000000000002").
			TraceID("00000000-0000-4000-8000-00000000aaa2")},
		{"i3_order_eur_no_name.json", testkit.Kaleyra(
			testkit.Order("wamid.TESTORDER00000000000000000003").From("491700000077").NoProfile().
				Context("491700000001", "wamid.TESTCATALOGMSG000000000000003").At(at(1767225800)).
				CatalogID("3234567890123456").OrderText("").Item("coffee-250g", 4, "12.9", "EUR"),
		).DisplayPhone("491700000001").PhoneNumberID("100000000000003").WABAID("200000000000003").
			Refs("spring-promo", "segment-b", "batch-17").ReplyTo("00000000-0000-4000-8000-000000000003").
			TraceID("00000000-0000-4000-8000-00000000aaa3")},
		{"i4_text_reply.json", testkit.Kaleyra(
			testkit.Text("wamid.TESTTEXT000000000000000000001", "Can you change the shirt size to L?").
				Context("919800000001", confirm).At(at(1767226000)),
		).Refs("order-wamid.TESTORDER00000000000000000001", "confirmation", "").
			ReplyTo("00000000-0000-4000-8000-000000000101").TraceID("00000000-0000-4000-8000-00000000aaa4")},
		{"i5_button_reply.json", testkit.Kaleyra(
			testkit.ButtonReply("wamid.TESTBUTTON0000000000000000001", "confirm-order-0001", "Confirm").
				Context("919800000001", confirm).At(at(1767226100)),
		).Refs("order-wamid.TESTORDER00000000000000000001", "confirmation", "").
			ReplyTo("00000000-0000-4000-8000-000000000101").TraceID("00000000-0000-4000-8000-00000000aaa5")},
		{"i6_status_delivered.json", testkit.Kaleyra().Statuses(
			testkit.Delivered(confirm).At(at(1767225905)).Pricing(false, "PMP", "free_customer_service", "service"),
		).Refs("order-wamid.TESTORDER00000000000000000001", "confirmation", "").
			TraceID("00000000-0000-4000-8000-00000000aaa6")},
		{"i7_status_failed.json", testkit.Kaleyra().Statuses(
			testkit.Failed("wamid.TESTCONFIRM0000000000000000002", 131047, "Re-engagement message",
				"More than 24 hours have passed since the recipient last replied.").
				At(at(1767227000)).Recipient("919900000002"),
		).Refs("order-wamid.TESTORDER00000000000000000009", "confirmation", "").
			TraceID("00000000-0000-4000-8000-00000000aaa7")},
		{"i8_meta_order.json", testkit.Meta(
			testkit.Order("wamid.TESTORDER00000000000000000004").From("15550000099").Name("Test Buyer Two").
				At(at(1767228000)).CatalogID("2234567890123456").OrderText("Gift wrap please").
				Item("mug-blue", 1, "16.99", "USD"),
		).DisplayPhone("15550000001").PhoneNumberID("100000000000002").WABAID("200000000000002")},
		{"i9_meta_statuses.json", testkit.Meta().Statuses(
			testkit.Read("wamid.TESTCONFIRM0000000000000000010").At(at(1767228100)).Recipient("15550000099"),
			testkit.Sent("wamid.TESTCONFIRM0000000000000000011").At(at(1767228090)).Recipient("15550000099").
				Pricing(true, "PMP", "regular", "utility"),
		).DisplayPhone("15550000001").PhoneNumberID("100000000000002").WABAID("200000000000002")},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(filepath.Join("..", "..", "callback", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, want); err != nil {
				t.Fatal(err)
			}
			if got := tt.body.Bytes(); !bytes.Equal(got, compact.Bytes()) {
				t.Errorf("built body differs from %s:\n got %s\nwant %s", tt.file, got, compact.Bytes())
			}
		})
	}
}

// decoded is what a test expects callback.Decode to find in a body.
type decoded struct {
	envelope               callback.Envelope
	ref, ref1, ref2        string
	replyTo, traceID, waba string
	phoneNumberID          string
	messages               []string // "id type from name" per message
	items                  []string // "id product quantity unit-price line-total" per line
	totals                 []string // "id total..." per order
	texts                  []string // text bodies and button replies
	statuses               []string // "id status recipient errors"
}

func decode(t *testing.T, body []byte) decoded {
	t.Helper()
	cb, err := callback.Decode(body)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, body)
	}
	d := decoded{envelope: cb.Envelope}
	for _, ch := range cb.Changes {
		d.phoneNumberID = ch.Metadata.PhoneNumberID
		d.waba = ch.WABAID
		if ch.Extra != nil {
			x := ch.Extra
			d.ref, d.ref1, d.ref2, d.replyTo, d.traceID, d.waba = x.Ref, x.Ref1, x.Ref2, x.ReplyTo, x.TraceID, x.WABAID
		}
		for _, m := range ch.Messages {
			for _, p := range m.Problems {
				t.Errorf("%s: problem %+v", m.ID, p)
			}
			name := "-"
			if c := ch.Contact(m.From); c != nil {
				name = c.Name
			}
			d.messages = append(d.messages, fmt.Sprintf("%s %s %s %s %d", m.ID, m.Type, m.From, name, m.Timestamp.Unix()))
			switch {
			case m.Order != nil:
				for _, it := range m.Order.Items {
					d.items = append(d.items, fmt.Sprintf("%s %s %d %s %s", m.ID, it.ProductRetailerID, it.Quantity, it.UnitPrice, it.LineTotal))
				}
				d.totals = append(d.totals, fmt.Sprint(m.ID, " ", m.Order.Totals))
			case m.Text != nil:
				d.texts = append(d.texts, m.Text.Body)
			case m.Interactive != nil && m.Interactive.ButtonReply != nil:
				d.texts = append(d.texts, m.Interactive.ButtonReply.ID+" "+m.Interactive.ButtonReply.Title)
			}
		}
		for _, s := range ch.Statuses {
			var errs []int64
			for _, e := range s.Errors {
				errs = append(errs, e.Code)
			}
			d.statuses = append(d.statuses, fmt.Sprintf("%s %s %s %v %d", s.MessageID, s.Status, s.RecipientID, errs, s.Timestamp.Unix()))
		}
	}
	return d
}

// TestBuildersDecode: what every builder is given is what callback.Decode
// reads back: ids, senders, items, money, refs, statuses.
func TestBuildersDecode(t *testing.T) {
	t.Parallel()
	t1 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		body *testkit.Body
		want decoded
	}{
		{
			name: "KaleyraDefaultOrder",
			body: testkit.Kaleyra(testkit.Order("wamid.A")),
			want: decoded{
				envelope: callback.EnvelopeKaleyra, traceID: testkit.TraceID, waba: testkit.WABAID, phoneNumberID: testkit.PhoneNumberID,
				messages: []string{"wamid.A order 919900000001 Test Buyer One 1767225600"},
				items:    []string{"wamid.A SKU-SHIRT-M 2 1600.00 INR 3200.00 INR", "wamid.A SKU-PANT-32 1 2000.00 INR 2000.00 INR"},
				totals:   []string{"wamid.A [5200.00 INR]"},
			},
		},
		{
			name: "KaleyraOrdersWithOverrides",
			body: testkit.Kaleyra(
				testkit.Order("wamid.B1").From("15550000099").Name("Asha <&> Rao").At(t1).Item("mug", 3, "16.99", "USD").Item("coaster", 1, "7.5", "USD"),
				testkit.Order("wamid.B2").From("491700000077").NoProfile().Item("coffee", 4, "12.9", "EUR").Item("yen", 2, "500", "JPY"),
			).Refs("r", "r1", "r2").ReplyTo("reply-uuid").TraceID("trace-b").WABAID("waba-b").PhoneNumberID("pn-b"),
			want: decoded{
				envelope: callback.EnvelopeKaleyra, ref: "r", ref1: "r1", ref2: "r2", replyTo: "reply-uuid", traceID: "trace-b", waba: "waba-b", phoneNumberID: "pn-b",
				messages: []string{"wamid.B1 order 15550000099 Asha <&> Rao 1767607200", "wamid.B2 order 491700000077  1767225600"},
				items: []string{"wamid.B1 mug 3 16.99 USD 50.97 USD", "wamid.B1 coaster 1 7.50 USD 7.50 USD",
					"wamid.B2 coffee 4 12.90 EUR 51.60 EUR", "wamid.B2 yen 2 500 JPY 1000 JPY"},
				totals: []string{"wamid.B1 [58.47 USD]", "wamid.B2 [51.60 EUR 1000 JPY]"},
			},
		},
		{
			name: "KaleyraTextAndButton",
			body: testkit.Kaleyra(
				testkit.Text("wamid.T", "change size to L").Context(testkit.DisplayPhone, "wamid.CONFIRM"),
				testkit.ButtonReply("wamid.BTN", "confirm-1", "Confirm"),
			).Ref("order-1"),
			want: decoded{
				envelope: callback.EnvelopeKaleyra, ref: "order-1", traceID: testkit.TraceID, waba: testkit.WABAID, phoneNumberID: testkit.PhoneNumberID,
				messages: []string{"wamid.T text 919900000001 Test Buyer One 1767225600", "wamid.BTN interactive 919900000001 Test Buyer One 1767225600"},
				texts:    []string{"change size to L", "confirm-1 Confirm"},
			},
		},
		{
			name: "KaleyraStatuses",
			body: testkit.Kaleyra().Statuses(
				testkit.Failed("wamid.S1", 131047, "Re-engagement message", "24 hours").Recipient("919900000002").At(t1),
			).Refs("r", "", ""),
			want: decoded{
				envelope: callback.EnvelopeKaleyra, ref: "r", traceID: testkit.TraceID, waba: testkit.WABAID, phoneNumberID: testkit.PhoneNumberID,
				statuses: []string{"wamid.S1 failed 919900000002 [131047] 1767607200"},
			},
		},
		{
			name: "KaleyraRawParts",
			body: testkit.Kaleyra().Contact("919900000005", "Raw <Name>").
				RawMessage(`{"from":"919900000005","id":"wamid.R","timestamp":"1767225600","type":"text","text":{"body":` + testkit.Quote("a & b") + `}}`),
			want: decoded{
				envelope: callback.EnvelopeKaleyra, traceID: testkit.TraceID, waba: testkit.WABAID, phoneNumberID: testkit.PhoneNumberID,
				messages: []string{"wamid.R text 919900000005 Raw <Name> 1767225600"},
				texts:    []string{"a & b"},
			},
		},
		{
			name: "KaleyraRawStatus",
			body: testkit.Kaleyra().RawStatus(`{"id":"wamid.RS","status":"read","timestamp":"1767225600","recipient_id":"919900000001"}`),
			want: decoded{
				envelope: callback.EnvelopeKaleyra, traceID: testkit.TraceID, waba: testkit.WABAID, phoneNumberID: testkit.PhoneNumberID,
				statuses: []string{"wamid.RS read 919900000001 [] 1767225600"},
			},
		},
		{
			name: "MetaOrderAndText",
			body: testkit.Meta(
				testkit.Order("wamid.M1").Item("mug-blue", 1, "16.99", "USD"),
				testkit.Text("wamid.M2", "hi").From("15550000099").Name("Two"),
			).WABAID("waba-m"),
			want: decoded{
				envelope: callback.EnvelopeMeta, waba: "waba-m", phoneNumberID: testkit.PhoneNumberID,
				messages: []string{"wamid.M1 order 919900000001 Test Buyer One 1767225600", "wamid.M2 text 15550000099 Two 1767225600"},
				items:    []string{"wamid.M1 mug-blue 1 16.99 USD 16.99 USD"},
				totals:   []string{"wamid.M1 [16.99 USD]"},
				texts:    []string{"hi"},
			},
		},
		{
			name: "MetaStatuses",
			body: testkit.Meta().Statuses(
				testkit.Sent("wamid.S1").Pricing(true, "PMP", "regular", "utility"),
				testkit.Delivered("wamid.S1"), testkit.Read("wamid.S1"),
				testkit.Failed("wamid.S2", 131026, "Message undeliverable", "not on WhatsApp"),
			),
			want: decoded{
				envelope: callback.EnvelopeMeta, waba: testkit.WABAID, phoneNumberID: testkit.PhoneNumberID,
				statuses: []string{"wamid.S1 sent 919900000001 [] 1767225600", "wamid.S1 delivered 919900000001 [] 1767225600",
					"wamid.S1 read 919900000001 [] 1767225600", "wamid.S2 failed 919900000001 [131026] 1767225600"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := decode(t, tt.body.Bytes())
			if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", tt.want); g != w {
				t.Errorf("decoded\n got %s\nwant %s\nbody %s", g, w, tt.body)
			}
			if !bytes.Equal(tt.body.Bytes(), tt.body.Bytes()) {
				t.Error("Bytes is not deterministic")
			}
		})
	}
}

// TestRawItemsReachTheDecoder: RawItem writes what a builder of valid
// bodies cannot, and the decoder sees exactly that.
func TestRawItemsReachTheDecoder(t *testing.T) {
	t.Parallel()
	body := testkit.Kaleyra(testkit.Order("wamid.RAW").RawItem(`"sku"`, `0`, `10`, `"INR"`)).Bytes()
	cb, err := callback.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	m := cb.Messages()[0]
	if m.Usable() || len(m.Problems) == 0 || m.Problems[0].Code != callback.CodeInvalidQuantity {
		t.Errorf("problems %+v, want invalid_quantity", m.Problems)
	}
	if !bytes.Contains(body, []byte(`{"product_retailer_id":"sku","quantity":0,"item_price":10,"currency":"INR"}`)) {
		t.Errorf("raw item not written as given: %s", body)
	}
}

func TestSignAgreesWithCallback(t *testing.T) {
	t.Parallel()
	body := testkit.Meta(testkit.Order("wamid.SIG")).Bytes()
	if got, want := testkit.SignMeta(body), callback.Sign(body, testkit.MetaAppSecret); got != want {
		t.Errorf("SignMeta = %s, callback.Sign = %s", got, want)
	}
	if !callback.VerifySignature(body, testkit.Meta(testkit.Order("wamid.SIG")).Signature(), testkit.MetaAppSecret) {
		t.Error("Body.Signature does not verify")
	}
	if testkit.SignatureHeader != callback.SignatureHeader {
		t.Errorf("SignatureHeader %q, callback's %q", testkit.SignatureHeader, callback.SignatureHeader)
	}
}

func TestMetaBodyRefusesKaleyraFields(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("Ref on a Meta body did not panic")
		}
	}()
	testkit.Meta().Ref("x")
}

// TestRawItemsAreSentExactly: RawItems replaces the lines with exactly the
// elements given, none included (then product_items is empty, not the
// default lines).
func TestRawItemsAreSentExactly(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		elems []string
		want  string
	}{
		{nil, `"product_items":[]`},
		{[]string{`"not an item"`, `{"a":1,"a":2}`}, `"product_items":["not an item",{"a":1,"a":2}]`},
	} {
		body := testkit.Kaleyra(testkit.Order("wamid.RAWITEMS").RawItems(tt.elems...)).Bytes()
		if !bytes.Contains(body, []byte(tt.want)) {
			t.Errorf("RawItems(%q): body %s has no %s", tt.elems, body, tt.want)
		}
	}
}
