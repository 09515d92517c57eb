package api

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/wire"
)

// exportFlushEvery is how many orders an export writes between flushes, so
// the client sees steady progress and the write deadline moves on.
const exportFlushEvery = 1000

// csvColumns is the header row of the CSV export: one row per item, the
// order's fields repeated on each. The names are part of the contract.
var csvColumns = []string{
	"order_id", "ordered_at", "received_at", "status", "version",
	"customer_wa_id", "customer_name", "phone_number_id", "display_phone_number", "waba_id",
	"catalog_id", "ref", "ref1", "ref2", "reply_to", "context_message_id", "trace_id",
	"order_text", "order_units", "order_totals",
	"item_index", "product_retailer_id", "quantity", "currency", "unit_price", "line_total",
}

// OrderExport serves GET /v1/orders/export: it streams every order matching the list filters as CSV
// or NDJSON. Orders are read page by page (store.ExportOrders) and written
// as they come, so memory stays constant whatever the size. An error before
// the first byte is answered as usual; after it, the stream is aborted so
// the client sees a truncated body rather than a silently short file.
func (h *Handler) OrderExport(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only(append(orderFilterParams, "format")...)
	f := orderFilter(q)
	format := q.OneOf("format", "csv", "csv", "ndjson")
	if err := q.Err(); err != nil {
		return err
	}
	ex := &exporter{w: w, rc: http.NewResponseController(w), format: format, writeTimeout: h.WriteTimeout}
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
	e.csv = newCSVOrderWriter(e.bw)
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

// csvOrderWriter writes orders as CSV rows, one per item.
type csvOrderWriter struct {
	cw  *csv.Writer
	row []string
}

func newCSVOrderWriter(w *bufio.Writer) *csvOrderWriter {
	return &csvOrderWriter{cw: csv.NewWriter(w), row: make([]string, len(csvColumns))}
}

func (c *csvOrderWriter) header() error { return c.cw.Write(csvColumns) }

func (c *csvOrderWriter) write(o *waorders.Order) error {
	row := c.row
	row[0] = o.ID
	row[1] = csvTime(o.OrderedAt)
	row[2] = csvTime(o.ReceivedAt)
	row[3] = string(o.Status)
	row[4] = strconv.FormatInt(o.Version, 10)
	row[5] = o.Customer.WaID
	row[6] = o.Customer.Name
	row[7] = o.Business.PhoneNumberID
	row[8] = o.Business.DisplayPhoneNumber
	row[9] = o.Business.WABAID
	row[10] = o.CatalogID
	row[11] = o.Campaign.Ref
	row[12] = o.Campaign.Ref1
	row[13] = o.Campaign.Ref2
	row[14] = o.ReplyTo
	row[15] = o.ContextMessageID
	row[16] = o.TraceID
	row[17] = o.Text
	row[18] = strconv.FormatInt(o.Units(), 10)
	row[19] = csvTotals(o)
	for i := range 20 {
		row[i] = csvCell(row[i])
	}
	for i, it := range o.Items {
		row[20] = strconv.Itoa(i + 1)
		row[21] = csvCell(it.ProductRetailerID)
		row[22] = strconv.FormatInt(it.Quantity, 10)
		row[23] = csvCell(it.UnitPrice.Currency)
		row[24] = it.UnitPrice.Decimal()
		row[25] = it.LineTotal.Decimal()
		if err := c.cw.Write(row); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvOrderWriter) flush() error {
	c.cw.Flush()
	return c.cw.Error()
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
