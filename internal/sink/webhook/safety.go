package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
)

// ErrPrivateAddress is returned (wrapped) when a connection would go to a
// private, loopback, link-local, unspecified, multicast or otherwise
// internal address and private destinations are not allowed.
var ErrPrivateAddress = errors.New("webhook: destination address is private, loopback, link-local or reserved")

// internal lists ranges a webhook must not reach besides those netip
// classifies (loopback, private, link-local, multicast, unspecified).
var internal = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, often internal in clouds
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may embed an internal IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4: may embed an internal IPv4
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// IsPrivate reports whether a webhook must not connect to ip unless
// private destinations are allowed: loopback, private (RFC 1918, fc00::/7),
// link-local (incl. 169.254.169.254, cloud metadata), unspecified,
// multicast, and the reserved ranges above. IPv4-mapped IPv6 addresses are
// judged as IPv4.
func IsPrivate(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range internal {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// dialControl is the net.Dialer Control function: it runs after name
// resolution, on the very address about to be connected, so a name that
// resolves (or re-resolves: DNS rebinding) to an internal address is
// refused whatever the URL said.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: cannot parse %q", ErrPrivateAddress, address)
		}
		if IsPrivate(ap.Addr()) {
			return fmt.Errorf("%w: %s (set --webhook-allow-private / WAORDERS_WEBHOOK_ALLOW_PRIVATE=true only if internal endpoints are intended)", ErrPrivateAddress, ap.Addr())
		}
		return nil
	}
}

// ValidateURL checks an endpoint URL before it is stored or used: an
// absolute https URL, or http when its host is in allowHTTPHosts
// (compared case-insensitively, without the port); no user:password part
// (credentials in URLs end up in logs; the signature authenticates
// waorders to the receiver) and no fragment. When allowPrivate is false, a
// host that is an internal IP literal or a name for the local machine
// ("localhost", "*.localhost") is refused here; names are checked again,
// on the resolved address, each time a connection is made. The error
// says what to do.
func ValidateURL(raw string, allowPrivate bool, allowHTTPHosts []string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("webhook URL does not parse (%v); give an absolute URL such as https://example.com/hooks/waorders", errWithoutURL(err))
	}
	if !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("webhook URL must be absolute, such as https://example.com/hooks/waorders")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return errors.New("webhook URL has no host; give one, such as https://example.com/hooks/waorders")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !slices.ContainsFunc(allowHTTPHosts, func(h string) bool { return strings.EqualFold(strings.TrimSpace(h), host) }) {
			return fmt.Errorf("webhook URL uses http: use https, or allow plain http to %q explicitly (the allowed-http-hosts setting)", host)
		}
	default:
		return fmt.Errorf("webhook URL scheme %q is not supported: use https", u.Scheme)
	}
	if u.User != nil {
		return errors.New("webhook URL must not carry a user or password (they would be logged); receivers authenticate waorders by the webhook-signature header")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("webhook URL must not have a #fragment (it is never sent to the server)")
	}
	if allowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if IsPrivate(ip) {
			return fmt.Errorf("webhook URL points at the internal address %s: use a public address, or set --webhook-allow-private (WAORDERS_WEBHOOK_ALLOW_PRIVATE=true) if internal endpoints are intended", ip)
		}
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".localhost.") || host == "localhost." {
		return fmt.Errorf("webhook URL points at this machine (%s): use a public address, or set --webhook-allow-private (WAORDERS_WEBHOOK_ALLOW_PRIVATE=true) if internal endpoints are intended", host)
	}
	return nil
}

// errWithoutURL returns the cause of a *url.Error (which repeats the URL,
// and a URL may carry a token) or err itself.
func errWithoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// dialer returns the dialer of a Sink's transport.
func dialer(allowPrivate bool) *net.Dialer {
	return &net.Dialer{Control: dialControl(allowPrivate)}
}
