// Package nats publishes waorders events to a NATS JetStream stream
// (--nats-url; off by default).
//
// # Stream and subjects
//
// Open ensures the stream WAORDERS: when missing it is created with subjects
// waorders.>, file storage, limits retention, max age 7 days, a duplicates
// window of 15 minutes, discard old and deny delete. When it exists, waorders
// never changes it: Open only checks that its subjects cover waorders.> and
// fails with what to do if they do not. Each event goes to
//
//	waorders.<event type>.<phone_number_id>    e.g. waorders.order.created.100000000000001
//
// (a phone_number_id that is empty or not all digits becomes "unknown"), so
// consumers filter with waorders.order.> (all order events) or
// waorders.*.*.100000000000001 (one business number). Subjects never hold a
// customer's phone number.
//
// # Exactly one copy
//
// Every message carries Nats-Msg-Id = the event id (the same on every
// retry). The server drops a repeat inside the stream's duplicates window and
// acks it with the original sequence, so a retry after a timeout, or after a
// waorders crash between publish and bookkeeping, stores one copy. An outage
// longer than the window can still yield a second copy: consumers should be
// idempotent on Nats-Msg-Id (also the "id" of the payload).
//
// Headers: Nats-Msg-Id, Waorders-Type (the event type) and Content-Type:
// application/json. The data is the event envelope, the same bytes webhook
// receivers get.
//
// # Consuming
//
// With the nats CLI:
//
//	nats consumer add WAORDERS orders --pull --filter 'waorders.order.>' --ack explicit --max-deliver 5 --defaults
//	nats consumer next WAORDERS orders --count 10
//
// In Go (github.com/nats-io/nats.go/jetstream):
//
//	cons, _ := js.CreateOrUpdateConsumer(ctx, "WAORDERS", jetstream.ConsumerConfig{
//		Durable: "orders", FilterSubject: "waorders.order.>", AckPolicy: jetstream.AckExplicitPolicy,
//	})
//	cc, _ := cons.Consume(func(m jetstream.Msg) {
//		id := m.Headers().Get("Nats-Msg-Id") // deduplicate on it
//		_ = store(id, m.Data())
//		_ = m.Ack()
//	})
//	defer cc.Stop()
//
// # Outcomes
//
// Deliver waits for the stream's ack. No responders, a lost connection or a
// timeout report Retry (the relay retries with the same id); a JetStream
// refusal such as a wrong stream, exceeded limits or a permission violation
// reports PauseSink (fix the configuration; no attempt is spent); a message
// the server can never take (over max_payload) reports Dead.
package nats
