package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// reader walks a callback body token by token. It is a thin layer over
// jsontext.Decoder that adds three things the decoder functions rely on:
//
//   - a sticky error: after the first fatal error every read returns a zero
//     value and every iterator stops, so decoder functions need not check
//     errors after each read;
//   - the JSON path of the value being read (r.path), kept as a stack of
//     member names and array indexes, rendered only when a problem needs it;
//   - a problem sink: inside a message or status, a field of the wrong JSON
//     type becomes a Problem on that element; elsewhere it is fatal.
//
// Strings are always copied out of the body, and Raw values are copied, so a
// decoded Callback never aliases the caller's buffer.
type reader struct {
	dec  jsontext.Decoder
	src  bytes.Buffer // wraps body so that dec reads it without copying
	body []byte

	stack   []segment
	scratch []byte // for rendering paths
	err     error  // the first fatal error: a *DecodeError or a jsontext error

	// problems receives recoverable problems; nil means they are fatal.
	problems *[]Problem
}

// segment is one step of a JSON path: a member name (raw, quoted, a slice of
// the body) or, when name is nil, an array index.
type segment struct {
	name  []byte
	index int
}

var readers = sync.Pool{New: func() any { return new(reader) }}

func newReader(body []byte) *reader {
	r := readers.Get().(*reader)
	r.body = body
	r.src = *bytes.NewBuffer(body)
	r.dec.Reset(&r.src)
	return r
}

// release drops every reference to the body and returns r to the pool.
func (r *reader) release() {
	r.src = bytes.Buffer{}
	r.dec.Reset(&r.src)
	r.body = nil
	clear(r.stack) // segments point into the body
	r.stack = r.stack[:0]
	r.err = nil
	r.problems = nil
	readers.Put(r)
}

// fail records the first fatal error.
func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// failAt records a fatal *DecodeError.
func (r *reader) failAt(code, path, msg string) {
	r.fail(&DecodeError{Code: code, Path: path, Message: msg})
}

// kind reports the kind of the next token, or 0 after an error.
func (r *reader) kind() jsontext.Kind {
	if r.err != nil {
		return 0
	}
	k := r.dec.PeekKind()
	if k == 0 {
		// PeekKind keeps its error for the next read.
		_, err := r.dec.ReadToken()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		r.fail(err)
	}
	return k
}

// offset is the body offset just after the last token or value read.
func (r *reader) offset() int { return int(r.dec.InputOffset()) }

// nextOffset is the body offset of the first byte of the next value: past
// white space and the ':' or ',' before it.
func (r *reader) nextOffset() int {
	i := r.offset()
	for i < len(r.body) {
		switch r.body[i] {
		case ' ', '\t', '\r', '\n', ':', ',':
			i++
		default:
			return i
		}
	}
	return i
}

// value reads the next value as raw JSON. The result aliases the body.
func (r *reader) value() jsontext.Value {
	if r.err != nil {
		return nil
	}
	v, err := r.dec.ReadValue()
	if err != nil {
		r.fail(err)
		return nil
	}
	return v
}

// skip reads and discards the next value.
func (r *reader) skip() {
	if r.err != nil {
		return
	}
	if err := r.dec.SkipValue(); err != nil {
		r.fail(err)
	}
}

// delim reads a '{', '}', '[' or ']' token.
func (r *reader) delim() {
	if r.err != nil {
		return
	}
	if _, err := r.dec.ReadToken(); err != nil {
		r.fail(err)
	}
}

// raw reads the next value and returns a copy of its bytes.
func (r *reader) raw() json.RawMessage {
	return bytes.Clone(r.value())
}

// object returns an iterator over the members of the object that comes
// next, yielding each member's name. A member whose value the loop body does
// not read is skipped. null yields nothing; any other kind is reported as an
// invalid field and skipped. The name is only valid until the next read.
func (r *reader) object() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		top, ok := r.enter('{', "an object")
		if !ok {
			return
		}
		for r.kind() == '"' {
			quoted := r.value()
			end := r.offset()
			if r.err != nil {
				break
			}
			r.stack[top] = segment{name: r.body[end-len(quoted) : end]}
			if !yield(unquoteName(quoted)) {
				r.skipRest()
				break
			}
			if r.offset() == end {
				r.skip()
			}
		}
		r.delim() // '}'
		r.stack = r.stack[:top]
	}
}

// array returns an iterator over the elements of the array that comes next,
// yielding each index. An element the loop body does not read is skipped.
// null yields nothing; any other kind is reported as an invalid field.
func (r *reader) array() iter.Seq[int] {
	return func(yield func(int) bool) {
		top, ok := r.enter('[', "an array")
		if !ok {
			return
		}
		for i := 0; r.kind() != ']' && r.err == nil; i++ {
			r.stack[top] = segment{index: i}
			start := r.offset()
			if !yield(i) {
				r.skipRest()
				break
			}
			if r.offset() == start {
				r.skip()
			}
		}
		r.delim() // ']'
		r.stack = r.stack[:top]
	}
}

// enter reads the open delimiter of the object ('{') or array ('[') that
// comes next and pushes its path segment, at index top of the stack. It
// reports false, having read past null and reported any other kind as an
// invalid field (what names the kind expected), when there is none.
func (r *reader) enter(open jsontext.Kind, what string) (top int, ok bool) {
	switch r.kind() {
	case open:
	case 'n':
		r.skip()
		return 0, false
	case 0:
		return 0, false
	default:
		r.wrongType(what)
		return 0, false
	}
	r.delim()
	top = len(r.stack)
	r.stack = append(r.stack, segment{})
	return top, true
}

// skipRest skips the remaining members or elements of the current object or
// array, up to its closing delimiter.
func (r *reader) skipRest() {
	for {
		switch r.kind() {
		case 0, '}', ']':
			return
		}
		r.skip()
	}
}

// unquoteName returns the content of a quoted JSON string, allocating only
// when it has escapes.
func unquoteName(quoted []byte) []byte {
	if len(quoted) < 2 {
		return nil
	}
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	b, err := jsontext.AppendUnquote(nil, quoted)
	if err != nil {
		return inner
	}
	return b
}

// str reads a string; null reads as "".
func (r *reader) str() string {
	switch r.kind() {
	case '"':
		return string(unquoteName(r.value()))
	case 'n', 0:
		r.skip()
		return ""
	}
	r.wrongType("a string")
	return ""
}

// token reads a string from a small set of well-known values (types,
// statuses, currencies), returning a shared copy when it is one of them.
func (r *reader) token() string {
	if r.kind() != '"' {
		return r.str()
	}
	b := unquoteName(r.value())
	if s, ok := interned[string(b)]; ok {
		return s
	}
	return string(b)
}

// text reads a string or a number and returns the string's content or the
// number's JSON text, and the value's exact JSON text. null reads as "", "".
// ok is false for any other kind, which is skipped without a problem: the
// caller reports it in its own terms.
func (r *reader) text() (text, raw string, ok bool) {
	switch r.kind() {
	case '"':
		v := r.value()
		return string(unquoteName(v)), string(v), true
	case '0':
		raw = string(r.value())
		return raw, raw, true
	case 'n', 0:
		r.skip()
		return "", "", true
	}
	raw = string(r.value())
	return "", raw, false
}

// unquotedText is text for values that should be strings but that some
// senders write as numbers (ids, coordinates): the string's content or the
// number's text.
func (r *reader) unquotedText() string {
	switch r.kind() {
	case '"':
		return r.str()
	case '0':
		return string(r.value())
	}
	return r.str()
}

// boolean reads true or false; null reads as false.
func (r *reader) boolean() bool {
	switch r.kind() {
	case 't':
		r.skip()
		return true
	case 'f', 'n', 0:
		r.skip()
		return false
	}
	r.wrongType("a boolean")
	return false
}

// optBool reads true or false as a pointer; null reads as nil.
func (r *reader) optBool() *bool {
	switch r.kind() {
	case 't', 'f':
		b := r.kind() == 't'
		r.skip()
		return &b
	case 'n', 0:
		r.skip()
		return nil
	}
	r.wrongType("a boolean")
	return nil
}

// integer reads an integer that fits in an int64, written as a JSON number
// or a string of digits; null reads as 0.
func (r *reader) integer() int64 {
	switch r.kind() {
	case '0', '"':
		text, raw, _ := r.text()
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			r.invalid("an integer", raw)
			return 0
		}
		return n
	case 'n', 0:
		r.skip()
		return 0
	}
	r.wrongType("an integer")
	return 0
}

// wrongType skips the next value and reports that it is not of the wanted
// JSON kind.
func (r *reader) wrongType(want string) {
	got := kindName(r.kind())
	r.skip()
	r.invalid(want, got)
}

// invalid reports a value at the current path that is not what the contract
// says: a Problem inside a message or status, else a fatal DecodeError.
func (r *reader) invalid(want, got string) {
	if r.err != nil {
		return
	}
	r.report(SeverityError, CodeInvalidField, r.path(), "want "+want+", got "+got)
}

// report adds a problem to the current sink, or fails when there is none.
func (r *reader) report(sev Severity, code, path, msg string) {
	if r.problems == nil {
		r.failAt(code, path, msg)
		return
	}
	*r.problems = append(*r.problems, Problem{Severity: sev, Code: code, Path: path, Message: msg})
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "nothing"
}

// path renders the JSON path of the value being read, such as
// "meta_object.value.messages[0].order"; RootPath at the top.
func (r *reader) path() string {
	if len(r.stack) == 0 {
		return RootPath
	}
	return string(r.appendPath(r.scratch[:0]))
}

// pathTo renders the path of member name of the value being read.
func (r *reader) pathTo(name string) string {
	b := r.appendPath(r.scratch[:0])
	if len(b) > 0 {
		b = append(b, '.')
	}
	return string(append(b, name...))
}

func (r *reader) appendPath(b []byte) []byte {
	for _, s := range r.stack {
		if s.name == nil {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(s.index), 10)
			b = append(b, ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, unquoteName(s.name)...)
	}
	r.scratch = b
	return b
}

// syntaxError turns an error of the JSON decoder into an invalid_json
// DecodeError located by the decoder's JSON pointer.
func syntaxError(err error) *DecodeError {
	var de *DecodeError
	if errors.As(err, &de) {
		return de
	}
	path := RootPath
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		path = pointerPath(se.JSONPointer)
	}
	msg := strings.TrimPrefix(err.Error(), "jsontext: ")
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		msg = "unexpected end of JSON input"
	}
	return &DecodeError{Code: CodeInvalidJSON, Path: path, Message: msg}
}

// pointerPath converts a JSON Pointer such as "/entry/0/changes" to this
// package's path syntax, "entry[0].changes". A token of digits only is taken
// as an array index.
func pointerPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return RootPath
	}
	return b.String()
}
