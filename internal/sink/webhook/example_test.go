package webhook_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/waorders/waorders/internal/sink/webhook"
)

// A receiver checks a request with the endpoint's secret. The clock is
// fixed here so the example's W1 vector stays valid; a real receiver
// leaves Now nil.
func ExampleVerifier() {
	v, err := webhook.NewVerifier("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		panic(err)
	}
	v.Now = func() time.Time { return time.Unix(1767225600, 0) }

	body := []byte(`{"type":"order.created","timestamp":"2026-01-01T00:00:00Z","data":{"order_id":"ord_01","wamid":"wamid.TESTORDER00000000000000000001","phone_number_id":"100000000000001","total":{"currency":"INR","minor":129900}}}`)
	h := http.Header{}
	h.Set("webhook-id", "evt_0000000000000001")
	h.Set("webhook-timestamp", "1767225600")
	h.Set("webhook-signature", "v1,GerLGvksZl9xSbRanflZjVre8TIixrLlkTaicrdCbIM=")
	fmt.Println(v.Verify(h, body))
	fmt.Println(v.Verify(h, append(body, '\n')))
	// Output:
	// <nil>
	// webhook: no signature matches
}

func ExampleSign() {
	key, _ := webhook.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	fmt.Println(webhook.Sign([][]byte{key}, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)))
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}
