package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"text/template"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/money"
)

// Settings are the notification settings of every order status: the JSON
// document of GET and PUT /v1/notifications and of the notify-settings
// file. A status absent from Statuses sends nothing.
type Settings struct {
	Statuses map[waorders.OrderStatus]StatusSetting `json:"statuses"`
}

// StatusSetting is what one order status sends.
type StatusSetting struct {
	Enabled bool `json:"enabled"`
	// Text is a text/template over Data, sent as a reply threaded to the
	// order message inside the 24-hour window; "" is the default text.
	Text string `json:"text,omitempty"`
	// Template is the approved template sent outside the window; without
	// one, nothing is sent there (skipped: window_closed).
	Template *TemplateSetting `json:"template,omitempty"`
}

// TemplateSetting names an approved WhatsApp template and its body
// parameters, each a text/template over Data.
type TemplateSetting struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Params   []string `json:"params,omitempty"`
}

// Data is what a text or template parameter can use.
type Data struct {
	OrderID  string // the order message's wamid
	Short    string // the short order number, e.g. "A1B2C3"
	Status   string // the status notified
	Name     string // the customer's profile name
	Items    []ItemData
	Units    int64
	Total    string   // the totals, formatted per currency, joined with " + "
	Totals   []string // one per currency
	Note     string   // the tracking note given with the status change
	Catalog  string
	Business string // the business display number
}

// ItemData is one order line.
type ItemData struct {
	Product   string
	Quantity  int64
	UnitPrice string
	LineTotal string
}

// DefaultTexts are the texts of statuses turned on without a text.
var DefaultTexts = map[waorders.OrderStatus]string{
	waorders.OrderPending:    "Thank you{{if .Name}}, {{.Name}}{{end}}! We received your order {{.Short}}: {{.Units}} item{{if ne .Units 1}}s{{end}}, {{.Total}}. We will keep you posted here.",
	waorders.OrderProcessing: "Your order {{.Short}} is being prepared.{{if .Note}} {{.Note}}{{end}}",
	waorders.OrderShipped:    "Your order {{.Short}} has shipped.{{if .Note}} {{.Note}}{{end}}",
	waorders.OrderCompleted:  "Your order {{.Short}} is complete. Thank you for shopping with us!{{if .Note}} {{.Note}}{{end}}",
	waorders.OrderCanceled:   "Your order {{.Short}} has been canceled.{{if .Note}} {{.Note}}{{end}}",
}

const genericText = "Your order {{.Short}} is now {{.Status}}.{{if .Note}} {{.Note}}{{end}}"

// TextFor returns the text template of a status.
func (s StatusSetting) TextFor(status waorders.OrderStatus) string {
	if s.Text != "" {
		return s.Text
	}
	if t, ok := DefaultTexts[status]; ok {
		return t
	}
	return genericText
}

// FromStatuses is the settings of WAORDERS_NOTIFY_STATUSES: those statuses
// on, with the default text.
func FromStatuses(statuses []string) Settings {
	s := Settings{Statuses: map[waorders.OrderStatus]StatusSetting{}}
	for _, st := range statuses {
		s.Statuses[waorders.OrderStatus(st)] = StatusSetting{Enabled: true}
	}
	return s
}

// Validate checks every status and parses every template.
func (s Settings) Validate() error {
	for st, v := range s.Statuses {
		if !st.Valid() {
			return waorders.Errorf(waorders.CodeInvalid, "%q is not an order status", st)
		}
		if _, err := parse(v.TextFor(st)); err != nil {
			return waorders.Errorf(waorders.CodeInvalid, "statuses.%s.text: %v", st, err)
		}
		if t := v.Template; t != nil {
			if t.Name == "" || t.Language == "" {
				return waorders.Errorf(waorders.CodeInvalid, "statuses.%s.template: name and language are required", st)
			}
			for i, p := range t.Params {
				if _, err := parse(p); err != nil {
					return waorders.Errorf(waorders.CodeInvalid, "statuses.%s.template.params[%d]: %v", st, i, err)
				}
			}
		}
	}
	return nil
}

// ParseSettings decodes and validates a settings document.
func ParseSettings(b []byte) (Settings, error) {
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Settings{}, waorders.Errorf(waorders.CodeInvalid, "notification settings: %v", err)
	}
	if s.Statuses == nil {
		s.Statuses = map[waorders.OrderStatus]StatusSetting{}
	}
	return s, s.Validate()
}

func parse(text string) (*template.Template, error) {
	return template.New("").Option("missingkey=error").Parse(text)
}

// Render executes a template over d.
func Render(text string, d Data) (string, error) {
	t, err := parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// ShortID is the short order number of an order: 6 upper-case hex digits
// of its wamid's SHA-256, stable and the same in every message.
func ShortID(orderID string) string {
	h := sha256.Sum256([]byte(orderID))
	return strings.ToUpper(hex.EncodeToString(h[:3]))
}

// DataOf returns the template data of an order.
func DataOf(o *waorders.Order, status waorders.OrderStatus, note string) Data {
	d := Data{OrderID: o.ID, Short: ShortID(o.ID), Status: strings.ReplaceAll(string(status), "_", " "), Name: o.Customer.Name,
		Units: o.Units(), Note: note, Catalog: o.CatalogID, Business: o.Business.DisplayPhoneNumber}
	for _, it := range o.Items {
		if !it.Usable() {
			continue
		}
		d.Items = append(d.Items, ItemData{Product: it.ProductRetailerID, Quantity: it.Quantity,
			UnitPrice: FormatMoney(it.UnitPrice), LineTotal: FormatMoney(it.LineTotal)})
	}
	for _, t := range o.Totals {
		d.Totals = append(d.Totals, FormatMoney(t))
	}
	d.Total = strings.Join(d.Totals, " + ")
	return d
}

var symbols = map[string]string{"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "BRL": "R$", "SGD": "S$", "IDR": "Rp", "JPY": "¥", "AED": "AED "}

// FormatMoney formats an amount for a customer: the currency's symbol (or
// its code), thousands grouped, exactly the currency's minor digits:
// "₹3,600.00", "¥1,500", "12.50 CHF".
func FormatMoney(a money.Amount) string {
	if a.Currency == "" {
		return ""
	}
	dec := a.Decimal()
	neg := strings.HasPrefix(dec, "-")
	dec = strings.TrimPrefix(dec, "-")
	whole, frac, _ := strings.Cut(dec, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	num := b.String()
	if frac != "" {
		num += "." + frac
	}
	if neg {
		num = "-" + num
	}
	if sym, ok := symbols[a.Currency]; ok {
		return sym + num
	}
	return num + " " + a.Currency
}
