package store

import (
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
)

// Dialect is what the dialect-free list-query helpers need of a driver: how
// it writes an argument, how it binds a value and how it selects a
// customer's set of identifiers. The SQL of each query stays in its driver.
type Dialect struct {
	// Placeholder is the SQL of the nth argument (from 1): "?" or "$n".
	Placeholder func(n int) string
	// Bind converts an argument into the value the driver stores (a time in
	// its column type, text cleaned).
	Bind func(v any) any
	// CustomerSet is a parenthesised subquery of every identifier of the
	// customer given as its one "?" argument.
	CustomerSet string
}

// Filter gathers the WHERE conditions and arguments of a list query over
// one table, whose columns it names with the table's alias.
type Filter struct {
	d     Dialect
	alias string
	where []string
	args  []any
	order []string
}

// Filter starts the conditions of a query of a table aliased alias ("" for
// none).
func (d Dialect) Filter(alias string) *Filter {
	if alias != "" {
		alias += "."
	}
	return &Filter{d: d, alias: alias}
}

// Col returns column name qualified with the table's alias.
func (f *Filter) Col(name string) string { return f.alias + name }

// Add appends cond, in which each "?" stands for the next of args.
func (f *Filter) Add(cond string, args ...any) {
	f.where = append(f.where, f.bind(cond, args...))
}

func (f *Filter) bind(sql string, args ...any) string {
	var b strings.Builder
	for _, a := range args {
		before, after, _ := strings.Cut(sql, "?")
		f.args = append(f.args, f.d.Bind(a))
		b.WriteString(before)
		b.WriteString(f.d.Placeholder(len(f.args)))
		sql = after
	}
	b.WriteString(sql)
	return b.String()
}

// Equal adds col = v for each pair of a column and a value that is not
// empty.
func (f *Filter) Equal(colValues ...string) {
	for i := 0; i+1 < len(colValues); i += 2 {
		if colValues[i+1] != "" {
			f.Add(f.Col(colValues[i])+" = ?", colValues[i+1])
		}
	}
}

// Customer adds that col is one of the identifiers of the customer known by
// id, when id is not empty.
func (f *Filter) Customer(col, id string) {
	if id != "" {
		f.Add(f.Col(col)+" IN "+f.d.CustomerSet, id)
	}
}

// Window adds since <= col < until, each bound when not zero.
func (f *Filter) Window(col string, since, until time.Time) {
	if !since.IsZero() {
		f.Add(f.Col(col)+" >= ?", since)
	}
	if !until.IsZero() {
		f.Add(f.Col(col)+" < ?", until)
	}
}

// Keyset orders the page newest first by (timeCol, idCol) and adds the
// condition of the rows after the cursor's (time, id), given as id in the
// column's type. A zero cursor adds no condition.
func (f *Filter) Keyset(timeCol, idCol string, cur Cursor, id any) {
	f.NewestFirst(timeCol, idCol)
	if !cur.IsZero() {
		f.Add("("+f.Col(timeCol)+", "+f.Col(idCol)+") < (?, ?)", cur.Time, id)
	}
}

// NewestFirst orders the page by cols, each descending.
func (f *Filter) NewestFirst(cols ...string) {
	f.order = f.order[:0]
	for _, c := range cols {
		f.order = append(f.order, f.Col(c)+" DESC")
	}
}

// Where returns the WHERE clause ("" when there is no condition).
func (f *Filter) Where() string {
	if len(f.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.where, " AND ")
}

// Page returns what follows SELECT … FROM in a page's query: the WHERE
// clause, the order and a LIMIT of n rows.
func (f *Filter) Page(n int) string {
	q := f.Where()
	if len(f.order) > 0 {
		q += " ORDER BY " + strings.Join(f.order, ", ")
	}
	return q + f.bind(" LIMIT ?", n)
}

// Args returns the arguments of the conditions, in order.
func (f *Filter) Args() []any { return f.args }

// DecodeSeqCursor parses a cursor whose id is an integer (a row id or a
// storage sequence) and returns that integer too; "" gives the zero Cursor.
func DecodeSeqCursor(s string) (Cursor, int64, error) {
	cur, err := DecodeCursor(s)
	if err != nil || cur.IsZero() {
		return cur, 0, err
	}
	id, err := strconv.ParseInt(cur.ID, 10, 64)
	if err != nil {
		return Cursor{}, 0, waorders.Errorf(waorders.CodeInvalid, "cursor %q is not valid; use the next_cursor of a previous page", s)
	}
	return cur, id, nil
}

// SeqCursor is the cursor of a row at t with the integer id.
func SeqCursor(t time.Time, id int64) Cursor {
	return Cursor{Time: t, ID: strconv.FormatInt(id, 10)}
}

// TrimPage cuts rows read with a limit of limit+1 to a page: the first limit
// rows (never nil) and, when there were more, the cursor of the last row
// kept, made by at from its index.
func TrimPage[T any](rows []T, limit int, at func(i int) Cursor) ([]T, string) {
	if rows == nil {
		rows = []T{}
	}
	if len(rows) <= limit {
		return rows, ""
	}
	return rows[:limit], at(limit - 1).Encode()
}
