package callbackauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Authenticator checks callbacks and issues Bearer tokens. It is immutable
// after New and safe for concurrent use.
type Authenticator struct {
	secretHeader string
	// digestKey keys the HMAC through which every secret is compared, so
	// comparisons are over equal-length digests and reveal nothing about
	// length. It is random per process and never leaves it.
	digestKey []byte
	secrets   [][]byte
	basic     []pairDigest

	tokenClients []pairDigest
	clients      map[string]bool
	tokenTTL     time.Duration
	tokenKeys    [][]byte
	ephemeralKey bool
	tokenPath    string

	allow          []netip.Prefix
	trusted        []netip.Prefix
	clientIPHeader string

	now func() time.Time
}

// pairDigest holds the digests of one id and secret (a Basic user or a token
// client), and the id itself, which is not secret.
type pairDigest struct {
	id        string
	idSum     []byte
	secretSum []byte
}

func (a *Authenticator) digest(s string) []byte {
	m := hmac.New(sha256.New, a.digestKey)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// matchPair returns the id of the entry whose id and secret both match, in
// time independent of the secrets' contents and lengths.
func (a *Authenticator) matchPair(entries []pairDigest, id, secret string) (string, bool) {
	idSum, secretSum := a.digest(id), a.digest(secret)
	found := -1
	for i, e := range entries {
		if subtle.ConstantTimeCompare(idSum, e.idSum)&subtle.ConstantTimeCompare(secretSum, e.secretSum) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return entries[found].id, true
}

// matchSecret reports whether s equals one of the configured header secrets.
// Every secret is compared, whatever the outcome of the others.
func (a *Authenticator) matchSecret(s string) bool {
	sum := a.digest(s)
	ok := 0
	for _, want := range a.secrets {
		ok |= subtle.ConstantTimeCompare(sum, want)
	}
	return ok == 1
}

// Enabled reports whether any method is configured. When it is false, Check
// accepts every request.
func (a *Authenticator) Enabled() bool {
	return a.credentialsEnabled() || len(a.allow) > 0
}

func (a *Authenticator) credentialsEnabled() bool {
	return len(a.secrets) > 0 || len(a.basic) > 0 || len(a.tokenClients) > 0
}

// TokensEnabled reports whether the token endpoint issues tokens, that is
// whether the server should mount TokenHandler.
func (a *Authenticator) TokensEnabled() bool { return len(a.tokenClients) > 0 }

// SecretHeader returns the canonical name of the header carrying the shared
// secret, for redaction.
func (a *Authenticator) SecretHeader() string { return a.secretHeader }

// Methods describes the enabled methods, one line each, for the startup
// banner. It never includes a secret.
func (a *Authenticator) Methods() []string {
	var m []string
	if len(a.secrets) > 0 {
		s := "header " + a.secretHeader
		if len(a.secrets) > 1 {
			s += fmt.Sprintf(" (%d secrets accepted)", len(a.secrets))
		}
		m = append(m, s)
	}
	if len(a.basic) > 0 {
		s := "basic"
		if len(a.basic) > 1 {
			s += fmt.Sprintf(" (%d users)", len(a.basic))
		}
		m = append(m, s)
	}
	if len(a.tokenClients) > 0 {
		s := "bearer token (POST " + a.tokenPath + ")"
		if a.ephemeralKey {
			s += ", signing key generated at start: tokens die with this process; set token keys to share them across instances"
		}
		m = append(m, s)
	}
	if len(a.allow) > 0 {
		s := "ip allow-list (" + count(len(a.allow), "range", "ranges")
		if len(a.trusted) > 0 {
			s += ", " + count(len(a.trusted), "trusted proxy", "trusted proxies")
		}
		m = append(m, s+")")
	}
	return m
}

// count returns "1 one" or "n many".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Challenge returns the WWW-Authenticate value a 401 should carry, or "" when
// neither Basic nor Bearer is enabled.
func (a *Authenticator) Challenge() string {
	var c []string
	if len(a.basic) > 0 {
		c = append(c, `Basic realm="waorders", charset="UTF-8"`)
	}
	if len(a.tokenClients) > 0 {
		c = append(c, `Bearer realm="waorders"`)
	}
	return strings.Join(c, ", ")
}

// Check authenticates a callback. It returns nil when any configured
// credential method succeeds and, if an allow-list is configured, the client
// address (see ClientIP) is in it. Otherwise it returns an *Error whose
// Reason says why. With no method configured it returns nil.
func (a *Authenticator) Check(r *http.Request) error {
	if len(a.allow) > 0 {
		if err := a.checkAddr(r); err != nil {
			return err
		}
	}
	if !a.credentialsEnabled() {
		return nil
	}

	presented := false
	reason := ReasonBadCredentials
	if len(a.secrets) > 0 {
		if v := r.Header.Get(a.secretHeader); v != "" {
			presented = true
			if a.matchSecret(v) {
				return nil
			}
		}
	}
	scheme, cred := splitAuthorization(r.Header.Get("Authorization"))
	switch {
	case len(a.basic) > 0 && strings.EqualFold(scheme, "Basic"):
		presented = true
		if user, pass, ok := r.BasicAuth(); ok {
			if _, ok := a.matchPair(a.basic, user, pass); ok {
				return nil
			}
		}
	case len(a.tokenClients) > 0 && strings.EqualFold(scheme, "Bearer"):
		presented = true
		switch _, err := a.verifyToken(cred); err {
		case nil:
			return nil
		case errTokenExpired:
			reason = ReasonTokenExpired
		}
	}
	if !presented {
		return newError(ReasonMissingCredentials, "no callback credentials: expected "+a.expected())
	}
	if reason == ReasonTokenExpired {
		return newError(reason, "bearer token expired: fetch a new one from "+a.tokenPath)
	}
	return newError(reason, "callback credentials do not match")
}

// expected lists, for error messages, what the enabled methods look for.
func (a *Authenticator) expected() string {
	var e []string
	if len(a.secrets) > 0 {
		e = append(e, "header "+a.secretHeader)
	}
	if len(a.basic) > 0 {
		e = append(e, "Authorization: Basic")
	}
	if len(a.tokenClients) > 0 {
		e = append(e, "Authorization: Bearer")
	}
	return strings.Join(e, " or ")
}

func (a *Authenticator) checkAddr(r *http.Request) error {
	addr := a.ClientIP(r)
	if addr.IsValid() && a.allowed(addr) {
		return nil
	}
	e := newError(ReasonIPNotAllowed, "client address not allowed")
	e.Addr = addr
	return e
}

func (a *Authenticator) allowed(addr netip.Addr) bool {
	return containsAddr(a.allow, addr)
}

// splitAuthorization splits an Authorization value into scheme and
// credentials.
func splitAuthorization(v string) (scheme, cred string) {
	scheme, cred, _ = strings.Cut(strings.TrimSpace(v), " ")
	return scheme, strings.TrimSpace(cred)
}
