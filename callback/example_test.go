package callback_test

import (
	"fmt"
	"net/url"

	"github.com/waorders/waorders/callback"
)

// A Go program reads an order out of a Kaleyra callback: every message of
// the body, the items with their exact prices, and the totals per currency.
func ExampleDecode() {
	body := []byte(`{
	  "meta_object": {
	    "value": {
	      "messaging_product": "whatsapp",
	      "metadata": {"display_phone_number": "919800000001", "phone_number_id": "100000000000001"},
	      "contacts": [{"profile": {"name": "Sam"}, "wa_id": "919900000001"}],
	      "messages": [{
	        "from": "919900000001", "id": "wamid.EXAMPLE", "timestamp": "1767225600", "type": "order",
	        "order": {"catalog_id": "1234567890123456", "product_items": [
	          {"product_retailer_id": "shirt1122", "quantity": 2, "item_price": 1600, "currency": "INR"},
	          {"product_retailer_id": "mug-blue", "quantity": "1", "item_price": 499.50, "currency": "INR"}
	        ]}
	      }]
	    },
	    "field": "messages"
	  },
	  "extra_info": {"ref": "summer sale", "waba_id": "200000000000001"}
	}`)

	cb, err := callback.Decode(body)
	if err != nil {
		// A *callback.DecodeError: keep the raw body and answer 400.
		fmt.Println("rejected:", err)
		return
	}
	for _, ch := range cb.Changes {
		for _, m := range ch.Messages {
			if m.Order == nil {
				continue
			}
			if !m.Usable() {
				fmt.Println("unusable order", m.ID, m.Problems)
				continue
			}
			name := ""
			if c := ch.Contact(m.From); c != nil {
				name = c.Name
			}
			fmt.Printf("order %s from %s at %s (ref %q)\n", m.ID, name, m.Timestamp.Format("2006-01-02 15:04"), ch.Extra.Ref)
			for _, it := range m.Order.Items {
				fmt.Printf("  %-10s %d × %s = %s\n", it.ProductRetailerID, it.Quantity, it.UnitPrice, it.LineTotal)
			}
			for _, total := range m.Order.Totals {
				fmt.Printf("  total %s (%d minor units)\n", total, total.Minor)
			}
		}
	}
	// Output:
	// order wamid.EXAMPLE from Sam at 2026-01-01 00:00 (ref "summer sale")
	//   shirt1122  2 × 1600.00 INR = 3200.00 INR
	//   mug-blue   1 × 499.50 INR = 499.50 INR
	//   total 3699.50 INR (369950 minor units)
}

// Problems inside one message never fail the body: they come with a stable
// code and the JSON path of the offending value.
func ExampleDecode_problems() {
	body := []byte(`{"meta_object": {"value": {"messages": [{
	  "id": "wamid.BAD", "from": "919900000001", "timestamp": "17XXXXXXXX", "type": "order",
	  "order": {"product_items": [{"product_retailer_id": "a", "quantity": 0, "item_price": 10.999, "currency": "USD"}]}
	}]}, "field": "messages"}}`)

	cb, err := callback.Decode(body)
	if err != nil {
		panic(err)
	}
	m := cb.Messages()[0]
	fmt.Println("usable:", m.Usable())
	for _, p := range m.Problems {
		fmt.Println(p.Severity, p.Code, p.Path)
	}
	// Output:
	// usable: false
	// error invalid_quantity meta_object.value.messages[0].order.product_items[0].quantity
	// error too_many_decimals meta_object.value.messages[0].order.product_items[0].item_price
	// warning invalid_timestamp meta_object.value.messages[0].timestamp
}

// Status updates arrive out of order; Advances keeps a stored status moving
// forward only.
func ExampleAdvances() {
	stored := callback.StatusRead
	for _, late := range []callback.StatusKind{callback.StatusSent, callback.StatusFailed, callback.StatusDelivered} {
		if callback.Advances(stored, late) {
			stored = late
		}
		fmt.Println(late, "->", stored)
	}
	// Output:
	// sent -> read
	// failed -> failed
	// delivered -> failed
}

// A customer who hides their phone number behind a username is identified
// by their BSUID; Customer combines the message's ids with its contact.
func ExampleMessage_Customer() {
	body := []byte(`{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
	  "contacts": [{"profile": {"name": "Test User", "username": "testuser"}, "user_id": "US.13491208655302741918"}],
	  "messages": [{"from_user_id": "US.13491208655302741918", "id": "wamid.X", "timestamp": "1750000000",
	    "type": "text", "text": {"body": "hello"}}]}}]}]}`)

	cb, err := callback.Decode(body)
	if err != nil {
		panic(err)
	}
	m := cb.Messages()[0]
	c := m.Customer()
	fmt.Printf("usable %v, wa_id %q, user_id %s, username %s, name %s\n", m.Usable(), c.WaID, c.UserID, c.Username, c.Name)
	fmt.Println(cb.Changes[0].Summary())
	// Output:
	// usable true, wa_id "", user_id US.13491208655302741918, username testuser, name Test User
	// messages: 1 message
}

// Meta's native webhooks are signed and verified with a handshake.
func ExampleVerifySignature() {
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	header := callback.Sign(body, "new-secret") // what Meta sends in X-Hub-Signature-256

	fmt.Println(callback.VerifySignature(body, header, "old-secret", "new-secret"))
	fmt.Println(callback.VerifySignature(body, header, "old-secret"))

	q, _ := url.ParseQuery("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-token")
	fmt.Println(callback.VerifyHandshake(q, "my-token"))
	// Output:
	// true
	// false
	// 1158201444 true
}
