package callback

import (
	"errors"
	"strconv"
	"strings"

	"github.com/waorders/waorders/money"
)

// order reads an order payload, checks every item and computes the totals.
func (r *reader) order() *Order {
	if r.null() {
		return nil
	}
	o := &Order{}
	var totals money.Totals
	usable := true
	for name := range r.object() {
		switch string(name) {
		case "catalog_id":
			o.CatalogID = r.unquotedText()
		case "text":
			o.Text = r.str()
		case "product_items":
			for i := range r.array() {
				o.Items = append(o.Items, Item{})
				it := &o.Items[i]
				if !r.item(it) {
					usable = false
					continue
				}
				// The array's current path is now this item's.
				if err := totals.Add(it.LineTotal); err != nil {
					r.report(SeverityError, CodeAmountOverflow, r.path(), "the order total in "+it.Currency+" is out of range")
					usable = false
				}
			}
		}
	}
	if len(o.Items) == 0 {
		r.report(SeverityError, CodeNoItems, r.pathTo("product_items"), "order without product items")
		usable = false
	}
	if usable {
		o.Totals = totals.List()
	}
	return o
}

// item reads one product line and reports whether it is usable: quantity a
// positive integer, item_price a non-negative amount exact in the item's
// currency, and the line total in range.
func (r *reader) item(it *Item) bool {
	if k := r.kind(); k != '{' {
		if k != 0 {
			r.wrongType("an item object")
		}
		return false
	}
	before := len(*r.problems)
	var qty, price string
	var qtyOK, priceOK bool
	for name := range r.object() {
		switch string(name) {
		case "product_retailer_id":
			it.ProductRetailerID = r.str()
		case "quantity":
			qty, it.RawQuantity, qtyOK = r.text()
		case "item_price":
			price, it.RawPrice, priceOK = r.text()
		case "currency":
			it.Currency = r.token()
		}
	}
	if r.err != nil {
		return false
	}
	it.RawCurrency = it.Currency
	if up := strings.ToUpper(it.Currency); up != it.Currency && money.Known(up) {
		r.report(SeverityWarning, CodeCurrencyCase, r.pathTo("currency"),
			"currency "+strconv.Quote(it.Currency)+" is not in upper case; read as "+up)
		it.Currency = up
	}
	if it.ProductRetailerID == "" {
		r.report(SeverityError, CodeMissingField, r.pathTo("product_retailer_id"), "item without product_retailer_id")
	}
	n, qtyErr := quantity(qty, it.RawQuantity, qtyOK)
	if qtyErr != "" {
		r.report(SeverityError, CodeInvalidQuantity, r.pathTo("quantity"), qtyErr)
	} else {
		it.Quantity = n
	}
	unit, priceOK := r.price(price, it.RawPrice, priceOK, it.Currency)
	if priceOK {
		it.UnitPrice = unit
	}
	if qtyErr == "" && priceOK {
		line, err := unit.Mul(n)
		if err != nil {
			r.report(SeverityError, CodeAmountOverflow, r.path(), "quantity × item_price is out of range")
		} else {
			it.LineTotal = line
		}
	}
	return !hasErrors((*r.problems)[before:])
}

// quantity parses a quantity from its text, returning a problem message when
// it is not a positive integer. An integral value written with a fraction or
// exponent ("2.0", "2e0") is exact and accepted; "2.5" is not.
func quantity(text, raw string, kindOK bool) (int64, string) {
	switch {
	case !kindOK:
		return 0, "quantity " + raw + " is not a number"
	case raw == "":
		return 0, "missing quantity"
	}
	n, err := money.ParseScaled(text, 0)
	switch {
	case errors.Is(err, money.ErrTooPrecise):
		return 0, "quantity " + raw + " is not an integer"
	case errors.Is(err, money.ErrOverflow):
		return 0, "quantity " + raw + " is out of range"
	case err != nil:
		return 0, "quantity " + raw + " is not a number"
	case n <= 0:
		return 0, "quantity " + raw + " is not positive"
	}
	return n, ""
}

// price parses item_price in the item's currency, reporting every problem
// with it and with the currency.
func (r *reader) price(text, raw string, kindOK bool, currency string) (money.Amount, bool) {
	known := money.Known(currency)
	switch {
	case currency == "":
		r.report(SeverityError, CodeUnknownCurrency, r.pathTo("currency"), "item without currency")
	case !known:
		r.report(SeverityError, CodeUnknownCurrency, r.pathTo("currency"), "unknown currency "+strconv.Quote(currency))
	}
	switch {
	case !kindOK:
		r.report(SeverityError, CodeInvalidPrice, r.pathTo("item_price"), "item_price "+raw+" is not a number")
		return money.Amount{}, false
	case raw == "":
		r.report(SeverityError, CodeInvalidPrice, r.pathTo("item_price"), "missing item_price")
		return money.Amount{}, false
	case !known:
		// The decimals cannot be checked, but the syntax can.
		if _, err := money.ParseScaled(text, 0); errors.Is(err, money.ErrInvalidNumber) {
			r.report(SeverityError, CodeInvalidPrice, r.pathTo("item_price"), "item_price "+raw+" is not a number")
		}
		return money.Amount{}, false
	}
	a, err := money.Parse(text, currency)
	switch {
	case errors.Is(err, money.ErrTooPrecise):
		r.report(SeverityError, CodeTooPrecise, r.pathTo("item_price"), "item_price "+raw+" has more decimals than "+currency+" allows")
	case errors.Is(err, money.ErrOverflow):
		r.report(SeverityError, CodeAmountOverflow, r.pathTo("item_price"), "item_price "+raw+" is out of range")
	case err != nil:
		r.report(SeverityError, CodeInvalidPrice, r.pathTo("item_price"), "item_price "+raw+" is not a number")
	case a.Minor < 0:
		r.report(SeverityError, CodeNegativePrice, r.pathTo("item_price"), "item_price "+raw+" is negative")
	default:
		return a, true
	}
	return money.Amount{}, false
}
