// Package callbackauth authenticates the provider's callbacks to waorders.
//
// It supports the options Kaleyra offers on a callback profile, in any
// combination: a shared secret in a custom header (several values accepted at
// once, for rotation), HTTP Basic, Bearer tokens issued by waorders' own token
// endpoint (Kaleyra's "advanced authentication", an OAuth-style
// client-credentials exchange), and an IP allow-list with explicit trusted
// proxies, which name the client in the one header the operator configures
// (X-Forwarded-For, RFC 7239 Forwarded or X-Real-IP). A request passes when any configured credential method succeeds and,
// if an allow-list is configured, its client address is allowed.
//
// Every secret comparison runs in constant time over equal-length HMAC
// digests, so neither content nor length leaks through timing. Issued tokens
// are stateless (a payload and its HMAC-SHA256), so any number of instances
// sharing the token keys accept each other's tokens, and keys rotate by
// putting the new key first and keeping the old one until its tokens expire.
//
// An Authenticator is immutable. A credentials reload builds a new one with
// Renew and the server swaps the pointer it serves with, so a request
// finishes with the credentials it started with.
//
// The package imports only the standard library, the domain package and
// internal/server/httpx (whose one error writer answers the token endpoint's
// failures): an *Error unwraps to a *waorders.Error with code unauthorized,
// so the server's one error mapping turns it into a 401.
package callbackauth
