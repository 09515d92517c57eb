package kaleyra_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/waorders/waorders/kaleyra"
)

func TestParseResponse(t *testing.T) {
	t.Parallel()
	ok := []struct {
		status int
		body   string
		id     string
	}{
		{200, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.A"}]}`, "wamid.A"},
		{202, `{"id":"k-1"}`, "k-1"},
		{200, `{"data":[{"message_id":"k-2"}]}`, "k-2"},
		{200, `{"data":{"id":7}}`, "7"},
		{200, ``, ""},
		{200, `not json`, ""},
	}
	for _, tc := range ok {
		res, err := kaleyra.ParseResponse(tc.status, nil, []byte(tc.body))
		if err != nil || res.MessageID != tc.id || res.HTTPStatus != tc.status {
			t.Errorf("%d %s: %+v %v", tc.status, tc.body, res, err)
		}
	}
	bad := []struct {
		status int
		body   string
		code   string
		action kaleyra.Action
	}{
		{400, `{"code":"WA400","message":"Incorrect Payload."}`, "WA400", kaleyra.GiveUp},
		{401, `{"error":{"code":"RBC001","message":"Incorrect SID or API Key."}}`, "RBC001", kaleyra.Pause},
		{400, `{"error":"E110"}`, "E110", kaleyra.Pause},
		{429, `{"error_code":"WAV2101"}`, "WAV2101", kaleyra.Pause},
		{401, `{"message":"WA-401"}`, "WA-401", kaleyra.Pause},
		{500, `{"code":"WA500"}`, "WA500", kaleyra.Retry},
		{502, `<html>bad gateway</html>`, "", kaleyra.Retry},
		{429, ``, "", kaleyra.Retry},
		{403, `{}`, "", kaleyra.Pause},
		{404, `{"code":"E999","message":"x"}`, "E999", kaleyra.GiveUp},
		{301, ``, "", kaleyra.GiveUp},
	}
	for _, tc := range bad {
		h := http.Header{"Retry-After": {"7"}}
		_, err := kaleyra.ParseResponse(tc.status, h, []byte(tc.body))
		var ke *kaleyra.Error
		if !errors.As(err, &ke) || ke.Code != tc.code || ke.Action != tc.action || ke.HTTPStatus != tc.status || ke.RetryAfter != 7*time.Second {
			t.Errorf("%d %s: %+v", tc.status, tc.body, err)
		}
	}
}

// FuzzParseResponse: any answer parses without panicking into exactly one
// of a result (2xx) or an *Error with the status and an action.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{`{"messages":[{"id":"wamid.A"}]}`, `{"code":"WA400","message":"m","data":[],"error":{"code":"WA400"}}`,
		`{"data":[{"data":{"id":1}}]}`, `{"error":"RBC001"}`, `[]`, `null`, `{"code":12}`} {
		f.Add(200, []byte(s), "")
		f.Add(400, []byte(s), "120")
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, ra string) {
		res, err := kaleyra.ParseResponse(status, http.Header{"Retry-After": {ra}}, body)
		if status >= 200 && status <= 299 {
			if err != nil || res == nil || res.HTTPStatus != status || len(res.Body) > 2048 {
				t.Fatalf("2xx: %+v %v", res, err)
			}
			return
		}
		var ke *kaleyra.Error
		if res != nil || !errors.As(err, &ke) || ke.HTTPStatus != status || ke.Action < kaleyra.Retry || ke.Action > kaleyra.GiveUp || len(ke.Body) > 2048 || ke.RetryAfter < 0 {
			t.Fatalf("%d: %+v %v", status, res, err)
		}
		_ = err.Error()
	})
}
