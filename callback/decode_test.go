package callback

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/money"
)

// TestGolden decodes every body in testdata and compares the result with
// its golden file. Run with -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	for _, name := range bodies(t) {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(name, "testdata/"), ".json"), func(t *testing.T) {
			body := mustRead(t, name)
			got := render(t, mustDecode(t, body))
			golden := strings.TrimSuffix(name, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := mustRead(t, golden)
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the decoded body (run go test -update to accept):\n%s", golden, firstDiff(got, want))
			}
		})
	}
}

// TestSeedIsTheProvidersSample checks that the seed body is byte for byte
// the sample on Kaleyra's page, tabs and trailing spaces included.
func TestSeedIsTheProvidersSample(t *testing.T) {
	page, err := os.ReadFile("../../shared/spec/kaleyra-interactive-catalogue-message.txt")
	if err != nil {
		t.Skipf("provider page not available: %v", err)
	}
	seed := mustRead(t, "testdata/kaleyra_seed.json")
	if !bytes.Contains(page, seed) || !bytes.Contains(seed, []byte("\t")) {
		t.Fatal("testdata/kaleyra_seed.json is not the sample of the provider's page, byte for byte")
	}
}

// TestSeedAcceptance is the acceptance example.
func TestSeedAcceptance(t *testing.T) {
	body := mustRead(t, "testdata/kaleyra_seed.json")
	cb := mustDecode(t, body)

	if cb.Envelope != EnvelopeKaleyra || len(cb.Changes) != 1 {
		t.Fatalf("Envelope = %q with %d changes, want kaleyra with 1", cb.Envelope, len(cb.Changes))
	}
	ch := cb.Changes[0]
	if ch.Path != "meta_object.value" || ch.Field != "messages" || ch.WABAID != "347XXXXXXXXXX69" {
		t.Errorf("change = %q %q %q", ch.Path, ch.Field, ch.WABAID)
	}
	x := ch.Extra
	if x == nil {
		t.Fatal("extra_info lost")
	}
	want := ExtraInfo{
		Ref: "Hello This will be my reference id - 123", Ref1: "shoes campaign", Ref2: "summer sale campaign",
		ReplyTo: "48c38d78-4ec5-XXXX-abee-03XXXXXX6c85", TraceID: "cb94fee2-3e70-XXXX-944a-2a4XXXXdb90a",
		WABAID: "347XXXXXXXXXX69",
	}
	if *x != want {
		t.Errorf("Extra = %+v, want %+v", *x, want)
	}
	if c := ch.Contact("919XXXXXXXX5"); c == nil || c.Name != "Sam" {
		t.Errorf("Contact(919XXXXXXXX5) = %+v", c)
	}

	msgs := cb.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if !m.Usable() || m.Order == nil || len(m.Order.Items) != 2 {
		t.Fatalf("order not usable with 2 items: %+v", m)
	}
	if got := m.Order.Totals; len(got) != 1 || got[0] != (money.Amount{Currency: "INR", Minor: 360000}) || got[0].Decimal() != "3600.00" {
		t.Errorf("Totals = %v, want [3600.00 INR]", got)
	}
	if m.Order.CatalogID != "3294XXXXXXXX2474" || m.Order.Text != "message" {
		t.Errorf("order = %q %q", m.Order.CatalogID, m.Order.Text)
	}
	if len(m.Problems) != 1 {
		t.Fatalf("Problems = %+v, want one timestamp warning", m.Problems)
	}
	p := m.Problems[0]
	if p.Severity != SeverityWarning || p.Code != CodeInvalidTimestamp || p.Path != "meta_object.value.messages[0].timestamp" {
		t.Errorf("problem = %+v", p)
	}
	if !m.Timestamp.IsZero() || m.RawTimestamp != "17XXXXXXXX" {
		t.Errorf("Timestamp = %v, RawTimestamp = %q", m.Timestamp, m.RawTimestamp)
	}
	start := bytes.Index(body, []byte(`{
                    "from"`))
	end := bytes.Index(body, []byte("\n            ]\n        },"))
	if start < 0 || end < 0 || !bytes.Equal(m.Raw, bytes.TrimSpace(body[start:end])) {
		t.Errorf("Raw is not the message's exact bytes:\n%s", m.Raw)
	}
	if got := m.Summary(); got != "order: 2 items, 3600.00 INR" {
		t.Errorf("Summary = %q", got)
	}
}

// TestContractExamples checks the figures the contract states for its
// examples in section (i).
func TestContractExamples(t *testing.T) {
	tests := []struct {
		file   string
		totals []money.Amount
	}{
		{"i1_order_inr", []money.Amount{{Currency: "INR", Minor: 520000}}},
		{"i2_order_usd_decimal", []money.Amount{{Currency: "USD", Minor: 5847}}},
		{"i3_order_eur_no_name", []money.Amount{{Currency: "EUR", Minor: 5160}}},
		{"i8_meta_order", []money.Amount{{Currency: "USD", Minor: 1699}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cb := mustDecode(t, mustRead(t, "testdata/"+tt.file+".json"))
			m := cb.Messages()[0]
			if !m.Usable() || len(m.Problems) != 0 {
				t.Fatalf("Problems = %+v", m.Problems)
			}
			got := m.Order.Totals
			if len(got) != len(tt.totals) {
				t.Fatalf("Totals = %v, want %v", got, tt.totals)
			}
			for i := range got {
				if got[i] != tt.totals[i] {
					t.Errorf("Totals = %v, want %v", got, tt.totals)
				}
			}
		})
	}

	t.Run("i4_text_reply", func(t *testing.T) {
		m := mustDecode(t, mustRead(t, "testdata/i4_text_reply.json")).Messages()[0]
		if m.Text == nil || m.Text.Body != "Can you change the shirt size to L?" || m.Context == nil || m.Context.ID != "wamid.TESTCONFIRM0000000000000000001" {
			t.Errorf("text reply = %+v", m)
		}
		if want := time.Date(2026, 1, 1, 0, 6, 40, 0, time.UTC); !m.Timestamp.Equal(want) || m.Timestamp.Location() != time.UTC {
			t.Errorf("Timestamp = %v, want %v", m.Timestamp, want)
		}
	})
	t.Run("i5_button_reply", func(t *testing.T) {
		m := mustDecode(t, mustRead(t, "testdata/i5_button_reply.json")).Messages()[0]
		in := m.Interactive
		if in == nil || in.Type != "button_reply" || in.ButtonReply == nil || *in.ButtonReply != (ButtonReply{ID: "confirm-order-0001", Title: "Confirm"}) {
			t.Errorf("interactive = %+v", in)
		}
	})
	t.Run("i6_status_delivered", func(t *testing.T) {
		cb := mustDecode(t, mustRead(t, "testdata/i6_status_delivered.json"))
		s := cb.Statuses()[0]
		if s.Status != StatusDelivered || s.MessageID != "wamid.TESTCONFIRM0000000000000000001" || !s.Usable() {
			t.Errorf("status = %+v", s)
		}
		if s.Pricing == nil || s.Pricing.Billable == nil || *s.Pricing.Billable || s.Pricing.PricingModel != "PMP" {
			t.Errorf("pricing = %+v", s.Pricing)
		}
		if cb.Status != "delivered" || cb.MessageID != s.MessageID {
			t.Errorf("top-level status %q %q", cb.Status, cb.MessageID)
		}
	})
	t.Run("i7_status_failed", func(t *testing.T) {
		s := mustDecode(t, mustRead(t, "testdata/i7_status_failed.json")).Statuses()[0]
		want := Error{Code: 131047, Title: "Re-engagement message", Message: "Re-engagement message",
			Details: "More than 24 hours have passed since the recipient last replied.",
			Href:    "/documentation/business-messaging/whatsapp/support/error-codes"}
		if s.Status != StatusFailed || len(s.Errors) != 1 || s.Errors[0] != want {
			t.Errorf("failed status = %+v", s)
		}
	})
	t.Run("i9_meta_statuses", func(t *testing.T) {
		cb := mustDecode(t, mustRead(t, "testdata/i9_meta_statuses.json"))
		ss := cb.Statuses()
		if len(ss) != 2 || ss[0].Status != StatusRead || ss[1].Status != StatusSent {
			t.Fatalf("statuses = %+v", ss)
		}
		for _, s := range ss {
			if s.MessageID != s.ID || s.Path == "" {
				t.Errorf("status %s: MessageID %q", s.Path, s.MessageID)
			}
		}
		if cb.Changes[0].WABAID != "200000000000002" {
			t.Errorf("WABAID = %q", cb.Changes[0].WABAID)
		}
	})
}

// TestDecodeDoesNotAlias checks that a decoded callback survives the
// caller reusing its buffer.
func TestDecodeDoesNotAlias(t *testing.T) {
	body := mustRead(t, "testdata/kaleyra_batch3.json")
	cb := mustDecode(t, body)
	before := render(t, cb)
	for i := range body {
		body[i] = 'x'
	}
	if after := render(t, cb); !bytes.Equal(before, after) {
		t.Error("the decoded callback changed when the body's buffer was overwritten")
	}
}

// TestDecodeConcurrently runs Decode from several goroutines, for the race
// detector and the reader pool.
func TestDecodeConcurrently(t *testing.T) {
	var inputs [][]byte
	var want [][]byte
	for _, name := range bodies(t) {
		b := mustRead(t, name)
		inputs = append(inputs, b)
		want = append(want, render(t, mustDecode(t, b)))
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			for i := range 50 {
				k := i % len(inputs)
				cb, err := Decode(inputs[k])
				if err == nil && !bytes.Equal(render(t, cb), want[k]) {
					err = &DecodeError{Code: "mismatch", Path: RootPath, Message: "concurrent decode differs"}
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
