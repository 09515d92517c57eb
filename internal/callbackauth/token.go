package callbackauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// Token format, version 1:
//
//	base64url(payload) "." base64url(HMAC-SHA256(key, tokenContext || payload))
//	payload = 0x01 || expiry (unix seconds, uint64 big-endian) || client id
//
// Base64 is unpadded and strict, so each token has one spelling. The MAC is
// checked before the payload is read.
const (
	tokenVersion = 1
	tokenContext = "waorders callback token v1\n"
	// maxTokenLen bounds what verifyToken decodes: a version-1 token with the
	// longest client id is well under it.
	maxTokenLen = 512
)

var (
	errTokenMalformed = errors.New("token malformed")
	errTokenInvalid   = errors.New("token signature or client invalid")
	errTokenExpired   = errors.New("token expired")
)

var b64 = base64.RawURLEncoding.Strict()

// issueToken returns a token for clientID expiring TokenTTL from now, signed
// with the first token key.
func (a *Authenticator) issueToken(clientID string) (token string, expiresIn time.Duration) {
	exp := a.now().Add(a.tokenTTL).Unix()
	payload := make([]byte, 9, 9+len(clientID))
	payload[0] = tokenVersion
	binary.BigEndian.PutUint64(payload[1:9], uint64(exp))
	payload = append(payload, clientID...)
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(tokenMAC(a.tokenKeys[0], payload)), a.tokenTTL
}

func tokenMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenContext))
	m.Write(payload)
	return m.Sum(nil)
}

// verifyToken returns the client id of a genuine, unexpired token issued for
// a client that is still configured. The MAC is compared in constant time
// against every token key. It returns errTokenExpired only for a genuine
// token past its expiry.
func (a *Authenticator) verifyToken(token string) (string, error) {
	if len(token) > maxTokenLen {
		return "", errTokenMalformed
	}
	enc, encMAC, ok := strings.Cut(token, ".")
	if !ok {
		return "", errTokenMalformed
	}
	payload, err := b64.DecodeString(enc)
	if err != nil || len(payload) < 9 {
		return "", errTokenMalformed
	}
	mac, err := b64.DecodeString(encMAC)
	if err != nil || len(mac) != sha256.Size {
		return "", errTokenMalformed
	}
	genuine := false
	for _, key := range a.tokenKeys {
		if hmac.Equal(mac, tokenMAC(key, payload)) {
			genuine = true
		}
	}
	if !genuine {
		return "", errTokenInvalid
	}
	// From here the payload is ours.
	if payload[0] != tokenVersion {
		return "", errTokenInvalid
	}
	exp := binary.BigEndian.Uint64(payload[1:9])
	clientID := string(payload[9:])
	if !a.clients[clientID] {
		return "", errTokenInvalid // the client was removed from the configuration
	}
	if a.now().Unix() >= int64(exp) {
		return "", errTokenExpired
	}
	return clientID, nil
}
