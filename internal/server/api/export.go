package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/wire"
)

// exportFlushEvery is how many orders an export writes between flushes, so
// the client sees steady progress and the write deadline moves on.
const exportFlushEvery = 1000

// OrderExport serves GET /v1/orders/export: it streams every order matching the list filters as CSV
// or NDJSON. Orders are read page by page (store.ExportOrders) and written
// as they come, so memory stays constant whatever the size. An error before
// the first byte is answered as usual; after it, the stream is aborted so
// the client sees a truncated body rather than a silently short file.
func (h *Handler) OrderExport(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only(append(orderFilterParams, "format", "rows", "excel")...)
	f := orderFilter(q, h.location())
	format := q.OneOf("format", "csv", "csv", "ndjson")
	opts := csvOptions{rows: q.OneOf("rows", "item", "item", "order"), excel: q.Bool("excel")}
	if format == "ndjson" && (q.Str("rows") != "" || q.Str("excel") != "") {
		q.Fail("rows and excel shape CSV files; format=ndjson takes neither (every line is a whole order)")
	}
	if err := q.Err(); err != nil {
		return err
	}
	ex := &exporter{w: w, rc: http.NewResponseController(w), format: format, csvOpts: opts, writeTimeout: h.WriteTimeout}
	if r.Method == http.MethodHead {
		ex.setHeaders()
		w.WriteHeader(http.StatusOK)
		return nil
	}
	err := h.Orders.ExportOrders(r.Context(), f, ex.write)
	if err == nil {
		err = ex.finish()
	}
	if err != nil {
		if !ex.started {
			return err
		}
		if r.Context().Err() == nil {
			h.Log.Error("order export aborted", "request_id", httpx.RequestID(r.Context()), "orders", ex.n, "err", err)
		}
		panic(http.ErrAbortHandler) // drop the connection: the file is incomplete
	}
	return nil
}

// exporter writes the orders of one export response.
type exporter struct {
	w            http.ResponseWriter
	rc           *http.ResponseController
	format       string
	csvOpts      csvOptions
	writeTimeout time.Duration

	started bool
	n       int
	bw      *bufio.Writer
	csv     *csvOrderWriter
	json    *json.Encoder
}

func (e *exporter) setHeaders() {
	h := e.w.Header()
	ext := "csv"
	if e.format == "ndjson" {
		h.Set("Content-Type", "application/x-ndjson; charset=utf-8")
		ext = "ndjson"
	} else {
		h.Set("Content-Type", "text/csv; charset=utf-8")
	}
	h.Set("Content-Disposition", `attachment; filename="waorders-orders-`+time.Now().UTC().Format("20060102T150405Z")+"."+ext+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// start sends the headers (and the CSV header row).
func (e *exporter) start() error {
	e.started = true
	e.setHeaders()
	e.w.WriteHeader(http.StatusOK)
	e.bw = bufio.NewWriterSize(e.w, 64<<10)
	e.extendDeadline()
	if e.format == "ndjson" {
		e.json = json.NewEncoder(e.bw)
		e.json.SetEscapeHTML(true)
		return nil
	}
	e.csv = newCSVOrderWriter(e.bw, e.csvOpts)
	return e.csv.header()
}

func (e *exporter) write(o *waorders.Order) error {
	if !e.started {
		if err := e.start(); err != nil {
			return err
		}
	}
	var err error
	if e.json != nil {
		err = e.json.Encode(wire.NewOrder(o))
	} else {
		err = e.csv.write(o)
	}
	if err != nil {
		return err
	}
	e.n++
	if e.n%exportFlushEvery == 0 {
		return e.flush()
	}
	return nil
}

func (e *exporter) finish() error {
	if !e.started {
		if err := e.start(); err != nil {
			return err
		}
	}
	return e.flush()
}

func (e *exporter) flush() error {
	if e.csv != nil {
		if err := e.csv.flush(); err != nil {
			return err
		}
	}
	if err := e.bw.Flush(); err != nil {
		return err
	}
	if err := e.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	e.extendDeadline()
	return nil
}

// extendDeadline keeps a long export alive past the server's write
// timeout, as long as it makes progress.
func (e *exporter) extendDeadline() {
	if e.writeTimeout > 0 {
		_ = e.rc.SetWriteDeadline(time.Now().Add(e.writeTimeout)) // unsupported in tests: fine
	}
}

// csvTotals formats an order's totals as "INR 3600.00", several currencies
// separated by "; ".
func csvTotals(o *waorders.Order) string {
	if len(o.Totals) == 1 {
		return o.Totals[0].Currency + " " + o.Totals[0].Decimal()
	}
	parts := make([]string, len(o.Totals))
	for i, t := range o.Totals {
		parts[i] = t.Currency + " " + t.Decimal()
	}
	return strings.Join(parts, "; ")
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// csvCell defuses spreadsheet formula injection: a cell starting with
// = + - @ tab or carriage return is prefixed with a single quote, so a
// customer name such as =HYPERLINK(...) is shown as text, not run.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
