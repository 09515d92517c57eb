package callback

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/waorders/waorders/money"
)

// FuzzDecode feeds Decode arbitrary bodies, seeded with every body in
// testdata and in the public corpus of testdata/corpus. It asserts that Decode never panics; that a rejected body comes
// with a *DecodeError carrying a code and a path; and that an accepted one
// satisfies checkInvariants: every problem has a code and a path, Raw is
// the element's exact bytes, and a usable order's totals are the sums of
// its line totals.
func FuzzDecode(f *testing.F) {
	for _, name := range bodies(f) {
		f.Add(mustRead(f, name))
	}
	for _, name := range corpusBodies(f) {
		f.Add(mustRead(f, name))
	}
	f.Add(orderBody(`{"product_retailer_id": "a", "quantity": "2", "item_price": "1.5", "currency": "KWD"}, {"product_retailer_id": "b", "quantity": 1, "item_price": 3, "currency": "USD"}`))
	f.Add(statusBody(`{"id": "w", "status": "NOT-SENT", "timestamp": "1"}`, `"message_id": "m"`, `"status": "x", `))
	f.Add([]byte(`{"entry": [{"changes": [{"value": {"messages": [1, null, {}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := Decode(body)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError: %v", err, err)
			}
			if de.Code == "" || de.Path == "" || de.Message == "" {
				t.Fatalf("incomplete DecodeError %#v", de)
			}
			if cb != nil {
				t.Fatal("a callback returned with an error")
			}
			return
		}
		checkInvariants(t, body, cb)
	})
}

// FuzzOrderItem fuzzes the three money fields of one product item, written
// as raw JSON texts, so that the fuzzer explores quantities, prices and
// currencies rather than JSON syntax. A usable item must hold exactly what
// its texts say: a positive quantity, a non-negative price that money.Parse
// reads the same, and a line total equal to their product.
func FuzzOrderItem(f *testing.F) {
	f.Add(`1`, `1600`, `"INR"`)
	f.Add(`"2"`, `"16.99"`, `"USD"`)
	f.Add(`2.0`, `1.6e3`, `"JPY"`)
	f.Add(`1`, `1.250`, `"KWD"`)
	f.Add(`0`, `-1`, `"XYZ"`)
	f.Add(`9223372036854775807`, `1e30`, `null`)
	f.Fuzz(func(t *testing.T, qty, price, currency string) {
		body := orderBody(`{"product_retailer_id": "a", "quantity": ` + qty + `, "item_price": ` + price + `, "currency": ` + currency + `}`)
		cb, err := Decode(body)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Code == "" || de.Path == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		checkInvariants(t, body, cb)
		msgs := cb.Messages()
		if len(msgs) != 1 || msgs[0].Order == nil || len(msgs[0].Order.Items) == 0 {
			// The texts can close the item early and reshape the message.
			return
		}
		m := msgs[0]
		if !m.Usable() {
			if len(m.Order.Totals) != 0 {
				t.Fatalf("unusable order with totals %v", m.Order.Totals)
			}
			return
		}
		it := m.Order.Items[0]
		if it.Quantity <= 0 || it.UnitPrice.Minor < 0 || it.UnitPrice.Currency != it.Currency {
			t.Fatalf("usable item %+v", it)
		}
		if line, err := it.UnitPrice.Mul(it.Quantity); err != nil || line != it.LineTotal {
			t.Fatalf("line total %v, want %v × %d", it.LineTotal, it.UnitPrice, it.Quantity)
		}
		text := []byte(it.RawPrice)
		if strings.HasPrefix(it.RawPrice, `"`) {
			if text, err = jsontext.AppendUnquote(nil, it.RawPrice); err != nil {
				t.Fatalf("RawPrice %s: %v", it.RawPrice, err)
			}
		}
		if a, err := money.Parse(string(text), it.Currency); err != nil || a != it.UnitPrice {
			t.Fatalf("UnitPrice %v, but money.Parse(%s) = %v, %v", it.UnitPrice, text, a, err)
		}
	})
}
