package simulate

import (
	"strconv"
	"unicode/utf8"
)

// jsonWriter appends compact JSON to a byte slice. It tracks only whether the
// next value needs a leading comma, which is enough for well-nested output
// when every key is written with key and every value with one of the value
// methods.
type jsonWriter struct {
	b         []byte
	needComma bool
}

func (w *jsonWriter) sep() {
	if w.needComma {
		w.b = append(w.b, ',')
	}
}

// key writes an object key; the next value follows it without a comma.
// Keys are the generator's own constants and need no escaping.
func (w *jsonWriter) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.needComma = false
}

// begin opens an object ('{') or an array ('['): its first member needs no
// comma.
func (w *jsonWriter) begin(c byte) {
	w.sep()
	w.b = append(w.b, c)
	w.needComma = false
}

// end closes an object ('}') or an array (']'), which is a whole value.
func (w *jsonWriter) end(c byte) {
	w.b = append(w.b, c)
	w.needComma = true
}

func (w *jsonWriter) open()       { w.begin('{') }
func (w *jsonWriter) close()      { w.end('}') }
func (w *jsonWriter) openArray()  { w.begin('[') }
func (w *jsonWriter) closeArray() { w.end(']') }

func (w *jsonWriter) str(s string) {
	w.sep()
	w.b = appendJSONString(w.b, s)
	w.needComma = true
}

// num writes s, which must already be valid JSON (a number, true or false),
// unquoted.
func (w *jsonWriter) num(s string) {
	w.sep()
	w.b = append(w.b, s...)
	w.needComma = true
}

func (w *jsonWriter) boolean(v bool) { w.num(strconv.FormatBool(v)) }

// field writes "k":"v".
func (w *jsonWriter) field(k, v string) {
	w.key(k)
	w.str(v)
}

// fieldNum writes "k":v with v an already valid JSON number.
func (w *jsonWriter) fieldNum(k, v string) {
	w.key(k)
	w.num(v)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Valid UTF-8 passes through
// unescaped; quotes, backslashes and control characters are escaped; invalid
// UTF-8 bytes become U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
