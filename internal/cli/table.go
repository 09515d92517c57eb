package cli

import (
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
)

// width measures text as a terminal shows it: CJK characters and emoji
// take two columns, combining marks none. East Asian "ambiguous" characters
// (…, →) count as one column whatever the locale, so output does not
// depend on LANG; terminals draw them narrow by default.
var width = &runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}

// table lays out rows in columns aligned by display width, two spaces
// apart (text/tabwriter counts runes, which misaligns wide names). Cells
// must already be clean (see clean): no tabs, newlines or escapes.
type table struct {
	rows  [][]string
	right map[int]bool // right-aligned columns (numbers, money)
}

func newTable(header ...string) *table {
	return &table{rows: [][]string{header}, right: map[int]bool{}}
}

// alignRight right-aligns the columns cols (0-based).
func (t *table) alignRight(cols ...int) *table {
	for _, c := range cols {
		t.right[c] = true
	}
	return t
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// write prints the table; lines carry no trailing spaces.
func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], width.StringWidth(c))
		}
	}
	var b, line strings.Builder
	for _, r := range t.rows {
		line.Reset()
		for i, c := range r {
			pad := widths[i] - width.StringWidth(c)
			last := i == len(r)-1
			switch {
			case t.right[i]:
				line.WriteString(strings.Repeat(" ", pad))
				line.WriteString(c)
			case last:
				line.WriteString(c)
			default:
				line.WriteString(c)
				line.WriteString(strings.Repeat(" ", pad))
			}
			if !last {
				line.WriteString("  ")
			}
		}
		// An empty last cell leaves the separator: no trailing spaces.
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fields prints "Name:  value" lines with the values aligned.
func fields(w io.Writer, pairs [][2]string) error {
	t := &table{right: map[int]bool{}}
	for _, p := range pairs {
		t.row(p[0]+":", orDash(clean(p[1], 200)))
	}
	return t.write(w)
}
