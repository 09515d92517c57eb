package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/waorders/waorders/internal/testkit"
)

// exchange is one real request and its answer, to check against the
// OpenAPI document.
type exchange struct {
	method, path string
	resp         reply
}

// apiRecorder drives the router and keeps every exchange.
type apiRecorder struct {
	b    *bundle
	seen []exchange
}

func (a *apiRecorder) call(t *testing.T, wantStatus int, method, target string, body any, header ...string) reply {
	t.Helper()
	r := a.b.api(t, method, target, body, header...)
	if r.status != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, target, r.status, wantStatus, r.body)
	}
	u, _ := url.Parse(target)
	a.seen = append(a.seen, exchange{method: method, path: u.Path, resp: r})
	return r
}

// TestOpenAPI drives every endpoint of the real router and validates each
// real answer against the schema the OpenAPI document gives for its path,
// method, status and content type. It also fails when an operation of the
// document was never answered with a 2xx, or an answer is undocumented.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, withEvents())
	a := &apiRecorder{b: b}
	const (
		json415 = "text/plain"
		form    = "application/x-www-form-urlencoded"
	)
	secret := []string{"Authorization", "", testkit.CallbackSecretHeader, testkit.CallbackSecret}

	// Operations.
	a.call(t, 200, "GET", "/healthz", nil)
	a.call(t, 200, "GET", "/readyz", nil)
	a.call(t, 200, "GET", "/metrics", nil)
	doc := a.call(t, 200, "GET", "/v1/openapi.json", nil, "Authorization", "")

	// Callbacks: the seed sample and the contract's examples.
	seed := a.call(t, 200, "POST", "/v1/callbacks/kaleyra", readTestdata(t, "kaleyra_seed.json"), secret...)
	for _, f := range []string{"i1_order_inr.json", "i2_order_usd_decimal.json", "i3_order_eur_no_name.json",
		"i4_text_reply.json", "i5_button_reply.json", "i6_status_delivered.json", "i7_status_failed.json"} {
		a.call(t, 200, "POST", "/v1/callbacks/kaleyra", readTestdata(t, f), secret...)
	}
	a.call(t, 200, "POST", "/v1/callbacks/kaleyra", readTestdata(t, "i1_order_inr.json"), secret...) // duplicate
	bad := a.call(t, 400, "POST", "/v1/callbacks/kaleyra", "this is not JSON", secret...)
	a.call(t, 401, "POST", "/v1/callbacks/kaleyra", readTestdata(t, "i1_order_inr.json"), "Authorization", "")
	a.call(t, 415, "POST", "/v1/callbacks/kaleyra", "x", append(secret, "Content-Type", json415)...)
	meta := readTestdata(t, "i8_meta_order.json")
	a.call(t, 200, "POST", "/v1/callbacks/meta", meta, "Authorization", "", testkit.SignatureHeader, testkit.SignMeta(meta))
	a.call(t, 200, "POST", "/v1/callbacks/meta", readTestdata(t, "i9_meta_statuses.json"), "Authorization", "",
		testkit.SignatureHeader, testkit.SignMeta(readTestdata(t, "i9_meta_statuses.json")))
	a.call(t, 401, "POST", "/v1/callbacks/meta", meta, "Authorization", "", testkit.SignatureHeader, "sha256=00")
	a.call(t, 200, "GET", "/v1/callbacks/meta?hub.mode=subscribe&hub.verify_token="+testkit.MetaVerifyToken+"&hub.challenge=12345", nil, "Authorization", "")
	a.call(t, 403, "GET", "/v1/callbacks/meta?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", nil, "Authorization", "")
	tok := a.call(t, 200, "POST", "/v1/callbacks/token", "client_id="+testkit.TokenClientID+"&client_secret="+testkit.TokenClientSecret,
		"Authorization", "", "Content-Type", form)
	a.call(t, 401, "POST", "/v1/callbacks/token", "client_id="+testkit.TokenClientID+"&client_secret=wrong", "Authorization", "", "Content-Type", form)
	a.call(t, 400, "POST", "/v1/callbacks/token", "client_id=x&client_secret=y&grant_type=password", "Authorization", "", "Content-Type", form)
	var issued struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(tok.body, &issued); err != nil {
		t.Fatal(err)
	}
	a.call(t, 200, "POST", "/v1/callbacks/kaleyra", testkit.Kaleyra(testkit.Order("wamid.TOKEN").At(t0)).Refs("", "shoes", "").Bytes(),
		"Authorization", "Bearer "+issued.AccessToken)

	// Messages.
	var seedAnswer struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(seed.body, &seedAnswer); err != nil || len(seedAnswer.Messages) == 0 {
		t.Fatalf("seed answer %s: %v", seed.body, err)
	}
	seedID := seedAnswer.Messages[0].ID
	a.call(t, 200, "GET", "/v1/messages", nil)
	a.call(t, 200, "GET", "/v1/messages?type=order&limit=2", nil)
	a.call(t, 400, "GET", "/v1/messages?since=later", nil)
	a.call(t, 400, "GET", "/v1/messages?typ=order", nil) // a misspelt filter must not match everything
	a.call(t, 400, "GET", "/v1/messages?since=2026-02-01&until=2026-01-01", nil)
	a.call(t, 200, "GET", "/v1/messages/"+url.PathEscape(seedID), nil)
	// Identity, errors, group receipts, echoes and every change field (issue 12).
	for _, f := range []string{"bsuid_username_only_text.json", "meta_interactive_errors_only.json", "meta_group_statuses.json",
		"meta_smb_message_echo.json", "meta_call_terminate.json", "meta_user_preferences.json", "meta_user_id_update.json",
		"meta_unknown_field.json"} {
		body := readTestdata(t, f)
		a.call(t, 200, "POST", "/v1/callbacks/meta", body, "Authorization", "", testkit.SignatureHeader, testkit.SignMeta(body))
	}
	a.call(t, 200, "GET", "/v1/messages?direction=outbound", nil)
	a.call(t, 400, "GET", "/v1/messages?direction=sideways", nil)
	a.call(t, 200, "GET", "/v1/messages/wamid.wegrchytvwcggt=", nil)
	a.call(t, 200, "GET", "/v1/messages/wamid.TESTCONFIRM0000000000000000002/statuses", nil)
	a.call(t, 200, "GET", "/v1/messages/wamid.HBgNMTU1NTEyMzQ1NjcVAgARGBI0QUYwMDAwMDAwMDAwMDAwMDAG/statuses", nil)
	a.call(t, 200, "GET", "/v1/statuses?status=read&limit=1", nil)
	a.call(t, 400, "GET", "/v1/statuses?state=read", nil)
	a.call(t, 200, "GET", "/v1/changes", nil)
	a.call(t, 200, "GET", "/v1/changes?field=user_preferences", nil)
	a.call(t, 400, "GET", "/v1/changes?since=later", nil)
	a.call(t, 404, "GET", "/v1/messages/wamid.NOPE", nil)
	a.call(t, 401, "GET", "/v1/messages", nil, "Authorization", "")

	// Orders.
	a.call(t, 200, "GET", "/v1/orders", nil)
	a.call(t, 200, "GET", "/v1/orders?limit=1", nil)
	a.call(t, 200, "GET", "/v1/orders?ref1=shoes&status=pending", nil)
	a.call(t, 400, "GET", "/v1/orders?status=lost", nil)
	a.call(t, 200, "GET", "/v1/orders/"+url.PathEscape(seedID), nil)
	a.call(t, 404, "GET", "/v1/orders/wamid.NOPE", nil)
	order := "/v1/orders/wamid.TESTORDER00000000000000000001"
	a.call(t, 200, "POST", order+"/status", map[string]string{"status": "processing", "note": "packed"}, "If-Match", `"1"`)
	a.call(t, 200, "GET", order, nil)
	a.call(t, 409, "POST", order+"/status", map[string]string{"status": "pending"})
	a.call(t, 412, "POST", order+"/status", map[string]string{"status": "shipped"}, "If-Match", "1")
	a.call(t, 400, "POST", order+"/status", map[string]string{"status": "shipped"}, "If-Match", `"2", "3"`)
	a.call(t, 200, "POST", order+"/status", map[string]string{"status": "shipped"}, "If-Match", `W/"2"`)
	a.call(t, 400, "POST", order+"/status", `{"status":`)
	a.call(t, 404, "POST", "/v1/orders/wamid.NOPE/status", map[string]string{"status": "shipped"})
	a.call(t, 415, "POST", order+"/status", "status=shipped", "Content-Type", form)

	// Review and refunds: an order with an unusable line, corrected,
	// completed and refunded in part.
	a.call(t, 200, "POST", "/v1/callbacks/kaleyra", testkit.Kaleyra(testkit.Order("wamid.REVIEW").At(t0).
		RawItem(`"shirt"`, "2", "1600", `"INR"`).RawItem(`"pant"`, "0", "2000", `"INR"`)).Refs("", "shoes", "").Bytes(), secret...)
	a.call(t, 200, "GET", "/v1/orders/wamid.REVIEW", nil)
	a.call(t, 200, "GET", "/v1/orders?status=needs_review", nil)
	a.call(t, 400, "POST", "/v1/orders/wamid.REVIEW/review", map[string]string{"action": "approve"})
	a.call(t, 412, "POST", "/v1/orders/wamid.REVIEW/review", map[string]string{"action": "accept"}, "If-Match", `"5"`)
	a.call(t, 409, "POST", "/v1/orders/wamid.REVIEW/refunds", map[string]any{"amounts": []map[string]string{{"currency": "INR", "amount": "1.00"}}})
	a.call(t, 200, "POST", "/v1/orders/wamid.REVIEW/review", map[string]any{"action": "correct",
		"lines": []map[string]any{{"index": 1, "quantity": 1, "price": "2000.00"}}}, "If-Match", `"1"`)
	a.call(t, 409, "POST", "/v1/orders/wamid.REVIEW/review", map[string]string{"action": "accept"})
	a.call(t, 404, "POST", "/v1/orders/wamid.NOPE/review", map[string]string{"action": "accept"})
	a.call(t, 200, "POST", "/v1/orders/wamid.REVIEW/status", map[string]string{"status": "completed"})
	a.call(t, 400, "POST", "/v1/orders/wamid.REVIEW/refunds", map[string]any{"amounts": []map[string]string{{"currency": "INR", "amount": "1.001"}}})
	a.call(t, 200, "POST", "/v1/orders/wamid.REVIEW/refunds", map[string]any{"amounts": []map[string]string{{"currency": "INR", "amount": "500.00"}}, "reason": "late"})
	a.call(t, 404, "POST", "/v1/orders/wamid.NOPE/refunds", map[string]any{"amounts": []map[string]string{{"currency": "INR", "amount": "1.00"}}})
	a.call(t, 200, "GET", "/v1/reports/campaigns?status=completed,refunded&status=canceled&by_status=true", nil)
	a.call(t, 400, "GET", "/v1/reports/campaigns?status=needs_review", nil)
	a.call(t, 200, "GET", "/v1/orders/export?format=csv", nil)
	a.call(t, 200, "GET", "/v1/orders/export?format=ndjson&ref1=shoes", nil)
	a.call(t, 400, "GET", "/v1/orders/export?format=pdf", nil)
	a.call(t, 200, "GET", "/v1/orders/export?format=csv&rows=order&excel=true", nil)
	a.call(t, 200, "GET", "/v1/orders/export?rows=item&excel=false", nil)
	a.call(t, 400, "GET", "/v1/orders/export?format=ndjson&rows=order", nil)
	a.call(t, 400, "GET", "/v1/orders?limit=501", nil)
	a.call(t, 400, "GET", "/v1/orders?status=", nil)
	a.call(t, 200, "GET", "/v1/customers/919900000001", nil)
	a.call(t, 404, "GET", "/v1/customers/0", nil)
	a.call(t, 400, "GET", "/v1/customers/919900000001?limit=-1", nil)
	a.call(t, 200, "GET", "/v1/reports/campaigns", nil)
	a.call(t, 200, "GET", "/v1/reports/campaigns?group_by=ref&interval=day&since=2020-01-01", nil)
	a.call(t, 400, "GET", "/v1/reports/campaigns?group_by=utm", nil)

	// Quarantine.
	var rejected struct {
		Error struct {
			QuarantineID int64 `json:"quarantine_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(bad.body, &rejected); err != nil || rejected.Error.QuarantineID == 0 {
		t.Fatalf("rejected callback answer %s: %v", bad.body, err)
	}
	qid := strconv.FormatInt(rejected.Error.QuarantineID, 10)
	a.call(t, 200, "GET", "/v1/quarantine", nil)
	a.call(t, 200, "GET", "/v1/quarantine?unresolved=true&limit=5", nil)
	a.call(t, 400, "GET", "/v1/quarantine?unresolved=maybe", nil)
	a.call(t, 400, "GET", "/v1/quarantine?unresolved=1", nil)
	a.call(t, 400, "GET", "/v1/quarantine?unresolved=true&unresolved=false", nil)
	a.call(t, 200, "GET", "/v1/quarantine/"+qid, nil)
	a.call(t, 404, "GET", "/v1/quarantine/999999", nil)
	a.call(t, 400, "GET", "/v1/quarantine/abc", nil)
	a.call(t, 200, "POST", "/v1/quarantine/"+qid+"/retry", nil)
	a.call(t, 404, "POST", "/v1/quarantine/999999/retry", nil)

	exerciseEvents(t, a)

	checkOpenAPI(t, doc.body, a.seen)

	// Answers outside any operation still use the documented error body.
	v := newOpenAPIValidator(t, doc.body)
	for _, r := range []reply{
		b.api(t, http.MethodGet, "/v1/nothing-here", nil),
		b.api(t, http.MethodDelete, "/v1/orders", nil),
		b.api(t, http.MethodPut, "/v1/orders/export", nil),
	} {
		v.validate(t, "#/components/schemas/Error", "unrouted answer", r.body)
	}
}

// TestOpenAPIParameters is a small schema-driven negative test: for every
// query parameter of every API read, it derives from the document values
// the schema forbids (empty, a boolean other than true/false, an integer
// past its bounds, a value outside the enum, a time the pattern refuses)
// and checks the server answers 400, and that the bounds themselves are
// accepted. The document then states what the server enforces.
func TestOpenAPIParameters(t *testing.T) {
	t.Parallel()
	b := setup(t, withEvents())
	b.post(t, testkit.Kaleyra(testkit.Order("wamid.P1").At(t0).From("919900000001")))
	v := newOpenAPIValidator(t, openAPIDocument(t, b))
	paths, _ := v.doc["paths"].(map[string]any)
	checked := 0
	for _, tpl := range sortedKeys(paths) {
		op, _ := v.lookup("#/paths/" + escapePtr(tpl) + "/get")
		m, _ := op.(map[string]any)
		if m == nil || !strings.HasPrefix(tpl, "/v1/") || strings.HasPrefix(tpl, "/v1/callbacks/") {
			continue
		}
		path := strings.ReplaceAll(tpl, "{wa_id}", "919900000001")
		if strings.Contains(path, "{") {
			continue // path parameters only: nothing to vary in the query
		}
		params, _ := m["parameters"].([]any)
		for _, p := range params {
			pm, _ := p.(map[string]any)
			if ref, ok := pm["$ref"].(string); ok {
				r, _ := v.lookup(ref)
				pm, _ = r.(map[string]any)
			}
			if pm["in"] != "query" {
				continue
			}
			name := pm["name"].(string)
			sch, _ := pm["schema"].(map[string]any)
			if ref, ok := sch["$ref"].(string); ok {
				r, _ := v.lookup(ref)
				sch, _ = r.(map[string]any)
			}
			bad := []string{""} // every parameter: an empty value is refused
			var good []string
			switch sch["type"] {
			case "boolean":
				bad = append(bad, "1", "TRUE", "yes")
				good = append(good, "true", "false")
			case "integer":
				if lo, ok := sch["minimum"].(json.Number); ok {
					n, _ := lo.Int64()
					bad, good = append(bad, strconv.FormatInt(n-1, 10)), append(good, lo.String())
				}
				if hi, ok := sch["maximum"].(json.Number); ok {
					n, _ := hi.Int64()
					bad, good = append(bad, strconv.FormatInt(n+1, 10)), append(good, hi.String())
				}
				bad = append(bad, "ten")
			}
			if enum, ok := sch["enum"].([]any); ok {
				bad = append(bad, "not-"+fmt.Sprint(enum[0]))
				for _, e := range enum {
					good = append(good, fmt.Sprint(e))
				}
			}
			if _, ok := sch["pattern"]; ok {
				bad = append(bad, "yesterday", "2026-01-31 10:00")
				good = append(good, "2026-01-31", "2026-01-31T18:00:00Z", "2026-01-31T18:00:00.5+05:30")
			}
			if ml, ok := sch["maxLength"].(json.Number); ok {
				n, _ := ml.Int64()
				bad = append(bad, strings.Repeat("x", int(n)+1))
			}
			for _, val := range bad {
				r := b.api(t, http.MethodGet, path+"?"+url.Values{name: {val}}.Encode(), nil)
				if r.status != http.StatusBadRequest {
					t.Errorf("GET %s?%s=%.30q: %d, want 400: the document forbids it", path, name, val, r.status)
				}
				checked++
			}
			for _, val := range good {
				if name == "cursor" {
					continue
				}
				if r := b.api(t, http.MethodGet, path+"?"+url.Values{name: {val}}.Encode(), nil); r.status != http.StatusOK {
					t.Errorf("GET %s?%s=%q: %s, want 200: the document allows it", path, name, val, r)
				}
			}
		}
	}
	t.Logf("%d forbidden values refused", checked)
	if checked < 40 {
		t.Errorf("only %d forbidden values tried: the walk over the document missed parameters", checked)
	}
}

// TestOpenAPICallbackBodies validates every callback body of the callback
// package's examples and public corpus against the document's schemas of
// the Kaleyra and Meta envelopes, so generated clients and validators can
// rely on them.
func TestOpenAPICallbackBodies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := newOpenAPIValidator(t, openAPIDocument(t, b))
	var files []string
	for _, pattern := range []string{"*.json", "corpus/*.json"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "callback", "testdata", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if why, ok := malformedBodies[filepath.Base(f)]; ok {
			// Kept malformed on purpose: it must not match, for that reason.
			sch, err := v.compiler.Compile(openAPIURL + "#/components/schemas/CallbackBody")
			if err != nil {
				t.Fatal(err)
			}
			inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(body))
			if sch.Validate(inst) == nil {
				t.Errorf("%s matches CallbackBody, but is listed as malformed (%s)", f, why)
			}
			continue
		}
		v.validate(t, "#/components/schemas/CallbackBody", f, body)
		switch {
		case top["meta_object"] != nil:
			v.validate(t, "#/components/schemas/KaleyraCallback", f, body)
		case top["entry"] != nil:
			v.validate(t, "#/components/schemas/MetaCallback", f, body)
		default:
			t.Errorf("%s: neither meta_object nor entry", f)
		}
		n++
	}
	if n < 50 {
		t.Errorf("only %d bodies validated", n)
	}
	// The schemas are not a formality: an envelope without its change, or
	// a change without its value, does not match.
	for _, bad := range []string{`{}`, `{"meta_object": {"field": "messages"}}`, `{"object": "whatsapp_business_account"}`,
		`{"entry": [{"id": "1"}]}`, `{"meta_object": {"value": {"messages": [{"id": 1}]}}}`} {
		sch, err := v.compiler.Compile(openAPIURL + "#/components/schemas/CallbackBody")
		if err != nil {
			t.Fatal(err)
		}
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if sch.Validate(inst) == nil {
			t.Errorf("%s matches CallbackBody", bad)
		}
	}
}

// malformedBodies are the callback testdata bodies that do not match the
// envelope schemas on purpose, with the reason.
var malformedBodies = map[string]string{
	"meta_all_types.json": "messages[17] is a string, to test that one unusable message is quarantined alone",
}

// openAPIDocument fetches the served document.
func openAPIDocument(t *testing.T, b *bundle) []byte {
	t.Helper()
	r := b.send(t, http.MethodGet, "/v1/openapi.json", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: %s", r)
	}
	return r.body
}

// openAPIValidator compiles schemas out of the OpenAPI document.
type openAPIValidator struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	cache    map[string]*jsonschema.Schema
}

const openAPIURL = "mem://waorders/openapi.json"

func newOpenAPIValidator(t *testing.T, raw []byte) *openAPIValidator {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	m, ok := doc.(map[string]any)
	if !ok || m["openapi"] != "3.1.0" {
		t.Fatalf("not an OpenAPI 3.1 document: %.80s", raw)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(openAPIURL, doc); err != nil {
		t.Fatal(err)
	}
	return &openAPIValidator{doc: m, compiler: c, cache: map[string]*jsonschema.Schema{}}
}

func (v *openAPIValidator) validate(t *testing.T, ptr, what string, body []byte) {
	t.Helper()
	sch, ok := v.cache[ptr]
	if !ok {
		var err error
		if sch, err = v.compiler.Compile(openAPIURL + ptr); err != nil {
			t.Fatalf("compile schema %s: %v", ptr, err)
		}
		v.cache[ptr] = sch
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s: body is not JSON: %v: %.200s", what, err, body)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s: body does not match %s:\n%v\nbody: %.600s", what, ptr, err, body)
	}
}

// lookup follows a JSON pointer (with a $ref at its end resolved) in doc.
func (v *openAPIValidator) lookup(ptr string) (any, string) {
	var cur any = v.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, ptr
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if cur, ok = m[tok]; !ok {
			return nil, ptr
		}
	}
	if m, ok := cur.(map[string]any); ok {
		if ref, ok := m["$ref"].(string); ok {
			return v.lookup(ref)
		}
	}
	return cur, ptr
}

func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// matchPath returns the document's path template for a request path,
// preferring literal segments over parameters.
func matchPath(paths map[string]any, path string) string {
	best, bestScore := "", -1
	segs := strings.Split(path, "/")
	for tpl := range paths {
		tsegs := strings.Split(tpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		score := 0
		for i, ts := range tsegs {
			switch {
			case strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}"):
			case ts == segs[i]:
				score++
			default:
				score = -1
			}
			if score < 0 {
				break
			}
		}
		if score > bestScore {
			best, bestScore = tpl, score
		}
	}
	return best
}

func checkOpenAPI(t *testing.T, raw []byte, seen []exchange) {
	t.Helper()
	v := newOpenAPIValidator(t, raw)
	paths, _ := v.doc["paths"].(map[string]any)
	answered := map[string]bool{} // "get /v1/orders" answered 2xx
	for _, ex := range seen {
		tpl := matchPath(paths, ex.path)
		method := strings.ToLower(ex.method)
		what := fmt.Sprintf("%s %s → %d", ex.method, ex.path, ex.resp.status)
		if tpl == "" {
			t.Errorf("%s: path not in the document", what)
			continue
		}
		opPtr := "#/paths/" + escapePtr(tpl) + "/" + method
		if op, _ := v.lookup(opPtr); op == nil {
			t.Errorf("%s: operation %s %s not in the document", what, method, tpl)
			continue
		}
		if ex.resp.status/100 == 2 {
			answered[method+" "+tpl] = true
		}
		resp, respPtr := v.lookup(opPtr + "/responses/" + strconv.Itoa(ex.resp.status))
		if resp == nil {
			t.Errorf("%s: status %d not documented for %s %s", what, ex.resp.status, method, tpl)
			continue
		}
		if ex.resp.status == http.StatusNoContent {
			if len(ex.resp.body) != 0 {
				t.Errorf("%s: a body with 204", what)
			}
			continue
		}
		mt, _, _ := mime.ParseMediaType(ex.resp.header.Get("Content-Type"))
		content, _ := resp.(map[string]any)["content"].(map[string]any)
		if _, ok := content[mt]; !ok {
			t.Errorf("%s: content type %q not documented (have %v)", what, mt, sortedKeys(content))
			continue
		}
		schemaPtr := respPtr + "/content/" + escapePtr(mt) + "/schema"
		switch {
		case mt == "application/json":
			v.validate(t, schemaPtr, what, ex.resp.body)
		case mt == "application/x-ndjson":
			sc := bufio.NewScanner(bytes.NewReader(ex.resp.body))
			sc.Buffer(nil, 1<<20)
			lines := 0
			for sc.Scan() {
				v.validate(t, schemaPtr, what+" line "+strconv.Itoa(lines+1), sc.Bytes())
				lines++
			}
			if lines == 0 {
				t.Errorf("%s: no NDJSON line to check", what)
			}
		case strings.HasPrefix(mt, "text/"):
			if len(ex.resp.body) == 0 {
				t.Errorf("%s: empty %s body", what, mt)
			}
		}
	}
	for tpl, item := range paths {
		for method := range item.(map[string]any) {
			if !answered[method+" "+tpl] {
				t.Errorf("operation %s %s was never answered with 2xx by the test", method, tpl)
			}
		}
	}
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
