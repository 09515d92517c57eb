package kaleyra

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Refs are Kaleyra's extra_info correlation fields. Kaleyra echoes them in
// every status callback of the message, which is the only documented way
// to tie a send to its outcome.
type Refs struct {
	Ref  string
	Ref1 string
	Ref2 string
}

// Message is one WhatsApp message to send: build it with [Text],
// [Template], [Buttons], [List], [Product], [ProductList] or [Catalog],
// then refine it with the methods, which return a changed copy. The zero
// Message is invalid.
type Message struct {
	To string // the customer's number, E.164 ("+919900000001" or "919900000001")
	// ReplyToID is the id (wamid) of the message replied to: Kaleyra's
	// messaging_object.context.message_id, a threaded reply.
	ReplyToID string
	Refs      Refs
	// WASource is extra_info.wa_source, sent only when set.
	WASource string

	Type        string // "text", "template" or "interactive"
	Text        *TextBody
	Template    *TemplateBody
	Interactive *InteractiveBody
}

// TextBody is a text message's text object.
type TextBody struct {
	Body       string
	PreviewURL bool
}

// TemplateBody is a template message's template object.
type TemplateBody struct {
	Name       string
	Language   string // language.code, e.g. "en" or "en_US"
	Components []Component
}

// Component is one template component with its parameters.
type Component struct {
	Type       string // "header", "body" or "button"
	SubType    string // buttons: "quick_reply", "url", ...
	Index      *int   // buttons: the button's position, from 0
	Parameters []Parameter
}

// Parameter is one template parameter.
type Parameter struct {
	Type    string // "text", "payload", ...
	Text    string // for "text"
	Payload string // for "payload" (quick reply buttons)
}

// BodyParams is a body component of text parameters, in order.
func BodyParams(texts ...string) Component {
	c := Component{Type: "body"}
	for _, t := range texts {
		c.Parameters = append(c.Parameters, Parameter{Type: "text", Text: t})
	}
	return c
}

// InteractiveBody is an interactive message's interactive object.
type InteractiveBody struct {
	Type   string // "button", "list", "product", "product_list" or "catalog_message"
	Header string // a text header; product_list requires one
	Body   string
	Footer string
	Action InteractiveAction
}

// InteractiveAction is the interactive action object; which fields apply
// depends on the interactive type.
type InteractiveAction struct {
	Buttons           []Button         // button
	Button            string           // list: the text of the button opening the list
	Sections          []Section        // list
	CatalogID         string           // product, product_list
	ProductRetailerID string           // product
	ProductSections   []ProductSection // product_list
	// ThumbnailProductRetailerID is catalog_message's parameters.
	// thumbnail_product_retailer_id, the product shown on the message.
	ThumbnailProductRetailerID string
}

// Button is a reply button: at most 3 per message, title at most 20
// characters.
type Button struct{ ID, Title string }

// Section is a list section: at most 10 rows across all sections.
type Section struct {
	Title string
	Rows  []Row
}

// Row is a list row: title at most 24 characters, description 72.
type Row struct{ ID, Title, Description string }

// ProductSection is a product_list section: at most 30 products across
// all sections.
type ProductSection struct {
	Title              string
	ProductRetailerIDs []string
}

// Text is a text message.
func Text(to, body string) Message {
	return Message{To: to, Type: "text", Text: &TextBody{Body: body}}
}

// Template is a template message: the only kind WhatsApp delivers outside
// the 24-hour customer service window.
func Template(to, name, language string, components ...Component) Message {
	return Message{To: to, Type: "template", Template: &TemplateBody{Name: name, Language: language, Components: components}}
}

// Buttons is an interactive message with up to 3 reply buttons.
func Buttons(to, body string, buttons ...Button) Message {
	return interactive(to, InteractiveBody{Type: "button", Body: body, Action: InteractiveAction{Buttons: buttons}})
}

// List is an interactive list message; button is the text that opens it.
func List(to, body, button string, sections ...Section) Message {
	return interactive(to, InteractiveBody{Type: "list", Body: body, Action: InteractiveAction{Button: button, Sections: sections}})
}

// Product is a single-product message.
func Product(to, catalogID, productRetailerID string) Message {
	return interactive(to, InteractiveBody{Type: "product", Action: InteractiveAction{CatalogID: catalogID, ProductRetailerID: productRetailerID}})
}

// ProductList is a multi-product message; it needs a header and a body.
func ProductList(to, catalogID, header, body string, sections ...ProductSection) Message {
	return interactive(to, InteractiveBody{Type: "product_list", Header: header, Body: body,
		Action: InteractiveAction{CatalogID: catalogID, ProductSections: sections}})
}

// Catalog is a catalog message (action name catalog_message) showing the
// business's catalogue; thumbnail may be "".
func Catalog(to, body, thumbnail string) Message {
	return interactive(to, InteractiveBody{Type: "catalog_message", Body: body, Action: InteractiveAction{ThumbnailProductRetailerID: thumbnail}})
}

// Interactive is an interactive message built from its object.
func Interactive(to string, in InteractiveBody) Message { return interactive(to, in) }

func interactive(to string, in InteractiveBody) Message {
	return Message{To: to, Type: "interactive", Interactive: &in}
}

// ReplyTo makes the message a threaded reply to the message with that id.
func (m Message) ReplyTo(wamid string) Message { m.ReplyToID = wamid; return m }

// WithRefs sets the extra_info refs Kaleyra echoes in status callbacks.
func (m Message) WithRefs(r Refs) Message { m.Refs = r; return m }

// WithPreviewURL asks WhatsApp to preview the first URL of a text message.
func (m Message) WithPreviewURL() Message {
	if m.Text != nil {
		t := *m.Text
		t.PreviewURL = true
		m.Text = &t
	}
	return m
}

// WithHeader sets an interactive message's text header.
func (m Message) WithHeader(text string) Message {
	if m.Interactive != nil {
		in := *m.Interactive
		in.Header = text
		m.Interactive = &in
	}
	return m
}

// WithFooter sets an interactive message's footer.
func (m Message) WithFooter(text string) Message {
	if m.Interactive != nil {
		in := *m.Interactive
		in.Footer = text
		m.Interactive = &in
	}
	return m
}

// Validate checks what the client can without Kaleyra: the recipient and
// that the message's object is present and non-empty where WhatsApp
// requires it. Kaleyra checks the rest (WA400).
func (m Message) Validate() error {
	bad := func(f, r string) error { return &ValidationError{Field: f, Reason: r} }
	if !ValidPhone(m.To) {
		return bad("to", "not an E.164 number")
	}
	if m.ReplyToID != "" && strings.TrimSpace(m.ReplyToID) != m.ReplyToID {
		return bad("context.message_id", "has surrounding spaces")
	}
	switch m.Type {
	case "text":
		if m.Text == nil || strings.TrimSpace(m.Text.Body) == "" {
			return bad("text.body", "empty")
		}
		if utf8.RuneCountInString(m.Text.Body) > 4096 {
			return bad("text.body", "longer than 4096 characters")
		}
	case "template":
		if m.Template == nil || m.Template.Name == "" {
			return bad("template.name", "empty")
		}
		if m.Template.Language == "" {
			return bad("template.language.code", "empty")
		}
	case "interactive":
		in := m.Interactive
		if in == nil || in.Type == "" {
			return bad("interactive.type", "empty")
		}
		switch in.Type {
		case "button":
			if n := len(in.Action.Buttons); n == 0 || n > 3 {
				return bad("interactive.action.buttons", "needs 1 to 3 buttons")
			}
		case "list":
			if len(in.Action.Sections) == 0 {
				return bad("interactive.action.sections", "empty")
			}
		case "product":
			if in.Action.CatalogID == "" || in.Action.ProductRetailerID == "" {
				return bad("interactive.action", "needs catalog_id and product_retailer_id")
			}
		case "product_list":
			if in.Action.CatalogID == "" || len(in.Action.ProductSections) == 0 {
				return bad("interactive.action", "needs catalog_id and sections")
			}
		}
		if in.Type != "product" && strings.TrimSpace(in.Body) == "" {
			return bad("interactive.body.text", "empty")
		}
	default:
		return bad("type", "not text, template or interactive")
	}
	return nil
}

// ValidPhone reports whether s is an E.164 number: an optional "+", then 7
// to 15 digits, the first not 0.
func ValidPhone(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) < 7 || len(s) > 15 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Body returns the JSON request body Send posts for m:
// {"messaging_object": {...}, "extra_info": {...}}.
func (m Message) Body() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	type obj = map[string]any
	mo := obj{"messaging_product": "whatsapp", "recipient_type": "individual", "to": m.To, "type": m.Type}
	if m.ReplyToID != "" {
		mo["context"] = obj{"message_id": m.ReplyToID}
	}
	switch m.Type {
	case "text":
		mo["text"] = obj{"body": m.Text.Body, "preview_url": m.Text.PreviewURL}
	case "template":
		t := obj{"name": m.Template.Name, "language": obj{"code": m.Template.Language}}
		if len(m.Template.Components) > 0 {
			var cs []obj
			for _, c := range m.Template.Components {
				co := obj{"type": c.Type}
				if c.SubType != "" {
					co["sub_type"] = c.SubType
				}
				if c.Index != nil {
					co["index"] = strconv.Itoa(*c.Index)
				}
				ps := []obj{}
				for _, p := range c.Parameters {
					po := obj{"type": p.Type}
					if p.Text != "" || p.Type == "text" {
						po["text"] = p.Text
					}
					if p.Payload != "" {
						po["payload"] = p.Payload
					}
					ps = append(ps, po)
				}
				co["parameters"] = ps
				cs = append(cs, co)
			}
			t["components"] = cs
		}
		mo["template"] = t
	case "interactive":
		mo["interactive"] = interactiveObject(m.Interactive)
	}
	body := obj{"messaging_object": mo}
	ei := obj{}
	for k, v := range map[string]string{"ref": m.Refs.Ref, "ref1": m.Refs.Ref1, "ref2": m.Refs.Ref2, "wa_source": m.WASource} {
		if v != "" {
			ei[k] = v
		}
	}
	if len(ei) > 0 {
		body["extra_info"] = ei
	}
	return json.Marshal(body)
}

func interactiveObject(in *InteractiveBody) map[string]any {
	type obj = map[string]any
	o := obj{"type": in.Type}
	if in.Header != "" {
		o["header"] = obj{"type": "text", "text": in.Header}
	}
	if in.Body != "" {
		o["body"] = obj{"text": in.Body}
	}
	if in.Footer != "" {
		o["footer"] = obj{"text": in.Footer}
	}
	a := obj{}
	switch in.Type {
	case "button":
		bs := []obj{}
		for _, b := range in.Action.Buttons {
			bs = append(bs, obj{"type": "reply", "reply": obj{"id": b.ID, "title": b.Title}})
		}
		a["buttons"] = bs
	case "list":
		a["button"] = in.Action.Button
		ss := []obj{}
		for _, s := range in.Action.Sections {
			rows := []obj{}
			for _, r := range s.Rows {
				ro := obj{"id": r.ID, "title": r.Title}
				if r.Description != "" {
					ro["description"] = r.Description
				}
				rows = append(rows, ro)
			}
			so := obj{"rows": rows}
			if s.Title != "" {
				so["title"] = s.Title
			}
			ss = append(ss, so)
		}
		a["sections"] = ss
	case "product":
		a["catalog_id"] = in.Action.CatalogID
		a["product_retailer_id"] = in.Action.ProductRetailerID
	case "product_list":
		a["catalog_id"] = in.Action.CatalogID
		ss := []obj{}
		for _, s := range in.Action.ProductSections {
			items := []obj{}
			for _, id := range s.ProductRetailerIDs {
				items = append(items, obj{"product_retailer_id": id})
			}
			ss = append(ss, obj{"title": s.Title, "product_items": items})
		}
		a["sections"] = ss
	case "catalog_message":
		a["name"] = "catalog_message"
		if in.Action.ThumbnailProductRetailerID != "" {
			a["parameters"] = obj{"thumbnail_product_retailer_id": in.Action.ThumbnailProductRetailerID}
		}
	}
	o["action"] = a
	return o
}
