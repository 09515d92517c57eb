package kaleyra

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SendResult is Kaleyra's acceptance of a message.
type SendResult struct {
	// MessageID is the id of the sent message when the answer carries one:
	// Meta's messages[0].id (a wamid), else Kaleyra's id or message_id. The
	// status callbacks carry the wamid; correlate on the Refs, which they
	// echo, when this is empty.
	MessageID  string
	HTTPStatus int
	// Body is the answer's body, cut to 2 KiB.
	Body []byte
}

const keepBody = 2 << 10

func cut(b []byte) []byte {
	if len(b) > keepBody {
		b = b[:keepBody]
	}
	return bytes.Clone(b)
}

// ParseResponse turns Kaleyra's answer to a send into a result or an
// *Error. It reads leniently: Kaleyra publishes no schema for the V2
// send answer, so any 2xx is an acceptance (the id is taken from whichever
// of the known places has one), and any other status an *Error whose code
// is found in "code", "error_code", "error.code" or a code-shaped
// "error"/"message" string, else classified by the HTTP status alone.
// header may be nil.
func ParseResponse(status int, header http.Header, body []byte) (*SendResult, error) {
	if status >= 200 && status <= 299 {
		return &SendResult{MessageID: messageID(body, 0), HTTPStatus: status, Body: cut(body)}, nil
	}
	e := &Error{HTTPStatus: status, Body: cut(body)}
	e.Code, e.Message = errorFields(body)
	if header != nil {
		e.RetryAfter = retryAfter(header.Get("Retry-After"))
	}
	classify(e)
	return nil, e
}

func messageID(body []byte, depth int) string {
	var v struct {
		Messages []struct {
			ID json.RawMessage `json:"id"`
		} `json:"messages"`
		ID        json.RawMessage `json:"id"`
		MessageID json.RawMessage `json:"message_id"`
		Data      json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	for _, m := range v.Messages {
		if s := str(m.ID); s != "" {
			return s
		}
	}
	if s := str(v.MessageID); s != "" {
		return s
	}
	if s := str(v.ID); s != "" {
		return s
	}
	// {"data": {...}} or {"data": [{...}]}, as Kaleyra's V1 answers; one
	// level only.
	if d := bytes.TrimSpace(v.Data); depth < 1 && len(d) > 0 {
		if d[0] == '[' {
			var arr []json.RawMessage
			if json.Unmarshal(d, &arr) != nil || len(arr) == 0 {
				return ""
			}
			d = bytes.TrimSpace(arr[0])
		}
		if len(d) > 0 && d[0] == '{' {
			return messageID(d, depth+1)
		}
	}
	return ""
}

// str returns a JSON string or number as text, else "".
func str(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func errorFields(body []byte) (code, msg string) {
	var v map[string]json.RawMessage
	if json.Unmarshal(body, &v) != nil {
		return "", ""
	}
	code = str(v["code"])
	if code == "" {
		code = str(v["error_code"])
	}
	msg = str(v["message"])
	if e, ok := v["error"]; ok {
		var inner map[string]json.RawMessage
		if json.Unmarshal(e, &inner) == nil {
			if code == "" {
				code = str(inner["code"])
			}
			if msg == "" {
				msg = str(inner["message"])
			}
			if msg == "" {
				msg = str(inner["error"])
			}
		} else if s := str(e); s != "" {
			if code == "" && looksLikeCode(s) {
				code = s
			} else if msg == "" {
				msg = s
			}
		}
	}
	if code == "" && looksLikeCode(msg) {
		code, msg = msg, ""
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return code, msg
}

// looksLikeCode reports whether s is shaped like one of Kaleyra's codes:
// letters, then digits, maybe a dash (WA400, RBC001, WA-401, WAV2101).
func looksLikeCode(s string) bool {
	if len(s) < 3 || len(s) > 12 {
		return false
	}
	letters, digits := 0, 0
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z' && digits == 0:
			letters++
		case r >= '0' && r <= '9':
			digits++
		case r == '-' && i > 0 && digits == 0:
		default:
			return false
		}
	}
	return letters > 0 && digits > 0
}

func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > 86400 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 && d < 24*time.Hour {
			return d.Round(time.Second)
		}
	}
	return 0
}
