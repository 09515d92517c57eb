package auth

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds the X-Forwarded-For entries examined, so a long
// header costs no more than a short one.
const maxForwardedHops = 32

// ClientIP returns the address of the client that sent r. It is the peer
// address (r.RemoteAddr) unless the peer is a trusted proxy; then it is the
// rightmost X-Forwarded-For entry that is not a trusted proxy, walking from
// the right. X-Forwarded-For from an untrusted peer is never read, so a client
// cannot choose its own address by sending the header. If every entry is a
// trusted proxy, the leftmost one is the client. The result is invalid when
// the relevant address cannot be parsed; IPv4-mapped IPv6 addresses are
// returned as IPv4 and zones are dropped.
func (a *Authenticator) ClientIP(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !containsAddr(a.trusted, peer) {
		return peer
	}
	client := peer
	hops := forwardedFor(r.Header)
	for i, n := len(hops)-1, 0; i >= 0; i, n = i-1, n+1 {
		if n == maxForwardedHops {
			return netip.Addr{} // too many trusted hops to be believable
		}
		addr := parseAddr(hops[i])
		if !addr.IsValid() || !containsAddr(a.trusted, addr) {
			return addr
		}
		client = addr
	}
	return client
}

// forwardedFor returns the X-Forwarded-For entries of h, in order, across all
// header lines.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		for _, e := range strings.Split(line, ",") {
			if e = strings.TrimSpace(e); e != "" {
				hops = append(hops, e)
			}
		}
	}
	return hops
}

// parseAddr parses "ip", "ip:port" or "[ipv6]:port" into a normalised
// address, or returns the zero Addr.
func parseAddr(s string) netip.Addr {
	var addr netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		addr = ap.Addr()
	} else if ad, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		addr = ad
	} else {
		return netip.Addr{}
	}
	return addr.Unmap().WithZone("")
}

func containsAddr(prefixes []netip.Prefix, addr netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
