// Package password hashes staff passwords with Argon2id (RFC 9106, from
// golang.org/x/crypto/argon2) and checks them in constant time. Hashes are
// PHC strings, $argon2id$v=19$m=19456,t=2,p=1$salt$hash, so their cost
// can be raised later without breaking stored ones.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Cost is OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
const (
	memoryKiB = 19 * 1024
	passes    = 2
	lanes     = 1
	keyLen    = 32
	saltLen   = 16
)

// MinLength is the shortest password accepted, in characters.
const MinLength = 12

// Check tells whether pw is acceptable as a new password.
func Check(pw string) error {
	if utf8.RuneCountInString(pw) < MinLength {
		return fmt.Errorf("the password is too short: use at least %d characters", MinLength)
	}
	if len(pw) > 1024 {
		return errors.New("the password is too long: use at most 1024 bytes")
	}
	return nil
}

// Hash returns the PHC string of pw with a new random salt.
func Hash(pw string) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // never fails
	key := argon2.IDKey([]byte(pw), salt, passes, memoryKiB, lanes, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether pw matches the PHC string hash. A malformed hash
// matches nothing.
func Verify(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummy is a hash Verify runs against when there is no such user, so a
// login takes as long whether the username exists or not.
var dummy = Hash("no such user: this never matches anything typed")

// VerifyNone spends the time of one Verify and returns false.
func VerifyNone(pw string) bool {
	Verify(dummy, pw)
	return false
}

// Generate returns a random password of 20 characters (about 119 bits).
func Generate() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
