package simulate

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"strconv"
)

// wamidEncoding is unpadded base32 (A–Z, 2–7): ids stay alphanumeric, so
// they are safe in URL paths and file names.
var wamidEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Id domains, kept in the id so inbound and outbound ids look different.
const (
	domainInbound  = 0x01
	domainOutbound = 0x02
)

// mix64 is the SplitMix64 finaliser: a bijection on uint64, so distinct
// inputs give distinct outputs.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// wamid returns a new message id. It encodes the mixed seed and a counter
// through a bijection, so ids never repeat within one generator and differ
// between seeds, and it depends on nothing else: the same seed gives the
// same ids in the same order.
func (g *Generator) wamid(domain byte) string {
	g.counter++
	var p [30]byte
	p[0], p[1], p[2] = 0x1c, 0x18, 0x0c
	binary.BigEndian.PutUint64(p[3:], g.seedMix)
	p[11] = domain
	binary.BigEndian.PutUint64(p[12:], mix64(g.counter^g.seedMix))
	binary.BigEndian.PutUint64(p[20:], mix64(g.counter+g.seedMix))
	p[28], p[29] = 0x15, 0x02
	var out [6 + 48]byte
	copy(out[:], "wamid.")
	wamidEncoding.Encode(out[6:], p[:])
	return string(out[:])
}

// uuid returns a random version-4 UUID from the generator's source.
func (g *Generator) uuid() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], g.rnd.Uint64())
	binary.BigEndian.PutUint64(b[8:], g.rnd.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(out[:])
}

// hex32 returns 32 random hex digits, like Kaleyra's conversation ids.
func (g *Generator) hex32() string {
	var out [32]byte
	for i := 0; i < 32; i += 16 {
		v := g.rnd.Uint64()
		for j := range 16 {
			out[i+j] = hexDigits[v&0xf]
			v >>= 4
		}
	}
	return string(out[:])
}

// mediaID returns a Meta media id: 16 digits.
func (g *Generator) mediaID() string {
	return strconv.FormatInt(1_000_000_000_000_000+g.rnd.Int64N(8_999_999_999_999_999), 10)
}

// sha256b64 returns a random base64 SHA-256 digest, as media messages carry.
func (g *Generator) sha256b64() string {
	var b [32]byte
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], g.rnd.Uint64())
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// formatMinor writes minor units as a decimal with digits decimals
// ("12.90"), or, when short is set, the shortest exact JSON number a sender
// might write ("12.9", "1600").
func formatMinor(minor int64, digits int, short bool) string {
	s := strconv.FormatInt(minor, 10)
	if digits == 0 {
		return s
	}
	neg := false
	if minor < 0 {
		neg, s = true, s[1:]
	}
	for len(s) <= digits {
		s = "0" + s
	}
	intPart, frac := s[:len(s)-digits], s[len(s)-digits:]
	if short {
		for len(frac) > 0 && frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}
