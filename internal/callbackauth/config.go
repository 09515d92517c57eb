package callbackauth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultSecretHeader = "X-Callback-Secret"
	DefaultTokenTTL     = time.Hour
	DefaultTokenPath    = "/v1/callbacks/token"
)

// Limits enforced by New.
const (
	MinSecretLen   = 16 // header secrets, Basic passwords and token client secrets, in bytes
	MinTokenKeyLen = 32 // HMAC-SHA256 keys for issued tokens, in bytes
	MaxIDLen       = 128
	MinTokenTTL    = time.Minute
	MaxTokenTTL    = 24 * time.Hour
)

// BasicUser is one user name and password accepted with HTTP Basic.
type BasicUser struct {
	Username string
	Password string
}

// TokenClient is one client id and secret accepted by the token endpoint.
type TokenClient struct {
	ID     string
	Secret string
}

// Config selects and configures the authentication methods. Every method is
// optional; a zero Config enables none (Enabled reports false and Check lets
// everything through), which the caller must refuse unless running an
// explicitly insecure trial.
type Config struct {
	// SecretHeader is the header carrying a shared secret. Default
	// DefaultSecretHeader. Used only when Secrets is not empty.
	SecretHeader string
	// Secrets are the accepted values of SecretHeader; any one passes, so a
	// new secret can be added before the old one is removed.
	Secrets []string

	// BasicUsers are the user names and passwords accepted with HTTP Basic.
	BasicUsers []BasicUser

	// TokenClients are the client ids and secrets the token endpoint accepts
	// (Kaleyra's advanced authentication). With at least one client, Bearer
	// tokens issued by TokenHandler are accepted by Check.
	TokenClients []TokenClient
	// TokenTTL is the lifetime of an issued token. Default DefaultTokenTTL,
	// between MinTokenTTL and MaxTokenTTL.
	TokenTTL time.Duration
	// TokenKeys are the HMAC keys of issued tokens: the first signs, all
	// verify. Instances sharing the keys accept each other's tokens. To
	// rotate, put a new key first and drop the old one after TokenTTL. If
	// empty while TokenClients is set, New generates a key that lives as long
	// as the process (fine for one instance; tokens die on restart).
	TokenKeys [][]byte
	// TokenPath is where the server mounts TokenHandler; it is only shown by
	// Methods. Default DefaultTokenPath.
	TokenPath string

	// AllowCIDRs, if not empty, restricts callbacks to client addresses in
	// these ranges, in addition to the credential check.
	AllowCIDRs []netip.Prefix
	// TrustedProxies are the ranges of reverse proxies whose X-Forwarded-For
	// header is believed. X-Forwarded-For from any other peer is ignored.
	TrustedProxies []netip.Prefix

	// ClientIPHeader is the header trusted proxies name the client in:
	// HeaderXForwardedFor (the default), HeaderForwarded or HeaderXRealIP.
	// Only this header is read; see ClientIP.
	ClientIPHeader string
	// NowFunc returns the current time. Default time.Now.
	NowFunc func() time.Time
}

// New validates cfg and returns an Authenticator. Its error lists every
// problem found, each saying what to fix.
func New(cfg Config) (*Authenticator, error) {
	a := &Authenticator{
		secretHeader: cfg.SecretHeader,
		tokenTTL:     cfg.TokenTTL,
		tokenPath:    cfg.TokenPath,
		now:          cfg.NowFunc,
	}
	if a.secretHeader == "" {
		a.secretHeader = DefaultSecretHeader
	}
	if a.tokenTTL == 0 {
		a.tokenTTL = DefaultTokenTTL
	}
	if a.tokenPath == "" {
		a.tokenPath = DefaultTokenPath
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.digestKey = make([]byte, 32)
	if _, err := rand.Read(a.digestKey); err != nil {
		return nil, fmt.Errorf("generate digest key: %w", err)
	}

	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if err := checkHeaderName(a.secretHeader); err != nil {
		bad("secret header %q: %w", a.secretHeader, err)
	}
	a.secretHeader = http.CanonicalHeaderKey(a.secretHeader)
	for i, s := range cfg.Secrets {
		if len(s) < MinSecretLen {
			bad("callback secret #%d is %d bytes: use at least %d random characters (e.g. `openssl rand -hex 32`)", i+1, len(s), MinSecretLen)
			continue
		}
		a.secrets = append(a.secrets, a.digest(s))
	}

	seen := map[string]bool{}
	for i, u := range cfg.BasicUsers {
		if err := checkID(u.Username); err != nil {
			bad("basic user #%d: user name %w", i+1, err)
		} else if seen[u.Username] {
			bad("basic user %q is listed twice: keep one entry per user", u.Username)
		}
		seen[u.Username] = true
		if len(u.Password) < MinSecretLen {
			bad("basic user #%d: password is %d bytes: use at least %d random characters", i+1, len(u.Password), MinSecretLen)
		}
		a.basic = append(a.basic, pairDigest{id: u.Username, idSum: a.digest(u.Username), secretSum: a.digest(u.Password)})
	}

	a.clients = map[string]bool{}
	for i, c := range cfg.TokenClients {
		if err := checkID(c.ID); err != nil {
			bad("token client #%d: client id %w", i+1, err)
		} else if a.clients[c.ID] {
			bad("token client %q is listed twice: keep one entry per client id", c.ID)
		}
		a.clients[c.ID] = true
		if len(c.Secret) < MinSecretLen {
			bad("token client #%d: client secret is %d bytes: use at least %d random characters", i+1, len(c.Secret), MinSecretLen)
		}
		a.tokenClients = append(a.tokenClients, pairDigest{id: c.ID, idSum: a.digest(c.ID), secretSum: a.digest(c.Secret)})
	}
	if a.tokenTTL < MinTokenTTL || a.tokenTTL > MaxTokenTTL {
		bad("token TTL %s is out of range: use between %s and %s", a.tokenTTL, MinTokenTTL, MaxTokenTTL)
	}
	if !strings.HasPrefix(a.tokenPath, "/") {
		bad("token path %q must start with /", a.tokenPath)
	}
	for i, k := range cfg.TokenKeys {
		if len(k) < MinTokenKeyLen {
			bad("token key #%d is %d bytes: use at least %d random bytes", i+1, len(k), MinTokenKeyLen)
			continue
		}
		a.tokenKeys = append(a.tokenKeys, append([]byte(nil), k...))
	}
	if len(cfg.TokenKeys) > 0 && len(cfg.TokenClients) == 0 {
		bad("token keys are set but no token client is: add a client id and secret, or drop the keys")
	}
	if len(cfg.TokenClients) > 0 && len(cfg.TokenKeys) == 0 {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate token key: %w", err)
		}
		a.tokenKeys = [][]byte{key}
		a.ephemeralKey = true
	}

	var err error
	if a.allow, err = checkPrefixes("allowed range", cfg.AllowCIDRs); err != nil {
		errs = append(errs, err)
	}
	if a.trusted, err = checkPrefixes("trusted proxy", cfg.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	switch h := http.CanonicalHeaderKey(cfg.ClientIPHeader); h {
	case "", HeaderXForwardedFor:
		a.clientIPHeader = HeaderXForwardedFor
	case HeaderForwarded, "X-Real-Ip":
		a.clientIPHeader = map[string]string{HeaderForwarded: HeaderForwarded, "X-Real-Ip": HeaderXRealIP}[h]
	default:
		bad("client IP header %q: use X-Forwarded-For, Forwarded or X-Real-IP (the one your proxy sets)", cfg.ClientIPHeader)
	}

	if len(errs) > 0 {
		return nil, fmt.Errorf("callback authentication: %w", errors.Join(errs...))
	}
	return a, nil
}

// reservedHeaders cannot carry the shared secret: they mean something else
// to HTTP, to proxies or to the other methods.
var reservedHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Host": true,
	"Content-Type": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"X-Forwarded-For": true, "Forwarded": true,
}

func checkHeaderName(name string) error {
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return errors.New("is not a valid header name: use letters, digits and '-' (e.g. X-Callback-Secret)")
		}
	}
	if reservedHeaders[http.CanonicalHeaderKey(name)] {
		return errors.New("is reserved: pick a custom name such as X-Callback-Secret")
	}
	return nil
}

// isTokenChar reports whether c may appear in an HTTP token (RFC 9110 5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("is empty: set one")
	case len(id) > MaxIDLen:
		return fmt.Errorf("is %d bytes: use at most %d", len(id), MaxIDLen)
	}
	for _, r := range id {
		if r <= ' ' || r == ':' || r == 0x7f {
			return errors.New("contains a space, control character or ':': use printable characters without ':'")
		}
	}
	return nil
}

func checkPrefixes(what string, in []netip.Prefix) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for i, p := range in {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("%s #%d is not a valid CIDR: write it like 203.0.113.0/24 or 2001:db8::/32", what, i+1))
			continue
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// ::ffff:a.b.c.d/n matches the same clients as a.b.c.d/(n-96).
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// Renew builds the Authenticator of cfg to replace a (a credentials reload:
// SIGHUP). It validates cfg like New. When neither a nor cfg has token keys
// but both issue tokens, the new Authenticator keeps a's generated signing
// key, so tokens issued before the reload stay valid until they expire.
// a itself is not changed: a request already checked by it finishes with
// it, and the caller swaps the pointer it serves with.
func (a *Authenticator) Renew(cfg Config) (*Authenticator, error) {
	n, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if a != nil && a.ephemeralKey && n.ephemeralKey {
		n.tokenKeys = a.tokenKeys
	}
	return n, nil
}
