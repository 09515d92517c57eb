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

// Headers naming the client behind a proxy (Config.ClientIPHeader).
const (
	HeaderXForwardedFor = "X-Forwarded-For" // the default: "client, proxy1, proxy2"
	HeaderForwarded     = "Forwarded"       // RFC 7239: "for=client, for=\"[2001:db8::1]:4711\""
	HeaderXRealIP       = "X-Real-IP"       // one address, set by the last proxy (nginx)
)

// ClientIP returns the address of the client that sent r. It is the peer
// address (r.RemoteAddr) unless the peer is a trusted proxy; then it is the
// rightmost entry of the client IP header (X-Forwarded-For unless
// Config.ClientIPHeader names Forwarded or X-Real-IP) that is not a trusted
// proxy, walking from the right. Only that one header is read: a proxy
// passes the others through as the client sent them, so reading them
// would let a client choose its own address. No header from an untrusted
// peer is read either. If every entry is a
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
	for hop := range a.hopsFromRight(r.Header) {
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

// hopsFromRight yields the entries of the configured client IP header,
// rightmost first.
func (a *Authenticator) hopsFromRight(h http.Header) iter.Seq[string] {
	switch a.clientIPHeader {
	case HeaderForwarded:
		return forwardedFromRight(h)
	case HeaderXRealIP:
		return func(yield func(string) bool) {
			if v := strings.TrimSpace(h.Get(HeaderXRealIP)); v != "" {
				yield(v)
			}
		}
	}
	return xffFromRight(h)
}

// forwardedFromRight yields the for= node of each element of the Forwarded
// headers of h (RFC 7239), rightmost first, unquoted; "unknown" for an
// element without one. Obfuscated ("_hidden") and unknown nodes do not
// parse as addresses, so they end the walk as an invalid address.
func forwardedFromRight(h http.Header) iter.Seq[string] {
	return func(yield func(string) bool) {
		lines := h.Values(HeaderForwarded)
		for i := len(lines) - 1; i >= 0; i-- {
			elems := splitQuoted(lines[i], ',')
			for j := len(elems) - 1; j >= 0; j-- {
				if strings.TrimSpace(elems[j]) == "" {
					continue
				}
				node := "unknown"
				for _, pair := range splitQuoted(elems[j], ';') {
					k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
					if strings.EqualFold(k, "for") {
						node = strings.Trim(strings.TrimSpace(v), `"`)
					}
				}
				if !yield(node) {
					return
				}
			}
		}
	}
}

// splitQuoted splits s at sep outside double-quoted strings (a header is
// at most the server's 64 KiB of headers).
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// xffFromRight yields the non-empty X-Forwarded-For entries of h across
// all its header lines, rightmost first.
func xffFromRight(h http.Header) iter.Seq[string] {
	return func(yield func(string) bool) {
		lines := h.Values(HeaderXForwardedFor)
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
