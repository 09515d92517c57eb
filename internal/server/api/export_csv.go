package api

import (
	"bufio"
	"encoding/csv"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/waorders/waorders"
)

// The CSV export is for people as much as for scripts, so three things are
// decided here, and documented in docs/export.md:
//
//   - Rows. rows=item (the default, as before) writes one row per item,
//     the order's identifying fields repeated so each row can be filtered
//     on its own; the order-level quantities (order_units, order_totals)
//     are written on the item_index 1 row only and left empty on the
//     others, so SUM() over any column counts each order once. rows=order
//     writes one row per order, with item_count, order_units and, for an
//     order in one currency, currency and total as numbers to sum.
//   - Excel. excel=true starts the file with a UTF-8 byte order mark (Excel
//     reads a CSV without one in the legacy code page, garbling names) and
//     writes identifier cells as ="…", the form Excel keeps as text, so
//     16-digit catalogue, phone and WABA ids keep their digits and refs
//     such as 1-10 do not become dates. Without excel the cells are the
//     plain values, as scripts expect.
//   - Formulas. Every other text cell that a spreadsheet could take for a
//     formula is prefixed with ' (csvCell). The ="…" cells are safe: the
//     whole value is one string constant with its quotes doubled, so
//     nothing in it is evaluated.

// csvOptions shape a CSV export: the rows (item or order) and Excel mode.
type csvOptions struct {
	rows  string // "item" or "order"
	excel bool
}

// utf8BOM starts an Excel-mode CSV file.
const utf8BOM = "\ufeff"

// excelTextMax is the longest string constant an Excel formula takes; a
// longer identifier is written as plain (guarded) text.
const excelTextMax = 255

// csvKind says how a column's cells are written.
type csvKind int

const (
	csvText   csvKind = iota // customer or provider text: formula-guarded
	csvID                    // an identifier: formula-guarded, or ="…" in Excel mode
	csvNumber                // produced by us (times, counts, decimals): as is
)

// csvColumn is one column of an export: its name (part of the contract)
// and how its cell is written.
type csvColumn struct {
	name string
	kind csvKind
}

// orderColumns are the leading columns of both layouts: the order's
// identity and fields, one cell each.
var orderColumns = []csvColumn{
	{"order_id", csvID}, {"ordered_at", csvNumber}, {"received_at", csvNumber}, {"status", csvText}, {"version", csvNumber},
	{"customer_wa_id", csvID}, {"customer_name", csvText}, {"phone_number_id", csvID}, {"display_phone_number", csvID},
	{"waba_id", csvID}, {"catalog_id", csvID}, {"ref", csvID}, {"ref1", csvID}, {"ref2", csvID}, {"reply_to", csvID},
	{"context_message_id", csvID}, {"trace_id", csvID}, {"order_text", csvText},
}

// itemColumns follow orderColumns in rows=item: order_units and
// order_totals on an order's first item row only, then the item.
var itemColumns = []csvColumn{
	{"order_units", csvNumber}, {"order_totals", csvText},
	{"item_index", csvNumber}, {"product_retailer_id", csvID}, {"quantity", csvNumber}, {"currency", csvText},
	{"unit_price", csvNumber}, {"line_total", csvNumber},
}

// perOrderColumns follow orderColumns in rows=order. currency and total
// are set when the order is in one currency; order_totals always lists
// every total.
var perOrderColumns = []csvColumn{
	{"item_count", csvNumber}, {"order_units", csvNumber}, {"currency", csvText}, {"total", csvNumber}, {"order_totals", csvText},
}

// csvLayout returns the columns of a layout.
func csvLayout(rows string) []csvColumn {
	tail := itemColumns
	if rows == "order" {
		tail = perOrderColumns
	}
	return append(append([]csvColumn(nil), orderColumns...), tail...)
}

// csvOrderWriter writes orders as CSV rows.
type csvOrderWriter struct {
	w    *bufio.Writer
	cw   *csv.Writer
	opts csvOptions
	cols []csvColumn
	row  []string
}

func newCSVOrderWriter(w *bufio.Writer, opts csvOptions) *csvOrderWriter {
	cols := csvLayout(opts.rows)
	return &csvOrderWriter{w: w, cw: csv.NewWriter(w), opts: opts, cols: cols, row: make([]string, len(cols))}
}

// header writes the byte order mark in Excel mode, then the header row.
func (c *csvOrderWriter) header() error {
	if c.opts.excel {
		if _, err := c.w.WriteString(utf8BOM); err != nil {
			return err
		}
	}
	names := make([]string, len(c.cols))
	for i, col := range c.cols {
		names[i] = col.name
	}
	return c.cw.Write(names)
}

// set writes value into column i as its kind says.
func (c *csvOrderWriter) set(i int, value string) {
	switch c.cols[i].kind {
	case csvNumber:
		c.row[i] = value
	case csvID:
		if c.opts.excel {
			if v, ok := excelText(value); ok {
				c.row[i] = v
				return
			}
		}
		c.row[i] = csvCell(value)
	default:
		c.row[i] = csvCell(value)
	}
}

func (c *csvOrderWriter) write(o *waorders.Order) error {
	for i, v := range []string{
		o.ID, csvTime(o.OrderedAt), csvTime(o.ReceivedAt), string(o.Status), strconv.FormatInt(o.Version, 10),
		o.Customer.WaID, o.Customer.Name, o.Business.PhoneNumberID, o.Business.DisplayPhoneNumber,
		o.Business.WABAID, o.CatalogID, o.Campaign.Ref, o.Campaign.Ref1, o.Campaign.Ref2, o.ReplyTo,
		o.ContextMessageID, o.TraceID, o.Text,
	} {
		c.set(i, v)
	}
	n := len(orderColumns)
	if c.opts.rows == "order" {
		c.set(n, strconv.Itoa(len(o.Items)))
		c.set(n+1, strconv.FormatInt(o.Units(), 10))
		c.set(n+2, "")
		c.set(n+3, "")
		if len(o.Totals) == 1 {
			c.set(n+2, o.Totals[0].Currency)
			c.set(n+3, o.Totals[0].Decimal())
		}
		c.set(n+4, csvTotals(o))
		return c.cw.Write(c.row)
	}
	for i, it := range o.Items {
		if i == 0 {
			c.set(n, strconv.FormatInt(o.Units(), 10))
			c.set(n+1, csvTotals(o))
		} else { // continuation row: the order's quantities are on its first row
			c.set(n, "")
			c.set(n+1, "")
		}
		c.set(n+2, strconv.Itoa(i+1))
		c.set(n+3, it.ProductRetailerID)
		c.set(n+4, strconv.FormatInt(it.Quantity, 10))
		c.set(n+5, it.UnitPrice.Currency)
		c.set(n+6, it.UnitPrice.Decimal())
		c.set(n+7, it.LineTotal.Decimal())
		if err := c.cw.Write(c.row); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvOrderWriter) flush() error {
	c.cw.Flush()
	return c.cw.Error()
}

// excelText writes s as an Excel text formula, ="s" with its quotes
// doubled, so Excel shows it as text however it looks (digits, a date, a
// number in E notation). An empty value stays empty; a value Excel cannot
// hold in a formula string (too long, or with control characters) is not
// converted (ok false).
func excelText(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	if utf8.RuneCountInString(s) > excelTextMax || strings.ContainsFunc(s, unicode.IsControl) {
		return "", false
	}
	return `="` + strings.ReplaceAll(s, `"`, `""`) + `"`, true
}
