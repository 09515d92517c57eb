package callbackauth

import (
	"net/http"
	"strings"
)

// Redacted replaces the value of a redacted header.
const Redacted = "[redacted]"

// sensitiveHeaders are always redacted.
var sensitiveHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	DefaultSecretHeader, "X-Hub-Signature-256", "X-Hub-Signature", "X-Api-Key",
}

// RedactHeaders returns a copy of h in which every value of Authorization,
// Proxy-Authorization, Cookie, Set-Cookie, X-Callback-Secret,
// X-Hub-Signature(-256), X-Api-Key and the extra names is replaced by
// Redacted. Names match case-insensitively, also for keys not in canonical
// form. h itself is not changed; a nil h gives nil.
func RedactHeaders(h http.Header, extra ...string) http.Header {
	out := h.Clone()
	for name, values := range out {
		if !isSensitive(name, extra) {
			continue
		}
		redacted := make([]string, len(values))
		for i := range redacted {
			redacted[i] = Redacted
		}
		out[name] = redacted
	}
	return out
}

func isSensitive(name string, extra []string) bool {
	for _, s := range sensitiveHeaders {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	for _, s := range extra {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	return false
}

// RedactHeaders returns RedactHeaders(h, the configured secret header,
// extra...): the copy to keep with a quarantined request.
func (a *Authenticator) RedactHeaders(h http.Header, extra ...string) http.Header {
	return RedactHeaders(h, append([]string{a.secretHeader}, extra...)...)
}
