package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/waorders/waorders/internal/wire"
)

const customersSynopsis = `Usage: waorders customers show [options] ID
       waorders customers orders [options] ID
       waorders customers export [options] ID [--format csv|ndjson] [--output FILE]

One customer of a running waorders server, over its /v1 API. ID is what
GET /v1/customers/{id} accepts: the customer's phone-based WhatsApp id
(wa_id, like 919900000001), or the business-scoped user id (BSUID) on a
server that records them.

  show    the customer's identifiers, name, number of orders, first and
          last order, spend per currency (never summed across currencies)
          and the newest orders
  orders  that customer's orders, newest first, as a table (--json: the
          API's answer, as orders list --json); --limit and --cursor page
          through them like orders list
  export  that customer's orders as CSV or NDJSON, like orders export

Examples:
  waorders customers show 919900000001
  waorders customers orders 919900000001 --limit 20
  waorders customers export 919900000001 --format csv --output asha.csv`

func runCustomers(ctx context.Context, env Env, args []string) error {
	return runSubcommand(ctx, env, args, map[string]subcommand{
		"show": customersShow, "orders": customersOrders, "export": customersExport,
	}, customersSynopsis, "customers needs show, orders or export")
}

// customerArg returns the one customer id of a customers subcommand.
func customerArg(sub string, args []string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", fmt.Errorf("%w: customers %s needs one customer id (a wa_id like 919900000001, or a BSUID)", ErrUsage, sub)
	}
	return args[0], nil
}

func customerPath(id string) string { return "/v1/customers/" + url.PathEscape(id) }

// customer is GET /v1/customers/{id}: the summary, and the identifiers
// the answer holds.
type customer struct {
	wire.CustomerSummary
	ids [][2]string // kind, value
}

// identifierKeys are the answer's fields that identify a customer, in the
// order they are shown.
var identifierKeys = []string{"id", "wa_id", "user_id", "parent_user_id", "username"}

func getCustomer(ctx context.Context, c *apiClient, id string, limit int) (*customer, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	var raw json.RawMessage
	if _, err := c.getJSON(ctx, http.MethodGet, customerPath(id), q, nil, &raw, nil); err != nil {
		return nil, err
	}
	var cu customer
	if err := json.Unmarshal(raw, &cu.CustomerSummary); err != nil {
		return nil, fmt.Errorf("read answer of GET %s: %w", customerPath(id), err)
	}
	// Every identifier the server sends, including ones this build's wire
	// type does not name yet; none is shown twice.
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	seen := map[string]bool{}
	add := func(kind, v string) {
		if v != "" && !seen[kind+"\x00"+v] {
			seen[kind+"\x00"+v] = true
			cu.ids = append(cu.ids, [2]string{kind, v})
		}
	}
	for _, k := range identifierKeys {
		var v string
		if json.Unmarshal(fields[k], &v) == nil {
			add(k, v)
		}
	}
	var list []struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
	}
	if json.Unmarshal(fields["identifiers"], &list) == nil {
		for _, x := range list {
			add(x.Kind, x.Value)
		}
	}
	return &cu, nil
}

// orderKey is what the orders filter ?customer= takes for this customer:
// its wa_id, else the id it was asked by.
func (cu *customer) orderKey(asked string) string {
	if cu.WaID != "" {
		return cu.WaID
	}
	return asked
}

func customersShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "customers show", customersSynopsis, args)
	var cf clientFlags
	limit := fs.Int("limit", 10, "newest orders to show (at most 500)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := customerArg("show", fs.Args())
	if err != nil {
		return err
	}
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, customerPath(id), url.Values{"limit": {strconv.Itoa(*limit)}}, nil, nil)
	}
	cu, err := getCustomer(ctx, c, id, *limit)
	if err != nil {
		return err
	}
	var f [][2]string
	for _, x := range cu.ids {
		f = append(f, [2]string{"Identifier", x[0] + " " + x[1]})
	}
	f = append(f,
		[2]string{"Name", cu.Name},
		[2]string{"Orders", strconv.FormatInt(cu.OrderCount, 10)},
		[2]string{"First order", c.shortTime(cu.FirstOrderAt) + " " + c.zone()},
		[2]string{"Last order", c.shortTime(cu.LastOrderAt) + " " + c.zone()},
	)
	for _, a := range cu.Spend {
		f = append(f, [2]string{"Spend", amount(a)})
	}
	if len(cu.Spend) == 0 {
		f = append(f, [2]string{"Spend", "-"})
	}
	if err := fields(env.Stdout, f); err != nil {
		return err
	}
	if len(cu.Orders) == 0 {
		return nil
	}
	fmt.Fprintln(env.Stdout)
	if err := orderTable(env.Stdout, c, cu.Orders); err != nil {
		return err
	}
	if cu.NextCursor != "" || int64(len(cu.Orders)) < cu.OrderCount {
		fmt.Fprintf(env.Stdout, "more: waorders customers orders %s\n", clean(id, 80))
	}
	return nil
}

func customersOrders(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "customers orders", customersSynopsis, args)
	var cf clientFlags
	limit := fs.Int("limit", 50, "orders per page (at most 500)")
	cursor := fs.String("cursor", "", "continue after a previous page (its next_cursor)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer (as orders list --json) for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := customerArg("orders", fs.Args())
	if err != nil {
		return err
	}
	cu, err := getCustomer(ctx, c, id, 1) // an unknown customer is a 404, not an empty list
	if err != nil {
		return err
	}
	return printOrderPage(ctx, env, c, url.Values{"customer": {cu.orderKey(id)}}, *limit, *cursor, *asJSON, "(no orders)")
}

func customersExport(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "customers export", customersSynopsis, args)
	var (
		cf clientFlags
		xf exportFlags
	)
	xf.register(fs)
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := customerArg("export", fs.Args())
	if err != nil {
		return err
	}
	cu, err := getCustomer(ctx, c, id, 1)
	if err != nil {
		return err
	}
	return xf.export(ctx, env, fs, c, url.Values{"customer": {cu.orderKey(id)}})
}
