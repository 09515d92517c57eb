package callbackauth

import (
	"iter"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds the X-Forwarded-For entries examined: more
// trusted hops than this are not believable. Entries are split off from the
// right only as far as they are read, so a long header costs no more than a
// short one.
const maxForwardedHops = 32

// ClientIP returns the address of the client that sent r. It is the peer
// address (r.RemoteAddr) unless the peer is a trusted proxy; then it is the
// rightmost X-Forwarded-For entry that is not a trusted proxy, walking from
// the right. X-Forwarded-For from an untrusted peer is never read, so a client
// cannot choose its own address by sending the header. If every entry is a
// trusted proxy, the leftmost one is the client. The result is invalid when
// the relevant address cannot be parsed, or when more than maxForwardedHops
// entries are trusted proxies; IPv4-mapped IPv6 addresses are returned as
// IPv4 and zones are dropped.
func (a *Authenticator) ClientIP(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !containsAddr(a.trusted, peer) {
		return peer
	}
	client, n := peer, 0
	for hop := range hopsFromRight(r.Header) {
		if n == maxForwardedHops {
			return netip.Addr{} // too many trusted hops to be believable
		}
		n++
		addr := parseAddr(hop)
		if !addr.IsValid() || !containsAddr(a.trusted, addr) {
			return addr
		}
		client = addr
	}
	return client
}

// hopsFromRight yields the non-empty X-Forwarded-For entries of h across
// all its header lines, rightmost first.
func hopsFromRight(h http.Header) iter.Seq[string] {
	return func(yield func(string) bool) {
		lines := h.Values("X-Forwarded-For")
		for i := len(lines) - 1; i >= 0; i-- {
			line := lines[i]
			for {
				j := strings.LastIndexByte(line, ',')
				if e := strings.TrimSpace(line[j+1:]); e != "" && !yield(e) {
					return
				}
				if j < 0 {
					break
				}
				line = line[:j]
			}
		}
	}
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
