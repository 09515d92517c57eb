package callback

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"strings"
)

// SignatureHeader is the HTTP header in which Meta signs webhook bodies.
const SignatureHeader = "X-Hub-Signature-256"

// Sign returns the X-Hub-Signature-256 value Meta would send for body:
// "sha256=" and the hex HMAC-SHA256 of the raw bytes keyed with appSecret.
func Sign(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether header, the X-Hub-Signature-256 value of
// a request, signs body with one of appSecrets. Several secrets allow
// rotation: keep the old one until Meta uses the new one. The comparison
// runs in constant time; it is over the raw bytes as received, never a
// re-encoding. Empty secrets are ignored, so no secret never verifies.
func VerifySignature(body []byte, header string, appSecrets ...string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	valid := false
	for _, secret := range appSecrets {
		if secret == "" {
			continue
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		// Check every secret, so timing does not tell which one matched.
		if hmac.Equal(mac.Sum(nil), got) {
			valid = true
		}
	}
	return valid
}

// VerifyHandshake answers Meta's GET verification request. It returns the
// hub.challenge to echo with 200 and ok true when hub.mode is "subscribe"
// and hub.verify_token equals verifyToken (compared in constant time);
// otherwise the caller should answer 403. An empty verifyToken never
// verifies.
func VerifyHandshake(q url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || q.Get("hub.mode") != "subscribe" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	challenge = q.Get("hub.challenge")
	if challenge == "" {
		return "", false
	}
	return challenge, true
}
