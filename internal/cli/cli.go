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

	"github.com/waorders/waorders/internal/config"
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
		{"quarantine", "list and retry quarantined callbacks of a running server", runQuarantine},
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
Run "waorders <command> --help" for a command's options. Every option can
also be set with a WAORDERS_* environment variable (--api-token is
WAORDERS_API_TOKEN) or in a config file (--config).

Start here:
  waorders serve                       # SQLite under ./data, http://127.0.0.1:8080
  waorders send --example order        # what a Kaleyra order callback looks like
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
		if name == "serve" || name == "migrate" {
			fmt.Fprintln(out, "\nEvery option also reads WAORDERS_<NAME> from the environment (--api-token: WAORDERS_API_TOKEN).")
			return
		}
		var names []string
		fs.VisitAll(func(f *flag.Flag) {
			if envFlags[f.Name] {
				names = append(names, config.EnvName(f.Name))
			}
		})
		if len(names) > 0 {
			fmt.Fprintf(out, "\nFrom the environment: %s.\n", strings.Join(names, ", "))
		}
	}
	return fs
}
