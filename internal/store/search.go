package store

import "strings"

// SearchText is what the free-text order filter (ListOrdersParams.Q)
// searches, stored with each order by both drivers: the customer name and
// the order text, each folded by foldSearch, joined by a newline. It is
// lower-cased in Go because SQLite's lower() only knows ASCII.
func SearchText(name, text string) string {
	return foldSearch(name) + "\n" + foldSearch(text)
}

// SearchQuery is what a driver looks for, as a plain substring, in
// SearchText when ListOrdersParams.Q is set.
func SearchQuery(q string) string { return foldSearch(q) }

// foldSearch lower-cases s after CleanText, so that a name, a text and a
// query fold alike in every driver.
func foldSearch(s string) string { return strings.ToLower(CleanText(s)) }

// CleanText returns s with every NUL byte and every invalid UTF-8 sequence
// replaced by U+FFFD: PostgreSQL text cannot hold NUL, and both drivers
// store (and search) text the same way.
func CleanText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
