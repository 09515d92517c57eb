package callback

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/waorders/waorders/money"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// bodies returns the names of every callback body in testdata, sorted.
func bodies(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if !strings.HasSuffix(n, ".golden.json") {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		t.Fatal("no bodies in testdata")
	}
	return out
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDecode(t testing.TB, body []byte) *Callback {
	t.Helper()
	cb, err := Decode(body)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	checkInvariants(t, body, cb)
	return cb
}

// goldenView is what a golden file holds: the decoded callback and the
// summary of each message.
type goldenView struct {
	Callback  *Callback `json:"callback"`
	Summaries []string  `json:"summaries,omitempty"`
}

// render formats a decoded callback for a golden file: zero fields omitted,
// one member per line.
func render(t testing.TB, cb *Callback) []byte {
	t.Helper()
	v := goldenView{Callback: cb}
	for _, m := range cb.Messages() {
		v.Summaries = append(v.Summaries, m.Summary())
	}
	b, err := json.Marshal(v, json.OmitZeroStructFields(true), json.Deterministic(true), jsontext.Multiline(true))
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return append(b, '\n')
}

// checkInvariants asserts what holds for every decoded callback: problems
// carry a severity, code and path; Raw is the element's exact bytes in the
// body; a usable order's totals are the sums of its line totals.
func checkInvariants(t testing.TB, body []byte, cb *Callback) {
	t.Helper()
	if cb == nil {
		t.Fatal("nil Callback without error")
	}
	if cb.Envelope != EnvelopeKaleyra && cb.Envelope != EnvelopeMeta {
		t.Errorf("Envelope = %q", cb.Envelope)
	}
	checkProblems := func(what string, ps []Problem) {
		for _, p := range ps {
			if p.Code == "" || p.Path == "" || (p.Severity != SeverityError && p.Severity != SeverityWarning) {
				t.Errorf("%s: incomplete problem %+v", what, p)
			}
		}
	}
	checkRaw := func(what string, raw []byte) {
		if len(raw) == 0 || !bytes.Contains(body, raw) || !jsontext.Value(raw).IsValid() {
			t.Errorf("%s: Raw %q is not a JSON value of the body", what, raw)
		}
	}
	for _, ch := range cb.Changes {
		if ch.Path == "" {
			t.Errorf("change without Path")
		}
		for _, m := range ch.Messages {
			if m.Path == "" {
				t.Errorf("message without Path")
			}
			checkProblems(m.Path, m.Problems)
			checkRaw(m.Path, m.Raw)
			if m.Order != nil && m.Usable() {
				checkTotals(t, m.Path, m.Order)
			}
			if len([]rune(m.Summary())) > maxSummary {
				t.Errorf("%s: Summary longer than %d runes", m.Path, maxSummary)
			}
		}
		checkProblems(ch.Path, ch.Problems)
		for _, m := range ch.Echoes {
			checkProblems(m.Path, m.Problems)
			checkRaw(m.Path, m.Raw)
			if !m.Outbound || m.Change() == nil {
				t.Errorf("%s: echo not outbound or not linked to its change", m.Path)
			}
		}
		for _, c := range ch.Calls {
			if c.Path == "" {
				t.Errorf("call without Path")
			}
		}
		for _, s := range ch.Statuses {
			if s.Change() == nil {
				t.Errorf("%s: status not linked to its change", s.Path)
			}
			if s.Path == "" {
				t.Errorf("status without Path")
			}
			checkProblems(s.Path, s.Problems)
			checkRaw(s.Path, s.Raw)
		}
	}
}

// checkTotals asserts that a usable order's totals are its line totals
// summed per currency, in order of first appearance.
func checkTotals(t testing.TB, path string, o *Order) {
	t.Helper()
	var want money.Totals
	for _, it := range o.Items {
		if err := want.Add(it.LineTotal); err != nil {
			t.Errorf("%s: usable order whose totals overflow: %v", path, err)
			return
		}
	}
	got, exp := o.Totals, want.List()
	if len(got) != len(exp) || len(got) == 0 {
		t.Errorf("%s: Totals = %v, want %v", path, got, exp)
		return
	}
	for i := range got {
		if got[i] != exp[i] {
			t.Errorf("%s: Totals = %v, want %v", path, got, exp)
		}
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return "no difference"
}
