package store

import "bytes"

// RawSpans finds raw JSON values in the body they were copied from. The
// decoder copies each message's and status's raw JSON verbatim out of the
// callback body, in body order, so a driver that keeps the body can store
// where each record's raw lies in it instead of a second copy.
type RawSpans struct {
	body []byte
	next int // where the previous value ended: the next one usually follows
}

// NewRawSpans returns a finder over body.
func NewRawSpans(body []byte) *RawSpans { return &RawSpans{body: body} }

// Find returns the byte offset of raw in the body, searching from the end
// of the previous value found and then, once, from the start. ok is false
// when raw is empty or not in the body; the caller then stores raw itself.
func (s *RawSpans) Find(raw []byte) (offset int, ok bool) {
	if len(raw) == 0 || len(raw) > len(s.body) {
		return 0, false
	}
	i := bytes.Index(s.body[s.next:], raw)
	switch {
	case i >= 0:
		offset = s.next + i
	case s.next > 0: // searched only the tail: look once more from the start
		if offset = bytes.Index(s.body, raw); offset < 0 {
			return 0, false
		}
	default:
		return 0, false
	}
	s.next = offset + len(raw)
	return offset, true
}
