// Package sandbox (import path internal/sandbox/kaleyra) is a local
// Kaleyra for development and tests: it serves the WhatsApp V2 send
// endpoint, POST /v2/{sid}/whatsapp/{sender}/messages, checks each request
// the way Kaleyra documents it, answers with Kaleyra's codes, and posts the
// status callbacks (sent, delivered, read, with the send's extra_info refs
// echoed) to a waorders callback URL with the configured callback
// authentication. It holds no global state; start as many as a test needs.
//
// # Validation
//
// A request passes when, in this order: the SID in the path and the
// api-key header match (else 401 RBC001); the sender in the path is the
// account's number, with or without "+" (else 401 WA401); the body is at
// most 1 MiB of application/json (else 400 WA400); and the body follows
// the documented schema (else 400 WA400, with every problem's JSON path in
// error.problems): an object of messaging_object and optional extra_info
// (ref, ref1, ref2, wa_source: strings), no unknown field anywhere;
// messaging_product "whatsapp"; recipient_type "individual" if present;
// "to" an E.164 number; a known type whose object is present; context
// only with a message_id; text.body 1..4096 characters; template name
// (lower-case, digits, _) and language.code, components with known types,
// buttons with sub_type and index, text parameters with text; interactive
// button (1..3 reply buttons, unique ids and titles, titles ≤ 20), list
// (button ≤ 20, 1..10 sections, ≤ 10 rows in all, row title ≤ 24,
// description ≤ 72), product (catalog_id, product_retailer_id),
// product_list (text header, body, 1..10 sections, ≤ 30 products) and
// catalog_message (action name catalog_message), bodies ≤ 1024 (list
// 4096), header and footer ≤ 60.
//
// An accepted send answers 200 with Meta's shape,
// {"messaging_product","contacts":[{"input","wa_id"}],"messages":[{"id"}]},
// the id a fresh "wamid.SANDBOX…", and is recorded (Sends, Accepted).
// Errors answer {"code","message","data":[],"error":{"code","message",
// "problems"}}: Kaleyra names its codes but publishes no sample body, so
// this shape is an assumption the kaleyra client parses leniently.
//
// # Faults
//
// FailNext(code, n) answers the next n sends with that code's error;
// Delay(d) holds every answer (the send is accepted first, as when Kaleyra
// is slow); DropAfterWrite(n) accepts the next n sends and closes the
// connection unanswered (ambiguous for the client); DropBeforeWrite(n)
// closes the next n connections as they are accepted (over StartTLS the
// handshake fails: surely not sent); FailDelivery(code, n) makes the next
// n accepted messages end "failed" with that Meta error (131047: the
// 24-hour window had closed).
//
// # Callbacks
//
// Each accepted message gets its Statuses (default sent, delivered, read)
// StatusDelay apart, in order, each posted to CallbackURL with the header
// secret or Basic credentials of CallbackAuth, and tried again on a
// non-2xx answer or a transport error (CallbackAttempts in all, doubling
// from CallbackRetryDelay). Bodies follow Kaleyra's documented "sent"
// callback (spec/callback-contract.md §c.1, §i.6): meta_object with the
// status, extra_info with trace_id, message_id, waba_id, ref, ref1, ref2,
// and the top-level status and message_id.
package sandbox
