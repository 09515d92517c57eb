// Package cli holds waorders' commands. Run is the whole program: main only
// builds a signal-aware context and calls it, and tests call it with
// buffers and a fake environment.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3"
// (make build sets it from git describe, which also works in a git
// worktree, where the Go toolchain records no VCS information); otherwise it
// is the main module's version from the build information. The commit, its
// time and whether the tree was modified are added from the build
// information when the toolchain recorded them.
var Version = ""

// Env is what a command receives from its caller.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "receive callbacks and serve the API (the default setup needs no options)", runServe},
		{"send", "simulate Kaleyra/Meta callbacks against a server: a trial or a load test", runSend},
		{"orders", "list, show, move and export orders of a running server", runOrders},
		{"report", "campaign revenue reports of a running server", runReport},
		{"customers", "a customer's summary, orders and export from a running server", runCustomers},
		{"quarantine", "list, show and retry quarantined callbacks of a running server", runQuarantine},
		{"sandbox", "run a local stand-in for a provider: waorders sandbox kaleyra", runSandbox},
		{"users", "add, list, disable and reset the dashboard's staff accounts (in the database)", runUsers},
		{"webhooks", "add, list, test, enable, disable and replay webhook endpoints of a running server", runWebhooks},
		{"migrate", "apply database migrations (needed before serve on an out-of-date PostgreSQL)", runMigrate},
		{"version", "print the version", runVersion},
	}
}

// ErrUsage marks an error caused by how the program was called (exit code 2).
var ErrUsage = errors.New("usage")

// Run runs the command named by args[0] with the rest of args.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return fmt.Errorf("%w: no command given", ErrUsage)
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return nil
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			err := c.run(ctx, env, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	usage(stderr)
	return fmt.Errorf("%w: unknown command %q", ErrUsage, name)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `waorders turns WhatsApp catalogue orders (Kaleyra and Meta callbacks) into orders a business can trust.

Usage:
  waorders <command> [options]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Run "waorders <command> --help" for a command's options and where each
can come from. serve's options, and the connection options of the other
commands (--url, --api-token, --tz, ...), can also be set with WAORDERS_*
environment variables (--api-token is WAORDERS_API_TOKEN; secrets also
from WAORDERS_*_FILE) or in one config file (--config or WAORDERS_CONFIG)
that serve and the client commands share. With no options the client
commands talk to the local server (its addr, default 127.0.0.1:8080) with
the token it generated into data/credentials.env.

Start here:
  waorders serve                       # SQLite under ./data, http://127.0.0.1:8080
  waorders send --example order        # post an example Kaleyra order to it
  waorders orders list                 # and see the order it created
`)
}

func runVersion(_ context.Context, env Env, _ []string) error {
	fmt.Fprintln(env.Stdout, "waorders", version())
	return nil
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	if Version != "" {
		bi.Main.Version = Version
	}
	return buildVersion(bi)
}

// newFlagSet returns a flag set whose --help text starts with a synopsis.
// Asked for help, it prints to stdout; after a mistake, to stderr.
func newFlagSet(env Env, name, synopsis string, args []string) *flag.FlagSet {
	fs := flag.NewFlagSet("waorders "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(env.Stdout)
		}
		if a == "--" {
			break
		}
	}
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "%s\n\nOptions:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintln(out)
		fmt.Fprint(out, optionSources(fs, name))
	}
	return fs
}

// optionSources is the part of a command's --help that says where each
// option can come from, first found wins.
func optionSources(fs *flag.FlagSet, name string) string {
	if name == "serve" || name == "migrate" {
		return `Where options come from, first found wins: the command line; the
WAORDERS_<NAME> environment variable (--database-url: WAORDERS_DATABASE_URL);
for secrets, the file named by WAORDERS_<NAME>_FILE; the config file
(--config FILE or WAORDERS_CONFIG: name = value lines, names as the flags,
shared with the client commands); the default shown above.
`
	}
	lines := map[string]string{
		"config": "the flag or WAORDERS_CONFIG: a file of name = value lines (names as the\n" +
			"                flags), the same file serve reads",
		"url": "the flag, WAORDERS_URL, url in the config file; else http://<addr> of the\n" +
			"                local server (WAORDERS_ADDR, addr in the config file, else 127.0.0.1:8080)",
		"server": "deprecated alias of --url, with a warning: the flag, WAORDERS_SERVER,\n" +
			"                server in the config file (used only where --url is not set at its level)",
		"api-token": "the flag, WAORDERS_API_TOKEN, the file named by WAORDERS_API_TOKEN_FILE,\n" +
			"                api-token in the config file; else the credentials.env of --data-dir",
		"data-dir": "the flag, WAORDERS_DATA_DIR, data-dir in the config file; else the directory\n" +
			"                of the local SQLite database (WAORDERS_DATABASE_URL, database-url), else ./data",
		"tz": "the flag, WAORDERS_TZ, tz in the config file; else the local time zone\n" +
			"                (TZ or /etc/localtime; UTC when neither). The API's times stay RFC 3339",
		"callback-secret": "the flag, WAORDERS_CALLBACK_SECRET, the file named by\n" +
			"                WAORDERS_CALLBACK_SECRET_FILE, callback-secret in the config file; else\n" +
			"                the credentials.env of --data-dir",
		"callback-secret-header": "the flag, WAORDERS_CALLBACK_SECRET_HEADER, callback-secret-header in\n" +
			"                the config file",
		"meta-app-secret": "the flag, WAORDERS_META_APP_SECRET, the file named by\n" +
			"                WAORDERS_META_APP_SECRET_FILE, meta-app-secret in the config file",
	}
	var b strings.Builder
	b.WriteString("Where options come from, first found wins:\n")
	var rest []string
	fs.VisitAll(func(f *flag.Flag) {
		if l, ok := lines[f.Name]; ok {
			if len(f.Name) > 11 {
				fmt.Fprintf(&b, "  --%s\n                %s\n", f.Name, l)
			} else {
				fmt.Fprintf(&b, "  --%-11s %s\n", f.Name, l)
			}
		} else {
			rest = append(rest, "--"+f.Name)
		}
	})
	if len(rest) > 0 {
		line := "  the command line only:"
		for i, r := range rest {
			if i < len(rest)-1 {
				r += ","
			}
			if len(line)+1+len(r) > 78 {
				b.WriteString(line + "\n")
				line = "   "
			}
			line += " " + r
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
