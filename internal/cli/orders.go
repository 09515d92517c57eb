package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/waorders/waorders/internal/wire"
	"github.com/waorders/waorders/money"
)

const ordersSynopsis = `Usage: waorders orders list [filters] [options]
       waorders orders show [options] ID
       waorders orders set-status [options] ID STATUS
       waorders orders review [options] ID correct LINE=QTYxPRICE[CUR]... | accept | reject --note REASON
       waorders orders refund [options] ID AMOUNT CUR [AMOUNT CUR...] [--reason TEXT]
       waorders orders export [filters] [--format csv|ndjson] [--rows item|order] [--excel] [--output FILE]

Works with the orders of a running waorders server over its /v1 API
(--url, default the local server; the API token as --help says below).

  list        orders newest first, as a table (--json: the API's answer)
  show        one order with its items, totals and status history
  set-status  move an order along pending → processing → partially_shipped
              → shipped → completed, or to canceled (not after completed);
              --if-version N refuses the change if someone else moved the
              order since you saw version N
  review      resolve an order in needs_review (lines with problems, see
              orders show): correct lines (1=1x2000.00 sets line 1 to 1 unit
              at 2000.00 in its currency; 1=1x2000.00INR names it), accept
              the usable lines, or reject it (canceled; --note is the reason)
  refund      record money paid back after completed, per currency, partial
              allowed (never more than what is left)
  export      every matching order as CSV (one row per item, or per order
              with --rows order; --excel for a file Excel opens with every
              digit of the ids) or NDJSON (one order per line), streamed to
              --output or stdout, with a progress line on stderr

Filters (list and export) take the API's names: --status, --ref, --ref1,
--ref2, --customer (wa_id), --phone-number-id, --catalog-id, --product
(product_retailer_id), --since/--until (RFC 3339 or YYYY-MM-DD; until is
exclusive), --q (text in the customer name or order text).

Examples:
  waorders orders list --status pending --ref1 "shoes campaign"
  waorders orders set-status wamid.HBgM... processing --note "packed" --if-version 1
  waorders orders list --status needs_review
  waorders orders review wamid.HBgM... correct 1=1x2000.00 --if-version 1
  waorders orders refund wamid.HBgM... 500.00 INR --reason "one shirt torn"
  waorders orders export --since 2026-01-01 --format csv --output jan.csv
  waorders orders export --since 2026-01-01 --rows order --excel --output jan-orders.csv`

func runOrders(ctx context.Context, env Env, args []string) error {
	return runSubcommand(ctx, env, args, map[string]subcommand{
		"list": ordersList, "show": ordersShow, "set-status": ordersSetStatus, "export": ordersExport,
		"review": ordersReview, "refund": ordersRefund,
	}, ordersSynopsis, "orders needs list, show, set-status or export")
}

// orderFilterFlags are the list and export filters, named as in the API.
type orderFilterFlags struct {
	status, ref, ref1, ref2, customer, phoneNumberID, catalogID, product, since, until, q string
}

func (o *orderFilterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.status, "status", "", "only orders in this `status` (pending, processing, partially_shipped, shipped, completed, canceled)")
	fs.StringVar(&o.ref, "ref", "", "only orders with this campaign `ref`")
	fs.StringVar(&o.ref1, "ref1", "", "only orders with this campaign `ref1`")
	fs.StringVar(&o.ref2, "ref2", "", "only orders with this campaign `ref2`")
	fs.StringVar(&o.customer, "customer", "", "only orders of this customer (`wa_id`)")
	fs.StringVar(&o.phoneNumberID, "phone-number-id", "", "only orders to this business number (`phone_number_id`)")
	fs.StringVar(&o.catalogID, "catalog-id", "", "only orders from this `catalog_id`")
	fs.StringVar(&o.product, "product", "", "only orders with an item of this `product_retailer_id`")
	fs.StringVar(&o.since, "since", "", "only orders placed at or after this `time` (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&o.until, "until", "", "only orders placed before this `time` (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&o.q, "q", "", "only orders whose customer name or text contains this `text`")
}

func (o *orderFilterFlags) values() url.Values {
	v := url.Values{}
	for name, val := range map[string]string{
		"status": o.status, "ref": o.ref, "ref1": o.ref1, "ref2": o.ref2, "customer": o.customer,
		"phone_number_id": o.phoneNumberID, "catalog_id": o.catalogID, "product": o.product,
		"since": o.since, "until": o.until, "q": o.q,
	} {
		if val != "" {
			v.Set(name, val)
		}
	}
	return v
}

// amount formats money as the tables show it: "INR 3600.00".
func amount(a money.Amount) string { return a.Currency + " " + a.Decimal() }

// optAmount shows an amount that may be absent (an unusable line's) as -.
func optAmount(a *money.Amount) string {
	if a == nil {
		return "-"
	}
	return amount(*a)
}

func amounts(as []money.Amount) string {
	if len(as) == 0 {
		return "-"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = amount(a)
	}
	return strings.Join(parts, ", ")
}

// clientCommand parses a client subcommand's flags (options may come
// between its arguments), resolves the connection settings and builds the
// client.
func clientCommand(env Env, fs *flag.FlagSet, cf *clientFlags, args []string) (*apiClient, error) {
	cf.register(fs)
	if err := parseArgs(fs, args); err != nil {
		return nil, err
	}
	return cf.client(env, fs)
}

func ordersList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "orders list", ordersSynopsis, args)
	var (
		cf clientFlags
		of orderFilterFlags
	)
	of.register(fs)
	limit := fs.Int("limit", 50, "orders per page (at most 500)")
	cursor := fs.String("cursor", "", "continue after a previous page (its next_cursor)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: orders list takes no arguments, only options (got %q)", ErrUsage, fs.Arg(0))
	}
	q := of.values()
	return printOrderPage(ctx, env, c, q, *limit, *cursor, *asJSON, "(no orders match)")
}

// printOrderPage asks GET /v1/orders for one page matching q and prints it:
// the API's JSON with asJSON, else a table (empty says so) and how to go on.
func printOrderPage(ctx context.Context, env Env, c *apiClient, q url.Values, limit int, cursor string, asJSON bool, empty string) error {
	q.Set("limit", strconv.Itoa(limit))
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, "/v1/orders", q, nil, nil)
	}
	var page wire.OrderList
	if _, err := c.getJSON(ctx, http.MethodGet, "/v1/orders", q, nil, &page, nil); err != nil {
		return err
	}
	if err := orderTable(env.Stdout, c, page.Orders); err != nil {
		return err
	}
	if len(page.Orders) == 0 {
		fmt.Fprintln(env.Stdout, empty)
	}
	if page.NextCursor != "" {
		fmt.Fprintf(env.Stdout, "more: add --cursor %s\n", page.NextCursor)
	}
	return nil
}

// orderTable prints orders one per line, times in the zone of --tz.
func orderTable(w io.Writer, c *apiClient, orders []wire.Order) error {
	t := newTable("ORDERED ("+c.zone()+")", "ID", "STATUS", "CUSTOMER", "NAME", "UNITS", "TOTAL", "REF1").alignRight(5)
	for _, o := range orders {
		t.row(c.shortTime(o.OrderedAt), clean(o.ID, 80), clean(o.Status, 20), clean(o.Customer.WaID, 20),
			clean(o.Customer.Name, 24), strconv.FormatInt(o.Units, 10), clean(amounts(o.Totals), 40), clean(o.Campaign.Ref1, 24))
	}
	return t.write(w)
}

func ordersShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "orders show", ordersSynopsis, args)
	var cf clientFlags
	asJSON := fs.Bool("json", false, "print the API's JSON answer for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: orders show needs one order id (see waorders orders list)", ErrUsage)
	}
	path := "/v1/orders/" + url.PathEscape(fs.Arg(0))
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, path, nil, nil, nil)
	}
	var o wire.Order
	if _, err := c.getJSON(ctx, http.MethodGet, path, nil, nil, &o, nil); err != nil {
		return err
	}
	return orderDetail(env.Stdout, c, &o)
}

// orderDetail prints one order: its fields, items and history.
func orderDetail(w io.Writer, c *apiClient, o *wire.Order) error {
	f := [][2]string{
		{"Order", o.ID},
		{"Status", fmt.Sprintf("%s (version %d)", o.Status, o.Version)},
		{"Ordered", c.shortTime(o.OrderedAt) + " " + c.zone()},
		{"Received", c.shortTime(o.ReceivedAt) + " " + c.zone()},
		{"Customer", strings.TrimSpace(o.Customer.Name + " (" + o.Customer.WaID + ")")},
		{"Business", fmt.Sprintf("%s (phone_number_id %s, waba_id %s)", o.Business.DisplayPhoneNumber, o.Business.PhoneNumberID, o.Business.WABAID)},
		{"Catalog", o.CatalogID},
		{"Campaign", fmt.Sprintf("ref=%q ref1=%q ref2=%q", o.Campaign.Ref, o.Campaign.Ref1, o.Campaign.Ref2)},
		{"Text", o.Text},
		{"Total", amounts(o.Totals)},
	}
	if len(o.Refunded) > 0 {
		f = append(f, [2]string{"Refunded", amounts(o.Refunded)})
	}
	for _, p := range o.Warnings {
		f = append(f, [2]string{"Warning", p.Code + ": " + p.Message})
	}
	if err := fields(w, f); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t := newTable("#", "PRODUCT", "QTY", "UNIT PRICE", "LINE TOTAL", "PROBLEM").alignRight(0, 2, 3, 4)
	for i, it := range o.Items {
		qty, unit, line, problem := strconv.FormatInt(it.Quantity, 10), optAmount(it.UnitPrice), optAmount(it.LineTotal), "-"
		if len(it.Problems) > 0 {
			// An unusable line shows what was received.
			qty = it.RawQuantity
			if it.UnitPrice == nil {
				unit = strings.TrimSpace(it.RawCurrency + " " + it.RawPrice)
			}
			parts := make([]string, len(it.Problems))
			for k, p := range it.Problems {
				parts[k] = p.Code + ": " + p.Message
			}
			problem = strings.Join(parts, "; ")
		}
		t.row(strconv.Itoa(i), clean(it.ProductRetailerID, 40), clean(qty, 20), clean(unit, 30), clean(line, 30), clean(problem, 80))
	}
	if err := t.write(w); err != nil {
		return err
	}
	if len(o.History) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t = newTable("WHEN ("+c.zone()+")", "WHO", "CHANGE", "NOTE")
	for _, h := range o.History {
		change := h.To
		if h.From != "" {
			change = h.From + " → " + h.To
		}
		t.row(c.shortTime(h.At), clean(h.Actor, 32), clean(change, 40), orDash(clean(h.Note, 80)))
	}
	return t.write(w)
}

func ordersSetStatus(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "orders set-status", ordersSynopsis, args)
	var cf clientFlags
	note := fs.String("note", "", "a note kept in the order's history (why, tracking number, ...)")
	ifVersion := fs.Int64("if-version", 0, "refuse the change unless the order is still at this `version` (see orders show)")
	actorName := fs.String("actor", "", "who makes the change, kept in the history (default: the server's \"api\")")
	asJSON := fs.Bool("json", false, "print the updated order as the API's JSON")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("%w: orders set-status needs an order id and a status, e.g. set-status wamid.X processing", ErrUsage)
	}
	if *ifVersion < 0 {
		return fmt.Errorf("%w: --if-version must be a positive order version", ErrUsage)
	}
	id, status := fs.Arg(0), fs.Arg(1)
	h := http.Header{}
	if *ifVersion > 0 {
		h.Set("If-Match", strconv.Quote(strconv.FormatInt(*ifVersion, 10)))
	}
	if *actorName != "" {
		h.Set("X-Actor", *actorName)
	}
	body := map[string]string{"status": status, "note": *note}
	path := "/v1/orders/" + url.PathEscape(id) + "/status"
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodPost, path, nil, body, h)
	}
	var o wire.Order
	if _, err := c.getJSON(ctx, http.MethodPost, path, nil, body, &o, h); err != nil {
		return err
	}
	from := "?"
	if n := len(o.History); n > 0 && o.History[n-1].From != "" {
		from = o.History[n-1].From
	}
	fmt.Fprintf(env.Stdout, "order %s: %s → %s (now version %d)\n", clean(o.ID, 80), clean(from, 20), clean(o.Status, 20), o.Version)
	return nil
}

// copyJSON sends a request and copies the JSON answer to w as it comes.
func copyJSON(ctx context.Context, c *apiClient, w io.Writer, method, path string, q url.Values, body any, h http.Header) error {
	resp, err := c.do(ctx, method, path, q, body, h)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	return nil
}

// clean makes server-provided text safe for a terminal table: control
// characters (escape sequences included), invisible format characters such
// as bidi overrides and tabs become nothing or a space, and text wider than
// max terminal columns (CJK characters and emoji take two) is cut with "…".
// Customer names are hostile input.
func clean(s string, max int) string {
	s = strip(s, false)
	if width.StringWidth(s) <= max {
		return s
	}
	return strings.TrimRight(width.Truncate(s, max-1, ""), " ") + "…"
}

// strip removes control and invisible format characters; tabs and line
// ends become spaces, or with keepLines, line ends stay (for a body shown
// as text).
func strip(s string, keepLines bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == 0x1b: // ESC: drop a CSI/OSC sequence whole, not only the ESC
			i = skipEscape(s, i)
			continue
		case r == '\n' && keepLines:
		case r == '\r' && keepLines:
			continue
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Cf):
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// skipEscape returns the index after the escape sequence whose ESC ended at i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[': // CSI: parameters and intermediates, then one final byte 0x40-0x7e
		for i++; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
		return i
	case ']', 'P', '_', '^': // OSC, DCS, APC, PM: up to BEL or ST (ESC \)
		for i++; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return i
	}
	return i + 1 // a two-byte escape such as ESC c
}

// changeFlags are the flags every order change takes.
type changeFlags struct {
	ifVersion *int64
	actor     *string
	asJSON    *bool
}

func addChangeFlags(fs *flag.FlagSet) changeFlags {
	return changeFlags{
		ifVersion: fs.Int64("if-version", 0, "refuse the change unless the order is still at this `version` (see orders show)"),
		actor:     fs.String("actor", "", "who makes the change, kept in the history (default: the server's \"api\")"),
		asJSON:    fs.Bool("json", false, "print the updated order as the API's JSON"),
	}
}

// postChange sends an order change and prints the order's new state.
func postChange(ctx context.Context, env Env, c *apiClient, cf changeFlags, id, what string, body any) error {
	if *cf.ifVersion < 0 {
		return fmt.Errorf("%w: --if-version must be a positive order version", ErrUsage)
	}
	h := http.Header{}
	if *cf.ifVersion > 0 {
		h.Set("If-Match", strconv.Quote(strconv.FormatInt(*cf.ifVersion, 10)))
	}
	if *cf.actor != "" {
		h.Set("X-Actor", *cf.actor)
	}
	path := "/v1/orders/" + url.PathEscape(id) + "/" + what
	if *cf.asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodPost, path, nil, body, h)
	}
	var o wire.Order
	if _, err := c.getJSON(ctx, http.MethodPost, path, nil, body, &o, h); err != nil {
		return err
	}
	note := ""
	if n := len(o.History); n > 0 {
		note = o.History[n-1].Note
	}
	fmt.Fprintf(env.Stdout, "order %s: %s, total %s (now version %d)\n  %s\n", clean(o.ID, 80), clean(o.Status, 20),
		clean(amounts(o.Totals), 60), o.Version, clean(note, 200))
	return nil
}

func ordersReview(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "orders review", ordersSynopsis, args)
	var cf clientFlags
	note := fs.String("note", "", "the reason of a rejection (required to reject), kept in the history")
	chg := addChangeFlags(fs)
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return fmt.Errorf("%w: orders review needs an order id and an action: correct LINE=QTYxPRICE..., accept or reject", ErrUsage)
	}
	req := wire.ReviewRequest{Action: fs.Arg(1), Note: *note}
	for _, a := range fs.Args()[2:] {
		l, err := parseCorrection(a)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		req.Lines = append(req.Lines, l)
	}
	return postChange(ctx, env, c, chg, fs.Arg(0), "review", req)
}

// parseCorrection reads LINE=QTYxPRICE[CUR]: "1=1x2000.00" or
// "1=1x2000.00INR".
func parseCorrection(s string) (wire.LineCorrection, error) {
	var l wire.LineCorrection
	line, rest, ok := strings.Cut(s, "=")
	qty, price, ok2 := strings.Cut(rest, "x")
	if !ok || !ok2 {
		return l, fmt.Errorf("correction %q: write LINE=QTYxPRICE, e.g. 1=1x2000.00 (or 1=1x2000.00INR)", s)
	}
	var err error
	if l.Index, err = strconv.Atoi(line); err != nil {
		return l, fmt.Errorf("correction %q: line %q is not a number", s, line)
	}
	if l.Quantity, err = strconv.ParseInt(qty, 10, 64); err != nil {
		return l, fmt.Errorf("correction %q: quantity %q is not a whole number", s, qty)
	}
	i := strings.IndexFunc(price, unicode.IsLetter)
	if i >= 0 {
		price, l.Currency = price[:i], strings.ToUpper(price[i:])
	}
	l.Price = price
	return l, nil
}

func ordersRefund(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "orders refund", ordersSynopsis, args)
	var cf clientFlags
	reason := fs.String("reason", "", "why the money is paid back, kept in the history")
	chg := addChangeFlags(fs)
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if fs.NArg() < 3 || fs.NArg()%2 != 1 {
		return fmt.Errorf("%w: orders refund needs an order id and AMOUNT CURRENCY pairs, e.g. refund wamid.X 500.00 INR", ErrUsage)
	}
	req := wire.RefundRequest{Reason: *reason}
	for i := 1; i < fs.NArg(); i += 2 {
		req.Amounts = append(req.Amounts, wire.RefundAmount{Amount: fs.Arg(i), Currency: strings.ToUpper(fs.Arg(i + 1))})
	}
	return postChange(ctx, env, c, chg, fs.Arg(0), "refunds", req)
}
