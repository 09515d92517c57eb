package cli

import (
	"net/http"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/testkit"
)

func TestTableAlignsWideText(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	tb := newTable("NAME", "QTY", "NOTE").alignRight(1)
	tb.row("山田太郎", "1", "x")
	tb.row("🎉 party", "22", "y")
	tb.row("Asha", "333", "z")
	tb.row("e\u0301clair", "4", "w") // a combining accent takes no column
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "NAME      QTY  NOTE\n" +
		"山田太郎    1  x\n" +
		"🎉 party   22  y\n" +
		"Asha      333  z\n" +
		"e\u0301clair      4  w\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestOrdersListWideNames: the columns after a CJK or emoji name start at
// the same terminal column on every line.
func TestOrdersListWideNames(t *testing.T) {
	t.Parallel()
	srv := newOrdersTestServer(t)
	for i, name := range []string{"山田太郎", "😀😀 Emoji", "Asha Rao", "王小明的很长很长很长很长很长的名字"} {
		id := "wamid.W" + string(rune('A'+i))
		body := testkit.Kaleyra(testkit.Order(id).Name(name).At(cliT0).Item("SKU", 1, "100", "INR")).Bytes()
		if status, answer := postCallback(t, srv, body); status != http.StatusOK {
			t.Fatalf("post: %d %s", status, answer)
		}
	}
	out, _, err := runCLI(t, srv, nil, "orders", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	col := width.StringWidth(lines[0][:strings.Index(lines[0], "TOTAL")])
	for _, l := range lines[1:] {
		if got := width.StringWidth(l[:strings.Index(l, "INR ")]); got != col {
			t.Errorf("TOTAL starts at column %d, want %d:\n%s", got, col, out)
		}
	}
	if !strings.Contains(out, "王小明的很长很长很长很…") {
		t.Errorf("a long wide name is cut to fit 24 columns:\n%s", out)
	}
}

func TestCleanWidth(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"山田太郎", 8, "山田太郎"},
		{"山田太郎山田太郎", 8, "山田太…"},
		{"山田太郎山田太郎", 7, "山田太…"},
		{"🎉🎉🎉", 4, "🎉…"},
		{"ab 山田", 4, "ab…"},
	} {
		if got := clean(tt.in, tt.max); got != tt.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
