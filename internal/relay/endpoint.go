package relay

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/waorders/waorders"
)

// SecretPrefix starts every webhook secret.
const SecretPrefix = "whsec_"

// NewSecret returns a new secret: "whsec_" and the standard base64 of 32
// random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// CheckSecret accepts "whsec_" and the base64 of 24 to 64 bytes.
func CheckSecret(s string) error {
	raw, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return waorders.Errorf(waorders.CodeInvalid, "a secret starts with %q followed by base64", SecretPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(raw)
	}
	if err != nil || len(b) < 24 || len(b) > 64 {
		return waorders.Errorf(waorders.CodeInvalid, "a secret is %q and the base64 of 24 to 64 random bytes", SecretPrefix)
	}
	return nil
}

// ShowSecret returns what GET shows of a secret: its first characters.
func ShowSecret(s string) string {
	if len(s) <= len(SecretPrefix)+4 {
		return SecretPrefix + "…"
	}
	return s[:len(SecretPrefix)+4] + "…"
}

// URLPolicy says which endpoint URLs are accepted.
type URLPolicy struct {
	// AllowHTTPHosts are hosts that may be reached over plain http.
	AllowHTTPHosts []string
	// AllowPrivate accepts private, loopback and link-local addresses
	// (the sink checks the resolved address again at connect time).
	AllowPrivate bool
}

// Check validates an endpoint URL: absolute, https (or http to an allowed
// host), no credentials, and no private, loopback or link-local address
// literal unless allowed.
func (p URLPolicy) Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return waorders.Errorf(waorders.CodeInvalid, "url must be an absolute https URL")
	}
	host := u.Hostname()
	switch u.Scheme {
	case "https":
	case "http":
		if !slices.Contains(p.AllowHTTPHosts, host) {
			return waorders.Errorf(waorders.CodeInvalid,
				"url must be https; plain http is accepted only for hosts allowed by --webhook-allow-http-hosts")
		}
	default:
		return waorders.Errorf(waorders.CodeInvalid, "url must be https")
	}
	if u.User != nil {
		return waorders.Errorf(waorders.CodeInvalid, "url must not carry credentials")
	}
	if len(raw) > 2048 {
		return waorders.Errorf(waorders.CodeInvalid, "url is longer than 2048 characters")
	}
	if p.AllowPrivate {
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return privateErr(host)
	}
	if addr, err := netip.ParseAddr(host); err == nil && !PublicAddr(addr) {
		return privateErr(host)
	}
	return nil
}

func privateErr(host string) error {
	return waorders.Errorf(waorders.CodeInvalid,
		"url host %s is a private, loopback or link-local address; refused unless --webhook-allow-private", host)
}

// PublicAddr reports whether addr may be reached without
// --webhook-allow-private.
func PublicAddr(addr netip.Addr) bool {
	addr = addr.Unmap()
	return !(addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsUnspecified() || addr.IsMulticast() || addr.IsInterfaceLocalMulticast() ||
		net.IP(addr.AsSlice()).Equal(net.IPv4bcast))
}
