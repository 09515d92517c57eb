// Package money holds exact amounts of money in a currency as integer minor
// units (paise, cents, fils), parsed from decimal text without ever passing
// through a float.
//
// The number of minor-unit digits of a currency is its ISO 4217 exponent
// (JPY 0, INR 2, KWD 3), taken from the CLDR tables of
// github.com/bojanz/currency.
package money

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bojanz/currency"
)

// Errors returned by Parse. They are sentinel values: test with errors.Is.
var (
	ErrUnknownCurrency = errors.New("unknown currency code")
	ErrInvalidNumber   = errors.New("not a decimal number")
	ErrTooPrecise      = errors.New("more decimal places than the currency allows")
	ErrOverflow        = errors.New("amount out of range")
	ErrMixedCurrency   = errors.New("amounts in different currencies")
)

// Amount is an exact amount of money: Minor units of Currency.
// The zero value has no currency and is not a valid amount.
type Amount struct {
	Currency string // ISO 4217 code, upper case
	Minor    int64  // amount in minor units (for INR, paise)
}

// Digits reports the ISO 4217 exponent of a currency code (the number of
// digits after the decimal point), and whether the code is known.
func Digits(code string) (int, bool) {
	if len(code) != 3 {
		return 0, false
	}
	d, ok := currency.GetDigits(code)
	if !ok || d == currency.DefaultDigits {
		return 0, false
	}
	return int(d), true
}

// Known reports whether code is an ISO 4217 currency code with a known exponent.
func Known(code string) bool {
	_, ok := Digits(code)
	return ok
}

// FromMinor builds an Amount from minor units after checking the currency.
func FromMinor(code string, minor int64) (Amount, error) {
	if !Known(code) {
		return Amount{}, fmt.Errorf("%q: %w", code, ErrUnknownCurrency)
	}
	return Amount{Currency: code, Minor: minor}, nil
}

// Parse reads a decimal number written as text (a JSON number such as
// "16.99", "1600", "1.6e3", or the same inside a JSON string) as an amount of
// code. It never rounds: a value with more significant decimals than the
// currency has minor digits is ErrTooPrecise (trailing zeros are exact and
// accepted: "16.990" USD is 1699 cents).
func Parse(text, code string) (Amount, error) {
	digits, ok := Digits(code)
	if !ok {
		return Amount{}, fmt.Errorf("%q: %w", code, ErrUnknownCurrency)
	}
	minor, err := ParseScaled(text, digits)
	if err != nil {
		return Amount{}, err
	}
	return Amount{Currency: code, Minor: minor}, nil
}

// ParseScaled reads decimal text and returns it multiplied by 10^scale as an
// exact int64. It accepts an optional sign, digits with an optional fraction,
// and an optional exponent (the JSON number grammar, plus a leading '+').
func ParseScaled(text string, scale int) (int64, error) {
	s := text
	if s == "" {
		return 0, fmt.Errorf("%q: %w", text, ErrInvalidNumber)
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, ok := parseExponent(s[i+1:])
		if !ok {
			return 0, fmt.Errorf("%q: %w", text, ErrInvalidNumber)
		}
		exp = e
		s = s[:i]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
		if frac == "" {
			return 0, fmt.Errorf("%q: %w", text, ErrInvalidNumber)
		}
	}
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) {
		return 0, fmt.Errorf("%q: %w", text, ErrInvalidNumber)
	}
	// The value is digits * 10^(exp - len(frac)); we want it * 10^scale.
	mant := strings.TrimLeft(intPart+frac, "0")
	shift := exp - len(frac) + scale
	// Drop trailing zeros while they only move the decimal point.
	for shift < 0 && strings.HasSuffix(mant, "0") {
		mant = mant[:len(mant)-1]
		shift++
	}
	if mant == "" {
		return 0, nil
	}
	if shift < 0 {
		return 0, fmt.Errorf("%q: %w", text, ErrTooPrecise)
	}
	if len(mant)+shift > 19 {
		return 0, fmt.Errorf("%q: %w", text, ErrOverflow)
	}
	v, err := strconv.ParseUint(mant+strings.Repeat("0", shift), 10, 64)
	if err != nil || v > math.MaxInt64 {
		return 0, fmt.Errorf("%q: %w", text, ErrOverflow)
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

// maxExponent bounds the exponents ParseScaled computes with. Any exponent
// beyond it is far larger than the text's own length, so a nonzero value
// with it overflows (or is too precise) exactly as with the true exponent.
const maxExponent = 1 << 30

// parseExponent reads an optionally signed decimal exponent, saturating at
// ±maxExponent: "1e99999999999" is a valid JSON number that overflows, not
// an invalid one, and "0e99999999999" is zero.
func parseExponent(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || !allDigits(s) {
		return 0, false
	}
	e := 0
	for i := 0; i < len(s) && e < maxExponent; i++ {
		e = min(e*10+int(s[i]-'0'), maxExponent)
	}
	if neg {
		e = -e
	}
	return e, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Mul returns a multiplied by n, or ErrOverflow.
func (a Amount) Mul(n int64) (Amount, error) {
	if a.Minor != 0 && n != 0 {
		r := a.Minor * n
		if r/n != a.Minor || (a.Minor == -1 && n == math.MinInt64) || (n == -1 && a.Minor == math.MinInt64) {
			return Amount{}, fmt.Errorf("%s × %d: %w", a, n, ErrOverflow)
		}
		return Amount{Currency: a.Currency, Minor: r}, nil
	}
	return Amount{Currency: a.Currency}, nil
}

// Add returns a+b. Both must be in the same currency.
func (a Amount) Add(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, fmt.Errorf("%s + %s: %w", a.Currency, b.Currency, ErrMixedCurrency)
	}
	r := a.Minor + b.Minor
	if (b.Minor > 0 && r < a.Minor) || (b.Minor < 0 && r > a.Minor) {
		return Amount{}, fmt.Errorf("%s + %s: %w", a, b, ErrOverflow)
	}
	return Amount{Currency: a.Currency, Minor: r}, nil
}

// Decimal formats the amount as a plain decimal string with exactly the
// currency's number of minor digits ("3600.00", "1500", "1.250").
func (a Amount) Decimal() string {
	digits, _ := Digits(a.Currency)
	return FormatScaled(a.Minor, digits)
}

// FormatScaled formats v / 10^scale as a decimal string with scale decimals.
func FormatScaled(v int64, scale int) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v) // two's complement also gives the right magnitude for MinInt64
	}
	s := strconv.FormatUint(u, 10)
	if scale > 0 {
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// String formats the amount as "3600.00 INR".
func (a Amount) String() string {
	return a.Decimal() + " " + a.Currency
}

// IsZero reports whether a is the zero value (no currency).
func (a Amount) IsZero() bool { return a.Currency == "" && a.Minor == 0 }

// jsonAmount is the wire form of an Amount.
type jsonAmount struct {
	Currency    string `json:"currency"`
	Amount      string `json:"amount"`
	AmountMinor int64  `json:"amount_minor"`
}

// MarshalJSON encodes the amount as
// {"currency": "INR", "amount": "3600.00", "amount_minor": 360000}.
func (a Amount) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonAmount{Currency: a.Currency, Amount: a.Decimal(), AmountMinor: a.Minor})
}

// UnmarshalJSON decodes the form written by MarshalJSON. amount_minor is
// authoritative; amount, when present, must agree with it.
func (a *Amount) UnmarshalJSON(b []byte) error {
	var j jsonAmount
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if !Known(j.Currency) {
		return fmt.Errorf("%q: %w", j.Currency, ErrUnknownCurrency)
	}
	if j.Amount != "" {
		p, err := Parse(j.Amount, j.Currency)
		if err != nil {
			return err
		}
		if p.Minor != j.AmountMinor {
			return fmt.Errorf("amount %q disagrees with amount_minor %d", j.Amount, j.AmountMinor)
		}
	}
	*a = Amount{Currency: j.Currency, Minor: j.AmountMinor}
	return nil
}

// Totals accumulates amounts per currency, in the order currencies first
// appear. Currencies are never summed together.
type Totals struct {
	list []Amount
}

// Add adds a to the running total of its currency.
func (t *Totals) Add(a Amount) error {
	for i := range t.list {
		if t.list[i].Currency == a.Currency {
			s, err := t.list[i].Add(a)
			if err != nil {
				return err
			}
			t.list[i] = s
			return nil
		}
	}
	t.list = append(t.list, a)
	return nil
}

// List returns the totals, one per currency, in order of first appearance.
func (t *Totals) List() []Amount {
	return t.list
}
