package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/waorders/waorders/internal/wire"
)

const messageSynopsis = `Usage: waorders message send [options] CUSTOMER (--text TEXT | --template NAME[:LANG] | both)
       waorders message conversation [options] CUSTOMER
       waorders message list [--order ID] [--customer ID] [--state STATE] [--kind notification|staff]
       waorders message show OUTBOUND_ID

Messages waorders sends through Kaleyra, over the /v1 API of a running
server with a Kaleyra number configured. CUSTOMER is any identifier GET
/v1/customers/{id} accepts (a wa_id like 919900000001, or a BSUID).

  send          write to the customer: the text inside the 24-hour window
                (from the customer's last message), else the approved
                template if given, else nothing (skipped: window_closed);
                --order threads the reply to that order message. Prints
                the outbound message; its fate shows with message show
  conversation  the customer's inbound and outbound messages, oldest first
  list          outbound messages (notifications and staff messages)
  show          one outbound message: request, Kaleyra's answer, refs,
                delivery state

Examples:
  waorders message send 919900000001 --text "Your parcel leaves today."
  waorders message send 919900000001 --template order_update:en
  waorders message conversation 919900000001
  waorders message list --state failed`

func runMessage(ctx context.Context, env Env, args []string) error {
	return runSubcommand(ctx, env, args, map[string]subcommand{
		"send": messageSend, "conversation": messageConversation, "list": messageList, "show": messageShow,
	}, messageSynopsis, "message needs send, conversation, list or show")
}

func oneArg(cmd, what string, args []string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", fmt.Errorf("%w: %s needs one %s", ErrUsage, cmd, what)
	}
	return args[0], nil
}

func messageSend(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "message send", messageSynopsis, args)
	var cf clientFlags
	text := fs.String("text", "", "the `text` sent inside the 24-hour window")
	tpl := fs.String("template", "", "an approved template `name[:language]` sent outside the window")
	order := fs.String("order", "", "reply threaded to this order `id`")
	phone := fs.String("phone-number-id", "", "the business `number` to send from (default: the customer's last)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := oneArg("message send", "customer id", fs.Args())
	if err != nil {
		return err
	}
	if *text == "" && *tpl == "" {
		return fmt.Errorf("%w: message send needs --text, --template or both", ErrUsage)
	}
	body := wire.StaffMessageRequest{Text: *text, Template: *tpl, OrderID: *order, PhoneNumberID: *phone}
	h := http.Header{"X-Actor": {actorName(env)}}
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodPost, customerPath(id)+"/messages", nil, body, h)
	}
	var out wire.Outbound
	if _, err := c.getJSON(ctx, http.MethodPost, customerPath(id)+"/messages", nil, body, &out, h); err != nil {
		return err
	}
	return outboundFields(env, c, out)
}

// actorName is who the history and the outbound record name: $USER, else "cli".
func actorName(env Env) string {
	if u := env.Getenv("USER"); u != "" {
		return u
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return "cli@" + h
	}
	return "cli"
}

func outboundFields(env Env, c *apiClient, m wire.Outbound) error {
	f := [][2]string{{"ID", m.ID}, {"Kind", m.Kind}, {"To", clean(m.To, 20)}, {"State", m.State}}
	if m.Reason != "" {
		f = append(f, [2]string{"Reason", clean(m.Reason, 40)})
	}
	if m.OrderID != "" {
		f = append(f, [2]string{"Order", clean(m.OrderID+" "+m.OrderStatus, 100)})
	}
	if m.Text != "" {
		f = append(f, [2]string{"Text", clean(m.Text, 200)})
	}
	f = append(f, [2]string{"Refs", m.Refs.Ref + " / " + m.Refs.Ref1 + " / " + m.Refs.Ref2},
		[2]string{"Attempts", fmt.Sprintf("%d (failures %d, resends %d)", m.Attempts, m.Failures, m.Resends)})
	if m.WAMID != "" {
		f = append(f, [2]string{"WAMID", clean(m.WAMID, 100)})
	}
	if m.LastCode != "" {
		f = append(f, [2]string{"Kaleyra", clean(m.LastCode+" "+m.LastError, 200)})
	}
	if m.DeliveryState != "" {
		f = append(f, [2]string{"Delivery", m.DeliveryState})
	}
	f = append(f, [2]string{"Created", c.shortTime(m.CreatedAt) + " " + c.zone()})
	return fields(env.Stdout, f)
}

func messageConversation(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "message conversation", messageSynopsis, args)
	var cf clientFlags
	limit := fs.Int("limit", 50, "newest messages to show (at most 500)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := oneArg("message conversation", "customer id", fs.Args())
	if err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, customerPath(id)+"/conversation", q, nil, nil)
	}
	var conv wire.Conversation
	if _, err := c.getJSON(ctx, http.MethodGet, customerPath(id)+"/conversation", q, nil, &conv, nil); err != nil {
		return err
	}
	t := newTable("AT ("+c.zone()+")", "DIR", "TYPE", "STATE", "DELIVERY", "SUMMARY")
	for _, m := range conv.Messages {
		dir := "in"
		if m.Direction == "outbound" {
			dir = "out"
		}
		t.row(c.shortTime(m.At), dir, clean(m.Type, 16), m.State, m.Delivery, clean(m.Summary, 80))
	}
	return t.write(env.Stdout)
}

func messageList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "message list", messageSynopsis, args)
	var cf clientFlags
	order := fs.String("order", "", "only this order's `id`")
	customer := fs.String("customer", "", "only this customer's `id`")
	state := fs.String("state", "", "only this `state` (queued, sending, retry, ambiguous, accepted, failed, skipped)")
	kind := fs.String("kind", "", "notification or staff")
	limit := fs.Int("limit", 50, "messages per page (at most 500)")
	cursor := fs.String("cursor", "", "the next page's `cursor`")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: message list takes no arguments", ErrUsage)
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	for k, v := range map[string]string{"order_id": *order, "customer": *customer, "state": *state, "kind": *kind, "cursor": *cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, "/v1/outbound", q, nil, nil)
	}
	var page wire.OutboundList
	if _, err := c.getJSON(ctx, http.MethodGet, "/v1/outbound", q, nil, &page, nil); err != nil {
		return err
	}
	t := newTable("CREATED ("+c.zone()+")", "ID", "KIND", "TO", "ORDER STATUS", "STATE", "REASON", "DELIVERY")
	for _, m := range page.Outbound {
		t.row(c.shortTime(m.CreatedAt), m.ID, m.Kind, clean(m.To, 20), m.OrderStatus, m.State, clean(m.Reason, 20), m.DeliveryState)
	}
	if err := t.write(env.Stdout); err != nil {
		return err
	}
	if page.NextCursor != "" {
		fmt.Fprintf(env.Stdout, "more: add --cursor %s\n", page.NextCursor)
	}
	return nil
}

func messageShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "message show", messageSynopsis, args)
	var cf clientFlags
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := oneArg("message show", "outbound id (out_…)", fs.Args())
	if err != nil {
		return err
	}
	path := "/v1/outbound/" + url.PathEscape(id)
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, path, nil, nil, nil)
	}
	var m wire.Outbound
	if _, err := c.getJSON(ctx, http.MethodGet, path, nil, nil, &m, nil); err != nil {
		return err
	}
	return outboundFields(env, c, m)
}
