package money

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestDigits(t *testing.T) {
	tests := []struct {
		code   string
		digits int
		known  bool
	}{
		{"INR", 2, true}, {"USD", 2, true}, {"EUR", 2, true}, {"JPY", 0, true},
		{"KWD", 3, true}, {"BHD", 3, true}, {"CLF", 4, true},
		{"XYZ", 0, false}, {"inr", 0, false}, {"XXX", 0, false}, {"", 0, false}, {"INRR", 0, false},
	}
	for _, tt := range tests {
		d, ok := Digits(tt.code)
		if d != tt.digits || ok != tt.known || Known(tt.code) != tt.known {
			t.Errorf("Digits(%q) = %d, %v; want %d, %v", tt.code, d, ok, tt.digits, tt.known)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		text, code string
		minor      int64
		err        error
	}{
		{"1600", "INR", 160000, nil},
		{"16.99", "USD", 1699, nil},
		{"7.5", "USD", 750, nil},
		{"16.990", "USD", 1699, nil},
		{"0", "USD", 0, nil},
		{"-0", "USD", 0, nil},
		{"0.00", "USD", 0, nil},
		{"-3.25", "USD", -325, nil},
		{"+3", "USD", 300, nil},
		{"007", "USD", 700, nil},
		{"1500", "JPY", 1500, nil},
		{"1.250", "KWD", 1250, nil},
		{"1.6e3", "INR", 160000, nil},
		{"1.6E+3", "INR", 160000, nil},
		{"1699e-2", "USD", 1699, nil},
		{"169900e-4", "USD", 1699, nil},
		{"0.1e1", "JPY", 1, nil},
		{"0e99999999999999999999", "USD", 0, nil},
		{"1.00000000000000000000", "USD", 100, nil},
		{"92233720368547758.07", "USD", math.MaxInt64, nil},
		{"-92233720368547758.07", "USD", -math.MaxInt64, nil},

		{"1.001", "USD", 0, ErrTooPrecise},
		{"1.00000000000000000001", "USD", 0, ErrTooPrecise},
		{"100.5", "JPY", 0, ErrTooPrecise},
		{"1.2505", "KWD", 0, ErrTooPrecise},
		{"1e-3", "USD", 0, ErrTooPrecise},
		{"1e-99999999999999999999", "USD", 0, ErrTooPrecise},
		{"92233720368547758.08", "USD", 0, ErrOverflow},
		{"1e30", "INR", 0, ErrOverflow},
		{"1e1001", "INR", 0, ErrOverflow},
		{"1e99999999999999999999", "INR", 0, ErrOverflow},
		{"99999999999999999999", "JPY", 0, ErrOverflow},

		{"", "USD", 0, ErrInvalidNumber},
		{"-", "USD", 0, ErrInvalidNumber},
		{"+-1", "USD", 0, ErrInvalidNumber},
		{"abc", "USD", 0, ErrInvalidNumber},
		{"1.", "USD", 0, ErrInvalidNumber},
		{".5", "USD", 0, ErrInvalidNumber},
		{"1e", "USD", 0, ErrInvalidNumber},
		{"1e+", "USD", 0, ErrInvalidNumber},
		{"1e1.5", "USD", 0, ErrInvalidNumber},
		{"1,000", "USD", 0, ErrInvalidNumber},
		{" 1", "USD", 0, ErrInvalidNumber},
		{"1_000", "USD", 0, ErrInvalidNumber},
		{"0x10", "USD", 0, ErrInvalidNumber},
		{"Inf", "USD", 0, ErrInvalidNumber},
		{"NaN", "USD", 0, ErrInvalidNumber},
		{"١٢", "USD", 0, ErrInvalidNumber},

		{"1", "XYZ", 0, ErrUnknownCurrency},
		{"1", "usd", 0, ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.text+"_"+tt.code, func(t *testing.T) {
			a, err := Parse(tt.text, tt.code)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Parse = %v, %v; want error %v", a, err, tt.err)
				}
				if a != (Amount{}) {
					t.Errorf("Parse returned %v with its error", a)
				}
				return
			}
			if err != nil || a != (Amount{Currency: tt.code, Minor: tt.minor}) {
				t.Errorf("Parse = %v, %v; want %d %s", a, err, tt.minor, tt.code)
			}
		})
	}
}

func TestFromMinor(t *testing.T) {
	if a, err := FromMinor("INR", 360000); err != nil || a.String() != "3600.00 INR" {
		t.Errorf("FromMinor = %v, %v", a, err)
	}
	if _, err := FromMinor("XYZ", 1); !errors.Is(err, ErrUnknownCurrency) {
		t.Errorf("FromMinor(XYZ) error = %v", err)
	}
}

func TestMul(t *testing.T) {
	tests := []struct {
		minor, n int64
		want     int64
		overflow bool
	}{
		{1600, 2, 3200, false},
		{0, math.MaxInt64, 0, false},
		{math.MaxInt64, 1, math.MaxInt64, false},
		{math.MaxInt64, 0, 0, false},
		{-5, 3, -15, false},
		{math.MaxInt64/2 + 1, 2, 0, true},
		{math.MaxInt64, 2, 0, true},
		{math.MinInt64, -1, 0, true},
		{-1, math.MinInt64, 0, true},
		{1 << 32, 1 << 32, 0, true},
	}
	for _, tt := range tests {
		got, err := Amount{Currency: "INR", Minor: tt.minor}.Mul(tt.n)
		if tt.overflow {
			if !errors.Is(err, ErrOverflow) {
				t.Errorf("%d × %d = %v, %v; want overflow", tt.minor, tt.n, got, err)
			}
			continue
		}
		if err != nil || got != (Amount{Currency: "INR", Minor: tt.want}) {
			t.Errorf("%d × %d = %v, %v; want %d", tt.minor, tt.n, got, err, tt.want)
		}
	}
}

func TestAdd(t *testing.T) {
	inr := func(m int64) Amount { return Amount{Currency: "INR", Minor: m} }
	if got, err := inr(160000).Add(inr(200000)); err != nil || got != inr(360000) {
		t.Errorf("Add = %v, %v", got, err)
	}
	if got, err := inr(-5).Add(inr(3)); err != nil || got != inr(-2) {
		t.Errorf("Add = %v, %v", got, err)
	}
	for _, tt := range [][2]int64{{math.MaxInt64, 1}, {math.MinInt64, -1}, {math.MaxInt64/2 + 1, math.MaxInt64/2 + 1}} {
		if _, err := inr(tt[0]).Add(inr(tt[1])); !errors.Is(err, ErrOverflow) {
			t.Errorf("%d + %d: error %v, want overflow", tt[0], tt[1], err)
		}
	}
	if _, err := inr(1).Add(Amount{Currency: "USD", Minor: 1}); !errors.Is(err, ErrMixedCurrency) {
		t.Errorf("INR + USD: error %v, want mixed currency", err)
	}
}

func TestTotals(t *testing.T) {
	var tot Totals
	for _, a := range []Amount{{"INR", 100}, {"USD", 250}, {"INR", 50}, {"KWD", 1}} {
		if err := tot.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	got := tot.List()
	want := []Amount{{"INR", 150}, {"USD", 250}, {"KWD", 1}}
	if len(got) != len(want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("List = %v, want %v", got, want)
		}
	}
	if err := tot.Add(Amount{"INR", math.MaxInt64}); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflowing total: %v", err)
	}
	var empty Totals
	if empty.List() != nil {
		t.Errorf("empty List = %v", empty.List())
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{Amount{"INR", 360000}, "3600.00"},
		{Amount{"INR", 5}, "0.05"},
		{Amount{"INR", 0}, "0.00"},
		{Amount{"USD", -1}, "-0.01"},
		{Amount{"USD", -150}, "-1.50"},
		{Amount{"JPY", 1500}, "1500"},
		{Amount{"JPY", -7}, "-7"},
		{Amount{"KWD", 1250}, "1.250"},
		{Amount{"KWD", 1}, "0.001"},
		{Amount{"CLF", 12345}, "1.2345"},
		{Amount{"USD", math.MaxInt64}, "92233720368547758.07"},
		{Amount{"USD", math.MinInt64}, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := tt.a.Decimal(); got != tt.want {
			t.Errorf("%#v.Decimal() = %q, want %q", tt.a, got, tt.want)
		}
		if got := tt.a.String(); got != tt.want+" "+tt.a.Currency {
			t.Errorf("String() = %q", got)
		}
		// Decimal is the exact inverse of Parse for every in-range amount.
		if tt.a.Minor != math.MinInt64 {
			if back, err := Parse(tt.a.Decimal(), tt.a.Currency); err != nil || back != tt.a {
				t.Errorf("Parse(%q) = %v, %v; want %v", tt.a.Decimal(), back, err, tt.a)
			}
		}
	}
	if !(Amount{}).IsZero() || (Amount{Currency: "INR"}).IsZero() {
		t.Error("IsZero")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, a := range []Amount{{"INR", 360000}, {"JPY", 1500}, {"KWD", -1250}, {"USD", math.MaxInt64}, {"USD", 0}} {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"currency":"` + a.Currency + `","amount":"` + a.Decimal() + `","amount_minor":` + strconv.FormatInt(a.Minor, 10) + `}`
		if string(b) != want {
			t.Errorf("Marshal = %s, want %s", b, want)
		}
		var back Amount
		if err := json.Unmarshal(b, &back); err != nil || back != a {
			t.Errorf("Unmarshal(%s) = %v, %v", b, back, err)
		}
	}
	bad := []struct {
		json string
		err  error
	}{
		{`{"currency":"XYZ","amount_minor":1}`, ErrUnknownCurrency},
		{`{"currency":"INR","amount":"1.00","amount_minor":2}`, nil},
		{`{"currency":"INR","amount":"1.001","amount_minor":100}`, ErrTooPrecise},
		{`{"currency":"INR","amount_minor":"1"}`, nil},
		{`[]`, nil},
	}
	for _, tt := range bad {
		var a Amount
		err := json.Unmarshal([]byte(tt.json), &a)
		if err == nil || (tt.err != nil && !errors.Is(err, tt.err)) {
			t.Errorf("Unmarshal(%s) = %v, want error %v", tt.json, err, tt.err)
		}
	}
	var a Amount
	if err := json.Unmarshal([]byte(`{"currency":"INR","amount_minor":250}`), &a); err != nil || a != (Amount{"INR", 250}) {
		t.Errorf("amount_minor alone: %v, %v", a, err)
	}
}

// FuzzParseScaled checks ParseScaled against a reference built on the
// decimal digits themselves: an accepted text formats back to the same
// value, and nothing panics.
func FuzzParseScaled(f *testing.F) {
	for _, s := range []string{"1600", "16.99", "-0.5", "1.6e3", "1e-2", "92233720368547758.07", "1e99999999999", "0.000", "+7", "1.", "e5"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, text string, scale int) {
		if scale < 0 || scale > 18 {
			return
		}
		v, err := ParseScaled(text, scale)
		if err != nil {
			if !errors.Is(err, ErrInvalidNumber) && !errors.Is(err, ErrTooPrecise) && !errors.Is(err, ErrOverflow) {
				t.Fatalf("ParseScaled(%q, %d): unexpected error %v", text, scale, err)
			}
			if v != 0 {
				t.Fatalf("ParseScaled(%q, %d) = %d with error", text, scale, v)
			}
			return
		}
		// The formatted value must parse back to itself...
		back, err := ParseScaled(FormatScaled(v, scale), scale)
		if err != nil || back != v {
			t.Fatalf("ParseScaled(%q, %d) = %d, but %q reads back as %d, %v", text, scale, v, FormatScaled(v, scale), back, err)
		}
		// ...and, without an exponent, equal the text once both are
		// normalised (sign, leading zeros, trailing fraction zeros).
		if !strings.ContainsAny(text, "eE") && normalise(text) != normalise(FormatScaled(v, scale)) {
			t.Fatalf("ParseScaled(%q, %d) = %d (%s)", text, scale, v, FormatScaled(v, scale))
		}
	})
}

// normalise rewrites a plain decimal without sign noise, leading zeros or
// trailing fraction zeros.
func normalise(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}
