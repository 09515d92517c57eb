package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
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
	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
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
//   - One unusable message (an order without lines, say) quarantines only itself:
//     the callback answers 200 and its good messages are stored. A message
//     quarantined again later is answered with its existing entry, which
//     keeps the first body; the new body is kept as its callback row.
//   - Message ids are taken as they come: any string, even "..", "a/b" or
//     one of 10,000 bytes, is stored and read back through
//     /v1/messages/{id} with the id percent-encoded as one path segment
//     ("." and ".." as %2E, which url.PathEscape does not do).
//   - Only the first of repeated X-Callback-Secret headers is checked.
func TestHostileCorpus(t *testing.T) {
	t.Parallel()
	// One server for the whole corpus: cases run in order, and some build on
	// the ones before (a duplicate, a message quarantined again).
	h := newCorpus(setup(t, listen(), secretOnly()))
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			before := h.storedRows(t)
			r := h.do(t, c.req)
			after := h.storedRows(t)
			if r.status >= 500 {
				t.Fatalf("server error: %s", r)
			}
			hostileNoRawMarkup(t, "answer", r)
			reached := (c.req.path == kaleyraPath || c.req.path == metaPath) &&
				(r.status == http.StatusOK || r.status == http.StatusBadRequest)
			switch {
			case c.status == http.StatusOK:
				if r.status != http.StatusOK {
					t.Fatalf("status %s, want 200", r)
				}
			default:
				e := wantError(t, r, c.status, c.code)
				if c.status == http.StatusBadRequest && e.QuarantineID == 0 {
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
			if r := h.read(t, p); r.status != http.StatusOK {
				t.Errorf("GET %s: %s", p, r)
			}
		}
		if n := h.storedRows(t)["orders"]; n < 10 {
			t.Errorf("%d orders after the corpus, want the stored ones", n)
		}
	})
}

// hostileCase is one entry of the corpus.
type hostileCase struct {
	name    string
	req     request
	status  int    // the documented status
	code    string // error.code of an error answer
	allow   string // Allow header of a 405
	results []string
	// problem must be the code of some error or warning of a 200 answer.
	problem string
	// check runs after the generic checks; a is nil unless the answer is 200.
	check func(t *testing.T, h *corpus, a *cbAnswer)
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
	kal, met := kaleyraRequest, metaRequest
	invalid := func(name string, body []byte) hostileCase {
		return hostileCase{name: name, req: kal(body), status: http.StatusBadRequest, code: "invalid_json"}
	}
	valid := hkBody(hkGood("VALID"))
	overCap := bytes.Repeat([]byte(" "), 4<<20+1)
	copy(overCap, hkBody(hkGood("OVERCAP")))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(bytes.Repeat([]byte(`{"meta_object":{}}`), 100000))
	_ = zw.Close()
	dupBody := hkBody(hkGood("DUP1"), testkit.Text("wamid.H-DUP2", "hi"))

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
		invalid("DuplicateKeysInMessage", hkRaw(`{"id":"wamid.H-DK1","id":"wamid.H-DK2","type":"text","text":{"body":"x"}}`)),
		invalid("DuplicateKeysInIgnoredField", hkRaw(`{"id":"wamid.H-DK3","type":"text","text":{"body":"x"},"zz":{"a":1,"a":2}}`)),
		invalid("DuplicateKeysInItem", hkBody(testkit.Order("wamid.H-DK4").RawItems(`{"product_retailer_id":"a","quantity":1,"quantity":100,"item_price":1,"currency":"INR"}`))),
		{name: "Nesting10000ArraysTopLevel", req: kal([]byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))),
			status: http.StatusBadRequest, code: "unknown_envelope"},
		invalid("Nesting10001ArraysTopLevel", []byte(strings.Repeat("[", 10001)+strings.Repeat("]", 10001))),
		invalid("Nesting10000ObjectsInMessage", hkRaw(
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

		// Well-formed callbacks with unusable parts: 200; an order with
		// unusable lines is stored for review (needs_review, the problems
		// in the answer), any other unusable part quarantined.
		{name: "Price400Digits", req: kal(hkBody(hkItem("P400", "1", strings.Repeat("9", 400), `"INR"`))),
			status: http.StatusOK, results: []string{"stored"}, problem: "amount_overflow"},
		{name: "Quantity400Digits", req: kal(hkBody(hkItem("Q400", strings.Repeat("9", 400), "1", `"INR"`))),
			status: http.StatusOK, results: []string{"stored"}, problem: "invalid_quantity"},
		{name: "HugeExponents", req: kal(hkBody(
			hkItem("EXP1", "1e400", "1", `"INR"`),
			hkItem("EXP2", "1", "1e-400", `"INR"`),
			hkItem("EXP3", "1", "0e999999999999", `"INR"`))),
			status: http.StatusOK, results: []string{"stored", "stored", "stored"}},
		{name: "Price20Decimals", req: kal(hkBody(hkItem("P20", "1", "1600.12345678901234567890", `"INR"`))),
			status: http.StatusOK, results: []string{"stored"}, problem: "too_many_decimals"},
		{name: "Price20ZeroDecimals", req: kal(hkBody(hkItem("P20Z", "2", "1600.00000000000000000000", `"INR"`))),
			status: http.StatusOK, results: []string{"stored"}, check: hostileTotal("wamid.H-P20Z", "INR", 320000)},
		{name: "NegativeQuantity", req: kal(hkBody(hkItem("QNEG", "-1", "1600", `"INR"`))),
			status: http.StatusOK, results: []string{"stored"}, problem: "invalid_quantity"},
		{name: "ZeroQuantity", req: kal(hkBody(hkItem("QZERO", "0", "1600", `"INR"`))),
			status: http.StatusOK, results: []string{"stored"}, problem: "invalid_quantity"},
		{name: "FractionalQuantity", req: kal(hkBody(
			hkItem("QFRAC", "2.5", "1600", `"INR"`),
			hkItem("QINT", "2.0", "1600", `"INR"`))),
			status: http.StatusOK, results: []string{"stored", "stored"}, problem: "invalid_quantity",
			check: hostileTotal("wamid.H-QINT", "INR", 320000)},
		{name: "NegativePrice", req: kal(hkBody(hkItem("PNEG", "1", "-1600", `"INR"`))),
			status: http.StatusOK, results: []string{"stored"}, problem: "negative_price"},
		{name: "UnknownCurrency", req: kal(hkBody(hkItem("CURXYZ", "1", "1600", `"XYZ"`))),
			status: http.StatusOK, results: []string{"stored"}, problem: "unknown_currency"},
		{name: "LowercaseCurrency", req: kal(hkBody(hkItem("CURLOW", "1", "1600", `"inr"`))),
			status: http.StatusOK, results: []string{"stored"}, problem: "currency_case", check: hostileTotal("wamid.H-CURLOW", "INR", 160000)},
		{name: "MissingCurrency", req: kal(hkBody(hkItem("CURNONE", "1", "1600", ""))),
			status: http.StatusOK, results: []string{"stored"}, problem: "unknown_currency"},
		{name: "WrongJSONKinds", req: kal(hkBody(
			hkItem("KIND1", "1", `"1600"`, `"INR"`),
			hkItem("KIND2", "1", `{"amount":1600}`, `"INR"`),
			hkItem("KIND3", "true", "1600", `"INR"`),
			hkItem("KIND4", "1", "1600", `840`),
			testkit.Order("wamid.H-KIND5").RawItems(`"not an item"`),
			testkit.Order("wamid.H-KIND6").RawItems())),
			status: http.StatusOK, results: []string{"stored", "stored", "stored", "stored", "stored", "quarantined"},
			problem: "no_items"},
		{name: "BadMessageElements", req: kal(testkit.Kaleyra(testkit.Text("wamid.H-GOODAMONGBAD", "fine")).
			RawMessage(`1`).RawMessage(`"text"`).RawMessage(`null`).RawMessage(`[]`).
			RawMessage(`{"type":"text","text":{"body":"no id"}}`).RawMessage(`{"id":"","type":"text"}`).Bytes()),
			status: http.StatusOK, results: append([]string{"stored"}, hostileRepeat("quarantined", 6)...), problem: "missing_id"},
		{name: "GoodAndBadMessages", req: kal(hkBody(
			hkGood("MIX1"), hkItem("MIX2", "0", "1", `"INR"`), testkit.Text("wamid.H-MIX3", "hi"))),
			status: http.StatusOK, results: []string{"stored", "stored", "stored"}},
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
		{name: "PathCharactersInIDs", req: kal(hkBody(
			testkit.Text("wamid.H-a/b", "x"), testkit.Text("wamid.H-a?b#c", "x"), testkit.Text("wamid.H-%2e%2e", "x"), testkit.Text(" ", "x"),
			testkit.Text("wamid.H-"+strings.Repeat("x", 10000), "x"))),
			status: http.StatusOK, results: hostileRepeat("stored", 5)},
		// "." and ".." are read back as /v1/messages/%2E and /%2E%2E: unescaped,
		// they are dot segments that any HTTP stack removes.
		{name: "DotSegmentIDs", req: kal(hkBody(testkit.Text(".", "x"), testkit.Text("..", "x"), testkit.Text("wamid.H-../../x", "x"))),
			status: http.StatusOK, results: hostileRepeat("stored", 3)},

		// Big, but within the cap: accepted whole.
		hostileLongText(),
		hostileManyItems(),
		hostileThreeMB(),
		hostileManyMessages(),
		{name: "DeepButWithinLimit", req: kal(hkRaw(
			`{"id":"wamid.H-DEEPOK","type":"text","text":{"body":"x"},"deep":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}`)),
			status: http.StatusOK, results: []string{"stored"}},

		// Duplicates: answered, nothing new created.
		{name: "DuplicateCallbackFirst", req: kal(dupBody), status: http.StatusOK, results: []string{"stored", "stored"}},
		{name: "DuplicateCallbackAgain", req: kal(dupBody), status: http.StatusOK, results: []string{"duplicate", "duplicate"}},
		{name: "SameIDTwiceInOneCallback", req: kal(hkBody(testkit.Text("wamid.H-TWICE", "a"), testkit.Text("wamid.H-TWICE", "b"))),
			status: http.StatusOK, results: []string{"stored", "duplicate"}},
		// The first delivery under a message id wins: a later, different
		// message under the same id is a duplicate and creates nothing (its
		// body is still kept as a callback row). So here no order exists.
		{name: "SameIDOtherContentFirst", req: kal(hkBody(testkit.Text("wamid.H-SAMEID", "first"))),
			status: http.StatusOK, results: []string{"stored"}},
		{name: "SameIDOtherContentAgain", req: kal(hkBody(hkGood("SAMEID"))), status: http.StatusOK, results: []string{"duplicate"},
			check: func(t *testing.T, h *corpus, _ *cbAnswer) {
				var m wire.Message
				h.readJSON(t, "/v1/messages/wamid.H-SAMEID", http.StatusOK, &m)
				if m.Type != "text" {
					t.Errorf("message type %q, want the first delivery's text", m.Type)
				}
				h.readJSON(t, "/v1/orders/wamid.H-SAMEID", http.StatusNotFound, nil)
			}},
		{name: "QuarantinedMessageAgain", req: kal(hkBody(testkit.Order("wamid.H-QNOITEMS").RawItems(), testkit.Text("wamid.H-QAGAIN", "x"))),
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
		{name: "JSONWithCharset", req: kal(hkBody(hkGood("CT1")), "Content-Type", "application/json; charset=utf-8"), status: http.StatusOK, results: []string{"stored"}},

		// Methods.
		{name: "MethodGET", req: hostileMethod(kal(valid), http.MethodGet), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},
		{name: "MethodPUT", req: hostileMethod(kal(valid), http.MethodPut), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},
		{name: "MethodDELETE", req: hostileMethod(kal(valid), http.MethodDelete), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},
		{name: "MethodPATCH", req: hostileMethod(kal(valid), http.MethodPatch), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},
		{name: "MethodOPTIONS", req: hostileMethod(kal(valid), http.MethodOptions), status: http.StatusMethodNotAllowed, code: "method_not_allowed", allow: "POST"},

		// Credentials.
		{name: "MissingSecret", req: kal(valid, "X-Callback-Secret", ""), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "WrongSecret", req: kal(valid, "X-Callback-Secret", "wrong-secret-0123456789"), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretPrefix", req: kal(valid, "X-Callback-Secret", testkit.CallbackSecret[:len(testkit.CallbackSecret)-1]), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretWithSuffix", req: kal(valid, "X-Callback-Secret", testkit.CallbackSecret+"0"), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretUpperCase", req: kal(valid, "X-Callback-Secret", strings.ToUpper(testkit.CallbackSecret)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretAsBearer", req: kal(valid, "X-Callback-Secret", "", "Authorization", "Bearer "+testkit.CallbackSecret), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretAsBasic", req: kal(valid, "X-Callback-Secret", "", "Authorization", basicAuth(testkit.BasicUser, testkit.CallbackSecret)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretInOtherHeader", req: kal(valid, "X-Callback-Secret", "", "X-Api-Key", testkit.CallbackSecret), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "SecretInQuery", req: hostileQuery(kal(valid, "X-Callback-Secret", ""), "secret="+url.QueryEscape(testkit.CallbackSecret)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "APITokenOnCallback", req: kal(valid, "X-Callback-Secret", "", "Authorization", "Bearer "+testkit.APIToken), status: http.StatusUnauthorized, code: "unauthorized"},
		// Only the first of repeated secret headers counts.
		{name: "WrongSecretThenRight", req: kal(valid, "X-Callback-Secret", "wrong-secret-0123456789", "X-Callback-Secret", testkit.CallbackSecret), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaUnsigned", req: met(valid, "X-Hub-Signature-256", ""), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaWrongSignature", req: met(valid, "X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaSignatureOfOtherBody", req: met(valid, "X-Hub-Signature-256", testkit.SignMeta([]byte(`{}`))), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaSHA1Signature", req: met(valid, "X-Hub-Signature-256", "sha1="+strings.Repeat("0", 40)), status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "MetaSignedInvalidJSON", req: met([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[`)), status: http.StatusBadRequest, code: "invalid_json"},
		{name: "MetaSignedInvalidUTF8", req: met([]byte("{\"object\":\"\xff\"}")), status: http.StatusBadRequest, code: "invalid_json"},
	}
	return cases
}

func hostileChunked(r request) request { r.chunked = true; return r }

func hostileMethod(r request, method string) request { r.method = method; return r }

func hostileQuery(r request, q string) request { r.path += "?" + q; return r }

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

// body is a Kaleyra callback of one order (2 × Product at 1600 INR) with
// f's strings in every field.
func (f hostileFields) body() []byte {
	return testkit.Kaleyra(testkit.Order(f.ID).From(f.WaID).Name(f.Name).CatalogID(f.CatalogID).OrderText(f.Text).
		Item(f.Product, 2, "1600", "INR")).
		DisplayPhone(f.DisplayPhone).PhoneNumberID(f.PhoneNumberID).WABAID(f.WABAID).
		Refs(f.Ref, f.Ref1, f.Ref2).ReplyTo(f.ReplyTo).TraceID(f.TraceID).Bytes()
}

// hkGood is the order wamid.H-<id> with one valid line.
func hkGood(id string) *testkit.Message {
	return testkit.Order("wamid.H-"+id).Item("SKU-1", 1, "1600", "INR")
}

// hkItem is the order wamid.H-<id> with one line of SKU-1 whose quantity,
// price and currency are raw JSON; an empty currency leaves it out.
func hkItem(id, qty, price, currency string) *testkit.Message {
	return testkit.Order("wamid.H-"+id).RawItem(`"SKU-1"`, qty, price, currency)
}

// hkBody is a Kaleyra callback carrying msgs.
func hkBody(msgs ...*testkit.Message) []byte { return testkit.Kaleyra(msgs...).Bytes() }

// hkRaw is a Kaleyra callback carrying raw message elements.
func hkRaw(msgs ...string) []byte {
	b := testkit.Kaleyra()
	for _, m := range msgs {
		b.RawMessage(m)
	}
	return b.Bytes()
}

// hkStatuses is a Kaleyra status callback with the given raw statuses.
func hkStatuses(statuses ...string) []byte {
	b := testkit.Kaleyra()
	for _, st := range statuses {
		b.RawStatus(st)
	}
	return b.Bytes()
}

// hostileRaw replaces the placeholder name "RAW" of a body with raw bytes
// that no JSON encoder would write.
func hostileRaw(raw string) []byte {
	return bytes.Replace(hkBody(hkGood("RAW").Name("RAW")), []byte(`"RAW"`), []byte(`"`+raw+`"`), 1)
}

// hostileEchoCase posts an order carrying f's strings in every field and
// checks that the order, the message and a free-text search give them back
// exactly.
func hostileEchoCase(name string, f hostileFields) hostileCase {
	body := f.body()
	return hostileCase{
		name: name, req: kaleyraRequest(body), status: http.StatusOK, results: []string{"stored"},
		check: func(t *testing.T, h *corpus, _ *cbAnswer) {
			var o wire.Order
			h.readJSON(t, "/v1/orders/"+hostileEscape(f.ID), http.StatusOK, &o)
			got := hostileFields{
				ID: o.ID, WaID: o.Customer.WaID, Name: o.Customer.Name,
				PhoneNumberID: o.Business.PhoneNumberID, DisplayPhone: o.Business.DisplayPhoneNumber, WABAID: o.Business.WABAID,
				Ref: o.Campaign.Ref, Ref1: o.Campaign.Ref1, Ref2: o.Campaign.Ref2, ReplyTo: o.ReplyTo, TraceID: o.TraceID,
				CatalogID: o.CatalogID, Text: o.Text,
			}
			if len(o.Items) == 1 {
				got.Product = o.Items[0].ProductRetailerID
			}
			if got != f {
				t.Errorf("order came back changed:\n got %+q\nwant %+q", got, f)
			}
			if len(o.Totals) != 1 || o.Totals[0].Minor != 320000 {
				t.Errorf("totals %+v, want INR 3200.00", o.Totals)
			}
			var m wire.Message
			h.readJSON(t, "/v1/messages/"+hostileEscape(f.ID), http.StatusOK, &m)
			if m.Customer.Name != f.Name {
				t.Errorf("message customer name %q, want %q", m.Customer.Name, f.Name)
			}
			if f.Text == "" {
				return
			}
			r := h.readJSON(t, "/v1/orders?limit=500&q="+url.QueryEscape(f.Text), http.StatusOK, nil)
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
func hostileTotal(id, currency string, minor int64) func(*testing.T, *corpus, *cbAnswer) {
	return func(t *testing.T, h *corpus, _ *cbAnswer) {
		var o wire.Order
		h.readJSON(t, "/v1/orders/"+hostileEscape(id), http.StatusOK, &o)
		if len(o.Totals) != 1 || o.Totals[0].Currency != currency || o.Totals[0].Minor != minor {
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

func hostileUnknownKept(t *testing.T, h *corpus, _ *cbAnswer) {
	for id, want := range map[string][]string{
		"wamid.H-UNK1": {`"type":"hologram"`, `"hologram":{"frames":[1,2,3]}`, `"x_future":{"a":[true,null]}`},
		"wamid.H-UNK2": {`"x_new":1`, `"x_other":"y"`},
	} {
		var m wire.Message
		h.readJSON(t, "/v1/messages/"+id, http.StatusOK, &m)
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
		name: "OneMegabyteText", req: kaleyraRequest(hkBody(testkit.Text("wamid.H-LONGTEXT", text))),
		status: http.StatusOK, results: []string{"stored"},
		check: func(t *testing.T, h *corpus, _ *cbAnswer) {
			var m wire.Message
			h.readJSON(t, "/v1/messages/wamid.H-LONGTEXT", http.StatusOK, &m)
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
	o := testkit.Order("wamid.H-1000ITEMS")
	var units int64
	for i := range 1000 {
		q := i%5 + 1
		units += int64(q)
		o.Item(fmt.Sprintf("SKU-%04d", i), q, "12.34", "USD")
	}
	total := hostileTotal("wamid.H-1000ITEMS", "USD", units*1234)
	return hostileCase{
		name:   "ThousandItems",
		req:    kaleyraRequest(hkBody(o)),
		status: http.StatusOK, results: []string{"stored"},
		check: func(t *testing.T, h *corpus, a *cbAnswer) {
			total(t, h, a)
			var o wire.Order
			h.readJSON(t, "/v1/orders/wamid.H-1000ITEMS", http.StatusOK, &o)
			if len(o.Items) != 1000 || o.Items[999].ProductRetailerID != "SKU-0999" || o.Items[999].Quantity != 5 {
				t.Errorf("order has %d items, want 1,000 in order", len(o.Items))
			}
		},
	}
}

// hostileThreeMB is a valid callback of about 3 MB (Meta's own limit).
func hostileThreeMB() hostileCase {
	msgs := []*testkit.Message{hkItem("3MB-ORDER", "3", "999.99", `"INR"`)}
	for i := range 30 {
		msgs = append(msgs, testkit.Text(fmt.Sprintf("wamid.H-3MB-%02d", i), strings.Repeat(string(rune('a'+i%26)), 100000)))
	}
	body := hkBody(msgs...)
	return hostileCase{
		name: "ThreeMegabytes", req: kaleyraRequest(body),
		status: http.StatusOK, results: hostileRepeat("stored", 31),
		check: func(t *testing.T, h *corpus, _ *cbAnswer) {
			if len(body) < 3_000_000 || len(body) > 4<<20 {
				t.Fatalf("body is %d bytes, want about 3 MB", len(body))
			}
		},
	}
}

// hostileManyMessages is one callback of 10,000 messages: mostly text, an
// order every 100th, and every 1,000th without an id.
func hostileManyMessages() hostileCase {
	// The messages without id are raw elements, written after the others.
	body := testkit.Kaleyra()
	var ids, results []string
	for i := range 10000 {
		id := fmt.Sprintf("wamid.H-MANY-%05d", i)
		switch {
		case i%1000 == 999:
			continue
		case i%100 == 0:
			body.Messages(testkit.Order(id).RawItem(`"SKU-1"`, "1", "10", `"INR"`))
		default:
			body.Messages(testkit.Text(id, "message "+strconv.Itoa(i)))
		}
		ids, results = append(ids, id), append(results, "stored")
	}
	for range 10 {
		body.RawMessage(`{"from":"919900000001","type":"text","text":{"body":"lost id"}}`)
		results = append(results, "quarantined")
	}
	return hostileCase{
		name: "TenThousandMessages", req: kaleyraRequest(body.Bytes()),
		status: http.StatusOK, results: results,
		check: func(t *testing.T, h *corpus, a *cbAnswer) {
			for i, id := range ids {
				if a.Messages[i].ID != id {
					t.Fatalf("message %d answered as %q: the answer is not in order", i, a.Messages[i].ID)
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
	t.Parallel()
	h := newCorpus(setup(t, listen(), secretOnly(), withServer(func(c *server.Config) {
		c.ReadTimeout = 500 * time.Millisecond
		c.ReadHeaderTimeout = 500 * time.Millisecond
	})))
	body := string(hkBody(hkGood("SLOW")))
	head := "POST " + kaleyraPath + " HTTP/1.1\r\nHost: hostile.test\r\nContent-Type: application/json\r\nX-Callback-Secret: " + testkit.CallbackSecret + "\r\n"
	stalls := []struct{ name, sent string }{
		{"BodyNeverFinished", head + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body[:len(body)/2]},
		{"ChunkedNeverFinished", head + "Transfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body[:len(body)/2]},
		{"ChunkedNoLastChunk", head + "Transfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n"},
		{"HeadersNeverFinished", head[:40]},
		{"NothingSent", ""},
	}
	before := h.storedRows(t)
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
	ok := kaleyraRequest(hkBody(hkGood("NOTSLOW")))
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
			wantError(t, reply{status: resp.StatusCode, header: resp.Header, body: b}, http.StatusBadRequest, "invalid")
		}
	}
	after := h.storedRows(t)
	hostileDelta(t, before, after, map[string]int{"callbacks": 1, "messages": 1, "orders": 1, "quarantine": 0})
	if r := h.read(t, "/v1/messages/wamid.H-SLOW"); r.status != http.StatusNotFound {
		t.Errorf("the unfinished body was stored: %s", r)
	}
	h.healthy(t)
}

// Helpers of the corpus above and of the handler fuzz targets
// (fuzz_test.go).

// secretOnly enables only the secret header for the Kaleyra endpoint, so
// that a secret sent anywhere else (Basic, Bearer) is no credential.
func secretOnly() option {
	return withAuth(func(ac *callbackauth.Config) { ac.BasicUsers, ac.TokenClients = nil, nil })
}

// corpus checks the requests of the hostile corpus and of the fuzz
// targets on one bundle.
type corpus struct {
	*bundle
	// kept maps every quarantine id seen to the body first kept under it: a
	// message quarantined again later still shows its first body.
	kept map[int64][]byte
}

func newCorpus(b *bundle) *corpus { return &corpus{bundle: b, kept: map[int64][]byte{}} }

// read GETs an API path with the API token. Every JSON answer is checked to
// carry no raw '<', '>' or '&': customer text is hostile.
func (h *corpus) read(tb testing.TB, path string) reply {
	tb.Helper()
	r := h.api(tb, http.MethodGet, path, nil)
	hostileNoRawMarkup(tb, "GET "+path, r)
	return r
}

// readJSON is read for an answer that must be want, decoded into out.
func (h *corpus) readJSON(tb testing.TB, path string, want int, out any) reply {
	tb.Helper()
	r := h.read(tb, path)
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
func (h *corpus) healthy(tb testing.TB) {
	tb.Helper()
	r := h.send(tb, http.MethodGet, "/healthz", nil)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"ok"`)) {
		tb.Fatalf("GET /healthz: %s, want 200 ok", r)
	}
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
func (h *corpus) checkKept(tb testing.TB, sent []byte, r reply, before, after map[string]int) *cbAnswer {
	tb.Helper()
	switch r.status {
	case http.StatusBadRequest:
		var e wire.Error
		if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" {
			tb.Fatalf("400 without an error code: %s", r)
		}
		if e.Error.QuarantineID <= 0 {
			tb.Fatalf("400 without quarantine_id: %s", r)
		}
		q := h.checkQuarantine(tb, e.Error.QuarantineID, sent)
		// An identical body quarantined before is kept once: the answer
		// names that entry (the first request's), which counts the repeat.
		wantCallback, added := e.Error.RequestID, 1
		if q.Repeats > 0 {
			wantCallback, added = q.CallbackID, 0
		}
		if q.Kind != "body" || q.Reason != e.Error.Code || q.CallbackID != wantCallback || q.CallbackID == "" {
			tb.Errorf("quarantine %d: kind %q reason %q callback %q, want body, %q, %q",
				q.ID, q.Kind, q.Reason, q.CallbackID, e.Error.Code, wantCallback)
		}
		hostileDelta(tb, before, after, map[string]int{"quarantine": added})
		return nil
	case http.StatusOK:
	default:
		tb.Fatalf("checkKept on %s", r)
	}
	a := wantAnswer(tb, r)
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
	for _, table := range storedTables {
		if before[table] != after[table] {
			tb.Errorf("%s: %d rows before, %d after: a request that never reached the decoder changed storage", table, before[table], after[table])
		}
	}
}

func (h *corpus) knownQuarantine(id int64) bool {
	_, ok := h.kept[id]
	return ok
}

// listedMessages pages GET /v1/messages and returns every id.
func (h *corpus) listedMessages(tb testing.TB) map[string]bool {
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
		path := "/v1/messages?limit=500"
		if cursor != "" { // an empty cursor= is refused, like every empty value
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		h.readJSON(tb, path, http.StatusOK, &page)
		for _, m := range page.Messages {
			ids[m.ID] = true
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

// checkMessage reads a stored message back through the API, and its order
// when it is one.
func (h *corpus) checkMessage(tb testing.TB, it cbItem) {
	tb.Helper()
	var m wire.Message
	r := h.read(tb, "/v1/messages/"+hostileEscape(it.ID))
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
		if r := h.read(tb, "/v1/orders/"+hostileEscape(it.ID)); r.status != http.StatusOK {
			tb.Errorf("order %q (%s) is not readable: %s", it.ID, it.Result, r)
		}
	}
}

// checkQuarantine reads entry id and checks that it keeps sent exactly (or,
// for an entry already seen, the body first kept under it).
func (h *corpus) checkQuarantine(tb testing.TB, id int64, sent []byte) wire.Quarantine {
	tb.Helper()
	want, seen := h.kept[id]
	if !seen {
		want = sent
	}
	var q wire.Quarantine
	if id <= 0 {
		tb.Errorf("quarantine id %d", id)
		return q
	}
	h.readJSON(tb, "/v1/quarantine/"+strconv.FormatInt(id, 10), http.StatusOK, &q)
	got := hostileQuarantineBody(tb, q)
	if !bytes.Equal(got, want) {
		tb.Errorf("quarantine %d keeps %d bytes %.80q, want the %d bytes sent %.80q", id, len(got), got, len(want), want)
	}
	h.kept[id] = bytes.Clone(want) // the fuzzer reuses its input buffer
	return q
}

// hostileQuarantineBody returns the exact bytes of an entry's view: the
// base64 form when the body is not UTF-8, else the text.
func hostileQuarantineBody(tb testing.TB, q wire.Quarantine) []byte {
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
