package server_test

// Tests of the quarantine API (api/quarantine.go): what the intake could
// not use, listed, read and retried.

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
)

func TestBadInputIsQuarantined(t *testing.T) {
	t.Parallel()
	// One server: the subtests run in order, each building on the entries
	// the previous ones left.
	b := setup(t)
	bodies := []struct {
		name, body, code string
		hdr              []string
	}{
		{"InvalidJSON", `{"meta_object": {"value": <script>`, "invalid_json", []string{"X-Trace", "trace-1"}},
		{"UnknownEnvelope", `{"hello": "world"}`, "unknown_envelope", []string{"X-Callback-Secret", "", "Authorization", basicAuth(testkit.BasicUser, testkit.BasicPassword)}},
		{"Empty", "  \n", "empty_body", nil},
		{"InvalidUTF8", "{\"meta_object\": \"\xff\xfe\"}", "invalid_json", nil},
	}
	var ids []int64
	for _, in := range bodies {
		t.Run(in.name, func(t *testing.T) {
			r := b.kaleyra(t, []byte(in.body), in.hdr...)
			e := wantError(t, r, http.StatusBadRequest, in.code)
			if e.QuarantineID <= 0 {
				t.Fatalf("no quarantine_id in %s", r.body)
			}
			ids = append(ids, e.QuarantineID)
			var q wire.Quarantine
			full := b.get(t, "/v1/quarantine/"+strconv.FormatInt(e.QuarantineID, 10), http.StatusOK, &q)
			noSecrets(t, "quarantine entry", full.body)
			if bytes.ContainsAny(full.body, "<>") {
				t.Errorf("quarantine entry is not HTML-escaped: %s", full.body)
			}
			if q.Kind != "body" || q.Reason != in.code || q.CallbackID != e.RequestID || q.Body == nil || len(q.Problems) != 1 {
				t.Errorf("entry %+v, want a body entry %s of request %s with its body", q, in.code, e.RequestID)
			}
			if q.Body != nil && utf8.ValidString(in.body) && *q.Body != in.body {
				t.Errorf("body %q, want %q", *q.Body, in.body)
			}
			for name, values := range q.Headers {
				if isSecretHeader(name) && !slices.Equal(values, []string{callbackauth.Redacted}) {
					t.Errorf("header %s = %q, want redacted", name, values)
				}
			}
			if len(in.hdr) > 0 && in.hdr[0] == "X-Trace" && !slices.Equal(q.Headers["X-Trace"], []string{"trace-1"}) {
				t.Errorf("headers %v, want X-Trace kept", q.Headers)
			}
			if in.name == "InvalidJSON" && !slices.Equal(q.Headers["X-Callback-Secret"], []string{callbackauth.Redacted}) {
				t.Errorf("headers %v, want X-Callback-Secret redacted", q.Headers)
			}
			if in.name == "UnknownEnvelope" && !slices.Equal(q.Headers["Authorization"], []string{callbackauth.Redacted}) {
				t.Errorf("headers %v, want Authorization redacted", q.Headers)
			}
		})
	}

	// A readable callback with one good and one unusable order (without
	// lines: an order with a bad line is stored for review instead).
	mixed := testkit.Kaleyra(
		testkit.Order("wamid.MIXEDGOOD").Name("Good"),
		testkit.Order("wamid.MIXEDBAD").Name("Bad").RawItems()).Refs("mixed", "mixed-1", "mixed-2").Bytes()
	a := wantAnswer(t, b.kaleyra(t, mixed))
	if len(a.Messages) != 2 || a.Messages[0].Result != "stored" || a.Messages[1].Result != "quarantined" {
		t.Fatalf("answer %+v, want stored and quarantined", a)
	}
	bad := a.Messages[1]
	if bad.ID != "wamid.MIXEDBAD" || bad.QuarantineID <= 0 || !slices.Contains(codes(bad.Errors), "no_items") {
		t.Errorf("bad message %+v, want quarantined with no_items", bad)
	}
	b.get(t, "/v1/orders/wamid.MIXEDGOOD", http.StatusOK, nil)
	b.get(t, "/v1/orders/wamid.MIXEDBAD", http.StatusNotFound, nil)
	var qbad wire.Quarantine
	b.get(t, "/v1/quarantine/"+strconv.FormatInt(bad.QuarantineID, 10), http.StatusOK, &qbad)
	if qbad.Kind != "message" || qbad.MessageID != "wamid.MIXEDBAD" || qbad.Reason != "no_items" || qbad.Body == nil || *qbad.Body != string(mixed) {
		t.Errorf("entry %+v, want the message entry with reason no_items and the body", qbad)
	}
	ids = append(ids, bad.QuarantineID)

	t.Run("ListNewestFirst", func(t *testing.T) {
		want := slices.Clone(ids)
		slices.Reverse(want)
		var got []int64
		cursor := ""
		for page := 0; page < 10; page++ {
			var p struct {
				Entries    []wire.Quarantine `json:"entries"`
				NextCursor string            `json:"next_cursor"`
			}
			path := "/v1/quarantine?limit=2"
			if cursor != "" { // the first page has no cursor: cursor= is refused
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			b.get(t, path, http.StatusOK, &p)
			for _, e := range p.Entries {
				got = append(got, e.ID)
				if e.Body != nil {
					t.Errorf("list entry %d carries its body", e.ID)
				}
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("quarantine ids %v, want %v", got, want)
		}
	})

	t.Run("RetryStillUnusable", func(t *testing.T) {
		var out struct {
			Entry    wire.Quarantine `json:"entry"`
			Resolved bool            `json:"resolved"`
			Result   *cbAnswer       `json:"result"`
			Error    *struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		b.call(t, http.MethodPost, "/v1/quarantine/"+strconv.FormatInt(ids[0], 10)+"/retry", http.StatusOK, &out)
		if out.Resolved || out.Error == nil || out.Error.Code != "invalid_json" || out.Entry.Attempts != 1 {
			t.Errorf("retry of a non-JSON body: %+v, want unresolved invalid_json after 1 attempt", out)
		}
		before := b.storedRows(t)
		out.Result, out.Error = nil, nil
		b.call(t, http.MethodPost, "/v1/quarantine/"+strconv.FormatInt(bad.QuarantineID, 10)+"/retry", http.StatusOK, &out)
		if out.Resolved || out.Result == nil || len(out.Result.Messages) != 2 {
			t.Fatalf("retry of the zero quantity: %+v, want unresolved with both messages", out)
		}
		if m := out.Result.Messages; m[0].Result != "duplicate" || m[1].Result != "quarantined" || m[1].QuarantineID != bad.QuarantineID {
			t.Errorf("retry results %+v, want duplicate and the same quarantine entry", m)
		}
		if after := b.storedRows(t); !maps.Equal(before, after) {
			t.Errorf("a retry of a still-unusable message changed storage: %v → %v", before, after)
		}
		wantError(t, b.api(t, http.MethodPost, "/v1/quarantine/999999/retry", nil), http.StatusNotFound, "not_found")
		wantError(t, b.api(t, http.MethodPost, "/v1/quarantine/abc/retry", nil), http.StatusBadRequest, "invalid")
		wantError(t, b.api(t, http.MethodGet, "/v1/quarantine/0", nil), http.StatusBadRequest, "invalid")
	})

	t.Run("RetryResolves", func(t *testing.T) {
		// An entry kept by an older decoder that the current one reads: the
		// seed, quarantined as if it had been undecodable.
		seed := readTestdata(t, "kaleyra_seed.json")
		res, err := b.store.WriteInbound(context.Background(), []*store.Inbound{{Quarantine: []*waorders.QuarantineEntry{{
			Kind: waorders.QuarantineBody, CallbackID: "older-decoder-1", Reason: "unknown_envelope",
			Message: "an older decoder could not read it", Body: seed, ReceivedAt: time.Now(),
		}}}})
		if err != nil {
			t.Fatal(err)
		}
		qid := strconv.FormatInt(res[0].Quarantine[0].ID, 10)
		var out struct {
			Entry    wire.Quarantine `json:"entry"`
			Resolved bool            `json:"resolved"`
			Result   *cbAnswer       `json:"result"`
		}
		b.call(t, http.MethodPost, "/v1/quarantine/"+qid+"/retry", http.StatusOK, &out)
		if !out.Resolved || out.Result == nil || len(out.Result.Messages) != 1 || out.Result.Messages[0].Result != "stored" || out.Entry.ResolvedAt == nil {
			t.Fatalf("retry: %+v, want resolved with the order stored", out)
		}
		var o wire.Order
		b.get(t, "/v1/orders/"+out.Result.Messages[0].ID, http.StatusOK, &o)
		if len(o.Totals) != 1 || amountText(o.Totals[0]) != "INR 3600.00 360000" {
			t.Errorf("order totals %v, want INR 3600.00 360000", o.Totals)
		}
		var unresolved struct {
			Entries []wire.Quarantine `json:"entries"`
		}
		b.get(t, "/v1/quarantine?unresolved=true", http.StatusOK, &unresolved)
		for _, e := range unresolved.Entries {
			if strconv.FormatInt(e.ID, 10) == qid {
				t.Errorf("resolved entry %s listed as unresolved", qid)
			}
		}
		b.call(t, http.MethodPost, "/v1/quarantine/"+qid+"/retry", http.StatusOK, &out)
		if !out.Resolved || out.Result.Messages[0].Result != "duplicate" || out.Entry.Attempts != 2 {
			t.Errorf("second retry: %+v, want resolved, duplicate, 2 attempts", out)
		}
	})
}

// TestQuarantineListBooleans: unresolved is true or false, exactly, as the
// OpenAPI document's boolean says.
func TestQuarantineListBooleans(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, v := range []string{"true", "false"} {
		b.get(t, "/v1/quarantine?unresolved="+v, http.StatusOK, nil)
	}
	for _, v := range []string{"1", "0", "t", "TRUE", "False", "yes"} {
		wantError(t, b.api(t, http.MethodGet, "/v1/quarantine?unresolved="+v, nil), http.StatusBadRequest, "invalid",
			"unresolved=", "use true or false")
	}
	wantError(t, b.api(t, http.MethodGet, "/v1/quarantine?unresolved=", nil), http.StatusBadRequest, "invalid", "unresolved is empty")
}

func isSecretHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "X-Callback-Secret", "X-Hub-Signature-256", "Cookie":
		return true
	}
	return false
}

// TestIdenticalBadBodiesQuarantinedOnce: a body that is not a callback is
// kept once however often it is retried; the entry counts the repeats.
func TestIdenticalBadBodiesQuarantinedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := wantError(t, b.kaleyra(t, []byte("not json at all")), http.StatusBadRequest, "invalid_json")
	for range 2 {
		again := wantError(t, b.kaleyra(t, []byte("not json at all")), http.StatusBadRequest, "invalid_json")
		if again.QuarantineID != first.QuarantineID {
			t.Fatalf("repeat quarantined as %d, want %d", again.QuarantineID, first.QuarantineID)
		}
	}
	var q wire.Quarantine
	b.get(t, "/v1/quarantine/"+strconv.FormatInt(first.QuarantineID, 10), http.StatusOK, &q)
	if q.Repeats != 2 || q.LastSeenAt == nil {
		t.Errorf("entry: %d repeats, last seen %v; want 2 and a time", q.Repeats, q.LastSeenAt)
	}
	if n := b.rows(t, "quarantine"); n != 1 {
		t.Errorf("%d quarantine rows, want 1", n)
	}
}
