package kaleyra_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	sandbox "github.com/waorders/waorders/internal/sandbox/kaleyra"
	"github.com/waorders/waorders/kaleyra"
)

// A threaded text reply to an order, with refs the status callbacks echo,
// and what to do after each kind of failure.
func Example() {
	sb, _ := sandbox.New(sandbox.Config{SID: "HXAP16000000097IN", APIKey: "key", Sender: "+919800000001"})
	if err := sb.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer sb.Close()

	c, err := kaleyra.New(kaleyra.Config{
		BaseURL: sb.URL(), // kaleyra.BaseURLIN in production
		SID:     "HXAP16000000097IN",
		APIKey:  "key",
		Sender:  "+919800000001",
	})
	if err != nil {
		log.Fatal(err)
	}
	msg := kaleyra.Text("+919900000001", "Thanks, we got your order of 3 items (₹5,200.00).").
		ReplyTo("wamid.TESTORDER00000000000000000001").
		WithRefs(kaleyra.Refs{Ref: "order-wamid.TESTORDER00000000000000000001", Ref1: "confirmation", Ref2: "1"})
	_, err = c.Send(context.Background(), msg)
	switch kaleyra.ActionOf(err) {
	case 0:
		fmt.Println("accepted")
	case kaleyra.Retry: // later; for WA500 after the Error's Advice
	case kaleyra.Pause: // stop this sender, alert
	case kaleyra.GiveUp: // record as failed, alert
	case kaleyra.Reconcile: // wait for a status callback with the refs
	}
	var ke *kaleyra.Error
	if errors.As(err, &ke) {
		fmt.Println(ke.Code, ke.Action)
	}
	// Output: accepted
}
