package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// progressEvery is how often a running export reports progress on stderr.
const progressEvery = time.Second

func ordersExport(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "orders export", ordersSynopsis, args)
	var (
		cf clientFlags
		of orderFilterFlags
		xf exportFlags
	)
	of.register(fs)
	xf.register(fs)
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: orders export takes no arguments, only options (got %q)", ErrUsage, fs.Arg(0))
	}
	return xf.export(ctx, env, fs, c, of.values())
}

// exportFlags are the options of orders export and customers export.
type exportFlags struct {
	format, rows, output string
	excel, quiet         bool
}

func (x *exportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&x.format, "format", "csv", "`csv` or ndjson (one order JSON per line)")
	fs.StringVar(&x.rows, "rows", "item", "CSV rows: `item` (one per item; order_units and order_totals on each order's first row only) or order (one per order, with currency and total)")
	fs.BoolVar(&x.excel, "excel", false, "CSV for Excel: a UTF-8 byte order mark, and ids written as =\"…\" so they keep every digit (see docs/export.md)")
	fs.StringVar(&x.output, "output", "", "write to this `file` (default: stdout); it appears only once complete")
	fs.BoolVar(&x.quiet, "quiet", false, "no progress line on stderr")
}

// query adds the export's options to q, or says which option is wrong.
func (x *exportFlags) query(q url.Values, set map[string]bool) error {
	switch x.format {
	case "csv":
	case "ndjson":
		if set["rows"] || set["excel"] {
			return fmt.Errorf("%w: --rows and --excel shape CSV files; --format ndjson writes whole orders", ErrUsage)
		}
	default:
		return fmt.Errorf("%w: --format %q: use csv or ndjson", ErrUsage, x.format)
	}
	q.Set("format", x.format)
	if x.format == "ndjson" {
		return nil
	}
	if x.rows != "item" && x.rows != "order" {
		return fmt.Errorf("%w: --rows %q: use item or order", ErrUsage, x.rows)
	}
	if x.rows != "item" { // the default: not sent, so older servers still answer
		q.Set("rows", x.rows)
	}
	if x.excel {
		q.Set("excel", "true")
	}
	return nil
}

// export streams GET /v1/orders/export with the filters q to --output or
// stdout, with progress on stderr.
func (x *exportFlags) export(ctx context.Context, env Env, fs *flag.FlagSet, c *apiClient, q url.Values) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := x.query(q, set); err != nil {
		return err
	}
	resp, err := c.do(ctx, http.MethodGet, "/v1/orders/export", q, nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	dst, commit, discard, err := openOutput(env.Stdout, x.output)
	if err != nil {
		return err
	}
	unit := "rows"
	if x.format == "ndjson" || x.rows == "order" {
		unit = "orders"
	}
	p := &progress{w: env.Stderr, unit: unit, quiet: x.quiet, start: time.Now(), csv: x.format == "csv"}
	p.last = p.start
	if _, err := io.Copy(io.MultiWriter(dst, p), resp.Body); err != nil {
		discard()
		return fmt.Errorf("export interrupted after %d %s (nothing was kept): %w", p.records(), unit, err)
	}
	if err := commit(); err != nil {
		return err
	}
	if !x.quiet && (x.output != "" || p.reported) {
		where := "stdout"
		if x.output != "" {
			where = x.output
		}
		fmt.Fprintf(env.Stderr, "exported %d %s to %s in %s\n", p.records(), unit, where, time.Since(p.start).Round(time.Millisecond))
	}
	return nil
}

// openOutput returns where an export goes. A file is written under a
// temporary name and renamed by commit, so an interrupted export never
// leaves a file that looks complete.
func openOutput(stdout io.Writer, path string) (w io.Writer, commit func() error, discard func(), err error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("create output: %w", err)
	}
	discard = func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	commit = func() error {
		if err := f.Sync(); err != nil {
			discard()
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := os.Rename(f.Name(), path); err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	return f, commit, discard, nil
}

// progress counts the records of an export as it passes through and
// prints a line on stderr about once a second.
type progress struct {
	w        io.Writer
	unit     string
	quiet    bool
	csv      bool // count CSV records: newlines outside quoted fields, minus the header
	inQuote  bool
	lines    int64
	start    time.Time
	last     time.Time
	reported bool
}

func (p *progress) Write(b []byte) (int, error) {
	for _, c := range b {
		switch {
		case c == '"' && p.csv:
			p.inQuote = !p.inQuote // "" inside a field toggles twice
		case c == '\n' && !p.inQuote:
			p.lines++
		}
	}
	if now := time.Now(); !p.quiet && now.Sub(p.last) >= progressEvery {
		p.last = now
		p.reported = true
		elapsed := now.Sub(p.start).Seconds()
		fmt.Fprintf(p.w, "exporting: %d %s so far (%.0f/s)\n", p.records(), p.unit, float64(p.records())/elapsed)
	}
	return len(b), nil
}

// records is the number of complete records seen (CSV: without the header).
func (p *progress) records() int64 {
	if p.csv && p.lines > 0 {
		return p.lines - 1
	}
	return p.lines
}
