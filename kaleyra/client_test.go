package kaleyra_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	sandbox "github.com/waorders/waorders/internal/sandbox/kaleyra"
	"github.com/waorders/waorders/kaleyra"
)

const (
	sid    = "HXAP16000000097IN"
	apiKey = "Asecret-api-key-0123456789abcdef3"
	sender = "+919800000001"
	to     = "+919900000001"
)

// start returns a sandbox on 127.0.0.1 and a client for it.
func start(t *testing.T, tlsOn bool, cfg ...func(*sandbox.Config)) (*sandbox.Sandbox, *kaleyra.Client) {
	t.Helper()
	c := sandbox.Config{SID: sid, APIKey: apiKey, Sender: sender}
	for _, f := range cfg {
		f(&c)
	}
	sb, err := sandbox.New(c)
	if err != nil {
		t.Fatal(err)
	}
	if tlsOn {
		err = sb.StartTLS("127.0.0.1:0")
	} else {
		err = sb.Start("127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	kc, err := kaleyra.New(kaleyra.Config{BaseURL: sb.URL(), SID: sid, APIKey: apiKey, Sender: sender,
		HTTPClient: sb.Client(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return sb, kc
}

func noKey(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), apiKey) {
		t.Errorf("the error shows the API key: %v", err)
	}
}

func TestSendText(t *testing.T) {
	t.Parallel()
	sb, kc := start(t, false)
	refs := kaleyra.Refs{Ref: "order-wamid.O1", Ref1: "confirmation", Ref2: "c-1"}
	res, err := kc.Send(context.Background(), kaleyra.Text(to, "Thanks! Order received.").ReplyTo("wamid.O1").WithRefs(refs))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.MessageID, "wamid.SANDBOX") || res.HTTPStatus != 200 {
		t.Errorf("result %+v", res)
	}
	sends := sb.Sends()
	if len(sends) != 1 {
		t.Fatalf("%d sends", len(sends))
	}
	s := sends[0]
	if s.ID != res.MessageID || s.ReplyTo != "wamid.O1" || s.Ref != refs.Ref || s.Ref1 != refs.Ref1 || s.Ref2 != refs.Ref2 || s.To != to || s.Type != "text" {
		t.Errorf("recorded %+v", s)
	}
	var body struct {
		MO struct {
			Context struct {
				MessageID string `json:"message_id"`
			} `json:"context"`
			Text struct{ Body string } `json:"text"`
		} `json:"messaging_object"`
	}
	if err := json.Unmarshal(s.Body, &body); err != nil || body.MO.Context.MessageID != "wamid.O1" || body.MO.Text.Body != "Thanks! Order received." {
		t.Errorf("body %s (%v)", s.Body, err)
	}
	if sb.Accepted(refs.Ref, refs.Ref1, refs.Ref2) != 1 {
		t.Error("Accepted != 1")
	}
}

// TestSendKinds: templates and every interactive type pass the sandbox's
// validation as the builders make them.
func TestSendKinds(t *testing.T) {
	t.Parallel()
	sb, kc := start(t, false)
	zero := 0
	msgs := map[string]kaleyra.Message{
		"template": kaleyra.Template(to, "order_confirmation", "en",
			kaleyra.BodyParams("Asha", "#O1", "₹5,200.00"),
			kaleyra.Component{Type: "button", SubType: "quick_reply", Index: &zero, Parameters: []kaleyra.Parameter{{Type: "payload", Payload: "cancel-O1"}}}),
		"template-bare": kaleyra.Template(to, "hello_world", "en_US"),
		"buttons": kaleyra.Buttons(to, "Confirm your order?", kaleyra.Button{ID: "confirm", Title: "Confirm"},
			kaleyra.Button{ID: "cancel", Title: "Cancel"}).WithHeader("Order #O1").WithFooter("Reply within 24 h"),
		"list": kaleyra.List(to, "Pick a slot", "Slots",
			kaleyra.Section{Title: "Today", Rows: []kaleyra.Row{{ID: "t1", Title: "18:00-20:00", Description: "Evening"}}},
			kaleyra.Section{Title: "Tomorrow", Rows: []kaleyra.Row{{ID: "m1", Title: "09:00-11:00"}}}),
		"product": kaleyra.Product(to, "1234567890123456", "SKU-SHIRT-M"),
		"product_list": kaleyra.ProductList(to, "1234567890123456", "Our shirts", "Pick one",
			kaleyra.ProductSection{Title: "Shirts", ProductRetailerIDs: []string{"SKU-SHIRT-M", "SKU-SHIRT-L"}}),
		"catalog":      kaleyra.Catalog(to, "Browse our catalogue", "SKU-SHIRT-M"),
		"catalog-bare": kaleyra.Catalog(to, "Browse our catalogue", ""),
		"text-preview": kaleyra.Text(to, "See https://example.com").WithPreviewURL(),
	}
	for name, m := range msgs {
		if _, err := kc.Send(context.Background(), m.WithRefs(kaleyra.Refs{Ref: name})); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := len(sb.Sends()); n != len(msgs) {
		t.Errorf("%d accepted, want %d", n, len(msgs))
	}
}

// TestSandboxRefusesInvalid: what the sandbox refuses comes back as WA400,
// give up, naming the field.
func TestSandboxRefusesInvalid(t *testing.T) {
	t.Parallel()
	sb, kc := start(t, false)
	long := strings.Repeat("x", 21)
	cases := map[string]struct {
		m    kaleyra.Message
		want string
	}{
		"button title":     {kaleyra.Buttons(to, "b", kaleyra.Button{ID: "a", Title: long}), "reply.title"},
		"duplicate button": {kaleyra.Buttons(to, "b", kaleyra.Button{ID: "a", Title: "A"}, kaleyra.Button{ID: "a", Title: "A"}), "unique"},
		"list rows":        {kaleyra.List(to, "b", "Open", kaleyra.Section{Rows: make11Rows()}), "rows"},
		"template name":    {kaleyra.Template(to, "Order Confirmation", "en"), "template.name"},
		"template param":   {kaleyra.Template(to, "x", "en", kaleyra.Component{Type: "body", Parameters: []kaleyra.Parameter{{Type: "money"}}}), "parameters[0].type"},
		"product_list hdr": {kaleyra.ProductList(to, "1", "", "b", kaleyra.ProductSection{Title: "s", ProductRetailerIDs: []string{"a"}}), "interactive.header"},
		"interactive type": {kaleyra.Interactive(to, kaleyra.InteractiveBody{Type: "carousel", Body: "b"}), "interactive.type"},
	}
	for name, tc := range cases {
		_, err := kc.Send(context.Background(), tc.m)
		var ke *kaleyra.Error
		if !errors.As(err, &ke) || ke.Code != "WA400" || ke.HTTPStatus != 400 || ke.Action != kaleyra.GiveUp {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(string(ke.Body), tc.want) {
			t.Errorf("%s: body %s does not name %q", name, ke.Body, tc.want)
		}
	}
	if n := len(sb.Sends()); n != 0 {
		t.Errorf("%d accepted", n)
	}
}

func make11Rows() []kaleyra.Row {
	var r []kaleyra.Row
	for i := range 11 {
		r = append(r, kaleyra.Row{ID: fmt.Sprint(i), Title: fmt.Sprint("row ", i)})
	}
	return r
}

// TestErrorCodes: every documented code, as the sandbox answers it, maps to
// its action; the next send succeeds.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	sb, kc := start(t, false)
	for _, ci := range kaleyra.Codes() {
		sb.FailNext(ci.Code, 1)
		_, err := kc.Send(context.Background(), kaleyra.Text(to, "hi"))
		noKey(t, err)
		var ke *kaleyra.Error
		if !errors.As(err, &ke) {
			t.Fatalf("%s: %v", ci.Code, err)
		}
		if ke.Code != ci.Code || ke.HTTPStatus != ci.HTTPStatus || ke.Action != ci.Action || kaleyra.ActionOf(err) != ci.Action {
			t.Errorf("%s: got %+v, want %+v", ci.Code, ke, ci)
		}
		if ci.Code == kaleyra.CodeServerError && fmt.Sprint(ke.Advice) != "[5m0s 10m0s 15m0s]" {
			t.Errorf("WA500 advice %v", ke.Advice)
		}
	}
	if _, err := kc.Send(context.Background(), kaleyra.Text(to, "hi")); err != nil {
		t.Fatal(err)
	}
	if len(sb.Sends()) != 1 {
		t.Errorf("%d accepted", len(sb.Sends()))
	}
}

func TestWrongCredentials(t *testing.T) {
	t.Parallel()
	sb, _ := start(t, false)
	for name, cfg := range map[string]kaleyra.Config{
		"key":    {BaseURL: sb.URL(), SID: sid, APIKey: "wrong", Sender: sender},
		"sid":    {BaseURL: sb.URL(), SID: "HXOTHER", APIKey: apiKey, Sender: sender},
		"sender": {BaseURL: sb.URL(), SID: sid, APIKey: apiKey, Sender: "+919800000002"},
	} {
		kc, err := kaleyra.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = kc.Send(context.Background(), kaleyra.Text(to, "hi"))
		noKey(t, err)
		want := "RBC001"
		if name == "sender" {
			want = "WA401"
		}
		var ke *kaleyra.Error
		if !errors.As(err, &ke) || ke.Code != want || ke.Action != kaleyra.Pause {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestNotSent: nothing written (TLS handshake refused, connection
// refused) is ErrNotSent, and nothing was accepted.
func TestNotSent(t *testing.T) {
	t.Parallel()
	sb, kc := start(t, true)
	sb.DropBeforeWrite(1)
	_, err := kc.Send(context.Background(), kaleyra.Text(to, "hi"))
	noKey(t, err)
	var ne *kaleyra.NetError
	if !errors.As(err, &ne) || ne.Written || !errors.Is(err, kaleyra.ErrNotSent) || errors.Is(err, kaleyra.ErrAmbiguous) || kaleyra.ActionOf(err) != kaleyra.Retry {
		t.Fatalf("dropped handshake: %v", err)
	}
	if sb.Requests() != 0 || len(sb.Sends()) != 0 {
		t.Errorf("requests %d, sends %d", sb.Requests(), len(sb.Sends()))
	}
	// Then it works.
	if _, err := kc.Send(context.Background(), kaleyra.Text(to, "hi")); err != nil {
		t.Fatal(err)
	}

	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	kc2, _ := kaleyra.New(kaleyra.Config{BaseURL: "http://" + addr, SID: sid, APIKey: apiKey, Sender: sender})
	_, err = kc2.Send(context.Background(), kaleyra.Text(to, "hi"))
	noKey(t, err)
	if !errors.Is(err, kaleyra.ErrNotSent) {
		t.Errorf("refused: %v", err)
	}
}

// TestAmbiguous: a request written and then dropped, or answered too late,
// is ErrAmbiguous; the sandbox did accept it.
func TestAmbiguous(t *testing.T) {
	t.Parallel()
	for _, tlsOn := range []bool{false, true} {
		sb, kc := start(t, tlsOn)
		sb.DropAfterWrite(1)
		_, err := kc.Send(context.Background(), kaleyra.Text(to, "hi").WithRefs(kaleyra.Refs{Ref: "a"}))
		noKey(t, err)
		var ne *kaleyra.NetError
		if !errors.As(err, &ne) || !ne.Written || !errors.Is(err, kaleyra.ErrAmbiguous) || kaleyra.ActionOf(err) != kaleyra.Reconcile {
			t.Fatalf("tls %v: dropped after write: %v", tlsOn, err)
		}
		if sb.Accepted("a", "", "") != 1 {
			t.Errorf("tls %v: accepted %d", tlsOn, sb.Accepted("a", "", ""))
		}
	}

	sb, kc := start(t, false)
	sb.Delay(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := kc.Send(ctx, kaleyra.Text(to, "hi").WithRefs(kaleyra.Refs{Ref: "slow"}))
	if !errors.Is(err, kaleyra.ErrAmbiguous) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow answer: %v", err)
	}
	if sb.Accepted("slow", "", "") != 1 {
		t.Error("the slow send was not accepted")
	}
}

func TestCanceledBeforeSend(t *testing.T) {
	t.Parallel()
	sb, kc := start(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := kc.Send(ctx, kaleyra.Text(to, "hi"))
	if !errors.Is(err, kaleyra.ErrNotSent) || !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
	if sb.Requests() != 0 {
		t.Error("a request arrived")
	}
}

func TestInvalidMessage(t *testing.T) {
	t.Parallel()
	sb, kc := start(t, false)
	for _, m := range []kaleyra.Message{
		{}, kaleyra.Text("12", "hi"), kaleyra.Text(to, " "), kaleyra.Template(to, "", "en"),
		kaleyra.Buttons(to, "b"), kaleyra.Text(to, strings.Repeat("é", 4097)),
	} {
		_, err := kc.Send(context.Background(), m)
		var ve *kaleyra.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, kaleyra.ErrInvalidMessage) || kaleyra.ActionOf(err) != kaleyra.GiveUp {
			t.Errorf("%+v: %v", m, err)
		}
	}
	if sb.Requests() != 0 {
		t.Error("an invalid message was sent")
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	ok := kaleyra.Config{BaseURL: kaleyra.BaseURLIN, SID: sid, APIKey: apiKey, Sender: sender}
	kc, err := kaleyra.New(ok)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kc.Endpoint(), "https://api.in.kaleyra.io/v2/"+sid+"/whatsapp/+919800000001/messages"; got != want {
		t.Errorf("endpoint %s, want %s", got, want)
	}
	if kc.Config().Timeout != kaleyra.DefaultTimeout {
		t.Errorf("timeout %v", kc.Config().Timeout)
	}
	for _, s := range []string{fmt.Sprint(ok), fmt.Sprintf("%+v", ok), fmt.Sprintf("%#v", ok), fmt.Sprintf("%v", kc.Config())} {
		if strings.Contains(s, apiKey) {
			t.Errorf("formatting shows the key: %s", s)
		}
	}
	bad := []func(*kaleyra.Config){
		func(c *kaleyra.Config) { c.BaseURL = "" },
		func(c *kaleyra.Config) { c.BaseURL = "ftp://x" },
		func(c *kaleyra.Config) { c.BaseURL = "https://u:p@x" },
		func(c *kaleyra.Config) { c.SID = "" },
		func(c *kaleyra.Config) { c.SID = "a/b" },
		func(c *kaleyra.Config) { c.APIKey = "" },
		func(c *kaleyra.Config) { c.APIKey = "a\nb" },
		func(c *kaleyra.Config) { c.Sender = "sender" },
		func(c *kaleyra.Config) { c.Timeout = -1 },
	}
	for i, f := range bad {
		c := ok
		f(&c)
		if _, err := kaleyra.New(c); err == nil {
			t.Errorf("bad config %d accepted", i)
		} else {
			noKey(t, err)
		}
	}
}
