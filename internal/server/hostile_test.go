package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/store/sqlite"
)

// The hostile-input corpus (issue 6, item 3). Every case goes through one
// real server on 127.0.0.1 (real SQLite store, real intake, real
// authenticator with a secret header) and is checked for
//
//   - the documented status, and on an error the one JSON error body
//     {"error": {"code", "message", "request_id"}} with the documented code;
//   - never a 5xx, and /healthz still answering after it;
//   - nothing lost: a body that reached the decoder (it passed
//     authentication, the content type and the size cap) is either kept as
//     a callback whose every message and status is readable, or in
//     quarantine with its exact bytes; a body that did not reach the decoder
//     changed no table at all.
//
// The server checks, in order: method (405), callback credentials (401),
// content type (415), body size (413), then decodes. So an oversized body
// with a wrong secret is a 401, and with a wrong content type a 415.
//
// Chosen behaviour where the input is ambiguous (decided by package
// callback; see callback/doc.go):
//
//   - Duplicate member names anywhere in the body, even inside an ignored
//     field, make the whole body invalid_json: two parsers could read it
//     differently, so it is not guessed at but quarantined whole.
//   - Nesting: the JSON reader's limit is 10,000 levels. A body nested
//     exactly 10,000 deep is well-formed JSON (so an array at top level is
//     unknown_envelope); one level more, or 10,000 levels below the envelope,
//     is invalid_json.
//   - Invalid UTF-8, raw control bytes (NUL included) in strings, a lone
//     surrogate escape and a byte order mark are invalid_json. An escaped
//     NUL ("\u0000") is a valid character and is stored verbatim.
//   - Amounts are exact: a price with 20 decimal places is too_many_decimals
//     unless they are all zeros (then it is exact and stored); 2.0 is a
//     quantity of 2 but 2.5 is invalid_quantity; a 400-digit number is
//     amount_overflow as a price and invalid_quantity as a quantity.
//   - Currencies are ISO 4217 codes, upper case: "inr" is unknown_currency.
//   - A price written as a JSON string of digits is accepted (providers do
//     send them); any other JSON kind is invalid_price.
//   - Unknown message types, unknown fields and unknown status values are
//     kept (with a warning), never rejected.
//   - One unusable message (zero quantity, say) quarantines only itself:
//     the callback answers 200 and its good messages are stored. A message
//     quarantined again later is answered with its existing entry, which
//     keeps the first body; the new body is kept as its callback row.
//   - Message ids are taken as they come: any string, even "..", "a/b" or
//     one of 10,000 bytes, is stored and read back through
//     /v1/messages/{id} with the id percent-encoded as one path segment
//     ("." and ".." as %2E, which url.PathEscape does not do).
//   - Only the first of repeated X-Callback-Secret headers is checked.
func TestHostileCorpus(t *testing.T) {
	h := newHostileEnv(t, true, nil)
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			before := h.counts(t)
			r := h.do(t, c.req)
			after := h.counts(t)
			if r.status >= 500 {
				t.Fatalf("server error: %s", r)
			}
			hostileNoRawMarkup(t, "answer", r)
			reached := (c.req.path == hostileKaleyra || c.req.path == hostileMeta) &&
				(r.status == http.StatusOK || r.status == http.StatusBadRequest)
			switch {
			case c.status == http.StatusOK:
				if r.status != http.StatusOK {
					t.Fatalf("status %s, want 200", r)
				}
			default:
				e := hostileErrorBody(t, r, c.status, c.code)
				if c.status == http.StatusBadRequest && e.Error.QuarantineID == 0 {
					t.Errorf("a 400 of the decoder without quarantine_id: %s", r)
				}
			}
			if c.allow != "" && r.header.Get("Allow") != c.allow {
				t.Errorf("Allow %q, want %q", r.header.Get("Allow"), c.allow)
			}
			if !reached {
				hostileUnchanged(t, before, after)
				h.healthy(t)
				return
			}
			a := h.checkKept(t, c.req.body, r, before, after)
			if a != nil {
				var got []string
				for _, it := range a.items() {
					got = append(got, it.Result)
				}
				if c.results != nil && strings.Join(got, " ") != strings.Join(c.results, " ") {
					t.Errorf("results %v, want %v", hostileShort(got), hostileShort(c.results))
				}
				if c.problem != "" && !a.hasProblem(c.problem) {
					t.Errorf("no problem %q in the answer %.2000s", c.problem, r.body)
				}
			}
			if c.check != nil {
				c.check(t, h, a)
			}
			h.healthy(t)
		})
	}
	t.Run("DatabaseIntact", func(t *testing.T) {
		var ok string
		if err := h.db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
			t.Errorf("integrity_check: %q %v", ok, err)
		}
		for _, p := range []string{"/readyz", "/v1/orders?limit=500", "/v1/messages?limit=500", "/v1/quarantine?limit=500"} {
			if r := h.api(t, p); r.status != http.StatusOK {
				t.Errorf("GET %s: %s", p, r)
			}
		}
		if n := h.counts(t)["orders"]; n < 10 {
			t.Errorf("%d orders after the corpus, want the stored ones", n)
		}
	})
}

// hostileCase is one entry of the corpus.
type hostileCase struct {
	name    string
	req     hostileRequest
	status  int    // the documented status
	code    string // error.code of an error answer
	allow   string // Allow header of a 405
	results []string
	// problem must be the code of some error or warning of a 200 answer.
	problem string
	// check runs after the generic checks; a is nil unless the answer is 200.
	check func(t *testing.T, h *hostileEnv, a *cbAnswer)
}

// hostileShort abbreviates a long result list for messages.
func hostileShort(s []string) string {
	if len(s) <= 12 {
		return fmt.Sprint(s)
	}
	return fmt.Sprintf("%v … (%d)", s[:12], len(s))
}

func hostileRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// Strings that must come back exactly as sent.
const (
	hostileScript = `<script>alert(document.cookie)</script>"><img src=x onerror=alert(1)>&amp;{{7*7}}${7*7}`
	hostileSQL    = `'; DROP TABLE orders; -- " OR 1=1; DELETE FROM messages WHERE ''=''; %_\`
	hostileUni    = "Ñandú 😀👩‍👩‍👧 你好 مرحبا עברית \u202eRTL\u202c e\u0301 \ufeff \u2028\u2029 𝕏 \U0010FFFD"
)

func hostileCases() []hostileCase {
	good := hkItem("SKU-1", "1", "1600", `"INR"`)
	order := func(n string, items ...string) []byte {
		return hkEnvelope(hostileFields{}, hkOrder("wamid.H-"+n, items...))
	}
	valid := order("VALID", good)
	kal := func(body []byte, hdr ...string) hostileRequest {
		return hostileCallbackRequest(hostileKaleyra, body, hdr...)
	}
	met := func(body []byte, hdr ...string) hostileRequest {
		return hostileCallbackRequest(hostileMeta, body, hdr...)
	}
	invalid := func(name string, body []byte) hostileCase {
		return hostileCase{name: name, req: kal(body), status: http.StatusBadRequest, code: "invalid_json"}
	}
	overCap := bytes.Repeat([]byte(" "), 4<<20+1)
	copy(overCap, order("OVERCAP", good))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(bytes.Repeat([]byte(`{"meta_object":{}}`), 100000))
	_ = zw.Close()
	dupBody := hkEnvelope(hostileFields{}, hkOrder("wamid.H-DUP1", good), hkText("wamid.H-DUP2", "hi"))

	cases := []hostileCase{
		// Not JSON: 400, whole body in quarantine.
		invalid("TruncatedJSON", valid[:len(valid)/2]),
		invalid("TruncatedInString", []byte(`{"meta_object":{"value":{"messages":[{"id":"wam`)),
		invalid("UnquotedNames", []byte(`{meta_object: {value: {}}}`)),
		invalid("TrailingComma", []byte(`{"meta_object":{"value":{"messages":[]},"field":"messages"},}`)),
		invalid("TrailingGarbage", append(bytes.Clone(valid), "xyz"...)),
		invalid("TwoValues", append(bytes.Clone(valid), valid...)),
		invalid("SingleQuotes", []byte(`{'meta_object': {}}`)),
		invalid("FormBodyAsJSON", []byte(`meta_object=1&extra_info=2`)),
		invalid("InvalidUTF8InString", hostileRaw("Sam\xff\xfe")),
		invalid("InvalidUTF8OutsideString", []byte("{\"meta_object\":\xc0{}}")),
		invalid("OverlongUTF8", hostileRaw("\xc0\xaf")),
		invalid("UTF16Surrogate", hostileRaw("\xed\xa0\x80")),
		invalid("LoneSurrogateEscape", hostileRaw(`Sam\ud800`)),
		invalid("ByteOrderMark", append([]byte("\xef\xbb\xbf"), valid...)),
		invalid("RawNULInString", hostileRaw("Sa\x00m")),
		invalid("RawNULAfterBody", append(bytes.Clone(valid), 0)),
		invalid("RawControlInString", hostileRaw("Sa\tm")),
		invalid("DuplicateTopLevelKeys", []byte(`{"meta_object":{"value":{}},"meta_object":{"value":{"messages":[]}}}`)),
		invalid("DuplicateKeysInMessage", hkEnvelope(hostileFields{}, `{"id":"wamid.H-DK1","id":"wamid.H-DK2","type":"text","text":{"body":"x"}}`)),
		invalid("DuplicateKeysInIgnoredField", hkEnvelope(hostileFields{}, `{"id":"wamid.H-DK3","type":"text","text":{"body":"x"},"zz":{"a":1,"a":2}}`)),
		invalid("DuplicateKeysInItem", order("DK4", `{"product_retailer_id":"a","quantity":1,"quantity":100,"item_price":1,"currency":"INR"}`)),
		{name: "Nesting10000ArraysTopLevel", req: kal([]byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))),
			status: http.StatusBadRequest, code: "unknown_envelope"},
		invalid("Nesting10001ArraysTopLevel", []byte(strings.Repeat("[", 10001)+strings.Repeat("]", 10001))),
		invalid("Nesting10000ObjectsInMessage", hkEnvelope(hostileFields{},
			`{"id":"wamid.H-DEEPOBJ","type":"text","x":`+strings.Repeat(`{"a":`, 10000)+`1`+strings.Repeat(`}`, 10000)+`}`)),
		invalid("Nesting10000ArraysAsMessages", []byte(`{"meta_object":{"value":{"messages":`+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+`}}}`)),
		invalid("Nesting10000ArraysUnclosed", []byte(strings.Repeat("[", 10000))),
		{name: "GzipBodyNotInflated", req: kal(gz.Bytes(), "Content-Encoding", "gzip"), status: http.StatusBadRequest, code: "invalid_json"},

		// JSON, but not a callback: 400, whole body in quarantine.
		{name: "EmptyBody", req: kal([]byte{}), status: http.StatusBadRequest, code: "empty_body"},
		{name: "WhitespaceBody", req: kal([]byte(" \r\n\t \n")), status: http.StatusBadRequest, code: "empty_body"},
		{name: "TopLevelNull", req: kal([]byte(`null`)), status: http.StatusBadRequest, code: "unknown_envelope"},
		{name: "TopLevelArray", req: kal([]byte(`[` + string(valid) + `]`)), status: http.StatusBadRequest, code: "unknown_envelope"},
		{name: "TopLevelString", req: kal([]byte(`"meta_object"`)), status: http.StatusBadRequest, code: "unknown_envelope"},
		{name: "TopLevelNumber", req: kal([]byte(`12345678901234567890e999`)), status: http.StatusBadRequest, code: "unknown_envelope"},
		{name: "EmptyObject", req: kal([]byte(`{}`)), status: http.StatusBadRequest, code: "unknown_envelope"},
		{name: "BothEnvelopes", req: kal([]byte(`{"meta_object":{"value":{}},"entry":[]}`)), status: http.StatusBadRequest, code: "unknown_envelope"},
		{name: "MetaObjectAsArray", req: kal([]byte(`{"meta_object":[{"value":{}}]}`)), status: http.StatusBadRequest, code: "invalid_field"},
		{name: "MessagesAsObject", req: kal([]byte(`{"meta_object":{"value":{"messages":{"id":"wamid.H-OBJ"}}}}`)), status: http.StatusBadRequest, code: "invalid_field"},
		{name: "MetaObjectWithoutValue", req: kal([]byte(`{"meta_object":{"field":"messages"}}`)), status: http.StatusBadRequest, code: "missing_field"},

		// Well-formed callbacks with unusable parts: 200, the part quarantined.
		{name: "Price400Digits", req: kal(order("P400", hkItem("SKU-1", "1", strings.Repeat("9", 400), `"INR"`))),
			status: http.StatusOK, results: []string{"quarantined"}, problem: "amount_overflow"},
		{name: "Quantity400Digits", req: kal(order("Q400", hkItem("SKU-1", strings.Repeat("9", 400), "1", `"INR"`))),
			status: http.StatusOK, results: []string{"quarantined"}, problem: "invalid_quantity"},
		{name: "HugeExponents", req: kal(hkEnvelope(hostileFields{},
			hkOrder("wamid.H-EXP1", hkItem("SKU-1", "1e400", "1", `"INR"`)),
			hkOrder("wamid.H-EXP2", hkItem("SKU-1", "1", "1e-400", `"INR"`)),
			hkOrder("wamid.H-EXP3", hkItem("SKU-1", "1", "0e999999999999", `"INR"`)))),
			status: http.StatusOK, results: []string{"quarantined", "quarantined", "stored"}},
		{name: "Price20Decimals", req: kal(order("P20", hkItem("SKU-1", "1", "1600.12345678901234567890", `"INR"`))),
			status: http.StatusOK, results: []string{"quarantined"}, problem: "too_many_decimals"},
		{name: "Price20ZeroDecimals", req: kal(order("P20Z", hkItem("SKU-1", "2", "1600.00000000000000000000", `"INR"`))),
			status: http.StatusOK, results: []string{"stored"}, check: hostileTotal("wamid.H-P20Z", "INR", 320000)},
		{name: "NegativeQuantity", req: kal(order("QNEG", hkItem("SKU-1", "-1", "1600", `"INR"`))),
			status: http.StatusOK, results: []string{"quarantined"}, problem: "invalid_quantity"},
		{name: "ZeroQuantity", req: kal(order("QZERO", hkItem("SKU-1", "0", "1600", `"INR"`))),
			status: http.StatusOK, results: []string{"quarantined"}, problem: "invalid_quantity"},
		{name: "FractionalQuantity", req: kal(hkEnvelope(hostileFields{},
			hkOrder("wamid.H-QFRAC", hkItem("SKU-1", "2.5", "1600", `"INR"`)),
			hkOrder("wamid.H-QINT", hkItem("SKU-1", "2.0", "1600", `"INR"`)))),
			status: http.StatusOK, results: []string{"quarantined", "stored"}, problem: "invalid_quantity",
			check: hostileTotal("wamid.H-QINT", "INR", 320000)},
		{name: "NegativePrice", req: kal(order("PNEG", hkItem("SKU-1", "1", "-1600", `"INR"`))),
			status: http.StatusOK, results: []string{"quarantined"}, problem: "negative_price"},
		{name: "UnknownCurrency", req: kal(order("CURXYZ", hkItem("SKU-1", "1", "1600", `"XYZ"`))),
			status: http.StatusOK, results: []string{"quarantined"}, problem: "unknown_currency"},
		{name: "LowercaseCurrency", req: kal(order("CURLOW", hkItem("SKU-1", "1", "1600", `"inr"`))),
			status: http.StatusOK, results: []string{"quarantined"}, problem: "unknown_currency"},
		{name: "MissingCurrency", req: kal(order("CURNONE", hkItem("SKU-1", "1", "1600", ""))),
			status: http.StatusOK, results: []string{"quarantined"}, problem: "unknown_currency"},
		{name: "WrongJSONKinds", req: kal(hkEnvelope(hostileFields{},
			hkOrder("wamid.H-KIND1", hkItem("SKU-1", "1", `"1600"`, `"INR"`)),
			hkOrder("wamid.H-KIND2", hkItem("SKU-1", "1", `{"amount":1600}`, `"INR"`)),
			hkOrder("wamid.H-KIND3", hkItem("SKU-1", "true", "1600", `"INR"`)),
			hkOrder("wamid.H-KIND4", hkItem("SKU-1", "1", "1600", `840`)),
			hkOrder("wamid.H-KIND5", `"not an item"`),
			hkOrder("wamid.H-KIND6"))),
			status: http.StatusOK, results: []string{"stored", "quarantined", "quarantined", "quarantined", "quarantined", "quarantined"},
			problem: "no_items"},
		{name: "BadMessageElements", req: kal(hkEnvelope(hostileFields{},
			`1`, `"text"`, `null`, `[]`, `{"type":"text","text":{"body":"no id"}}`, `{"id":"","type":"text"}`,
			hkText("wamid.H-GOODAMONGBAD", "fine"))),
			status: http.StatusOK, results: append(hostileRepeat("quarantined", 6), "stored"), problem: "missing_id"},
		{name: "GoodAndBadMessages", req: kal(hkEnvelope(hostileFields{},
			hkOrder("wamid.H-MIX1", good), hkOrder("wamid.H-MIX2", hkItem("SKU-1", "0", "1", `"INR"`)), hkText("wamid.H-MIX3", "hi"))),
			status: http.StatusOK, results: []string{"stored", "quarantined", "stored"}},
		{name: "UnknownTypeAndFields", req: kal(hostileUnknown()), status: http.StatusOK,
			results: []string{"stored", "stored"}, problem: "unknown_type", check: hostileUnknownKept},
		{name: "StatusUnknownValue", req: kal(hkStatuses(`{"id":"wamid.H-ST1","status":"teleported","timestamp":"1767225600","recipient_id":"919900000001"}`)),
			status: http.StatusOK, results: []string{"stored"}, problem: "unknown_status"},
		{name: "StatusMissingValue", req: kal(hkStatuses(`{"id":"wamid.H-ST2","timestamp":"1767225600"}`, `{"id":"wamid.H-ST3","status":"READ","timestamp":"x"}`)),
			status: http.StatusOK, results: []string{"quarantined", "stored"}, problem: "missing_field"},

		// Hostile text: stored verbatim, answered JSON-escaped.
		hostileEchoCase("ScriptText", hostileFieldsOf("SCRIPT", hostileScript)),
		hostileEchoCase("SQLText", hostileFieldsOf("SQL", hostileSQL)),
		hostileEchoCase("UnicodeEverywhere", hostileFieldsOf("UNI", hostileUni)),
		hostileEchoCase("EscapedNULEverywhere", hostileFieldsOf("NUL", "a\x00b\u0001\u001f")),
		hostileEchoCase("EmptyStringsEverywhere", hostileFields{ID: "wamid.H-EMPTYSTR", Product: "SKU-E"}),
		{name: "PathCharactersInIDs", req: kal(hkEnvelope(hostileFields{},
			hkText("wamid.H-a/b", "x"), hkText("wamid.H-a?b#c", "x"), hkText("wamid.H-%2e%2e", "x"), hkText(" ", "x"),
			hkText("wamid.H-"+strings.Repeat("x", 10000), "x"))),
			status: http.StatusOK, results: hostileRepeat("stored", 5)},
		// "." and ".." are read back as /v1/messages/%2E and /%2E%2E: unescaped,
		// they are dot segments that any HTTP stack removes.
		{name: "DotSegmentIDs", req: kal(hkEnvelope(hostileFields{}, hkText(".", "x"), hkText("..", "x"), hkText("wamid.H-../../x", "x"))),
			status: http.StatusOK, results: hostileRepeat("stored", 3)},

		// Big, but within the cap: accepted whole.
		hostileLongText(),
		hostileManyItems(),
		hostileThreeMB(),
		hostileManyMessages(),
		{name: "DeepButWithinLimit", req: kal(hkEnvelope(hostileFields{},
			`{"id":"wamid.H-DEEPOK","type":"text","text":{"body":"x"},"deep":`+strings.Repeat("[", 9990)+strings.Repeat("]", 9990)+`}`)),
			status: http.StatusOK, results: []string{"stored"}},

		// Duplicates: answered, nothing new created.
		{name: "DuplicateCallbackFirst", req: kal(dupBody), status: http.StatusOK, results: []string{"stored", "stored"}},
		{name: "DuplicateCallbackAgain", req: kal(dupBody), status: http.StatusOK, results: []string{"duplicate", "duplicate"}},
		{name: "SameIDTwiceInOneCallback", req: kal(hkEnvelope(hostileFields{}, hkText("wamid.H-TWICE", "a"), hkText("wamid.H-TWICE", "b"))),
			status: http.StatusOK, results: []string{"stored", "duplicate"}},
		// The first delivery under a message id wins: a later, different
		// message under the same id is a duplicate and creates nothing (its
		// body is still kept as a callback row). So here no order exists.
		{name: "SameIDOtherContentFirst", req: kal(hkEnvelope(hostileFields{}, hkText("wamid.H-SAMEID", "first"))),
			status: http.StatusOK, results: []string{"stored"}},
		{name: "SameIDOtherContentAgain", req: kal(order("SAMEID", good)), status: http.StatusOK, results: []string{"duplicate"},
			check: func(t *testing.T, h *hostileEnv, _ *cbAnswer) {
				var m hostileMessage
				h.apiJSON(t, "/v1/messages/wamid.H-SAMEID", http.StatusOK, &m)
				if m.Type != "text" {
					t.Errorf("message type %q, want the first delivery's text", m.Type)
				}
				h.apiJSON(t, "/v1/orders/wamid.H-SAMEID", http.StatusNotFound, nil)
			}},
		{name: "QuarantinedMessageAgain", req: kal(hkEnvelope(hostileFields{}, hkOrder("wamid.H-QZERO", hkItem("SKU-1", "0", "1600", `"INR"`)), hkText("wamid.H-QAGAIN", "x"))),
			status: http.StatusOK, results: []string{"quarantined", "stored"}},

		// Size cap (default 4 MiB).
		{name: "OverCap", req: kal(overCap), status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
		{name: "OverCapChunked", req: hostileChunked(kal(overCap)), status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
		{name: "OverCapWrongSecret", req: kal(overCap, "X-Callback-Secret", "wrong-secret-0123456789"), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "OverCapWrongType", req: kal(overCap, "Content-Type", "text/plain"), status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "OverCapMeta", req: met(overCap), status: http.StatusRequestEntityTooLarge, code: "body_too_large"},

		// Content types.
		{name: "TextPlain", req: kal(valid, "Content-Type", "text/plain"), status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "FormURLEncoded", req: kal(valid, "Content-Type", "application/x-www-form-urlencoded"), status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "Multipart", req: kal(valid, "Content-Type", "multipart/form-data; boundary=xyz"), status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "MissingContentType", req: kal(valid, "Content-Type", ""), status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "XML", req: kal(valid, "Content-Type", "application/xml"), status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "MalformedContentType", req: kal(valid, "Content-Type", "application/json; charset"), status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "JSONLookalike", req: kal(valid, "Content-Type", "application/jsonp"), status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "JSONWithCharset", req: kal(order("CT1", good), "Content-Type", "application/json; charset=utf-8"), status: http.StatusOK, results: []string{"stored"}},

		// Methods.
		{name: "MethodGET", req: hostileMethod(kal(valid), http.MethodGet), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},
		{name: "MethodPUT", req: hostileMethod(kal(valid), http.MethodPut), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},
		{name: "MethodDELETE", req: hostileMethod(kal(valid), http.MethodDelete), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},
		{name: "MethodPATCH", req: hostileMethod(kal(valid), http.MethodPatch), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},
		{name: "MethodOPTIONS", req: hostileMethod(kal(valid), http.MethodOptions), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},

		// Credentials.
		{name: "MissingSecret", req: kal(valid, "X-Callback-Secret", ""), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "WrongSecret", req: kal(valid, "X-Callback-Secret", "wrong-secret-0123456789"), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretPrefix", req: kal(valid, "X-Callback-Secret", hostileSecret[:len(hostileSecret)-1]), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretWithSuffix", req: kal(valid, "X-Callback-Secret", hostileSecret+"0"), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretUpperCase", req: kal(valid, "X-Callback-Secret", strings.ToUpper(hostileSecret)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretAsBearer", req: kal(valid, "X-Callback-Secret", "", "Authorization", "Bearer "+hostileSecret), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretAsBasic", req: kal(valid, "X-Callback-Secret", "", "Authorization", "Basic "+hostileBasic("kaleyra", hostileSecret)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretInOtherHeader", req: kal(valid, "X-Callback-Secret", "", "X-Api-Key", hostileSecret), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretInQuery", req: hostileQuery(kal(valid, "X-Callback-Secret", ""), "secret="+url.QueryEscape(hostileSecret)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "APITokenOnCallback", req: kal(valid, "X-Callback-Secret", "", "Authorization", "Bearer "+hostileAPIToken), status: http.StatusUnauthorized, code: "unauthorized"},
		// Only the first of repeated secret headers counts.
		{name: "WrongSecretThenRight", req: kal(valid, "X-Callback-Secret", "wrong-secret-0123456789", "X-Callback-Secret", hostileSecret), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaUnsigned", req: met(valid, "X-Hub-Signature-256", ""), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaWrongSignature", req: met(valid, "X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaSignatureOfOtherBody", req: met(valid, "X-Hub-Signature-256", hostileSign([]byte(`{}`))), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaSHA1Signature", req: met(valid, "X-Hub-Signature-256", "sha1="+strings.Repeat("0", 40)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaSignedInvalidJSON", req: met([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[`)), status: http.StatusBadRequest, code: "invalid_json"},
		{name: "MetaSignedInvalidUTF8", req: met([]byte("{\"object\":\"\xff\"}")), status: http.StatusBadRequest, code: "invalid_json"},
	}
	return cases
}

func hostileChunked(r hostileRequest) hostileRequest { r.chunked = true; return r }

func hostileMethod(r hostileRequest, method string) hostileRequest { r.method = method; return r }

func hostileQuery(r hostileRequest, q string) hostileRequest { r.path += "?" + q; return r }

func hostileBasic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

func hostileSign(body []byte) string { return callback.Sign(body, hostileMetaSecret) }

// hostileFields are the strings of one Kaleyra order callback.
type hostileFields struct {
	ID, WaID, Name                      string
	PhoneNumberID, DisplayPhone, WABAID string
	Ref, Ref1, Ref2, ReplyTo, TraceID   string
	CatalogID, Text, Product            string
}

// hostileFieldsOf puts s in every string field.
func hostileFieldsOf(tag, s string) hostileFields {
	return hostileFields{
		ID: "wamid.H-" + tag + "-" + s, WaID: s, Name: s,
		PhoneNumberID: s, DisplayPhone: s, WABAID: s,
		Ref: s, Ref1: s + "1", Ref2: s + "2", ReplyTo: s, TraceID: s,
		CatalogID: s, Text: s, Product: s,
	}
}

// hq quotes s as a JSON string, leaving <, > and & as they are.
func hq(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// hkEnvelope wraps raw message elements in a Kaleyra V2 envelope whose
// metadata, contact and extra_info come from f.
func hkEnvelope(f hostileFields, msgs ...string) []byte {
	return []byte(`{"meta_object":{"value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":` + hq(f.DisplayPhone) + `,"phone_number_id":` + hq(f.PhoneNumberID) + `},` +
		`"contacts":[{"profile":{"name":` + hq(f.Name) + `},"wa_id":` + hq(f.WaID) + `}],` +
		`"messages":[` + strings.Join(msgs, ",") + `]},"field":"messages"},` +
		`"extra_info":{"media_url":"","ref":` + hq(f.Ref) + `,"ref1":` + hq(f.Ref1) + `,"ref2":` + hq(f.Ref2) +
		`,"reply_to":` + hq(f.ReplyTo) + `,"trace_id":` + hq(f.TraceID) + `,"waba_id":` + hq(f.WABAID) + `}}`)
}

// hostileRaw replaces the placeholder name "RAW" of a body with raw bytes
// that no JSON encoder would write.
func hostileRaw(raw string) []byte {
	return bytes.Replace(hkEnvelope(hostileFields{Name: "RAW"}, hkOrder("wamid.H-RAW", hkItem("SKU-1", "1", "1600", `"INR"`))),
		[]byte(`"RAW"`), []byte(`"`+raw+`"`), 1)
}

// hkOrder is an order message with the given raw item elements.
func hkOrder(id string, items ...string) string {
	return hkOrderOf(hostileFields{ID: id, WaID: "919900000001", CatalogID: "1234567890", Text: "hello"}, items...)
}

func hkOrderOf(f hostileFields, items ...string) string {
	return `{"from":` + hq(f.WaID) + `,"id":` + hq(f.ID) + `,"timestamp":"1767225600","type":"order",` +
		`"order":{"catalog_id":` + hq(f.CatalogID) + `,"text":` + hq(f.Text) + `,"product_items":[` + strings.Join(items, ",") + `]}}`
}

// hkItem is a product item; quantity, price and currency are raw JSON, and
// an empty currency leaves the member out. A product id is inserted raw.
func hkItem(product, qty, price, currency string) string {
	s := `{"product_retailer_id":"` + product + `","quantity":` + qty + `,"item_price":` + price
	if currency != "" {
		s += `,"currency":` + currency
	}
	return s + `}`
}

func hkText(id, body string) string {
	return `{"from":"919900000001","id":` + hq(id) + `,"timestamp":"1767225600","type":"text","text":{"body":` + hq(body) + `}}`
}

// hkStatuses is a Kaleyra status callback with the given raw statuses.
func hkStatuses(statuses ...string) []byte {
	return []byte(`{"meta_object":{"value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"919800000001","phone_number_id":"100000000000001"},` +
		`"statuses":[` + strings.Join(statuses, ",") + `]},"field":"messages"},` +
		`"extra_info":{"waba_id":"200000000000001","trace_id":"t"}}`)
}

// deref is *p, or the zero value when p is nil (the field was absent).
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// hostileEchoCase posts an order carrying f's strings in every field and
// checks that the order, the message and a free-text search give them back
// exactly.
func hostileEchoCase(name string, f hostileFields) hostileCase {
	body := hkEnvelope(f, hkOrderOf(f, `{"product_retailer_id":`+hq(f.Product)+`,"quantity":2,"item_price":1600,"currency":"INR"}`))
	return hostileCase{
		name: name, req: hostileCallbackRequest(hostileKaleyra, body), status: http.StatusOK, results: []string{"stored"},
		check: func(t *testing.T, h *hostileEnv, _ *cbAnswer) {
			var o apiOrder
			h.apiJSON(t, "/v1/orders/"+hostileEscape(f.ID), http.StatusOK, &o)
			got := hostileFields{
				ID: o.ID, WaID: o.Customer.WaID, Name: o.Customer.Name,
				PhoneNumberID: o.Business.PhoneNumberID, DisplayPhone: o.Business.DisplayPhoneNumber, WABAID: o.Business.WABAID,
				Ref: o.Campaign.Ref, Ref1: o.Campaign.Ref1, Ref2: o.Campaign.Ref2, ReplyTo: deref(o.ReplyTo), TraceID: o.TraceID,
				CatalogID: o.CatalogID, Text: o.Text,
			}
			if len(o.Items) == 1 {
				got.Product = o.Items[0].ProductRetailerID
			}
			if got != f {
				t.Errorf("order came back changed:\n got %+q\nwant %+q", got, f)
			}
			if len(o.Totals) != 1 || deref(o.Totals[0].AmountMinor) != 320000 {
				t.Errorf("totals %+v, want INR 3200.00", o.Totals)
			}
			var m hostileMessage
			h.apiJSON(t, "/v1/messages/"+hostileEscape(f.ID), http.StatusOK, &m)
			if m.Customer.Name != f.Name {
				t.Errorf("message customer name %q, want %q", m.Customer.Name, f.Name)
			}
			if f.Text == "" {
				return
			}
			r := h.apiJSON(t, "/v1/orders?limit=500&q="+url.QueryEscape(f.Text), http.StatusOK, nil)
			if !bytes.Contains(r.body, []byte(`"id":`+hostileHTMLQuote(f.ID))) {
				t.Errorf("GET /v1/orders?q=<the order text> does not find the order: %.500s", r.body)
			}
		},
	}
}

// hostileHTMLQuote quotes s the way the server's JSON encoder does.
func hostileHTMLQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hostileTotal checks an order's single total.
func hostileTotal(id, currency string, minor int64) func(*testing.T, *hostileEnv, *cbAnswer) {
	return func(t *testing.T, h *hostileEnv, _ *cbAnswer) {
		var o apiOrder
		h.apiJSON(t, "/v1/orders/"+hostileEscape(id), http.StatusOK, &o)
		if len(o.Totals) != 1 || o.Totals[0].Currency != currency || deref(o.Totals[0].AmountMinor) != minor {
			t.Errorf("order %s totals %+v, want %s %d minor units", id, o.Totals, currency, minor)
		}
	}
}

// hostileUnknown is a callback full of things this version does not know.
func hostileUnknown() []byte {
	return []byte(`{"meta_object":{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"919800000001","phone_number_id":"100000000000001"},` +
		`"contacts":[{"profile":{"name":"Asha","x_pronouns":"she"},"wa_id":"919900000001"}],"messages":[` +
		`{"from":"919900000001","id":"wamid.H-UNK1","timestamp":"1767225600","type":"hologram","hologram":{"frames":[1,2,3]},"x_future":{"a":[true,null]}},` +
		`{"from":"919900000001","id":"wamid.H-UNK2","timestamp":"1767225600","type":"text","text":{"body":"hi","x_new":1},"x_other":"y"}` +
		`],"x_value_field":1},"field":"messages","x_change":2},"extra_info":{"x_extra":3},"x_top":{"deep":[1]}}`)
}

func hostileUnknownKept(t *testing.T, h *hostileEnv, _ *cbAnswer) {
	for id, want := range map[string][]string{
		"wamid.H-UNK1": {`"type":"hologram"`, `"hologram":{"frames":[1,2,3]}`, `"x_future":{"a":[true,null]}`},
		"wamid.H-UNK2": {`"x_new":1`, `"x_other":"y"`},
	} {
		var m hostileMessage
		h.apiJSON(t, "/v1/messages/"+id, http.StatusOK, &m)
		for _, w := range want {
			if !bytes.Contains(m.Raw, []byte(w)) {
				t.Errorf("message %s: raw %s does not keep %s", id, m.Raw, w)
			}
		}
	}
}

// hostileLongText is a text message with a body of 1 MB.
func hostileLongText() hostileCase {
	text := strings.Repeat("Ab€😀", 1<<20/10)
	return hostileCase{
		name: "OneMegabyteText", req: hostileCallbackRequest(hostileKaleyra, hkEnvelope(hostileFields{}, hkText("wamid.H-LONGTEXT", text))),
		status: http.StatusOK, results: []string{"stored"},
		check: func(t *testing.T, h *hostileEnv, _ *cbAnswer) {
			var m hostileMessage
			h.apiJSON(t, "/v1/messages/wamid.H-LONGTEXT", http.StatusOK, &m)
			var raw struct {
				Text struct {
					Body string `json:"body"`
				} `json:"text"`
			}
			if err := json.Unmarshal(m.Raw, &raw); err != nil || raw.Text.Body != text {
				t.Errorf("the 1 MB text came back with %d bytes (%v), want %d", len(raw.Text.Body), err, len(text))
			}
		},
	}
}

// hostileManyItems is one order of 1,000 items.
func hostileManyItems() hostileCase {
	items := make([]string, 1000)
	var units int64
	for i := range items {
		q := int64(i%5 + 1)
		units += q
		items[i] = hkItem(fmt.Sprintf("SKU-%04d", i), strconv.FormatInt(q, 10), "12.34", `"USD"`)
	}
	total := hostileTotal("wamid.H-1000ITEMS", "USD", units*1234)
	return hostileCase{
		name:   "ThousandItems",
		req:    hostileCallbackRequest(hostileKaleyra, hkEnvelope(hostileFields{}, hkOrder("wamid.H-1000ITEMS", items...))),
		status: http.StatusOK, results: []string{"stored"},
		check: func(t *testing.T, h *hostileEnv, a *cbAnswer) {
			total(t, h, a)
			var o apiOrder
			h.apiJSON(t, "/v1/orders/wamid.H-1000ITEMS", http.StatusOK, &o)
			if len(o.Items) != 1000 || o.Items[999].ProductRetailerID != "SKU-0999" || o.Items[999].Quantity != 5 {
				t.Errorf("order has %d items, want 1,000 in order", len(o.Items))
			}
		},
	}
}

// hostileThreeMB is a valid callback of about 3 MB (Meta's own limit).
func hostileThreeMB() hostileCase {
	msgs := []string{hkOrder("wamid.H-3MB-ORDER", hkItem("SKU-1", "3", "999.99", `"INR"`))}
	for i := range 30 {
		msgs = append(msgs, hkText(fmt.Sprintf("wamid.H-3MB-%02d", i), strings.Repeat(string(rune('a'+i%26)), 100000)))
	}
	body := hkEnvelope(hostileFields{}, msgs...)
	return hostileCase{
		name: "ThreeMegabytes", req: hostileCallbackRequest(hostileKaleyra, body),
		status: http.StatusOK, results: hostileRepeat("stored", 31),
		check: func(t *testing.T, h *hostileEnv, _ *cbAnswer) {
			if len(body) < 3_000_000 || len(body) > 4<<20 {
				t.Fatalf("body is %d bytes, want about 3 MB", len(body))
			}
		},
	}
}

// hostileManyMessages is one callback of 10,000 messages: mostly text, an
// order every 100th, and every 1,000th without an id.
func hostileManyMessages() hostileCase {
	msgs := make([]string, 10000)
	results := make([]string, 10000)
	for i := range msgs {
		id := fmt.Sprintf("wamid.H-MANY-%05d", i)
		switch {
		case i%1000 == 999:
			msgs[i], results[i] = `{"from":"919900000001","type":"text","text":{"body":"lost id"}}`, "quarantined"
		case i%100 == 0:
			msgs[i], results[i] = hkOrder(id, hkItem("SKU-1", "1", "10", `"INR"`)), "stored"
		default:
			msgs[i], results[i] = hkText(id, "message "+strconv.Itoa(i)), "stored"
		}
	}
	return hostileCase{
		name: "TenThousandMessages", req: hostileCallbackRequest(hostileKaleyra, hkEnvelope(hostileFields{}, msgs...)),
		status: http.StatusOK, results: results,
		check: func(t *testing.T, h *hostileEnv, a *cbAnswer) {
			for i, it := range a.Messages {
				if results[i] == "stored" && it.ID != fmt.Sprintf("wamid.H-MANY-%05d", i) {
					t.Fatalf("message %d answered as %q: the answer is not in order", i, it.ID)
				}
			}
			hostileTotal("wamid.H-MANY-09900", "INR", 1000)(t, h, a)
		},
	}
}

// TestHostileSlowClients opens many connections that never finish their
// request (headers, a Content-Length body, a chunked body, or nothing at
// all) on a server with a short ReadTimeout. While they hang the server
// keeps serving others; then it closes every one of them itself, and
// nothing of theirs is stored. A stalled body is answered 400 "invalid"
// (the body could not be read; it never reached the decoder), stalled
// headers get net/http's own 400 or nothing.
func TestHostileSlowClients(t *testing.T) {
	h := newHostileEnv(t, true, func(c *server.Config) {
		c.ReadTimeout = 500 * time.Millisecond
		c.ReadHeaderTimeout = 500 * time.Millisecond
	})
	body := string(hkEnvelope(hostileFields{}, hkOrder("wamid.H-SLOW", hkItem("SKU-1", "1", "1600", `"INR"`))))
	head := "POST " + hostileKaleyra + " HTTP/1.1\r\nHost: hostile.test\r\nContent-Type: application/json\r\nX-Callback-Secret: " + hostileSecret + "\r\n"
	stalls := []struct{ name, sent string }{
		{"BodyNeverFinished", head + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body[:len(body)/2]},
		{"ChunkedNeverFinished", head + "Transfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body[:len(body)/2]},
		{"ChunkedNoLastChunk", head + "Transfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n"},
		{"HeadersNeverFinished", head[:40]},
		{"NothingSent", ""},
	}
	before := h.counts(t)
	const perKind = 10
	type stalled struct {
		name, sent string
		conn       net.Conn
	}
	var conns []stalled
	for _, s := range stalls {
		for range perKind {
			c, err := net.Dial("tcp", h.srv.Addr().String())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			t.Cleanup(func() { c.Close() })
			if _, err := io.WriteString(c, s.sent); err != nil {
				t.Fatalf("%s: write: %v", s.name, err)
			}
			conns = append(conns, stalled{s.name, s.sent, c})
		}
	}

	// The stalled connections hold no one else up.
	h.healthy(t)
	ok := hostileCallbackRequest(hostileKaleyra, hkEnvelope(hostileFields{}, hkOrder("wamid.H-NOTSLOW", hkItem("SKU-1", "1", "1600", `"INR"`))))
	if r := h.do(t, ok); r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"stored"`)) {
		t.Fatalf("a callback beside the stalled ones: %s", r)
	}

	// The server closes each stalled connection itself; the test's own
	// deadline is only a safety net.
	for _, s := range conns {
		_ = s.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		got, err := io.ReadAll(s.conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("%s: the server kept the connection open", s.name)
		}
		if len(got) == 0 {
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
		if err != nil {
			t.Fatalf("%s: answer %q: %v", s.name, got, err)
		}
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s: status %d, want a 4xx", s.name, resp.StatusCode)
		}
		if strings.Contains(s.sent, "\r\n\r\n") {
			// The handler was reached: its answer is the JSON error.
			b, _ := io.ReadAll(resp.Body)
			hostileErrorBody(t, reply{status: resp.StatusCode, header: resp.Header, body: b}, http.StatusBadRequest, "invalid")
		}
	}
	after := h.counts(t)
	hostileDelta(t, before, after, map[string]int{"callbacks": 1, "messages": 1, "orders": 1, "quarantine": 0})
	if r := h.api(t, "/v1/messages/wamid.H-SLOW"); r.status != http.StatusNotFound {
		t.Errorf("the unfinished body was stored: %s", r)
	}
	h.healthy(t)
}

// Helpers of the corpus above and of the handler fuzz target (fuzz_test.go).
// Every name starts with "hostile" (or hk, for body builders) so that this
// file compiles beside the package's other test helpers.

// Credentials of the hostile servers: only the secret header is enabled for
// the Kaleyra endpoint, so a secret sent anywhere else is no credential.
const (
	hostileSecret     = "hostile-callback-secret-0123456789"
	hostileAPIToken   = "hostile-api-token-0123456789abcdef"
	hostileMetaSecret = "hostile-meta-app-secret-0123456789"
	hostileKaleyra    = "/v1/callbacks/kaleyra"
	hostileMeta       = "/v1/callbacks/meta"
)

// hostileTables are the tables whose row counts must only change when a
// body reached the decoder.
var hostileTables = []string{"callbacks", "quarantine", "messages", "orders", "order_items", "statuses"}

// hostileEnv is a real server (real SQLite store in a temp dir, real
// intake, real authenticator) and a read-only view of its database file.
type hostileEnv struct {
	srv     *server.Server
	store   *sqlite.Store
	handler http.Handler
	db      *sql.DB
	base    string // "" unless listening on TCP
	client  *http.Client
	// kept maps every quarantine id seen to the body first kept under it: a
	// message quarantined again later still shows its first body.
	kept map[int64][]byte
}

// newHostileEnv builds the server; listen starts it on 127.0.0.1:0 (else
// only env.handler is usable). configure may adjust the configuration.
func newHostileEnv(tb testing.TB, listen bool, configure func(*server.Config)) *hostileEnv {
	tb.Helper()
	var dir string
	if _, fuzzing := tb.(*testing.F); fuzzing {
		dir = hostileShmDir(tb)
	}
	cfg := server.Config{
		Addr:           "127.0.0.1:0",
		APITokens:      []string{hostileAPIToken},
		MetaAppSecrets: []string{hostileMetaSecret},
	}
	if configure != nil {
		configure(&cfg)
	}
	s := newStack(tb, stackConfig{dir: dir, auth: &callbackauth.Config{Secrets: []string{hostileSecret}}, server: cfg, listen: listen})
	env := &hostileEnv{
		srv: s.srv, store: s.store, handler: s.srv.Handler(), db: s.inspect,
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{}},
		kept:   map[int64][]byte{},
	}
	if listen {
		env.base = s.srv.URL()
	}
	tb.Cleanup(env.client.CloseIdleConnections) // runs before the stack's teardown
	return env
}

// hostileRequest is one request to send.
type hostileRequest struct {
	method  string
	path    string
	body    []byte
	chunked bool     // send without Content-Length
	header  []string // name, value pairs; an empty value removes the header
}

// do sends req over TCP when the server listens, else through the handler.
func (h *hostileEnv) do(tb testing.TB, req hostileRequest) reply {
	tb.Helper()
	var rd io.Reader
	if req.body != nil {
		rd = bytes.NewReader(req.body)
		if req.chunked {
			rd = io.MultiReader(rd) // hides the length: Transfer-Encoding: chunked
		}
	}
	var r *http.Request
	if h.base == "" {
		r = newHostileRecorderRequest(req.method, req.path, rd)
	} else {
		var err error
		if r, err = http.NewRequest(req.method, h.base+req.path, rd); err != nil {
			tb.Fatalf("new request: %v", err)
		}
	}
	for i := 0; i+1 < len(req.header); i += 2 {
		if req.header[i+1] == "" {
			r.Header.Del(req.header[i])
		} else {
			r.Header.Add(req.header[i], req.header[i+1])
		}
	}
	if h.base == "" {
		rec := &hostileRecorder{header: http.Header{}}
		h.handler.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		return reply{status: rec.status, header: rec.header, body: rec.body.Bytes()}
	}
	resp, err := h.client.Do(r)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read answer: %v", req.method, req.path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// newHostileRecorderRequest builds a server-side request without
// httptest.NewRequest, which panics on targets it cannot parse.
func newHostileRecorderRequest(method, target string, body io.Reader) *http.Request {
	u := &url.URL{Path: target}
	if p, err := url.ParseRequestURI(target); err == nil {
		u = p
	}
	r := &http.Request{
		Method: method, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Host: "hostile.test", RemoteAddr: "192.0.2.1:1234",
	}
	r = r.WithContext(context.Background())
	if body != nil {
		r.Body = io.NopCloser(body)
		if br, ok := body.(*bytes.Reader); ok {
			r.ContentLength = int64(br.Len())
		} else {
			r.ContentLength = -1
		}
	} else {
		r.Body = http.NoBody
	}
	return r
}

// hostileRecorder is a minimal http.ResponseWriter; it keeps the first
// status like a real connection does.
type hostileRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *hostileRecorder) Header() http.Header { return w.header }

func (w *hostileRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *hostileRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// callbackRequest is a POST of body to path with what a legitimate sender
// sends: Content-Type application/json and the secret header (or, on the
// Meta endpoint, the signature), then the extra header pairs.
func hostileCallbackRequest(path string, body []byte, header ...string) hostileRequest {
	def := []string{"Content-Type", "application/json"}
	if path == hostileMeta {
		def = append(def, callback.SignatureHeader, callback.Sign(body, hostileMetaSecret))
	} else {
		def = append(def, "X-Callback-Secret", hostileSecret)
	}
	// Later pairs override earlier ones: drop defaults the caller sets.
	for i := 0; i+1 < len(header); i += 2 {
		for j := 0; j+1 < len(def); j += 2 {
			if http.CanonicalHeaderKey(def[j]) == http.CanonicalHeaderKey(header[i]) {
				def = slices.Delete(def, j, j+2)
				break
			}
		}
	}
	return hostileRequest{method: http.MethodPost, path: path, body: body, header: append(def, header...)}
}

// api GETs an API path with the API token. Every JSON answer is checked to
// carry no raw '<', '>' or '&': customer text is hostile.
func (h *hostileEnv) api(tb testing.TB, path string) reply {
	tb.Helper()
	r := h.do(tb, hostileRequest{method: http.MethodGet, path: path, header: []string{"Authorization", "Bearer " + hostileAPIToken}})
	hostileNoRawMarkup(tb, "GET "+path, r)
	return r
}

// apiJSON is api for an answer that must be want, decoded into out.
func (h *hostileEnv) apiJSON(tb testing.TB, path string, want int, out any) reply {
	tb.Helper()
	r := h.api(tb, path)
	if r.status != want {
		tb.Fatalf("GET %s: %s, want %d", path, r, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			tb.Fatalf("GET %s: decode %s: %v", path, r, err)
		}
	}
	return r
}

func hostileNoRawMarkup(tb testing.TB, what string, r reply) {
	tb.Helper()
	if strings.HasPrefix(r.header.Get("Content-Type"), "application/json") && bytes.ContainsAny(r.body, "<>&") {
		i := bytes.IndexAny(r.body, "<>&")
		tb.Errorf("%s: raw markup in a JSON answer near %q", what, r.body[max(0, i-40):min(len(r.body), i+40)])
	}
}

// healthy checks that the server still answers /healthz.
func (h *hostileEnv) healthy(tb testing.TB) {
	tb.Helper()
	r := h.do(tb, hostileRequest{method: http.MethodGet, path: "/healthz"})
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"ok"`)) {
		tb.Fatalf("GET /healthz: %s, want 200 ok", r)
	}
}

// counts reads the row count of every table in hostileTables.
func (h *hostileEnv) counts(tb testing.TB) map[string]int {
	tb.Helper()
	out := make(map[string]int, len(hostileTables))
	for _, table := range hostileTables {
		var n int
		if err := h.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			tb.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// hostileError is the one error body shape.
type hostileError struct {
	Error struct {
		Code         string `json:"code"`
		Message      string `json:"message"`
		RequestID    string `json:"request_id"`
		Path         string `json:"path"`
		QuarantineID int64  `json:"quarantine_id"`
	} `json:"error"`
}

// hostileErrorBody checks that r is a JSON error with status and code (any
// code when code is ""), a message, and a request id equal to X-Request-ID.
func hostileErrorBody(tb testing.TB, r reply, status int, code string) hostileError {
	tb.Helper()
	var e hostileError
	if r.status != status {
		tb.Fatalf("status %s, want %d %s", r, status, code)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type %q, want JSON", ct)
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		tb.Fatalf("error body %s: %v", r, err)
	}
	if e.Error.Code == "" || (code != "" && e.Error.Code != code) || e.Error.Message == "" {
		tb.Errorf("error %s: want code %q and a message", r, code)
	}
	if e.Error.RequestID == "" || e.Error.RequestID != r.header.Get("X-Request-ID") {
		tb.Errorf("request_id %q, X-Request-ID %q: want equal and set", e.Error.RequestID, r.header.Get("X-Request-ID"))
	}
	return e
}

func (a *cbAnswer) items() []cbItem { return append(slices.Clip(a.Messages), a.Statuses...) }

// hasProblem reports whether any item carries a problem with code.
func (a *cbAnswer) hasProblem(code string) bool {
	for _, it := range a.items() {
		for _, p := range append(slices.Clip(it.Errors), it.Warnings...) {
			if p.Code == code {
				return true
			}
		}
	}
	return false
}

// checkKept is the "nothing lost" check of one request whose body reached
// the decoder: on 200 the callback row keeps the exact body and every
// message and status of the answer is readable (stored or duplicate) or in
// quarantine with the exact body; on 400 the answer names a quarantine entry
// that holds the exact body. before and after are the table counts around
// the request, or nil to skip that check. It returns the decoded 200 answer
// (nil on 400).
func (h *hostileEnv) checkKept(tb testing.TB, sent []byte, r reply, before, after map[string]int) *cbAnswer {
	tb.Helper()
	switch r.status {
	case http.StatusBadRequest:
		var e hostileError
		if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" {
			tb.Fatalf("400 without an error code: %s", r)
		}
		if e.Error.QuarantineID <= 0 {
			tb.Fatalf("400 without quarantine_id: %s", r)
		}
		q := h.checkQuarantine(tb, e.Error.QuarantineID, sent)
		if q.Kind != "body" || q.Reason != e.Error.Code || q.CallbackID != e.Error.RequestID {
			tb.Errorf("quarantine %d: kind %q reason %q callback %q, want body, %q, %q",
				q.ID, q.Kind, q.Reason, q.CallbackID, e.Error.Code, e.Error.RequestID)
		}
		hostileDelta(tb, before, after, map[string]int{"quarantine": 1})
		return nil
	case http.StatusOK:
	default:
		tb.Fatalf("checkKept on %s", r)
	}
	var a cbAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		tb.Fatalf("callback answer %s: %v", r, err)
	}
	if a.RequestID == "" || a.RequestID != r.header.Get("X-Request-ID") {
		tb.Errorf("request_id %q, X-Request-ID %q: want equal and set", a.RequestID, r.header.Get("X-Request-ID"))
	}
	var raw []byte
	if err := h.db.QueryRow("SELECT body FROM callbacks WHERE id = ?", a.RequestID).Scan(&raw); err != nil {
		tb.Fatalf("callback row %s: %v", a.RequestID, err)
	}
	if !bytes.Equal(raw, sent) {
		tb.Errorf("callback row %s keeps %d bytes, not the %d sent", a.RequestID, len(raw), len(sent))
	}
	newQ := map[int64]bool{}
	var listed map[string]bool // ids from GET /v1/messages, for big answers
	if len(a.Messages) > 200 {
		listed = h.listedMessages(tb)
	}
	for _, it := range a.Messages {
		switch it.Result {
		case "stored", "duplicate":
			if listed != nil {
				if !listed[it.ID] {
					tb.Errorf("message %q (%s) is not in GET /v1/messages", it.ID, it.Result)
				}
				continue
			}
			h.checkMessage(tb, it)
		case "quarantined":
			if !h.knownQuarantine(it.QuarantineID) {
				newQ[it.QuarantineID] = true
			}
			h.checkQuarantine(tb, it.QuarantineID, sent)
			if len(it.Errors) == 0 {
				tb.Errorf("message %q quarantined without errors", it.ID)
			}
		default:
			tb.Errorf("message %q: result %q", it.ID, it.Result)
		}
	}
	for _, it := range a.Statuses {
		switch it.Result {
		case "stored", "duplicate":
			sts, err := h.store.ListStatuses(context.Background(), it.ID)
			if err != nil || !slices.ContainsFunc(sts, func(s *waorders.StatusUpdate) bool { return s.Status == it.Status }) {
				tb.Errorf("status %q %q (%s) not in storage: %v", it.ID, it.Status, it.Result, err)
			}
		case "quarantined":
			if !h.knownQuarantine(it.QuarantineID) {
				newQ[it.QuarantineID] = true
			}
			h.checkQuarantine(tb, it.QuarantineID, sent)
		default:
			tb.Errorf("status %q: result %q", it.ID, it.Result)
		}
	}
	var messages, orders, statuses int
	for _, it := range a.Messages {
		if it.Result == "stored" {
			messages++
			if it.Type == "order" {
				orders++
			}
		}
	}
	for _, it := range a.Statuses {
		if it.Result == "stored" {
			statuses++
		}
	}
	hostileDelta(tb, before, after, map[string]int{
		"callbacks": 1, "quarantine": len(newQ), "messages": messages, "orders": orders, "statuses": statuses,
	})
	return &a
}

// hostileDelta checks the change of the tables named in want.
func hostileDelta(tb testing.TB, before, after, want map[string]int) {
	tb.Helper()
	if before == nil || after == nil {
		return
	}
	for table, n := range want {
		if got := after[table] - before[table]; got != n {
			tb.Errorf("%s: %d new rows, want %d", table, got, n)
		}
	}
}

// hostileUnchanged checks that a request stored nothing at all.
func hostileUnchanged(tb testing.TB, before, after map[string]int) {
	tb.Helper()
	for _, table := range hostileTables {
		if before[table] != after[table] {
			tb.Errorf("%s: %d rows before, %d after: a request that never reached the decoder changed storage", table, before[table], after[table])
		}
	}
}

func (h *hostileEnv) knownQuarantine(id int64) bool {
	_, ok := h.kept[id]
	return ok
}

// listedMessages pages GET /v1/messages and returns every id.
func (h *hostileEnv) listedMessages(tb testing.TB) map[string]bool {
	tb.Helper()
	ids := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
			NextCursor string `json:"next_cursor"`
		}
		h.apiJSON(tb, "/v1/messages?limit=500&cursor="+url.QueryEscape(cursor), http.StatusOK, &page)
		for _, m := range page.Messages {
			ids[m.ID] = true
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

// hostileMessage is the part of GET /v1/messages/{id} the corpus checks.
type hostileMessage struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Customer struct{ Name string }
	Raw      json.RawMessage `json:"raw"`
}

// checkMessage reads a stored message back through the API, and its order
// when it is one.
func (h *hostileEnv) checkMessage(tb testing.TB, it cbItem) {
	tb.Helper()
	var m hostileMessage
	r := h.api(tb, "/v1/messages/"+hostileEscape(it.ID))
	if r.status != http.StatusOK {
		tb.Errorf("message %q (%s) is not readable: %s", it.ID, it.Result, r)
		return
	}
	if err := json.Unmarshal(r.body, &m); err != nil || m.ID != it.ID {
		tb.Errorf("GET message %q: id %q (%v)", it.ID, m.ID, err)
	}
	if it.Result == "stored" && m.Type != it.Type {
		tb.Errorf("message %q stored as type %q, answered as %q", it.ID, m.Type, it.Type)
	}
	// A duplicate is the message first stored under the id, whatever this
	// delivery says it is: only an order stored as one has an order.
	if it.Type == "order" && m.Type == "order" {
		if r := h.api(tb, "/v1/orders/"+hostileEscape(it.ID)); r.status != http.StatusOK {
			tb.Errorf("order %q (%s) is not readable: %s", it.ID, it.Result, r)
		}
	}
}

// hostileQuarantine is GET /v1/quarantine/{id}.
type hostileQuarantine struct {
	ID         int64   `json:"id"`
	Kind       string  `json:"kind"`
	CallbackID string  `json:"callback_id"`
	MessageID  string  `json:"message_id"`
	Reason     string  `json:"reason"`
	Body       *string `json:"body"`
	BodyBase64 string  `json:"body_base64"`
}

// checkQuarantine reads entry id and checks that it keeps sent exactly (or,
// for an entry already seen, the body first kept under it).
func (h *hostileEnv) checkQuarantine(tb testing.TB, id int64, sent []byte) hostileQuarantine {
	tb.Helper()
	want, seen := h.kept[id]
	if !seen {
		want = sent
	}
	var q hostileQuarantine
	if id <= 0 {
		tb.Errorf("quarantine id %d", id)
		return q
	}
	h.apiJSON(tb, "/v1/quarantine/"+strconv.FormatInt(id, 10), http.StatusOK, &q)
	got := hostileQuarantineBody(tb, q)
	if !bytes.Equal(got, want) {
		tb.Errorf("quarantine %d keeps %d bytes %.80q, want the %d bytes sent %.80q", id, len(got), got, len(want), want)
	}
	h.kept[id] = bytes.Clone(want) // the fuzzer reuses its input buffer
	return q
}

// hostileQuarantineBody returns the exact bytes of an entry's view: the
// base64 form when the body is not UTF-8, else the text.
func hostileQuarantineBody(tb testing.TB, q hostileQuarantine) []byte {
	tb.Helper()
	if q.BodyBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(q.BodyBase64)
		if err != nil {
			tb.Fatalf("quarantine %d: body_base64: %v", q.ID, err)
		}
		if utf8.Valid(b) {
			tb.Errorf("quarantine %d: body_base64 given for a UTF-8 body", q.ID)
		}
		return b
	}
	if q.Body == nil {
		tb.Fatalf("quarantine %d: no body", q.ID)
		return nil
	}
	return []byte(*q.Body)
}

// hostileEscape escapes an id as one path segment. url.PathEscape leaves
// "." and ".." alone, but as segments they would be removed: RFC 3986 says
// to percent-encode them.
func hostileEscape(id string) string {
	if strings.Trim(id, ".") == "" {
		return strings.ReplaceAll(id, ".", "%2E")
	}
	return url.PathEscape(id)
}

// hostileShmDir is a fresh directory for the fuzzer's database: in
// memory-backed /dev/shm when the machine has one, so that the fuzzer is not
// bound by the disk's fsync (the store still runs synchronous=FULL; only the
// medium differs), else under tb.TempDir. The fuzzing engine kills its
// worker processes without running cleanups, so the name carries the
// process id and directories of processes that are gone are removed first.
func hostileShmDir(tb testing.TB) string {
	tb.Helper()
	const prefix = "waorders-fuzz-"
	if _, err := os.Stat("/proc/self"); err != nil {
		return tb.TempDir() // no way to tell dead processes apart
	}
	stale, _ := filepath.Glob(filepath.Join("/dev/shm", prefix+"*"))
	for _, d := range stale {
		pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), prefix), "-")
		if _, err := os.Stat("/proc/" + pid); os.IsNotExist(err) {
			_ = os.RemoveAll(d)
		}
	}
	dir, err := os.MkdirTemp("/dev/shm", prefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return tb.TempDir()
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
