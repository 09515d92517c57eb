package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (lowercase, as the spec writes them; HTTP
// header names are case-insensitive).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	// HeaderEventType and HeaderAttempt are waorders' own: the event type
	// and the attempt number (from 1). They are not signed.
	HeaderEventType = "waorders-event-type"
	HeaderAttempt   = "waorders-attempt"
)

// SecretPrefix starts every secret as shown to people: "whsec_" followed by
// the standard base64 of the key bytes.
const SecretPrefix = "whsec_"

// Key sizes the spec allows for HMAC-SHA256 secrets; NewSecret makes 32.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
	newSecretBytes = 32
)

// DefaultTolerance is how far a webhook-timestamp may be from the
// verifier's clock, either way (the reference libraries use 5 minutes).
const DefaultTolerance = 5 * time.Minute

// Verification errors. Verify wraps them; test with errors.Is.
var (
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrBadTimestamp   = errors.New("webhook: webhook-timestamp is not unix seconds")
	ErrTooOld         = errors.New("webhook: webhook-timestamp is too old")
	ErrTooNew         = errors.New("webhook: webhook-timestamp is too far in the future")
	ErrNoMatch        = errors.New("webhook: no signature matches")
	ErrNoSecret       = errors.New("webhook: no secret to verify with")
)

// NewSecret returns a new secret: "whsec_" + the standard base64 of 32
// bytes from crypto/rand.
func NewSecret() (string, error) {
	b := make([]byte, newSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook: reading random bytes for a secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// ParseSecret returns the key bytes of a secret. The "whsec_" prefix is
// optional; the base64 may be padded or not (as the reference libraries
// accept). The key must have 24 to 64 bytes, as the spec requires. The
// error never repeats the secret.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	b64 := strings.TrimPrefix(s, SecretPrefix)
	if b64 == "" {
		return nil, errors.New(`webhook: empty secret; use "whsec_" + base64 of 32 random bytes, or leave it unset to have one generated`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	}
	if err != nil {
		return nil, errors.New(`webhook: the secret is not "whsec_" + standard base64 (A–Z, a–z, 0–9, '+', '/')`)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("webhook: the secret has %d bytes; Standard Webhooks secrets have %d to %d (generate one with waorders, or: printf 'whsec_%%s\\n' \"$(openssl rand -base64 32)\")",
			len(key), MinSecretBytes, MaxSecretBytes)
	}
	return key, nil
}

// ParseSecrets parses each secret with ParseSecret; the error says which
// one (by position, never by value) is wrong.
func ParseSecrets(secrets []string) ([][]byte, error) {
	keys := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		k, err := ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d of %d: %w", i+1, len(secrets), err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Sign returns the webhook-signature header value for one attempt: one
// "v1,<base64 HMAC-SHA256>" entry per key, in the order of keys, separated
// by single spaces. The signed content is id + "." + unix seconds of ts +
// "." + body, body being the exact bytes sent. id must not contain '.'
// (event ids never do).
func Sign(keys [][]byte, id string, ts time.Time, body []byte) string {
	var b strings.Builder
	b.Grow(len(keys) * 48)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac(k, id, ts.Unix(), body)))
	}
	return b.String()
}

func mac(key []byte, id string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	var num [20]byte
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(num[:0], unix, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Signature is one entry of a webhook-signature header: a version ("v1"
// for HMAC-SHA256, "v1a" for ed25519) and the signature bytes.
type Signature struct {
	Version string
	Sig     []byte
}

// ParseSignatures splits a webhook-signature header into its entries.
// Entries are separated by spaces; each is "version,base64". An entry that
// has no comma, an empty version or signature, or bad (or non-canonical)
// base64 is skipped:
// a header with only such entries yields none (and verifies nothing).
func ParseSignatures(header string) []Signature {
	var out []Signature
	for _, tok := range strings.Fields(header) {
		v, s, ok := strings.Cut(tok, ",")
		if !ok || v == "" || s == "" {
			continue
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || len(sig) == 0 {
			continue
		}
		out = append(out, Signature{Version: v, Sig: sig})
	}
	return out
}

// Verifier checks webhooks as a receiver should: the signature over the
// exact body bytes, compared in constant time against every key, and the
// timestamp within Tolerance of Now. It is what a waorders receiver
// written in Go can use (see the package documentation), and what the
// tests use with a fixed clock.
type Verifier struct {
	// Keys are the accepted secrets' bytes (ParseSecret); during a
	// rotation, hold the old and the new one.
	Keys [][]byte
	// Tolerance is how far the timestamp may be from Now, either way;
	// 0 means DefaultTolerance. A timestamp exactly Tolerance away passes.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewVerifier returns a Verifier for the given secrets ("whsec_…") with
// the default tolerance and the real clock.
func NewVerifier(secrets ...string) (*Verifier, error) {
	keys, err := ParseSecrets(secrets)
	if err != nil {
		return nil, err
	}
	return &Verifier{Keys: keys}, nil
}

// Verify checks a request's headers and its raw body (read it whole and
// verify before parsing it: re-encoded JSON does not verify).
func (v *Verifier) Verify(h http.Header, body []byte) error {
	return v.VerifyValues(h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body)
}

// VerifyValues is Verify with the three header values given one by one.
// Entries of another version than v1 are ignored; one matching v1 entry
// for any key is enough.
func (v *Verifier) VerifyValues(id, timestamp, signature string, body []byte) error {
	if len(v.Keys) == 0 {
		return ErrNoSecret
	}
	if id == "" || timestamp == "" || signature == "" {
		return ErrMissingHeaders
	}
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	ts := time.Unix(unix, 0)
	n := now()
	if n.Sub(ts) > tol {
		return ErrTooOld
	}
	if ts.Sub(n) > tol {
		return ErrTooNew
	}
	sigs := ParseSignatures(signature)
	for _, k := range v.Keys {
		want := mac(k, id, unix, body)
		for _, s := range sigs {
			if s.Version == "v1" && hmac.Equal(s.Sig, want) {
				return nil
			}
		}
	}
	return ErrNoMatch
}
