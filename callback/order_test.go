package callback

import (
	"strings"
	"testing"

	"github.com/waorders/waorders/money"
)

// orderBody wraps product items in a Kaleyra order callback.
func orderBody(items string) []byte {
	return []byte(`{"meta_object": {"value": {"messaging_product": "whatsapp", "messages": [{"from": "919900000001",
		"id": "wamid.ORDER", "timestamp": "1767225600", "type": "order",
		"order": {"catalog_id": "1234", "product_items": [` + items + `]}}]}, "field": "messages"}, "extra_info": {}}`)
}

// messageBody wraps one message in a Kaleyra callback.
func messageBody(message string) []byte {
	return []byte(`{"meta_object": {"value": {"messages": [` + message + `]}, "field": "messages"}, "extra_info": {}}`)
}

const items = "meta_object.value.messages[0].order.product_items"

// want is an expected problem: its code and path.
type want struct{ code, path string }

func checkProblemList(t *testing.T, got []Problem, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("problems = %+v, want %v", got, wants)
	}
	for i, w := range wants {
		if got[i].Code != w.code || got[i].Path != w.path {
			t.Errorf("problem %d = %s at %s (%s), want %s at %s", i, got[i].Code, got[i].Path, got[i].Message, w.code, w.path)
		}
	}
}

func amount(code string, minor int64) money.Amount { return money.Amount{Currency: code, Minor: minor} }

// TestOrderItems covers the money rules of product items: every accepted
// spelling of quantity and price, and every error code with its path.
func TestOrderItems(t *testing.T) {
	item := func(qty, price, currency string) string {
		return `{"product_retailer_id": "sku", "quantity": ` + qty + `, "item_price": ` + price + `, "currency": ` + currency + `}`
	}
	tests := []struct {
		name     string
		items    string
		problems []want
		totals   []money.Amount // nil: no totals
		qty      int64          // of the first item, when usable
		unit     money.Amount   // of the first item, when usable
	}{
		{name: "Integers", items: item(`2`, `1600`, `"INR"`), totals: []money.Amount{amount("INR", 320000)}, qty: 2, unit: amount("INR", 160000)},
		{name: "DecimalPrice", items: item(`3`, `16.99`, `"USD"`), totals: []money.Amount{amount("USD", 5097)}, qty: 3, unit: amount("USD", 1699)},
		{name: "QuantityAsString", items: item(`"2"`, `10`, `"INR"`), totals: []money.Amount{amount("INR", 2000)}, qty: 2, unit: amount("INR", 1000)},
		{name: "PriceAsString", items: item(`1`, `"16.99"`, `"USD"`), totals: []money.Amount{amount("USD", 1699)}, qty: 1, unit: amount("USD", 1699)},
		{name: "EscapedStrings", items: item(`"\u0032"`, `"1\u002e5"`, `"\u0055SD"`), totals: []money.Amount{amount("USD", 300)}, qty: 2, unit: amount("USD", 150)},
		{name: "IntegralQuantityWithFraction", items: item(`2.0`, `1`, `"INR"`), totals: []money.Amount{amount("INR", 200)}, qty: 2, unit: amount("INR", 100)},
		{name: "IntegralQuantityWithExponent", items: item(`2e0`, `1`, `"INR"`), totals: []money.Amount{amount("INR", 200)}, qty: 2, unit: amount("INR", 100)},
		{name: "PriceWithExponent", items: item(`1`, `1.6e3`, `"INR"`), totals: []money.Amount{amount("INR", 160000)}, qty: 1, unit: amount("INR", 160000)},
		{name: "TrailingZerosAreExact", items: item(`1`, `1.00000000000000000000`, `"USD"`), totals: []money.Amount{amount("USD", 100)}, qty: 1, unit: amount("USD", 100)},
		{name: "ZeroPriceIsFree", items: item(`1`, `0`, `"INR"`), totals: []money.Amount{amount("INR", 0)}, qty: 1, unit: amount("INR", 0)},
		{name: "JPYWhole", items: item(`2`, `1500`, `"JPY"`), totals: []money.Amount{amount("JPY", 3000)}, qty: 2, unit: amount("JPY", 1500)},
		{name: "KWDThreeDecimals", items: item(`1`, `1.250`, `"KWD"`), totals: []money.Amount{amount("KWD", 1250)}, qty: 1, unit: amount("KWD", 1250)},
		{
			name:   "MixedCurrenciesGiveTwoTotals",
			items:  item(`1`, `100`, `"INR"`) + `,` + item(`2`, `1.5`, `"USD"`) + `,` + item(`1`, `50`, `"INR"`),
			totals: []money.Amount{amount("INR", 15000), amount("USD", 300)}, qty: 1, unit: amount("INR", 10000),
		},
		{name: "ZeroQuantity", items: item(`0`, `1`, `"INR"`), problems: []want{{CodeInvalidQuantity, items + "[0].quantity"}}},
		{name: "NegativeQuantity", items: item(`-1`, `1`, `"INR"`), problems: []want{{CodeInvalidQuantity, items + "[0].quantity"}}},
		{name: "FractionalQuantity", items: item(`1.5`, `1`, `"INR"`), problems: []want{{CodeInvalidQuantity, items + "[0].quantity"}}},
		{name: "HugeQuantity", items: item(`1e30`, `1`, `"INR"`), problems: []want{{CodeInvalidQuantity, items + "[0].quantity"}}},
		{name: "QuantityWord", items: item(`"two"`, `1`, `"INR"`), problems: []want{{CodeInvalidQuantity, items + "[0].quantity"}}},
		{name: "QuantityEmptyString", items: item(`""`, `1`, `"INR"`), problems: []want{{CodeInvalidQuantity, items + "[0].quantity"}}},
		{name: "QuantityBoolean", items: item(`true`, `1`, `"INR"`), problems: []want{{CodeInvalidQuantity, items + "[0].quantity"}}},
		{name: "QuantityNull", items: item(`null`, `1`, `"INR"`), problems: []want{{CodeInvalidQuantity, items + "[0].quantity"}}},
		{name: "QuantityMissing", items: `{"product_retailer_id": "sku", "item_price": 1, "currency": "INR"}`, problems: []want{{CodeInvalidQuantity, items + "[0].quantity"}}},
		{name: "NegativePrice", items: item(`1`, `-5`, `"INR"`), problems: []want{{CodeNegativePrice, items + "[0].item_price"}}},
		{name: "PriceWord", items: item(`1`, `"ten"`, `"INR"`), problems: []want{{CodeInvalidPrice, items + "[0].item_price"}}},
		{name: "PriceObject", items: item(`1`, `{"amount": 1}`, `"INR"`), problems: []want{{CodeInvalidPrice, items + "[0].item_price"}}},
		{name: "PriceMissing", items: `{"product_retailer_id": "sku", "quantity": 1, "currency": "INR"}`, problems: []want{{CodeInvalidPrice, items + "[0].item_price"}}},
		{name: "PriceWithSpaces", items: item(`1`, `" 10"`, `"INR"`), problems: []want{{CodeInvalidPrice, items + "[0].item_price"}}},
		{name: "TwentyDecimals", items: item(`1`, `1.00000000000000000001`, `"USD"`), problems: []want{{CodeTooPrecise, items + "[0].item_price"}}},
		{name: "JPYWithDecimals", items: item(`1`, `100.5`, `"JPY"`), problems: []want{{CodeTooPrecise, items + "[0].item_price"}}},
		{name: "KWDFourDecimals", items: item(`1`, `1.2505`, `"KWD"`), problems: []want{{CodeTooPrecise, items + "[0].item_price"}}},
		{name: "UnknownCurrency", items: item(`1`, `10`, `"XYZ"`), problems: []want{{CodeUnknownCurrency, items + "[0].currency"}}},
		{name: "LowerCaseUnknownCurrency", items: item(`1`, `10`, `"xyz"`), problems: []want{{CodeUnknownCurrency, items + "[0].currency"}}},
		{name: "CurrencyMissing", items: `{"product_retailer_id": "sku", "quantity": 1, "item_price": 1}`, problems: []want{{CodeUnknownCurrency, items + "[0].currency"}}},
		{name: "UnknownCurrencyAndBadPrice", items: item(`1`, `"x"`, `"XYZ"`), problems: []want{{CodeUnknownCurrency, items + "[0].currency"}, {CodeInvalidPrice, items + "[0].item_price"}}},
		{name: "CurrencyNumber", items: item(`1`, `10`, `356`), problems: []want{{CodeInvalidField, items + "[0].currency"}, {CodeUnknownCurrency, items + "[0].currency"}}},
		{name: "PriceOverflow", items: item(`1`, `1e30`, `"INR"`), problems: []want{{CodeAmountOverflow, items + "[0].item_price"}}},
		{name: "LineTotalOverflow", items: item(`9223372036854775807`, `1`, `"INR"`), problems: []want{{CodeAmountOverflow, items + "[0]"}}},
		{
			name:     "OrderTotalOverflow",
			items:    item(`1`, `90000000000000000`, `"INR"`) + `,` + item(`1`, `90000000000000000`, `"INR"`),
			problems: []want{{CodeAmountOverflow, items + "[1]"}},
		},
		{name: "MissingRetailerID", items: `{"quantity": 1, "item_price": 1, "currency": "INR"}`, problems: []want{{CodeMissingField, items + "[0].product_retailer_id"}}},
		{name: "ItemNotObject", items: `"sku"`, problems: []want{{CodeInvalidField, items + "[0]"}}},
		{name: "ItemNull", items: `null`, problems: []want{{CodeInvalidField, items + "[0]"}}},
		{name: "NoItems", items: ``, problems: []want{{CodeNoItems, items}}},
		{
			name:     "OneBadItemLeavesNoTotals",
			items:    item(`1`, `100`, `"INR"`) + `,` + item(`0`, `100`, `"INR"`),
			problems: []want{{CodeInvalidQuantity, items + "[1].quantity"}},
		},
		{
			name:     "UnknownFieldsIgnored",
			items:    `{"product_retailer_id": "sku", "x": {"quantity": "bad"}, "quantity": 1, "item_price": 5, "currency": "INR", "y": [null]}`,
			totals:   []money.Amount{amount("INR", 500)},
			qty:      1,
			unit:     amount("INR", 500),
			problems: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := mustDecode(t, orderBody(tt.items))
			m := cb.Messages()[0]
			checkProblemList(t, m.Problems, tt.problems)
			for _, p := range m.Problems {
				if p.Severity != SeverityError {
					t.Errorf("problem %s is a %s, want an error", p.Code, p.Severity)
				}
			}
			if m.Usable() != (len(tt.problems) == 0) {
				t.Errorf("Usable() = %v", m.Usable())
			}
			o := m.Order
			if len(o.Totals) != len(tt.totals) {
				t.Fatalf("Totals = %v, want %v", o.Totals, tt.totals)
			}
			for i := range o.Totals {
				if o.Totals[i] != tt.totals[i] {
					t.Errorf("Totals = %v, want %v", o.Totals, tt.totals)
				}
			}
			if tt.totals != nil {
				if it := o.Items[0]; it.Quantity != tt.qty || it.UnitPrice != tt.unit {
					t.Errorf("first item: quantity %d, unit %v; want %d, %v", it.Quantity, it.UnitPrice, tt.qty, tt.unit)
				}
			}
		})
	}
}

// TestOrderRawTexts checks that quantity and price keep their JSON text.
func TestOrderRawTexts(t *testing.T) {
	cb := mustDecode(t, orderBody(`{"product_retailer_id": "a", "quantity": "2", "item_price": 16.990, "currency": "USD"}`))
	it := cb.Messages()[0].Order.Items[0]
	if it.RawQuantity != `"2"` || it.RawPrice != `16.990` || it.LineTotal != amount("USD", 3398) {
		t.Errorf("item = %+v", it)
	}
}

// TestOrderPayload covers the order object itself.
func TestOrderPayload(t *testing.T) {
	const msg = "meta_object.value.messages[0]"
	tests := []struct {
		name     string
		message  string
		problems []want
		check    func(t *testing.T, o *Order)
	}{
		{
			name:    "TextOptional",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "order", "order": {"catalog_id": "1", "product_items": [{"product_retailer_id": "a", "quantity": 1, "item_price": 1, "currency": "INR"}]}}`,
			check: func(t *testing.T, o *Order) {
				if o.Text != "" || o.CatalogID != "1" {
					t.Errorf("order = %+v", o)
				}
			},
		},
		{
			name:    "NumericCatalogIDKeptAsText",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "order", "order": {"catalog_id": 12345678901234567890, "product_items": [{"product_retailer_id": "a", "quantity": 1, "item_price": 1, "currency": "INR"}]}}`,
			check: func(t *testing.T, o *Order) {
				if o.CatalogID != "12345678901234567890" {
					t.Errorf("CatalogID = %q", o.CatalogID)
				}
			},
		},
		{
			name:     "ProductItemsMissing",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "order", "order": {"catalog_id": "1"}}`,
			problems: []want{{CodeNoItems, msg + ".order.product_items"}},
		},
		{
			name:     "ProductItemsNotArray",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "order", "order": {"product_items": {}}}`,
			problems: []want{{CodeInvalidField, msg + ".order.product_items"}, {CodeNoItems, msg + ".order.product_items"}},
		},
		{
			name:     "OrderMissing",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "order"}`,
			problems: []want{{CodeMissingField, msg + ".order"}},
		},
		{
			name:     "OrderNotObject",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "order", "order": []}`,
			problems: []want{{CodeInvalidField, msg + ".order"}, {CodeNoItems, msg + ".order.product_items"}},
		},
		{
			name:     "MissingID",
			message:  `{"from": "1", "timestamp": "1", "type": "order", "order": {"product_items": [{"product_retailer_id": "a", "quantity": 1, "item_price": 1, "currency": "INR"}]}}`,
			problems: []want{{CodeMissingID, msg + ".id"}},
			check: func(t *testing.T, o *Order) {
				if len(o.Totals) != 1 {
					t.Errorf("a missing message id must not hide the totals: %v", o.Totals)
				}
			},
		},
		{
			name:     "EmptyID",
			message:  `{"id": "", "from": "1", "timestamp": "1", "type": "order", "order": {"product_items": [{"product_retailer_id": "a", "quantity": 1, "item_price": 1, "currency": "INR"}]}}`,
			problems: []want{{CodeMissingID, msg + ".id"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustDecode(t, messageBody(tt.message)).Messages()[0]
			checkProblemList(t, m.Problems, tt.problems)
			if tt.check != nil {
				tt.check(t, m.Order)
			}
			if strings.Contains(tt.name, "Missing") && m.Usable() {
				t.Error("message with a missing part is usable")
			}
		})
	}
}

// A currency code known in upper case but sent in another case ("inr") is
// read as the upper-case code, with a warning: the order is usable.
func TestOrderLowerCaseCurrency(t *testing.T) {
	cb := mustDecode(t, orderBody(`{"product_retailer_id": "sku", "quantity": 2, "item_price": 10, "currency": "inr"}`))
	m := cb.Messages()[0]
	if !m.Usable() {
		t.Fatalf("a lower-case known currency makes the order unusable: %+v", m.Problems)
	}
	if len(m.Problems) != 1 || m.Problems[0].Code != CodeCurrencyCase || m.Problems[0].Severity != SeverityWarning ||
		m.Problems[0].Path != items+"[0].currency" {
		t.Errorf("problems = %+v, want one currency_case warning at the item's currency", m.Problems)
	}
	it := m.Order.Items[0]
	if it.Currency != "INR" || it.RawCurrency != "inr" || it.LineTotal != (money.Amount{Currency: "INR", Minor: 2000}) {
		t.Errorf("item = %+v, want INR 20.00 read from \"inr\"", it)
	}
}
