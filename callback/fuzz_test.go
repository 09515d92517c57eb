package callback

import (
	"errors"
	"testing"
)

// FuzzDecode feeds Decode arbitrary bodies, seeded with every body in
// testdata. It asserts that Decode never panics; that a rejected body comes
// with a *DecodeError carrying a code and a path; and that an accepted one
// satisfies checkInvariants: every problem has a code and a path, Raw is
// the element's exact bytes, and a usable order's totals are the sums of
// its line totals.
func FuzzDecode(f *testing.F) {
	for _, name := range bodies(f) {
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
