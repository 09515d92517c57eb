// Package webhook delivers waorders events to a brand's HTTP endpoint by the
// Standard Webhooks specification (v1.0.0), and holds the signing and
// verification code both sides use.
//
// # What a receiver gets
//
// Every attempt is a POST with Content-Type: application/json and these
// headers:
//
//	webhook-id:          evt_…   the event id; the same on every retry: deduplicate on it
//	webhook-timestamp:   1767225600   unix seconds of this attempt (changes on each retry)
//	webhook-signature:   v1,<base64> [v1,<base64> …]   one entry per live secret
//	waorders-event-type: order.created
//	waorders-attempt:    1
//
// The body is the event envelope {"type","timestamp","data"}, sent as the
// exact bytes that were signed. The signed content is
//
//	<webhook-id>.<webhook-timestamp>.<body>
//
// and each v1 entry is base64(HMAC-SHA256(key, content)), key being the
// base64-decoded part of the secret after "whsec_". During a secret
// rotation both the new and the old secret sign, so the header carries two
// entries; a receiver holding either one accepts the request.
//
// Answer 2xx when the event is stored (quickly: an attempt times out after
// 15 s). Any other answer is retried on the relay's schedule, 3xx included
// (redirects are never followed; update the URL instead) and 4xx included
// (a receiver's bug should not lose events). 410 Gone disables the endpoint.
// On 429, 502, 503 and 504 a Retry-After header (seconds or HTTP-date) is
// honoured.
//
// # Verifying in Go
//
// Read the raw body, verify, and only then parse it; re-encoded JSON does
// not verify. With this package:
//
//	v, err := webhook.NewVerifier(os.Getenv("WAORDERS_WEBHOOK_SECRET")) // "whsec_…"; pass old and new during a rotation
//	if err != nil { log.Fatal(err) }
//	http.HandleFunc("POST /hooks/waorders", func(w http.ResponseWriter, r *http.Request) {
//		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//		if err != nil { http.Error(w, "body", http.StatusBadRequest); return }
//		if err := v.Verify(r.Header, body); err != nil {
//			http.Error(w, "bad signature", http.StatusUnauthorized) // waorders retries: fix the secret, events wait
//			return
//		}
//		// store body keyed by r.Header.Get("webhook-id") (ignore a repeat), then:
//		w.WriteHeader(http.StatusNoContent)
//	})
//
// Or with the standard library only:
//
//	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
//	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
//	mac := hmac.New(sha256.New, key)
//	mac.Write([]byte(id + "." + ts + "."))
//	mac.Write(body)
//	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
//	ok := false
//	for _, got := range strings.Fields(r.Header.Get("webhook-signature")) {
//		ok = ok || hmac.Equal([]byte(got), []byte(want)) // constant time
//	}
//	// and check that ts is within 5 minutes of now (replay protection)
//
// The official libraries (github.com/standard-webhooks/standard-webhooks,
// for Go, Python, JavaScript, PHP, Ruby, C#, Rust, …) verify these requests
// as they are.
//
// # Verifying with a shell
//
// With the secret, the three header values and the body saved in body.json:
//
//	SECRET='whsec_…'; ID='evt_…'; TS='1767225600'
//	KEY=$(printf %s "${SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
//	{ printf '%s.%s.' "$ID" "$TS"; cat body.json; } |
//	  openssl dgst -sha256 -mac HMAC -macopt hexkey:"$KEY" -binary | base64
//
// The output, prefixed with "v1,", must equal one entry of
// webhook-signature. (body.json must hold the exact bytes received, with no
// newline added.)
//
// # Safety of outbound requests
//
// Endpoint URLs must be https, or http to a host listed explicitly
// (ValidateURL). Unless private destinations are allowed
// (--webhook-allow-private, WAORDERS_WEBHOOK_ALLOW_PRIVATE=true), the
// dialer refuses loopback, private, link-local (cloud metadata included),
// unspecified, multicast and reserved addresses, checking the address
// actually connected to after DNS resolution, so a name that resolves, or
// later re-resolves, to an internal address cannot reach the inside.
// Environment proxies are not used. Redirects are not followed. Secrets
// never appear in errors or logs: errors name a secret by its position.
//
// # Secrets
//
// NewSecret makes "whsec_" + base64 of 32 random bytes (crypto/rand).
// ParseSecret accepts the spec's 24 to 64 bytes, with or without the
// "whsec_" prefix, padded or unpadded base64.
package webhook
