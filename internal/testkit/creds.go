package testkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// The credentials of every test server. Each is long enough for the
// authenticator (16 bytes and more) and distinct, so a test that looks
// for leaked secrets in output can tell them apart.
const (
	// APIToken is the bearer token of the /v1 API.
	APIToken = "testkit-api-token-0123456789abcdef"
	// CallbackSecret is the shared secret Kaleyra sends in
	// CallbackSecretHeader.
	CallbackSecret = "testkit-callback-secret-0123456789"
	// CallbackSecretHeader is the header carrying CallbackSecret (the
	// server's default).
	CallbackSecretHeader = "X-Callback-Secret"
	// MetaAppSecret is the Meta app secret that signs Meta webhook bodies.
	MetaAppSecret = "testkit-meta-app-secret-0123456789"
	// MetaVerifyToken answers Meta's GET verification handshake.
	MetaVerifyToken = "testkit-verify-token"
	// BasicUser and BasicPassword are the Basic credentials of callbacks.
	BasicUser     = "kaleyra"
	BasicPassword = "testkit-basic-password-0123456789"
	// TokenClientID and TokenClientSecret are the client credentials of
	// the callback token endpoint.
	TokenClientID     = "kaleyra-client"
	TokenClientSecret = "testkit-client-secret-0123456789"
	// SignatureHeader is the header in which Meta signs a body.
	SignatureHeader = "X-Hub-Signature-256"
)

// SignMeta returns the SignatureHeader value Meta sends for body when
// signing with MetaAppSecret.
func SignMeta(body []byte) string { return Sign(body, MetaAppSecret) }

// Sign returns the SignatureHeader value for body signed with appSecret:
// "sha256=" and the hex HMAC-SHA256 of the raw bytes. It agrees with
// callback.Sign (a test checks it) without importing it.
func Sign(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
