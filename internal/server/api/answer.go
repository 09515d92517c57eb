package api

import (
	"context"
	"net/http"
	"unicode/utf8"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/wire"
)

// answer reads with read(ctx, p) and answers 200 with the wire shape of the
// result; a read error is returned, for the error writer.
func answer[P, T any](w http.ResponseWriter, r *http.Request, read func(context.Context, P) (T, error), p P, shape func(T) any) error {
	v, err := read(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, shape(v))
	return nil
}

// answerQuery is answer once the query q parsed without a problem; its
// first problem is returned otherwise.
func answerQuery[P, T any](w http.ResponseWriter, r *http.Request, q *httpx.Query, read func(context.Context, P) (T, error), p P, shape func(T) any) error {
	if err := q.Err(); err != nil {
		return err
	}
	return answer(w, r, read, p, shape)
}

// writeOrder answers an order, with its version as ETag.
func writeOrder(w http.ResponseWriter, o *waorders.Order) error {
	w.Header().Set("ETag", etag(o.Version))
	httpx.WriteJSON(w, http.StatusOK, wire.NewOrder(o))
	return nil
}

// readOrderChange reads what a review or a refund starts from: the version
// in If-Match, if any, and the JSON body into req (example is shown when
// the body is not what is expected).
func readOrderChange(w http.ResponseWriter, r *http.Request, req any, example string) (*int64, error) {
	ifVersion, err := parseIfMatch(r.Header.Values("If-Match"))
	if err != nil {
		return nil, err
	}
	return ifVersion, readBody(w, r, req, example)
}

// checkNoteLen refuses a note (or a reason), named name, longer than
// maxNoteLen characters.
func checkNoteLen(name, text string) error {
	if utf8.RuneCountInString(text) > maxNoteLen {
		return waorders.Errorf(waorders.CodeInvalid, "%s is longer than %d characters", name, maxNoteLen)
	}
	return nil
}
