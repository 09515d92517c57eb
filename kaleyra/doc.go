// Package kaleyra sends WhatsApp messages through Kaleyra's WhatsApp API
// V2. It has no global state: build a [Client] with [New], and every
// [Client.Send] takes a context.
//
// # The request
//
// Send posts {"messaging_object": {...}, "extra_info": {"ref", "ref1",
// "ref2"}} to {BaseURL}/v2/{SID}/whatsapp/{Sender}/messages with the
// api-key header and Content-Type: application/json [K23]. The
// messaging_object is Meta's Cloud API send body: messaging_product
// "whatsapp", recipient_type "individual", to, type and the type's object.
// Build it with [Text] (ReplyTo sets context.message_id, a threaded reply
// [K24]), [Template] (name, language.code, components with parameters
// [K-tpl]), or the interactive kinds [Buttons], [List], [Product],
// [ProductList] and [Catalog] (action name catalog_message [K25]). The
// base URL is one of Kaleyra's pods, [BaseURLIN], [BaseURLEU],
// [BaseURLNA], [BaseURLSG] (some pages say [BaseURLSGAP]), or a sandbox.
//
// [Refs] travel in extra_info and Kaleyra echoes them in every status
// callback of the message [K10]: they are the only documented way to tie a
// send to its outcome, so give every send refs that identify it. Kaleyra
// documents no idempotency key.
//
// # Errors
//
// Kaleyra's codes [K26], and what [Error.Action] says to do:
//
//	code     HTTP  Kaleyra's meaning                  Kaleyra: retry?      Action
//	WA200    200   success                            -                    (no error)
//	RBC001   401   incorrect SID or API key           no                   Pause
//	E110     400   insufficient balance               yes, after ops act   Pause
//	WAV2101  429*  account daily limit reached        no                   Pause
//	WA400    400   incorrect payload                  after fixing JSON    GiveUp
//	WA401    401   unauthorized (number or template   yes, after ops act   Pause
//	               configuration or approval)
//	WA-401   401   the same, another spelling                              Pause
//	WA500    500   internal server error              3 times: 5, 10, 15   Retry, Advice
//	                                                  min, then escalate   [5m 10m 15m]
//	other    5xx, 408, 429 Retry; 401, 402, 403 Pause; other GiveUp
//
// (* the page gives no status for WAV2101; the sandbox answers 429.)
// Pause means: stop sending from this sender, alert an operator, spend no
// attempts; the sender is broken, not the message. The answer's body is
// kept, cut to 2 KiB, and read leniently ([ParseResponse]): the stored
// docs show no sample bodies, so the code is looked for in code,
// error_code, error.code or a code-shaped error or message.
//
// # Not sent or ambiguous
//
// When no answer is read, Send returns a [*NetError]. Its Written field
// comes from net/http/httptrace: before WroteRequest (DNS, dial, TLS, a
// context ended first) nothing left the host, errors.Is(err, [ErrNotSent])
// holds, and sending again cannot duplicate the message. After it
// (timeout, reset), errors.Is(err, [ErrAmbiguous]) holds: Kaleyra may have
// accepted the message, so wait for a status callback carrying the refs
// before sending again. [ActionOf] maps every error Send returns to Retry,
// Pause, GiveUp or Reconcile.
//
// # Secrets and time
//
// The API key is sent in the api-key header only; it is in no error, and
// [Config] formats and logs without it. Redirects are not followed. A Send
// takes at most Config.Timeout, 20 seconds by default.
//
// # Sources
//
//	[K10]    developers.kaleyra.io/docs/wa-status-update-webhooks-payload-v2-sent
//	[K23]    developers.kaleyra.io/docs/whatsapp-api-v2-send-text-messages
//	[K24]    developers.kaleyra.io/docs/whatsapp-api-v2-send-reply-to-messages
//	[K25]    developers.kaleyra.io/docs/whatsapp-api-v2-send-catalog-messages
//	[K26]    developers.kaleyra.io/docs/whatsapp-api-v2-error-codes-for-send-message
//	         and developers.kaleyra.io/docs/whatsapp-message-api-v2-error-codes
//	[K-tpl]  developers.kaleyra.io/docs/whatsapp-api-v2-send-template-messages
//
// Interactive limits (3 buttons of 20 characters, 10 list rows, 30
// products) are Meta's, which the messaging_object follows; the sandbox in
// internal/sandbox/kaleyra checks them.
package kaleyra
